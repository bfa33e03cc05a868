// Package waitq is the one waiter queue behind every coord primitive that hands
// something to one waiter at a time: Mutex, ReentrantMutex, Cond, Semaphore,
// Barrier, RateLimiter and Queue.
//
// A List is an intrusive, doubly linked FIFO of Waiters. It has no lock of its
// own: every List is guarded by the sync.Mutex of the primitive that owns it,
// and that mutex is only ever held for short, non-blocking critical sections.
// A goroutine parks on its Waiter, never by blocking on a sync.Mutex, so a
// parked goroutine is durably blocked in the sense of testing/synctest and
// can be woken by cancellation of its context.
//
// The protocol, modelled on golang.org/x/sync/semaphore:
//
//   - The waiter takes a Waiter from the List (List.Waiter), queues it
//     (PushBack) under the owner's lock and calls Wait with the lock still
//     held; Wait releases the lock as it parks.
//   - A granter, under the owner's lock, removes the waiter from the list and
//     calls Grant, which marks it granted and wakes it. Grant never blocks.
//   - If the waiter's context ends, Wait takes the owner's lock and asks the
//     owner, through the cancel callback, to settle the race: a waiter that was
//     not yet granted is still on the list and is simply removed; one that was
//     granted hands on what it was given. Because both sides decide under the
//     same lock, a grant is never lost and never doubled.
//   - Once it has read what it was given, the waiter gives the Waiter back
//     (List.Recycle), for the next wait on the same List.
//
// # Parking without allocation
//
// A wait that parks must not allocate in the steady state (a Cond handing
// items between two goroutines parks on every item), so Waiters are kept for
// reuse. They are kept per List, not in a global sync.Pool, and what they
// park on is chosen so that a kept Waiter can never carry a channel from one
// testing/synctest bubble into another:
//
//   - A channel belongs to the bubble of the goroutine that made it, and
//     touching it from any other bubble, or from outside, kills the program;
//     a goroutine inside a bubble that blocks on a channel made outside every
//     bubble is not durably blocked, so the bubble's clock stops. Nothing
//     outside the runtime can ask which bubble a channel or a goroutine is
//     in, so a kept channel could not be checked before reuse: a
//     package-level Mutex used by one test bubble after another would hand
//     the second bubble the first one's channel.
//   - A sync.Cond belongs to no bubble: the runtime ties only the goroutine
//     parked in Cond.Wait to its bubble (and Cond.Wait is durably blocking),
//     and a Cond can be reused by any goroutine once nobody waits on it. So
//     each Waiter carries a sync.Cond, and a wait whose ctx can never end
//     (ctx.Done() == nil: context.Background, WithoutCancel) parks on it. Its
//     ticketed notify list also makes the handoff cheap: the waiter takes a
//     ticket under the owner's lock, which Cond.Wait releases for it, and
//     Grant wakes exactly that ticket, with no channel operation at all.
//   - A sync.Cond cannot be selected on together with ctx.Done(). A wait
//     whose ctx can end therefore parks on a channel, made for that wait by
//     the waiting goroutine itself (so in its own bubble) and dropped when
//     the Waiter is recycled: one small allocation, paid only by a wait that
//     parks and can be cancelled.
//
// Measured side by side in one run of bench's bounded buffer of one item
// (every item two parked waits) on a loaded 2-core machine, against the
// fresh Waiter and channel of every wait that this replaced (2.6x the time
// of the Cond park, two allocations per wait):
// keeping Waiters but parking each wait on a fresh channel took 2.7x the
// time of the Cond park (the channel operations, not the allocations, were
// the cost); waking the Cond of a cancellable wait from context.AfterFunc
// rather than selecting on a channel took 1.3x the time and 2.5 allocations
// per wait instead of one (the registration and its stop func); and a Cond
// whose Locker takes the owner's lock back after the wakeup, as sync.Cond's
// waiters do, measured the same within the noise, so the woken waiter is
// spared that lock.
//
// A Waiter keeps its channel across the rounds of one wait (a Mutex waiter
// that lost to a barger queues again with the same Waiter).
//
// # The lane
//
// A List whose waits are only ever granted in arrival order, with nothing
// handed over but the grant (a Cond, a Semaphore), can do better still for
// a wait that cannot be cancelled: Park queues it in the List's lane, a
// ring of arrival numbers, and parks it on the List's one sync.Cond, with
// no Waiter at all. Taking a Waiter and giving it back, setting and reading
// its flag, cost a Cond handoff more than the parking itself: on bench's
// bounded buffer of one item with one CPU, a Waiter parked on its own Cond
// took 1.6x sync.Cond's time, a minimal condition variable on the lane
// 1.1x, and coord.Cond on it 1.3-1.4x (the rest is its own checks and
// Stats). Waiters and lane waits are one queue in arrival order: FrontN,
// IsFront and GrantFrontLater look at both heads.
package waitq

import (
	"context"
	"sync"
	"sync/atomic"
)

// A Waiter is one goroutine parked on a List. Its fields other than the
// links are for the owning primitive's use and are guarded by its lock;
// the granter writes them before Grant, and the waiter may read them once
// Wait has returned.
type Waiter[T any] struct {
	next, prev *Waiter[T]
	list       *List[T]
	seq        uint64     // its place in the List's order of arrival, lane included
	spare      *Waiter[T] // next on the owning List's stack of spare Waiters
	// depth is the number of spares at and below this one, while on that
	// stack. Atomic because a Recycle may read it on a top that a pop has
	// just taken and its new user is recycling again (its CAS then fails).
	depth atomic.Int32

	// granted is set by Grant, under the owner's lock. It is atomic because
	// a waiter parked on cond reads it after waking without that lock: the
	// atomic store and load order the granter's writes to the fields below
	// before the waiter's reads, which the runtime's notify list alone does
	// not (for the race detector).
	granted atomic.Bool

	// A wait parks on ready (its ctx can end) or on cond (it cannot). ready
	// is made by Wait, in the waiting goroutine, and dropped by Recycle;
	// capacity 1, for one grant sent under the owner's lock. cond's L is
	// unlock, which releases the owner's lock as cond.Wait parks.
	ready  chan struct{}
	cond   sync.Cond
	unlock unlocker

	N     int64 // what the waiter asks for (semaphore permits, a grant kind)
	Since int64 // when the waiter first queued, in nanoseconds of some monotonic clock
	Val   T     // a payload handed over with the grant (a Queue item)
	Index int   // a position handed over with the grant (a Barrier index)
	Err   error // an error handed over with the grant (a broken Barrier, a shut Queue)
}

// unlocker is the Locker of a Waiter's cond. Cond.Wait takes its ticket,
// calls Unlock, which releases the owner's lock (and then also, once, the
// lock WaitReleasing was given), and parks; after the wakeup it calls Lock,
// which does nothing: the waiter needs no lock to read its grant, and
// taking the owner's lock there would make every woken waiter contend with
// the goroutine that woke it.
type unlocker struct {
	mu   *sync.Mutex
	also Unlocker
}

func (u *unlocker) Lock() {}
func (u *unlocker) Unlock() {
	// Read both before mu goes: a List's lane shares one unlocker among
	// its waits, and the next wait sets it as soon as it has mu.
	mu, also := u.mu, u.also
	u.also = nil
	mu.Unlock()
	if also != nil {
		also.Unlock()
	}
}

// An Unlocker is a lock that WaitReleasing releases for its caller.
type Unlocker interface{ Unlock() }

// NewWaiter returns a fresh, unqueued, ungranted Waiter. List.Waiter reuses
// one where it can.
func NewWaiter[T any]() *Waiter[T] {
	w := new(Waiter[T])
	w.cond.L = &w.unlock
	return w
}

// Reset makes w ready for another round of the same wait: not granted, its
// payload fields zero. w must not be on a list, and its last grant, if any,
// must have been received by Wait.
func (w *Waiter[T]) Reset() {
	if w.list != nil {
		panic("coord: internal error: Reset of a queued waiter")
	}
	var zero T
	w.granted.Store(false)
	w.N, w.Since, w.Val, w.Index, w.Err = 0, 0, zero, 0, nil
}

// Granted reports whether w has been granted. The caller holds the owner's
// lock: a waiter that queued, let go of the lock and took it back (an
// RWMutex writer that yields) learns whether Wait will park.
func (w *Waiter[T]) Granted() bool { return w.granted.Load() }

// Grant marks w as granted and wakes it. The caller holds the owner's lock
// and has already removed w from its list.
func (w *Waiter[T]) Grant() {
	if w.granted.Load() {
		panic("coord: internal error: waiter granted twice")
	}
	// Wait chose how w parks under the owner's lock, which we hold. If w
	// is not parked yet (a Cond waiter is queued before it unlocks the
	// Cond's Locker and parks), ready is nil and the Signal finds no ticket
	// and does nothing: Wait will see granted before it parks.
	//
	// ready is read before granted is set: a waiter that sees granted may
	// return and recycle w, dropping ready, at once.
	ready := w.ready
	w.granted.Store(true)
	if ready != nil {
		ready <- struct{}{}
	} else {
		w.cond.Signal()
	}
}

// Wait parks until w is granted or ctx is done. It is called with the
// owner's lock mu held, after w was queued under it, and returns with mu
// released.
//
// If w is granted and ctx is still live, Wait returns nil. Otherwise ctx is
// done: Wait takes mu and calls cancel(granted) with it held, so the owner
// can remove an ungranted w from its list or hand on what a granted w was
// given. If cancel returns true the grant is kept and Wait returns nil (a
// tripped Barrier round, an item already put); otherwise Wait returns
// ctx.Err().
//
// A grant that arrives together with cancellation is thus settled by the
// owner, under its lock, exactly once: this is what makes every coord wait
// lose nothing and double nothing.
//
// Wait and park are the one place where a coord wait blocks: the goroutine
// starts blocking where Wait calls park and stops where park returns,
// granted or given up.
func (w *Waiter[T]) Wait(ctx context.Context, mu *sync.Mutex, cancel func(granted bool) (keep bool)) error {
	return w.WaitReleasing(ctx, mu, nil, cancel)
}

// WaitReleasing is Wait for a waiter that also holds another lock, l, which
// it must release once it is queued (a Cond's Locker, which a Notify needs
// held). It releases l after mu, at the last moment before it parks, when w
// is already sure to see a Grant: a goroutine that takes l and goes on to
// take mu (a Notify) thus never finds mu still held by this waiter. l.Unlock
// never runs with mu held, so it may block (a distributed lock's). l may be
// nil.
func (w *Waiter[T]) WaitReleasing(ctx context.Context, mu *sync.Mutex, l Unlocker, cancel func(granted bool) (keep bool)) error {
	if w.granted.Load() {
		// Already granted (not by a Grant made since mu was taken, which
		// mu rules out, so only in tests): no need to park.
		if w.ready != nil {
			<-w.ready // the grant is in the buffer: take it, so that w stays reusable
		}
		mu.Unlock()
		if l != nil {
			l.Unlock()
		}
		return w.settle(ctx, mu, cancel)
	}
	// The wait blocks from here...
	woken := w.park(ctx.Done(), mu, l)
	// ...to here: woken by Grant, without mu, or given up, with mu held.
	if woken {
		return w.settle(ctx, mu, cancel)
	}
	granted := w.granted.Load()
	if granted {
		<-w.ready // consume the grant so that w can be reused
	}
	keep := cancel(granted)
	mu.Unlock()
	if keep {
		return nil
	}
	return ctx.Err()
}

// park releases mu, then l, and parks until w is granted, and then reports
// true, or until done is closed, and then takes mu back and reports false (w
// may have been granted meanwhile).
func (w *Waiter[T]) park(done <-chan struct{}, mu *sync.Mutex, l Unlocker) (woken bool) {
	if done == nil {
		// Nothing can cancel the wait: park on cond, which allocates
		// nothing. cond.Wait releases mu (and l) after taking its ticket,
		// so the Grant that ends the wait, made under mu, cannot miss it.
		w.unlock.mu, w.unlock.also = mu, l
		w.cond.Wait()
		for !w.granted.Load() {
			// No spurious wakeups are expected (only Grant signals cond),
			// but should one come, wait again as the first time.
			mu.Lock()
			if w.granted.Load() {
				mu.Unlock()
				break
			}
			w.cond.Wait()
		}
		return true
	}
	if w.ready == nil {
		w.ready = make(chan struct{}, 1)
	}
	mu.Unlock()
	if l != nil {
		l.Unlock()
	}
	select {
	case <-w.ready:
		return true
	case <-done:
		mu.Lock()
		return false
	}
}

// settle finishes the wait of a granted w, without mu: the grant stands if
// ctx is still live, and otherwise the owner decides.
func (w *Waiter[T]) settle(ctx context.Context, mu *sync.Mutex, cancel func(granted bool) (keep bool)) error {
	if ctx.Err() == nil {
		return nil
	}
	// Granted, but the ctx ended too and the waiter sees it: cancellation
	// wins unless the owner says the grant stands (rule 3 of the package
	// doc).
	mu.Lock()
	keep := cancel(true)
	mu.Unlock()
	if keep {
		return nil
	}
	return ctx.Err()
}

// Keep returns the cancel callback for Wait of a waiter on l whose grant is
// an outcome for everyone, not a thing handed to it alone (a tripped Barrier
// round, a Join released, a Put's item already in the queue): a granted w
// keeps its grant, and Wait returns nil; an ungranted w leaves l without a
// trace, and Wait returns ctx.Err().
func (l *List[T]) Keep(w *Waiter[T]) func(granted bool) bool {
	return func(granted bool) bool {
		if granted {
			return true
		}
		l.Remove(w)
		return false
	}
}

// HandOn returns the cancel callback for Wait of a waiter on l that was to
// be handed something of its own (a Cond notification, a Queue item, a
// RateLimiter's headship): cancellation wins, so a granted w calls pass to
// give what it got to whoever would have had it next, and an ungranted w
// leaves l. Either way Wait returns ctx.Err(). pass runs with the owner's
// lock held.
func (l *List[T]) HandOn(w *Waiter[T], pass func()) func(granted bool) bool {
	return func(granted bool) bool {
		if granted {
			pass()
		} else {
			l.Remove(w)
		}
		return false
	}
}

// A List is a FIFO of Waiters. The zero List is empty. It is guarded by its
// owner's lock, except for its spare Waiters (see Waiter and Recycle).
type List[T any] struct {
	head, tail *Waiter[T]
	n          int
	// spares is a stack of Waiters whose waits are over, linked through
	// Waiter.spare, kept for the next waits on l. Waiter pops under the
	// owner's lock; Recycle pushes without it, because a waiter that has
	// been granted returns without retaking that lock. Only Waiter pops,
	// and always under the lock, so the lock-free pushes cannot suffer ABA:
	// a popped head cannot come back while the pop is in progress.
	spares atomic.Pointer[Waiter[T]]

	// The lane: waits that cannot be cancelled, with no Waiter (see
	// Park). Made by the first Park, so that a List whose owner never
	// parks there (a Mutex) stays small.
	lane *lane
}

// lane is a List's lane.
type lane struct {
	// seq numbers the waits queued on the List since its lane was made,
	// on the list or in the lane, in the order of arrival: the oldest of
	// the two heads goes first. Waiters queued before keep 0, older than
	// every lane wait, as they are.
	seq  uint64
	ring []laneWait // oldest at head; its length is a power of two
	head int
	n    int
	cond sync.Cond // what lane waits park on; its L is &unlock
	// unlock is the Locker of cond, shared by the lane's waits: each sets
	// it under the owner's lock just before cond.Wait reads it.
	unlock unlocker
	// The waits parked with count set, which the owner's Recorder does
	// not know of: those begun, and those granted.
	begun, ended uint64
	// grants is added to by each grant of a lane wait and read by the
	// woken wait, under the race detector only: the happens-before edge
	// from the granter to the waiter that the runtime gives (the notify
	// list's lock, then the scheduler's run queue, between Signal and the
	// waiter's return from Cond.Wait) but that the race detector does not
	// see. Without it, it would report the owner's state, written by the
	// granter and read by the woken waiter, as a race.
	grants atomic.Uint64
}

// A laneWait is one wait in a List's lane.
type laneWait struct {
	seq     uint64
	n       int64
	counted bool // counted in the lane's begun, and in its ended once granted
}

// maxSpares bounds the spare Waiters a List keeps: enough for the waiters
// that come and go around one handoff, not one per goroutine that ever
// waited (a Mutex that once had 10 000 waiters must not keep 10 000
// Waiters for good).
const maxSpares = 8

// Waiter returns a Waiter for a wait on l: one of l's spare Waiters, or a
// new one. The caller holds the owner's lock.
func (l *List[T]) Waiter() *Waiter[T] {
	for {
		w := l.spares.Load()
		if w == nil {
			return NewWaiter[T]()
		}
		if l.spares.CompareAndSwap(w, w.spare) {
			w.spare = nil
			return w
		}
	}
}

// Recycle gives w back to l once its wait is over and its owner has read
// what it needs from it. w must have come from l.Waiter or NewWaiter, be
// off every list, and nobody may use it afterwards. Recycle drops w's
// channel, if it has one: the channel belongs to the bubble of the goroutine
// that waited, and the next user of w may be in another.
//
// Recycle does not need the owner's lock.
func (l *List[T]) Recycle(w *Waiter[T]) {
	if w.list != nil {
		panic("coord: internal error: Recycle of a queued waiter")
	}
	var zero T
	w.granted.Store(false)
	w.ready = nil
	w.unlock = unlocker{}
	w.N, w.Since, w.Val, w.Index, w.Err = 0, 0, zero, 0, nil
	for {
		top := l.spares.Load()
		w.spare = top
		depth := int32(1)
		if top != nil {
			depth = top.depth.Load() + 1
			if depth > maxSpares {
				w.spare = nil
				return // enough kept: let w go
			}
		}
		w.depth.Store(depth)
		if l.spares.CompareAndSwap(top, w) {
			return
		}
	}
}

// Len returns the number of waiters on l, lane included.
func (l *List[T]) Len() int {
	if l.lane != nil {
		return l.n + l.lane.n
	}
	return l.n
}

// Front returns the longest-queued Waiter, or nil. It does not look at the
// lane: a List whose owner parks waits there serves its waiters through
// FrontN and GrantFrontLater, which do.
func (l *List[T]) Front() *Waiter[T] { return l.head }

// Park queues a wait that cannot be cancelled (its ctx's Done is nil)
// asking for n, and parks until GrantFrontLater grants it and WakeLane
// wakes it. If count is set, l counts the wait for the owner's Stats (see
// Counted): a primitive whose
// Recorder is not timing waits (nobody looks) thus records a lane wait with
// two plain additions under its lock, and no call. It is called with the
// owner's lock mu held, and releases mu, and then also (which may be nil),
// as it parks, as WaitReleasing does; it returns without them, granted.
//
// A parked wait has no Waiter: it is an entry in l's lane, a ring of
// arrival numbers and requests, and it parks on l's one sync.Cond. This
// is the cheapest wait there is: no Waiter to take and give back, no flag
// to set and read, no channel; the wait is sync.Cond.Wait itself. It is
// right because nothing can make such a wait leave the queue out of
// turn: a lane wait is only ever granted as the longest waiter of l, in
// arrival order, and the runtime's notify list wakes the goroutines
// parked on a sync.Cond in the order they took their tickets, which they
// do here under mu, in the order of the lane. So each Signal of WakeLane
// wakes exactly a wait GrantFrontLater took off, in order. A Waiter's wait
// (one that can be cancelled) is ordered against the lane by arrival
// number.
func (l *List[T]) Park(mu *sync.Mutex, also Unlocker, n int64, count bool) {
	ln := l.lane
	if ln == nil {
		ln = new(lane)
		ln.cond.L = &ln.unlock
		l.lane = ln
	}
	if ln.n == len(ln.ring) {
		ln.grow()
	}
	ln.seq++
	ln.ring[(ln.head+ln.n)&(len(ln.ring)-1)] = laneWait{seq: ln.seq, n: n, counted: count}
	ln.n++
	if count {
		ln.begun++
	}
	ln.unlock.mu, ln.unlock.also = mu, also
	// Wait takes its ticket, then calls unlock.Unlock, which releases mu:
	// the ticket's order is the lane's.
	ln.cond.Wait()
	if raceEnabled {
		ln.grants.Load()
	}
}

// Counted returns the number of lane waits parked with count set, and of
// those granted (the others have been). The caller holds the owner's lock.
func (l *List[T]) Counted() (begun, ended uint64) {
	if l.lane == nil {
		return 0, 0
	}
	return l.lane.begun, l.lane.ended
}

// grow doubles the ring.
func (ln *lane) grow() {
	ring := make([]laneWait, max(4, 2*len(ln.ring)))
	for i := range ln.n {
		ring[i] = ln.ring[(ln.head+i)&(len(ln.ring)-1)]
	}
	ln.ring, ln.head = ring, 0
}

// take removes the lane's head, which must exist, without waking it: the
// caller owes it a Signal (see WakeLane).
func (ln *lane) take() {
	if ln.ring[ln.head].counted {
		ln.ended++
	}
	ln.head = (ln.head + 1) & (len(ln.ring) - 1)
	ln.n--
	if raceEnabled {
		ln.grants.Add(1)
	}
}

// laneFirst reports whether the longest waiter of l is the head of the
// lane rather than l.head.
func (l *List[T]) laneFirst() bool {
	ln := l.lane
	return ln != nil && ln.n > 0 && (l.head == nil || ln.ring[ln.head].seq < l.head.seq)
}

// FrontN returns what the longest waiter of l, Waiter or lane wait, asks
// for (Waiter.N, or Park's n), and false if l is empty.
func (l *List[T]) FrontN() (int64, bool) {
	switch {
	case l.laneFirst():
		return l.lane.ring[l.lane.head].n, true
	case l.head != nil:
		return l.head.N, true
	}
	return 0, false
}

// IsFront reports whether w is the longest waiter of l, lane included.
func (l *List[T]) IsFront(w *Waiter[T]) bool {
	return l.head == w && !l.laneFirst()
}

// GrantFrontLater takes the longest waiter of l, Waiter or lane wait, off
// l and grants it, and reports false if l was empty. The caller holds the
// owner's lock, and a Waiter granted so carries no payload. A Waiter is
// woken at once; a lane wait is not, and GrantFrontLater reports wake: the
// caller must then call WakeLane once for it, with or without the owner's
// lock, and does so once it has released that lock where it can. Waking a goroutine (readying it, and perhaps a thread
// to run it) is the dearest part of a grant, and every goroutine that
// wants the owner's lock meanwhile would wait for it, as a channel's
// receive does not: it readies the sender after unlocking the channel.
//
// Which goroutine a Signal wakes does not depend on who sends it: the
// notify list wakes its tickets in order, one per Signal, and lane waits
// are taken in the same order.
func (l *List[T]) GrantFrontLater() (granted, wake bool) {
	if l.laneFirst() {
		l.lane.take()
		return true, true
	}
	if w := l.PopFront(); w != nil {
		w.Grant()
		return true, false
	}
	return false, false
}

// WakeLane wakes n lane waits that GrantFrontLater took off l.
func (l *List[T]) WakeLane(n int) {
	for range n {
		l.lane.cond.Signal()
	}
}

// PushBack queues w last.
func (l *List[T]) PushBack(w *Waiter[T]) {
	l.check(w)
	w.seq = 0
	if ln := l.lane; ln != nil {
		ln.seq++
		w.seq = ln.seq
	}
	w.list, w.prev, w.next = l, l.tail, nil
	if l.tail != nil {
		l.tail.next = w
	} else {
		l.head = w
	}
	l.tail = w
	l.n++
}

// PushFront queues w first: for a waiter that was woken to compete and lost,
// so that it keeps its place (sync.Mutex queues such a waiter LIFO for the
// same reason). w keeps its arrival number, older than every other on l.
func (l *List[T]) PushFront(w *Waiter[T]) {
	l.check(w)
	w.list, w.prev, w.next = l, nil, l.head
	if l.head != nil {
		l.head.prev = w
	} else {
		l.tail = w
	}
	l.head = w
	l.n++
}

func (l *List[T]) check(w *Waiter[T]) {
	if w.list != nil {
		panic("coord: internal error: waiter queued twice")
	}
	if w.granted.Load() {
		panic("coord: internal error: granted waiter queued")
	}
}

// Remove takes w off l. It reports whether w was on l.
func (l *List[T]) Remove(w *Waiter[T]) bool {
	if w.list != l {
		return false
	}
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		l.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		l.tail = w.prev
	}
	w.list, w.prev, w.next = nil, nil, nil
	l.n--
	return true
}

// PopFront removes and returns the longest-queued waiter, or nil.
func (l *List[T]) PopFront() *Waiter[T] {
	w := l.head
	if w != nil {
		l.Remove(w)
	}
	return w
}
