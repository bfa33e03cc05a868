package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/coordkit/coord"
)

// queueCap is the capacity of the queue and of the channel it is measured
// against.
const queueCap = 128

// One producer goroutine, one consumer (the benchmark goroutine), a bounded
// queue of 128 between them. One op is one item through the queue; the
// consumer checks that items arrive in order.
func BenchmarkQueueSPSC(b *testing.B) {
	ctx := context.Background()
	b.Run("coord", func(b *testing.B) {
		q := coord.NewQueue[int](queueCap)
		b.ReportAllocs()
		b.ResetTimer()
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range b.N {
				if err := q.Put(ctx, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
		for i := range b.N {
			v, err := q.Get(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if v != i {
				b.Fatalf("coord: got item %d, want %d", v, i)
			}
		}
		wg.Wait()
	})
	b.Run("chan", func(b *testing.B) {
		ch := make(chan int, queueCap)
		b.ReportAllocs()
		b.ResetTimer()
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range b.N {
				ch <- i
			}
		})
		for i := range b.N {
			if v := <-ch; v != i {
				b.Fatalf("chan: got item %d, want %d", v, i)
			}
		}
		wg.Wait()
	})
	// What a channel costs once every send and receive can be given up,
	// which is what Queue's Put and Get always offer.
	b.Run("chan-select-ctx", func(b *testing.B) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ch := make(chan int, queueCap)
		b.ReportAllocs()
		b.ResetTimer()
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range b.N {
				select {
				case ch <- i:
				case <-ctx.Done():
					b.Error(ctx.Err())
					return
				}
			}
		})
		for i := range b.N {
			select {
			case v := <-ch:
				if v != i {
					b.Fatalf("chan-select-ctx: got item %d, want %d", v, i)
				}
			case <-ctx.Done():
				b.Fatal(ctx.Err())
			}
		}
		wg.Wait()
	})
}

// TryPut then TryGet in one goroutine: the queue's own bookkeeping, with
// nobody ever waiting.
func BenchmarkQueueTryPutGet(b *testing.B) {
	b.Run("coord", func(b *testing.B) {
		q := coord.NewQueue[int](queueCap)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if !q.TryPut(i) {
				b.Fatal("coord: TryPut on an empty queue failed")
			}
			if v, ok := q.TryGet(); !ok || v != i {
				b.Fatalf("coord: TryGet = %d, %t; want %d, true", v, ok, i)
			}
			i++
		}
	})
	b.Run("chan", func(b *testing.B) {
		ch := make(chan int, queueCap)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			select {
			case ch <- i:
			default:
				b.Fatal("chan: send to an empty channel failed")
			}
			select {
			case v := <-ch:
				if v != i {
					b.Fatalf("chan: got %d, want %d", v, i)
				}
			default:
				b.Fatal("chan: receive from a full channel failed")
			}
			i++
		}
	})
}
