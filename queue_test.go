package coord_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// asyncio test_order / test_maxsize / test_empty / test_full.
func TestQueueBasics(t *testing.T) {
	ctx := context.Background()
	q := coord.NewQueue[int](0)
	for _, v := range []int{1, 3, 2} {
		if err := q.Put(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if q.Len() != 3 {
		t.Fatalf("Len = %d", q.Len())
	}
	for _, want := range []int{1, 3, 2} {
		if v, err := q.Get(ctx); v != want || err != nil {
			t.Fatalf("Get = %d, %v; want %d", v, err, want)
		}
	}
	if _, ok := q.TryGet(); ok {
		t.Fatal("TryGet on empty queue succeeded")
	}
	b := coord.NewQueue[string](2)
	if !b.TryPut("a") || !b.TryPut("b") || b.TryPut("c") {
		t.Fatal("TryPut on a queue of 2 did not take exactly 2")
	}
	if v, ok := b.TryGet(); v != "a" || !ok {
		t.Fatalf("TryGet = %q, %v", v, ok)
	}
	// The zero Queue, unbounded: TestZeroValues_AreUsable.
}

// asyncio test_blocking_get_wait / test_put_with_waiting_getters.
func TestQueueGetBlocksUntilPut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[int](0)
		got := goResult(func() int {
			v, err := q.Get(t.Context())
			if err != nil {
				t.Error(err)
			}
			return v
		})
		time.Sleep(10 * time.Millisecond)
		stillBlocked(t, "Get on an empty queue", got)
		if err := q.Put(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		if v := <-got; v != 1 {
			t.Fatalf("Get = %d", v)
		}
		if q.Len() != 0 {
			t.Fatalf("Len = %d after the handoff", q.Len())
		}
	})
}

// asyncio test_blocking_put_wait / test_get_with_waiting_putters: blocked
// Puts go in, in order, as Gets free room.
func TestQueuePutBlocksUntilRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[string](1)
		var wg sync.WaitGroup
		for _, v := range []string{"a", "b", "c"} {
			wg.Go(func() {
				if err := q.Put(t.Context(), v); err != nil {
					t.Error(err)
				}
			})
			synctest.Wait()
		}
		if q.Len() != 1 || q.TryPut("x") {
			t.Fatalf("Len = %d; TryPut jumped blocked Puts", q.Len())
		}
		for _, want := range []string{"a", "b", "c"} {
			if v, err := q.Get(t.Context()); v != want || err != nil {
				t.Fatalf("Get = %q, %v; want %q", v, err, want)
			}
		}
		wg.Wait()
	})
}

// asyncio test_get_cancelled_race / test_cancelled_getters_not_being_held:
// a cancelled Get leaves the line; the next one gets the item.
func TestQueueGetCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[string](5)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		if _, err := q.Get(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Get = %v, want DeadlineExceeded", err)
		}
		c1, cancel1 := context.WithCancel(t.Context())
		r1 := goResult(func() error { _, err := q.Get(c1); return err })
		r2 := goParked(func() string { v, _ := q.Get(t.Context()); return v })
		cancel1()
		isCtxErr(t, "cancelled Get", <-r1, context.Canceled)
		q.Put(t.Context(), "a")
		if v := <-r2; v != "a" {
			t.Fatalf("second Get = %q", v)
		}
	})
}

// asyncio test_get_cancel_drop_one_pending_reader: an item handed to a Get
// whose ctx ends at that moment is not lost, and keeps its place in line.
func TestQueueGetCancelDropOnePendingReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[int](0)
		ctx, cancel := context.WithCancel(t.Context())
		type res struct {
			v   int
			err error
		}
		r := goParked(func() res { v, err := q.Get(ctx); return res{v, err} })
		// Put, Put and cancel with the reader not yet run: item 1 is handed
		// to it; it then sees its ctx done and gives 1 back to the front.
		q.TryPut(1)
		q.TryPut(2)
		cancel()
		got := <-r
		if got.err == nil {
			// The reader ran before the cancel: it took 1, legitimately.
			if got.v != 1 {
				t.Fatalf("Get = %d, want 1", got.v)
			}
			return
		}
		if v, err := q.Get(t.Context()); v != 1 || err != nil {
			t.Fatalf("retry Get = %d, %v: item 1 was dropped or reordered", v, err)
		}
	})
}

// asyncio test_get_cancel_drop_many_pending_readers: three readers, two
// items, the first reader cancelled right after it was handed item 1. If it
// sees the cancel, item 1 goes on to reader 3; if it took item 1 first, the
// test puts a third item for reader 3. Either way the two live readers get
// two distinct items and nothing is stuck.
func TestQueueGetCancelDropManyPendingReaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[int](0)
		ctx1, cancel1 := context.WithCancel(t.Context())
		results := make(chan int, 3)
		errs := make(chan error, 1)
		go func() {
			v, err := q.Get(ctx1)
			if err != nil {
				errs <- err
				return
			}
			results <- v
		}()
		synctest.Wait()
		for range 2 {
			go func() {
				v, err := q.Get(t.Context())
				if err != nil {
					t.Error(err)
				}
				results <- v
			}()
			synctest.Wait()
		}
		q.TryPut(1)
		q.TryPut(2)
		cancel1()
		synctest.Wait()
		got := map[int]int{}
		n := 2
		select {
		case err := <-errs:
			if err != context.Canceled {
				t.Fatal(err)
			}
		default: // reader 1 took an item before it saw the cancel
			q.TryPut(3)
			n = 3
		}
		for range n {
			got[<-results]++
		}
		if len(got) != n {
			t.Fatalf("readers got %v, want %d distinct items", got, n)
		}
	})
}

// asyncio test_put_cancel_drop / test_put_cancelled_race /
// test_cancelled_puts_not_being_held_in_self_putters.
func TestQueuePutCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[string](1)
		q.TryPut("a")
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := q.Put(t.Context(), "b"); err != nil {
				t.Error(err)
			}
		})
		synctest.Wait()
		ctx, cancel := context.WithCancel(t.Context())
		wg.Go(func() {
			if err := q.Put(ctx, "X"); err != context.Canceled {
				t.Errorf("cancelled Put = %v", err)
			}
		})
		synctest.Wait()
		cancel()
		synctest.Wait()
		if v, _ := q.TryGet(); v != "a" {
			t.Fatalf("TryGet = %q", v)
		}
		if v, _ := q.TryGet(); v != "b" {
			t.Fatalf("TryGet = %q, want b (X was cancelled)", v)
		}
		if q.Len() != 0 {
			t.Fatalf("Len = %d: the cancelled item went in", q.Len())
		}
		wg.Wait()
		// And a free slot goes to the next Put, not to a dead one.
		if !q.TryPut("c") {
			t.Fatal("TryPut refused with room free")
		}
	})
}

// Rule 3 of the package doc, for Put: a blocked Put whose ctx is done before room frees
// always fails, even if room frees before it notices; its item never goes in.
func TestQueuePutCancelBeforeGrantFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[int](1)
		q.TryPut(1)
		ctx, cancel := context.WithCancel(t.Context())
		res := make(chan error, 1)
		go func() { res <- q.Put(ctx, 2) }()
		go func() { res <- q.Put(t.Context(), 3) }()
		synctest.Wait()
		// cancel, then free room at once, from this goroutine, before the
		// first Put can run: the granter must skip it.
		cancel()
		q.TryGet()
		e1, e2 := <-res, <-res
		if (e1 == context.Canceled) == (e2 == context.Canceled) || (e1 != nil && e1 != context.Canceled) || (e2 != nil && e2 != context.Canceled) {
			t.Fatalf("Put results %v, %v; want one Canceled, one nil", e1, e2)
		}
		if v, _ := q.TryGet(); v != 3 {
			t.Fatalf("queue holds %d, want 3: the cancelled Put's item went in", v)
		}
	})
}

// asyncio test_task_done_underflow / test_task_done / test_join_empty_queue.
func TestQueueTaskDoneJoin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[int](0)
		mustPanic(t, "Queue.TaskDone", q.TaskDone)
		if err := q.Join(t.Context()); err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			q.TryPut(i)
		}
		var sum atomic.Int64
		ctx, stop := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for {
					v, err := q.Get(ctx)
					if err != nil {
						return
					}
					sum.Add(int64(v))
					q.TaskDone()
				}
			})
		}
		if err := q.Join(t.Context()); err != nil {
			t.Fatal(err)
		}
		if sum.Load() != 4950 {
			t.Fatalf("Join returned with sum %d, want 4950", sum.Load())
		}
		stop()
		wg.Wait()
		mustPanic(t, "Queue.TaskDone", q.TaskDone)
	})
}

func TestQueueJoinWaitsAndCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[int](0)
		q.TryPut(1)
		timesOutAfter(t, "Join", time.Second, q.Join)
		done := goParked(func() error { return q.Join(t.Context()) })
		q.TryGet()
		stillBlocked(t, "Join before TaskDone", done)
		q.TaskDone()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// asyncio test_shutdown_empty.
func TestQueueShutdownEmpty(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[string](0)
		getErr := goParked(func() error { _, err := q.Get(t.Context()); return err })
		q.Shutdown(false)
		if q.Len() != 0 {
			t.Fatal("Len != 0")
		}
		if err := q.Join(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := <-getErr; err != coord.ErrQueueShutDown {
			t.Fatalf("blocked Get = %v, want ErrQueueShutDown", err)
		}
		if err := q.Put(t.Context(), "data"); err != coord.ErrQueueShutDown {
			t.Fatalf("Put = %v", err)
		}
		if q.TryPut("data") {
			t.Fatal("TryPut after Shutdown succeeded")
		}
		if _, err := q.Get(t.Context()); err != coord.ErrQueueShutDown {
			t.Fatalf("Get = %v", err)
		}
		if _, ok := q.TryGet(); ok {
			t.Fatal("TryGet succeeded")
		}
	})
}

// asyncio test_shutdown_nonempty.
func TestQueueShutdownNonempty(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[string](1)
		q.TryPut("data")
		joinErr := goResult(func() error { return q.Join(t.Context()) })
		putErr := goResult(func() error { return q.Put(t.Context(), "data2") })
		stillBlocked(t, "Put on a full queue", putErr)
		q.Shutdown(false)
		if q.Len() != 1 {
			t.Fatalf("Len = %d, want 1", q.Len())
		}
		if err := <-putErr; err != coord.ErrQueueShutDown {
			t.Fatalf("blocked Put = %v, want ErrQueueShutDown", err)
		}
		if v, err := q.Get(t.Context()); v != "data" || err != nil {
			t.Fatalf("Get = %q, %v", v, err)
		}
		stillBlocked(t, "Join with a task unfinished", joinErr)
		if err := q.Put(t.Context(), "data"); err != coord.ErrQueueShutDown {
			t.Fatalf("Put = %v", err)
		}
		if _, err := q.Get(t.Context()); err != coord.ErrQueueShutDown {
			t.Fatalf("Get on drained queue = %v", err)
		}
		q.TaskDone()
		if err := <-joinErr; err != nil {
			t.Fatal(err)
		}
		mustPanic(t, "Queue.TaskDone", q.TaskDone)
	})
}

// asyncio test_shutdown_immediate / test_shutdown_immediate_with_unfinished.
// "Shutdown(true) drops what is left at once, counts each dropped item as
// done for Join, and wakes every blocked Get with the error."
func TestQueueShutdownImmediate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[string](0)
		q.TryPut("data")
		q.TryPut("data")
		q.TryPut("data")
		if v, err := q.Get(t.Context()); v != "data" || err != nil {
			t.Fatal(v, err)
		}
		joinErr := goResult(func() error { return q.Join(t.Context()) })
		stillBlocked(t, "Join with three tasks unfinished", joinErr)
		q.Shutdown(true) // unfinished 3 -> 1
		if q.Len() != 0 {
			t.Fatalf("Len = %d", q.Len())
		}
		stillBlocked(t, "Join with one item taken but not done", joinErr)
		if _, err := q.Get(t.Context()); err != coord.ErrQueueShutDown {
			t.Fatalf("Get = %v", err)
		}
		if err := q.Put(t.Context(), "x"); err != coord.ErrQueueShutDown {
			t.Fatalf("Put = %v", err)
		}
		q.TaskDone()
		mustPanic(t, "Queue.TaskDone", q.TaskDone)
		if err := resultNow(t, "Join", joinErr); err != nil {
			t.Fatal(err)
		}

		// With nothing taken, Shutdown(true) alone releases Join.
		q2 := coord.NewQueue[int](0)
		q2.TryPut(1)
		joinErr = goParked(func() error { return q2.Join(t.Context()) })
		q2.Shutdown(true)
		if err := <-joinErr; err != nil {
			t.Fatal(err)
		}
		mustPanic(t, "Queue.TaskDone", q2.TaskDone)
	})
}

// Shutdown wakes every blocked Get and Put at once, in both modes.
func TestQueueShutdownWakesAll(t *testing.T) {
	for _, immediate := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			empty := coord.NewQueue[int](1)
			full := coord.NewQueue[int](1)
			full.TryPut(0)
			errs := make(chan error, 6)
			for range 3 {
				go func() { _, err := empty.Get(t.Context()); errs <- err }()
				go func() { errs <- full.Put(t.Context(), 1) }()
			}
			synctest.Wait()
			empty.Shutdown(immediate)
			full.Shutdown(immediate)
			for range 6 {
				if err := <-errs; err != coord.ErrQueueShutDown {
					t.Fatalf("immediate=%v: woken call returned %v", immediate, err)
				}
			}
			_, ok := full.TryGet()
			if ok == immediate {
				t.Fatalf("immediate=%v: TryGet after Shutdown = %v", immediate, ok)
			}
		})
	}
}

// Stress: producers and consumers with random cancellation race the
// handoffs (to waiting Gets, from waiting Puts, and back from cancelled
// Gets). Every item that a Put reported as put is got exactly once, no
// item whose Put failed is ever got, and each producer's items come out in
// the order it put them.
func TestQueueStressCancel(t *testing.T) {
	for _, tc := range []struct{ maxsize, consumers int }{{0, 4}, {1, 4}, {4, 4}, {2, 1}} {
		maxsize, consumers := tc.maxsize, tc.consumers
		q := coord.NewQueue[int](maxsize)
		const producers = 4
		const perProducer = 1 << 20 // item = producer*perProducer + seq
		var (
			mu       sync.Mutex
			putOK    = map[int]bool{}
			got      = map[int]int{}
			lastSeq  [producers]int
			orderErr error
		)
		for i := range lastSeq {
			lastSeq[i] = -1
		}
		stop := time.Now().Add(250 * time.Millisecond)
		var pwg, cwg sync.WaitGroup
		for p := range producers {
			pwg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(p), 11))
				for seq := 0; time.Now().Before(stop); seq++ {
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(50))*time.Microsecond)
					v := p*perProducer + seq
					err := q.Put(ctx, v)
					cancel()
					if err == nil {
						mu.Lock()
						putOK[v] = true
						mu.Unlock()
					} else if !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("Put: %v", err)
						return
					}
				}
			})
		}
		for c := range consumers {
			cwg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(c), 13))
				for {
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(50))*time.Microsecond)
					v, err := q.Get(ctx)
					cancel()
					if errors.Is(err, context.DeadlineExceeded) {
						continue
					}
					if err == coord.ErrQueueShutDown {
						return
					}
					if err != nil {
						t.Errorf("Get: %v", err)
						return
					}
					mu.Lock()
					got[v]++
					p, seq := v/perProducer, v%perProducer
					if seq <= lastSeq[p] && orderErr == nil {
						orderErr = errors.New("producer order broken")
					}
					lastSeq[p] = seq
					mu.Unlock()
				}
			})
		}
		pwg.Wait()
		q.Shutdown(false) // consumers drain what is left, then stop
		cwg.Wait()
		// With several consumers, items may be recorded out of the order
		// they were got; with one, each producer's items must come out in
		// the order it put them, cancellations and handbacks included.
		if consumers == 1 && orderErr != nil {
			t.Fatalf("maxsize %d: %v", maxsize, orderErr)
		}
		for v, n := range got {
			if n != 1 {
				t.Fatalf("maxsize %d: item %d got %d times", maxsize, v, n)
			}
			if !putOK[v] {
				t.Fatalf("maxsize %d: item %d got but its Put failed", maxsize, v)
			}
		}
		for v := range putOK {
			if got[v] != 1 {
				t.Fatalf("maxsize %d: item %d put but never got", maxsize, v)
			}
		}
		if len(got) == 0 {
			t.Fatalf("maxsize %d: nothing went through", maxsize)
		}
		t.Logf("maxsize %d: %d items", maxsize, len(got))
	}
}

// Stress: Shutdown(true) races Puts, handoffs and cancelled Gets. The
// unfinished-task count stays exact: consumers call TaskDone for every item
// they got and never panic, and Join then returns; nothing is got twice.
func TestQueueStressShutdownImmediate(t *testing.T) {
	for round := range 30 {
		q := coord.NewQueue[int](1 + round%3)
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[int]int{}
		var next atomic.Int64
		for p := range 3 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(p)))
				for {
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(30))*time.Microsecond)
					err := q.Put(ctx, int(next.Add(1)))
					cancel()
					if err == coord.ErrQueueShutDown {
						return
					}
				}
			})
		}
		for c := range 3 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(c+10)))
				for {
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(30))*time.Microsecond)
					v, err := q.Get(ctx)
					cancel()
					if err == coord.ErrQueueShutDown {
						return
					}
					if err != nil {
						continue
					}
					mu.Lock()
					got[v]++
					mu.Unlock()
					q.TaskDone() // panics if the count went wrong
				}
			})
		}
		time.Sleep(time.Duration(1+round%5) * time.Millisecond)
		q.Shutdown(true)
		wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := q.Join(ctx); err != nil {
			t.Fatalf("round %d: Join after everyone finished = %v", round, err)
		}
		cancel()
		for v, n := range got {
			if n != 1 {
				t.Fatalf("round %d: item %d got %d times", round, v, n)
			}
		}
		mustPanic(t, "Queue.TaskDone", q.TaskDone)
	}
}
