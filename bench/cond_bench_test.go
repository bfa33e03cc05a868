package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/coordkit/coord"
)

// bufferCap is the capacity of the bounded buffer: small, so that the
// producer and the consumer really wait for each other.
const bufferCap = 8

// ring is the bounded buffer's storage, guarded by the lock of whichever
// Cond pair drives it.
type ring struct {
	buf        [bufferCap]int
	head, size int
}

func (r *ring) full() bool  { return r.size == bufferCap }
func (r *ring) empty() bool { return r.size == 0 }
func (r *ring) push(v int) {
	r.buf[(r.head+r.size)%bufferCap] = v
	r.size++
}
func (r *ring) pop() int {
	v := r.buf[r.head]
	r.head = (r.head + 1) % bufferCap
	r.size--
	return v
}

// The bounded buffer of the textbooks (and of asyncio.Condition's docs):
// one producer and one consumer, a buffer of 8, one lock and two
// conditions, "not full" and "not empty". One op is one item passed
// through. The consumer checks that items arrive in order.
func BenchmarkCondBoundedBuffer(b *testing.B) {
	b.Run("coord", func(b *testing.B) {
		ctx := context.Background()
		var mu coord.Mutex
		notFull, notEmpty := coord.NewCond(&mu), coord.NewCond(&mu)
		var r ring
		b.ReportAllocs()
		b.ResetTimer()
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range b.N {
				if err := mu.Lock(ctx); err != nil {
					b.Error(err)
					return
				}
				for r.full() {
					if err := notFull.Wait(ctx); err != nil {
						b.Error(err)
					}
				}
				r.push(i)
				notEmpty.Notify(1)
				mu.Unlock()
			}
		})
		for i := range b.N {
			if err := mu.Lock(ctx); err != nil {
				b.Fatal(err)
			}
			for r.empty() {
				if err := notEmpty.Wait(ctx); err != nil {
					b.Error(err)
				}
			}
			if v := r.pop(); v != i {
				b.Errorf("coord: got item %d, want %d", v, i)
			}
			notFull.Notify(1)
			mu.Unlock()
		}
		wg.Wait()
	})
	b.Run("sync-cond", func(b *testing.B) {
		var mu sync.Mutex
		notFull, notEmpty := sync.NewCond(&mu), sync.NewCond(&mu)
		var r ring
		b.ReportAllocs()
		b.ResetTimer()
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range b.N {
				mu.Lock()
				for r.full() {
					notFull.Wait()
				}
				r.push(i)
				notEmpty.Signal()
				mu.Unlock()
			}
		})
		for i := range b.N {
			mu.Lock()
			for r.empty() {
				notEmpty.Wait()
			}
			if v := r.pop(); v != i {
				b.Errorf("sync-cond: got item %d, want %d", v, i)
			}
			notFull.Signal()
			mu.Unlock()
		}
		wg.Wait()
	})
}
