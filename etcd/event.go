package etcd

import (
	"context"
	"errors"
	"unsafe"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
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
// A Wait that finds the event clear writes a waiter key of its own on the
// session's lease (<prefix>eventwait/<name>/<holder>), so that List and
// `coord ls` show who waits, and deletes it when it returns, however it
// returns; a Wait that finds the event set writes nothing.
//
// An Event is safe for use by any number of goroutines and must be made with
// NewEvent (there is no useful zero value). It keeps no state of its own but
// its Stats, so a copy is another handle on the same event, sharing them.
type Event struct {
	s    *Session
	name string
	key  string
	wpfx string            // the range of its waiters' keys
	rec  *inspect.Recorder // shared by copies
}

var eventKind = &inspect.Kind{Name: "Event"}

// Stats returns this process's view of e (see coord.Stats): Waiters is the
// goroutines of this process blocked in e's Wait now (on any copy of e),
// Holders is 0, and Waits, GaveUp and WaitTime count the Waits that found
// the event clear. Name is what e is registered under with coord.Register.
func (e *Event) Stats() coord.Stats { return statsOf(unsafe.Pointer(e), eventKind, 0, e.rec) }

// NewEvent returns the event called name on s's prefix.
func NewEvent(s *Session, name string) *Event {
	if s == nil {
		panic("coord: etcd.NewEvent with a nil session")
	}
	return &Event{s: s, name: name, key: eventKey(s.prefix, name), wpfx: namePrefix(s.prefix, kindEventWait, name), rec: new(inspect.Recorder)}
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
// the event is set. A Wait that finds the event clear shows in List as a
// waiter until it returns, and leaves no key behind (rule 1 of package
// coord's doc: a wait given up has taken nothing and leaves no trace).
func (e *Event) Wait(ctx context.Context) error {
	const op = "wait event"
	s := e.s
	wctx, cancel, err := s.start(ctx, op, e.name)
	if err != nil {
		return err
	}
	defer cancel()
	var kn *keyName // this wait's key, once written
	var w waiting
	err = s.follow(wctx, &follow{
		key:  e.key,
		opts: []clientv3.OpOption{clientv3.WithFilterDelete()},
		read: func(ctx context.Context) (bool, error) {
			resp, err := s.cli.Get(ctx, e.key, clientv3.WithCountOnly())
			if err != nil {
				return false, err
			}
			if resp.Count > 0 || w.on {
				return resp.Count > 0, nil // set, or read again while waiting
			}
			// Clear: this Wait blocks. Only now does it write its key,
			// so that a set event costs what it did, one read.
			var set bool
			kn, set, err = e.join()
			if err == nil && !set {
				w.begin(e.rec, unsafe.Pointer(e), eventKind)
			}
			return set, err
		},
		// A put seen on the watch returns, whatever comes after it: the
		// waiter was waiting when the event was set. After a broken watch
		// the follow replays what was missed, so a Set and a Clear made
		// while no watch ran are still seen (unless that history was
		// compacted away: the wait then reads the state again).
		seen: func(ev *clientv3.Event) (bool, error) { return ev.Type == mvccpb.PUT, nil },
	})
	if kn != nil {
		s.remove(kn, kn.String(), 0)
	}
	if err != nil {
		err = s.fail(ctx, op, e.name, err)
	}
	w.end(e.rec, ctx, err)
	return err
}

// join writes a Wait's waiter key, in one transaction that writes it only
// while the event is clear, and returns its name, or reports that the
// event was set (nothing written). Like every key a wait writes, it is
// written under the session's ctx, not the caller's, so that its outcome is
// known (see Session.enqueue); a write the cluster did not answer is left
// to the session's cleaner. A user allowed to read the event but not to
// write beside it still waits, without a key (List does not show it).
func (e *Event) join() (kn *keyName, set bool, err error) {
	s := e.s
	kn = newKeyName(e.wpfx, s.nextID()) // one per Wait: waits may overlap
	key := kn.String()
	ctx, cancel := context.WithTimeout(s.ctx, opTimeout)
	defer cancel()
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(e.key), "=", 0)).
		Then(s.put(key, keyMeta{})).
		Commit()
	switch {
	case errors.Is(err, rpctypes.ErrPermissionDenied):
		return nil, false, nil
	case err != nil:
		s.orphan(kn, key, 0)
		return nil, false, timedOut(ctx, err)
	case !resp.Succeeded:
		return nil, true, nil
	}
	return kn, false, nil
}
