package bench

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/coordkit/coord"
	"golang.org/x/sync/semaphore"
)

// The anchors beside coord, in the same run. Ratios, not absolute times, are
// what the report keeps.

func BenchmarkMutexUncontended(b *testing.B) {
	ctx := context.Background()
	b.Run("coord", func(b *testing.B) { uncontendedCoord(b, ctx, new(coord.Mutex)) })
	b.Run("sync", func(b *testing.B) {
		var m sync.Mutex
		b.ReportAllocs()
		for b.Loop() {
			m.Lock()
			m.Unlock()
		}
	})
	b.Run("chan", func(b *testing.B) {
		m := newChanMutex()
		b.ReportAllocs()
		for b.Loop() {
			m.Lock()
			m.Unlock()
		}
	})
	b.Run("xsync-weighted", func(b *testing.B) {
		s := semaphore.NewWeighted(1)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Acquire(ctx, 1); err != nil {
				b.Fatal(err)
			}
			s.Release(1)
		}
	})
}

// The same with a ctx that can be cancelled (ctx.Done() is not nil), the
// case where a Go user reaches for semaphore.Weighted(1) or a select on a
// channel mutex today.
func BenchmarkMutexUncontendedCancellable(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("coord", func(b *testing.B) {
		var m coord.Mutex
		b.ReportAllocs()
		for b.Loop() {
			if err := m.Lock(ctx); err != nil {
				b.Fatal(err)
			}
			m.Unlock()
		}
	})
	b.Run("chan", func(b *testing.B) {
		m := newChanMutex()
		b.ReportAllocs()
		for b.Loop() {
			if err := m.LockCtx(ctx); err != nil {
				b.Fatal(err)
			}
			m.Unlock()
		}
	})
	b.Run("xsync-weighted", func(b *testing.B) {
		s := semaphore.NewWeighted(1)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Acquire(ctx, 1); err != nil {
				b.Fatal(err)
			}
			s.Release(1)
		}
	})
}

// 8 goroutines per P, each locking and unlocking around a tiny critical
// section, as sync's BenchmarkMutex does.
func BenchmarkMutexContended(b *testing.B) {
	ctx := context.Background()
	b.Run("coord", func(b *testing.B) { contendedCoord(b, ctx, new(coord.Mutex)) })
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
	b.Run("chan", func(b *testing.B) {
		m := newChanMutex()
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
				if err := s.Acquire(ctx, 1); err != nil {
					b.Error(err)
					return
				}
				work()
				s.Release(1)
			}
		})
	})
}

// lockers are the four mutexes of the handoff and scaling workloads, behind
// one shape so that every one of them runs the same harness.
type locker struct {
	name   string
	new    func() (lock func(context.Context) error, unlock func())
	anchor bool
}

var lockers = []locker{
	{name: "coord", new: func() (func(context.Context) error, func()) {
		m := new(coord.Mutex)
		return m.Lock, m.Unlock
	}},
	{name: "sync", new: func() (func(context.Context) error, func()) {
		m := new(sync.Mutex)
		return func(context.Context) error { m.Lock(); return nil }, m.Unlock
	}},
	{name: "chan", new: func() (func(context.Context) error, func()) {
		m := newChanMutex()
		return m.LockCtx, m.Unlock
	}},
	{name: "xsync-weighted", new: func() (func(context.Context) error, func()) {
		s := semaphore.NewWeighted(1)
		return func(ctx context.Context) error { return s.Acquire(ctx, 1) }, func() { s.Release(1) }
	}},
}

// yieldingSection runs b.N critical sections across g goroutines, each of
// which yields the processor while it holds the lock (runtime.Gosched), as
// an asyncio task does when it awaits inside "async with lock". The lock is
// therefore held while the others run, they queue up behind it, and nearly
// every Unlock has a parked waiter to hand the lock to: the handoff path,
// not the barging fast path, is what gets measured. It also checks mutual
// exclusion.
func yieldingSection(b *testing.B, g int, l locker) {
	ctx := context.Background()
	lock, unlock := l.new()
	inside := 0 // guarded by the lock under test
	b.ReportAllocs()
	spread(b, g, func(int) {
		if err := lock(ctx); err != nil {
			b.Error(err)
			return
		}
		inside++
		if inside != 1 {
			b.Errorf("%s: %d goroutines inside the critical section", l.name, inside)
		}
		runtime.Gosched()
		inside--
		unlock()
	})
}

// Handoff among 100 goroutines: the mutex passes from goroutine to
// goroutine, each holding it across a yield.
func BenchmarkMutexHandoff100(b *testing.B) {
	for _, l := range lockers {
		b.Run(l.name, func(b *testing.B) { yieldingSection(b, 100, l) })
	}
}

// scalingWaiters are the points of every scaling curve.
var scalingWaiters = []int{1, 10, 100, 1000, 10000}

// The cost of one Lock/Unlock as the number of goroutines contending for
// the mutex grows from 1 to 10 000 (each holds it across a yield, so they
// really queue). The waiter queue is a linked list with O(1) push and pop,
// so the cost per acquisition should stay flat.
func BenchmarkScalingMutex(b *testing.B) {
	for _, n := range scalingWaiters {
		b.Run("waiters="+strconv.Itoa(n), func(b *testing.B) {
			for _, l := range lockers[:2] { // coord and sync.Mutex
				b.Run(l.name, func(b *testing.B) { yieldingSection(b, n, l) })
			}
		})
	}
}

// The cost of a wait that is given up: Lock on a held mutex with a ctx that
// is already done ("expired": rule 2, the call must change nothing and
// return at once), and with a ctx that another goroutine cancels just after
// the call starts ("soon": the waiter spins, queues, parks and is woken by
// the cancellation, or sees it on the way in; both are real give-ups).
func BenchmarkCancelledWait(b *testing.B) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	b.Run("expired", func(b *testing.B) {
		for _, l := range []locker{lockers[0], lockers[2], lockers[3]} {
			b.Run(l.name, func(b *testing.B) {
				lock, unlock := l.new()
				if err := lock(context.Background()); err != nil {
					b.Fatal(err)
				}
				defer unlock()
				b.ReportAllocs()
				for b.Loop() {
					if err := lock(done); err == nil {
						b.Fatalf("%s: Lock with a done ctx on a held mutex returned nil", l.name)
					}
				}
			})
		}
	})
	b.Run("soon", func(b *testing.B) {
		for _, l := range []locker{lockers[0], lockers[2], lockers[3]} {
			b.Run(l.name, func(b *testing.B) {
				lock, unlock := l.new()
				if err := lock(context.Background()); err != nil {
					b.Fatal(err)
				}
				defer unlock()
				cancels := make(chan context.CancelFunc)
				var wg sync.WaitGroup
				wg.Go(func() {
					for c := range cancels {
						runtime.Gosched() // give the waiter a moment to queue
						c()
					}
				})
				defer wg.Wait()
				defer close(cancels)
				b.ReportAllocs()
				for b.Loop() {
					ctx, c := context.WithCancel(context.Background())
					cancels <- c
					if err := lock(ctx); err != context.Canceled {
						b.Fatalf("%s: Lock on a held mutex with a cancelled ctx returned %v", l.name, err)
					}
				}
			})
		}
	})
}

// uncontendedCoord is the coord side of BenchmarkMutexUncontended, on m
// (BenchmarkSeeingInside runs it on a Mutex it registers).
func uncontendedCoord(b *testing.B, ctx context.Context, m *coord.Mutex) {
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Lock(ctx); err != nil {
			b.Fatal(err)
		}
		m.Unlock()
	}
}

// contendedCoord is the coord side of BenchmarkMutexContended, on m.
func contendedCoord(b *testing.B, ctx context.Context, m *coord.Mutex) {
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := m.Lock(ctx); err != nil {
				b.Error(err)
				return
			}
			work()
			m.Unlock()
		}
	})
}
