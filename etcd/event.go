package etcd

import (
	"context"
	"net/url"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// An Event is a flag across processes that waiters block on until it is
// set, as coord.Event in one process.
//
// Its state is one key, <prefix>event/<name>, present while the event is
// set. The key is on no lease: an Event stays set after the process that set
// it exits, until someone clears it. The session is used for its client and
// prefix, and so that calls on a done session fail like every other.
//
// Set wakes every process waiting at that moment, and each of those Waits
// returns nil even if Clear follows at once: a waiter returns on seeing the
// put, whatever comes after it. Wait watches the key before it reads it, so
// a Set between the read and the watch is never missed.
//
// An Event is safe for use by any number of goroutines and must be made with
// NewEvent (there is no useful zero value). It keeps no state of its own, so
// a copy is another handle on the same event.
type Event struct {
	s    *Session
	name string
	key  string
}

// NewEvent returns the event called name on s's prefix.
func NewEvent(s *Session, name string) *Event {
	if s == nil {
		panic("coord: etcd.NewEvent with a nil session")
	}
	return &Event{s: s, name: name, key: s.prefix + kindEvent + "/" + url.PathEscape(name)}
}

// Name returns the name the event was made with.
func (e *Event) Name() string { return e.name }

// Set sets the event, waking every process waiting on it. Setting a set
// event changes nothing (not even the key's revision).
func (e *Event) Set(ctx context.Context) error {
	const op = "set event"
	wctx, cancel, err := e.s.start(ctx, op, e.name)
	if err != nil {
		return err
	}
	defer cancel()
	_, err = e.s.cli.Txn(wctx).
		If(clientv3.Compare(clientv3.CreateRevision(e.key), "=", 0)).
		Then(clientv3.OpPut(e.key, keyMeta{Who: e.s.who, Since: now()}.encode())).
		Commit()
	if err != nil {
		return e.s.fail(ctx, op, e.name, err)
	}
	return nil
}

// Clear clears the event; later Waits block until the next Set.
func (e *Event) Clear(ctx context.Context) error {
	const op = "clear event"
	wctx, cancel, err := e.s.start(ctx, op, e.name)
	if err != nil {
		return err
	}
	defer cancel()
	if _, err := e.s.cli.Delete(wctx, e.key); err != nil {
		return e.s.fail(ctx, op, e.name, err)
	}
	return nil
}

// IsSet reports whether the event is set.
func (e *Event) IsSet(ctx context.Context) (bool, error) {
	const op = "read event"
	wctx, cancel, err := e.s.start(ctx, op, e.name)
	if err != nil {
		return false, err
	}
	defer cancel()
	resp, err := e.s.cli.Get(wctx, e.key, clientv3.WithCountOnly())
	if err != nil {
		return false, e.s.fail(ctx, op, e.name, err)
	}
	return resp.Count > 0, nil
}

// Wait returns nil once the event is set (at once if it is set now), or
// ctx.Err() if ctx ends first, or an error errors.Is ErrSessionDone if the
// session ends first. A ctx that is already done returns ctx.Err() even when
// the event is set.
func (e *Event) Wait(ctx context.Context) error {
	const op = "wait event"
	s := e.s
	wctx, cancel, err := s.start(ctx, op, e.name)
	if err != nil {
		return err
	}
	defer cancel()
	var seen int64 // every revision up to seen has been looked at
	for {
		set, err := e.wait(wctx, &seen)
		if err != nil {
			return s.fail(ctx, op, e.name, err)
		}
		if set {
			return nil
		}
	}
}

// wait watches the key, then reads it: set already, or a put seen on the
// watch, returns true. Watching first means a Set between the read and the
// watch cannot be missed. It returns false, after a pause, when the watch
// broke (no leader, compaction) and must be made again.
func (e *Event) wait(ctx context.Context, seen *int64) (bool, error) {
	s := e.s
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	if *seen > 0 {
		// A watch broke (the server lost its leader, or cancelled it): pick
		// up from the first revision not yet looked at, so that a Set and a
		// Clear made while no watch ran are still seen. Only when that
		// history has been compacted away does the wait fall back to the
		// current state, below.
		wch := s.cli.Watch(wctx, e.key, clientv3.WithRev(*seen+1), clientv3.WithFilterDelete())
		set, ok := e.follow(wch, seen)
		if set || ctx.Err() != nil {
			return set, ctx.Err()
		}
		if ok {
			return false, s.pause(ctx)
		}
	}
	wch, created, err := s.watch(wctx, e.key, clientv3.WithFilterDelete())
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, s.pause(ctx)
	}
	resp, err := s.cli.Get(ctx, e.key, clientv3.WithCountOnly())
	if err != nil {
		return false, err
	}
	if resp.Count > 0 {
		return true, nil
	}
	// The read saw every revision up to its own, and the watch delivers
	// every one after created, which is no later.
	*seen = max(*seen, min(created, resp.Header.Revision))
	set, _ := e.follow(wch, seen)
	if set {
		return true, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return false, s.pause(ctx)
}

// follow reads wch until it sees the event set or the watch ends, moving
// seen past every revision the watch has covered. ok is false when the watch
// could not start at the revision asked for because it was compacted.
func (e *Event) follow(wch clientv3.WatchChan, seen *int64) (set, ok bool) {
	for wr := range wch {
		if err := wr.Err(); err != nil {
			return false, wr.CompactRevision == 0
		}
		for _, ev := range wr.Events {
			if ev.Type == mvccpb.PUT {
				return true, true
			}
			*seen = max(*seen, ev.Kv.ModRevision)
		}
	}
	return false, true
}
