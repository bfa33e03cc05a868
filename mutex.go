package coord

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/coordkit/coord/internal/inspect"
	"github.com/coordkit/coord/internal/waitq"
)

// A Mutex is a mutual exclusion lock whose Lock can be given up through a
// context. It is asyncio.Lock for goroutines.
//
// The zero value for a Mutex is an unlocked mutex. A Mutex must not be copied
// after first use. It is safe for use by any number of goroutines, and any
// goroutine may unlock it, not only the one that locked it (as with
// sync.Mutex and asyncio.Lock).
//
// Fairness. Goroutines that have to wait are queued and served in arrival
// order. As in sync.Mutex, a goroutine that arrives while the mutex is free
// may take it ahead of a queued waiter that has been woken but is not yet
// running: handing the mutex to a parked goroutine costs a context switch,
// and letting a running goroutine barge keeps the mutex busy meanwhile. This
// is what makes Mutex nearly as fast as sync.Mutex under contention, where a
// strict FIFO handoff (golang.org/x/sync/semaphore.Weighted of 1) is an order
// of magnitude slower. Barging is bounded: once the longest-waiting goroutine
// has waited more than 1 ms, Unlock hands the mutex to it directly, and no
// newcomer can take it in between. A woken waiter that loses to a barger
// goes back to the front of the queue, keeping its place and its age, so
// every queued waiter eventually gets the mutex.
//
// Cancellation. Lock returns either nil, with the mutex held, or ctx.Err(),
// without it; never both. A waiter whose ctx ends just as the mutex is handed
// to it passes the mutex on to the next waiter (or frees it), so no handoff is
// lost to a cancelled waiter.
type Mutex struct {
	_     noCopy
	state atomic.Int32 // mutexLocked | mutexWoken | mutexWaiters
	mu    sync.Mutex   // guards q; held only briefly, never while waiting
	q     waitq.List[struct{}]
	rec   inspect.Recorder // its waits, for Stats; see the package doc's "Seeing inside"
	// tally counts, under mu, the waits that rec does not log because
	// nobody looked when they began: a plain addition under mu, which the
	// waiter holds as it queues and whoever ends its wait holds too, where
	// rec would add atomically on a line of its own that a waiter woken on
	// another CPU must fetch. The one wait that ends without mu, a woken
	// waiter's that takes the mutex in the CAS that clears mutexWoken, is
	// noted in woken and ended by the next holder of mu (settleWoken).
	tally inspect.Tally
	woken wokenWait // guarded by mu
}

// wokenWait notes the tallied wait of the waiter woken to compete for the
// mutex (see mutexWoken), if any, until it ends.
type wokenWait struct {
	tallied bool  // that waiter's wait is in tally and not ended there yet
	since   int64 // when it first queued
}

// waitTallied, in a waiter's Index, marks a wait counted in tally rather
// than logged in rec, for the Unlock that ends it by handing it the mutex.
const waitTallied = 1

var mutexKind = &inspect.Kind{Name: "Mutex", Lock: true}

const (
	// mutexLocked is set while the mutex is held, including while it is being
	// handed directly from Unlock to a waiter.
	mutexLocked int32 = 1 << iota
	// mutexWoken is set while a waiter that Unlock woke to compete for the
	// mutex is on its way. Unlock wakes no other waiter meanwhile: one
	// contender in flight is enough, and waking more would only make them
	// fight. Set and cleared under mu, except that the woken waiter clears it
	// in the same atomic step in which it takes the mutex.
	mutexWoken
	// mutexWaiters is set while q is not empty. Changed only under mu. It
	// sends Unlock to its slow path.
	mutexWaiters
)

// starvationThreshold is how long the longest-waiting goroutine may wait
// before newcomers lose the right to barge: the bound sync.Mutex keeps.
const starvationThreshold = time.Millisecond

// spinCount bounds the spinning of a newcomer that finds the mutex held
// before it parks (rule 4 of the package doc: short and bounded).
const spinCount = 4

// What a waiter's grant means (carried in waitq.Waiter.N).
const (
	grantWake  = iota // woken to compete for a free mutex; mutexWoken is set on its behalf
	grantOwned        // handed the mutex directly; mutexLocked stays set on its behalf
)

// now is the monotonic clock of waitq.Waiter.Since: the clock of wait
// starts, so that a Mutex waiter's queueing time also starts its wait in
// Stats (Recorder.BeginAt) without a second reading.
func now() int64 { return inspect.Now() }

// Lock locks m. If m is already locked, Lock waits until it is unlocked, or
// until ctx is done.
//
// Lock returns nil when the caller holds m. If ctx ends first, Lock returns
// ctx.Err() and the caller does not hold m. If ctx is already done when Lock
// is called, Lock returns ctx.Err() and leaves m as it is, even if m is free.
func (m *Mutex) Lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !m.state.CompareAndSwap(0, mutexLocked) {
		if err := m.lockSlow(ctx, unsafe.Pointer(m), mutexKind); err != nil {
			return err
		}
	}
	if inspect.SlowWaitOn() {
		m.rec.Took()
	}
	return nil
}

// TryLock tries to lock m without waiting and reports whether it succeeded.
//
// Like sync.Mutex.TryLock, it is rarely the right tool: a caller that must
// not wait forever is better served by Lock with a deadline.
func (m *Mutex) TryLock() bool {
	s := m.state.Load()
	if s&mutexLocked == 0 && m.state.CompareAndSwap(s, s|mutexLocked) {
		if inspect.SlowWaitOn() {
			m.rec.Took()
		}
		return true
	}
	return false
}

// Locked reports whether m is locked at the moment of the call.
func (m *Mutex) Locked() bool {
	return m.state.Load()&mutexLocked != 0
}

// lockSlow is Lock's wait. owner and k are what its wait is recorded as, in
// m.rec: m and Mutex, or the ReentrantMutex that m is the lock of.
//
// One Lock is one wait in Stats, however many rounds it takes: it begins
// when the waiter first queues (not while it spins, nor when it finds the
// mutex free on its first look under m.mu) and ends when Lock returns, so a
// waiter that loses to a barger and queues again is still the same wait.
func (m *Mutex) lockSlow(ctx context.Context, owner unsafe.Pointer, k *inspect.Kind) error {
	// Spin briefly: a holder of a short critical section is likely to
	// release the mutex sooner than parking and waking would take.
	for range spinCount {
		s := m.state.Load()
		if s&mutexLocked == 0 && m.state.CompareAndSwap(s, s|mutexLocked) {
			return nil
		}
	}

	since := now()
	var w *waitq.Waiter[struct{}]
	var rw inspect.Wait // the wait in m.rec, begun once w first queues...
	tallied := false    // ...or in m.tally, if nobody looked then
	woken := false      // w was woken to compete, and mutexWoken is set on its behalf
	for {
		m.mu.Lock()
		// Take the mutex if it is free; otherwise mark that there are waiters.
		// Both happen in one CAS on a state seen locked, so an Unlock cannot
		// slip between the check and the queueing: it either sees
		// mutexWaiters and comes for m.mu, which we hold until w is queued,
		// or it frees the mutex first and the CAS fails and we look again.
		for {
			s := m.state.Load()
			var next int32
			if s&mutexLocked == 0 {
				next = s | mutexLocked
			} else {
				next = s | mutexWaiters
			}
			if woken {
				next &^= mutexWoken
			}
			if !m.state.CompareAndSwap(s, next) {
				continue
			}
			if woken && tallied {
				m.woken = wokenWait{} // mutexWoken is ours, and cleared above
			}
			if s&mutexLocked == 0 {
				if woken && tallied {
					m.tally.End(&m.rec, since, false)
				}
				m.mu.Unlock()
				if woken {
					m.doneWaiting(w, rw, tallied, false)
				}
				return nil
			}
			break
		}
		if woken {
			// We were woken and lost the mutex to a newcomer: keep our place
			// at the front, and our age, so that Unlock hands the mutex to us
			// directly once we have waited long enough.
			m.q.PushFront(w)
		} else {
			w = m.q.Waiter()
			w.Since = since
			m.q.PushBack(w)
			if inspect.Looking() {
				rw = m.rec.BeginAt(owner, k, since)
			} else {
				tallied = true
				m.tally.Begun++ // nobody looks: see tally
			}
		}
		if tallied {
			w.Index = waitTallied
		}

		// Wait releases m.mu as it parks.
		err := w.Wait(ctx, &m.mu, func(granted bool) bool {
			if tallied {
				// Before abandon, which may wake another waiter and note
				// its wait in m.woken.
				m.endGivenUp(w, granted, since)
			}
			m.abandon(w, granted)
			return false
		})
		if err != nil {
			m.doneWaiting(w, rw, tallied, true)
			return err
		}
		if w.N == grantOwned {
			// A tallied wait was ended by the Unlock that handed over.
			m.doneWaiting(w, rw, tallied, false)
			return nil
		}
		// Woken to compete: mutexWoken is set on our behalf. Try once
		// without m.mu; if a newcomer got there first, queue again.
		s := m.state.Load()
		if s&mutexLocked == 0 && m.state.CompareAndSwap(s, (s|mutexLocked)&^mutexWoken) {
			// A tallied wait stays in m.woken, for the next holder of
			// m.mu to end (settleWoken).
			m.doneWaiting(w, rw, tallied, false)
			return nil
		}
		w.Reset()
		w.Since = since
		woken = true
	}
}

// doneWaiting gives back w, whose wait is over, and ends that wait in
// m.rec if it was logged there; a tallied wait is ended in m.tally, under
// m.mu, by whoever ended it (see tally).
func (m *Mutex) doneWaiting(w *waitq.Waiter[struct{}], rw inspect.Wait, tallied, gaveUp bool) {
	m.q.Recycle(w)
	if !tallied {
		m.rec.End(rw, gaveUp)
	}
}

// endGivenUp ends, in m.tally, the tallied wait of w, whose ctx ended,
// under m.mu. A wait handed the mutex (grantOwned) was ended by the Unlock
// that handed it over, and only becomes one given up.
func (m *Mutex) endGivenUp(w *waitq.Waiter[struct{}], granted bool, since int64) {
	if granted && w.N == grantOwned {
		m.tally.GaveUp++
		return
	}
	if granted { // grantWake: the woken waiter noted in m.woken is w
		m.woken = wokenWait{}
	}
	m.tally.End(&m.rec, since, true)
}

// settleWoken ends, in m.tally, the tallied wait of the last woken waiter
// if it has taken the mutex: mutexWoken is clear and m.woken still holds
// it (it is cleared under m.mu by every other way the wait of a woken
// waiter goes on or ends). m.mu is held.
func (m *Mutex) settleWoken() {
	if m.woken.tallied && m.state.Load()&mutexWoken == 0 {
		m.tally.End(&m.rec, m.woken.since, false)
		m.woken = wokenWait{}
	}
}

// abandon settles the grant of a waiter whose ctx ended, under m.mu.
func (m *Mutex) abandon(w *waitq.Waiter[struct{}], granted bool) {
	if !granted {
		// Still queued and picked by nobody: leave without a trace.
		m.q.Remove(w)
		if m.q.Len() == 0 {
			m.state.And(^mutexWaiters)
		}
		return
	}
	switch w.N {
	case grantOwned:
		// We were handed the mutex: hand it on, as Unlock would.
		m.release()
	case grantWake:
		// We were the one woken contender: without us nobody is on the
		// way, so if the mutex is free and others wait, wake the next.
		// Taking the mutex for the handoff must happen in the same CAS
		// that clears mutexWoken, or a newcomer could take it in between
		// and we would release the newcomer's hold.
		for {
			s := m.state.Load()
			if s&mutexLocked == 0 && m.q.Len() > 0 {
				if m.state.CompareAndSwap(s, (s|mutexLocked)&^mutexWoken) {
					m.release()
					return
				}
			} else if m.state.CompareAndSwap(s, s&^mutexWoken) {
				return
			}
		}
	}
}

// Unlock unlocks m. It panics if m is not locked.
//
// A locked Mutex is not associated with a particular goroutine: one goroutine
// may lock it and another unlock it.
func (m *Mutex) Unlock() {
	// No slow-wait bookkeeping here, so that Unlock stays inlined: every
	// acquisition records its holder while reports are on, so the site kept
	// is the current holder's whenever m is held. Only unlockSlow, which
	// runs when a waiter may be reported, records the release.
	if m.state.CompareAndSwap(mutexLocked, 0) {
		return
	}
	m.unlockSlow()
}

func (m *Mutex) unlockSlow() {
	// Before the release: once the mutex is free, the next holder may
	// record itself at once.
	if inspect.SlowWaitOn() {
		m.rec.Released()
	}
	for {
		s := m.state.Load()
		if s&mutexLocked == 0 {
			panic("coord: Mutex.Unlock of unlocked Mutex")
		}
		if s&mutexWaiters == 0 || s&mutexWoken != 0 {
			// Nobody to wake, or a woken waiter is already on its way to
			// compete for the mutex we are freeing.
			if m.state.CompareAndSwap(s, s&^mutexLocked) {
				return
			}
			continue
		}
		break
	}
	m.mu.Lock()
	m.release()
	m.mu.Unlock()
}

// release gives up the mutex, which the caller holds, under m.mu: it hands
// the mutex directly to the longest-waiting goroutine if that one has waited
// past starvationThreshold, and otherwise frees it and wakes that goroutine to
// compete for it.
func (m *Mutex) release() {
	w := m.q.Front()
	if w == nil || m.state.Load()&mutexWoken != 0 {
		m.state.And(^mutexLocked)
		return
	}
	m.q.Remove(w)
	if now()-w.Since > int64(starvationThreshold) {
		// Direct handoff: mutexLocked stays set, so no newcomer can barge.
		if m.q.Len() == 0 {
			m.state.And(^mutexWaiters)
		}
		w.N = grantOwned
		if w.Index == waitTallied {
			m.tally.End(&m.rec, w.Since, false)
		}
		w.Grant()
		return
	}
	// mutexWoken is clear (see above): the last woken waiter's wait is over
	// unless it queued again, before w's is noted in its place.
	m.settleWoken()
	if w.Index == waitTallied {
		m.woken = wokenWait{tallied: true, since: w.Since}
	}
	for {
		s := m.state.Load()
		next := (s &^ mutexLocked) | mutexWoken
		if m.q.Len() == 0 {
			next &^= mutexWaiters
		}
		if m.state.CompareAndSwap(s, next) {
			break
		}
	}
	w.N = grantWake
	w.Grant()
}

// Stats returns a snapshot of m: Holders is 1 while m is locked, Waiters the
// goroutines blocked in Lock. See Stats.
func (m *Mutex) Stats() Stats {
	holders := 0
	if m.Locked() {
		holders = 1
	}
	return statsOf(unsafe.Pointer(m), mutexKind, holders, m.counts())
}

// counts returns m's recorder's counts, with OldestWait from the queueing
// time of m's longest waiter, which m reads for its barging bound anyway:
// exact even for a wait begun before anyone looked (see Stats).
func (m *Mutex) counts() inspect.Counts {
	oldest := inspect.NoStart
	m.mu.Lock()
	defer m.mu.Unlock()
	if w := m.q.Front(); w != nil {
		oldest = w.Since
	}
	m.settleWoken()
	return m.rec.CountsWith(oldest, m.tally)
}
