package coord

import (
	"context"
	"sync"
	"unsafe"

	"github.com/coordkit/coord/internal/inspect"
)

// A ReentrantMutex is a mutual exclusion lock that its holder may lock
// again: the seed's RLock (asyncio has none; in Go, RLock names a read lock).
//
// Ownership travels in a context, not with a goroutine (Go has no goroutine
// identity to key it on, and a hold often spans several goroutines that work
// for one request). Lock returns a context that owns the mutex. A Lock with
// that context, or with one derived from it, re-enters at once and deepens
// the hold; each Lock is matched by one Unlock with an owning context, and
// the last Unlock frees the mutex. Any other context waits, as on a Mutex.
//
//	ctx, err := r.Lock(ctx)
//	if err != nil {
//		return err
//	}
//	defer r.Unlock(ctx)
//	helper(ctx) // may call r.Lock(ctx) again without deadlocking
//
// Goroutines started through TaskGroup.Go do not inherit ownership, as an
// asyncio task created inside `async with lock` does not own the lock: their
// Lock waits for the hold to end. A context passed to a plain go statement
// does carry ownership; that is the caller's choice.
//
// The zero value is an unlocked ReentrantMutex. A ReentrantMutex must not be
// copied after first use. It is safe for use by any number of goroutines,
// including several that share one owning context.
//
// Waiting contexts are served as by Mutex: in arrival order, except that a
// newcomer may take the mutex ahead of a woken waiter for at most about a
// millisecond; cancellation of a waiter loses no handoff.
type ReentrantMutex struct {
	_ noCopy
	m Mutex // held for as long as some context owns r

	mu    sync.Mutex // guards owner and depth
	owner *hold      // the current hold; nil while r is free
	depth int        // the number of Locks of the current hold not yet undone
}

// A hold identifies one tenure of a ReentrantMutex: the value stored in the
// owning context. Each Lock that takes the mutex makes a new one, so a
// context that owned an earlier hold does not own the current one. (A
// non-zero size keeps the pointers of distinct holds distinct.)
type hold struct{ _ byte }

// reentrantKind is what r's waits are recorded as, in r.m's Recorder: Lock
// waits in r.m's lockSlow, under r's name and kind.
var reentrantKind = &inspect.Kind{Name: "ReentrantMutex", Lock: true}

// Lock locks r and returns a context that owns it. If ctx owns r already,
// Lock re-enters at once: it deepens the hold and returns ctx. Otherwise it
// waits until r is free, or until ctx is done.
//
// On error Lock returns the ctx it was given and ctx.Err(); r is unchanged
// and not held on the caller's behalf. If ctx is already done, Lock returns
// ctx.Err() even on a re-entry or a free mutex.
func (r *ReentrantMutex) Lock(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return ctx, err
	}
	if h, _ := ctx.Value(reentrantKey{r}).(*hold); h != nil {
		r.mu.Lock()
		if r.owner == h {
			r.depth++
			r.mu.Unlock()
			return ctx, nil
		}
		r.mu.Unlock()
		// ctx owned an earlier hold that has ended: it waits like any other.
	}
	// r.m.Lock, with the wait recorded as r's.
	if !r.m.state.CompareAndSwap(0, mutexLocked) {
		if err := r.m.lockSlow(ctx, unsafe.Pointer(r), reentrantKind); err != nil {
			return ctx, err
		}
	}
	if inspect.SlowWaitOn() {
		r.m.rec.Took() // a re-entry is not a new hold: only here
	}
	h := new(hold)
	r.mu.Lock()
	r.owner, r.depth = h, 1
	r.mu.Unlock()
	return context.WithValue(ctx, reentrantKey{r}, h), nil
}

// Unlock undoes one Lock of the hold that ctx owns; the last one frees r for
// the next waiter. It panics if ctx does not own r.
func (r *ReentrantMutex) Unlock(ctx context.Context) {
	h, _ := ctx.Value(reentrantKey{r}).(*hold)
	r.mu.Lock()
	if h == nil || r.owner != h {
		r.mu.Unlock()
		panic("coord: ReentrantMutex.Unlock with a context that does not own the mutex")
	}
	r.depth--
	if r.depth > 0 {
		r.mu.Unlock()
		return
	}
	r.owner = nil
	r.mu.Unlock()
	// Between clearing owner and unlocking m nobody can take r: m is still
	// locked, and the stale hold in ctx no longer matches.
	r.m.Unlock()
}

// Held reports whether ctx owns r.
func (r *ReentrantMutex) Held(ctx context.Context) bool {
	h, _ := ctx.Value(reentrantKey{r}).(*hold)
	if h == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.owner == h
}

// Stats returns a snapshot of r: Holders is 1 while a context owns r,
// whatever the depth of its hold; Waiters the goroutines blocked in Lock.
// See Stats.
func (r *ReentrantMutex) Stats() Stats {
	holders := 0
	if r.m.Locked() {
		holders = 1
	}
	return statsOf(unsafe.Pointer(r), reentrantKind, holders, r.m.counts())
}
