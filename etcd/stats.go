package etcd

import (
	"context"
	"unsafe"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
)

// Seeing inside. Every primitive's Stats is this process's view of its own
// value, as coord.Stats is in one process: the waits of this value that
// blocked, counted by an inspect.Recorder as the root package's primitives
// count theirs, and the value's own holders. What other processes hold and
// wait for is in the cluster, where List reads it.
//
// A wait is counted from the moment it must block until it returns: a
// holding kind's attempt once its value's turn is taken by another
// goroutine or keys are ahead of its own (holder.acquire), an Event's Wait
// once the event was found clear, a Barrier's once its round was found
// short. What returns at once (a free lock, a set event, the party that
// trips a round) is not a wait, and costs the Recorder nothing.

// waiting is one wait's record, from the moment it blocks until it ends.
// It lives on the waiting goroutine's stack.
type waiting struct {
	w  inspect.Wait
	on bool
}

// begin records that the wait blocks, on the recorder rec of the primitive
// at owner, of kind k, unless it has begun already. A nil w does nothing
// (an attempt that never waits).
func (w *waiting) begin(rec *inspect.Recorder, owner unsafe.Pointer, k *inspect.Kind) {
	if w != nil && !w.on {
		w.w, w.on = rec.Begin(owner, k), true
	}
}

// end records that the wait, if it began, is over with the outcome err: a
// wait that returns its ctx's error gave up (rule 1 of package coord's
// doc).
func (w *waiting) end(rec *inspect.Recorder, ctx context.Context, err error) {
	if w != nil && w.on {
		w.on = false
		rec.End(w.w, err != nil && err == ctx.Err())
	}
}

// statsOf assembles the Stats of the primitive at owner from its holders
// and its recorder's counts, as the root package's primitives do.
func statsOf(owner unsafe.Pointer, k *inspect.Kind, holders int, rec *inspect.Recorder) coord.Stats {
	c := rec.Counts()
	return coord.Stats{
		Name:       inspect.NameOf(owner),
		Kind:       k.Name,
		Holders:    holders,
		Waiters:    c.Waiters,
		OldestWait: c.OldestWait,
		Waits:      c.Waits,
		GaveUp:     c.GaveUp,
		WaitTime:   c.WaitTime,
	}
}
