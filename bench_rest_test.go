package coord_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coordkit/coord"
)

// Queue handoff between one producer and one consumer, beside a buffered
// channel of the same capacity, the anchor it competes with.
func BenchmarkQueuePutGet(b *testing.B) {
	for _, size := range []int{1, 64} {
		b.Run("coord/size="+benchItoa(size), func(b *testing.B) {
			b.ReportAllocs()
			q := coord.NewQueue[int](size)
			ctx := context.Background()
			done := make(chan struct{})
			go func() {
				for range b.N {
					q.Get(ctx)
				}
				close(done)
			}()
			for i := range b.N {
				q.Put(ctx, i)
			}
			<-done
		})
		b.Run("chan/size="+benchItoa(size), func(b *testing.B) {
			b.ReportAllocs()
			c := make(chan int, size)
			done := make(chan struct{})
			go func() {
				for range b.N {
					<-c
				}
				close(done)
			}()
			for i := range b.N {
				c <- i
			}
			<-done
		})
	}
}

// Uncontended TryPut/TryGet pairs against a select-default channel pair.
func BenchmarkQueueTryPutTryGet(b *testing.B) {
	b.Run("coord", func(b *testing.B) {
		b.ReportAllocs()
		q := coord.NewQueue[int](0)
		for i := range b.N {
			q.TryPut(i)
			q.TryGet()
		}
	})
	b.Run("chan", func(b *testing.B) {
		b.ReportAllocs()
		c := make(chan int, 1)
		for i := range b.N {
			select {
			case c <- i:
			default:
			}
			select {
			case <-c:
			default:
			}
		}
	})
}

// A round of a 4-party Barrier: three parties park, the fourth trips it.
func BenchmarkBarrierRound(b *testing.B) {
	const parties = 4
	b.Run("coord", func(b *testing.B) {
		b.ReportAllocs()
		br := coord.NewBarrier(parties)
		ctx := context.Background()
		var wg sync.WaitGroup
		for range parties {
			wg.Go(func() {
				for range b.N {
					br.Wait(ctx)
				}
			})
		}
		wg.Wait()
	})
}

// Allow in steady state: the log is full and every call admits, since the
// window is shorter than a call.
func BenchmarkRateLimiterAllow(b *testing.B) {
	b.ReportAllocs()
	r := coord.NewRateLimiter(1024, time.Nanosecond)
	for range b.N {
		r.Allow()
	}
}

func benchItoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return benchItoa(n/10) + string(rune('0'+n%10))
}
