package bench

import (
	"context"
	"testing"
	"time"

	"github.com/coordkit/coord"
	"golang.org/x/time/rate"
)

// RateLimiter is a sliding-window log (at most limit admissions in any
// window); rate.Limiter is a token bucket. They are compared at the same
// nominal rate: limit per window against a bucket of limit tokens refilled
// at limit/window per second.

// highLimit admissions per highWindow (2048 per 10 µs, one every 5 ns) is
// more than one goroutine can ask for, so every call is admitted: the cost
// of the bookkeeping alone. The window is short on purpose: a sliding-window
// log keeps one timestamp per admission in the window, so a limit of
// millions per second over a long window would measure a log of megabytes
// (and its growth) rather than a limiter anyone would configure.
const (
	highLimit  = 2048
	highWindow = 10 * time.Microsecond
)

func highRate() *rate.Limiter {
	return rate.NewLimiter(rate.Limit(float64(highLimit)/highWindow.Seconds()), highLimit)
}

// Allow on a limiter that always admits.
func BenchmarkRateLimiterAllow(b *testing.B) {
	b.Run("coord", func(b *testing.B) {
		r := coord.NewRateLimiter(highLimit, highWindow)
		b.ReportAllocs()
		for b.Loop() {
			if !r.Allow() {
				b.Fatal("coord: Allow refused under a limit no goroutine can reach")
			}
		}
	})
	b.Run("xtime-rate", func(b *testing.B) {
		r := highRate()
		b.ReportAllocs()
		for b.Loop() {
			if !r.Allow() {
				b.Fatal("xtime-rate: Allow refused under a limit no goroutine can reach")
			}
		}
	})
}

// Allow on a limiter that is used up for the next hour: the refusal path.
func BenchmarkRateLimiterAllowRefused(b *testing.B) {
	b.Run("coord", func(b *testing.B) {
		r := coord.NewRateLimiter(1, time.Hour)
		if !r.Allow() {
			b.Fatal("coord: first Allow refused")
		}
		b.ReportAllocs()
		for b.Loop() {
			if r.Allow() {
				b.Fatal("coord: Allow admitted past the limit")
			}
		}
	})
	b.Run("xtime-rate", func(b *testing.B) {
		r := rate.NewLimiter(rate.Every(time.Hour), 1)
		if !r.Allow() {
			b.Fatal("xtime-rate: first Allow refused")
		}
		b.ReportAllocs()
		for b.Loop() {
			if r.Allow() {
				b.Fatal("xtime-rate: Allow admitted past the limit")
			}
		}
	})
}

// Wait on a limiter that always admits at once.
func BenchmarkRateLimiterWait(b *testing.B) {
	ctx := context.Background()
	b.Run("coord", func(b *testing.B) {
		r := coord.NewRateLimiter(highLimit, highWindow)
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("xtime-rate", func(b *testing.B) {
		r := highRate()
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Wait on a limiter of 100 per ms (100 000 per second) that one goroutine
// keeps saturated, so most Waits sleep: ns/op should come out near 10 000
// (1 s / 100 000) for both, and how far above it each lands is what its
// timing costs. The sliding window admits in bursts of 100 once the oldest
// admission leaves the window; the bucket admits one token at a time.
func BenchmarkRateLimiterWaitPaced(b *testing.B) {
	ctx := context.Background()
	const limit, window = 100, time.Millisecond
	b.Run("coord", func(b *testing.B) {
		r := coord.NewRateLimiter(limit, window)
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("xtime-rate", func(b *testing.B) {
		r := rate.NewLimiter(rate.Limit(float64(limit)/window.Seconds()), limit)
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
