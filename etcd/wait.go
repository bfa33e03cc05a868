package etcd

import (
	"context"
	"errors"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Waiting. This file is the one place in the package that watches. Every
// wait is a follow: a key or range to watch, a read of the state waited on,
// and what each event on the watch means. The follow loop (Session.follow)
// owns what every wait must get right and nothing else does:
//
//   - watch before read: the watch is in place before the state is read, so
//     nothing that happens between the read and the watch is missed;
//   - resume: after a broken watch (no leader, a cancelled stream) the next
//     watch starts at the first revision not yet looked at, so events made
//     while no watch ran are replayed, not skipped; only when that history
//     has been compacted away does it fall back to reading the state again;
//   - retry: a broken watch is made again after retryDelay, for as long as
//     the caller's ctx lives; when ctx ends, follow returns ctx.Err().
//
// It is the shape of waitDelete in etcd's client/v3/concurrency, which every
// recipe there calls, with those three things added.
//
// To write a new wait, fill in a follow and call s.follow (see Event.Wait
// for a flag, Semaphore.waitAdmitted for a count kept from events,
// Barrier.wait for a range read again on every change, and hold.monitor
// for a wait that starts from a known revision without a read). What needs
// no session calls followOn with a client: WatchList follows a whole
// prefix, keeping its keys from a read and the events as Observe does. Waits for
// a turn in a line are already written: holder.acquire joins the line
// (s.enqueue) and calls back with the key, its revision and the count of
// keys ahead; s.waitTurn(ctx, key, rev, ranges...) then reads the latest key
// created before rev across ranges and follows its deletion, one key at a
// time, so a handoff wakes one waiter with one event. What comes next fits
// on these as follows:
//
//   - RWMutex: one holder (one hold per value, Token, Lost, Guard, Context
//     and release come with it) and a second keyName for its reader key, in
//     a range of its own beside the lock's (say <prefix>rlock/<name>/). A
//     reader waits for the last writer before it: acquire with the reader
//     key, count = the lock's range, and waitTurn on the lock's range. A
//     writer, and so every Mutex (a Mutex holder is a writer of the same
//     lock), waits for the key just before its own: count and waitTurn over
//     both ranges. TryRLock is tryAcquire with the lock's range empty,
//     TryLock with both.
//   - Election.Campaign: acquire and waitTurn on the election's range.
//     Observe (observe.go) is a follow on the range whose read and events
//     keep the range's keys, and whose settled sends the leader once each
//     revision's events are in.

// A follow is one wait on the cluster, run by Session.follow: what to
// watch, how to read the state, and what each event means.
type follow struct {
	// key is the key watched, or with clientv3.WithPrefix in opts the
	// range; opts also filter (clientv3.WithFilterPut to see deletions
	// only).
	key  string
	opts []clientv3.OpOption

	// from, when above 0, is a revision at which the caller already knows
	// the state (it read it, or was granted a key then). The watch then
	// covers every revision after from without another read: the first
	// watch is opened from the server's current revision, and read is
	// called only when the watch began after from.
	from int64

	// read reads the state and reports whether the wait is over. It is
	// called once the watch is in place: every change after what it reads
	// comes on the watch (some may come twice, which seen must take).
	read func(ctx context.Context) (done bool, err error)

	// seen is called for each event on the watch, in revision order, and
	// reports whether the wait is over. It returns errLookAgain to have
	// the state read again under a new watch; any other error ends the
	// wait with it.
	seen func(ev *clientv3.Event) (done bool, err error)

	// settled, when set, is called after the events of each watch
	// response have been seen, and reports as seen does. The server never
	// splits the events of one revision across responses, so the state
	// is then whole: no write of several keys is seen half done (see
	// Election.Observe).
	settled func() (done bool, err error)
}

// errLookAgain is what a follow's seen returns when an event means the
// state must be read again (a Barrier's range changed, a leader resigned).
var errLookAgain = errors.New("look again")

// errBroken and errCompacted are followOnce's reports of a watch that
// broke for a reason worth making it again for, and of a watch that could
// not replay the history asked for because it was compacted away.
var (
	errBroken    = errors.New("watch broken")
	errCompacted = errors.New("watch history compacted")
)

// retryDelay is the pause before retrying a watch or read that failed for a
// reason other than the caller giving up (no leader, a compacted revision).
const retryDelay = 100 * time.Millisecond

// follow runs the wait f on the session's client (see followOn).
func (s *Session) follow(ctx context.Context, f *follow) error {
	return followOn(ctx, s.cli, f)
}

// followOn runs the wait f on cli until it is over (nil), ctx ends
// (ctx.Err()), or read or seen fails (their error). The watch requires a
// leader, so that a member cut off from the others does not leave the wait
// hanging on a watch that will never deliver. It needs no session: WatchList
// follows a client's view of a prefix with it.
func followOn(ctx context.Context, cli *clientv3.Client, f *follow) error {
	next := f.from + 1 // the first revision not yet looked at; 1: none
	resume := false    // whether to replay from next after a broken watch
	for {
		err := followOnce(ctx, cli, f, &next, resume)
		switch {
		case errors.Is(err, errLookAgain), errors.Is(err, errCompacted):
			// Read again under a fresh watch, at once.
			next, resume = 1, false
			continue
		case !errors.Is(err, errBroken):
			return err
		}
		if err := pause(ctx); err != nil {
			return err
		}
		resume = next > 1
	}
}

// followOnce runs one watch of f: from next when resume is set, otherwise
// from the server's current revision, reading the state first unless
// everything up to the watch's start is known. It moves next past every
// revision it has looked at.
func followOnce(ctx context.Context, cli *clientv3.Client, f *follow, next *int64, resume bool) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	var wch clientv3.WatchChan
	if resume {
		// Replay from the first revision not looked at. A watch from a
		// past revision waits for the server's catch-up loop (up to
		// 100ms, see watch): a price paid only after a break.
		wch = cli.Watch(wctx, f.key, append(f.opts, clientv3.WithRev(*next))...)
	} else {
		var created int64
		var err error
		wch, created, err = watch(wctx, cli, f.key, f.opts...)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errBroken
		}
		if created >= *next {
			// The revisions from next to created are covered by
			// neither the watch nor what the caller knows: read.
			if done, err := f.read(ctx); err != nil || done {
				return err
			}
		}
		*next = max(*next, created+1)
	}
	for wr := range wch {
		if err := wr.Err(); err != nil {
			if wr.CompactRevision != 0 {
				return errCompacted
			}
			return errBroken
		}
		for _, ev := range wr.Events {
			*next = max(*next, ev.Kv.ModRevision+1)
			if done, err := f.seen(ev); err != nil || done {
				return err
			}
		}
		if f.settled != nil && len(wr.Events) > 0 {
			if done, err := f.settled(); err != nil || done {
				return err
			}
		}
	}
	// The channel closes without a response when ctx ends.
	if err := ctx.Err(); err != nil {
		return err
	}
	return errBroken
}

// watch opens a watch on key from the server's current revision and waits
// until the server confirms it, returning the revision it was created at:
// every event after that revision is delivered on the channel. The caller
// cancels ctx to close it.
//
// The usual recipe watches from the revision of an earlier read plus one.
// But the server parks a watcher whose start revision is already past in
// its "unsynced" group, which a background loop catches up only every 100ms;
// under contention other writes always land between the read and the watch,
// so every handoff would wait up to 100ms for nothing (concurrency.Mutex
// does). Watching from now, and reading again when the watch began after the
// read (follow's from), costs one round trip instead.
func watch(ctx context.Context, cli *clientv3.Client, key string, opts ...clientv3.OpOption) (clientv3.WatchChan, int64, error) {
	wch := cli.Watch(ctx, key, append(opts, clientv3.WithCreatedNotify())...)
	for wr := range wch {
		if err := wr.Err(); err != nil {
			return nil, 0, err
		}
		if wr.Created {
			return wch, wr.Header.Revision, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	return nil, 0, errWatchClosed
}

// waitTurn waits until no key of ranges created before rev is left: for a
// line of one range, until (key, rev) is the oldest key in it. It reads the
// latest such key and follows only its deletion, so a handoff costs the next
// waiter one watch event and the others none (no herd). When that key goes
// (released, or a waiter that gave up), it looks again: the new latest
// key, if any, is followed in turn. It returns errKeyGone when (key, rev)
// itself is deleted meanwhile.
//
// A key's name is reused by its Mutex value's next attempt (see keyName),
// so "the key is there" means "there with its create revision": a waiter
// that took a re-created key for its predecessor would wait for a key that
// is now behind it, which waits for it in turn.
func (s *Session) waitTurn(ctx context.Context, key string, rev int64, ranges ...string) error {
	before := append(clientv3.WithLastCreate(), clientv3.WithMaxCreateRev(rev-1))
	ops := []clientv3.Op{clientv3.OpGet(key, clientv3.WithKeysOnly())}
	for _, r := range ranges {
		ops = append(ops, clientv3.OpGet(r, append(before, clientv3.WithKeysOnly())...))
	}
	for {
		resp, err := s.cli.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return err
		}
		if !exists(resp.Responses[0].GetResponseRange().Kvs, rev) {
			return errKeyGone
		}
		var pred *mvccpb.KeyValue
		for _, r := range resp.Responses[1:] {
			if kvs := r.GetResponseRange().Kvs; len(kvs) > 0 && (pred == nil || kvs[0].CreateRevision > pred.CreateRevision) {
				pred = kvs[0]
			}
		}
		if pred == nil {
			return nil
		}
		if err := s.waitDelete(ctx, string(pred.Key), pred.CreateRevision, resp.Header.Revision); err != nil {
			return err
		}
	}
}

// waitDelete waits for the deletion of key, which existed with create
// revision rev at revision read.
func (s *Session) waitDelete(ctx context.Context, key string, rev, read int64) error {
	return s.follow(ctx, &follow{
		key:  key,
		opts: []clientv3.OpOption{clientv3.WithFilterPut()},
		from: read,
		read: func(ctx context.Context) (bool, error) {
			resp, err := s.cli.Get(ctx, key, clientv3.WithKeysOnly())
			if err != nil {
				return false, err
			}
			return !exists(resp.Kvs, rev), nil
		},
		seen: func(*clientv3.Event) (bool, error) { return true, nil },
	})
}

// exists reports whether kvs, the result of a read of one key, holds that
// key with create revision rev.
func exists(kvs []*mvccpb.KeyValue, rev int64) bool {
	return len(kvs) > 0 && kvs[0].CreateRevision == rev
}

// pause sleeps retryDelay unless ctx ends first (then ctx.Err()).
func pause(ctx context.Context) error {
	if !sleep(ctx, retryDelay) {
		return ctx.Err()
	}
	return nil
}

// sleep waits d and reports true, or false if ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
