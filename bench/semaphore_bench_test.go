package bench

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/coordkit/coord"
	"golang.org/x/sync/semaphore"
)

// limiters are the semaphores of the 10-of-1000 and scaling workloads.
type limiter struct {
	name string
	new  func(n int) (acquire func(context.Context) error, release func())
}

var limiters = []limiter{
	{name: "coord", new: func(n int) (func(context.Context) error, func()) {
		s := coord.NewSemaphore(n)
		return s.Acquire, s.Release
	}},
	{name: "xsync-weighted", new: func(n int) (func(context.Context) error, func()) {
		s := semaphore.NewWeighted(int64(n))
		return func(ctx context.Context) error { return s.Acquire(ctx, 1) }, func() { s.Release(1) }
	}},
	{name: "chan", new: func(n int) (func(context.Context) error, func()) {
		s := make(chan struct{}, n)
		return func(ctx context.Context) error {
				select {
				case s <- struct{}{}:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}, func() {
				<-s
			}
	}},
}

// limited runs b.N acquire/yield/release sections across g goroutines with
// at most limit inside at once, and checks that the limit holds. As in the
// handoff workload each holder yields while it holds its permit, so the
// others queue for real.
func limited(b *testing.B, g, limit int, l limiter) {
	ctx := context.Background()
	acquire, release := l.new(limit)
	var inside atomic.Int64
	b.ReportAllocs()
	spread(b, g, func(int) {
		if err := acquire(ctx); err != nil {
			b.Error(err)
			return
		}
		if n := inside.Add(1); n > int64(limit) {
			b.Errorf("%s: %d holders of a semaphore of %d", l.name, n, limit)
		}
		runtime.Gosched()
		inside.Add(-1)
		release()
	})
}

// Acquire and Release of a semaphore nobody else uses.
func BenchmarkSemaphoreUncontended(b *testing.B) {
	ctx := context.Background()
	for _, l := range limiters {
		b.Run(l.name, func(b *testing.B) {
			acquire, release := l.new(10)
			b.ReportAllocs()
			for b.Loop() {
				if err := acquire(ctx); err != nil {
					b.Fatal(err)
				}
				release()
			}
		})
	}
}

// 1000 goroutines share 10 permits.
func BenchmarkSemaphoreTenOf1000(b *testing.B) {
	for _, l := range limiters {
		b.Run(l.name, func(b *testing.B) { limited(b, 1000, 10, l) })
	}
}

// The cost of one Acquire/Release of a semaphore of 10 as the number of
// goroutines competing for it grows from 1 to 10 000.
func BenchmarkScalingSemaphore(b *testing.B) {
	for _, n := range scalingWaiters {
		b.Run("waiters="+strconv.Itoa(n), func(b *testing.B) {
			for _, l := range limiters[:2] { // coord and x/sync
				b.Run(l.name, func(b *testing.B) { limited(b, n, 10, l) })
			}
		})
	}
}
