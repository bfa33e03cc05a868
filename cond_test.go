package coord_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// The Cond tests follow CPython's Lib/test/test_asyncio/test_locks.py
// ConditionTests: synctest.Wait stands in for asyncio.sleep(0), goroutines
// for tasks, cancelling a ctx for task.cancel().

// condWaiters starts one goroutine per tag that locks c, waits once, records
// its tag if Wait returned nil, and unlocks; each is parked before the next
// starts, so they queue in tag order.
func condWaiters(t *testing.T, c *coord.Cond, wg *sync.WaitGroup, mu *sync.Mutex, result *[]int, tags ...int) {
	t.Helper()
	for _, tag := range tags {
		wg.Go(func() {
			if err := c.Lock(context.Background()); err != nil {
				t.Error(err)
				return
			}
			if err := c.Wait(context.Background()); err != nil {
				t.Errorf("waiter %d: %v", tag, err)
			} else {
				mu.Lock()
				*result = append(*result, tag)
				mu.Unlock()
			}
			c.Unlock()
		})
		synctest.Wait()
	}
}

func lockedCond(t *testing.T, c *coord.Cond) {
	t.Helper()
	if err := c.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// condWait returns a call that locks c, waits on it with ctx, checks that
// Wait returned with the lock held (m is c's Mutex), unlocks, and returns
// what Wait returned.
func condWait(t *testing.T, c *coord.Cond, m *coord.Mutex, ctx context.Context) func() error {
	return func() error {
		lockedCond(t, c)
		err := c.Wait(ctx)
		if !m.Locked() {
			t.Error("Wait returned without the lock")
		}
		c.Unlock()
		return err
	}
}

// test_wait: a notified waiter returns only once it has the lock back.
func TestCondWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		c := coord.NewCond(&m)
		var mu sync.Mutex
		var result []int
		var wg sync.WaitGroup
		condWaiters(t, c, &wg, &mu, &result, 1, 2, 3)
		if len(result) != 0 || m.Locked() {
			t.Fatalf("result %v, locked %v; want [], false", result, m.Locked())
		}
		lockedCond(t, c)
		c.Notify(1)
		synctest.Wait()
		if len(result) != 0 {
			t.Fatalf("a waiter returned %v while the notifier held the lock", result)
		}
		c.Unlock()
		synctest.Wait()
		if !slices.Equal(result, []int{1}) {
			t.Fatalf("result %v, want [1]", result)
		}
		lockedCond(t, c)
		c.Notify(2)
		c.Unlock()
		synctest.Wait()
		// Waiters notified together then race for the lock: in any order.
		slices.Sort(result[1:])
		if !slices.Equal(result, []int{1, 2, 3}) {
			t.Fatalf("result %v, want [1 2 3]", result)
		}
		wg.Wait()
		if m.Locked() {
			t.Fatal("lock held at the end")
		}
	})
}

// test_wait_cancel: a cancelled Wait returns ctx.Err() with the lock held
// and leaves no waiter behind to absorb a later Notify.
func TestCondWaitCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		c := coord.NewCond(&m)
		ctx, cancel := context.WithCancel(context.Background())
		errc := goParked(condWait(t, c, &m, ctx))
		if m.Locked() {
			t.Fatal("Wait did not release the lock while waiting")
		}
		cancel()
		isCtxErr(t, "Wait", <-errc, context.Canceled)
		// The cancelled waiter is gone: a Notify(1) reaches the next one.
		var mu sync.Mutex
		var result []int
		var wg sync.WaitGroup
		condWaiters(t, c, &wg, &mu, &result, 7)
		lockedCond(t, c)
		c.Notify(1)
		c.Unlock()
		wg.Wait()
		if !slices.Equal(result, []int{7}) {
			t.Fatalf("result %v, want [7]", result)
		}
	})
}

// "Wait releases the lock, waits for a notification, and always re-acquires
// the lock before it returns, also when ctx is done (it then returns the ctx
// error, lock held)." A Wait cancelled while another goroutine holds the lock
// returns only once it has the lock back.
func TestCondWaitCancelReacquires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		c := coord.NewCond(&m)
		ctx, cancel := context.WithCancel(context.Background())
		w := goParked(condWait(t, c, &m, ctx))
		if m.Locked() {
			t.Fatal("Wait did not release the lock")
		}
		lockedCond(t, c)
		cancel()
		stillBlocked(t, "Wait (cancelled, lock taken by another)", w)
		c.Unlock()
		isCtxErr(t, "Wait", resultNow(t, "Wait", w), context.Canceled)
	})
}

// test_wait_cancel_contested: notified, then cancelled while the notifier
// still holds the lock. Either outcome is allowed; the lock is held on
// return either way, and the notification is not lost: "A notification is
// never lost: a waiter that gives up (ctx done) after it was picked by
// Notify either returns nil (it took the notification) or hands it on to
// another waiter."
func TestCondWaitCancelContested(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		c := coord.NewCond(&m)
		bg := context.Background()
		ctxA, cancelA := context.WithCancel(bg)
		a := goParked(condWait(t, c, &m, ctxA))
		b := goParked(condWait(t, c, &m, bg))
		lockedCond(t, c) // A and B are parked; hold the lock so A cannot run on
		c.Notify(1)
		cancelA() // after the pick, before A has the lock back
		c.Unlock()
		errA := resultNow(t, "A", a)
		if errA == nil {
			// A took the notification; B must still be waiting.
			stillBlocked(t, "B", b)
			lockedCond(t, c)
			c.Notify(1)
			c.Unlock()
			if err := resultNow(t, "B", b); err != nil {
				t.Fatalf("B = %v", err)
			}
			return
		}
		isCtxErr(t, "A", errA, context.Canceled)
		if err := resultNow(t, "B", b); err != nil {
			t.Fatalf("B = %v; A's notification was lost", err)
		}
	})
}

// test_wait_cancel_after_notify (bpo-32841) and
// test_cancelled_error_re_aquire: notified, then cancelled while taking the
// lock back. Cancellation wins once the waiter sees it: Wait returns
// ctx.Err(), with the lock held.
func TestCondWaitCancelAfterNotify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		c := coord.NewCond(&m)
		ctx, cancel := context.WithCancel(context.Background())
		var waited atomic.Bool
		errc := goResult(func() error {
			lockedCond(t, c)
			waited.Store(true)
			err := c.Wait(ctx)
			if !m.Locked() {
				t.Error("Wait returned without the lock")
			}
			c.Unlock()
			return err
		})
		synctest.Wait()
		lockedCond(t, c)
		c.Notify(1)
		synctest.Wait() // the waiter takes the notification and waits for the lock
		cancel()
		synctest.Wait()
		c.Unlock()
		isCtxErr(t, "Wait", <-errc, context.Canceled)
		if !waited.Load() {
			t.Fatal("waiter never reached Wait")
		}
	})
}

// test_wait_for, and "WaitFor returns nil once pred() is true (checked with
// the lock held), or the ctx error (lock held)."
func TestCondWaitFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		c := coord.NewCond(&m)
		n := 0 // guarded by c's lock
		var calls int
		done := goResult(func() error {
			lockedCond(t, c)
			defer c.Unlock()
			return c.WaitFor(context.Background(), func() bool {
				calls++
				if !m.Locked() {
					t.Error("pred called without the lock")
				}
				return n >= 3
			})
		})
		// Three wakeups, by Notify(1) and then NotifyAll; the predicate is
		// true only after the third.
		for i := range 3 {
			stillBlocked(t, fmt.Sprintf("WaitFor with the predicate false (after %d wakeups)", i), done)
			lockedCond(t, c)
			n++
			if i == 0 {
				c.Notify(1)
			} else {
				c.NotifyAll()
			}
			c.Unlock()
		}
		if err := resultNow(t, "WaitFor", done); err != nil {
			t.Fatal(err)
		}
		if calls != 4 {
			t.Fatalf("predicate called %d times, want 4 (once at first, once per wakeup)", calls)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		lockedCond(t, c)
		isCtxErr(t, "WaitFor", c.WaitFor(ctx, func() bool { return false }), context.DeadlineExceeded)
		if !m.Locked() {
			t.Fatal("WaitFor returned without the lock")
		}
		c.Unlock()
	})
}

// test_timeout_in_block
func TestCondWaitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		c := coord.NewCond(&m)
		lockedCond(t, c)
		timesOutAfter(t, "Wait", 500*time.Millisecond, c.Wait)
		if !m.Locked() {
			t.Fatal("lock not held after a timed-out Wait")
		}
		c.Unlock()
	})
}

// test_notify, and "Notify(n) wakes up to n waiters, longest-waiting first;
// n <= 0 does nothing." Past the number of waiters, n wakes them all.
func TestCondNotify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c coord.Cond
		var mu sync.Mutex
		var result []int
		var wg sync.WaitGroup
		condWaiters(t, &c, &wg, &mu, &result, 1, 2, 3, 4, 5)
		lockedCond(t, &c)
		c.Notify(0)
		c.Notify(-1)
		c.Notify(-2)
		c.Unlock()
		synctest.Wait()
		if len(result) != 0 {
			t.Fatalf("Notify(n <= 0) woke %v", result)
		}
		lockedCond(t, &c)
		c.Notify(1)
		c.Unlock()
		synctest.Wait()
		if !slices.Equal(result, []int{1}) {
			t.Fatalf("result %v, want [1]", result)
		}
		lockedCond(t, &c)
		c.Notify(2)
		c.Unlock()
		synctest.Wait()
		// Waiters notified together then race for the lock: in any order.
		slices.Sort(result[1:])
		if !slices.Equal(result, []int{1, 2, 3}) {
			t.Fatalf("Notify(2) woke %v, want 2 and 3 after 1", result)
		}
		lockedCond(t, &c)
		c.Notify(1)
		c.Notify(2048)
		c.Unlock()
		wg.Wait()
		slices.Sort(result[3:])
		if !slices.Equal(result, []int{1, 2, 3, 4, 5}) {
			t.Fatalf("result %v, want [1 2 3 4 5]", result)
		}
	})
}

// test_notify_all
func TestCondNotifyAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c coord.Cond
		var mu sync.Mutex
		var result []int
		var wg sync.WaitGroup
		condWaiters(t, &c, &wg, &mu, &result, 1, 2)
		lockedCond(t, &c)
		c.NotifyAll()
		c.Unlock()
		wg.Wait()
		slices.Sort(result)
		if !slices.Equal(result, []int{1, 2}) {
			t.Fatalf("result %v, want [1 2]", result)
		}
	})
}

// test_explicit_lock: a Cond over a Mutex locks that Mutex, and either may
// be used to lock.
func TestCondExplicitLock(t *testing.T) {
	var m coord.Mutex
	c := coord.NewCond(&m)
	lockedCond(t, c)
	if !m.Locked() {
		t.Fatal("Cond.Lock did not lock its Mutex")
	}
	c.Unlock()
	if m.Locked() {
		t.Fatal("Cond.Unlock did not unlock its Mutex")
	}
	m.Lock(context.Background())
	c.Notify(1) // held through the Mutex directly: no panic
	m.Unlock()
}

// test_cancelled_wakeup (python/cpython#112202): a waiter cancelled in the
// same instant that Notify picks it hands the notification on, so the
// item produced is still consumed.
func TestCondCancelledWakeup(t *testing.T) {
	testCondCancelledWakeup(t, false)
}

// test_cancelled_wakeup_relock: the same, but the waiter is cancelled while
// it takes the lock back.
func TestCondCancelledWakeupRelock(t *testing.T) {
	testCondCancelledWakeup(t, true)
}

func testCondCancelledWakeup(t *testing.T, relock bool) {
	for range 20 { // the first waiter's select sees both; try both choices
		synctest.Test(t, func(t *testing.T) {
			var c coord.Cond
			state := 0 // guarded by c's lock
			consumer := func(ctx context.Context) error {
				lockedCond(t, &c)
				defer c.Unlock()
				for {
					if err := c.WaitFor(ctx, func() bool { return state != 0 }); err != nil {
						return err
					}
					if state < 0 {
						return nil
					}
					state--
				}
			}
			ctx0, cancel0 := context.WithCancel(context.Background())
			var errs []<-chan error
			for _, ctx := range []context.Context{ctx0, context.Background()} {
				errs = append(errs, goParked(func() error { return consumer(ctx) }))
			}
			lockedCond(t, &c)
			state++
			c.Notify(1)
			if relock {
				c.Unlock()
				// Let consumer 0 take the notification, then hold the lock
				// again so that it waits to take it back.
				lockedCond(t, &c)
				synctest.Wait()
			}
			cancel0()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			err := c.WaitFor(ctx, func() bool { return state == 0 })
			cancel()
			if err != nil && err != context.DeadlineExceeded {
				t.Fatal(err)
			}
			if state != 0 {
				t.Fatalf("state = %d: the notification was lost to the cancelled waiter", state)
			}
			state = -1
			c.NotifyAll()
			c.Unlock()
			if err := <-errs[1]; err != nil {
				t.Fatalf("consumer 1: %v", err)
			}
			if err := <-errs[0]; err != nil && err != context.Canceled {
				t.Fatalf("consumer 0: %v", err)
			}
		})
	}
}

// A Cond over a Locker that is not a coord Mutex: the lock cannot be
// checked, but Wait releases and takes it back all the same.
type condChanLocker chan struct{}

func (l condChanLocker) Lock(ctx context.Context) error {
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l condChanLocker) Unlock() { <-l }

func TestCondOtherLocker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := make(condChanLocker, 1)
		c := coord.NewCond(l)
		ready := false
		errc := goResult(func() error {
			c.Lock(context.Background())
			err := c.WaitFor(context.Background(), func() bool { return ready })
			if len(l) != 1 {
				t.Error("WaitFor returned without the lock")
			}
			c.Unlock()
			return err
		})
		synctest.Wait()
		if len(l) != 0 {
			t.Fatal("Wait did not release the lock")
		}
		c.Lock(context.Background())
		ready = true
		c.Notify(1)
		c.Unlock()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})
}

// Stress: producers and consumers on one Cond, with half the consumers
// cancelled at random moments. No notification is lost (every consumer that
// was not cancelled gets an item; a lost one would leave it waiting forever
// with items on the table), items are conserved, and every Wait returns
// with the lock held.
func TestCondStress(t *testing.T) {
	noGoroutineLeak(t)
	var m coord.Mutex
	c := coord.NewCond(&m)
	items := 0 // guarded by m
	const consumers = 1000
	var consumed, gaveUp atomic.Int64
	var wg sync.WaitGroup
	for i := range consumers {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if i%2 == 0 {
				// Cancel at some moment while items are being produced,
				// so that cancellations race with Notify's picks.
				time.AfterFunc(time.Duration(rand.IntN(3000))*time.Microsecond, cancel)
			} else if i%4 == 1 {
				// A wait that cannot be cancelled parks in the lane: the
				// notifications handed on by the cancelled waiters must
				// reach these too, in turn.
				ctx = context.Background()
			}
			if err := c.Lock(context.Background()); err != nil {
				t.Error(err)
				return
			}
			defer c.Unlock()
			err := c.WaitFor(ctx, func() bool { return items > 0 })
			if !m.Locked() {
				t.Error("WaitFor returned without the lock")
			}
			if !waitSucceeded(t, "WaitFor", ctx, err) {
				gaveUp.Add(1)
				return
			}
			items--
			consumed.Add(1)
		})
	}
	// One item per consumer, each with a Notify(1): if a cancelled waiter
	// swallowed a notification, some live consumer would wait forever.
	var producers sync.WaitGroup
	for range 4 {
		producers.Go(func() {
			for range consumers / 4 {
				c.Lock(context.Background())
				items++
				c.Notify(1)
				c.Unlock()
				time.Sleep(10 * time.Microsecond)
			}
		})
	}
	producers.Wait()
	if !returnsWithin(20*time.Second, wg.Wait) {
		t.Fatalf("consumers stuck: %d consumed, %d gave up, of %d (a notification was lost)", consumed.Load(), gaveUp.Load(), consumers)
	}
	if consumed.Load()+gaveUp.Load() != consumers {
		t.Fatalf("%d consumed + %d gave up != %d", consumed.Load(), gaveUp.Load(), consumers)
	}
	if int64(items) != consumers-consumed.Load() {
		t.Fatalf("%d items left, want %d", items, consumers-consumed.Load())
	}
	if consumed.Load() < consumers/2 {
		t.Fatalf("only %d consumed; every uncancelled consumer should have been served", consumed.Load())
	}
}

// Notify(1) picks the longest-waiting goroutine, one after the other.
func TestCondNotifyFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c coord.Cond
		var mu sync.Mutex
		var result []int
		var wg sync.WaitGroup
		condWaiters(t, &c, &wg, &mu, &result, 1, 2, 3, 4, 5)
		for i := range 5 {
			lockedCond(t, &c)
			c.Notify(1)
			c.Unlock()
			synctest.Wait()
			if len(result) != i+1 || result[i] != i+1 {
				t.Fatalf("after %d Notify(1): %v", i+1, result)
			}
		}
		wg.Wait()
	})
}

// Waits that cannot be cancelled (context.Background) and waits that can
// are one queue: Notify(1) picks the longest-waiting goroutine whichever
// kind it is, and a cancellable one that gives up leaves the others in
// order. The two kinds park differently inside (see waitq.List.Park).
func TestCondNotifyFIFOBothKinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c coord.Cond
		var mu sync.Mutex
		var result []int
		var wg sync.WaitGroup
		live, cancelLive := context.WithCancel(t.Context())
		defer cancelLive()
		gone, cancelGone := context.WithCancel(t.Context())
		ctxs := []context.Context{context.Background(), live, context.Background(), gone, live, context.Background()}
		for i, ctx := range ctxs {
			wg.Go(func() {
				lockedCond(t, &c)
				defer c.Unlock()
				if err := c.Wait(ctx); err != nil {
					if ctx != gone {
						t.Errorf("waiter %d: %v", i, err)
					}
					return
				}
				mu.Lock()
				result = append(result, i)
				mu.Unlock()
			})
			synctest.Wait()
		}
		cancelGone() // waiter 3 gives up
		synctest.Wait()
		if st := c.Stats(); st.Waiters != 5 || st.GaveUp != 1 {
			t.Errorf("Stats: %d waiters, %d gave up; want 5, 1", st.Waiters, st.GaveUp)
		}
		want := []int{0, 1, 2, 4, 5}
		for i := range want {
			lockedCond(t, &c)
			c.Notify(1)
			c.Unlock()
			synctest.Wait()
			if !slices.Equal(result, want[:i+1]) {
				t.Fatalf("after %d Notify(1): %v; want %v", i+1, result, want[:i+1])
			}
		}
		wg.Wait()
		if st := c.Stats(); st.Waiters != 0 || st.Waits != 6 || st.GaveUp != 1 {
			t.Errorf("Stats: %d waiters, %d waits, %d gave up; want 0, 6, 1", st.Waiters, st.Waits, st.GaveUp)
		}
	})
}
