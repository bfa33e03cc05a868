package etcd

import (
	"context"
	"errors"
	"sync"
	"time"
	"unsafe"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrNotLeader is returned (wrapped) by Election.Proclaim when the value does
// not lead: it never won, it resigned, or its leadership was lost.
var ErrNotLeader = errors.New("coord/etcd: not the leader")

// A Leader is the leader of an election as Election.Leader and
// Election.Observe report it.
type Leader struct {
	// Value is what the leader campaigned with, or last proclaimed.
	Value string
	// Token is the create revision of the leader's key: its fencing
	// token, strictly increasing from one leader of the name to the next.
	Token int64
	// Who is the leader's session's host and pid, as List shows it.
	Who string
	// Since is when the leader began to lead, by its own clock: Campaign
	// writes it into the leader's key before it returns. A leader that
	// has just taken over and not yet written it (for about one round
	// trip; longer only if it died in that moment) is reported with the
	// time the caller learned of it.
	Since time.Time
}

// An Election chooses one leader among the processes campaigning on a name,
// kept on a Session's lease: leader election in the manner of etcd's
// concurrency.Election and client-go's leaderelection, with what they lack.
//
// Each Campaign writes a key carrying its value; the key with the lowest
// create revision leads, so candidates are served in arrival order. A
// candidate watches only the key just before its own, so a change of leader
// wakes the next candidate and nobody else (no herd), and Resign of the
// leader hands leadership to the next candidate at once. The leader's Token
// is its key's create revision, strictly increasing across leaders; its
// Lost, Guard and Context are those of a Mutex hold (a leader that acts only
// while Lost is open never overlaps the next leader; Context gives work a ctx
// that ends with the leadership). A Campaign that gives up leaves no key.
//
// Observe follows every change of leader and value in revision order,
// resuming where it left off after a broken watch, a reconnection or a
// member restart (it skips only changes whose history the cluster
// compacted meanwhile), and never reports an older leader after a newer one
// (etcd's Observe can: etcd issue 18163).
//
// An Election value campaigns at most once at a time; goroutines sharing one
// value take turns, as with a Mutex, and a Campaign while the value
// campaigns or leads waits for its Resign. Two Election values are distinct
// candidates even on one session. An Election is safe for use by any number
// of goroutines; it must be made with NewElection (there is no useful zero
// value) and not copied (go vet's copylocks check catches a copy).
type Election struct {
	v holder

	resign sync.Mutex // serializes Resigns: a second one finds nothing held

	mu      sync.Mutex
	leading time.Time // when the current hold began to lead, for Proclaim
}

// NewElection returns the election called name on s's prefix. Processes
// that campaign on the same name (and prefix) compete for one leadership.
func NewElection(s *Session, name string) *Election {
	if s == nil {
		panic("coord: etcd.NewElection with a nil session")
	}
	e := new(Election)
	e.v.init(unsafe.Pointer(e), electionKind, s, kindElect, name)
	return e
}

var electionKind = &inspect.Kind{Name: "Election"}

// Stats returns this process's view of e, as Mutex.Stats: Holders is 1
// while e leads, Waiters the goroutines blocked in its Campaign (as a
// candidate behind another, or for e's turn), and the counts of those waits.
func (e *Election) Stats() coord.Stats { return e.v.stats() }

// Name returns the name the election was made with.
func (e *Election) Name() string { return e.v.name }

// Campaign joins the election with value and waits until this value leads,
// then records when its leadership began (Leader.Since) and returns nil. It
// returns ctx.Err() if ctx ends first, having deleted its key (it never
// led, and the candidates behind it move up, even when it was made leader
// at the moment ctx ended), and an error errors.Is ErrSessionDone if the
// session ends first. A ctx that is already done returns ctx.Err() at once
// and changes nothing.
func (e *Election) Campaign(ctx context.Context, value string) error {
	s := e.v.s
	return e.v.acquire(ctx, "campaign", e.v.kn, keyMeta{Value: value}, line{
		admits: first,
		wait: func(ctx context.Context, key string, rev int64) error {
			return s.waitTurn(ctx, key, rev, e.v.pfx)
		},
		then: func(ctx context.Context, key string, rev int64) error {
			return e.lead(ctx, key, rev, value)
		},
	})
}

// lead is the start of a leadership: its key was written when it became a
// candidate; write into it when it began to lead, so that every observer
// reports the same Since. The write is fenced: a key gone meanwhile (its
// lease lost) is not written again.
func (e *Election) lead(ctx context.Context, key string, rev int64, value string) error {
	leading := now()
	ok, err := e.write(ctx, key, rev, keyMeta{Value: value, Leading: leading})
	if err == nil && !ok {
		err = errKeyGone
	}
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.leading = leading
	e.mu.Unlock()
	return nil
}

// write puts meta into key, on the session's lease, only if key still has
// create revision rev, and reports whether it did.
func (e *Election) write(ctx context.Context, key string, rev int64, meta keyMeta) (bool, error) {
	resp, err := e.v.s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", rev)).
		Then(e.v.s.put(key, meta)).
		Commit()
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// Proclaim changes the value of this value's leadership without another
// election; observers see the new value. It is fenced: it writes only while
// the leader's key is still its own, and otherwise returns an error
// errors.Is ErrNotLeader (and, when the leadership was lost, closes Lost).
// If ctx ends before the cluster answers, Proclaim returns ctx.Err() and the
// value may or may not have changed.
func (e *Election) Proclaim(ctx context.Context, value string) error {
	const op = "proclaim"
	s := e.v.s
	wctx, cancel, err := s.start(ctx, op, e.v.name)
	if err != nil {
		return err
	}
	defer cancel()
	e.v.mu.Lock()
	h := e.v.h
	e.v.mu.Unlock()
	if h == nil || h.lostNow() {
		return wrapErr(op, e.v.name, ErrNotLeader)
	}
	e.mu.Lock()
	leading := e.leading
	e.mu.Unlock()
	ok, err := e.write(wctx, h.key, h.rev, keyMeta{Value: value, Leading: leading})
	if err != nil {
		return s.fail(ctx, op, e.v.name, err)
	}
	if !ok {
		// The key is gone: lost, unless it was just resigned (markLost
		// then changes nothing).
		h.markLost()
		return wrapErr(op, e.v.name, ErrNotLeader)
	}
	return nil
}

// Resign gives up leadership, handing it to the next candidate at once: it
// deletes the leader's key, fenced so that it never deletes a later
// leader's. It returns an error errors.Is ErrLost when the leadership had
// ended before (Lost is closed), or the cluster's error when the delete did
// not go through within ctx and a few seconds; either way the value no
// longer leads and may campaign again. Resign of a value that does not
// lead (it never won, or already resigned) returns nil, so that a deferred
// Resign is always safe. A ctx that is already done returns ctx.Err() and
// changes nothing.
func (e *Election) Resign(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Only Resign ends a hold, and Resigns take turns, so a hold seen here
	// is the one released.
	e.resign.Lock()
	defer e.resign.Unlock()
	e.v.mu.Lock()
	held := e.v.h != nil
	e.v.mu.Unlock()
	if !held {
		return nil
	}
	return e.v.release(ctx, "resign", "coord: etcd Election.Resign of a value that does not lead")
}

// Leader returns the current leader and true, or a zero Leader and false
// when nobody leads.
func (e *Election) Leader(ctx context.Context) (Leader, bool, error) {
	const op = "leader"
	s := e.v.s
	wctx, cancel, err := s.start(ctx, op, e.v.name)
	if err != nil {
		return Leader{}, false, err
	}
	defer cancel()
	resp, err := s.cli.Get(wctx, e.v.pfx, clientv3.WithFirstCreate()...)
	if err != nil {
		return Leader{}, false, s.fail(ctx, op, e.v.name, err)
	}
	if len(resp.Kvs) == 0 {
		return Leader{}, false, nil
	}
	return leaderOf(resp.Kvs[0].Value, resp.Kvs[0].CreateRevision), true, nil
}

// leaderOf returns the Leader of a leader's key's value and create revision.
func leaderOf(value []byte, token int64) Leader {
	m := decodeMeta(value)
	since := m.Leading
	if since.IsZero() {
		since = now() // not yet written by the leader: see Leader.Since
	}
	return Leader{Value: m.Value, Token: token, Who: m.Who, Since: since}
}

// Token returns the fencing token of this value's leadership: the create
// revision of its key, strictly increasing across successive leaders of the
// name. It returns 0 when the value does not lead.
func (e *Election) Token() int64 { return e.v.token() }

// Lost returns a channel that is closed when the current leadership ends
// other than by Resign, as Mutex.Lost: a leader that stops acting when it is
// closed never overlaps the next leader. After Resign it returns the
// channel of the leadership that ended; before the first, nil.
func (e *Election) Lost() <-chan struct{} { return e.v.lost() }

// Guard returns a comparison that holds in a Txn only while this value's
// leadership is current, as Mutex.Guard: never when it does not lead or its
// leadership is known to be lost.
func (e *Election) Guard() clientv3.Cmp { return e.v.guard() }

// Context returns a ctx for the work done while this value leads: it is
// done when parent is, on Resign, or when the leadership is lost, and
// context.Cause then says which (parent's cause, an error of its own for a
// Resign, ErrLost for a loss). Called when the value does not lead, it
// returns a ctx already done.
func (e *Election) Context(parent context.Context) context.Context { return e.v.context(parent) }
