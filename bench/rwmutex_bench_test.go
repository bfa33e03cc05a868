package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/coordkit/coord"
	"golang.org/x/sync/semaphore"
)

// rwLockers are the read-write locks of the RWMutex workloads: coord's,
// sync.RWMutex (the speed to match; its waits cannot be given up), and the
// cancellable read-write lock a Go user builds today from
// semaphore.Weighted, readers taking one unit and writers all of them.
type rwLocker struct {
	name string
	new  func() rwLock
}

type rwLock struct {
	rlock   func(context.Context) error
	runlock func()
	lock    func(context.Context) error
	unlock  func()
}

// weightedMax is the capacity of the semaphore.Weighted read-write lock: a
// bound on readers at once, far above any workload here.
const weightedMax = 1 << 20

var rwLockers = []rwLocker{
	{name: "coord", new: func() rwLock {
		rw := new(coord.RWMutex)
		return rwLock{rw.RLock, rw.RUnlock, rw.Lock, rw.Unlock}
	}},
	{name: "sync", new: func() rwLock {
		rw := new(sync.RWMutex)
		return rwLock{
			func(context.Context) error { rw.RLock(); return nil }, rw.RUnlock,
			func(context.Context) error { rw.Lock(); return nil }, rw.Unlock,
		}
	}},
	{name: "xsync-weighted", new: func() rwLock {
		s := semaphore.NewWeighted(weightedMax)
		return rwLock{
			func(ctx context.Context) error { return s.Acquire(ctx, 1) }, func() { s.Release(1) },
			func(ctx context.Context) error { return s.Acquire(ctx, weightedMax) }, func() { s.Release(weightedMax) },
		}
	}},
}

// RLock and RUnlock of a lock nobody else uses.
func BenchmarkRWMutexUncontendedRead(b *testing.B) {
	uncontended(b, func(rw rwLock) (func(context.Context) error, func()) { return rw.rlock, rw.runlock })
}

// Lock and Unlock of a lock nobody else uses.
func BenchmarkRWMutexUncontendedWrite(b *testing.B) {
	uncontended(b, func(rw rwLock) (func(context.Context) error, func()) { return rw.lock, rw.unlock })
}

// uncontended times one side of each lock, taken and released in a loop by
// one goroutine.
func uncontended(b *testing.B, side func(rwLock) (func(context.Context) error, func())) {
	ctx := context.Background()
	for _, l := range rwLockers {
		b.Run(l.name, func(b *testing.B) {
			lock, unlock := side(l.new())
			b.ReportAllocs()
			for b.Loop() {
				if err := lock(ctx); err != nil {
					b.Fatal(err)
				}
				unlock()
			}
		})
	}
}

// 8 goroutines per P, one op in 100 a write, the rest reads, each around the
// tiny critical section of the Mutex workloads (sync's BenchmarkRWMutexWrite100
// with SetParallelism(8)). Readers mostly overlap; every write makes the
// readers that arrive meanwhile queue, so both the lock-free paths and the
// parking paths are measured. It also checks the exclusion.
func BenchmarkRWMutexReadMostly(b *testing.B) {
	for _, l := range rwLockers {
		b.Run(l.name, func(b *testing.B) { readMostly(b, l) })
	}
}

func readMostly(b *testing.B, l rwLocker) {
	ctx := context.Background()
	rw := l.new()
	writing := false // guarded by the lock under test
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for i := 1; pb.Next(); i++ {
			if i%100 == 0 {
				if err := rw.lock(ctx); err != nil {
					b.Error(err)
					return
				}
				writing = true
				work()
				writing = false
				rw.unlock()
				continue
			}
			if err := rw.rlock(ctx); err != nil {
				b.Error(err)
				return
			}
			if writing {
				b.Errorf("%s: a reader holds alongside a writer", l.name)
			}
			work()
			rw.runlock()
		}
	})
}
