// Package waitq is the one waiter queue behind every coord primitive that hands
// something to one waiter at a time: Mutex, ReentrantMutex, Cond, Semaphore,
// Barrier, RateLimiter and Queue.
//
// A List is an intrusive, doubly linked FIFO of Waiters. It has no lock of its
// own: every List is guarded by the sync.Mutex of the primitive that owns it,
// and that mutex is only ever held for short, non-blocking critical sections.
// A goroutine parks by receiving from its Waiter's ready channel, never by
// blocking on a sync.Mutex, so a parked goroutine is durably blocked in the
// sense of testing/synctest and can be woken by cancellation of its context.
//
// The protocol, modelled on golang.org/x/sync/semaphore:
//
//   - The waiter queues itself (PushBack) under the owner's lock and then
//     calls Wait without the lock.
//   - A granter, under the owner's lock, removes the waiter from the list and
//     calls Grant, which marks it granted and sends on its ready channel. The
//     send never blocks: the channel has room for exactly one grant.
//   - If the waiter's context ends, Wait takes the owner's lock and asks the
//     owner, through the cancel callback, to settle the race: a waiter that was
//     not yet granted is still on the list and is simply removed; one that was
//     granted hands on what it was given. Because both sides decide under the
//     same lock, a grant is never lost and never doubled.
//
// The ready channel is buffered rather than closed so that a Waiter can be
// reused by the goroutine that owns it across the rounds of one wait (a
// Mutex waiter that lost to a barger queues again with the same Waiter).
//
// Waiters are deliberately not pooled across waits. A channel made inside a
// testing/synctest bubble belongs to that bubble, and using it from another
// bubble, or from outside, is a fatal error; a sync.Pool would hand a bubble's
// channel to whoever parks next. Users test code built on coord in synctest
// bubbles, so every wait makes its own Waiter (two small allocations, paid
// only by a goroutine that is about to park anyway).
package waitq

import (
	"context"
	"sync"
)

// A Waiter is one goroutine parked on a List. Its fields other than the
// links are for the owning primitive's use and are guarded by its lock.
type Waiter[T any] struct {
	next, prev *Waiter[T]
	list       *List[T]
	ready      chan struct{} // capacity 1: one grant, sent under the owner's lock
	granted    bool          // set by Grant, under the owner's lock

	N     int64 // what the waiter asks for (semaphore permits, a grant kind)
	Since int64 // when the waiter first queued, in nanoseconds of some monotonic clock
	Val   T     // a payload handed over with the grant (a Queue item)
	Index int   // a position handed over with the grant (a Barrier index)
	Err   error // an error handed over with the grant (a broken Barrier, a shut Queue)
}

// NewWaiter returns a fresh, unqueued, ungranted Waiter.
func NewWaiter[T any]() *Waiter[T] {
	return &Waiter[T]{ready: make(chan struct{}, 1)}
}

// Reset makes w ready for another wait: not granted, its ready channel empty,
// its payload fields zero. w must not be on a list.
func (w *Waiter[T]) Reset() {
	if w.list != nil {
		panic("coord: internal error: Reset of a queued waiter")
	}
	if w.granted {
		select {
		case <-w.ready:
		default:
		}
	}
	var zero T
	w.granted, w.N, w.Since, w.Val, w.Index, w.Err = false, 0, 0, zero, 0, nil
}

// Grant marks w as granted and wakes it. The caller holds the owner's lock
// and has already removed w from its list.
func (w *Waiter[T]) Grant() {
	if w.granted {
		panic("coord: internal error: waiter granted twice")
	}
	w.granted = true
	w.ready <- struct{}{}
}

// Queued reports whether w is on a list. The caller holds the owner's lock.
func (w *Waiter[T]) Queued() bool { return w.list != nil }

// Wait parks until w is granted or ctx is done, and is called without the
// owner's lock held, after w was queued under it.
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
func (w *Waiter[T]) Wait(ctx context.Context, mu *sync.Mutex, cancel func(granted bool) (keep bool)) error {
	done := ctx.Done()
	if done == nil {
		<-w.ready
		return nil
	}
	select {
	case <-w.ready:
		if ctx.Err() == nil {
			return nil
		}
		// Granted, but the ctx ended too and the waiter sees it: cancellation
		// wins unless the owner says the grant stands (API.md rule 3).
		mu.Lock()
		keep := cancel(true)
		mu.Unlock()
		if keep {
			return nil
		}
		return ctx.Err()
	case <-done:
		mu.Lock()
		granted := w.granted
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
// owner's lock.
type List[T any] struct {
	head, tail *Waiter[T]
	n          int
}

// Len returns the number of waiters on l.
func (l *List[T]) Len() int { return l.n }

// Front returns the longest-queued waiter, or nil.
func (l *List[T]) Front() *Waiter[T] { return l.head }

// PushBack queues w last.
func (l *List[T]) PushBack(w *Waiter[T]) {
	l.check(w)
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
// same reason).
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
	if w.granted {
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
