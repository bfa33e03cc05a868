package coord

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/coordkit/coord/internal/inspect"
	"github.com/coordkit/coord/internal/waitq"
)

// ErrOverCapacity is returned by AcquireN on a bounded Semaphore when n is
// more than the semaphore's size: such a request could never be granted, so
// it fails at once instead of blocking every waiter queued behind it.
var ErrOverCapacity = errors.New("coord: semaphore request exceeds its capacity")

// A Semaphore holds a count of permits. AcquireN takes n of them, waiting
// until they are free; ReleaseN gives n back. It is asyncio.Semaphore and
// BoundedSemaphore, with weighted requests as in
// golang.org/x/sync/semaphore, and every wait cancellable through a context.
//
// Create one with NewSemaphore or NewBoundedSemaphore. The zero Semaphore is
// an unbounded semaphore with no permits: it is usable, but every Acquire
// waits for a Release. A Semaphore must not be copied after first use. It is
// safe for use by any number of goroutines.
//
// Waiters are served strictly in arrival order. A request that cannot be
// granted blocks every request queued behind it, even smaller ones that the
// free permits could satisfy: otherwise a stream of small requests could
// starve a large one forever (a semaphore of N used as a read-write lock,
// where the writer takes all N, is the classic case). For the same reason
// TryAcquire and TryAcquireN refuse while anyone is queued.
//
// A waiter that gives up takes nothing: permits that were granted to it as
// it gave up go at once to the waiters behind it, and permits that it was
// blocking (as the head of the queue) are granted to them. No permit is ever
// lost or duplicated.
type Semaphore struct {
	_ noCopy

	// state is avail<<1 | queued: the number of free permits, and whether
	// any goroutine is queued. queued is set and cleared only with mu held,
	// and equals waiters.Len() > 0 whenever mu is free.
	//
	// While queued is clear, permits are taken and returned by CAS on state
	// without mu: the uncontended paths cost one atomic operation, like
	// sync.Mutex's. While queued is set, the CAS paths refuse (a free permit
	// then belongs to the head of the queue, not to a newcomer) and every
	// change to state is made with mu held; a CAS that read state before
	// queued was set fails, because setting it changed state. This is what
	// makes the lock-free paths unable to barge past a queued waiter or to
	// release a permit that no waiter hears of.
	//
	// One exception: an unbounded semaphore's Release adds its permits with
	// an atomic Add whether or not queued is set, and if it was, then takes
	// mu and runs the grant loop. Code holding mu may therefore see the
	// count grow under it, never shrink, which none of it minds: a waiter
	// that read too few permits to be granted is granted by that Release's
	// own grant loop.
	state   atomic.Int64
	size    int64 // the bound of a bounded semaphore; 0 if unbounded
	bounded bool
	made    int64 // the count it was made with, for Stats' Holders

	mu      sync.Mutex
	waiters waitq.List[struct{}] // guarded by mu
	rec     inspect.Recorder     // its waits, for Stats; see the package doc's "Seeing inside"
}

var semaphoreKind = &inspect.Kind{Name: "Semaphore"}

const (
	semQueued   = 1
	semOne      = 2 // one permit in state
	semMaxAvail = math.MaxInt64 >> 1
)

// NewSemaphore returns a semaphore with n free permits. Release may raise
// the count past n (asyncio.Semaphore). NewSemaphore panics if n < 0.
func NewSemaphore(n int) *Semaphore {
	if n < 0 {
		panic("coord: NewSemaphore: negative count")
	}
	if int64(n) > semMaxAvail {
		panic("coord: NewSemaphore: count too large")
	}
	s := &Semaphore{made: int64(n)}
	s.state.Store(int64(n) * semOne)
	return s
}

// NewBoundedSemaphore returns a semaphore with n free permits that n is also
// the most of: a Release that would raise the count past n panics, catching
// a release of what was never acquired (asyncio.BoundedSemaphore), and an
// AcquireN of more than n fails at once with ErrOverCapacity.
// NewBoundedSemaphore panics if n < 0.
func NewBoundedSemaphore(n int) *Semaphore {
	if n < 0 {
		panic("coord: NewBoundedSemaphore: negative count")
	}
	if int64(n) > semMaxAvail {
		panic("coord: NewBoundedSemaphore: count too large")
	}
	s := &Semaphore{size: int64(n), bounded: true, made: int64(n)}
	s.state.Store(int64(n) * semOne)
	return s
}

// Acquire is AcquireN(ctx, 1).
func (s *Semaphore) Acquire(ctx context.Context) error {
	return s.acquire(ctx, 1, "Acquire")
}

// TryAcquire takes one permit if it is free and nobody is queued, and
// reports whether it did: TryAcquireN(1).
func (s *Semaphore) TryAcquire() bool {
	return s.tryAcquire(1)
}

// Release is ReleaseN(1).
func (s *Semaphore) Release() {
	s.release(1, "Release")
}

// AcquireN takes n permits, waiting in line until they are free, and returns
// nil; or it returns ctx.Err() when ctx ends first, and then has taken
// nothing and left the semaphore as it would be had it never been called.
//
// If ctx is already done AcquireN returns ctx.Err() even when the permits
// are free (go.dev/issue/63615). With a live ctx, AcquireN(ctx, 0) succeeds
// at once. On a bounded semaphore, AcquireN of more than its size returns
// ErrOverCapacity at once. AcquireN panics if n < 0.
//
// If the permits are granted just as ctx ends and the caller sees both, it
// returns ctx.Err() and the permits go on to the waiters behind it.
func (s *Semaphore) AcquireN(ctx context.Context, n int) error {
	return s.acquire(ctx, n, "AcquireN")
}

// TryAcquireN takes n permits if they are free and nobody is queued, and
// reports whether it did. It never waits. It panics if n < 0.
func (s *Semaphore) TryAcquireN(n int) bool {
	if n < 0 {
		panic("coord: Semaphore.TryAcquireN: negative count")
	}
	return s.tryAcquire(int64(n))
}

// ReleaseN gives n permits back and grants them to the waiters at the head
// of the queue that they now satisfy. It panics if n < 0, and on a bounded
// semaphore if the count would exceed its size.
func (s *Semaphore) ReleaseN(n int) {
	s.release(n, "ReleaseN")
}

// Available returns the number of free permits: those neither held nor
// granted to a waiter. It is a snapshot, stale as soon as it returns.
func (s *Semaphore) Available() int {
	return int(s.state.Load() >> 1)
}

func (s *Semaphore) tryAcquire(n int64) bool {
	if s.bounded && n > s.size {
		return false
	}
	for {
		old := s.state.Load()
		if old&semQueued != 0 || old>>1 < n {
			return false
		}
		if s.state.CompareAndSwap(old, old-n*semOne) {
			return true
		}
	}
}

func (s *Semaphore) acquire(ctx context.Context, n int, method string) error {
	if n < 0 {
		panic("coord: Semaphore." + method + ": negative count")
	}
	// Rule 2: a done ctx fails the call whatever the state, so a caller
	// looping on AcquireN with a cancelled ctx cannot keep taking permits.
	if err := ctx.Err(); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	want := int64(n)
	if s.bounded && want > s.size {
		return ErrOverCapacity
	}
	if s.tryAcquire(want) {
		return nil
	}

	s.mu.Lock()
	// Decide between taking the permits and queueing in one CAS: while we
	// hold mu nobody else can queue, and the CAS that sets queued fails if
	// a lock-free Release or TryAcquire changed the count since we read it,
	// so a permit released just now is either seen here or not released
	// yet (and its Release will then find queued set and grant it to us).
	for {
		old := s.state.Load()
		if old&semQueued == 0 && old>>1 >= want {
			if s.state.CompareAndSwap(old, old-want*semOne) {
				s.mu.Unlock()
				return nil
			}
			continue
		}
		if old&semQueued != 0 || s.state.CompareAndSwap(old, old|semQueued) {
			break
		}
	}
	if ctx.Done() == nil {
		// Nothing can cancel this wait (context.Background,
		// WithoutCancel): it parks in the waiters' lane, as cheap as
		// sync.Cond.Wait (see waitq.List.Park), and releases mu as it
		// parks.
		parkInLane(&s.waiters, &s.mu, nil, want, &s.rec, unsafe.Pointer(s), semaphoreKind, inspect.Start())
		return nil
	}
	w := s.waiters.Waiter()
	w.N = want
	s.waiters.PushBack(w)
	// Queued with mu held: nothing can grant w before Wait parks.
	rec := s.rec.Begin(unsafe.Pointer(s), semaphoreKind)

	err := w.Wait(ctx, &s.mu, func(granted bool) bool {
		if granted {
			// Granted, but the caller gave up: pass the permits on.
			s.state.Add(want * semOne)
			s.waiters.WakeLane(s.grantLocked())
			return false
		}
		// Still queued. If it was the head, it may have been what kept
		// the waiters behind it from being served by the free permits
		// (x/sync's TestAllocCancelDoesntStarve).
		front := s.waiters.IsFront(w)
		s.waiters.Remove(w)
		if front {
			s.waiters.WakeLane(s.grantLocked()) // also clears queued if w was the last
		}
		return false
	})
	s.waiters.Recycle(w)
	s.rec.End(rec, err != nil)
	return err
}

func (s *Semaphore) release(n int, method string) {
	if n < 0 {
		panic("coord: Semaphore." + method + ": negative count")
	}
	add := int64(n)
	if add > semMaxAvail {
		panic("coord: Semaphore." + method + ": count overflows")
	}
	if !s.bounded {
		// Nothing to check against, so add blindly: one atomic operation
		// whatever the contention. If the word says someone is queued, the
		// permits may be theirs: grant them under mu. Adding while another
		// goroutine holds mu is safe because it only ever adds: grantLocked
		// may see more permits than it read, never fewer.
		now := s.state.Add(add * semOne)
		if now < 0 {
			panic("coord: Semaphore." + method + ": count overflows")
		}
		if now&semQueued != 0 {
			s.mu.Lock()
			wakes := s.grantLocked()
			s.mu.Unlock()
			s.waiters.WakeLane(wakes)
		}
		return
	}
	for {
		old := s.state.Load()
		if old&semQueued != 0 {
			break
		}
		if msg := s.checkRelease(old>>1, add); msg != "" {
			panic("coord: Semaphore." + method + ": " + msg)
		}
		if s.state.CompareAndSwap(old, old+add*semOne) {
			return
		}
	}

	s.mu.Lock()
	old := s.state.Load()
	if old&semQueued == 0 {
		// The queue emptied (its waiters gave up) since we looked: go back
		// to the lock-free path.
		s.mu.Unlock()
		s.release(n, method)
		return
	}
	// queued is set, we hold mu and the semaphore is bounded: nobody else
	// changes state now, so the check and the Add are one step.
	if msg := s.checkRelease(old>>1, add); msg != "" {
		s.mu.Unlock()
		panic("coord: Semaphore." + method + ": " + msg)
	}
	s.state.Add(add * semOne)
	wakes := s.grantLocked()
	s.mu.Unlock()
	s.waiters.WakeLane(wakes)
}

// checkRelease says what is wrong with returning add permits to avail free
// ones: passing the bound of a bounded semaphore, or overflowing the count.
func (s *Semaphore) checkRelease(avail, add int64) string {
	if s.bounded && add > s.size-avail {
		return "released more than acquired"
	}
	if add > semMaxAvail-avail {
		return "count overflows"
	}
	return ""
}

// grantLocked serves the queue from its head for as long as the free
// permits satisfy the head, and clears queued once the queue is empty. It
// stops at the first waiter it cannot serve, even if smaller requests behind
// it would fit: that is what keeps a large request from starving.
//
// s.mu is held. While the queue is not empty queued is set, so nobody else
// changes state and reading it, then adding to it, is safe.
//
// It returns the number of lane waits it granted and has not woken: the
// caller wakes them (s.waiters.WakeLane), after releasing s.mu where it can,
// so that the goroutines queueing for s.mu meanwhile do not also wait for
// the wakeups.
func (s *Semaphore) grantLocked() (wakes int) {
	for {
		n, ok := s.waiters.FrontN()
		if !ok {
			break
		}
		if s.state.Load()>>1 < n {
			return wakes
		}
		s.state.Add(-n * semOne)
		if _, wake := s.waiters.GrantFrontLater(); wake {
			wakes++
		}
	}
	// A waiter that gave up after its grant may call this with the queue
	// already empty and queued already clear (lock-free callers are then
	// running); only clear the bit if it is set, which with mu held and the
	// queue empty only this goroutine can change.
	if s.state.Load()&semQueued != 0 {
		s.state.Add(-semQueued)
	}
	return wakes
}

// Stats returns a snapshot of s: Holders is the count s was made with minus
// Available(), never below 0 (permits taken, or granted to a waiter not yet
// returned; Releases past the starting count leave it at 0), and Waiters
// the goroutines blocked in Acquire and AcquireN. See Stats.
func (s *Semaphore) Stats() Stats {
	holders := s.made - int64(s.Available())
	if holders < 0 {
		holders = 0
	}
	return statsOf(unsafe.Pointer(s), semaphoreKind, int(holders), s.rec.CountsWith(inspect.NoStart, laneTally(&s.waiters, &s.mu)))
}
