package coord_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// The Event tests follow CPython's Lib/test/test_asyncio/test_locks.py
// EventTests, with Go's goroutines and contexts in place of tasks and
// cancellation.

func TestEventZeroValueNotSet(t *testing.T) {
	var e coord.Event
	if e.IsSet() {
		t.Fatal("zero Event is set")
	}
	select {
	case <-e.Done():
		t.Fatal("Done of a zero Event is closed")
	default:
	}
}

// test_wait: every waiter parked at the moment of Set returns nil.
func TestEventWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e coord.Event
		var mu sync.Mutex
		var woke []int
		var wg sync.WaitGroup
		start := func(i int) {
			wg.Go(func() {
				if err := e.Wait(context.Background()); err != nil {
					t.Errorf("waiter %d: %v", i, err)
					return
				}
				mu.Lock()
				woke = append(woke, i)
				mu.Unlock()
			})
		}
		start(1)
		start(2)
		synctest.Wait()
		if len(woke) != 0 {
			t.Fatalf("woke %v before Set", woke)
		}
		start(3)
		e.Set()
		wg.Wait()
		if len(woke) != 3 {
			t.Fatalf("woke %v, want all three", woke)
		}
		if !e.IsSet() {
			t.Fatal("IsSet false after Set")
		}
	})
}

// test_wait_on_set
func TestEventWaitOnSet(t *testing.T) {
	var e coord.Event
	e.Set()
	if err := e.Wait(context.Background()); err != nil {
		t.Fatalf("Wait on a set Event: %v", err)
	}
	e.Set() // setting a set Event is a no-op
	if !e.IsSet() {
		t.Fatal("IsSet false after Set twice")
	}
}

// test_wait_cancel: a cancelled Wait returns ctx.Err() itself and leaves no
// goroutine behind (the synctest bubble fails on a leak).
func TestEventWaitCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e coord.Event
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- e.Wait(ctx) }()
		synctest.Wait()
		cancel()
		if err := <-errc; err != context.Canceled {
			t.Fatalf("Wait = %v, want context.Canceled (unwrapped)", err)
		}
		if e.IsSet() {
			t.Fatal("cancelled Wait set the Event")
		}
	})
}

func TestEventWaitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e coord.Event
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		if err := e.Wait(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Wait = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("Wait gave up after %v, want 1s", d)
		}
	})
}

// Rule 2: a done ctx fails Wait even on a set Event.
func TestEventWaitDoneContextOnSetEvent(t *testing.T) {
	var e coord.Event
	e.Set()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Wait(ctx); err != context.Canceled {
		t.Fatalf("Wait(done ctx) on a set Event = %v, want context.Canceled", err)
	}
	if !e.IsSet() {
		t.Fatal("Wait with a done ctx cleared the Event")
	}
}

// test_clear
func TestEventClear(t *testing.T) {
	var e coord.Event
	e.Clear() // clearing a clear Event is a no-op
	e.Set()
	if !e.IsSet() {
		t.Fatal("IsSet false after Set")
	}
	e.Clear()
	if e.IsSet() {
		t.Fatal("IsSet true after Clear")
	}
}

// test_clear_with_waiters: a waiter parked at the Set returns nil even
// though Clear follows at once, before it could run.
func TestEventClearWithWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e coord.Event
		errc := make(chan error, 1)
		go func() { errc <- e.Wait(context.Background()) }()
		synctest.Wait()
		e.Set()
		e.Clear()
		if e.IsSet() {
			t.Fatal("IsSet true after Set, Clear")
		}
		e.Set()
		e.Set()
		if err := <-errc; err != nil {
			t.Fatalf("Wait = %v, want nil", err)
		}
	})
}

// A waiter that arrives after Set, Clear waits for the next Set.
func TestEventWaitAfterClearBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e coord.Event
		e.Set()
		e.Clear()
		var returned atomic.Bool
		errc := make(chan error, 1)
		go func() {
			errc <- e.Wait(context.Background())
			returned.Store(true)
		}()
		synctest.Wait()
		if returned.Load() {
			t.Fatal("Wait returned on a cleared Event")
		}
		e.Set()
		if err := <-errc; err != nil {
			t.Fatalf("Wait = %v", err)
		}
	})
}

func TestEventDone(t *testing.T) {
	var e coord.Event
	d1 := e.Done()
	if d1 != e.Done() {
		t.Fatal("Done returned different channels within one generation")
	}
	e.Set()
	select {
	case <-d1:
	default:
		t.Fatal("Done channel not closed by Set")
	}
	select {
	case <-e.Done():
	default:
		t.Fatal("Done of a set Event not closed")
	}
	e.Clear()
	d2 := e.Done()
	select {
	case <-d2:
		t.Fatal("Done after Clear is closed")
	default:
	}
	select {
	case <-d1:
	default:
		t.Fatal("Clear reopened the channel of an earlier generation")
	}
	e.Set()
	select {
	case <-d2:
	default:
		t.Fatal("second Set did not close the new channel")
	}

	// An Event set before anyone asked for Done hands out a closed channel.
	var f coord.Event
	f.Set()
	select {
	case <-f.Done():
	default:
		t.Fatal("Done of an Event set before Done was called is not closed")
	}
}

// One Set wakes a thousand waiters, each of which returns nil although the
// Event is cleared at once.
func TestEventBroadcastMany(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e coord.Event
		const n = 1000
		var ok atomic.Int32
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if err := e.Wait(context.Background()); err == nil {
					ok.Add(1)
				}
			})
		}
		synctest.Wait()
		e.Set()
		e.Clear()
		wg.Wait()
		if got := ok.Load(); got != n {
			t.Fatalf("%d of %d waiters returned nil", got, n)
		}
	})
}

// Stress: waiters with random deadlines race against Set/Clear toggling.
// Every Wait returns nil or its own ctx error unwrapped, and none hangs.
func TestEventStress(t *testing.T) {
	noGoroutineLeak(t)
	var e coord.Event
	var sets atomic.Int64 // number of Sets performed
	stop := make(chan struct{})
	var toggler sync.WaitGroup
	toggler.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			e.Set()
			sets.Add(1)
			e.Clear()
		}
	})
	var wg sync.WaitGroup
	var nils, errs atomic.Int64
	for i := range 2000 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%50)*time.Microsecond)
			defer cancel()
			err := e.Wait(ctx)
			switch {
			case err == nil:
				nils.Add(1)
			case errors.Is(err, context.DeadlineExceeded) && err == ctx.Err():
				errs.Add(1)
			default:
				t.Errorf("Wait = %v", err)
			}
		})
	}
	wg.Wait()
	close(stop)
	toggler.Wait()
	if nils.Load()+errs.Load() != 2000 {
		t.Fatalf("%d nil + %d errors != 2000", nils.Load(), errs.Load())
	}
	if sets.Load() == 0 {
		t.Fatal("toggler never ran")
	}
}
