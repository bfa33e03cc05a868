package coord_test

import (
	"context"
	"errors"
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

// barrierWaitAll runs Wait in n goroutines and returns their indices and errors.
func barrierWaitAll(ctx context.Context, b *coord.Barrier, n int) ([]int, []error) {
	idx := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { idx[i], errs[i] = b.Wait(ctx) })
	}
	wg.Wait()
	return idx, errs
}

func TestBarrierParties(t *testing.T) {
	mustPanic(t, "NewBarrier", func() { coord.NewBarrier(0) })
	mustPanic(t, "NewBarrier", func() { coord.NewBarrier(-4) })
	if got := coord.NewBarrier(5).Parties(); got != 5 {
		t.Fatalf("Parties() = %d, want 5", got)
	}
}

// asyncio test_context_manager / test_filling_tasks_check_return_value.
func TestBarrierIndicesDistinct(t *testing.T) {
	const n = 5
	b := coord.NewBarrier(n)
	for round := range 3 {
		idx, errs := barrierWaitAll(context.Background(), b, n)
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: Wait: %v", round, err)
			}
		}
		slices.Sort(idx)
		if !slices.Equal(idx, []int{0, 1, 2, 3, 4}) {
			t.Fatalf("round %d: indices %v, want 0..4 once each", round, idx)
		}
	}
	barrierIdle(t, b, "after rounds")
}

// asyncio test_filling_one_task / test_filling_one_task_twice.
func TestBarrierOneParty(t *testing.T) {
	b := coord.NewBarrier(1)
	for range 2 {
		i, err := b.Wait(context.Background())
		if i != 0 || err != nil {
			t.Fatalf("Wait = %d, %v; want 0, nil", i, err)
		}
	}
	barrierIdle(t, b, "after two rounds of one")
}

// asyncio test_filling_task_by_task, plus: indices follow arrival order,
// round after round. "Wait returns a distinct index in 0..parties-1 to each
// party ... the barrier then serves the next round (cyclic)." "Indices are
// given in arrival order."
func TestBarrierArrivalOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := coord.NewBarrier(3)
		for round := range 3 {
			got := make([]int, 3)
			var wg sync.WaitGroup
			for i := range 3 {
				wg.Go(func() {
					var err error
					got[i], err = b.Wait(t.Context())
					if err != nil {
						t.Errorf("Wait: %v", err)
					}
				})
				synctest.Wait()
				if i < 2 && b.Waiting() != i+1 {
					t.Fatalf("round %d: after %d arrivals Waiting = %d", round, i+1, b.Waiting())
				}
			}
			wg.Wait()
			if !slices.Equal(got, []int{0, 1, 2}) {
				t.Fatalf("round %d: indices %v, want arrival order [0 1 2]", round, got)
			}
			if b.Waiting() != 0 {
				t.Fatalf("round %d: Waiting = %d after trip", round, b.Waiting())
			}
		}
	})
}

// asyncio test_filling_tasks_cancel_one, and the duplicate-index bug it
// does not catch: after a party leaves, asyncio numbers the next arrival
// with the departed party's count, and two parties get the same index. "A
// party whose ctx is done while the round is filling leaves with the ctx
// error and without a trace: Waiting drops by one, the barrier is not
// broken, and later arrivals can still complete the round."
func TestBarrierCancelOneLeavesNoTrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := coord.NewBarrier(3)
		type res struct {
			name string
			i    int
			err  error
		}
		results := make(chan res, 4)
		start := func(name string, ctx context.Context) {
			go func() {
				i, err := b.Wait(ctx)
				results <- res{name, i, err}
			}()
			synctest.Wait()
		}
		ctx1, cancel1 := context.WithCancel(t.Context())
		start("t1", ctx1)
		start("t2", t.Context())
		if b.Waiting() != 2 {
			t.Fatalf("Waiting = %d, want 2", b.Waiting())
		}
		cancel1()
		synctest.Wait()
		r := <-results
		if r.name != "t1" || r.i != -1 || !errors.Is(r.err, context.Canceled) {
			t.Fatalf("cancelled party returned %+v", r)
		}
		if b.Waiting() != 1 || b.Broken() {
			t.Fatalf("after cancel: Waiting=%d Broken=%v, want 1 false", b.Waiting(), b.Broken())
		}
		start("t3", t.Context())
		if b.Waiting() != 2 {
			t.Fatalf("Waiting = %d, want 2", b.Waiting())
		}
		stillBlocked(t, "a round of 3 with 2 parties", results)
		start("t4", t.Context())
		got := map[string]int{}
		for range 3 {
			r := <-results
			if r.err != nil {
				t.Fatalf("%s: %v", r.name, r.err)
			}
			got[r.name] = r.i
		}
		want := map[string]int{"t2": 0, "t3": 1, "t4": 2}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("indices %v, want %v", got, want)
			}
		}
		barrierIdle(t, b, "after the round")
	})
}

func TestBarrierTimeoutWhileFilling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := coord.NewBarrier(3)
		timesOutAfter(t, "Wait", time.Second, func(ctx context.Context) error {
			i, err := b.Wait(ctx)
			if i != -1 {
				t.Errorf("Wait = %d, %v; want index -1", i, err)
			}
			return err
		})
		barrierIdle(t, b, "after the timed-out Wait")
	})
}

// asyncio test_reset_barrier / test_reset_barrier_while_tasks_waiting.
func TestBarrierResetWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 5
		b := coord.NewBarrier(n)
		b.Reset() // on an idle barrier: nothing happens
		barrierIdle(t, b, "Reset of an idle barrier")
		errs := make(chan error, n)
		for range n - 1 {
			go func() {
				i, err := b.Wait(t.Context())
				if i != -1 {
					t.Errorf("broken Wait index %d", i)
				}
				errs <- err
			}()
		}
		synctest.Wait()
		if b.Waiting() != n-1 {
			t.Fatalf("Waiting = %d", b.Waiting())
		}
		b.Reset()
		for range n - 1 {
			if err := <-errs; err != coord.ErrBrokenBarrier {
				t.Fatalf("Wait after Reset = %v, want ErrBrokenBarrier", err)
			}
		}
		barrierIdle(t, b, "after Reset")
		// Usable again at once.
		if _, errs := barrierWaitAll(t.Context(), b, n); errors.Join(errs...) != nil {
			t.Fatalf("round after Reset: %v", errs)
		}
	})
}

// asyncio test_reset_barrier_while_tasks_waiting_and_waiting_again.
func TestBarrierResetThenWaitAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 5
		b := coord.NewBarrier(n)
		var broken, passed atomic.Int32
		var wg sync.WaitGroup
		for range n - 1 {
			wg.Go(func() {
				if _, err := b.Wait(t.Context()); err == coord.ErrBrokenBarrier {
					broken.Add(1)
				}
				if _, err := b.Wait(t.Context()); err == nil {
					passed.Add(1)
				}
			})
		}
		synctest.Wait()
		b.Reset()
		synctest.Wait()
		wg.Go(func() {
			if _, err := b.Wait(t.Context()); err == nil {
				passed.Add(1)
			}
		})
		wg.Wait()
		if broken.Load() != n-1 || passed.Load() != n || b.Broken() || b.Waiting() != 0 {
			t.Fatalf("broken=%d passed=%d Broken=%v Waiting=%d", broken.Load(), passed.Load(), b.Broken(), b.Waiting())
		}
	})
}

// asyncio test_reset_barrier_while_tasks_draining, made deterministic: a
// trip releases its parties at once (there is no draining state), so a Reset
// right after the trip breaks nobody, while a Reset once the early parties
// have queued for the next round breaks exactly them.
func TestBarrierResetAfterTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 5
		b := coord.NewBarrier(n)
		if _, errs := barrierWaitAll(t.Context(), b, n); errors.Join(errs...) != nil {
			t.Fatalf("first round: %v", errs)
		}
		b.Reset()
		barrierIdle(t, b, "Reset after trip")
		var broken atomic.Int32
		var wg sync.WaitGroup
		for range n - 1 {
			wg.Go(func() {
				if _, err := b.Wait(t.Context()); err == coord.ErrBrokenBarrier {
					broken.Add(1)
				}
				if _, err := b.Wait(t.Context()); err != nil {
					t.Errorf("third Wait: %v", err)
				}
			})
		}
		synctest.Wait()
		b.Reset()
		synctest.Wait()
		if broken.Load() != n-1 || b.Waiting() != n-1 {
			t.Fatalf("broken=%d Waiting=%d, want %d each", broken.Load(), b.Waiting(), n-1)
		}
		if i, err := b.Wait(t.Context()); i != n-1 || err != nil {
			t.Fatalf("last party: %d, %v", i, err)
		}
		wg.Wait()
	})
}

// asyncio test_abort_barrier / test_abort_barrier_when_exception; then, one
// step at a time: "Abort breaks it: waiting and later callers get
// ErrBrokenBarrier until Reset. Reset breaks the current round for those
// waiting and makes the barrier usable again." "A Wait that returns an error
// returns index -1."
func TestBarrierAbort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 5
		b := coord.NewBarrier(n)
		var broken, passed atomic.Int32
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				i, err := b.Wait(t.Context())
				if err != nil {
					t.Errorf("first Wait: %v", err)
					return
				}
				if i == n/2 {
					b.Abort() // this party "raised"
					return
				}
				switch _, err := b.Wait(t.Context()); err {
				case coord.ErrBrokenBarrier:
					broken.Add(1)
				case nil:
					passed.Add(1)
				}
			})
		}
		wg.Wait()
		if !b.Broken() || passed.Load() != 0 || broken.Load() != n-1 || b.Waiting() != 0 {
			t.Fatalf("Broken=%v passed=%d broken=%d Waiting=%d", b.Broken(), passed.Load(), broken.Load(), b.Waiting())
		}
		if i, err := b.Wait(t.Context()); i != -1 || err != coord.ErrBrokenBarrier {
			t.Fatalf("Wait on aborted barrier = %d, %v", i, err)
		}
		b.Reset()
		if b.Broken() {
			t.Fatal("Broken after Reset")
		}
		if _, errs := barrierWaitAll(t.Context(), b, n); errors.Join(errs...) != nil {
			t.Fatalf("round after Reset: %v", errs)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		b := coord.NewBarrier(2)
		bg := context.Background()
		wait := func() error {
			i, err := b.Wait(bg)
			if err != nil && i != -1 {
				return fmt.Errorf("index %d with %v", i, err)
			}
			return err
		}
		w := goParked(wait)
		b.Abort()
		if err := resultNow(t, "waiter", w); err != coord.ErrBrokenBarrier {
			t.Fatalf("waiter = %v", err)
		}
		if err := wait(); err != coord.ErrBrokenBarrier || !b.Broken() {
			t.Fatalf("later Wait = %v, Broken = %v", err, b.Broken())
		}
		b.Reset()
		if b.Broken() {
			t.Fatal("Broken after Reset")
		}
		w = goParked(wait)
		b.Reset()
		if err := resultNow(t, "waiter", w); err != coord.ErrBrokenBarrier {
			t.Fatalf("waiter at Reset = %v", err)
		}
		if b.Broken() {
			t.Fatal("Reset left the barrier broken")
		}
		w = goParked(wait)
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		if err := resultNow(t, "waiter", w); err != nil {
			t.Fatal(err)
		}
	})
}

// asyncio test_abort_barrier_when_exception_then_resetting.
func TestBarrierAbortThenReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 5
		b1, b2 := coord.NewBarrier(n), coord.NewBarrier(n)
		var r1, r2, r3 atomic.Int32
		var wg sync.WaitGroup
		ctx := t.Context()
		for range n {
			wg.Go(func() {
				i, err := b1.Wait(ctx)
				if err != nil {
					t.Errorf("b1.Wait: %v", err)
					return
				}
				if i == n/2 {
					b1.Abort()
				} else if _, err := b1.Wait(ctx); err == nil {
					r1.Add(1)
				} else if err == coord.ErrBrokenBarrier {
					r2.Add(1)
				}
				// Synchronize, reset, synchronize again so that nobody
				// enters b1 before the reset.
				if i, _ := b2.Wait(ctx); i == n/2 {
					b1.Reset()
				}
				b2.Wait(ctx)
				if _, err := b1.Wait(ctx); err == nil {
					r3.Add(1)
				}
			})
		}
		wg.Wait()
		if b1.Broken() || r1.Load() != 0 || r2.Load() != n-1 || r3.Load() != n {
			t.Fatalf("Broken=%v r1=%d r2=%d r3=%d", b1.Broken(), r1.Load(), r2.Load(), r3.Load())
		}
	})
}

// Cyclic use, round after round: every round hands out each
// index exactly once (asyncio test_blocking_tasks_while_draining, in spirit).
func TestBarrierCyclicManyRounds(t *testing.T) {
	const parties, workers, rounds = 4, 4, 300
	b := coord.NewBarrier(parties)
	var counts [parties]atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range rounds {
				i, err := b.Wait(context.Background())
				if err != nil || i < 0 || i >= parties {
					t.Errorf("Wait = %d, %v", i, err)
					return
				}
				counts[i].Add(1)
			}
		})
	}
	wg.Wait()
	for i := range parties {
		if got := counts[i].Load(); got != workers*rounds/parties {
			t.Fatalf("index %d returned %d times, want %d (indices %v)", i, got, workers*rounds/parties, &counts)
		}
	}
}

// Stress: cancellation racing the trip. Parties that give up leave no trace,
// so each index is still handed out exactly once per trip: the count of
// successes for every index is the same, and the total is a multiple of
// parties. With asyncio's numbering on arrival, a departure followed by an
// arrival repeats an index and these counts diverge.
func TestBarrierStressCancel(t *testing.T) {
	const parties, workers = 3, 7
	b := coord.NewBarrier(parties)
	var counts [parties]atomic.Int64
	var cancelled atomic.Int64
	deadline := time.Now().Add(500 * time.Millisecond)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for time.Now().Before(deadline) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(100))*time.Microsecond)
				i, err := b.Wait(ctx)
				cancel()
				switch {
				case err == nil && i >= 0 && i < parties:
					counts[i].Add(1)
				case errors.Is(err, context.DeadlineExceeded) && i == -1:
					cancelled.Add(1)
				default:
					t.Errorf("Wait = %d, %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Every worker has left; parties still waiting would have been counted
	// as cancelled. Waiting must be 0 and every trip complete.
	barrierIdle(t, b, "after the stress")
	c0 := counts[0].Load()
	for i := range parties {
		if counts[i].Load() != c0 {
			t.Fatalf("index counts differ: %d %d %d (cancelled %d)", counts[0].Load(), counts[1].Load(), counts[2].Load(), cancelled.Load())
		}
	}
	if c0 == 0 || cancelled.Load() == 0 {
		t.Fatalf("the run raced nothing: trips=%d cancelled=%d", c0, cancelled.Load())
	}
	t.Logf("trips=%d cancelled=%d", c0, cancelled.Load())
}
