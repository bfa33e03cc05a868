package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Key layout. Every key coord writes lives under the session's prefix
// (default "/coord/"):
//
//	<prefix>lock/<name>/<holder>      one per Lock attempt, on the session's lease
//	<prefix>sem/<name>/<holder>       one per Acquire attempt, on the lease
//	<prefix>barrier/<name>/<holder>   one per Wait, on the lease
//	<prefix>event/<name>              the Event's state, on no lease
//
// <name> is url.PathEscape'd, so a name containing "/" never shares a range
// with another name ("a" and "a/b" would otherwise overlap). <holder> is the
// session's lease ID in hex and a sequence number unique within the session
// (see keyName): one per Mutex or Semaphore value, which is what keeps two
// values on one session distinct holders (concurrency.Mutex keys by lease
// alone and aliases them), and one per Barrier wait. The value of each key is
// a small JSON record (keyMeta) naming the session's host and pid, for List
// and `coord ls`.
const (
	kindLock    = "lock"
	kindSem     = "sem"
	kindBarrier = "barrier"
	kindEvent   = "event"
)

// opTimeout bounds every call that must return even when the cluster cannot
// be reached: Unlock, Release (on top of its ctx), Session.Close, and the
// deletion of the key of a wait that was given up.
const opTimeout = 2 * time.Second

// retryDelay is the pause before retrying a watch or read that failed for a
// reason other than the caller giving up (no leader, a compacted revision).
const retryDelay = 100 * time.Millisecond

// namePrefix returns the key range of one primitive: every holder's key of
// the lock "jobs" starts with namePrefix(p, "lock", "jobs").
func namePrefix(prefix, kind, name string) string {
	return prefix + kind + "/" + url.PathEscape(name) + "/"
}

// keyName names the key of one Mutex or Semaphore value, or of one Barrier
// wait: pfx, the session's lease in hex and a sequence number unique within
// the session, and a generation.
//
// A Mutex or Semaphore value reuses its name from one attempt to the next
// (its attempts never overlap: they are serialized by the value's turn).
// With a fresh name per attempt, every lock would leave one more deleted
// key in the server's index, where it stays until compaction, and each
// range read over the name's keys (the count of keys ahead, the search for
// the predecessor) would scan all of them: uncontended Lock+Unlock slowed
// from 0.3ms to 0.6ms within a few thousand iterations. The generation
// changes only when an attempt ended with its key possibly left behind (a
// write or delete the cluster did not answer), which the session's cleaner
// then deletes: no later attempt ever meets it, and the cleaner's plain
// delete never hits a later attempt's key.
type keyName struct {
	pfx  string
	base string
	gen  int
}

func (s *Session) newKeyName(pfx string) *keyName {
	return &keyName{pfx: pfx, base: pfx + s.nextID()}
}

func (k *keyName) String() string {
	if k.gen == 0 {
		return k.base
	}
	return k.base + "." + strconv.Itoa(k.gen)
}

// orphan hands key, which may outlive the attempt that wrote it, to the
// session's cleaner, and moves kn to a new generation.
func (s *Session) orphan(kn *keyName, key string, rev int64) {
	s.addOrphan(key, rev)
	if kn != nil && kn.String() == key {
		kn.gen++
	}
}

// keyMeta is the value stored under every key coord writes.
type keyMeta struct {
	Who     string    `json:"who"`
	Since   time.Time `json:"since"`
	Limit   int       `json:"limit,omitempty"`   // semaphores: its limit, so List can tell holders from waiters
	Parties int       `json:"parties,omitempty"` // barriers
	Index   *int      `json:"index,omitempty"`   // barriers: set when the round tripped
}

func (m keyMeta) encode() string {
	b, _ := json.Marshal(m)
	return string(b)
}

func decodeMeta(v []byte) keyMeta {
	var m keyMeta
	if json.Unmarshal(v, &m) != nil {
		m.Who = string(v)
	}
	return m
}

// opError is how every error from the cluster is returned: it names the
// operation and the primitive, and unwraps to the client's error so that
// errors.Is(err, rpctypes.ErrPermissionDenied) and the like keep working.
type opError struct {
	op, name string
	err      error
}

func (e *opError) Error() string {
	var b strings.Builder
	b.WriteString("coord/etcd: ")
	b.WriteString(e.op)
	if e.name != "" {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(e.name))
	}
	b.WriteString(": ")
	// Our own sentinels carry the package prefix when printed alone; do
	// not print it twice.
	b.WriteString(strings.TrimPrefix(e.err.Error(), "coord/etcd: "))
	return b.String()
}

func (e *opError) Unwrap() error { return e.err }

func wrapErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	return &opError{op: op, name: name, err: err}
}

// fail turns the error of a cluster call made on behalf of a caller into what
// the caller gets: ctx.Err() itself when the caller's ctx ended (rule 1; it
// wins over everything), the session's error when the session is done, and
// the cluster's error wrapped with op and name otherwise.
func (s *Session) fail(ctx context.Context, op, name string, err error) error {
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		// A write on the session's lease found it gone (revoked by hand,
		// or expired): the session is done, without waiting for the next
		// keepalive to say so.
		s.end("lease expired or revoked")
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, errKeyGone) && s.ctx.Err() == nil {
		// A waiter's own key is gone, most often with the lease (revoked,
		// or expired on the server). Ask, so that the wait ends with
		// ErrSessionDone, as every wait of a done session does, rather
		// than with an error of its own while the keepalive loop has yet
		// to learn of it (up to a third of the TTL later).
		s.checkLease()
	}
	if s.ctx.Err() != nil {
		return wrapErr(op, name, context.Cause(s.ctx))
	}
	return wrapErr(op, name, err)
}

// checkLease ends the session if the server no longer knows its lease.
// Bounded by opTimeout; an error leaves the verdict to the keepalive loop.
func (s *Session) checkLease() {
	ctx, cancel := context.WithTimeout(s.ctx, opTimeout)
	defer cancel()
	resp, err := s.cli.TimeToLive(ctx, s.lease)
	if errors.Is(err, rpctypes.ErrLeaseNotFound) || (err == nil && resp.TTL < 0) {
		s.end("lease expired or revoked")
	}
}

// start is the common prologue of every call on a session: a ctx that is
// already done returns ctx.Err() and changes nothing (rule 2), a session that
// is done fails at once. It returns a ctx for the call's cluster requests that
// also ends when the session does, so that no wait outlives its session.
func (s *Session) start(ctx context.Context, op, name string) (context.Context, context.CancelFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if s.ctx.Err() != nil {
		return nil, nil, wrapErr(op, name, context.Cause(s.ctx))
	}
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	return wctx, func() { stop(); cancel() }, nil
}

// enqueue writes a fresh key under pfx on the session's lease and returns it
// with its create revision, which orders it among the other keys of pfx and
// is the fencing token of the hold it may become.
//
// The write is not cancelled with the caller's ctx (only by opTimeout and the
// session's end): a request cancelled in flight may still be applied, and
// after a delete sent later, since the server does not order requests on
// different streams; a key written that way would stay until the session
// ended and block everyone behind it. So the caller learns the outcome and,
// if its ctx ended meanwhile, deletes the key it knows. When the cluster
// does not answer within opTimeout, enqueue tries again with a new key for
// as long as ctx and the session live. On error the key may or may not
// exist, and the session deletes it later (addOrphan): the caller does not
// wait on a cluster that just failed to answer. ahead is the number of keys
// under pfx that precede the new one.
func (s *Session) enqueue(ctx context.Context, kn *keyName, meta keyMeta) (key string, rev int64, ahead int64, err error) {
	for {
		key, rev, ahead, err = s.enqueueOnce(kn, meta)
		if err == nil {
			return key, rev, ahead, nil
		}
		// The key may yet be written: leave it to the session to delete.
		s.orphan(kn, key, 0)
		if !errors.Is(err, errNoAnswer) || ctx.Err() != nil || s.ctx.Err() != nil {
			return key, 0, 0, err
		}
		// The cluster did not answer in time, but neither the caller nor
		// the session has given up: try again, under the new name. The
		// session ends at its early deadline if the cluster stays away.
	}
}

func (s *Session) enqueueOnce(kn *keyName, meta keyMeta) (key string, rev int64, ahead int64, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, opTimeout)
	defer cancel()
	key = kn.String()
	meta.Who = s.who
	meta.Since = now()
	// The count in the same transaction saves the uncontended case a round
	// trip: a transaction reads its own writes, and every other key in the
	// range was created before ours.
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(
			clientv3.OpPut(key, meta.encode(), clientv3.WithLease(s.lease)),
			clientv3.OpGet(kn.pfx, clientv3.WithPrefix(), clientv3.WithCountOnly()),
		).
		Commit()
	if err != nil {
		return key, 0, 0, timedOut(ctx, err)
	}
	if !resp.Succeeded { // cannot happen: a name is used by one attempt at a time
		return key, 0, 0, errors.New("holder key already exists")
	}
	return key, resp.Header.Revision, resp.Responses[1].GetResponseRange().Count - 1, nil
}

// errNoAnswer is the error of a call bounded by opTimeout that the cluster
// did not answer in time. It replaces the context's DeadlineExceeded, which
// a caller would take for the expiry of its own ctx.
var errNoAnswer = fmt.Errorf("no answer from the cluster within %v", opTimeout)

// timedOut returns errNoAnswer when err is the expiry of ctx, a ctx made
// with opTimeout, and err otherwise.
func timedOut(ctx context.Context, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errNoAnswer
	}
	return err
}

// remove deletes a key this session wrote, fenced by its create revision
// when rev > 0 (a plain delete is safe otherwise, the key being unique to one
// attempt). It is bounded by opTimeout and independent of any caller's ctx:
// it is how a wait that gave up leaves no key behind. It reports whether the
// key was still there. When the cluster cannot be reached in time the key is
// handed to the session, which retries in its keepalive loop until the key is
// gone or the lease is.
func (s *Session) remove(kn *keyName, key string, rev int64) (bool, error) {
	if s.ctx.Err() != nil {
		// A done session's keys go with its lease (Close revokes it, or it
		// has expired); nothing to do, and the cluster may be unreachable.
		return false, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	ok, err := s.deleteKey(ctx, key, rev)
	if err != nil {
		s.orphan(kn, key, rev)
	}
	return ok, timedOut(ctx, err)
}

func (s *Session) deleteKey(ctx context.Context, key string, rev int64) (bool, error) {
	if rev == 0 {
		resp, err := s.cli.Delete(ctx, key)
		if err != nil {
			return false, err
		}
		return resp.Deleted > 0, nil
	}
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", rev)).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// waitFirst waits until the key (key, rev) is the oldest key under pfx. It
// watches only the key just before its own by create revision, and only for
// its deletion, so a handoff costs the next waiter one watch event and the
// others none (no herd). When the predecessor goes (released, or a waiter
// that gave up), it looks again: the new predecessor, if any, is watched in
// turn.
func (s *Session) waitFirst(ctx context.Context, pfx, key string, rev int64) error {
	for {
		resp, err := s.cli.Txn(ctx).Then(
			clientv3.OpGet(key),
			clientv3.OpGet(pfx, append(clientv3.WithLastCreate(), clientv3.WithMaxCreateRev(rev-1))...),
		).Commit()
		if err != nil {
			return err
		}
		mine := resp.Responses[0].GetResponseRange().Kvs
		if len(mine) == 0 || mine[0].CreateRevision != rev {
			return errKeyGone
		}
		pred := resp.Responses[1].GetResponseRange().Kvs
		if len(pred) == 0 {
			return nil
		}
		if err := s.waitDelete(ctx, string(pred[0].Key), pred[0].CreateRevision, resp.Header.Revision); err != nil {
			return err
		}
	}
}

// errKeyGone reports that a waiter's own key disappeared while it waited:
// its lease expired, or someone deleted it.
var errKeyGone = errors.New("key deleted while waiting")

// errWatchClosed reports a watch that closed without a reason.
var errWatchClosed = errors.New("watch closed")

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
// read, costs one round trip instead.
func (s *Session) watch(ctx context.Context, key string, opts ...clientv3.OpOption) (clientv3.WatchChan, int64, error) {
	wch := s.cli.Watch(ctx, key, append(opts, clientv3.WithCreatedNotify())...)
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

// waitDelete waits for the deletion of key, which existed with create
// revision rev at revision read. It returns nil on a deletion, and also
// when the watch broke for a reason that is worth looking again for (no
// leader, compaction): the caller re-reads before watching again, so a
// spurious return costs a read, never a miss.
//
// A key's name is reused by its Mutex value's next attempt (see keyName),
// so "the key is there" means "there with create revision rev": a waiter
// that took a re-created key for its predecessor would wait for a key that
// is now behind it, which waits for it in turn.
func (s *Session) waitDelete(ctx context.Context, key string, rev, read int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch, created, err := s.watch(wctx, key, clientv3.WithFilterPut())
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.pause(ctx)
	}
	if created > read {
		// The key may have gone (and come back) between the read and the
		// watch.
		resp, err := s.cli.Get(ctx, key, clientv3.WithKeysOnly())
		if err != nil {
			return err
		}
		if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != rev {
			return nil
		}
	}
	for wr := range wch {
		if err := wr.Err(); err != nil {
			return s.pause(ctx)
		}
		for _, ev := range wr.Events {
			if ev.Type == mvccpb.DELETE {
				return nil
			}
		}
	}
	// The channel closes without a response when ctx ends.
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.pause(ctx)
}

// pause sleeps retryDelay unless ctx ends first.
func (s *Session) pause(ctx context.Context) error {
	t := time.NewTimer(retryDelay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// hold is one held key (a Mutex or Semaphore hold) and the watch that tells
// its holder when it is lost.
type hold struct {
	s    *Session
	kn   *keyName
	key  string
	rev  int64
	lost chan struct{} // closed when the hold ends by anything but release

	ctx    context.Context // ends on release and when the session is done
	cancel context.CancelFunc
	watch  sync.Once // starts monitor, on the first call of Lost

	mu    sync.Mutex
	ended bool // released or lost
	gone  bool // lost
}

// newHold returns the hold of (key, rev), a key just granted.
func (s *Session) newHold(kn *keyName, key string, rev int64) *hold {
	h := &hold{s: s, kn: kn, key: key, rev: rev, lost: make(chan struct{})}
	h.ctx, h.cancel = context.WithCancel(s.ctx)
	return h
}

// lostChan returns the channel closed when the hold is lost. The watch
// behind it starts on the first call: a holder that never asks does not pay
// for a watch on every hold (Release learns of a loss from its fenced
// delete). The watch starts at the hold's own revision, so a deletion
// before the first call is not missed.
func (h *hold) lostChan() <-chan struct{} {
	h.watch.Do(func() { go h.monitor() })
	return h.lost
}

// markLost ends the hold as lost unless it was released first.
func (h *hold) markLost() {
	h.mu.Lock()
	if !h.ended {
		h.ended, h.gone = true, true
		close(h.lost)
	}
	h.mu.Unlock()
	h.cancel()
}

// end ends the hold by release and reports whether it had been lost before.
// The monitor is stopped first, so the holder's own delete is never taken
// for a loss.
//
// A hold whose session is already done was lost with it (revoked by Close,
// or past the early deadline), whether or not anyone asked for Lost: the
// monitor starts only on the first call of Lost, so without this a holder
// that calls Unlock first and Lost afterwards would get a channel that
// never closes for a hold that did end without Unlock.
func (h *hold) end() (wasLost bool) {
	h.mu.Lock()
	if !h.ended && h.s.ctx.Err() != nil {
		h.gone = true
		close(h.lost)
	}
	wasLost = h.gone
	h.ended = true
	h.mu.Unlock()
	h.cancel()
	return wasLost
}

// lostNow reports whether the hold is known to be lost: Lost closed, or
// the session done (its early deadline passed, or closed).
func (h *hold) lostNow() bool {
	if h.s.ctx.Err() != nil {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gone
}

// foundLost closes h.lost, once, for a hold that release found already gone
// (its fenced delete matched no key): it ended before the release, and Lost
// says so even when the monitor never ran.
func (h *hold) foundLost() {
	h.mu.Lock()
	if !h.gone {
		h.gone = true
		close(h.lost)
	}
	h.mu.Unlock()
}

// monitor closes h.lost when the key is deleted (by anyone but the holder's
// release: by lease expiry or revocation, or by hand) or when the session is
// done, which happens at the session's early deadline, before the server can
// expire the lease, so a holder selecting on Lost stops before any other
// process can be granted what it held. A watch that breaks (no leader,
// compaction) is replaced after a read confirming the key is still there.
func (h *hold) monitor() {
	s := h.s
	from := h.rev + 1
	for h.ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(h.ctx))
		wch := s.cli.Watch(wctx, h.key, clientv3.WithRev(from), clientv3.WithFilterPut())
		for wr := range wch {
			if wr.Err() != nil {
				break
			}
			for _, ev := range wr.Events {
				if ev.Type == mvccpb.DELETE {
					cancel()
					h.markLost()
					return
				}
			}
		}
		cancel()
		if h.pause() != nil {
			break
		}
		gctx, cancel := context.WithTimeout(h.ctx, opTimeout)
		resp, err := s.cli.Get(gctx, h.key)
		cancel()
		if err != nil {
			continue
		}
		if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != h.rev {
			h.markLost()
			return
		}
		from = resp.Header.Revision + 1
	}
	// h.ctx ended: released (markLost is then a no-op) or the session is done.
	h.markLost()
}

func (h *hold) pause() error { return h.s.pause(h.ctx) }

// release ends the hold and deletes its key, fenced by its create revision
// so that it never deletes a later holder's key. The delete is bounded by
// ctx and by opTimeout. It returns an error errors.Is ErrLost when the hold
// had been lost, and also errors.Is ErrSessionDone when the session is done
// (every call on a done session fails that way).
func (h *hold) release(ctx context.Context) error {
	wasLost := h.end()
	s := h.s
	if wasLost || s.ctx.Err() != nil {
		// The key is gone, or goes with the session's lease.
		return s.lostErr()
	}
	caller := ctx
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	ok, err := s.deleteKey(ctx, h.key, h.rev)
	if err != nil {
		if caller.Err() == nil {
			err = timedOut(ctx, err)
		}
		// Leave the key to the session to delete: the lease keeps it alive
		// while the session lives, and it must not block others forever.
		s.orphan(h.kn, h.key, h.rev)
		return err
	}
	if !ok {
		h.foundLost()
		return s.lostErr()
	}
	return nil
}

// lostErr is the error of a Release that finds its hold lost: ErrLost, and
// when the session is done (which is why the hold was lost, or why it does
// not matter) also the session's error, so that it errors.Is both.
func (s *Session) lostErr() error {
	if s.ctx.Err() == nil {
		return ErrLost
	}
	return &lostError{cause: context.Cause(s.ctx)}
}

type lostError struct{ cause error }

func (e *lostError) Error() string {
	return ErrLost.Error() + ": " + strings.TrimPrefix(e.cause.Error(), "coord/etcd: ")
}

func (e *lostError) Is(target error) bool { return target == ErrLost }

func (e *lostError) Unwrap() error { return e.cause }

// now is the time stored in keyMeta.Since.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
