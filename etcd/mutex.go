package etcd

import (
	"context"
	"errors"
	"sync"

	"github.com/coordkit/coord"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrLocked is returned (wrapped) by Mutex.TryLock when another holder has
// the lock or is waiting for it.
var ErrLocked = errors.New("coord/etcd: locked by another holder")

var _ coord.Locker = (*Mutex)(nil)

// A Mutex is a mutual exclusion lock across processes, named by a string
// and kept on a Session's lease.
//
// Holders are served in arrival order: each Lock writes a key, and the key
// with the lowest create revision holds the lock. A waiter watches only the
// key just before its own, so a contended handoff costs the next waiter one
// watch event and wakes nobody else (no herd).
//
// Each hold has a fencing token (Token), the create revision of its key:
// strictly increasing across successive holders of a name, so a storage
// service can refuse a stale holder's write, and Guard gives the Txn
// comparison that does so inside etcd. Lost reports a hold that ended other
// than by Unlock; a holder that stops acting when Lost is closed never
// overlaps the next holder (see Session for why).
//
// A Mutex value holds at most one hold at a time; goroutines sharing one
// value take turns, as with a coord.Mutex, and a Lock on a value already
// held waits for its Unlock. Two Mutex values are distinct holders even on
// one session and one name: the second Lock waits. A Mutex is safe for use
// by any number of goroutines; it must be made with NewMutex (there is no
// useful zero value) and not copied (go vet's copylocks check catches a
// copy). It satisfies coord.Locker.
type Mutex struct {
	s    *Session
	name string
	pfx  string
	// turn serializes the goroutines sharing this value: a buffered token
	// is taken for the whole of an attempt and hold. It is a channel so that
	// waiting for it is cancellable.
	turn chan struct{}
	kn   *keyName // the name of this value's key; used under turn

	mu   sync.Mutex
	h    *hold // the current hold, nil when not held
	last *hold // the latest hold, for Lost after it ended
}

// NewMutex returns the mutex called name on s's prefix. Processes that use
// the same name (and prefix) exclude each other.
func NewMutex(s *Session, name string) *Mutex {
	if s == nil {
		panic("coord: etcd.NewMutex with a nil session")
	}
	pfx := namePrefix(s.prefix, kindLock, name)
	return &Mutex{s: s, name: name, pfx: pfx, turn: make(chan struct{}, 1), kn: s.newKeyName(pfx)}
}

// Name returns the name the mutex was made with.
func (m *Mutex) Name() string { return m.name }

// Lock waits until the caller holds m and returns nil. It returns ctx.Err()
// if ctx ends first, having deleted its key (so it took nothing and leaves no
// trace, even when the lock was granted at the moment ctx ended), and an
// error errors.Is ErrSessionDone if the session ends first. A ctx that is
// already done returns ctx.Err() at once and changes nothing.
func (m *Mutex) Lock(ctx context.Context) error {
	return m.lock(ctx, false)
}

// TryLock takes m if nobody holds it or waits for it, and otherwise returns
// an error errors.Is ErrLocked at once, without queueing. It returns
// ctx.Err() if ctx is done (rule 2) or ends before the cluster answers.
func (m *Mutex) TryLock(ctx context.Context) error {
	return m.lock(ctx, true)
}

func (m *Mutex) lock(ctx context.Context, try bool) error {
	op := "lock"
	if try {
		op = "trylock"
	}
	wctx, cancel, err := m.s.start(ctx, op, m.name)
	if err != nil {
		return err
	}
	defer cancel()

	// Take this value's turn.
	if try {
		select {
		case m.turn <- struct{}{}:
		default:
			return wrapErr(op, m.name, ErrLocked)
		}
	} else {
		select {
		case m.turn <- struct{}{}:
		case <-wctx.Done():
			return m.s.fail(ctx, op, m.name, wctx.Err())
		}
	}
	h, err := m.acquire(ctx, wctx, op, try)
	if err != nil {
		<-m.turn
		return err
	}
	m.mu.Lock()
	m.h, m.last = h, h
	m.mu.Unlock()
	return nil
}

func (m *Mutex) acquire(ctx, wctx context.Context, op string, try bool) (*hold, error) {
	s := m.s
	if try {
		// One transaction: write our key only if the range is empty, so a
		// failed TryLock never shows up in the waiting line.
		// Not cancelled with ctx, for the reason given at enqueue.
		tctx, cancel := context.WithTimeout(s.ctx, opTimeout)
		defer cancel()
		key := m.kn.String()
		resp, err := s.cli.Txn(tctx).
			If(clientv3.Compare(clientv3.CreateRevision(m.pfx), "=", 0).WithPrefix()).
			Then(clientv3.OpPut(key, keyMeta{Who: s.who, Since: now()}.encode(), clientv3.WithLease(s.lease))).
			Commit()
		if err != nil {
			s.orphan(m.kn, key, 0) // as after a failed enqueue
			return nil, s.fail(ctx, op, m.name, timedOut(tctx, err))
		}
		if !resp.Succeeded {
			// The request outlives ctx (see enqueue): a ctx that ended
			// before the answer still wins, as the doc says.
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, wrapErr(op, m.name, ErrLocked)
		}
		return m.granted(ctx, op, key, resp.Header.Revision)
	}
	key, rev, ahead, err := s.enqueue(wctx, m.kn, keyMeta{})
	if err != nil {
		return nil, s.fail(ctx, op, m.name, err)
	}
	if ctx.Err() != nil {
		s.remove(m.kn, key, rev)
		return nil, ctx.Err()
	}
	if ahead > 0 {
		if err := s.waitFirst(wctx, m.pfx, key, rev); err != nil {
			s.remove(m.kn, key, rev)
			return nil, s.fail(ctx, op, m.name, err)
		}
	}
	return m.granted(ctx, op, key, rev)
}

// granted turns a key that came first into a hold, unless the caller gave
// up meanwhile: cancellation wins whenever the waiter sees it (API.md rule
// 3), and deleting the key hands the lock to the next waiter.
func (m *Mutex) granted(ctx context.Context, op, key string, rev int64) (*hold, error) {
	if ctx.Err() != nil || m.s.ctx.Err() != nil {
		m.s.remove(m.kn, key, rev)
		return nil, m.s.fail(ctx, op, m.name, nil)
	}
	return m.s.newHold(m.kn, key, rev), nil
}

// Unlock releases m: it deletes the hold's key, fenced so that it never
// deletes a later holder's. It is best effort and returns within a few
// seconds even when the cluster cannot be reached (the key then goes with
// the session's lease, or when the session next reaches the cluster).
// Unlock after the hold was lost does not panic; Unlock of a Mutex that is
// not held does.
func (m *Mutex) Unlock() {
	m.release(context.Background(), "Unlock")
}

// Release is Unlock that reports failure: an error errors.Is ErrLost when
// the hold had ended before (Lost is closed; when the session is done, the
// error is also errors.Is ErrSessionDone), or the cluster's error when
// the delete did not go through within ctx and a few seconds. Either way m
// is no longer held when Release returns, except when ctx was already done:
// then Release returns ctx.Err() and changes nothing.
func (m *Mutex) Release(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return m.release(ctx, "Release")
}

func (m *Mutex) release(ctx context.Context, call string) error {
	m.mu.Lock()
	h := m.h
	m.h = nil
	m.mu.Unlock()
	if h == nil {
		panic("coord: etcd Mutex." + call + " of unlocked mutex")
	}
	err := h.release(ctx)
	<-m.turn
	if err != nil {
		if errors.Is(err, ErrLost) {
			return wrapErr("release lock", m.name, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return wrapErr("release lock", m.name, err)
	}
	return nil
}

// Token returns the fencing token of the current hold: the create revision
// of its key, strictly increasing across successive holders of the name. It
// returns 0 when m is not held.
func (m *Mutex) Token() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h == nil {
		return 0
	}
	return m.h.rev
}

// Lost returns a channel that is closed when the current hold ends other
// than by Unlock or Release: its key deleted, the lease expired or revoked,
// the session's early deadline passed, or the cluster unreachable past it.
// After Unlock it returns the channel of the hold that ended (not closed,
// unless it was lost before); before the first Lock, nil.
func (m *Mutex) Lost() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		return nil
	}
	return m.last.lostChan()
}

// Guard returns a comparison that holds in a Txn only while the current hold
// is current: its key exists with its create revision. A write made in
// Txn().If(m.Guard()) by a stale holder fails. When m is not held, or its
// hold is known to be lost (Lost is closed or the session is done), it
// returns a comparison that never holds.
func (m *Mutex) Guard() clientv3.Cmp {
	m.mu.Lock()
	defer m.mu.Unlock()
	return guard(m.h, m.pfx)
}

func guard(h *hold, pfx string) clientv3.Cmp {
	// At the session's early deadline the key is still on the server (its
	// lease expires there a safety margin later), but the holder has been
	// told it lost the hold: a Guard taken then must not let it write.
	if h == nil || h.lostNow() {
		// No key has create revision -1 (an absent key compares as 0).
		return clientv3.Compare(clientv3.CreateRevision(pfx), "=", -1)
	}
	return clientv3.Compare(clientv3.CreateRevision(h.key), "=", h.rev)
}
