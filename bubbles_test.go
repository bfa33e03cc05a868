package coord_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// One primitive of each kind, at package level, as a program declares them
// and as test after test uses them, each test in its own testing/synctest
// bubble. coord keeps parked waiters for reuse per primitive, and a channel
// made in one bubble must never be touched from another (the runtime kills
// the program), nor may a goroutine in a bubble block on a channel made
// outside every bubble (it would not be durably blocked, and synctest.Wait
// would hang). TestPackageLevelAcrossBubbles fails in one of those ways if a
// primitive carries anything of one bubble into the next.
var (
	bubbleMutex     coord.Mutex
	bubbleReentrant coord.ReentrantMutex
	bubbleRW        coord.RWMutex
	bubbleEvent     coord.Event
	bubbleCond      coord.Cond
	bubbleSem       = coord.NewSemaphore(1)
	bubbleBarrier   = coord.NewBarrier(2)
	bubbleQueue     = coord.NewQueue[int](1)
	bubbleLimiter   = coord.NewRateLimiter(1, time.Second)
)

// TestPackageLevelAcrossBubbles runs bubble after bubble, each ending before
// the next starts, and parks on every primitive in each: with a ctx that
// cannot end, with one that can, and, every third bubble, with a waiter
// that gives up (its deadline passes on the bubble's clock) before another
// parks and is released. Every third bubble leaves the Event set.
func TestPackageLevelAcrossBubbles(t *testing.T) {
	for round := range 12 {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			if round%2 == 1 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(t.Context())
				defer cancel()
			}
			bubbleRound(t, ctx, round%3 == 2, round%3 == 0)
		})
	}
}

// bubbleParked starts wait in a goroutine, checks that it parks, and returns
// its result channel.
func bubbleParked(t *testing.T, what string, wait func() error) <-chan error {
	t.Helper()
	ch := goResult(wait)
	stillBlocked(t, what, ch)
	return ch
}

// bubbleGiveUp parks wait with a ctx whose deadline then passes on the
// bubble's clock, and checks that the wait gives up.
func bubbleGiveUp(t *testing.T, what string, wait func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	ch := bubbleParked(t, what, func() error { return wait(ctx) })
	time.Sleep(2 * time.Second)
	isCtxErr(t, what+" given up", resultNow(t, what, ch), context.DeadlineExceeded)
}

// bubbleDone checks that the goroutine behind ch has returned nil.
func bubbleDone(t *testing.T, what string, ch <-chan error) {
	t.Helper()
	if err := resultNow(t, what, ch); err != nil {
		t.Fatalf("%s = %v; want nil", what, err)
	}
}

func bubbleRound(t *testing.T, ctx context.Context, giveUp, leaveSet bool) {
	// Mutex.
	if err := bubbleMutex.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if giveUp {
		bubbleGiveUp(t, "Mutex.Lock", bubbleMutex.Lock)
	}
	ch := bubbleParked(t, "Mutex.Lock", func() error { return bubbleMutex.Lock(ctx) })
	bubbleMutex.Unlock()
	bubbleDone(t, "Mutex.Lock", ch)
	bubbleMutex.Unlock()

	// ReentrantMutex.
	held, err := bubbleReentrant.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lockR := func(ctx context.Context) error {
		c, err := bubbleReentrant.Lock(ctx)
		if err == nil {
			bubbleReentrant.Unlock(c)
		}
		return err
	}
	if giveUp {
		bubbleGiveUp(t, "ReentrantMutex.Lock", lockR)
	}
	ch = bubbleParked(t, "ReentrantMutex.Lock", func() error { return lockR(ctx) })
	bubbleReentrant.Unlock(held)
	bubbleDone(t, "ReentrantMutex.Lock", ch)

	// RWMutex: a writer parks behind a reader, a reader behind the writer.
	if err := bubbleRW.RLock(ctx); err != nil {
		t.Fatal(err)
	}
	if giveUp {
		bubbleGiveUp(t, "RWMutex.Lock", bubbleRW.Lock)
	}
	ch = bubbleParked(t, "RWMutex.Lock", func() error { return bubbleRW.Lock(ctx) })
	rch := bubbleParked(t, "RWMutex.RLock", func() error { return bubbleRW.RLock(ctx) })
	bubbleRW.RUnlock()
	bubbleDone(t, "RWMutex.Lock", ch)
	bubbleRW.Unlock()
	bubbleDone(t, "RWMutex.RLock", rch)
	bubbleRW.RUnlock()

	// Event. An earlier bubble may have left it set, or clear with a
	// waiter that gave up: neither may hand this bubble that bubble's
	// channel.
	if bubbleEvent.IsSet() {
		select {
		case <-bubbleEvent.Done():
		default:
			t.Fatal("Event.Done of a set Event is not closed")
		}
		bubbleEvent.Clear()
	}
	ch = bubbleParked(t, "Event.Wait", func() error { return bubbleEvent.Wait(ctx) })
	bubbleEvent.Set()
	bubbleDone(t, "Event.Wait", ch)
	bubbleEvent.Clear()
	if giveUp {
		bubbleGiveUp(t, "Event.Wait", bubbleEvent.Wait)
	} else if leaveSet {
		ch = bubbleParked(t, "Event.Wait", func() error { return bubbleEvent.Wait(ctx) })
		bubbleEvent.Set()
		bubbleDone(t, "Event.Wait", ch)
	}

	// Cond.
	ready := false
	waitFor := func(ctx context.Context) error {
		if err := bubbleCond.Lock(ctx); err != nil {
			return err
		}
		defer bubbleCond.Unlock()
		return bubbleCond.WaitFor(ctx, func() bool { return ready })
	}
	if giveUp {
		bubbleGiveUp(t, "Cond.WaitFor", waitFor)
	}
	ch = bubbleParked(t, "Cond.WaitFor", func() error { return waitFor(ctx) })
	if err := bubbleCond.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	ready = true
	bubbleCond.NotifyAll()
	bubbleCond.Unlock()
	bubbleDone(t, "Cond.WaitFor", ch)

	// Semaphore.
	if err := bubbleSem.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if giveUp {
		bubbleGiveUp(t, "Semaphore.Acquire", bubbleSem.Acquire)
	}
	ch = bubbleParked(t, "Semaphore.Acquire", func() error { return bubbleSem.Acquire(ctx) })
	bubbleSem.Release()
	bubbleDone(t, "Semaphore.Acquire", ch)
	bubbleSem.Release()

	// Barrier.
	barrierWait := func(ctx context.Context) error {
		_, err := bubbleBarrier.Wait(ctx)
		return err
	}
	if giveUp {
		bubbleGiveUp(t, "Barrier.Wait", barrierWait)
	}
	ch = bubbleParked(t, "Barrier.Wait", func() error { return barrierWait(ctx) })
	if _, err := bubbleBarrier.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	bubbleDone(t, "Barrier.Wait", ch)

	// Queue: a Get parks on the empty queue, then a Put on the full one.
	get := func(ctx context.Context) error {
		v, err := bubbleQueue.Get(ctx)
		if err == nil && v != 1 {
			t.Errorf("Queue.Get = %d; want 1", v)
		}
		return err
	}
	if giveUp {
		bubbleGiveUp(t, "Queue.Get", get)
	}
	ch = bubbleParked(t, "Queue.Get", func() error { return get(ctx) })
	if err := bubbleQueue.Put(ctx, 1); err != nil {
		t.Fatal(err)
	}
	bubbleDone(t, "Queue.Get", ch)
	if err := bubbleQueue.Put(ctx, 1); err != nil {
		t.Fatal(err)
	}
	put := func(ctx context.Context) error { return bubbleQueue.Put(ctx, 1) }
	if giveUp {
		bubbleGiveUp(t, "Queue.Put", put)
	}
	ch = bubbleParked(t, "Queue.Put", func() error { return put(ctx) })
	for range 2 {
		if err := get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	bubbleDone(t, "Queue.Put", ch)
	for range 3 {
		bubbleQueue.TaskDone()
	}

	// RateLimiter, one admission per second: the first Wait is admitted
	// (or, as every bubble's clock starts at the same instant, sleeps until
	// the last bubble's admission leaves the window), the second sleeps as
	// head, the third parks behind it.
	if err := bubbleLimiter.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	head := bubbleParked(t, "RateLimiter.Wait (head)", func() error { return bubbleLimiter.Wait(ctx) })
	if giveUp {
		// Queued behind the head, and gone before the head's turn.
		ctx2, cancel := context.WithCancel(t.Context())
		ch := bubbleParked(t, "RateLimiter.Wait", func() error { return bubbleLimiter.Wait(ctx2) })
		cancel()
		isCtxErr(t, "RateLimiter.Wait given up", resultNow(t, "RateLimiter.Wait", ch), context.Canceled)
	}
	ch = bubbleParked(t, "RateLimiter.Wait", func() error { return bubbleLimiter.Wait(ctx) })
	time.Sleep(time.Second)
	bubbleDone(t, "RateLimiter.Wait (head)", head)
	stillBlocked(t, "RateLimiter.Wait", ch)
	time.Sleep(time.Second)
	bubbleDone(t, "RateLimiter.Wait", ch)
}
