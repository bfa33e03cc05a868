package etcd

import (
	"context"
	"unsafe"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
	clientv3 "go.etcd.io/etcd/client/v3"
)

var _ coord.Locker = (*Mutex)(nil)

// A Mutex is a mutual exclusion lock across processes, named by a string
// and kept on a Session's lease.
//
// Holders are served in arrival order: each Lock writes a key, and the key
// with the lowest create revision holds the lock. A waiter watches only the
// key just before its own, so a contended handoff costs the next waiter one
// watch event and wakes nobody else (no herd). The readers of an RWMutex of
// the same name queue in the same line (see RWMutex).
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
	v      holder
	ranges []string // the lock's writers' range and its readers' (lockRanges)
}

// NewMutex returns the mutex called name on s's prefix. Processes that use
// the same name (and prefix) exclude each other, and a Mutex is a writer of
// the RWMutex of that name: it waits for its readers, and they for it.
func NewMutex(s *Session, name string) *Mutex {
	if s == nil {
		panic("coord: etcd.NewMutex with a nil session")
	}
	m := &Mutex{ranges: lockRanges(s, name)}
	m.v.init(unsafe.Pointer(m), mutexKind, s, kindLock, name)
	return m
}

var mutexKind = &inspect.Kind{Name: "Mutex", Lock: true}

// Stats returns this process's view of m (see coord.Stats): Holders is 1
// while m holds (a hold known to be lost counts 0), Waiters the goroutines
// blocked in m's Lock (for m's turn, or for the keys ahead of its own), and
// the counts of its waits that blocked. Name is what m is registered under
// with coord.Register. Other processes' holders and waiters are not counted:
// List shows them.
func (m *Mutex) Stats() coord.Stats { return m.v.stats() }

// Name returns the name the mutex was made with.
func (m *Mutex) Name() string { return m.v.name }

// Lock waits until the caller holds m and returns nil. It returns ctx.Err()
// if ctx ends first, having deleted its key (so it took nothing and leaves no
// trace, even when the lock was granted at the moment ctx ended), and an
// error errors.Is ErrSessionDone if the session ends first. A ctx that is
// already done returns ctx.Err() at once and changes nothing.
func (m *Mutex) Lock(ctx context.Context) error { return writeLock(ctx, &m.v, m.ranges) }

// TryLock takes m if nobody holds it or waits for it, and otherwise returns
// an error errors.Is ErrLocked at once, without queueing. It returns
// ctx.Err() if ctx is done (rule 2 of package coord's doc) or ends before
// the cluster answers.
func (m *Mutex) TryLock(ctx context.Context) error { return tryWriteLock(ctx, &m.v, m.ranges) }

// Unlock releases m: it deletes the hold's key, fenced so that it never
// deletes a later holder's. It is best effort and returns within a few
// seconds even when the cluster cannot be reached (the key then goes with
// the session's lease, or when the session next reaches the cluster).
// Unlock after the hold was lost does not panic; Unlock of a Mutex that is
// not held does.
func (m *Mutex) Unlock() {
	m.v.release(context.Background(), "release lock", "coord: etcd Mutex.Unlock of unlocked mutex")
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
	return m.v.release(ctx, "release lock", "coord: etcd Mutex.Release of unlocked mutex")
}

// Token returns the fencing token of the current hold: the create revision
// of its key, strictly increasing across successive holders of the name. It
// returns 0 when m is not held.
func (m *Mutex) Token() int64 { return m.v.token() }

// Lost returns a channel that is closed when the current hold ends other
// than by Unlock or Release: its key deleted, the lease expired or revoked,
// the session's early deadline passed, or the cluster unreachable past it.
// After Unlock it returns the channel of the hold that ended (not closed,
// unless it was lost before); before the first Lock, nil.
func (m *Mutex) Lost() <-chan struct{} { return m.v.lost() }

// Guard returns a comparison that holds in a Txn only while the current hold
// is current: its key exists with its create revision. A write made in
// Txn().If(m.Guard()) by a stale holder fails. When m is not held, or its
// hold is known to be lost (Lost is closed or the session is done), it
// returns a comparison that never holds.
func (m *Mutex) Guard() clientv3.Cmp { return m.v.guard() }

// Context returns a ctx for the work done under the current hold: it is
// done when parent is, when m is unlocked, or when the hold is lost, and
// context.Cause then says which (parent's cause, an error of its own for
// an unlock, ErrLost for a loss). Called when m is not held, it returns a
// ctx already done. Work that passes it down stops by itself when the lock
// goes.
func (m *Mutex) Context(parent context.Context) context.Context { return m.v.context(parent) }
