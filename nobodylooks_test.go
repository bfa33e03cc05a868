package coord

// While nobody looks, the primitives that count their blocked waits with
// plain additions under their own lock (a Tally, or a lane's counts) never
// touch their Recorder: no atomic add on its line, no waitLog allocated.
// This is what keeps Stats from costing the parking paths anything (see the
// package doc's "Seeing inside"); the Stats tests check that the counts are
// still exact.

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord/internal/inspect"
)

func TestNobodyLooksRecordersUntouched(t *testing.T) {
	inspect.StopLooking()
	defer inspect.StopLooking()
	synctest.Test(t, func(t *testing.T) {
		bg := context.Background()
		var wg sync.WaitGroup

		// Mutex: parked waiters, one that gives up, a handoff to a waiter
		// that has waited past the starvation threshold, and wakes.
		var m Mutex
		m.Lock(bg)
		quit, cancel := context.WithCancel(bg)
		for i := range 4 {
			wg.Go(func() {
				ctx := bg
				if i == 0 {
					ctx = quit
				}
				if m.Lock(ctx) == nil {
					m.Unlock()
				}
			})
		}
		synctest.Wait()
		cancel()
		time.Sleep(2 * starvationThreshold)
		m.Unlock()
		wg.Wait()

		// ReentrantMutex: a second owner waits for the first.
		var r ReentrantMutex
		owner, _ := r.Lock(bg)
		wg.Go(func() {
			ctx, _ := r.Lock(bg)
			r.Unlock(ctx)
		})
		synctest.Wait()
		r.Unlock(owner)
		wg.Wait()

		// Event: a waiter that cannot give up and one that does, then Set.
		var e Event
		quit, cancel = context.WithCancel(bg)
		wg.Go(func() { e.Wait(bg) })
		wg.Go(func() { e.Wait(quit) })
		synctest.Wait()
		cancel()
		synctest.Wait()
		e.Set()
		wg.Wait()

		// Barrier: a round that trips, then one broken by Abort.
		b := NewBarrier(3)
		for range 3 {
			wg.Go(func() { b.Wait(bg) })
		}
		wg.Wait()
		wg.Go(func() { b.Wait(bg) })
		synctest.Wait()
		b.Abort()
		wg.Wait()

		// Cond and Semaphore: waits whose ctx cannot end park in the lane.
		var mu Mutex
		c := NewCond(&mu)
		wg.Go(func() {
			mu.Lock(bg)
			c.Wait(bg)
			mu.Unlock()
		})
		synctest.Wait()
		mu.Lock(bg)
		c.Notify(1)
		mu.Unlock()
		wg.Wait()
		s := NewSemaphore(0)
		wg.Go(func() { s.Acquire(bg) })
		synctest.Wait()
		s.Release()
		wg.Wait()

		for _, p := range []struct {
			name string
			rec  *inspect.Recorder
		}{
			{"Mutex", &m.rec}, {"ReentrantMutex", &r.m.rec}, {"Event", &e.rec},
			{"Barrier", &b.rec}, {"Cond", &c.rec}, {"Semaphore", &s.rec},
		} {
			if p.rec.Logged() {
				t.Errorf("%s: its Recorder was touched while nobody looked", p.name)
			}
		}
		if inspect.Looking() {
			t.Fatal("something looked during the test")
		}
		// The waits were counted all the same.
		for _, st := range []Stats{m.Stats(), r.Stats(), e.Stats(), b.Stats(), c.Stats(), s.Stats()} {
			if st.Waits == 0 {
				t.Errorf("%s: no wait counted: %+v", st.Kind, st)
			}
		}
	})
}
