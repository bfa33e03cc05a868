package coord

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/coordkit/coord/internal/inspect"
	"github.com/coordkit/coord/internal/waitq"
)

// A Cond is a condition variable: a place where goroutines holding a lock
// wait for shared state, guarded by that lock, to change. It is
// asyncio.Condition, and sync.Cond with waits that can be given up through a
// context.
//
// The zero Cond is ready to use and guards itself with a Mutex of its own,
// locked through the Cond's Lock and Unlock. NewCond makes a Cond over an
// existing Locker. A Cond must not be copied after first use. It is safe for
// use by any number of goroutines.
//
// Notify wakes waiters longest-waiting first; waiters woken by one call then
// take the lock back in whatever order they reach it. A notification is
// never lost: a waiter that gives up after Notify picked it (its ctx ended
// as it woke, or while it was taking the lock back) returns ctx.Err() and
// passes the notification on to the next waiter, as CPython's
// Condition.wait does since python/cpython#112202. Like any condition
// variable, a Cond may therefore wake a goroutine whose condition does not
// hold yet: wait in a loop, or use WaitFor.
type Cond struct {
	_   noCopy
	l   Locker // nil in the zero Cond: own is used
	own Mutex

	mu sync.Mutex // guards waiters; never held while waiting
	// queued is waiters.Len(), stored under mu after every change, so
	// that Notify can return without mu when nobody waits, as
	// sync.Cond.Signal does. A Notify is made with the lock held, and a
	// waiter queues before it unlocks, so a waiter that Notify must wake
	// is always counted in what Notify loads.
	queued  atomic.Int32
	waiters waitq.List[struct{}] // goroutines in Wait, in arrival order
	rec     inspect.Recorder     // its waits, for Stats; see the package doc's "Seeing inside"
}

var condKind = &inspect.Kind{Name: "Cond"}

// NewCond returns a Cond that uses l as its lock. It panics if l is nil.
func NewCond(l Locker) *Cond {
	if l == nil {
		panic("coord: NewCond with a nil Locker")
	}
	return &Cond{l: l}
}

func (c *Cond) locker() Locker {
	if c.l != nil {
		return c.l
	}
	return &c.own
}

// checkHeld panics if c's lock is a coord Mutex that is not locked. For
// other Lockers holding the lock is the caller's responsibility, as with
// sync.Cond.
func (c *Cond) checkHeld(method string) {
	if m, ok := c.locker().(*Mutex); ok && !m.Locked() {
		panic("coord: Cond." + method + " without the lock held")
	}
}

// Lock locks c's lock: see Locker.
func (c *Cond) Lock(ctx context.Context) error {
	return c.locker().Lock(ctx)
}

// Unlock unlocks c's lock.
func (c *Cond) Unlock() {
	c.locker().Unlock()
}

// Wait unlocks c's lock, waits until a Notify picks the caller or ctx is
// done, and locks it again before returning, in every case: the caller
// holds the lock when Wait returns, whatever it returns. Wait returns nil
// when notified, or ctx.Err() when ctx ended first; if ctx ends after the
// notification but before the lock is back, Wait returns ctx.Err() and
// hands the notification on to the next waiter, so it is not lost.
//
// If ctx is already done, Wait returns ctx.Err() at once, without releasing
// the lock. The caller must hold the lock: Wait panics if c's lock is a
// Mutex that is not locked.
//
// Taking the lock back ignores ctx: a waiter cannot return without the
// lock it was called with (CPython's bpo-22970 was a cancelled wait that
// did). If the Locker fails to lock for another reason,
// as a distributed lock may when its session ends, Wait returns that error
// and the lock is not held.
func (c *Cond) Wait(ctx context.Context) error {
	c.checkHeld("Wait")
	done := ctx.Done()
	if done != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	l := c.locker()
	// The wait's start, read before mu, which a Notify needs (not read
	// while nobody looks: see inspect.Start).
	start := inspect.Start()
	// Queue before unlocking: a Notify made as soon as the lock is free must
	// find us.
	c.mu.Lock()
	if done != nil {
		return c.waitCancellable(ctx, l, start)
	}

	// Nothing can cancel this wait (context.Background, WithoutCancel): it
	// parks in the waiters' lane, which is as cheap as sync.Cond.Wait (see
	// waitq.List.Park), releasing c.mu and then l as it parks.
	c.queued.Store(int32(c.waiters.Len() + 1))
	parkInLane(&c.waiters, &c.mu, l, 0, &c.rec, unsafe.Pointer(c), condKind, start)
	if err := relock(ctx, l); err != nil {
		c.handOn()
		return err
	}
	return nil
}

// waitCancellable is Wait's wait for a notification when ctx can end:
// on a Waiter of its own, which a Notify grants and a cancellation takes
// off the list. c.mu is held.
func (c *Cond) waitCancellable(ctx context.Context, l Locker, start int64) error {
	w := c.waiters.Waiter()
	c.waiters.PushBack(w)
	c.queued.Store(int32(c.waiters.Len()))
	// The wait for a notification, from here to WaitReleasing's return; the
	// re-lock after it is not part of it (it is a wait on the lock, which
	// records its own if it is a coord lock).
	rec := c.rec.BeginAt(unsafe.Pointer(c), condKind, start)

	// WaitReleasing unlocks l after c.mu, once w is sure to see a Notify:
	// the goroutine that takes l next and calls Notify finds c.mu free.
	// Picked by Notify but giving up: the notification goes to the next
	// waiter (CPython's Condition.wait does _notify(1)).
	err := w.WaitReleasing(ctx, &c.mu, l, func(granted bool) bool {
		if granted {
			c.notifyLocked(1)
		} else {
			c.waiters.Remove(w)
			c.queued.Store(int32(c.waiters.Len()))
		}
		return false
	})
	c.waiters.Recycle(w)
	c.rec.End(rec, err != nil)

	if lerr := relock(ctx, l); lerr != nil {
		if err == nil {
			c.handOn()
		}
		return lerr
	}
	if err == nil && ctx.Err() != nil {
		// Notified, but ctx ended while we took the lock back: cancellation
		// wins (rule 3 of the package doc), and the notification moves on.
		// The wait ended notified, but Wait returns ctx's error: a wait
		// given up, for Stats.
		c.handOn()
		c.rec.GaveUpLate()
		return ctx.Err()
	}
	return err
}

// relock takes l back for Wait, whatever ctx says. A coord Mutex's Lock
// fails only through its ctx, so it gets context.Background(), which costs
// nothing; another Locker (a distributed one) keeps ctx's values, which may
// matter to it, through context.WithoutCancel.
func relock(ctx context.Context, l Locker) error {
	if m, ok := l.(*Mutex); ok {
		return m.Lock(context.Background())
	}
	return l.Lock(context.WithoutCancel(ctx))
}

func (c *Cond) handOn() { c.notify(1) }

// WaitFor waits until pred returns true and returns nil, or until ctx is
// done and returns ctx.Err(). pred is called with the lock held, first at
// once and then after each wakeup; the caller must hold the lock, and holds
// it when WaitFor returns. If ctx is already done WaitFor returns ctx.Err()
// without calling pred.
func (c *Cond) WaitFor(ctx context.Context, pred func() bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for !pred() {
		if err := c.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Notify wakes up to n goroutines waiting on c, longest-waiting first. Each
// returns from Wait once it has taken the lock back, so the caller should
// unlock soon after. n <= 0 wakes nobody.
//
// The caller must hold the lock: Notify panics if c's lock is a Mutex that
// is not locked.
func (c *Cond) Notify(n int) {
	c.checkHeld("Notify")
	if n <= 0 || c.queued.Load() == 0 {
		return
	}
	c.notify(n)
}

// NotifyAll wakes every goroutine waiting on c. The caller must hold the
// lock: NotifyAll panics if c's lock is a Mutex that is not locked.
func (c *Cond) NotifyAll() {
	c.checkHeld("NotifyAll")
	if c.queued.Load() == 0 {
		return
	}
	c.notify(math.MaxInt) // grantLocked stops at the last waiter
}

// notify notifies up to n waiters, waking those in the lane once c.mu is
// released (see grantLocked).
func (c *Cond) notify(n int) {
	c.mu.Lock()
	wakes := c.grantLocked(n)
	c.mu.Unlock()
	c.waiters.WakeLane(wakes)
}

// notifyLocked notifies up to n waiters. c.mu is held.
func (c *Cond) notifyLocked(n int) {
	c.waiters.WakeLane(c.grantLocked(n))
}

// grantLocked grants up to n waiters, longest-waiting first, and returns
// how many of them are lane waits it has not woken: the caller wakes them
// (c.waiters.WakeLane), after releasing c.mu where it can, so that waiters
// queueing meanwhile do not also wait for the wakeups. c.mu is held.
func (c *Cond) grantLocked(n int) (wakes int) {
	for ; n > 0; n-- {
		granted, wake := c.waiters.GrantFrontLater()
		if !granted {
			break
		}
		if wake {
			wakes++
		}
	}
	c.queued.Store(int32(c.waiters.Len()))
	return wakes
}

// Stats returns a snapshot of c: Holders is always 0 (c's lock reports its
// own), and Waiters counts the goroutines blocked in Wait or WaitFor waiting
// for a notification, not those taking the lock back after one. Each
// notification that WaitFor waits for is one wait. See Stats.
func (c *Cond) Stats() Stats {
	return statsOf(unsafe.Pointer(c), condKind, 0, c.rec.CountsWith(inspect.NoStart, laneTally(&c.waiters, &c.mu)))
}
