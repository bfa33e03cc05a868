package coord_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// rlStartWaiters starts n goroutines that call Wait in turn (each queued before
// the next starts) and record, by caller number, the instant Wait returned,
// as an offset from start.
func rlStartWaiters(t *testing.T, r *coord.RateLimiter, ctxs []context.Context, start time.Time) ([]time.Duration, []error, *sync.WaitGroup) {
	at := make([]time.Duration, len(ctxs))
	errs := make([]error, len(ctxs))
	var wg sync.WaitGroup
	for i, ctx := range ctxs {
		wg.Go(func() {
			errs[i] = r.Wait(ctx)
			at[i] = time.Since(start)
		})
		synctest.Wait() // fix the arrival order
	}
	return at, errs, &wg
}

func rlCtxs(ctx context.Context, n int) []context.Context {
	s := make([]context.Context, n)
	for i := range s {
		s[i] = ctx
	}
	return s
}

// Ten waiters against 3 per second are admitted at exactly 0,0,0, 1s,1s,1s,
// 2s,2s,2s, 3s: each as soon as the window allows, not later, and in order.
func TestRateLimiterExactTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := coord.NewRateLimiter(3, time.Second)
		start := time.Now()
		at, errs, wg := rlStartWaiters(t, r, rlCtxs(t.Context(), 10), start)
		wg.Wait()
		s := time.Second
		want := []time.Duration{0, 0, 0, s, s, s, 2 * s, 2 * s, 2 * s, 3 * s}
		if !slices.Equal(at, want) {
			t.Fatalf("admitted at %v, want %v", at, want)
		}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Wait %d: %v", i, err)
			}
		}
	})
}

// The window slides: admissions spread over time free their slots one by
// one, a window after each, not all at a fixed boundary. "At most limit
// admissions in any half-open interval [t, t+window) ...; a waiter is
// admitted as soon as that allows it, not later." "Waiters are admitted
// FIFO; one that gives up takes no slot; Allow refuses while anyone is
// queued."
func TestRateLimiterSlidingWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := coord.NewRateLimiter(2, time.Second)
		start := time.Now()
		if !r.Allow() { // t=0
			t.Fatal("first Allow refused")
		}
		time.Sleep(300 * time.Millisecond)
		if !r.Allow() { // t=300ms
			t.Fatal("second Allow refused")
		}
		if r.Allow() {
			t.Fatal("third Allow in the window admitted")
		}
		// The next slot frees at 1s (the admission at 0 leaves), the one
		// after at 1.3s.
		at, _, wg := rlStartWaiters(t, r, rlCtxs(t.Context(), 2), start)
		wg.Wait()
		want := []time.Duration{time.Second, 1300 * time.Millisecond}
		if !slices.Equal(at, want) {
			t.Fatalf("admitted at %v, want %v", at, want)
		}
		// Half-open window: at exactly 2s the admission at 1s has left.
		time.Sleep(2*time.Second - time.Since(start) - time.Nanosecond)
		if r.Allow() {
			t.Fatal("Allow admitted a third event within [1s, 2s)")
		}
		time.Sleep(time.Nanosecond)
		if !r.Allow() {
			t.Fatal("Allow refused at 2s, when [2s, 3s) holds only the one at 1.3s")
		}
	})
	// The same window with four queued waiters, the second of which gives up.
	synctest.Test(t, func(t *testing.T) {
		r := coord.NewRateLimiter(2, time.Second)
		start := time.Now()
		r.Allow()
		time.Sleep(300 * time.Millisecond)
		r.Allow() // admissions at 0 and 0.3 s
		var mu sync.Mutex
		var order []int
		at := map[int]time.Duration{}
		ctxGiveUp, cancel := context.WithCancel(context.Background())
		var chs []<-chan error
		for i := range 4 {
			ctx := context.Background()
			if i == 1 {
				ctx = ctxGiveUp
			}
			chs = append(chs, goResult(func() error {
				err := r.Wait(ctx)
				if err == nil {
					mu.Lock()
					order = append(order, i)
					at[i] = time.Since(start)
					mu.Unlock()
				}
				return err
			}))
			synctest.Wait()
		}
		if r.Allow() {
			t.Fatal("Allow admitted while callers are queued")
		}
		cancel()
		synctest.Wait()
		for _, ch := range chs {
			<-ch
		}
		// 0 at 1.0 s (first admission leaves), then 2 at 1.3 s, 3 at 2.0 s.
		want := map[int]time.Duration{0: time.Second, 2: 1300 * time.Millisecond, 3: 2 * time.Second}
		if len(order) != 3 || order[0] != 0 || order[1] != 2 || order[2] != 3 {
			t.Fatalf("order %v; want [0 2 3]", order)
		}
		for i, d := range want {
			if at[i] != d {
				t.Fatalf("waiter %d admitted at %v; want %v", i, at[i], d)
			}
		}
	})
}

// Queued waiters that give up (one of them the head, asleep on its timer)
// take no slot and delay nobody: the ones behind are admitted exactly as if
// the two had never come, the first three of them at 1s.
func TestRateLimiterCancelShiftsNobodyLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := coord.NewRateLimiter(3, time.Second)
		start := time.Now()
		cs := rlCtxs(t.Context(), 10)
		// Waiter 4 (admitted at 1s otherwise) and waiter 3 (the head at the
		// time) give up at 500ms.
		c3, cancel3 := context.WithCancel(t.Context())
		c4, cancel4 := context.WithCancel(t.Context())
		cs[3], cs[4] = c3, c4
		at, errs, wg := rlStartWaiters(t, r, cs, start)
		time.Sleep(500 * time.Millisecond)
		cancel3()
		cancel4()
		wg.Wait()
		s := time.Second
		want := []time.Duration{0, 0, 0, s / 2, s / 2, s, s, s, 2 * s, 2 * s}
		if !slices.Equal(at, want) {
			t.Fatalf("returned at %v, want %v", at, want)
		}
		for i, err := range errs {
			if (i == 3 || i == 4) != (err == context.Canceled) {
				t.Fatalf("Wait %d returned %v", i, err)
			}
		}
	})
}

// A waiter whose deadline falls at the very instant it would be admitted:
// the timer and the deadline fire together; whichever the head sees, the
// outcome is one of the two, and the slot is not lost.
func TestRateLimiterDeadlineAtAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := coord.NewRateLimiter(1, time.Second)
		start := time.Now()
		r.Allow()
		ctx, cancel := context.WithDeadline(t.Context(), start.Add(time.Second))
		defer cancel()
		at, errs, wg := rlStartWaiters(t, r, []context.Context{ctx, t.Context()}, start)
		wg.Wait()
		switch {
		case errs[0] == nil && at[0] == time.Second && at[1] == 2*time.Second:
		case errs[0] == context.DeadlineExceeded && at[1] == time.Second:
		default:
			t.Fatalf("errs %v at %v", errs, at)
		}
	})
}

// Allow refuses while anyone waits, even when a slot is free at that very
// instant for the head; and rule 2 of the package doc for Wait.
func TestRateLimiterAllowDoesNotJump(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := coord.NewRateLimiter(1, time.Second)
		if !r.Allow() {
			t.Fatal("Allow refused on a fresh limiter")
		}
		done := goParked(func() error { return r.Wait(t.Context()) })
		if r.Allow() {
			t.Fatal("Allow admitted while a waiter was queued")
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		isCtxErr(t, "Wait(done ctx)", r.Wait(doneCtx()), context.Canceled)
		if !r.Allow() {
			t.Fatal("the refused Wait took a slot")
		}
	})
}

// The seed's logger, for contrast, recorded the time read before it slept:
// with 3 per second and 10 callers it let 4 through in [1s, 2s). Count, in
// every window, the admissions of many waiters with random arrival times.
func TestRateLimiterNeverExceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit, n = 4, 200
		window := 100 * time.Millisecond
		r := coord.NewRateLimiter(limit, window)
		var mu sync.Mutex
		var times []time.Time
		var wg sync.WaitGroup
		var cancelled atomic.Int32
		for i := range n {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(i), 7))
				time.Sleep(time.Duration(rng.IntN(2000)) * time.Millisecond)
				ctx := t.Context()
				if rng.IntN(4) == 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, time.Duration(rng.IntN(500))*time.Millisecond)
					defer cancel()
				}
				var ok bool
				if rng.IntN(3) == 0 {
					ok = r.Allow()
				} else {
					ok = r.Wait(ctx) == nil
					if !ok {
						cancelled.Add(1)
					}
				}
				if ok {
					mu.Lock()
					times = append(times, time.Now())
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		for i := limit; i < len(times); i++ {
			if d := times[i].Sub(times[i-limit]); d < window {
				t.Fatalf("admissions %d and %d are %v apart: %d in less than %v", i-limit, i, d, limit+1, window)
			}
		}
		if cancelled.Load() == 0 {
			t.Fatal("no Wait gave up; the test did not exercise cancellation")
		}
	})
}

// Real-clock stress under -race: concurrent Wait and Allow with random
// cancellation never admit more than limit in any window, and no goroutine
// is left waiting.
func TestRateLimiterStressRealClock(t *testing.T) {
	const limit = 5
	window := 20 * time.Millisecond
	r := coord.NewRateLimiter(limit, window)
	var mu sync.Mutex
	var times []time.Time
	var wg sync.WaitGroup
	stop := time.Now().Add(300 * time.Millisecond)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for time.Now().Before(stop) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(10))*time.Millisecond)
				var ok bool
				if rng.IntN(4) == 0 {
					ok = r.Allow()
				} else {
					ok = r.Wait(ctx) == nil
				}
				// Read the clock under the mutex right after admission; an
				// admission happens no later than this reading.
				if ok {
					mu.Lock()
					times = append(times, time.Now())
					mu.Unlock()
				}
				cancel()
			}
		})
	}
	wg.Wait()
	if len(times) < limit {
		t.Fatalf("only %d admissions", len(times))
	}
	// Readings are taken after admission, possibly late, so only check
	// that the overall rate is bounded (with one extra window of slack).
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	span := times[len(times)-1].Sub(times[0])
	if max := limit * (int(span/window) + 2); len(times) > max {
		t.Fatalf("%d admissions in %v, more than %d", len(times), span, max)
	}
}
