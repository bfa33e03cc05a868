package coord

import (
	"time"
	"unsafe"

	"github.com/coordkit/coord/internal/inspect"
)

// Stats is what a primitive reports about itself: who holds it, who waits on
// it now, and how much it has been waited on since it was made. Every
// primitive has a Stats method that returns a consistent snapshot of it;
// Snapshot returns those of every registered primitive.
//
// Stats costs nothing while nobody looks: the fast paths of the primitives
// (a free Mutex, a set Event) do not count, only waits that block do, and
// until someone looks those are only counted, without reading the clock.
//
// Looking begins, for the whole process, with the first Stats call on any
// primitive, Snapshot, a request to Handler, Register, or SetSlowWait with
// d > 0, and it never ends: from then on every wait that blocks is timed as
// well. So:
//
//   - Holders, Waiters, Waits and GaveUp are always exact, whenever the
//     waits they count began.
//   - OldestWait and WaitTime are exact for every wait begun after looking
//     began. A wait begun before, still blocked when looking begins, counts
//     from when looking began (a lower bound), except in a Mutex or
//     ReentrantMutex, which know when each of their waiters queued: there
//     OldestWait is exact, and so is such a wait's WaitTime once it ends.
//     A wait that ended before looking began is in Waits and GaveUp but
//     not in WaitTime.
//
// A collector that reads every second, or a test that calls Stats once
// before its scenario, thus sees exact numbers from its first read on.
type Stats struct {
	Name string // as registered; "" otherwise
	Kind string // "Mutex", "RWMutex", "Semaphore", "Queue", ...
	// Holders is how many hold it now: 0 or 1 for a Mutex, readers (or 1
	// writer) for an RWMutex, permits taken for a Semaphore, items in a
	// Queue; 0 where nothing is held (Event, Cond, Barrier, RateLimiter).
	Holders    int
	Waiters    int           // goroutines blocked in it now
	OldestWait time.Duration // how long the longest current waiter has waited (0 if none)
	Waits      uint64        // waits that blocked, since it was made
	GaveUp     uint64        // of those, the ones whose ctx ended first
	WaitTime   time.Duration // total time spent in waits that blocked
}

// statsOf assembles the Stats of the primitive at owner from its holders and
// its recorder's counts. Every primitive's Stats method ends with it:
//
//	func (m *Mutex) Stats() Stats {
//		return statsOf(unsafe.Pointer(m), mutexKind, holders, m.rec.Counts())
//	}
//
// It looks up the registered name (a read-locked map lookup, or one atomic
// load while nothing is registered); call it without the primitive's own
// lock held, after reading holders and counts under it if they must agree.
func statsOf(owner unsafe.Pointer, k *inspect.Kind, holders int, c inspect.Counts) Stats {
	return Stats{
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
