package bench

import (
	"context"
	"github.com/coordkit/coord/internal/inspect"
	"sync"
	"testing"
)

// The benchmarks follow one naming scheme, which cmd/report relies on:
//
//	BenchmarkWorkload/impl              one workload, coord and its anchors
//	BenchmarkScalingX/waiters=N/impl    one point of a scaling curve
//
// impl is "coord" or the name of the anchor a Go user would pick instead
// ("sync", "chan", "xsync-weighted", "close-chan", "sync-cond", "errgroup",
// "xtime-rate", ...). Every benchmark does exactly b.N operations whatever
// b.N is, including 1 (CI runs them at -benchtime=1x as a smoke test), and
// checks the results it can check, so a broken primitive fails rather than
// looking fast.

// work is the tiny critical section of the contended workloads, the same
// one sync's own BenchmarkMutex uses.
func work() {
	var x int
	for i := range 10 {
		x += i
	}
	_ = x
}

// spread runs b.N calls of op, split as evenly as possible across g
// goroutines that all start together, and times them from the start until
// the last call returns. The goroutines are started before the timer, so
// their creation is not counted. op gets the goroutine's index.
//
// With b.N < g some goroutines have nothing to do and return at once; that
// keeps b.N == 1 meaningful (one call) and quick.
func spread(b *testing.B, g int, op func(i int)) {
	b.Helper()
	nobodyLooks(b)
	start := make(chan struct{})
	var wg sync.WaitGroup
	per, extra := b.N/g, b.N%g
	for i := range g {
		n := per
		if i < extra {
			n++
		}
		wg.Go(func() {
			<-start
			for range n {
				op(i)
			}
		})
	}
	b.ResetTimer()
	close(start)
	wg.Wait()
	b.StopTimer()
}

// chanMutex is the mutex a Go user builds from a channel when they need a
// Lock that can be given up: a buffered channel of capacity 1, full while
// locked.
type chanMutex chan struct{}

func newChanMutex() chanMutex { return make(chanMutex, 1) }

func (m chanMutex) Lock() { m <- struct{}{} }

func (m chanMutex) LockCtx(ctx context.Context) error {
	select {
	case m <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m chanMutex) Unlock() { <-m }

// nobodyLooks fails a benchmark that would run while someone looks (see
// the package doc's "Seeing inside"): every wait would then be timed, and
// the rows of BENCHMARKS.md are what coord costs while nobody looks. Only
// the SeeingInside benchmarks look, and they turn looking off again.
func nobodyLooks(b *testing.B) {
	b.Helper()
	if inspect.Looking() {
		b.Fatal("someone looks: a benchmark before this one left looking on")
	}
}
