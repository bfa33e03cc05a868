package coord

import (
	"context"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/coordkit/coord/internal/inspect"
	"github.com/coordkit/coord/internal/waitq"
)

// An Event is a flag that goroutines can wait for: Set raises it and wakes
// every waiter, Clear lowers it again. It is asyncio.Event with every wait
// cancellable through a context.
//
// The zero Event is not set. An Event must not be copied after first use.
// It is safe for use by any number of goroutines.
//
// Set releases every goroutine waiting at that moment, all at once (it
// closes one channel, whatever the number of waiters); each of them returns
// nil even if Clear follows at once, because a waiter keeps the channel of
// the generation it waited on and Clear only gives later waiters a new one.
// Nothing is handed to a waiter, so there is no order among them and
// nothing to pass on when one gives up.
type Event struct {
	_    noCopy
	mu   sync.Mutex  // guards gate
	set  atomic.Bool // mirrors gate.IsOpen, for IsSet and Wait's fast path
	gate waitq.Gate
	rec  inspect.Recorder // its waits, for Stats; see the package doc's "Seeing inside"
	// tally counts, under mu, the waits that rec does not log because
	// nobody looked when they began: a broadcast's thousand waiters then
	// cost a plain addition each under mu, which they take anyway.
	tally inspect.Tally
}

var eventKind = &inspect.Kind{Name: "Event"}

// Set sets e and wakes every goroutine waiting for it. Setting a set Event
// does nothing.
func (e *Event) Set() {
	e.mu.Lock()
	if e.gate.Open() {
		e.set.Store(true)
		// The waits of the generation just released end: those logged
		// and those tallied.
		e.rec.EndAll()
		e.tally.EndAll(&e.rec)
	}
	e.mu.Unlock()
}

// Clear resets e to not set: later calls to Wait block until the next Set.
// Goroutines that a Set already released are not affected. Clearing an
// Event that is not set does nothing.
func (e *Event) Clear() {
	e.mu.Lock()
	if e.gate.Shut() {
		e.set.Store(false)
	}
	e.mu.Unlock()
}

// IsSet reports whether e is set.
func (e *Event) IsSet() bool {
	return e.set.Load()
}

// Wait blocks until e is set and returns nil, or until ctx is done and
// returns ctx.Err(). If ctx is already done it returns ctx.Err() even when e
// is set, as every coord wait does; if e is already set and ctx is not done
// it returns nil at once.
//
// When the Set and the end of ctx race, a Wait that finds e's channel closed
// as it sees ctx done returns nil: the Event fired while it waited, and
// since a Set hands nothing over, there is nothing for it to give back.
func (e *Event) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.set.Load() {
		return nil
	}
	// The wait's start, read before mu: a broadcast's waiters all queue
	// on mu, and reading the clock there would make each wait for the
	// others' readings. (Not read while nobody looks: see inspect.Start.)
	start := inspect.Start()
	e.mu.Lock()
	if e.gate.IsOpen() {
		// Set since the look above: no wait.
		e.mu.Unlock()
		return nil
	}
	ch := e.gate.Enter()
	// Begun under mu, so that the Set that releases ch, also under mu,
	// ends it with the others of its generation (Recorder.EndAll): a
	// released waiter does not end its own wait.
	var w inspect.Wait
	if start == inspect.NoStart {
		e.tally.Begun++ // nobody looks: see tally
	} else {
		w = e.rec.BeginAt(unsafe.Pointer(e), eventKind, start)
	}
	e.mu.Unlock()
	done := ctx.Done()
	if done == nil {
		<-ch
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-done:
		// Giving up: the gate may forget a channel nobody waits on any
		// more (see waitq.Gate), so that an Event used by one
		// testing/synctest bubble after another never hands a later
		// bubble the channel of an earlier one.
		e.mu.Lock()
		select {
		case <-ch:
			// Set as we took mu: the Event fired while we waited, and
			// Set has ended our wait with its generation.
			e.mu.Unlock()
			return nil
		default:
		}
		e.gate.Leave(ch)
		if start == inspect.NoStart {
			e.tally.GiveUp(&e.rec)
		} else {
			e.rec.End(w, true)
		}
		e.mu.Unlock()
		return ctx.Err()
	}
}

// Stats returns a snapshot of e: Holders is always 0, and Waiters counts
// the goroutines blocked in Wait (not those in a select on Done, which e
// cannot see). See Stats.
func (e *Event) Stats() Stats {
	e.mu.Lock()
	t := e.tally
	e.mu.Unlock()
	return statsOf(unsafe.Pointer(e), eventKind, 0, e.rec.CountsWith(inspect.NoStart, t))
}

// Done returns a channel that is closed when e is set, for use in a select
// statement. If e is set now, the channel is already closed. The channel
// belongs to the current generation of e: a Clear after it was closed does
// not reopen it, and a Set after a Clear closes a new one, so callers that
// want to wait again after a Clear must call Done again.
//
// Inside a testing/synctest bubble, a channel that Done returns while e is
// not set belongs to that bubble until e is set: an Event shared by tests
// that run one bubble after another should be waited on with Wait, or be
// set before a bubble that called Done ends.
func (e *Event) Done() <-chan struct{} {
	e.mu.Lock()
	ch := e.gate.Chan()
	e.mu.Unlock()
	return ch
}
