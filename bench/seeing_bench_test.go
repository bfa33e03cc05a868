package bench

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
)

// What looking costs. coord's primitives count only waits that block, and
// while nobody looks they only count them (no clock reading), so the
// workloads above measure within noise of what they measured before Stats
// existed. Once someone looks, every wait that blocks is timed. Here the same workloads run three ways, one after the
// other in one process:
//
//	off       nobody looks
//	stats     the primitive registered and every Stats read once a second,
//	          as a metrics collector or an open page would
//	slowwait  the same, and SetSlowWait(time.Second) on: every wait that
//	          blocks notes its call stack and arms a timer, every lock
//	          acquisition notes its caller
//
// Not a row of BENCHMARKS.md: the ratios to read are slowwait/off and
// stats/off.
func BenchmarkSeeingInside(b *testing.B) {
	// Looking, once on, stays on for the process: turn it off again, so
	// that the benchmarks that run after this one in the same process (the
	// Semaphore's, the TaskGroup's) measure what they measure while nobody
	// looks, as their rows in BENCHMARKS.md say.
	b.Cleanup(inspect.StopLooking)
	ctx := context.Background()
	b.Run("MutexUncontended", func(b *testing.B) {
		for _, mode := range lookModes {
			b.Run(mode, func(b *testing.B) {
				var m coord.Mutex
				defer look(mode, &m)()
				uncontendedCoord(b, ctx, &m)
			})
		}
	})
	b.Run("MutexContended", func(b *testing.B) {
		for _, mode := range lookModes {
			b.Run(mode, func(b *testing.B) {
				var m coord.Mutex
				defer look(mode, &m)()
				contendedCoord(b, ctx, &m)
			})
		}
	})
	// The bounded buffer of one item: nearly every Wait parks, so nearly
	// every item is two waits that block.
	b.Run("CondBoundedBuffer1", func(b *testing.B) {
		for _, mode := range lookModes {
			b.Run(mode, func(b *testing.B) {
				var mu coord.Mutex
				notFull, notEmpty := coord.NewCond(&mu), coord.NewCond(&mu)
				defer look(mode, notEmpty)()
				coordBuffer(b, ctx, &mu, notFull, notEmpty, 1)
			})
		}
	})
}

// What reading costs: one primitive's Stats, and Snapshot of a thousand
// registered Mutexes (what the page and the otel adapter call).
func BenchmarkSeeingInsideRead(b *testing.B) {
	b.Cleanup(inspect.StopLooking) // see BenchmarkSeeingInside
	b.Run("Stats", func(b *testing.B) {
		var m coord.Mutex
		coord.Register("bench/read", &m)
		defer coord.Unregister("bench/read")
		b.ReportAllocs()
		for b.Loop() {
			if m.Stats().Name != "bench/read" {
				b.Fatal("not named")
			}
		}
	})
	b.Run("Snapshot1000", func(b *testing.B) {
		ms := make([]coord.Mutex, 1000)
		for i := range ms {
			coord.Register("bench/snapshot/"+strconv.Itoa(i), &ms[i])
		}
		defer func() {
			for i := range ms {
				coord.Unregister("bench/snapshot/" + strconv.Itoa(i))
			}
		}()
		b.ReportAllocs()
		for b.Loop() {
			if n := len(coord.Snapshot()); n < 1000 {
				b.Fatalf("Snapshot of %d", n)
			}
		}
	})
}

var lookModes = []string{"off", "stats", "slowwait"}

// look starts looking at p as mode says and returns what stops it.
func look(mode string, p interface{ Stats() coord.Stats }) (stop func()) {
	if mode == "off" {
		// Looking, once on, stays on for the process; a benchmark of
		// what nobody looking costs turns it off again (a seam that
		// only tests use).
		inspect.StopLooking()
		return func() {}
	}
	coord.Register("bench/seeing", p)
	if mode == "slowwait" {
		coord.SetSlowWait(time.Second, slog.New(slog.DiscardHandler))
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				coord.Snapshot()
			case <-done:
				return
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		coord.SetSlowWait(0, nil)
		coord.Unregister("bench/seeing")
	}
}
