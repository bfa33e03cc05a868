package coord_test

// The contract of the package documentation, bullet by bullet: each test
// below quotes the promise it checks, and fails if that promise is broken. Tests
// that wait run in testing/synctest bubbles, so they are fast, cannot hang on
// the clock, and double as goroutine-leak checks (a bubble whose goroutines
// are still blocked at its end fails the test).

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// ---------------------------------------------------------------------------
// Rules for every wait.

// Rule 2: "A call whose ctx is already done returns ctx.Err() and changes
// nothing, whatever the state: also where it could have succeeded without
// waiting (a free Mutex, a set Event, AcquireN(ctx, 0), a true WaitFor
// predicate, a re-entry, an empty Join, the last party of a Barrier)."
func TestRule2_DoneCtxChangesNothing(t *testing.T) {
	ctx := doneCtx()
	bg := context.Background()

	t.Run("Mutex.Lock on a free Mutex", func(t *testing.T) {
		var m coord.Mutex
		isCtxErr(t, "Lock", m.Lock(ctx), context.Canceled)
		if m.Locked() {
			t.Fatal("a Lock with a done ctx locked the Mutex")
		}
		isCtxErr(t, "Lock(expired ctx)", m.Lock(expiredCtx()), context.DeadlineExceeded)
		if m.Locked() {
			t.Fatal("a Lock with an expired ctx locked the Mutex")
		}
	})
	t.Run("ReentrantMutex.Lock free and re-entry", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var r coord.ReentrantMutex
			c2, err := r.Lock(ctx)
			isCtxErr(t, "Lock on a free mutex", err, context.Canceled)
			if c2 != ctx {
				t.Fatal("a failed Lock returned another ctx than the one it was given")
			}
			if r.Held(c2) {
				t.Fatal("a Lock with a done ctx took the mutex")
			}
			owner, err := r.Lock(bg)
			if err != nil {
				t.Fatal(err)
			}
			dctx, cancel := context.WithCancel(owner)
			cancel()
			c3, err := r.Lock(dctx)
			isCtxErr(t, "re-entry with a done ctx", err, context.Canceled)
			if c3 != dctx {
				t.Fatal("a failed re-entry returned another ctx than the one it was given")
			}
			// The failed re-entry must not have deepened the hold: one Unlock
			// frees r.
			r.Unlock(owner)
			if r.Held(owner) {
				t.Fatal("a failed re-entry deepened the hold: Held after one Unlock")
			}
			if lockedBy(t, &r) {
				t.Fatal("a failed re-entry deepened the hold: one Unlock did not free the mutex")
			}
			if _, err := r.Lock(bg); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("Event.Wait on a set Event", func(t *testing.T) {
		var e coord.Event
		e.Set()
		isCtxErr(t, "Wait", e.Wait(ctx), context.Canceled)
		if !e.IsSet() {
			t.Fatal("Wait changed the Event")
		}
	})
	t.Run("Cond.Wait", func(t *testing.T) {
		var m coord.Mutex
		c := coord.NewCond(&m)
		if err := c.Lock(bg); err != nil {
			t.Fatal(err)
		}
		isCtxErr(t, "Wait", c.Wait(ctx), context.Canceled)
		if !m.Locked() {
			t.Fatal("Wait(done ctx) released the lock")
		}
		// The lock is still held by the caller, and no waiter was left
		// queued to swallow a later notification: a Notify(1) must reach
		// the next real waiter.
		c.Notify(1) // panics if the lock was released
		c.Unlock()
	})
	t.Run("Cond.WaitFor with a true predicate", func(t *testing.T) {
		var m coord.Mutex
		c := coord.NewCond(&m)
		if err := c.Lock(bg); err != nil {
			t.Fatal(err)
		}
		defer c.Unlock()
		called := false
		isCtxErr(t, "WaitFor", c.WaitFor(ctx, func() bool { called = true; return true }), context.Canceled)
		if called || !m.Locked() {
			t.Fatalf("WaitFor(done ctx) called pred: %v, lock held: %v; want false, true", called, m.Locked())
		}
	})
	t.Run("Semaphore.AcquireN(ctx, 0) and free permits", func(t *testing.T) {
		s := coord.NewSemaphore(2)
		isCtxErr(t, "AcquireN(ctx, 0)", s.AcquireN(ctx, 0), context.Canceled)
		isCtxErr(t, "Acquire", s.Acquire(ctx), context.Canceled)
		isCtxErr(t, "AcquireN(ctx, 2)", s.AcquireN(ctx, 2), context.Canceled)
		wantAvailable(t, s, 2) // after the done-ctx acquires
	})
	t.Run("Semaphore.AcquireN over capacity", func(t *testing.T) {
		s := coord.NewBoundedSemaphore(1)
		isCtxErr(t, "AcquireN(ctx, 5)", s.AcquireN(ctx, 5), context.Canceled)
	})
	t.Run("Barrier.Wait of the last party", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// Also on an empty barrier, and (below) on a broken one.
			b := coord.NewBarrier(2)
			if i, err := b.Wait(ctx); i != -1 || err != context.Canceled {
				t.Fatalf("Wait(done) on an empty barrier = %d, %v; want -1, context.Canceled", i, err)
			}
			first := goResult(func() int {
				i, _ := b.Wait(bg)
				return i
			})
			synctest.Wait()
			i, err := b.Wait(ctx)
			isCtxErr(t, "Wait", err, context.Canceled)
			if i != -1 {
				t.Fatalf("index %d with an error; want -1", i)
			}
			if b.Waiting() != 1 || b.Broken() {
				t.Fatalf("Waiting = %d, Broken = %v; want 1, false: the done call changed the round", b.Waiting(), b.Broken())
			}
			if i, err := b.Wait(bg); err != nil || i != 1 {
				t.Fatalf("second party: %d, %v; want 1, nil", i, err)
			}
			if i := <-first; i != 0 {
				t.Fatalf("first party got %d; want 0", i)
			}
			b.Abort()
			if i, err := b.Wait(ctx); i != -1 || err != context.Canceled {
				t.Fatalf("Wait(done) on a broken barrier = %d, %v; want -1, context.Canceled", i, err)
			}
			if _, err := b.Wait(expiredCtx()); err != context.DeadlineExceeded {
				t.Fatalf("Wait(expired) = %v, want DeadlineExceeded unwrapped", err)
			}
		})
	})
	t.Run("RateLimiter.Wait with room", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := coord.NewRateLimiter(1, time.Second)
			isCtxErr(t, "Wait", r.Wait(ctx), context.Canceled)
			if !r.Allow() {
				t.Fatal("a done-ctx Wait took the slot")
			}
		})
	})
	t.Run("Queue.Put with room, Get with an item, empty Join", func(t *testing.T) {
		for _, maxsize := range []int{1, 0} { // bounded with room, and unbounded
			q := coord.NewQueue[int](maxsize)
			isCtxErr(t, "Join on an empty queue", q.Join(ctx), context.Canceled)
			isCtxErr(t, "Put", q.Put(ctx, 1), context.Canceled)
			if q.Len() != 0 {
				t.Fatal("a done-ctx Put put its item")
			}
			q.TryPut(2)
			_, err := q.Get(ctx)
			isCtxErr(t, "Get", err, context.Canceled)
			if q.Len() != 1 {
				t.Fatal("a done-ctx Get took the item")
			}
			isCtxErr(t, "Join with a task unfinished", q.Join(ctx), context.Canceled)
			q.TryGet()
			q.TaskDone()
			isCtxErr(t, "Join with nothing unfinished", q.Join(ctx), context.Canceled)
			q.Shutdown(false)
			isCtxErr(t, "Put after Shutdown", q.Put(ctx, 3), context.Canceled)
		}
	})
}

// Rule 1: "When the wait is given up it returns ctx.Err() itself (not
// wrapped), and has taken nothing." Every waiting call, cancelled with a
// cause while it waits, and timed out.
func TestRule1_GivenUpWaitReturnsCtxErrItself(t *testing.T) {
	type setup func(t *testing.T) (wait func(ctx context.Context) error, check func(t *testing.T))
	cases := map[string]setup{
		"Mutex.Lock": func(t *testing.T) (func(context.Context) error, func(*testing.T)) {
			m := new(coord.Mutex)
			m.Lock(context.Background())
			return m.Lock, func(t *testing.T) {
				m.Unlock()
				mutexFree(t, m, "after the holder's Unlock: a cancelled Lock holds it")
			}
		},
		"ReentrantMutex.Lock": func(t *testing.T) (func(context.Context) error, func(*testing.T)) {
			r := new(coord.ReentrantMutex)
			owner, _ := r.Lock(context.Background())
			return func(ctx context.Context) error {
					_, err := r.Lock(ctx)
					return err
				}, func(t *testing.T) {
					r.Unlock(owner)
					if lockedBy(t, r) {
						t.Fatal("a cancelled Lock holds the ReentrantMutex")
					}
				}
		},
		"Event.Wait": func(t *testing.T) (func(context.Context) error, func(*testing.T)) {
			e := new(coord.Event)
			return e.Wait, func(*testing.T) {}
		},
		"Cond.Wait": func(t *testing.T) (func(context.Context) error, func(*testing.T)) {
			c := new(coord.Cond)
			return func(ctx context.Context) error {
					c.Lock(context.Background())
					defer c.Unlock()
					return c.Wait(ctx)
				}, func(t *testing.T) {
					if c.Lock(context.Background()) != nil {
						t.Fatal("lock not free")
					}
					c.Unlock()
				}
		},
		"Cond.WaitFor": func(t *testing.T) (func(context.Context) error, func(*testing.T)) {
			c := new(coord.Cond)
			return func(ctx context.Context) error {
				c.Lock(context.Background())
				defer c.Unlock()
				return c.WaitFor(ctx, func() bool { return false })
			}, func(*testing.T) {}
		},
		"Semaphore.AcquireN": func(t *testing.T) (func(context.Context) error, func(*testing.T)) {
			s := coord.NewSemaphore(1)
			return func(ctx context.Context) error { return s.AcquireN(ctx, 2) }, func(t *testing.T) {
				if s.Available() != 1 || !s.TryAcquire() {
					t.Fatalf("Available = %d; want 1, free to take", s.Available())
				}
			}
		},
		"Barrier.Wait": func(t *testing.T) (func(context.Context) error, func(*testing.T)) {
			b := coord.NewBarrier(2)
			return func(ctx context.Context) error {
					i, err := b.Wait(ctx)
					if i != -1 {
						return fmt.Errorf("index %d with error %v", i, err)
					}
					return err
				}, func(t *testing.T) {
					barrierIdle(t, b, "after the given-up Wait")
				}
		},
		"RateLimiter.Wait": func(t *testing.T) (func(context.Context) error, func(*testing.T)) {
			r := coord.NewRateLimiter(1, time.Hour)
			r.Allow()
			return r.Wait, func(t *testing.T) {
				time.Sleep(time.Hour)
				if !r.Allow() {
					t.Fatal("a cancelled Wait took a slot")
				}
			}
		},
		"Queue.Put": func(t *testing.T) (func(context.Context) error, func(*testing.T)) {
			q := coord.NewQueue[int](1)
			q.TryPut(1)
			return func(ctx context.Context) error { return q.Put(ctx, 2) }, func(t *testing.T) {
				if q.Len() != 1 {
					t.Fatalf("Len = %d; want 1", q.Len())
				}
			}
		},
		"Queue.Get": func(t *testing.T) (func(context.Context) error, func(*testing.T)) {
			q := coord.NewQueue[int](0)
			return func(ctx context.Context) error {
					_, err := q.Get(ctx)
					return err
				}, func(t *testing.T) {
					q.TryPut(7)
					if v, ok := q.TryGet(); !ok || v != 7 {
						t.Fatalf("TryGet = %v, %v; a cancelled Get is still served", v, ok)
					}
				}
		},
		"Queue.Join": func(t *testing.T) (func(context.Context) error, func(*testing.T)) {
			q := coord.NewQueue[int](0)
			q.TryPut(1)
			return q.Join, func(*testing.T) {}
		},
	}
	for name, mk := range cases {
		t.Run(name+"/cancel", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				wait, check := mk(t)
				cancelWhileBlocked(t, name, wait)
				check(t)
			})
		})
		t.Run(name+"/deadline", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				wait, check := mk(t)
				timesOutAfter(t, name, time.Second, wait)
				check(t)
			})
		})
	}
}

// rule3Setup makes a primitive on which waiters A and B will queue, in that
// order; wait is their call, grant gives one waiter what it waits for, and
// after checks that nothing was lost or doubled.
type rule3Setup func() (wait func(ctx context.Context) error, grant func(), after func(t *testing.T))

// rule3Cases are the primitives whose waits are handed one thing at a time.
// The RateLimiter, whose grant is made by its sleeping head, has tests of its
// own below.
func rule3Cases() map[string]rule3Setup {
	bg := context.Background()
	return map[string]rule3Setup{
		"Mutex": func() (func(context.Context) error, func(), func(*testing.T)) {
			m := new(coord.Mutex)
			m.Lock(bg)
			return func(ctx context.Context) error {
					if err := m.Lock(ctx); err != nil {
						return err
					}
					m.Unlock()
					return nil
				}, m.Unlock, func(t *testing.T) {
					mutexFree(t, m, "at the end")
				}
		},
		"ReentrantMutex": func() (func(context.Context) error, func(), func(*testing.T)) {
			r := new(coord.ReentrantMutex)
			owner, _ := r.Lock(bg)
			return func(ctx context.Context) error {
					c, err := r.Lock(ctx)
					if err != nil {
						return err
					}
					r.Unlock(c)
					return nil
				}, func() { r.Unlock(owner) }, func(t *testing.T) {
					if lockedBy(t, r) {
						t.Fatal("mutex left locked")
					}
				}
		},
		"Semaphore": func() (func(context.Context) error, func(), func(*testing.T)) {
			s := coord.NewBoundedSemaphore(1)
			s.Acquire(bg)
			return func(ctx context.Context) error {
					if err := s.Acquire(ctx); err != nil {
						return err
					}
					s.Release()
					return nil
				}, s.Release, func(t *testing.T) {
					wantAvailable(t, s, 1)
				}
		},
		"Cond": func() (func(context.Context) error, func(), func(*testing.T)) {
			c := new(coord.Cond)
			return func(ctx context.Context) error {
					c.Lock(bg)
					defer c.Unlock()
					return c.Wait(ctx)
				}, func() {
					c.Lock(bg)
					c.Notify(1)
					c.Unlock()
				}, func(*testing.T) {}
		},
		"Queue.Get": func() (func(context.Context) error, func(), func(*testing.T)) {
			q := coord.NewQueue[int](0)
			return func(ctx context.Context) error {
					v, err := q.Get(ctx)
					if err == nil && v != 42 {
						return fmt.Errorf("got %d", v)
					}
					return err
				}, func() { q.TryPut(42) }, func(t *testing.T) {
					if q.Len() != 0 {
						t.Fatalf("Len = %d; the item was doubled", q.Len())
					}
				}
		},
	}
}

// testRule3 parks waiter A then waiter B on each primitive of rule3Cases,
// then cancels A and grants, in the order given, before A can run: A must
// fail with ctx.Err() and B must get what was granted.
func testRule3(t *testing.T, grantFirst bool) {
	bg := context.Background()
	for name, mk := range rule3Cases() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				wait, grant, after := mk()
				ctxA, cancelA := context.WithCancel(bg)
				a := goParked(func() error { return wait(ctxA) })
				b := goParked(func() error { return wait(bg) })
				if grantFirst {
					grant()
					cancelA()
				} else {
					cancelA()
					grant()
				}
				isCtxErr(t, "A", resultNow(t, "A", a), context.Canceled)
				if err := resultNow(t, "B", b); err != nil {
					t.Fatalf("B = %v; want nil (A's grant handed on)", err)
				}
				after(t)
			})
		})
	}
}

// Rule 3: "a cancel that happens before the grant always fails the call ...
// and passes what it was given on to the next waiter."
func TestRule3_CancelBeforeGrantFailsAndHandsOn(t *testing.T) {
	testRule3(t, false)
}

// Rule 3: "cancellation wins whenever the waiter sees it: a waiter that finds
// its ctx done when it wakes returns ctx.Err() and hands on what it was
// granted." Here the grant comes first and the cancel second, both before A
// runs: A is woken by the grant and finds its ctx done.
//
// The test runs with GOMAXPROCS=1 so that "before A runs" is certain: the
// grant makes A runnable but the granting goroutine keeps the only P until
// it blocks, after the cancel. (With more Ps, A may run in between and
// legitimately keep its grant; the test would then prove nothing.)
func TestRule3_CancelSeenAtWakeupFailsAndHandsOn(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	testRule3(t, true)
}

// Rule 3 for the RateLimiter, whose grants are made by the sleeping head:
// "one that gives up takes no slot", and a waiter made head as its ctx ends
// passes headship on, so the next is admitted when the window allows. The
// head H cancels A right after its own admission has made A head, before A
// runs (GOMAXPROCS=1, as above); and in the other order, A is cancelled just
// before H's admission.
func TestRule3_RateLimiterCancelAtHandoffHandsOn(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, before := range []bool{false, true} {
		t.Run(fmt.Sprint("cancelBeforeGrant=", before), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				bg := context.Background()
				start := time.Now()
				r := coord.NewRateLimiter(1, time.Second)
				r.Allow()
				ctxA, cancelA := context.WithCancel(bg)
				if before {
					go func() {
						time.Sleep(time.Second - 1)
						cancelA()
					}()
				}
				h := goResult(func() error {
					err := r.Wait(bg) // head until 1 s
					cancelA()
					return err
				})
				synctest.Wait()
				a := goParked(func() error { return r.Wait(ctxA) })
				var bAt time.Duration
				b := goResult(func() error {
					err := r.Wait(bg)
					bAt = time.Since(start)
					return err
				})
				time.Sleep(3 * time.Second)
				if err := resultNow(t, "H", h); err != nil {
					t.Fatal(err)
				}
				isCtxErr(t, "A", resultNow(t, "A", a), context.Canceled)
				if err := resultNow(t, "B", b); err != nil {
					t.Fatal(err)
				}
				if bAt != 2*time.Second {
					t.Fatalf("B admitted at %v; want 2s (A took no slot, delayed nobody)", bAt)
				}
			})
		})
	}
}

// Rule 3 (the other side): "A tripped Barrier round and a set Event are not
// handed on: a waiter they release may return nil." And the call "either
// returns nil having taken what it waited for, or returns the ctx error":
// never a third outcome.
func TestRule3_BroadcastReleaseNeverLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e coord.Event
		ctx, cancel := context.WithCancel(context.Background())
		a := goResult(func() error { return e.Wait(ctx) })
		b := goParked(func() error { return e.Wait(context.Background()) })
		e.Set()
		cancel()
		if err := resultNow(t, "A", a); err != nil && err != context.Canceled {
			t.Fatalf("A = %v", err)
		}
		if err := resultNow(t, "B", b); err != nil {
			t.Fatalf("B = %v", err)
		}
	})
}

// Rule 6: "Misuse that is a programming error (unlock what is not held,
// negative counts, release past a bound) panics with a message that begins
// coord: and names the call." Every misuse the package documentation lists.
func TestRule6_MisusePanicsNamingTheCall(t *testing.T) {
	bg := context.Background()
	var m coord.Mutex
	mustPanic(t, "Mutex.Unlock", m.Unlock)
	var r coord.ReentrantMutex
	mustPanic(t, "ReentrantMutex.Unlock with a context that does not own", func() { r.Unlock(bg) })
	owner, _ := r.Lock(bg)
	mustPanic(t, "ReentrantMutex.Unlock", func() { r.Unlock(bg) })
	r.Unlock(owner)
	mustPanic(t, "ReentrantMutex.Unlock", func() { r.Unlock(owner) }) // a stale owner

	mustPanic(t, "NewSemaphore: negative", func() { coord.NewSemaphore(-1) })
	mustPanic(t, "NewBoundedSemaphore: negative", func() { coord.NewBoundedSemaphore(-1) })
	// Negative weights, on an unbounded and on a bounded semaphore (x/sync's
	// TestWeightedNegativeWeightPanic); a done ctx does not hide the misuse.
	for _, s := range []*coord.Semaphore{coord.NewSemaphore(1), coord.NewBoundedSemaphore(1)} {
		mustPanic(t, "Semaphore.AcquireN: negative", func() { s.AcquireN(bg, -1) })
		mustPanic(t, "Semaphore.AcquireN: negative", func() { s.AcquireN(doneCtx(), -1) })
		mustPanic(t, "Semaphore.TryAcquireN: negative", func() { s.TryAcquireN(-1) })
		mustPanic(t, "Semaphore.ReleaseN: negative", func() { s.ReleaseN(-1) })
		wantAvailable(t, s, 1) // a refused call changed nothing
	}
	s := coord.NewBoundedSemaphore(1)
	mustPanic(t, "Release", s.Release)
	mustPanic(t, "ReleaseN", func() { s.ReleaseN(1) })
	wantAvailable(t, s, 1) // a panicking Release changed nothing

	mustPanic(t, "NewBarrier", func() { coord.NewBarrier(0) })
	mustPanic(t, "NewBarrier", func() { coord.NewBarrier(-3) })
	mustPanic(t, "NewRateLimiter", func() { coord.NewRateLimiter(0, time.Second) })
	mustPanic(t, "NewRateLimiter", func() { coord.NewRateLimiter(1, 0) })
	mustPanic(t, "NewRateLimiter", func() { coord.NewRateLimiter(1, -time.Second) })
	mustPanic(t, "NewCond", func() { coord.NewCond(nil) })
	// Barrier and RateLimiter have no useful zero value; using one is the
	// missing-constructor mistake, and must say so rather than block
	// forever (Barrier) or fail with an index out of range (RateLimiter).
	var zb coord.Barrier
	mustPanic(t, "Barrier.Wait", func() { zb.Wait(bg) })
	var zr coord.RateLimiter
	mustPanic(t, "RateLimiter.Wait", func() { zr.Wait(bg) })
	mustPanic(t, "RateLimiter.Allow", func() { zr.Allow() })

	// CPython's test_wait_unacquired, test_notify_unacquired and
	// test_notify_all_unacquired, on a zero Cond and on one over a Mutex.
	var c coord.Cond
	mustPanic(t, "Cond.Wait", func() { c.Wait(bg) })
	mustPanic(t, "Cond.Notify", func() { c.Notify(1) })
	mustPanic(t, "Cond.NotifyAll", c.NotifyAll)
	// WaitFor panics through Wait; a pred true at once returns without the
	// lock check, as CPython's test_wait_for_unacquired wants.
	if err := c.WaitFor(bg, func() bool { return true }); err != nil {
		t.Fatalf("WaitFor(true) without the lock = %v; want nil", err)
	}
	mustPanic(t, "Cond.Wait", func() { c.WaitFor(bg, func() bool { return false }) })
	c2 := coord.NewCond(new(coord.Mutex))
	mustPanic(t, "Cond.Wait", func() { c2.Wait(bg) })
	mustPanic(t, "Cond.Notify", func() { c2.Notify(1) })
	mustPanic(t, "Cond.Notify", func() { c2.Notify(3) })
	mustPanic(t, "Cond.NotifyAll", c2.NotifyAll)

	// asyncio test_taskgroup_no_create_task_after_failure /
	// test_taskgroup_finished.
	g, _ := coord.NewTaskGroup(bg)
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	mustPanic(t, "TaskGroup.Go", func() { g.Go(func(context.Context) error { return nil }) })

	q := coord.NewQueue[int](0)
	mustPanic(t, "Queue.TaskDone", q.TaskDone)
	q.TryPut(1)
	q.TryPut(2)
	q.TryGet()
	q.TaskDone()
	q.Shutdown(true) // drops 2, counted as done
	mustPanic(t, "Queue.TaskDone", q.TaskDone)
}

// ---------------------------------------------------------------------------
// Zero values: rule 5 and every type whose doc declares one.

func TestZeroValues_AreUsable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bg := context.Background()
		var m coord.Mutex // "zero value: unlocked"
		mutexFree(t, &m, "as the zero value")

		var r coord.ReentrantMutex
		c, err := r.Lock(bg)
		if err != nil || !r.Held(c) {
			t.Fatalf("zero ReentrantMutex: %v, Held = %v", err, r.Held(c))
		}
		r.Unlock(c)

		var e coord.Event // "zero value: not set"
		if e.IsSet() {
			t.Fatal("zero Event is set")
		}
		if isReady(e.Done()) {
			t.Fatal("zero Event's Done is closed")
		}

		var cond coord.Cond // "the zero Cond uses a Mutex of its own"
		cond.Lock(bg)
		w := goResult(func() error {
			cond.Lock(bg)
			defer cond.Unlock()
			return cond.Wait(bg)
		})
		cond.Unlock()
		synctest.Wait()
		cond.Lock(bg)
		cond.Notify(1)
		cond.Unlock()
		if err := resultNow(t, "zero Cond Wait", w); err != nil {
			t.Fatal(err)
		}

		var q coord.Queue[string] // unbounded
		for i := range 100 {
			if !q.TryPut(fmt.Sprint(i)) {
				t.Fatalf("zero Queue refused item %d", i)
			}
		}
		if q.Len() != 100 {
			t.Fatalf("Len = %d", q.Len())
		}

		var g coord.TaskGroup // works, with a background parent
		var n atomic.Int32
		for range 10 {
			g.Go(func(ctx context.Context) error { n.Add(1); return nil })
		}
		if err := g.Wait(); err != nil || n.Load() != 10 {
			t.Fatalf("Wait = %v with %d tasks run", err, n.Load())
		}
	})
}

// ---------------------------------------------------------------------------
// Mutex.

// "Lock returns nil when the caller holds the mutex, or the ctx error when it
// gave up; never both: a caller that got an error does not hold it." Hammered
// with deadlines that race the handoffs: a caller that got an error and
// unlocked anyway would panic or break exclusion.
func TestMutex_ErrorMeansNotHeld(t *testing.T) {
	var m coord.Mutex
	var inside int
	var wg sync.WaitGroup
	stop := time.Now().Add(200 * time.Millisecond)
	for g := range 8 {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration((g+i)%5)*time.Microsecond)
				err := m.Lock(ctx)
				cancel()
				if err != nil {
					if err != context.DeadlineExceeded {
						t.Errorf("Lock = %v", err)
						return
					}
					continue
				}
				inside++
				if inside != 1 {
					t.Errorf("%d holders at once", inside)
				}
				inside--
				m.Unlock()
			}
		})
	}
	wg.Wait()
	if m.Locked() {
		t.Fatal("Mutex left locked")
	}
}

// ---------------------------------------------------------------------------
// Barrier.

// ---------------------------------------------------------------------------
// RateLimiter.

// ---------------------------------------------------------------------------
// Queue.

// "FIFO; Put blocks while full, Get while empty; blocked callers of each are
// served in arrival order; both cancellable, and a cancelled Get loses no
// item."
func TestQueue_FIFOBlockedCallersInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[int](1)
		bg := context.Background()
		q.Put(bg, 0)
		var puts []<-chan error
		for i := 1; i <= 3; i++ {
			puts = append(puts, goParked(func() error { return q.Put(bg, i) }))
		}
		for i := range 4 {
			v, err := q.Get(bg)
			if err != nil || v != i {
				t.Fatalf("Get = %d, %v; want %d", v, err, i)
			}
		}
		for _, ch := range puts {
			if err := resultNow(t, "Put", ch); err != nil {
				t.Fatal(err)
			}
		}
		got := make(chan int, 3)
		var gets []<-chan error
		for range 3 {
			gets = append(gets, goResult(func() error {
				v, err := q.Get(bg)
				got <- v
				return err
			}))
			synctest.Wait()
		}
		for i := range 3 {
			q.Put(bg, 10+i)
			synctest.Wait()
			if v := <-got; v != 10+i {
				t.Fatalf("Get got %d; want %d", v, 10+i)
			}
		}
		for _, ch := range gets {
			resultNow(t, "Get", ch)
		}
	})
}

// "After Shutdown, Put (blocked or new) fails with ErrQueueShutDown; Get
// drains what is left and then fails with ErrQueueShutDown, and a Get blocked
// on an empty queue is woken with that error at once, in either mode."
// "TryPut after Shutdown returns false."
func TestQueue_ShutdownDrainsThenFails(t *testing.T) {
	for _, immediate := range []bool{false, true} {
		t.Run(fmt.Sprint("immediate=", immediate), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				bg := context.Background()
				empty := coord.NewQueue[int](0)
				g := goParked(func() error { _, err := empty.Get(bg); return err })
				empty.Shutdown(immediate)
				if err := resultNow(t, "blocked Get", g); err != coord.ErrQueueShutDown {
					t.Fatalf("blocked Get = %v", err)
				}

				q := coord.NewQueue[int](2)
				q.Put(bg, 1)
				q.Put(bg, 2)
				p := goParked(func() error { return q.Put(bg, 3) })
				q.Shutdown(immediate)
				if err := resultNow(t, "blocked Put", p); err != coord.ErrQueueShutDown {
					t.Fatalf("blocked Put = %v", err)
				}
				if err := q.Put(bg, 4); err != coord.ErrQueueShutDown {
					t.Fatalf("new Put = %v", err)
				}
				if q.TryPut(5) {
					t.Fatal("TryPut after Shutdown = true")
				}
				if !immediate {
					for want := 1; want <= 2; want++ {
						if v, err := q.Get(bg); err != nil || v != want {
							t.Fatalf("drain Get = %d, %v", v, err)
						}
					}
				} else if q.Len() != 0 {
					t.Fatalf("Len after Shutdown(true) = %d", q.Len())
				}
				if _, err := q.Get(bg); err != coord.ErrQueueShutDown {
					t.Fatalf("Get on drained queue = %v", err)
				}
			})
		})
	}
}

// ---------------------------------------------------------------------------
// Stress: cancellation racing handoff, counts conserved.

// Mutex: "A waiter whose ctx is cancelled at the moment the mutex is handed
// to it loses no wakeup" and "No waiter starves". Bargers (TryLock), holders
// that sometimes keep the mutex past the 1 ms bound (so that Unlock hands it
// over directly) and waiters with deadlines of the same order race; every
// goroutine must finish (a lost wakeup leaves one parked forever), exclusion
// must hold, and the mutex must end free.
func TestMutex_StressHandoffModesWithCancel(t *testing.T) {
	noGoroutineLeak(t)
	var m coord.Mutex
	var holders, got, gaveUp atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(300 * time.Millisecond)
	hold := func(i int) {
		if holders.Add(1) != 1 {
			t.Error("two holders at once")
		}
		got.Add(1)
		if i%50 == 0 {
			time.Sleep(1500 * time.Microsecond) // past the barging bound
		}
		holders.Add(-1)
		m.Unlock()
	}
	for g := range 16 {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				if g%4 == 0 {
					if m.TryLock() {
						hold(i)
					}
					runtime.Gosched()
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*300*time.Microsecond)
				if i%3 == 0 {
					go cancel()
				}
				if waitSucceeded(t, "Lock", ctx, m.Lock(ctx)) {
					hold(i)
				} else {
					gaveUp.Add(1)
				}
				cancel()
			}
		})
	}
	if !returnsWithin(10*time.Second, wg.Wait) {
		t.Fatal("goroutines stuck in Lock: a wakeup was lost")
	}
	if got.Load() == 0 || gaveUp.Load() == 0 {
		t.Fatalf("got %d, gave up %d: both outcomes must occur", got.Load(), gaveUp.Load())
	}
	mutexFree(t, &m, "at the end")
}

// Semaphore: "A waiter that gives up returns its claim ... no permit is lost
// or duplicated", on an unbounded semaphore whose Release takes the
// lock-free Add path while waiters queue, with TryAcquireN callers and
// weighted waiters cancelled at random. Every permit taken is given back,
// so the count must end where it started, and nobody may be left parked.
func TestSemaphore_StressUnboundedConservation(t *testing.T) {
	noGoroutineLeak(t)
	const start = 4
	s := coord.NewSemaphore(start)
	var out atomic.Int64 // permits held now
	var wg sync.WaitGroup
	stop := time.Now().Add(300 * time.Millisecond)
	for g := range 12 {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				n := 1 + (g+i)%3
				if g%3 == 0 {
					if s.TryAcquireN(n) {
						out.Add(int64(n))
						out.Add(-int64(n))
						s.ReleaseN(n)
					}
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%5)*100*time.Microsecond)
				if i%4 == 0 {
					go cancel()
				}
				if waitSucceeded(t, "AcquireN", ctx, s.AcquireN(ctx, n)) {
					out.Add(int64(n))
					runtime.Gosched()
					out.Add(-int64(n))
					// Release one at a time, so that grants to queued
					// waiters happen from partial releases too.
					for range n {
						s.Release()
					}
				}
				cancel()
			}
		})
	}
	if !returnsWithin(10*time.Second, wg.Wait) {
		t.Fatal("goroutines stuck in AcquireN: permits were lost")
	}
	wantAvailable(t, s, start) // at the end
}
