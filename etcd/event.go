package etcd

import (
	"context"

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
	return &Event{s: s, name: name, key: eventKey(s.prefix, name)}
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
	err = s.follow(wctx, &follow{
		key:  e.key,
		opts: []clientv3.OpOption{clientv3.WithFilterDelete()},
		read: func(ctx context.Context) (bool, error) {
			resp, err := s.cli.Get(ctx, e.key, clientv3.WithCountOnly())
			if err != nil {
				return false, err
			}
			return resp.Count > 0, nil
		},
		// A put seen on the watch returns, whatever comes after it: the
		// waiter was waiting when the event was set. After a broken watch
		// the follow replays what was missed, so a Set and a Clear made
		// while no watch ran are still seen (unless that history was
		// compacted away: the wait then reads the state again).
		seen: func(ev *clientv3.Event) (bool, error) { return ev.Type == mvccpb.PUT, nil },
	})
	if err != nil {
		return s.fail(ctx, op, e.name, err)
	}
	return nil
}
