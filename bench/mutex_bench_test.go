package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/coordkit/coord"
	"golang.org/x/sync/semaphore"
)

// The anchors beside coord, in the same run. Ratios, not absolute times, are
// what the report keeps.

func BenchmarkMutexUncontended(b *testing.B) {
	ctx := context.Background()
	b.Run("coord", func(b *testing.B) {
		var m coord.Mutex
		b.ReportAllocs()
		for b.Loop() {
			m.Lock(ctx)
			m.Unlock()
		}
	})
	b.Run("sync", func(b *testing.B) {
		var m sync.Mutex
		b.ReportAllocs()
		for b.Loop() {
			m.Lock()
			m.Unlock()
		}
	})
}

func BenchmarkMutexUncontendedCancellable(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("coord", func(b *testing.B) {
		var m coord.Mutex
		b.ReportAllocs()
		for b.Loop() {
			m.Lock(ctx)
			m.Unlock()
		}
	})
	b.Run("xsync-weighted", func(b *testing.B) {
		s := semaphore.NewWeighted(1)
		b.ReportAllocs()
		for b.Loop() {
			s.Acquire(ctx, 1)
			s.Release(1)
		}
	})
}

// 8 goroutines per P, each locking and unlocking around a tiny critical
// section, as sync's BenchmarkMutex does.
func BenchmarkMutexContended(b *testing.B) {
	ctx := context.Background()
	work := func() {
		var x int
		for i := range 10 {
			x += i
		}
		_ = x
	}
	b.Run("coord", func(b *testing.B) {
		var m coord.Mutex
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Lock(ctx)
				work()
				m.Unlock()
			}
		})
	})
	b.Run("sync", func(b *testing.B) {
		var m sync.Mutex
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Lock()
				work()
				m.Unlock()
			}
		})
	})
	b.Run("xsync-weighted", func(b *testing.B) {
		s := semaphore.NewWeighted(1)
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.Acquire(ctx, 1)
				work()
				s.Release(1)
			}
		})
	})
}
