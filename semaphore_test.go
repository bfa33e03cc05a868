package coord_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// The first group of tests is ported from golang.org/x/sync/semaphore's
// semaphore_test.go; the second from CPython's
// Lib/test/test_asyncio/test_locks.py SemaphoreTests; the rest check the
// promises of the package doc that neither covers.

func hammerSemaphore(s *coord.Semaphore, n, loops int) {
	for range loops {
		if err := s.AcquireN(context.Background(), n); err != nil {
			panic(err)
		}
		time.Sleep(time.Duration(rand.Int64N(int64(100 * time.Microsecond))))
		s.ReleaseN(n)
	}
}

// x/sync TestWeighted.
func TestSemaphoreHammer(t *testing.T) {
	noGoroutineLeak(t)
	n := max(runtime.GOMAXPROCS(0), 4)
	loops := 2000 / n
	s := coord.NewBoundedSemaphore(n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { hammerSemaphore(s, i, loops) })
	}
	wg.Wait()
	wantAvailable(t, s, n) // after the hammer
}

// x/sync TestWeightedPanic, asyncio test_release_not_acquired.
func TestBoundedSemaphoreReleasePastBoundPanics(t *testing.T) {
	s := coord.NewBoundedSemaphore(1)
	mustPanic(t, "Semaphore.Release: released more than acquired", s.Release)
	s.TryAcquire()
	mustPanic(t, "Semaphore.ReleaseN: released more than acquired", func() { s.ReleaseN(2) })
	wantAvailable(t, s, 0) // after a refused ReleaseN
	s.Release()
	wantAvailable(t, s, 1)
}

// The bound is also checked when a waiter is queued (the slow path), and a
// recovered panic leaves the semaphore usable.
func TestBoundedSemaphoreReleasePastBoundPanicsWithWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := coord.NewBoundedSemaphore(2)
		s.AcquireN(context.Background(), 1)
		errc := goParked(func() error { return s.AcquireN(context.Background(), 2) })
		mustPanic(t, "Semaphore.ReleaseN: released more than acquired", func() { s.ReleaseN(2) })
		s.Release()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		s.ReleaseN(2)
		wantAvailable(t, s, 2)
	})
}

// x/sync TestWeightedZeroSize.
func TestSemaphoreZeroSize(t *testing.T) {
	for _, s := range []*coord.Semaphore{coord.NewSemaphore(0), coord.NewBoundedSemaphore(0), new(coord.Semaphore)} {
		if !s.TryAcquireN(0) {
			t.Fatal("TryAcquireN(0) on a zero-sized semaphore failed")
		}
		if s.TryAcquire() {
			t.Fatal("TryAcquire on a zero-sized semaphore succeeded")
		}
		if err := s.AcquireN(context.Background(), 0); err != nil {
			t.Fatalf("AcquireN(ctx, 0) = %v", err)
		}
	}
}

// x/sync TestWeightedTryAcquire.
func TestSemaphoreTryAcquire(t *testing.T) {
	ctx := context.Background()
	s := coord.NewSemaphore(2)
	var tries []bool
	s.Acquire(ctx)
	tries = append(tries, s.TryAcquire())
	tries = append(tries, s.TryAcquire())
	s.ReleaseN(2)
	tries = append(tries, s.TryAcquire())
	s.Acquire(ctx)
	tries = append(tries, s.TryAcquire())
	if want := []bool{true, false, true, false}; !slices.Equal(tries, want) {
		t.Fatalf("tries = %v, want %v", tries, want)
	}
}

// x/sync TestWeightedAcquire, with synctest's clock for the timeouts.
func TestSemaphoreAcquireTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := coord.NewSemaphore(2)
		try := func() bool {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			defer cancel()
			return s.Acquire(ctx) == nil
		}
		var tries []bool
		s.Acquire(ctx)
		tries = append(tries, try())
		tries = append(tries, try())
		s.ReleaseN(2)
		tries = append(tries, try())
		s.Acquire(ctx)
		tries = append(tries, try())
		if want := []bool{true, false, true, false}; !slices.Equal(tries, want) {
			t.Fatalf("tries = %v, want %v", tries, want)
		}
	})
}

// x/sync TestWeightedDoesntBlockIfTooBig, as coord states it: "AcquireN of
// more than a bounded semaphore's size fails at once with ErrOverCapacity
// and takes nothing", and so blocks nobody.
func TestBoundedSemaphoreOverCapacity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 2
		s := coord.NewBoundedSemaphore(n)
		if err := s.AcquireN(context.Background(), n+1); err != coord.ErrOverCapacity {
			t.Fatalf("AcquireN(n+1) = %v, want ErrOverCapacity", err)
		}
		if s.TryAcquireN(n + 1) {
			t.Fatal("TryAcquireN(n+1) succeeded")
		}
		wantAvailable(t, s, n)
		// Rule 2 comes first: a done ctx wins over ErrOverCapacity.
		isCtxErr(t, "AcquireN(done ctx, n+1)", s.AcquireN(doneCtx(), n+1), context.Canceled)
		var wg sync.WaitGroup
		for range 3 * n {
			wg.Go(func() {
				if err := s.Acquire(context.Background()); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(time.Millisecond)
				s.Release()
			})
		}
		wg.Wait()
	})
}

// x/sync TestLargeAcquireDoesntStarve: a large request at the head of the
// queue blocks the small ones behind it until it is served.
func TestSemaphoreLargeAcquireDoesntStarve(t *testing.T) {
	ctx := context.Background()
	const n = 4
	s := coord.NewSemaphore(n)
	var running atomic.Bool
	running.Store(true)
	var wg sync.WaitGroup
	for range n {
		s.Acquire(ctx)
		wg.Go(func() {
			defer s.Release()
			for running.Load() {
				time.Sleep(100 * time.Microsecond)
				s.Release()
				s.Acquire(ctx)
			}
		})
	}
	if !returnsWithin(5*time.Second, func() {
		s.AcquireN(ctx, n)
		running.Store(false)
		s.ReleaseN(n)
	}) {
		t.Fatal("AcquireN(n) starved by a stream of Acquire(1)")
	}
	wg.Wait()
}

// x/sync TestAllocCancelDoesntStarve: when the head of the queue gives up,
// the smaller requests it was blocking are served. And "Waiters are served
// FIFO; a large request at the head blocks smaller ones behind it, and
// TryAcquire* refuses while anyone is queued." "A waiter that gives up
// returns its claim: permits it could have had go to the waiters behind it
// at once." Both with some permits free and with none.
func TestSemaphoreCancelledHeadUnblocksQueue(t *testing.T) {
	for _, tc := range []struct{ size, taken, big, after int }{
		{size: 10, taken: 1, big: 10, after: 8},
		{size: 1, taken: 0, big: 3, after: 0},
	} {
		synctest.Test(t, func(t *testing.T) {
			s := coord.NewSemaphore(tc.size)
			for range tc.taken {
				s.Acquire(context.Background())
			}
			ctx, cancel := context.WithCancel(context.Background())
			big := goParked(func() error { return s.AcquireN(ctx, tc.big) })
			small := goResult(func() error { return s.Acquire(context.Background()) })
			stillBlocked(t, fmt.Sprintf("Acquire(1) behind a queued AcquireN(%d)", tc.big), small)
			if s.TryAcquire() || s.TryAcquireN(0) {
				t.Fatal("TryAcquire took a permit while a waiter is queued")
			}
			cancel()
			isCtxErr(t, fmt.Sprintf("AcquireN(%d)", tc.big), resultNow(t, "big", big), context.Canceled)
			if err := resultNow(t, "small", small); err != nil {
				t.Fatalf("Acquire(1) = %v", err)
			}
			wantAvailable(t, s, tc.after)
		})
	}
}

// x/sync TestWeightedAcquireCanceled, the regression test for
// go.dev/issue/63615: a ctx that is cancelled before enough permits are
// released fails the Acquire, the permits are not lost, and a done ctx
// fails even an Acquire that would not have to wait.
func TestSemaphoreAcquireCanceled(t *testing.T) {
	s := coord.NewSemaphore(2)
	ctx, cancel := context.WithCancel(context.Background())
	s.Acquire(context.Background())
	ch := make(chan struct{})
	go func() {
		// Synchronize with the AcquireN(2) below: once it is queued,
		// TryAcquire refuses.
		for s.TryAcquire() {
			s.Release()
		}
		cancel()
		s.Release()
		close(ch)
	}()
	if err := s.AcquireN(ctx, 2); err != context.Canceled {
		t.Errorf("AcquireN with cancelled ctx = %v, want context.Canceled", err)
	}
	<-ch
	if !s.TryAcquireN(2) {
		t.Fatal("TryAcquireN(2) after the cancelled AcquireN failed: a permit was lost")
	}
	s.ReleaseN(2)
	if err := s.Acquire(ctx); err != context.Canceled {
		t.Errorf("Acquire with done ctx on a free semaphore = %v, want context.Canceled", err)
	}
	if err := s.AcquireN(ctx, 0); err != context.Canceled {
		t.Errorf("AcquireN(done ctx, 0) = %v, want context.Canceled", err)
	}
	wantAvailable(t, s, 2)
}

// asyncio test_acquire: releases are granted to queued waiters in order.
func TestSemaphoreAcquire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := coord.NewSemaphore(3)
		s.Acquire(ctx)
		s.Acquire(ctx)
		var mu sync.Mutex
		var result []int
		var wg sync.WaitGroup
		start := func(i int) {
			wg.Go(func() {
				if err := s.Acquire(ctx); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				result = append(result, i)
				mu.Unlock()
			})
			synctest.Wait()
		}
		start(1)
		start(2)
		start(3)
		if !slices.Equal(result, []int{1}) || s.Available() != 0 {
			t.Fatalf("result %v, Available %d; want [1], 0", result, s.Available())
		}
		start(4)
		s.Release()
		synctest.Wait()
		if !slices.Equal(result, []int{1, 2}) || s.Available() != 0 {
			t.Fatalf("result %v, Available %d; want [1 2], 0", result, s.Available())
		}
		s.Release()
		synctest.Wait()
		if !slices.Equal(result, []int{1, 2, 3}) || s.Available() != 0 {
			t.Fatalf("result %v, Available %d; want [1 2 3], 0", result, s.Available())
		}
		s.Release()
		wg.Wait()
		if !slices.Equal(result, []int{1, 2, 3, 4}) {
			t.Fatalf("result %v, want [1 2 3 4]", result)
		}
	})
}

// asyncio test_acquire_cancel: a cancelled waiter leaves the queue.
func TestSemaphoreAcquireCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := coord.NewSemaphore(1)
		s.Acquire(context.Background())
		cancelWhileBlocked(t, "Acquire", s.Acquire)
		// The queue is empty again: TryAcquire would succeed once the
		// permit is back, and nobody takes it in between.
		s.Release()
		if !s.TryAcquire() {
			t.Fatal("TryAcquire after the waiter gave up failed")
		}
	})
}

// asyncio test_acquire_cancel_before_awoken and test_acquire_hang: waiters
// cancelled before a Release do not absorb it.
func TestSemaphoreAcquireCancelBeforeAwoken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := coord.NewSemaphore(0)
		cancels := make([]context.CancelFunc, 4)
		errs := make([]<-chan error, 4)
		for i := range 4 {
			var ctx context.Context
			ctx, cancels[i] = context.WithCancel(context.Background())
			errs[i] = goParked(func() error { return s.Acquire(ctx) })
		}
		cancels[0]()
		cancels[1]()
		s.Release()
		synctest.Wait()
		for i, want := range []error{context.Canceled, context.Canceled, nil} {
			if err := <-errs[i]; err != want {
				t.Fatalf("waiter %d: %v, want %v", i, err, want)
			}
		}
		stillBlocked(t, "waiter 3 (the one permit went to waiter 2)", errs[3])
		cancels[2]()
		cancels[3]()
		if err := <-errs[3]; err != context.Canceled {
			t.Fatalf("waiter 3: %v", err)
		}
		wantAvailable(t, s, 0)
	})
}

// Rule 3: a waiter whose ctx is cancelled before the Release that would
// grant it fails, even if it only notices both at once, and the permit goes
// to the next waiter (asyncio test_acquire_no_hang; go.dev/issue/63615).
func TestSemaphoreCancelBeforeGrantHandsOn(t *testing.T) {
	for range 50 { // the waiter's select sees both; run both of its choices
		synctest.Test(t, func(t *testing.T) {
			s := coord.NewSemaphore(0)
			ctx, cancel := context.WithCancel(context.Background())
			first := goParked(func() error { return s.Acquire(ctx) })
			second := goParked(func() error { return s.Acquire(context.Background()) })
			cancel()
			s.Release() // the first waiter has not run since cancel
			if err := <-first; err != context.Canceled {
				t.Fatalf("first waiter: %v, want context.Canceled", err)
			}
			if err := <-second; err != nil {
				t.Fatalf("second waiter: %v; the permit was lost", err)
			}
			wantAvailable(t, s, 0)
		})
	}
}

// A grant and a cancellation racing the other way: whatever the waiter
// returns, the permit is counted exactly once.
func TestSemaphoreGrantThenCancel(t *testing.T) {
	for range 50 {
		synctest.Test(t, func(t *testing.T) {
			s := coord.NewSemaphore(0)
			ctx, cancel := context.WithCancel(context.Background())
			errc := goParked(func() error { return s.Acquire(ctx) })
			s.Release()
			cancel()
			err := <-errc
			want := 1
			if err == nil {
				want = 0
			} else if err != context.Canceled {
				t.Fatalf("Acquire = %v", err)
			}
			if got := s.Available(); got != want {
				t.Fatalf("Acquire returned %v and Available = %d, want %d", err, got, want)
			}
		})
	}
}

// asyncio test_acquire_fifo_order.
func TestSemaphoreFIFOOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := coord.NewSemaphore(1)
		var mu sync.Mutex
		var result []string
		var wg sync.WaitGroup
		for _, tag := range []string{"c1", "c2", "c3"} {
			wg.Go(func() {
				for _, round := range []string{"_1", "_2"} {
					s.Acquire(context.Background())
					mu.Lock()
					result = append(result, tag+round)
					mu.Unlock()
					time.Sleep(10 * time.Millisecond)
					s.Release()
				}
			})
			synctest.Wait()
		}
		wg.Wait()
		want := []string{"c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"}
		if !slices.Equal(result, want) {
			t.Fatalf("order %v, want %v", result, want)
		}
	})
}

// asyncio test_acquire_fifo_order_3: a cancelled waiter does not disturb
// the order of the others.
func TestSemaphoreFIFOOrderWithCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := coord.NewSemaphore(0)
		var mu sync.Mutex
		var result []int
		ctx1, cancel1 := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i, ctx := range []context.Context{ctx1, context.Background(), context.Background()} {
			wg.Go(func() {
				if s.Acquire(ctx) == nil {
					mu.Lock()
					result = append(result, i+1)
					mu.Unlock()
				}
			})
			synctest.Wait()
		}
		cancel1()
		synctest.Wait()
		s.Release()
		synctest.Wait()
		if !slices.Equal(result, []int{2}) {
			t.Fatalf("after one Release: %v, want [2]", result)
		}
		s.Release()
		wg.Wait()
		if !slices.Equal(result, []int{2, 3}) {
			t.Fatalf("result %v, want [2 3]", result)
		}
	})
}

// A newcomer does not take permits ahead of a queued waiter: TryAcquire
// refuses while anyone is queued, even with permits free, and AcquireN
// queues behind. "AcquireN(ctx, 0) with a live ctx succeeds at once", even
// with a queue.
func TestSemaphoreNoBargingPastQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := coord.NewSemaphore(3)
		s.Acquire(context.Background())
		head := goParked(func() error { return s.AcquireN(context.Background(), 3) })
		wantAvailable(t, s, 2)
		if s.TryAcquire() {
			t.Fatal("TryAcquire took a permit while a waiter was queued")
		}
		if s.TryAcquireN(1) {
			t.Fatal("TryAcquireN(1) took a permit while a waiter was queued")
		}
		behind := goResult(func() error { return s.Acquire(context.Background()) })
		stillBlocked(t, "Acquire(1) behind the queued AcquireN(3)", behind)
		// AcquireN(ctx, 0) succeeds at once even with a queue.
		if err := s.AcquireN(context.Background(), 0); err != nil {
			t.Fatalf("AcquireN(ctx, 0) with a queue = %v", err)
		}
		s.Release()
		if err := <-head; err != nil {
			t.Fatal(err)
		}
		stillBlocked(t, "Acquire(1) while AcquireN(3) holds them all", behind)
		s.ReleaseN(3)
		if err := <-behind; err != nil {
			t.Fatal(err)
		}
		wantAvailable(t, s, 2)
	})
}

// One ReleaseN grants every waiter at the head that it satisfies.
func TestSemaphoreReleaseNGrantsSeveral(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := coord.NewSemaphore(0)
		var got atomic.Int32
		var wg sync.WaitGroup
		for _, n := range []int{1, 2, 3, 1} {
			wg.Go(func() {
				if s.AcquireN(context.Background(), n) == nil {
					got.Add(int32(n))
				}
			})
			synctest.Wait()
		}
		s.ReleaseN(6) // serves 1, 2, 3; the last 1 waits
		synctest.Wait()
		if g := got.Load(); g != 6 || s.Available() != 0 {
			t.Fatalf("granted %d, Available %d; want 6, 0", g, s.Available())
		}
		s.ReleaseN(2)
		wg.Wait()
		if g := got.Load(); g != 7 || s.Available() != 1 {
			t.Fatalf("granted %d, Available %d; want 7, 1", g, s.Available())
		}
	})
}

// "NewSemaphore(n) // Release may raise the count past n": an unbounded
// semaphore may be released past its initial count; a queued request larger
// than the initial count is served once enough is released.
func TestSemaphoreUnboundedGrows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := coord.NewSemaphore(1)
		s.ReleaseN(2)
		wantAvailable(t, s, 3)
		s = coord.NewSemaphore(1)
		errc := goParked(func() error { return s.AcquireN(context.Background(), 5) })
		s.ReleaseN(4)
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		s.ReleaseN(10)
		wantAvailable(t, s, 10)
	})
}

// Stress: thousands of goroutines with random weights and random
// cancellation race against each other's releases. Every call either takes
// its permits (nil) or returns its own ctx error having taken nothing; the
// permits held never exceed the bound; every permit comes back.
func TestSemaphoreStress(t *testing.T) {
	noGoroutineLeak(t)
	for _, bounded := range []bool{false, true} {
		const size = 8
		var s *coord.Semaphore
		if bounded {
			s = coord.NewBoundedSemaphore(size)
		} else {
			s = coord.NewSemaphore(size)
		}
		var held, maxHeld, ok, cancelled atomic.Int64
		var wg sync.WaitGroup
		const goroutines = 3000
		for i := range goroutines {
			wg.Go(func() {
				n := 1 + i%3
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if i%2 == 0 {
					go cancel() // races the grant
				} else if i%5 == 0 {
					cancel() // already done: rule 2
				} else if i%4 == 3 {
					// Cannot be cancelled: parks in the lane, among the
					// cancellable waits that give up around it.
					ctx = context.Background()
				}
				if !waitSucceeded(t, "AcquireN", ctx, s.AcquireN(ctx, n)) {
					cancelled.Add(1)
					return
				}
				ok.Add(1)
				h := held.Add(int64(n))
				for {
					m := maxHeld.Load()
					if h <= m || maxHeld.CompareAndSwap(m, h) {
						break
					}
				}
				runtime.Gosched()
				held.Add(-int64(n))
				if i%7 == 0 {
					for range n {
						s.Release()
					}
				} else {
					s.ReleaseN(n)
				}
			})
		}
		if !returnsWithin(20*time.Second, wg.Wait) {
			t.Fatalf("bounded=%v: waiters stuck: %d ok, %d cancelled of %d (a grant was lost)", bounded, ok.Load(), cancelled.Load(), goroutines)
		}
		if m := maxHeld.Load(); m > size {
			t.Errorf("bounded=%v: %d permits held at once, more than %d", bounded, m, size)
		}
		if ok.Load()+cancelled.Load() != goroutines {
			t.Errorf("bounded=%v: %d ok + %d cancelled != %d", bounded, ok.Load(), cancelled.Load(), goroutines)
		}
		if ok.Load() == 0 || cancelled.Load() == 0 {
			t.Errorf("bounded=%v: %d ok, %d cancelled: the race was not exercised", bounded, ok.Load(), cancelled.Load())
		}
		if got := s.Available(); got != size {
			t.Errorf("bounded=%v: Available = %d after the stress, want %d", bounded, got, size)
		}
		if !s.TryAcquireN(size) {
			t.Errorf("bounded=%v: TryAcquireN(%d) failed: a waiter is still queued", bounded, size)
		}
	}
}

// Stress with deadlines inside a synctest bubble: waiters time out while
// holders sleep, and at the end nothing is leaked (the bubble checks for
// goroutines left blocked) and every permit is back.
func TestSemaphoreStressTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const size = 3
		s := coord.NewBoundedSemaphore(size)
		var held atomic.Int64
		var wg sync.WaitGroup
		var timeouts atomic.Int64
		for i := range 500 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%17)*time.Millisecond)
				defer cancel()
				n := 1 + i%size
				if err := s.AcquireN(ctx, n); err != nil {
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Error(err)
					}
					timeouts.Add(1)
					return
				}
				if h := held.Add(int64(n)); h > size {
					t.Errorf("%d permits held, bound %d", h, size)
				}
				time.Sleep(time.Duration(i%5) * time.Millisecond)
				held.Add(-int64(n))
				s.ReleaseN(n)
			})
		}
		wg.Wait()
		wantAvailable(t, s, size)
		if timeouts.Load() == 0 {
			t.Fatal("no waiter timed out: the test exercised nothing")
		}
	})
}

// Waits that cannot be cancelled (context.Background) and waits that can
// are one FIFO queue, which also keeps a large request at the head from
// being passed by smaller ones of either kind behind it.
func TestSemaphoreFIFOBothKinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := coord.NewSemaphore(0)
		var mu sync.Mutex
		var result []int
		live, cancel := context.WithCancel(t.Context())
		defer cancel()
		var wg sync.WaitGroup
		// Waiter i asks for sizes[i] permits with ctxs[i].
		sizes := []int{1, 3, 1, 2, 1}
		ctxs := []context.Context{live, context.Background(), context.Background(), live, context.Background()}
		for i := range sizes {
			wg.Go(func() {
				if err := s.AcquireN(ctxs[i], sizes[i]); err != nil {
					t.Errorf("waiter %d: %v", i, err)
					return
				}
				mu.Lock()
				result = append(result, i)
				mu.Unlock()
			})
			synctest.Wait()
		}
		step := func(release int, want ...int) {
			t.Helper()
			s.ReleaseN(release)
			synctest.Wait()
			mu.Lock()
			defer mu.Unlock()
			// Waiters granted by one ReleaseN run in any order.
			got := slices.Clone(result)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("after ReleaseN(%d): %v; want %v", release, result, want)
			}
		}
		defer func() { // after a failure, let every waiter go, so the bubble can end
			s.ReleaseN(10)
			wg.Wait()
		}()
		step(2, 0)          // 0 takes 1; 1 wants 3, 1 left: everyone behind waits
		step(2, 0, 1)       // 1 takes 3
		step(3, 0, 1, 2, 3) // 2 takes 1, 3 takes 2
		step(1, 0, 1, 2, 3, 4)
		wg.Wait()
		if n := s.Available(); n != 0 {
			t.Fatalf("Available = %d; want 0", n)
		}
	})
}
