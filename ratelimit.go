package coord

import (
	"context"
	"sync"
	"time"
	"unsafe"

	"github.com/coordkit/coord/internal/inspect"
	"github.com/coordkit/coord/internal/waitq"
)

// A RateLimiter admits at most limit events in any window of time: for every
// instant t, at most limit admissions fall in the half-open interval
// [t, t+window). It is a sliding-window log, not a fixed window (which lets
// 2*limit through around a window boundary) and not a token bucket (which
// averages and so allows bursts the log forbids). It is the seed tutorial's
// RateLimitedLogger, done right.
//
// There is no useful zero value: create a RateLimiter with NewRateLimiter
// (Wait and Allow on a zero RateLimiter panic). A RateLimiter must not be
// copied after first use. It is safe for use by any number of goroutines.
// It keeps the times of the last limit admissions, so it uses memory in
// proportion to limit.
//
// Waiters are admitted in arrival order (FIFO), each at the first instant the
// log allows, not later: the admission limit places back, plus window. Only
// the longest-waiting caller, the head, sleeps on a timer; the others wait
// to become head. A caller that gives up takes no slot and, if it was the
// head, passes headship on at once, so nobody behind it is delayed by it.
// Allow refuses while anyone is queued, so it never jumps the queue.
//
// The seed's logger made two mistakes, and this type avoids both:
//
//   - It slept while holding its lock, so every other caller queued behind a
//     sleeper on a lock, where it could not even be told apart from a caller
//     that only wants to check the state. Here no lock is held while
//     sleeping: the head sleeps on a time.Timer (or its ctx) alone, and the
//     lock only guards the short bookkeeping before and after.
//   - It recorded the timestamp taken before the sleep, not the moment the
//     event was admitted, so the log said the event happened up to a window
//     earlier than it did, and the following events were let through too
//     soon: more than limit in one window. Here the head reads the clock
//     again after it wakes, under the lock, and records that instant.
type RateLimiter struct {
	_ noCopy

	mu     sync.Mutex
	limit  int
	window time.Duration
	log    []time.Time // the last len(log) <= limit admissions, a ring once full
	next   int         // index of the oldest admission once the ring is full

	// head is set while some caller sleeps as head; waiters are those
	// queued behind it, each waiting to be granted headship.
	head    bool
	waiters waitq.List[struct{}]

	rec inspect.Recorder // its waits, for Stats; see the package doc's "Seeing inside"
}

var rateLimiterKind = &inspect.Kind{Name: "RateLimiter"}

// NewRateLimiter returns a RateLimiter that admits at most limit events in
// any interval of length window. It panics if limit < 1 or window <= 0.
func NewRateLimiter(limit int, window time.Duration) *RateLimiter {
	if limit < 1 {
		panic("coord: NewRateLimiter called with limit < 1")
	}
	if window <= 0 {
		panic("coord: NewRateLimiter called with window <= 0")
	}
	return &RateLimiter{limit: limit, window: window}
}

// checkMade panics if r is a zero RateLimiter, whose limit of 0 would
// otherwise fail with an index out of range deep inside nextAllowed.
func (r *RateLimiter) checkMade(method string) {
	if r.limit == 0 {
		panic("coord: RateLimiter." + method + " on a RateLimiter not made by NewRateLimiter")
	}
}

// nextAllowed returns the earliest instant at which one more admission keeps
// the log within the limit. r.mu is held.
func (r *RateLimiter) nextAllowed() (t time.Time, free bool) {
	if len(r.log) < r.limit {
		return time.Time{}, true
	}
	// The admission limit places back leaves the window at its time plus
	// window: the interval is half-open, so that instant itself is allowed.
	return r.log[r.next].Add(r.window), false
}

// admit records an admission at now. r.mu is held.
func (r *RateLimiter) admit(now time.Time) {
	if len(r.log) < r.limit {
		r.log = append(r.log, now)
		return
	}
	r.log[r.next] = now
	r.next++
	if r.next == r.limit {
		r.next = 0
	}
}

// allowedAt reports whether an admission at now keeps within the limit.
// r.mu is held.
func (r *RateLimiter) allowedAt(now time.Time) bool {
	t, free := r.nextAllowed()
	return free || !now.Before(t)
}

// Allow reports whether an event may happen now, and if so records it. It
// returns false, recording nothing, if the limit is reached or any caller is
// waiting in Wait.
func (r *RateLimiter) Allow() bool {
	r.checkMade("Allow")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.head {
		return false
	}
	now := time.Now()
	if !r.allowedAt(now) {
		return false
	}
	r.admit(now)
	return true
}

// Wait waits until an event may happen and records it, or returns ctx.Err()
// having recorded nothing if ctx ends first. A ctx that is already done makes
// Wait return ctx.Err() at once even if the event would be allowed.
//
// Callers are admitted in the order they called Wait, each as soon as the
// window allows. If ctx ends as the caller's turn comes, cancellation wins:
// the caller returns ctx.Err() and the turn passes to the next caller.
func (r *RateLimiter) Wait(ctx context.Context) error {
	r.checkMade("Wait")
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	if !r.head {
		now := time.Now()
		if r.allowedAt(now) {
			r.admit(now)
			r.mu.Unlock()
			return nil
		}
		// Nobody is waiting: the caller becomes the head at once.
		r.head = true
		rec := r.rec.Begin(unsafe.Pointer(r), rateLimiterKind)
		r.mu.Unlock()
		err := r.sleep(ctx)
		r.rec.End(rec, err != nil)
		return err
	}
	// One wait in Stats, from queueing to admission: the wait to become
	// head and the head's sleep.
	w := r.waiters.Waiter()
	r.waiters.PushBack(w)
	rec := r.rec.Begin(unsafe.Pointer(r), rateLimiterKind)
	// Made head as the ctx ended: the headship goes to the next caller,
	// who must not wait on our account.
	err := w.Wait(ctx, &r.mu, r.waiters.HandOn(w, r.passHead))
	r.waiters.Recycle(w)
	if err == nil {
		err = r.sleep(ctx)
	}
	r.rec.End(rec, err != nil)
	return err
}

// Stats returns a snapshot of r: Holders is always 0, and Waiters the
// goroutines blocked in Wait, the head sleeping until the window allows it
// and those queued behind it. See Stats.
func (r *RateLimiter) Stats() Stats {
	return statsOf(unsafe.Pointer(r), rateLimiterKind, 0, r.rec.Counts())
}

// sleep runs the head's loop: sleep without the lock until the log allows an
// admission, then take it, unless ctx ends first.
func (r *RateLimiter) sleep(ctx context.Context) error {
	for {
		r.mu.Lock()
		if err := ctx.Err(); err != nil {
			r.passHead()
			r.mu.Unlock()
			return err
		}
		// Read the clock now, after any sleep, and record this instant: the
		// seed recorded the time read before it slept.
		now := time.Now()
		t, free := r.nextAllowed()
		if free || !now.Before(t) {
			r.admit(now)
			r.passHead()
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
		// Only the head changes the log while callers queue (Allow refuses
		// and newcomers queue behind), so t stays the instant to wake at.
		timer := time.NewTimer(t.Sub(now))
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
		}
	}
}

// passHead hands headship to the longest-waiting caller, or marks that there
// is no head. r.mu is held.
func (r *RateLimiter) passHead() {
	if w := r.waiters.PopFront(); w != nil {
		w.Grant()
		return
	}
	r.head = false
}
