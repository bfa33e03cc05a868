package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coordkit/coord"
	"golang.org/x/sync/errgroup"
)

// groupTasks is the number of tasks of one group.
const groupTasks = 100

// One op is a whole group: create it, start 100 tasks that succeed, Wait.
// The tasks count themselves, so a group that returns before its tasks ran
// fails the benchmark.
func BenchmarkTaskGroup(b *testing.B) {
	ctx := context.Background()
	b.Run("coord", func(b *testing.B) {
		var ran atomic.Int64
		task := func(context.Context) error { ran.Add(1); return nil }
		b.ReportAllocs()
		for b.Loop() {
			ran.Store(0)
			g, _ := coord.NewTaskGroup(ctx)
			for range groupTasks {
				g.Go(task)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
			if n := ran.Load(); n != groupTasks {
				b.Fatalf("coord: Wait returned after %d of %d tasks", n, groupTasks)
			}
		}
	})
	b.Run("errgroup", func(b *testing.B) {
		var ran atomic.Int64
		task := func() error { ran.Add(1); return nil }
		b.ReportAllocs()
		for b.Loop() {
			ran.Store(0)
			g, _ := errgroup.WithContext(ctx)
			for range groupTasks {
				g.Go(task)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
			if n := ran.Load(); n != groupTasks {
				b.Fatalf("errgroup: Wait returned after %d of %d tasks", n, groupTasks)
			}
		}
	})
	// The floor: no context, no error collection, no panic recovery.
	b.Run("waitgroup", func(b *testing.B) {
		var ran atomic.Int64
		task := func() { ran.Add(1) }
		b.ReportAllocs()
		for b.Loop() {
			ran.Store(0)
			var wg sync.WaitGroup
			for range groupTasks {
				wg.Go(task)
			}
			wg.Wait()
			if n := ran.Load(); n != groupTasks {
				b.Fatalf("waitgroup: Wait returned after %d of %d tasks", n, groupTasks)
			}
		}
	})
}
