package bench

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coordkit/coord"
)

// A broadcast harness: waiters goroutines, b.N rounds. In each round the
// benchmark goroutine fires the round's event and waits until every waiter
// has woken and checked in; each waiter then goes on to wait for the next
// round. Only the last waiter to check in wakes the benchmark goroutine, so
// by the time the next event fires all the others are already waiting for
// it: what is measured is a broadcast to parked goroutines. One op is one
// round, so ns/op divided by waiters is the cost of one wakeup.
//
// Events cannot be re-armed the same way everywhere, so each
// implementation alternates between two and re-arms the one just used while
// nobody waits on it (Clear for coord, a new channel for close(chan), a
// generation count for sync.Cond). That cost is part of the round in all
// three.
type broadcaster struct {
	name string
	// setup returns the waiters' wait for round i and the benchmark
	// goroutine's fire-and-rearm for round i.
	setup func(b *testing.B) (wait func(i int), fire func(i int, waitAll func()))
}

var broadcasters = []broadcaster{
	{name: "coord", setup: func(b *testing.B) (func(int), func(int, func())) {
		ctx := context.Background()
		var evs [2]coord.Event
		return func(i int) {
				if err := evs[i%2].Wait(ctx); err != nil {
					b.Error(err)
				}
			}, func(i int, waitAll func()) {
				evs[i%2].Set()
				waitAll()
				evs[i%2].Clear()
			}
	}},
	{name: "close-chan", setup: func(b *testing.B) (func(int), func(int, func())) {
		chs := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		return func(i int) {
				<-chs[i%2]
			}, func(i int, waitAll func()) {
				close(chs[i%2])
				waitAll()
				// Nobody reads chs[i%2] before round i+2 starts, which
				// the close of chs[(i+1)%2] orders after this write.
				chs[i%2] = make(chan struct{})
			}
	}},
	{name: "sync-cond", setup: func(b *testing.B) (func(int), func(int, func())) {
		var mu sync.Mutex
		c := sync.NewCond(&mu)
		gen := 0 // rounds fired so far, guarded by mu
		return func(i int) {
				mu.Lock()
				for gen <= i {
					c.Wait()
				}
				mu.Unlock()
			}, func(i int, waitAll func()) {
				mu.Lock()
				gen++
				mu.Unlock()
				c.Broadcast()
				waitAll()
			}
	}},
}

func broadcast(b *testing.B, waiters int, bc broadcaster) {
	nobodyLooks(b)
	wait, fire := bc.setup(b)
	var left atomic.Int64
	allIn := make(chan struct{}, 1)
	var wg sync.WaitGroup
	rounds := b.N
	for range waiters {
		wg.Go(func() {
			for i := range rounds {
				wait(i)
				if left.Add(-1) == 0 {
					allIn <- struct{}{}
				}
			}
		})
	}
	waitAll := func() { <-allIn }
	b.ReportAllocs()
	b.ResetTimer()
	for i := range rounds {
		left.Store(int64(waiters))
		fire(i, waitAll)
	}
	b.StopTimer()
	wg.Wait()
	if n := left.Load(); n != 0 {
		b.Fatalf("%s: %d waiters did not wake", bc.name, n)
	}
}

// One Set wakes 1000 waiting goroutines.
func BenchmarkEventBroadcast1000(b *testing.B) {
	for _, bc := range broadcasters {
		b.Run(bc.name, func(b *testing.B) { broadcast(b, 1000, bc) })
	}
}

// The cost of a broadcast as the number of waiters grows from 1 to 10 000.
// The report divides ns/op by the number of waiters: the cost of one wakeup,
// which should stay flat.
func BenchmarkScalingEvent(b *testing.B) {
	for _, n := range scalingWaiters {
		b.Run("waiters="+strconv.Itoa(n), func(b *testing.B) {
			for _, bc := range broadcasters[:2] { // coord and close(chan)
				b.Run(bc.name, func(b *testing.B) { broadcast(b, n, bc) })
			}
		})
	}
}

// Wait on an Event that is already set: the fast path every waiter after
// the Set takes. The anchors are a receive from a closed channel, and the
// select a Go user writes to make that receive cancellable.
func BenchmarkEventWaitSet(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("coord", func(b *testing.B) {
		var ev coord.Event
		ev.Set()
		b.ReportAllocs()
		for b.Loop() {
			if err := ev.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("close-chan", func(b *testing.B) {
		ch := make(chan struct{})
		close(ch)
		b.ReportAllocs()
		for b.Loop() {
			<-ch
		}
	})
	b.Run("close-chan-select-ctx", func(b *testing.B) {
		ch := make(chan struct{})
		close(ch)
		b.ReportAllocs()
		for b.Loop() {
			select {
			case <-ch:
			case <-ctx.Done():
				b.Fatal(ctx.Err())
			}
		}
	})
}
