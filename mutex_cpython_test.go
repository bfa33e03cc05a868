package coord_test

// Ports of CPython's Lib/test/test_asyncio/test_locks.py LockTests. asyncio
// runs one task at a time; here each goroutine is real, so a testing/synctest
// bubble and synctest.Wait stand in for test_utils.run_briefly: they let every
// goroutine run until it is durably blocked.

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/coordkit/coord"
)

// LockTests.test_acquire: waiters are served in order, and a waiter that
// arrives later queues behind the ones already waiting.
func TestMutexCPythonAcquire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		ctx := context.Background()
		m.Lock(ctx)
		var result []int
		var done atomic.Int32
		c := func(i int) {
			if err := m.Lock(ctx); err == nil {
				result = append(result, i)
			}
			done.Add(1)
		}
		go c(1)
		synctest.Wait()
		go c(2)
		synctest.Wait()
		if len(result) != 0 {
			t.Fatalf("result = %v; want []", result)
		}
		m.Unlock()
		synctest.Wait()
		if !slices.Equal(result, []int{1}) {
			t.Fatalf("result = %v; want [1]", result)
		}
		go c(3)
		synctest.Wait()
		m.Unlock()
		synctest.Wait()
		if !slices.Equal(result, []int{1, 2}) {
			t.Fatalf("result = %v; want [1 2]", result)
		}
		m.Unlock()
		synctest.Wait()
		if !slices.Equal(result, []int{1, 2, 3}) {
			t.Fatalf("result = %v; want [1 2 3]", result)
		}
		if done.Load() != 3 {
			t.Fatalf("%d of 3 acquirers finished", done.Load())
		}
		m.Unlock()
	})
}

// LockTests.test_acquire_cancel: a cancelled acquire fails and leaves no
// waiter behind.
func TestMutexCPythonAcquireCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		m.Lock(context.Background())
		cancelWhileBlocked(t, "Lock", m.Lock)
		m.Unlock()
		mutexFree(t, &m, "after the holder's Unlock: a cancelled waiter was left holding it")
	})
}

// LockTests.test_cancel_race: A holds, B and C wait; B is cancelled as A
// releases. The release must move on to C instead of being lost on B.
func TestMutexCPythonCancelRace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		release := make(chan struct{})
		lockit := func(ctx context.Context, blocker chan struct{}) error {
			if err := m.Lock(ctx); err != nil {
				return err
			}
			if blocker != nil {
				<-blocker
			}
			m.Unlock()
			return nil
		}
		errA := goParked(func() error { return lockit(context.Background(), release) })
		if !m.Locked() {
			t.Fatal("A does not hold the mutex")
		}
		ctxB, cancelB := context.WithCancel(context.Background())
		errB := goParked(func() error { return lockit(ctxB, nil) })
		errC := goParked(func() error { return lockit(context.Background(), nil) })

		close(release)
		cancelB()
		synctest.Wait()
		if err := <-errA; err != nil {
			t.Fatalf("A: %v", err)
		}
		if err := <-errB; err != nil && err != context.Canceled {
			t.Fatalf("B: %v", err)
		}
		if err := <-errC; err != nil {
			t.Fatalf("C: %v", err)
		}
		mutexFree(t, &m, "after A, B and C are done")
	})
}

// LockTests.test_cancel_release_race (bpo-32734): with three waiters, the
// first is cancelled as the holder releases; exactly one of the others takes
// the mutex, never two at once.
func TestMutexCPythonCancelReleaseRace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		m.Lock(context.Background())
		var lockCount, callCount atomic.Int32
		lockit := func(ctx context.Context) error {
			callCount.Add(1)
			if err := m.Lock(ctx); err != nil {
				return err
			}
			lockCount.Add(1)
			return nil
		}
		ctx1, cancel1 := context.WithCancel(context.Background())
		ctx3, cancel3 := context.WithCancel(context.Background())
		err1 := goParked(func() error { return lockit(ctx1) })
		err2 := goParked(func() error { return lockit(context.Background()) })
		err3 := goParked(func() error { return lockit(ctx3) })

		cancel1()
		m.Unlock()
		if err := <-err1; err != context.Canceled {
			t.Fatalf("t1: %v; want context.Canceled", err)
		}
		if err := <-err2; err != nil {
			t.Fatalf("t2: %v", err)
		}
		synctest.Wait()
		if n := lockCount.Load(); n != 1 {
			t.Fatalf("%d locks taken; want exactly 1", n)
		}
		if n := callCount.Load(); n != 3 {
			t.Fatalf("%d calls; want 3", n)
		}
		cancel3() // t3 is stuck behind t2's hold
		if err := <-err3; err != context.Canceled {
			t.Fatalf("t3: %v; want context.Canceled", err)
		}
		m.Unlock()
		mutexFree(t, &m, "at the end")
	})
}
