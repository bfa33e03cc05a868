package coord_test

import (
	"context"
	"errors"
	"fmt"
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
		cancelWhileBlocked(t, "Wait", e.Wait)
		if e.IsSet() {
			t.Fatal("cancelled Wait set the Event")
		}
	})
}

func TestEventWaitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e coord.Event
		timesOutAfter(t, "Wait", time.Second, e.Wait)
	})
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
		errc := goParked(func() error { return e.Wait(context.Background()) })
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
		errc := goResult(func() error { return e.Wait(context.Background()) })
		stillBlocked(t, "Wait on a cleared Event", errc)
		e.Set()
		if err := <-errc; err != nil {
			t.Fatalf("Wait = %v", err)
		}
	})
}

// "Done returns a channel that is closed when the event is set (at once if it
// is set now), for use in select." One channel per generation: Clear starts
// a new one and leaves the old one closed.
func TestEventDone(t *testing.T) {
	var e coord.Event
	d1 := e.Done()
	if d1 != e.Done() {
		t.Fatal("Done returned different channels within one generation")
	}
	if isReady(d1) {
		t.Fatal("Done closed before Set")
	}
	e.Set()
	if !isReady(d1) {
		t.Fatal("Done channel not closed by Set")
	}
	if !isReady(e.Done()) {
		t.Fatal("Done of a set Event not closed at once")
	}
	e.Clear()
	d2 := e.Done()
	if isReady(d2) {
		t.Fatal("Done after Clear is closed")
	}
	if !isReady(d1) {
		t.Fatal("Clear reopened the channel of an earlier generation")
	}
	e.Set()
	if !isReady(d2) {
		t.Fatal("second Set did not close the new channel")
	}

	// An Event set before anyone asked for Done hands out a closed channel.
	var f coord.Event
	f.Set()
	if !isReady(f.Done()) {
		t.Fatal("Done of an Event set before Done was called is not closed")
	}
}

// "Set wakes every goroutine waiting at that moment; each of them returns nil
// even if Clear follows at once. Wait on a set event returns nil at once."
// One Set wakes a thousand waiters, each of which returns nil although the
// Event is cleared at once; a waiter that comes after the Clear waits for
// the next Set.
func TestEventBroadcastMany(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e coord.Event
		const n = 1000
		var chs []<-chan error
		for range n {
			chs = append(chs, goResult(func() error { return e.Wait(context.Background()) }))
		}
		synctest.Wait()
		e.Set()
		e.Clear()
		for i, ch := range chs {
			if err := resultNow(t, fmt.Sprint("waiter ", i), ch); err != nil {
				t.Fatalf("waiter %d of %d: %v", i, n, err)
			}
		}
		late := goResult(func() error { return e.Wait(context.Background()) })
		stillBlocked(t, "Wait after Clear", late)
		e.Set()
		if err := resultNow(t, "late", late); err != nil {
			t.Fatal(err)
		}
		if err := e.Wait(context.Background()); err != nil {
			t.Fatal(err)
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
