package etcd

import (
	"context"
	"unsafe"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
	clientv3 "go.etcd.io/etcd/client/v3"
)

var _ coord.Locker = (*RWMutex)(nil)

// An RWMutex is a reader/writer lock across processes, named by a string and
// kept on a Session's lease: any number of readers hold it together, or one
// writer alone. A Mutex of the same name (and prefix) is a writer of it, so
// Mutex and RWMutex values of one name exclude each other as writers and
// readers should.
//
// Every attempt writes a key, a writer's among the name's writers (where
// Mutex keys are too), a reader's in a range of readers beside it, and the
// create revisions of those keys, one counter across both ranges, put every
// attempt in one line in arrival order:
//
//   - a reader holds once no writer's key older than its own is left: it
//     waits for the last writer before it, so a writer that waits holds back
//     the readers after it and never those before it;
//   - a writer holds once no key older than its own is left, of either kind:
//     it waits for the key just before its own.
//
// A waiter watches one key only, and looks again when it goes (the new last
// key before it, if any, is watched in turn), so a release wakes only the
// waiters it lets in, with one watch event each (no herd): the next writer,
// or the readers that queued behind the writer that released. A waiter that
// gives up deletes its key, and whoever watched it looks again at once:
// readers behind a writer that gave up go in together, a writer behind a
// reader that gave up moves up. A waiter whose own key is deleted while it
// waits (its lease revoked, or by hand) fails instead of taking the lock
// (etcd's own RWMutex recipe took it: etcd issue 16221), and the line is read
// afresh on every look rather than from a revision that may show a key
// already gone (etcd issue 6408).
//
// Token, Lost, Guard, Context and Release are those of Mutex, for a hold of
// either kind: a reader's token is its own key's create revision, which
// orders it among the writers (fencing matters for writers, whose tokens
// increase strictly across the writers of a name). An RWMutex value holds at
// most once at a time, as a reader or as a writer; goroutines sharing one
// value take turns, and an RLock on a value already held waits for its
// release like a Lock does. Two values are distinct holders even on one
// session. An RWMutex is safe for use by any number of goroutines; it must
// be made with NewRWMutex (there is no useful zero value) and not copied. It
// satisfies coord.Locker as a writer; RLocker gives its reader side.
type RWMutex struct {
	v      holder   // the value's hold, of either kind; v.kn is its writer key
	rkn    *keyName // the name of its reader key, in ranges[1]
	ranges []string // the name's writers' range and its readers' (lockRanges)
}

// NewRWMutex returns the reader/writer lock called name on s's prefix.
// Processes that use the same name (and prefix) share it, and a Mutex of
// that name is one of its writers.
func NewRWMutex(s *Session, name string) *RWMutex {
	if s == nil {
		panic("coord: etcd.NewRWMutex with a nil session")
	}
	ranges := lockRanges(s, name)
	m := &RWMutex{rkn: newKeyName(ranges[1], s.nextID()), ranges: ranges}
	m.v.init(unsafe.Pointer(m), rwmutexKind, s, kindLock, name)
	return m
}

var rwmutexKind = &inspect.Kind{Name: "RWMutex", Lock: true}

// Stats returns this process's view of m, as Mutex.Stats: Holders is 1
// while m holds, as a reader or as a writer.
func (m *RWMutex) Stats() coord.Stats { return m.v.stats() }

// lockRanges returns the key ranges of the lock called name: its writers'
// (Mutex holders and RWMutex writers) and its readers'.
func lockRanges(s *Session, name string) []string {
	return []string{namePrefix(s.prefix, kindLock, name), namePrefix(s.prefix, kindRLock, name)}
}

// writeLock is the Lock of a writer, Mutex or RWMutex, on the value v of the
// lock whose ranges are given: it waits until no key of either range is
// older than its own, watching the one just before it.
func writeLock(ctx context.Context, v *holder, ranges []string) error {
	return v.acquire(ctx, "lock", v.kn, keyMeta{}, line{
		count:  ranges,
		admits: first,
		wait: func(ctx context.Context, key string, rev int64) error {
			return v.s.waitTurn(ctx, key, rev, ranges...)
		},
	})
}

// first admits a key with no key ahead of it: a writer's, a reader's (whose
// count is of writers only) or a candidate's.
func first(ahead int64) bool { return ahead == 0 }

// tryWriteLock is the TryLock of a writer: it takes the lock only while
// neither range has a key.
func tryWriteLock(ctx context.Context, v *holder, ranges []string) error {
	return v.tryAcquire(ctx, "trylock", v.kn, ranges...)
}

// Name returns the name the lock was made with.
func (m *RWMutex) Name() string { return m.v.name }

// RLock waits until the caller holds m as a reader and returns nil: once no
// writer that came before it holds or waits. It returns ctx.Err() if ctx
// ends first, having deleted its key (it took nothing and leaves no trace,
// even when the lock was granted at the moment ctx ended: rule 3 of package
// coord's doc), and an error errors.Is ErrSessionDone if the session ends
// first. A ctx that is already done returns ctx.Err() at once and changes
// nothing.
func (m *RWMutex) RLock(ctx context.Context) error {
	writers := m.ranges[0]
	return m.v.acquire(ctx, "rlock", m.rkn, keyMeta{}, line{
		count:  m.ranges[:1],
		admits: first,
		wait: func(ctx context.Context, key string, rev int64) error {
			return m.v.s.waitTurn(ctx, key, rev, writers)
		},
	})
}

// TryRLock takes m as a reader if no writer holds it or waits for it, and
// otherwise returns an error errors.Is ErrLocked at once, without queueing.
// It returns ctx.Err() if ctx is done (rule 2 of package coord's doc) or
// ends before the cluster answers.
func (m *RWMutex) TryRLock(ctx context.Context) error {
	return m.v.tryAcquire(ctx, "tryrlock", m.rkn, m.ranges[0])
}

// RUnlock releases m's reader hold, as Unlock does a writer's. RUnlock of an
// RWMutex not held as a reader panics.
func (m *RWMutex) RUnlock() {
	m.mustHold(m.rkn, "coord: etcd RWMutex.RUnlock of an RWMutex not read-locked")
	m.v.release(context.Background(), "release rlock", "coord: etcd RWMutex.RUnlock of an RWMutex not read-locked")
}

// Lock waits until the caller holds m as its only holder (a writer) and
// returns nil: once every key before its own, reader or writer, is gone. It
// returns as RLock does when ctx or the session ends first.
func (m *RWMutex) Lock(ctx context.Context) error { return writeLock(ctx, &m.v, m.ranges) }

// TryLock takes m as a writer if nobody holds it or waits for it, and
// otherwise returns an error errors.Is ErrLocked at once, without queueing.
// It returns ctx.Err() if ctx is done or ends before the cluster answers.
func (m *RWMutex) TryLock(ctx context.Context) error { return tryWriteLock(ctx, &m.v, m.ranges) }

// Unlock releases m's writer hold: it deletes the hold's key, fenced so that
// it never deletes a later holder's, best effort and within a few seconds
// even when the cluster cannot be reached, as Mutex.Unlock. Unlock after the
// hold was lost does not panic; Unlock of an RWMutex not held as a writer
// does.
func (m *RWMutex) Unlock() {
	m.mustHold(m.v.kn, "coord: etcd RWMutex.Unlock of an RWMutex not write-locked")
	m.v.release(context.Background(), "release lock", "coord: etcd RWMutex.Unlock of an RWMutex not write-locked")
}

// Release ends whichever hold m has, reader or writer, and reports failure
// as Mutex.Release does: an error errors.Is ErrLost when the hold had ended
// before, or the cluster's error when the delete did not go through within
// ctx and a few seconds; either way m is no longer held, except when ctx was
// already done: then Release returns ctx.Err() and changes nothing. Release
// of an RWMutex not held panics.
func (m *RWMutex) Release(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := "release lock"
	if m.heldAs() == m.rkn {
		op = "release rlock"
	}
	return m.v.release(ctx, op, "coord: etcd RWMutex.Release of an RWMutex not held")
}

// heldAs returns the key name of the current hold (m.v.kn for a writer,
// m.rkn for a reader), nil when m is not held.
func (m *RWMutex) heldAs() *keyName {
	m.v.mu.Lock()
	defer m.v.mu.Unlock()
	if m.v.h == nil {
		return nil
	}
	return m.v.h.kn
}

// mustHold panics with msg unless m's current hold is of kind kn.
func (m *RWMutex) mustHold(kn *keyName, msg string) {
	if m.heldAs() != kn {
		panic(msg)
	}
}

// RLocker returns a coord.Locker whose Lock and Unlock are m's RLock and
// RUnlock.
func (m *RWMutex) RLocker() coord.Locker { return (*rlocker)(m) }

type rlocker RWMutex

func (r *rlocker) Lock(ctx context.Context) error { return (*RWMutex)(r).RLock(ctx) }
func (r *rlocker) Unlock()                        { (*RWMutex)(r).RUnlock() }

// Token returns the fencing token of the current hold: the create revision
// of its key, for a reader as for a writer. Writers' tokens increase strictly
// across successive writers of the name (Mutex holders among them). It
// returns 0 when m is not held.
func (m *RWMutex) Token() int64 { return m.v.token() }

// Lost returns a channel that is closed when the current hold, of either
// kind, ends other than by Unlock, RUnlock or Release, as Mutex.Lost.
func (m *RWMutex) Lost() <-chan struct{} { return m.v.lost() }

// Guard returns a comparison that holds in a Txn only while the current hold
// is current, as Mutex.Guard: never when m is not held or its hold is known
// to be lost.
func (m *RWMutex) Guard() clientv3.Cmp { return m.v.guard() }

// Context returns a ctx for the work done under the current hold, of either
// kind: done when parent is, when the hold is released, or when it is lost,
// and context.Cause then says which (parent's cause, an error of its own for
// a release, ErrLost for a loss), as Mutex.Context. Called when m is not
// held, it returns a ctx already done.
func (m *RWMutex) Context(parent context.Context) context.Context { return m.v.context(parent) }
