package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/coordkit/coord"
)

// ring is the bounded buffer's storage, guarded by the lock of whichever
// Cond pair drives it. Its capacity is small, so that the producer and the
// consumer really wait for each other.
type ring struct {
	buf        []int
	head, size int
}

func newRing(capacity int) *ring { return &ring{buf: make([]int, capacity)} }

func (r *ring) full() bool  { return r.size == len(r.buf) }
func (r *ring) empty() bool { return r.size == 0 }
func (r *ring) push(v int) {
	r.buf[(r.head+r.size)%len(r.buf)] = v
	r.size++
}
func (r *ring) pop() int {
	v := r.buf[r.head]
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	return v
}

// The bounded buffer of the textbooks (and of asyncio.Condition's docs):
// one producer and one consumer, a buffer of 8, one lock and two
// conditions, "not full" and "not empty", written as a new user would
// write it. One op is one item passed through. The consumer checks that
// items arrive in order.
func BenchmarkCondBoundedBuffer(b *testing.B) { boundedBuffer(b, 8, false) }

// The same with a buffer of 1: every item is a handoff, so nearly every
// Wait parks and nearly every Notify wakes someone.
func BenchmarkCondBoundedBuffer1(b *testing.B) { boundedBuffer(b, 1, false) }

// The same with a buffer of 3.
func BenchmarkCondBoundedBuffer3(b *testing.B) { boundedBuffer(b, 3, false) }

// The buffer of 1 again, with every Lock and Wait given a ctx that can be
// cancelled (and never is), as a request handler's would be: a wait that
// parks then needs a channel to select on, where one whose ctx cannot end
// parks on the waiter's sync.Cond.
func BenchmarkCondBoundedBuffer1Cancellable(b *testing.B) { boundedBuffer(b, 1, true) }

func boundedBuffer(b *testing.B, capacity int, cancellable bool) {
	nobodyLooks(b)
	b.Run("coord", func(b *testing.B) {
		ctx := context.Background()
		if cancellable {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
		}
		var mu coord.Mutex
		coordBuffer(b, ctx, &mu, coord.NewCond(&mu), coord.NewCond(&mu), capacity)
	})
	b.Run("sync-cond", func(b *testing.B) {
		var mu sync.Mutex
		notFull, notEmpty := sync.NewCond(&mu), sync.NewCond(&mu)
		r := newRing(capacity)
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

// coordBuffer is the coord side of boundedBuffer: a producer and a
// consumer pass b.N items through a ring of capacity, guarded by mu, with
// notFull and notEmpty over mu (BenchmarkSeeingInside passes a Cond it
// registers).
func coordBuffer(b *testing.B, ctx context.Context, mu *coord.Mutex, notFull, notEmpty *coord.Cond, capacity int) {
	r := newRing(capacity)
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
}
