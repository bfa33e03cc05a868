package coord

import (
	"context"
	"errors"
	"sync"
	"unsafe"

	"github.com/coordkit/coord/internal/inspect"
	"github.com/coordkit/coord/internal/waitq"
)

// ErrBrokenBarrier is returned by Barrier.Wait when the barrier is broken by
// Abort, or when Reset breaks the round the caller was waiting in.
var ErrBrokenBarrier = errors.New("coord: barrier is broken")

// A Barrier lets a fixed number of goroutines, its parties, wait until all of
// them have arrived; it is asyncio.Barrier (and threading.Barrier) with every
// wait cancellable through a context.
//
// The barrier is cyclic: once a round trips, the next round starts filling at
// once, so a party may call Wait again straight away.
//
// There is no useful zero value: create a Barrier with NewBarrier (Wait on a
// zero Barrier panics). A Barrier must not be copied after first use. It is
// safe for use by any number of goroutines.
//
// Ordering: each party of a round gets a distinct index in 0..parties-1, in
// the order the parties still present at the trip arrived. Indices are
// handed out when the round trips, not when a party arrives: asyncio numbers
// a party on arrival, so a party that leaves a filling round (cancelled)
// makes a later arrival reuse its number, and two parties of one round come
// back with the same index. Numbering at the trip cannot do that.
type Barrier struct {
	_ noCopy

	mu      sync.Mutex
	parties int
	broken  bool
	waiters waitq.List[struct{}] // the parties of the filling round, in arrival order
	rec     inspect.Recorder     // its waits, for Stats; see the package doc's "Seeing inside"
	// tally counts, under mu, the waits that rec does not log because
	// nobody looked when they began: a plain addition under mu, which a
	// party takes anyway, rather than an atomic add on a line every party
	// of the round shares.
	tally inspect.Tally
}

var barrierKind = &inspect.Kind{Name: "Barrier"}

// NewBarrier returns a Barrier for the given number of parties. It panics if
// parties < 1.
func NewBarrier(parties int) *Barrier {
	if parties < 1 {
		panic("coord: NewBarrier called with parties < 1")
	}
	return &Barrier{parties: parties}
}

// Wait waits until all parties of the round have called Wait and returns the
// caller's index in the round, a number in 0..Parties()-1 distinct from the
// other parties' indices, given in arrival order (the last to arrive gets
// Parties()-1).
//
// If ctx is done before the round trips, Wait returns -1 and ctx.Err(), and
// the caller leaves without a trace: Waiting drops by one, the barrier is not
// broken, and later arrivals can still complete the round. This follows
// asyncio; Java's CyclicBarrier breaks the barrier instead. A ctx that is
// already done makes Wait return ctx.Err() at once even for the party that
// would trip the round.
//
// A round trips for every party in it at once: a party released by the trip
// returns its index even if its ctx ended at the same moment, since the
// other parties have already gone on and could not be called back.
//
// If the barrier is broken (Abort), or Reset breaks the round while the
// caller waits, Wait returns -1 and ErrBrokenBarrier.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	if b.parties == 0 {
		// A zero Barrier has no parties and no round could ever trip: its
		// Wait would block until ctx ends, hiding the missing NewBarrier.
		panic("coord: Barrier.Wait on a Barrier not made by NewBarrier")
	}
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	b.mu.Lock()
	if b.broken {
		b.mu.Unlock()
		return -1, ErrBrokenBarrier
	}
	if b.waiters.Len()+1 == b.parties {
		// The caller completes the round. Number the parties still present
		// in the order they came; a party that left is no longer on the list,
		// so it neither holds a number nor makes one repeat.
		i := 0
		for w := b.waiters.PopFront(); w != nil; w = b.waiters.PopFront() {
			w.Index = i
			i++
			w.Grant()
		}
		b.endRound() // the waits of the round, with one clock reading
		b.mu.Unlock()
		return i, nil
	}
	w := b.waiters.Waiter()
	b.waiters.PushBack(w)
	// Begun under mu, as the round that releases it trips or breaks under
	// mu and ends the round's waits together (endRound).
	tallied := !inspect.Looking()
	var rec inspect.Wait
	if tallied {
		b.tally.Begun++ // nobody looks: see tally
	} else {
		rec = b.rec.Begin(unsafe.Pointer(b), barrierKind)
	}

	// A round that tripped (or broke) as the ctx ended stands: it is not
	// handed on (rule 3 of the package doc).
	err := w.Wait(ctx, &b.mu, func(granted bool) bool {
		if granted {
			return true // and its wait ended with the round
		}
		b.waiters.Remove(w)
		if tallied {
			b.tally.GiveUp(&b.rec)
		} else {
			b.rec.End(rec, true)
		}
		return false
	})
	i, werr := w.Index, w.Err
	b.waiters.Recycle(w)
	if err != nil {
		return -1, err
	}
	if werr != nil {
		return -1, werr
	}
	return i, nil
}

// breakRound wakes every waiting party with ErrBrokenBarrier. b.mu is held.
func (b *Barrier) breakRound() {
	for w := b.waiters.PopFront(); w != nil; w = b.waiters.PopFront() {
		w.Err = ErrBrokenBarrier
		w.Grant()
	}
	b.endRound() // waits that end broken, not given up
}

// endRound ends the waits of the round just released, tripped or broken,
// none given up: those logged and those tallied. b.mu is held.
func (b *Barrier) endRound() {
	b.rec.EndAll()
	b.tally.EndAll(&b.rec)
}

// Reset returns the barrier to its initial, unbroken state. Parties waiting
// in the round that was filling return ErrBrokenBarrier; Wait calls made
// after Reset start a new round.
func (b *Barrier) Reset() {
	b.mu.Lock()
	b.breakRound()
	b.broken = false
	b.mu.Unlock()
}

// Abort breaks the barrier: parties waiting now and every later Wait return
// ErrBrokenBarrier until Reset is called. It is how a party that cannot go on
// tells the others not to wait for it.
func (b *Barrier) Abort() {
	b.mu.Lock()
	b.broken = true
	b.breakRound()
	b.mu.Unlock()
}

// Parties returns the number of parties needed to trip the barrier.
func (b *Barrier) Parties() int { return b.parties }

// Waiting returns the number of parties waiting in the round that is filling.
func (b *Barrier) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiters.Len()
}

// Broken reports whether the barrier is broken, by Abort, and not yet Reset.
func (b *Barrier) Broken() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.broken
}

// Stats returns a snapshot of b: Holders is always 0, and Waiters the
// parties blocked in Wait (the party that trips a round does not wait).
// See Stats.
func (b *Barrier) Stats() Stats {
	b.mu.Lock()
	t := b.tally
	b.mu.Unlock()
	return statsOf(unsafe.Pointer(b), barrierKind, 0, b.rec.CountsWith(inspect.NoStart, t))
}
