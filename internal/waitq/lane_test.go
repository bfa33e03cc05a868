package waitq_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord/internal/waitq"
)

// The lane and the Waiters are one queue in order of arrival: GrantFrontLater
// always grants the longest waiter, of either kind, FrontN reports what it
// asks for, and IsFront knows a Waiter is first only when no older lane
// wait is queued. Ten lane waits interleaved with Waiters, more than the
// ring's first size, so it grows with waits parked in it.
func TestLaneOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var l waitq.List[struct{}]
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		defer func() { // after a failure, let every wait go, so the bubble can end
			mu.TryLock()
			for grantFront(&l) {
			}
			mu.Unlock()
		}()

		var order []int // arrival numbers, in the order the waits return
		var got sync.Mutex
		done := func(i int) {
			got.Lock()
			order = append(order, i)
			got.Unlock()
		}
		waiters := map[int]*waitq.Waiter[struct{}]{}
		const n = 15
		for i := range n {
			if i%3 == 1 {
				mu.Lock()
				w := l.Waiter()
				w.N = int64(i)
				l.PushBack(w)
				waiters[i] = w
				go func() {
					if err := w.Wait(ctx, &mu, l.Keep(w)); err != nil {
						t.Errorf("wait %d: %v", i, err)
					}
					done(i)
				}()
			} else {
				go func() {
					mu.Lock()
					l.Park(&mu, nil, int64(i), i%2 == 0)
					done(i)
				}()
			}
			synctest.Wait() // parked, mu released
		}

		mu.Lock()
		if got := l.Len(); got != n {
			t.Fatalf("Len = %d; want %d", got, n)
		}
		begun, ended := l.Counted()
		if begun != 6 || ended != 0 { // the even lane waits: 0, 2, 6, 8, 12, 14
			t.Fatalf("Counted = %d, %d; want 6, 0", begun, ended)
		}
		mu.Unlock()

		for i := range n {
			mu.Lock()
			front, ok := l.FrontN()
			if !ok || front != int64(i) {
				t.Fatalf("FrontN = %d, %v; want %d, true", front, ok, i)
			}
			if w := waiters[i+1]; w != nil && l.IsFront(w) {
				t.Fatalf("IsFront(waiter %d) with %d still queued", i+1, i)
			}
			if w := waiters[i]; w != nil && !l.IsFront(w) {
				t.Fatalf("IsFront(waiter %d) = false at the head", i)
			}
			if !grantFront(&l) {
				t.Fatal("GrantFrontLater = false with waits queued")
			}
			mu.Unlock()
			synctest.Wait()
			if len(order) != i+1 || order[i] != i {
				t.Fatalf("returned %v; want 0..%d in order", order, i)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if grantFront(&l) {
			t.Fatal("GrantFrontLater = true on an empty list")
		}
		if _, ok := l.FrontN(); ok {
			t.Fatal("FrontN = true on an empty list")
		}
		if begun, ended := l.Counted(); begun != 6 || ended != 6 {
			t.Fatalf("Counted = %d, %d; want 6, 6", begun, ended)
		}
	})
}

// A lane wait releases the owner's lock and then the other lock it is
// given, and is durably blocked meanwhile: synctest's clock runs past it.
func TestLaneReleasesAndBlocksDurably(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu, other sync.Mutex
		var l waitq.List[struct{}]
		returned := false
		go func() {
			mu.Lock()
			other.Lock()
			l.Park(&mu, &other, 1, true)
			returned = true
		}()
		synctest.Wait()
		if !mu.TryLock() {
			t.Fatal("owner's lock still held by the parked wait")
		}
		if !other.TryLock() {
			t.Fatal("other lock still held by the parked wait")
		}
		time.Sleep(time.Hour) // the bubble's clock advances: the wait is durably blocked
		if returned {
			t.Fatal("lane wait returned before its grant")
		}
		other.Unlock()
		grantFront(&l)
		mu.Unlock()
		synctest.Wait()
		if !returned {
			t.Fatal("lane wait did not return after its grant")
		}
	})
}

// A wait in the lane allocates nothing once the ring has room: a granter
// goroutine that lives across the runs grants each wait as it parks.
func TestLaneAllocatesNothing(t *testing.T) {
	var mu sync.Mutex
	var l waitq.List[struct{}]
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			grantFront(&l)
			mu.Unlock()
			runtime.Gosched()
		}
	}()
	cycle := func() {
		mu.Lock()
		l.Park(&mu, nil, 1, false)
	}
	cycle()
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Fatalf("%v allocations per lane wait; want 0", n)
	}
}

// grantFront grants the longest waiter of l and wakes it, as an owner does
// once it has released its lock, and reports whether there was one.
func grantFront(l *waitq.List[struct{}]) bool {
	granted, wake := l.GrantFrontLater()
	if wake {
		l.WakeLane(1)
	}
	return granted
}
