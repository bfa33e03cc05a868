package coord_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// rwIsFree checks that rw is unlocked with nobody waiting: TryLock succeeds
// (it refuses while anyone holds or waits).
func rwIsFree(t *testing.T, rw *coord.RWMutex) {
	t.Helper()
	if !rw.TryLock() {
		t.Fatal("RWMutex is not free: TryLock failed")
	}
	rw.Unlock()
}

var rwBg = context.Background()

func TestRWMutexZeroValueAndTry(t *testing.T) {
	var rw coord.RWMutex
	if !rw.TryRLock() || !rw.TryRLock() {
		t.Fatal("TryRLock failed on a free or read-held RWMutex")
	}
	if rw.TryLock() {
		t.Fatal("TryLock succeeded while readers hold")
	}
	rw.RUnlock()
	if rw.TryLock() {
		t.Fatal("TryLock succeeded while a reader holds")
	}
	rw.RUnlock()
	if !rw.TryLock() {
		t.Fatal("TryLock failed on a free RWMutex")
	}
	if rw.TryRLock() {
		t.Fatal("TryRLock succeeded while a writer holds")
	}
	if rw.TryLock() {
		t.Fatal("TryLock succeeded while a writer holds")
	}
	rw.Unlock()
	rwIsFree(t, &rw)
}

func TestRWMutexReadersShareWriterExcludes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rw coord.RWMutex
		const readers = 5
		for i := range readers {
			if err := rw.RLock(rwBg); err != nil {
				t.Fatalf("reader %d: %v", i, err)
			}
		}
		w := goResult(func() error { return rw.Lock(rwBg) })
		stillBlocked(t, "Lock while readers hold", w)
		for range readers - 1 {
			rw.RUnlock()
		}
		stillBlocked(t, "Lock while one reader holds", w)
		rw.RUnlock()
		if err := resultNow(t, "Lock after the last RUnlock", w); err != nil {
			t.Fatal(err)
		}
		r := goResult(func() error { return rw.RLock(rwBg) })
		w2 := goResult(func() error { return rw.Lock(rwBg) })
		stillBlocked(t, "RLock while a writer holds", r)
		stillBlocked(t, "Lock while a writer holds", w2)
		rw.Unlock()
		if err := resultNow(t, "RLock after Unlock", r); err != nil {
			t.Fatal(err)
		}
		stillBlocked(t, "Lock while a reader holds", w2)
		rw.RUnlock()
		if err := resultNow(t, "second Lock", w2); err != nil {
			t.Fatal(err)
		}
		rw.Unlock()
		rwIsFree(t, &rw)
	})
}

// "RUnlock with no reader holding, or Unlock with no writer holding,
// panics." Rule 6: the message begins "coord:" and names the call.
func TestRWMutexMisusePanics(t *testing.T) {
	var rw coord.RWMutex
	mustPanic(t, "RWMutex.RUnlock", rw.RUnlock)
	mustPanic(t, "RWMutex.Unlock", rw.Unlock)
	rwIsFree(t, &rw)

	rw.Lock(rwBg)
	mustPanic(t, "RWMutex.RUnlock", rw.RUnlock)
	rw.Unlock() // the panic left the write hold as it was
	rwIsFree(t, &rw)

	rw.RLock(rwBg)
	mustPanic(t, "RWMutex.Unlock", rw.Unlock)
	rw.RUnlock()
	mustPanic(t, "RWMutex.RUnlock", rw.RUnlock) // one RUnlock too many
	rwIsFree(t, &rw)

	// A waiting writer is not disturbed by an RUnlock too many: it still
	// waits for the reader that holds.
	synctest.Test(t, func(t *testing.T) {
		var rw coord.RWMutex
		rw.RLock(rwBg)
		w := goResult(func() error { return rw.Lock(rwBg) })
		stillBlocked(t, "Lock", w)
		rw.RUnlock()
		if err := resultNow(t, "Lock", w); err != nil {
			t.Fatal(err)
		}
		mustPanic(t, "RWMutex.RUnlock", rw.RUnlock)
		rw.Unlock()
		rwIsFree(t, &rw)
	})
}

func TestRWMutexAnyGoroutineMayUnlock(t *testing.T) {
	var rw coord.RWMutex
	rw.Lock(rwBg)
	if err := <-goResult(func() error { rw.Unlock(); return nil }); err != nil {
		t.Fatal(err)
	}
	rw.RLock(rwBg)
	<-goResult(func() error { rw.RUnlock(); return nil })
	rwIsFree(t, &rw)
}

// Rule 2 of the package doc: a done ctx fails every waiting call and
// changes nothing, whatever the state, also where the call could have
// succeeded at once.
func TestRWMutexDoneCtxChangesNothing(t *testing.T) {
	cancelled, cancel := context.WithCancel(rwBg)
	cancel()
	expired, cancel2 := context.WithDeadline(rwBg, time.Now().Add(-time.Second))
	cancel2()
	calls := map[string]func(*coord.RWMutex, context.Context) error{
		"RLock":           (*coord.RWMutex).RLock,
		"Lock":            (*coord.RWMutex).Lock,
		"RLocker().Lock":  func(rw *coord.RWMutex, ctx context.Context) error { return rw.RLocker().Lock(ctx) },
		"Locker(rw).Lock": func(rw *coord.RWMutex, ctx context.Context) error { return coord.Locker(rw).Lock(ctx) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				check := func(state string, rw *coord.RWMutex) {
					t.Helper()
					if err := call(rw, cancelled); err != context.Canceled {
						t.Fatalf("%s with a cancelled ctx on a %s RWMutex = %v; want context.Canceled", name, state, err)
					}
					if err := call(rw, expired); err != context.DeadlineExceeded {
						t.Fatalf("%s with an expired ctx on a %s RWMutex = %v; want context.DeadlineExceeded", name, state, err)
					}
				}

				var rw coord.RWMutex
				check("free", &rw)
				rwIsFree(t, &rw)

				rw.RLock(rwBg)
				check("read-held", &rw)
				// No reader was added (one RUnlock frees it) and no writer
				// was queued (TryRLock still succeeds).
				if !rw.TryRLock() {
					t.Fatal("TryRLock failed: the failed call left a writer queued")
				}
				rw.RUnlock()
				rw.RUnlock()
				rwIsFree(t, &rw)

				rw.Lock(rwBg)
				check("write-held", &rw)
				rw.Unlock()
				rwIsFree(t, &rw)

				// A writer waits behind a reader: the failed call takes
				// nothing and neither delays the writer nor lets a reader
				// past it.
				rw.RLock(rwBg)
				w := goResult(func() error { return rw.Lock(rwBg) })
				stillBlocked(t, "Lock", w)
				check("read-held, writer-waiting", &rw)
				rw.RUnlock()
				if err := resultNow(t, "Lock after the reader left", w); err != nil {
					t.Fatal(err)
				}
				rw.Unlock()
				rwIsFree(t, &rw)
			})
		})
	}
}

// "Writers are not starved: once a writer waits, a new RLock waits behind
// it (as with sync.RWMutex ...)." Writer preference: once a writer waits, a
// new RLock waits behind it and TryRLock refuses, so overlapping readers
// cannot keep the writer out.
func TestRWMutexWriterPreference(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rw coord.RWMutex
		rw.RLock(rwBg)
		w := goResult(func() error { return rw.Lock(rwBg) })
		stillBlocked(t, "Lock", w)
		if rw.TryRLock() {
			t.Fatal("TryRLock succeeded while a writer waits")
		}
		r := goResult(func() error { return rw.RLock(rwBg) })
		stillBlocked(t, "RLock behind a waiting writer", r)
		rw.RUnlock()
		if err := resultNow(t, "Lock", w); err != nil {
			t.Fatal(err)
		}
		stillBlocked(t, "RLock while the writer holds", r)
		rw.Unlock()
		if err := resultNow(t, "RLock", r); err != nil {
			t.Fatal(err)
		}
		rw.RUnlock()
		rwIsFree(t, &rw)
	})
}

// "When a writer unlocks, the readers that queued during its hold go in
// before the next writer": every one of them, also readers that queued
// after that writer.
func TestRWMutexQueuedReadersGoBeforeNextWriter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rw coord.RWMutex
		var inside atomic.Int32
		reader := func() error {
			if err := rw.RLock(rwBg); err != nil {
				return err
			}
			inside.Add(1)
			return nil
		}
		rw.Lock(rwBg)
		r1 := goResult(reader)
		synctest.Wait()
		w := goResult(func() error { return rw.Lock(rwBg) })
		synctest.Wait()
		r2 := goResult(reader)
		stillBlocked(t, "RLock r1", r1)
		stillBlocked(t, "Lock", w)
		stillBlocked(t, "RLock r2", r2)
		rw.Unlock()
		if err := resultNow(t, "r1", r1); err != nil {
			t.Fatal(err)
		}
		if err := resultNow(t, "r2 (queued after the next writer)", r2); err != nil {
			t.Fatal(err)
		}
		stillBlocked(t, "the next writer, while the readers hold", w)
		// A reader arriving now waits behind the writer.
		r3 := goResult(reader)
		stillBlocked(t, "r3", r3)
		rw.RUnlock()
		rw.RUnlock()
		if err := resultNow(t, "Lock", w); err != nil {
			t.Fatal(err)
		}
		rw.Unlock()
		if err := resultNow(t, "r3", r3); err != nil {
			t.Fatal(err)
		}
		rw.RUnlock()
		if inside.Load() != 3 {
			t.Fatalf("%d readers got in, want 3", inside.Load())
		}
		rwIsFree(t, &rw)
	})
}

func TestRWMutexWritersFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rw coord.RWMutex
		rw.RLock(rwBg)
		const writers = 6
		var order []int // appended under the write lock
		var errs []<-chan error
		for i := range writers {
			errs = append(errs, goResult(func() error {
				if err := rw.Lock(rwBg); err != nil {
					return err
				}
				order = append(order, i)
				rw.Unlock()
				return nil
			}))
			synctest.Wait()
		}
		rw.RUnlock()
		for i, ch := range errs {
			if err := resultNow(t, fmt.Sprint("writer ", i), ch); err != nil {
				t.Fatal(err)
			}
		}
		for i, got := range order {
			if got != i {
				t.Fatalf("writers served in order %v; want arrival order", order)
			}
		}
		rwIsFree(t, &rw)
	})
}

// The case home-grown RWMutexes get wrong: a writer that gives up while
// readers queue behind it must let them in at once, not leave them blocked
// behind a writer that is gone.
func TestRWMutexWriterGivesUpReadersGoIn(t *testing.T) {
	t.Run("only writer", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var rw coord.RWMutex
			rw.RLock(rwBg) // a reader holds, and keeps holding throughout
			ctx, cancel := context.WithCancel(rwBg)
			w := goResult(func() error { return rw.Lock(ctx) })
			synctest.Wait()
			r1 := goResult(func() error { return rw.RLock(rwBg) })
			r2 := goResult(func() error { return rw.RLock(rwBg) })
			stillBlocked(t, "RLock behind the waiting writer", r1)
			stillBlocked(t, "RLock behind the waiting writer", r2)
			cancel()
			if err := resultNow(t, "the writer that gave up", w); err != context.Canceled {
				t.Fatalf("Lock = %v; want context.Canceled", err)
			}
			if err := resultNow(t, "r1", r1); err != nil {
				t.Fatal(err)
			}
			if err := resultNow(t, "r2", r2); err != nil {
				t.Fatal(err)
			}
			// And new readers go in without waiting.
			if !rw.TryRLock() {
				t.Fatal("TryRLock refused after the only waiting writer gave up")
			}
			for range 4 {
				rw.RUnlock()
			}
			rwIsFree(t, &rw)
		})
	})
	t.Run("by deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var rw coord.RWMutex
			rw.RLock(rwBg)
			ctx, cancel := context.WithTimeout(rwBg, time.Second)
			defer cancel()
			w := goResult(func() error { return rw.Lock(ctx) })
			synctest.Wait()
			start := time.Now()
			if err := rw.RLock(rwBg); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d != time.Second {
				t.Fatalf("RLock waited %v; want exactly the writer's 1s", d)
			}
			if err := resultNow(t, "Lock", w); err != context.DeadlineExceeded {
				t.Fatalf("Lock = %v; want context.DeadlineExceeded", err)
			}
			rw.RUnlock()
			rw.RUnlock()
			rwIsFree(t, &rw)
		})
	})
	t.Run("another writer behind", func(t *testing.T) {
		// Queue: writer A, reader r1, writer B, reader r2. A gives up: r1
		// would have gone in had A never come, so it goes in now; r2 stays
		// behind B, and B waits for both readers.
		synctest.Test(t, func(t *testing.T) {
			var rw coord.RWMutex
			rw.RLock(rwBg)
			ctx, cancel := context.WithCancel(rwBg)
			a := goResult(func() error { return rw.Lock(ctx) })
			synctest.Wait()
			r1 := goResult(func() error { return rw.RLock(rwBg) })
			synctest.Wait()
			b := goResult(func() error { return rw.Lock(rwBg) })
			synctest.Wait()
			r2 := goResult(func() error { return rw.RLock(rwBg) })
			stillBlocked(t, "r2", r2)
			cancel()
			if err := resultNow(t, "A", a); err != context.Canceled {
				t.Fatalf("A = %v; want context.Canceled", err)
			}
			if err := resultNow(t, "r1, queued ahead of B", r1); err != nil {
				t.Fatal(err)
			}
			stillBlocked(t, "r2, queued behind B", r2)
			stillBlocked(t, "B, while two readers hold", b)
			rw.RUnlock()
			stillBlocked(t, "B, while one reader holds", b)
			rw.RUnlock()
			if err := resultNow(t, "B", b); err != nil {
				t.Fatal(err)
			}
			rw.Unlock()
			if err := resultNow(t, "r2", r2); err != nil {
				t.Fatal(err)
			}
			rw.RUnlock()
			rwIsFree(t, &rw)
		})
	})
	t.Run("while another writer holds", func(t *testing.T) {
		// The readers are blocked by the holder, not only by the writer that
		// gave up: they go in at the holder's Unlock, and not before.
		synctest.Test(t, func(t *testing.T) {
			var rw coord.RWMutex
			rw.Lock(rwBg)
			ctx, cancel := context.WithCancel(rwBg)
			w := goResult(func() error { return rw.Lock(ctx) })
			synctest.Wait()
			r := goResult(func() error { return rw.RLock(rwBg) })
			synctest.Wait()
			cancel()
			if err := resultNow(t, "Lock", w); err != context.Canceled {
				t.Fatalf("Lock = %v; want context.Canceled", err)
			}
			stillBlocked(t, "RLock while a writer holds", r)
			rw.Unlock()
			if err := resultNow(t, "RLock", r); err != nil {
				t.Fatal(err)
			}
			rw.RUnlock()
			rwIsFree(t, &rw)
		})
	})
}

// The other case home-grown RWMutexes get wrong: a reader that gives up
// never holds a writer back.
func TestRWMutexReaderGivesUpNeverHoldsWriterBack(t *testing.T) {
	t.Run("queued reader", func(t *testing.T) {
		// Writer A holds; reader r and writer B queue; r gives up. At A's
		// Unlock there is no reader to let in, so B goes in at once.
		synctest.Test(t, func(t *testing.T) {
			var rw coord.RWMutex
			rw.Lock(rwBg)
			ctx, cancel := context.WithCancel(rwBg)
			r := goResult(func() error { return rw.RLock(ctx) })
			synctest.Wait()
			b := goResult(func() error { return rw.Lock(rwBg) })
			synctest.Wait()
			cancel()
			if err := resultNow(t, "RLock", r); err != context.Canceled {
				t.Fatalf("RLock = %v; want context.Canceled", err)
			}
			rw.Unlock()
			if err := resultNow(t, "B", b); err != nil {
				t.Fatal(err)
			}
			rw.Unlock()
			rwIsFree(t, &rw)
		})
	})
	t.Run("queued reader, by deadline, writer holding", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var rw coord.RWMutex
			rw.Lock(rwBg)
			for i := range 10 {
				ctx, cancel := context.WithTimeout(rwBg, time.Duration(i+1)*time.Millisecond)
				if err := rw.RLock(ctx); err != context.DeadlineExceeded {
					t.Fatalf("RLock = %v; want context.DeadlineExceeded", err)
				}
				cancel()
			}
			rw.Unlock() // the fast path: nobody is left queued
			rwIsFree(t, &rw)
		})
	})
	t.Run("readers behind a waiting writer", func(t *testing.T) {
		// A reader holds, writer B waits, readers queue behind B and give
		// up: when the holder leaves, B goes in, not delayed by them.
		synctest.Test(t, func(t *testing.T) {
			var rw coord.RWMutex
			rw.RLock(rwBg)
			b := goResult(func() error { return rw.Lock(rwBg) })
			synctest.Wait()
			ctx, cancel := context.WithCancel(rwBg)
			var rs []<-chan error
			for range 3 {
				rs = append(rs, goResult(func() error { return rw.RLock(ctx) }))
			}
			synctest.Wait()
			cancel()
			for _, r := range rs {
				if err := resultNow(t, "RLock", r); err != context.Canceled {
					t.Fatalf("RLock = %v; want context.Canceled", err)
				}
			}
			stillBlocked(t, "B while a reader holds", b)
			rw.RUnlock()
			if err := resultNow(t, "B", b); err != nil {
				t.Fatal(err)
			}
			rw.Unlock()
			rwIsFree(t, &rw)
		})
	})
}

// The same race with real parallelism and no ordering forced: whichever
// result A reports must be true of the lock.
func TestRWMutexCancelRacingHandoff(t *testing.T) {
	var kept, passed [2]int
	for i := range 400 {
		reader := i%2 == 0
		synctest.Test(t, func(t *testing.T) {
			var rw coord.RWMutex
			rw.Lock(rwBg)
			ctx, cancel := context.WithCancel(rwBg)
			a := goResult(func() error {
				if reader {
					return rw.RLock(ctx)
				}
				return rw.Lock(ctx)
			})
			synctest.Wait()
			go cancel()
			rw.Unlock()
			k := 0
			if reader {
				k = 1
			}
			switch err := <-a; err {
			case nil:
				kept[k]++
				if rw.TryLock() {
					t.Fatal("A returned nil but the lock is free")
				}
				if reader {
					rw.RUnlock()
				} else {
					rw.Unlock()
				}
			case context.Canceled:
				passed[k]++
			default:
				t.Fatalf("A = %v", err)
			}
			rwIsFree(t, &rw)
		})
	}
	t.Logf("writers: kept %d, gave up %d; readers: kept %d, gave up %d", kept[0], passed[0], kept[1], passed[1])
}

// HammerRWMutex, from sync's tests: readers and writers check through a
// shared activity count that readers overlap only with readers and a writer
// with nobody; TryRLock and TryLock take part.
func TestRWMutexHammer(t *testing.T) {
	for _, procs := range []int{1, 4} {
		for _, c := range []struct{ readers, iterations int }{{1, 2000}, {3, 1000}, {10, 500}} {
			t.Run(fmt.Sprintf("procs=%d/readers=%d", procs, c.readers), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				hammerRWMutex(t, c.readers, c.iterations)
			})
		}
	}
}

func hammerRWMutex(t *testing.T, readers, iterations int) {
	var rw coord.RWMutex
	var activity atomic.Int32
	var writes int // guarded by rw; read without it at the end
	var wg sync.WaitGroup
	for g := range readers + 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range iterations {
				if g < 2 { // writer
					if i%5 != 0 || !rw.TryLock() {
						if err := rw.Lock(rwBg); err != nil {
							t.Error(err)
							return
						}
					}
					if n := activity.Add(10000); n != 10000 {
						t.Errorf("a writer holds alongside others (activity %d)", n)
					}
					writes++
					activity.Add(-10000)
					rw.Unlock()
					continue
				}
				if i%5 != 0 || !rw.TryRLock() {
					if err := rw.RLock(rwBg); err != nil {
						t.Error(err)
						return
					}
				}
				if n := activity.Add(1); n < 1 || n >= 10000 {
					t.Errorf("a reader holds alongside a writer (activity %d)", n)
				}
				runtime.Gosched()
				activity.Add(-1)
				rw.RUnlock()
			}
		}()
	}
	wg.Wait()
	if writes != 2*iterations {
		t.Fatalf("%d writes, want %d", writes, 2*iterations)
	}
	rwIsFree(t, &rw)
}

// Cancellation hammered against handoff: readers and writers with short
// random deadlines and explicit cancels. Every call either holds (and the
// activity count shows it alone or among readers only) or returns the ctx
// error; holds and give-ups add up to the calls made; the lock ends free;
// no goroutine is left behind.
func TestRWMutexHammerCancellation(t *testing.T) {
	noGoroutineLeak(t)
	var rw coord.RWMutex
	var activity atomic.Int32
	var held, gaveUp [2]atomic.Int64 // [0] readers, [1] writers
	const goroutines, iterations = 12, 300
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range iterations {
				writer := (g+i)%4 == 0
				d := time.Duration(rand.IntN(300)) * time.Microsecond
				ctx, cancel := context.WithTimeout(rwBg, d)
				if i%3 == 0 {
					go cancel()
				}
				var err error
				if writer {
					err = rw.Lock(ctx)
				} else {
					err = rw.RLock(ctx)
				}
				k := 0
				if writer {
					k = 1
				}
				if err != nil {
					cancel()
					if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
						t.Errorf("wait = %v; want nil or the ctx error", err)
					}
					gaveUp[k].Add(1)
					continue
				}
				held[k].Add(1)
				if writer {
					if n := activity.Add(10000); n != 10000 {
						t.Errorf("a writer holds alongside others (activity %d)", n)
					}
					runtime.Gosched()
					activity.Add(-10000)
					rw.Unlock()
				} else {
					if n := activity.Add(1); n < 1 || n >= 10000 {
						t.Errorf("a reader holds alongside a writer (activity %d)", n)
					}
					runtime.Gosched()
					activity.Add(-1)
					rw.RUnlock()
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	total := held[0].Load() + held[1].Load() + gaveUp[0].Load() + gaveUp[1].Load()
	if total != goroutines*iterations {
		t.Fatalf("holds + give-ups = %d; want %d calls", total, goroutines*iterations)
	}
	if held[0].Load() == 0 || held[1].Load() == 0 {
		t.Fatalf("readers held %d times, writers %d: the hammer did not exercise both", held[0].Load(), held[1].Load())
	}
	rwIsFree(t, &rw)
	t.Logf("readers held %d, gave up %d; writers held %d, gave up %d",
		held[0].Load(), gaveUp[0].Load(), held[1].Load(), gaveUp[1].Load())
}

// No starvation, in real time with a deadline (sync's TestRWMutex fairness
// tests): readers that always overlap (at every moment some reader holds)
// cannot keep a writer out, since a new RLock waits behind a waiting writer;
// and writers that lock back to back, with a queue of writers always
// waiting, cannot keep a reader out, since it goes in at the next Unlock.
func TestRWMutexNoStarvation(t *testing.T) {
	for _, loadReads := range []bool{true, false} {
		name := "writer among readers"
		if !loadReads {
			name = "reader among writers"
		}
		t.Run(name, func(t *testing.T) {
			// lock and unlock are the load's side; the other side must get in.
			lock, unlock := (*coord.RWMutex).RLock, (*coord.RWMutex).RUnlock
			other, otherUnlock := (*coord.RWMutex).Lock, (*coord.RWMutex).Unlock
			if !loadReads {
				lock, unlock, other, otherUnlock = other, otherUnlock, lock, unlock
			}
			var rw coord.RWMutex
			stop := make(chan struct{})
			var load sync.WaitGroup
			for range 4 {
				load.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						if err := lock(&rw, rwBg); err != nil {
							t.Error(err)
							return
						}
						time.Sleep(50 * time.Microsecond)
						unlock(&rw)
					}
				})
			}
			ctx, cancel := context.WithTimeout(rwBg, 10*time.Second)
			defer cancel()
			for i := range 20 {
				if err := other(&rw, ctx); err != nil {
					t.Fatalf("starved on lock %d: %v", i, err)
				}
				otherUnlock(&rw)
			}
			close(stop)
			load.Wait()
			rwIsFree(t, &rw)
		})
	}
}

// A reader waits for at most one writer's hold however many writers queue:
// checked exactly on synctest's clock.
func TestRWMutexReaderWaitsOneWriterHold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rw coord.RWMutex
		const hold = 10 * time.Millisecond
		writer := func() error {
			if err := rw.Lock(rwBg); err != nil {
				return err
			}
			time.Sleep(hold)
			rw.Unlock()
			return nil
		}
		var ws []<-chan error
		for range 5 {
			ws = append(ws, goResult(writer))
			synctest.Wait()
		}
		start := time.Now()
		if err := rw.RLock(rwBg); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != hold {
			t.Fatalf("RLock behind 5 writers waited %v; want one hold, %v", d, hold)
		}
		rw.RUnlock()
		for _, w := range ws {
			if err := <-w; err != nil {
				t.Fatal(err)
			}
		}
		rwIsFree(t, &rw)
	})
}

// Rule 4 of the package doc: a waiting goroutine is durably blocked, so a
// synctest bubble sees it blocked (the tests above rely on it) and its
// deadline fires on the bubble's clock.
func TestRWMutexWaitersDurablyBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rw coord.RWMutex
		rw.Lock(rwBg)
		ctx, cancel := context.WithTimeout(rwBg, time.Hour)
		defer cancel()
		start := time.Now()
		r := goResult(func() error { return rw.RLock(ctx) })
		w := goResult(func() error { return rw.Lock(ctx) })
		if err := <-r; err != context.DeadlineExceeded {
			t.Fatalf("RLock = %v", err)
		}
		if err := <-w; err != context.DeadlineExceeded {
			t.Fatalf("Lock = %v", err)
		}
		if d := time.Since(start); d != time.Hour {
			t.Fatalf("waits ended after %v; want 1h", d)
		}
		rw.Unlock()
		rwIsFree(t, &rw)
	})
}

func TestRWMutexUncontendedAllocs(t *testing.T) {
	var rw coord.RWMutex
	ctx, cancel := context.WithCancel(rwBg)
	defer cancel()
	for name, f := range map[string]func(){
		"RLock+RUnlock": func() { rw.RLock(ctx); rw.RUnlock() },
		"Lock+Unlock":   func() { rw.Lock(ctx); rw.Unlock() },
		"TryRLock":      func() { rw.TryRLock(); rw.RUnlock() },
		"TryLock":       func() { rw.TryLock(); rw.Unlock() },
		"RLocker":       func() { l := rw.RLocker(); l.Lock(ctx); l.Unlock() },
		"two readers":   func() { rw.RLock(ctx); rw.RLock(ctx); rw.RUnlock(); rw.RUnlock() },
	} {
		if allocs := testing.AllocsPerRun(1000, f); allocs != 0 {
			t.Errorf("%s allocates %v times; want 0", name, allocs)
		}
	}
}

func TestRWMutexRLocker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rw coord.RWMutex
		var l coord.Locker = rw.RLocker()
		if err := l.Lock(rwBg); err != nil {
			t.Fatal(err)
		}
		if err := l.Lock(rwBg); err != nil {
			t.Fatal("two RLocker holds do not share: ", err)
		}
		w := goResult(func() error { return rw.Lock(rwBg) })
		stillBlocked(t, "Lock while RLocker holds", w)
		l.Unlock()
		l.Unlock()
		if err := resultNow(t, "Lock", w); err != nil {
			t.Fatal(err)
		}
		rw.Unlock()
		mustPanic(t, "RWMutex.RUnlock", l.Unlock)
		rwIsFree(t, &rw)
	})
}
