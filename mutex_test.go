package coord_test

import (
	"context"
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

func TestMutexLockUnlock(t *testing.T) {
	var m coord.Mutex
	if m.Locked() {
		t.Fatal("zero Mutex is locked")
	}
	if err := m.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !m.Locked() {
		t.Fatal("Locked() = false after Lock")
	}
	if m.TryLock() {
		t.Fatal("TryLock succeeded on a locked Mutex")
	}
	m.Unlock()
	if m.Locked() {
		t.Fatal("Locked() = true after Unlock")
	}
	if !m.TryLock() {
		t.Fatal("TryLock failed on a free Mutex")
	}
	m.Unlock()
}

func TestMutexUnlockUnlockedPanics(t *testing.T) {
	var m coord.Mutex
	mustPanic(t, "unlocked", m.Unlock)
	m.Lock(context.Background())
	m.Unlock()
	mustPanic(t, "unlocked", m.Unlock)
}

// "Unlock of an unlocked Mutex panics with a message that says so. Any
// goroutine may unlock."
func TestMutexAnyGoroutineMayUnlock(t *testing.T) {
	var m coord.Mutex
	m.Lock(context.Background())
	<-goResult(func() struct{} { m.Unlock(); return struct{}{} })
	if m.Locked() {
		t.Fatal("Unlock from another goroutine did not unlock")
	}
	mustPanic(t, "unlocked", m.Unlock)
}

func TestMutexCancelWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		m.Lock(context.Background())
		timesOutAfter(t, "Lock", time.Second, m.Lock)
		// The cancelled waiter left no trace: one Unlock frees the mutex.
		m.Unlock()
		mutexFree(t, &m, "after the holder's Unlock, the cancelled waiter gone")
	})
}

// "Queued waiters are served in arrival order." Both when nobody barges
// (the holder unlocks at once) and with direct handoff forced (the holder
// keeps the mutex past the 1 ms bound), the order is exact.
func TestMutexFIFO(t *testing.T) {
	for _, held := range []time.Duration{0, 10 * time.Millisecond} {
		synctest.Test(t, func(t *testing.T) {
			var m coord.Mutex
			m.Lock(context.Background())
			const n = 10
			var order []int
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					if err := m.Lock(context.Background()); err != nil {
						t.Error(err)
						return
					}
					order = append(order, i)
					m.Unlock()
				})
				synctest.Wait() // goroutine i is queued before i+1 starts
			}
			time.Sleep(held)
			m.Unlock()
			wg.Wait()
			for i, got := range order {
				if got != i {
					t.Fatalf("held %v: served in order %v; want 0..%d", held, order, n-1)
				}
			}
			if len(order) != n {
				t.Fatalf("held %v: %d waiters served; want %d", held, len(order), n)
			}
		})
	}
}

// A cancellation that happens before the grant always fails the call, and
// the grant goes to the next waiter (rule 3 of the package doc): right
// away, and after the waiters have waited long enough to be handed the
// mutex directly (past the 1 ms bound: the starvation path).
func TestMutexCancelBeforeHandoffPassesOn(t *testing.T) {
	for _, waited := range []time.Duration{0, 10 * time.Millisecond} {
		synctest.Test(t, func(t *testing.T) {
			var m coord.Mutex
			m.Lock(context.Background())
			ctxA, cancelA := context.WithCancel(context.Background())
			errA := goParked(func() error { return m.Lock(ctxA) })
			errB := goParked(func() error { return m.Lock(context.Background()) })
			time.Sleep(waited)

			cancelA()
			m.Unlock() // hands to A, whose ctx is already done

			isCtxErr(t, fmt.Sprintf("after %v: A: Lock", waited), resultNow(t, "A", errA), context.Canceled)
			if err := resultNow(t, "B", errB); err != nil {
				t.Fatalf("after %v: B: Lock = %v; want nil", waited, err)
			}
			if !m.Locked() {
				t.Fatalf("after %v: B returned nil but the mutex is not locked", waited)
			}
			m.Unlock()
			mutexFree(t, &m, "after B's Unlock")
		})
	}
}

// A waiter whose ctx ends as the mutex is handed to it either keeps the
// mutex or passes it on; whichever it reports must be true.
func TestMutexCancelRacingHandoff(t *testing.T) {
	var kept, passed int
	for range 300 {
		synctest.Test(t, func(t *testing.T) {
			var m coord.Mutex
			m.Lock(context.Background())
			ctx, cancel := context.WithCancel(context.Background())
			res := goParked(func() error { return m.Lock(ctx) })
			go cancel()
			m.Unlock()
			switch err := <-res; err {
			case nil:
				kept++
				if !m.Locked() {
					t.Fatal("Lock returned nil but the mutex is free")
				}
				m.Unlock()
			case context.Canceled:
				passed++
				// Passed on to nobody: the mutex must be free.
				if m.Locked() {
					t.Fatal("Lock returned ctx.Err() but the mutex stayed locked")
				}
			default:
				t.Fatalf("Lock = %v", err)
			}
		})
	}
	t.Logf("kept %d, passed on %d", kept, passed)
}

// Nothing is lost or doubled when thousands of goroutines race cancellation
// against handoff: at most one holder at a time, every Lock either holds or
// returns ctx.Err(), and the mutex ends free.
func TestMutexStressCancellation(t *testing.T) {
	var m coord.Mutex
	var holders, held, cancelled atomic.Int64
	var wg sync.WaitGroup
	const goroutines = 2000
	for i := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := time.Duration(rand.IntN(200)) * time.Microsecond
			ctx, cancel := context.WithTimeout(context.Background(), d)
			defer cancel()
			if i%3 == 0 {
				go cancel() // race an explicit cancel too
			}
			if !waitSucceeded(t, "Lock", ctx, m.Lock(ctx)) {
				cancelled.Add(1)
				return
			}
			if n := holders.Add(1); n != 1 {
				t.Errorf("%d holders at once", n)
			}
			held.Add(1)
			for range rand.IntN(50) {
				runtime.Gosched()
			}
			holders.Add(-1)
			m.Unlock()
		}()
	}
	wg.Wait()
	if held.Load()+cancelled.Load() != goroutines {
		t.Fatalf("held %d + cancelled %d != %d", held.Load(), cancelled.Load(), goroutines)
	}
	if held.Load() == 0 {
		t.Fatal("nobody ever held the mutex")
	}
	mutexFree(t, &m, "after every goroutine finished")
}

// HammerMutex, from sync's tests: many goroutines, many iterations.
func TestMutexHammer(t *testing.T) {
	var m coord.Mutex
	var counter int
	const goroutines, iterations = 16, 2000
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range iterations {
				if i%7 == 0 {
					if m.TryLock() {
						counter++
						m.Unlock()
						continue
					}
				}
				m.Lock(context.Background())
				counter++
				m.Unlock()
			}
		}()
	}
	wg.Wait()
	// counter is read without the lock: the race detector would report a
	// missing happens-before edge if the mutex did not create one.
	if counter == 0 || counter > goroutines*iterations {
		t.Fatalf("counter = %d", counter)
	}
}

// No starvation: a goroutine that holds the mutex almost all the time, and
// re-locks at once, cannot keep a queued waiter out for long (sync's
// TestMutexFairness).
func TestMutexFairness(t *testing.T) {
	var m coord.Mutex
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			m.Lock(context.Background())
			time.Sleep(100 * time.Microsecond)
			m.Unlock()
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	if !returnsWithin(10*time.Second, func() {
		for range 10 {
			time.Sleep(100 * time.Microsecond)
			m.Lock(context.Background())
			m.Unlock()
		}
	}) {
		t.Fatal("can't acquire Mutex in 10 seconds")
	}
}

// Every queued waiter gets the mutex even while newcomers keep barging.
func TestMutexNoStarvationUnderBarging(t *testing.T) {
	var m coord.Mutex
	stop := make(chan struct{})
	var bargers sync.WaitGroup
	for range 4 {
		bargers.Add(1)
		go func() {
			defer bargers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				m.Lock(context.Background())
				m.Unlock()
			}
		}()
	}
	var got atomic.Int64
	var waiters sync.WaitGroup
	for range 20 {
		waiters.Add(1)
		go func() {
			defer waiters.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := m.Lock(ctx); err != nil {
				t.Errorf("waiter starved: %v", err)
				return
			}
			got.Add(1)
			m.Unlock()
		}()
	}
	waiters.Wait()
	close(stop)
	bargers.Wait()
	if got.Load() != 20 {
		t.Fatalf("%d of 20 waiters got the mutex", got.Load())
	}
}

func TestMutexUncontendedAllocs(t *testing.T) {
	var m coord.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	allocs := testing.AllocsPerRun(1000, func() {
		m.Lock(ctx)
		m.Unlock()
	})
	if allocs != 0 {
		t.Fatalf("uncontended Lock/Unlock allocates %v times; want 0", allocs)
	}
}

func TestMutexIsLocker(t *testing.T) {
	var _ coord.Locker = new(coord.Mutex)
}

// The barging bound, checked exactly on synctest's clock: while the
// longest waiter has waited under 1 ms a running goroutine may take the
// mutex that Unlock just freed; once it has waited longer, Unlock hands the
// mutex to it directly and a newcomer finds it held. GOMAXPROCS=1 makes
// "before the woken waiter runs" certain.
func TestMutexBargingBound(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, tc := range []struct {
		waited   time.Duration
		mayBarge bool
	}{
		{0, true},
		{500 * time.Microsecond, true},
		{2 * time.Millisecond, false},
	} {
		synctest.Test(t, func(t *testing.T) {
			var m coord.Mutex
			m.Lock(context.Background())
			got := goParked(func() error { return m.Lock(context.Background()) })
			time.Sleep(tc.waited)

			m.Unlock()
			barged := m.TryLock() // before the woken waiter can run
			if barged != tc.mayBarge {
				t.Fatalf("after a %v wait: newcomer took the mutex = %v; want %v", tc.waited, barged, tc.mayBarge)
			}
			if barged {
				m.Unlock()
			}
			if err := <-got; err != nil { // the waiter gets the mutex either way
				t.Fatal(err)
			}
			if !m.Locked() {
				t.Fatal("waiter returned from Lock but the mutex is free")
			}
			m.Unlock()
		})
	}
}
