package inspect

import "sync/atomic"

// Looking is the process-wide switch that decides what a wait that blocks
// records. While nobody looks, a wait is only counted (Waiters, Waits and
// GaveUp stay exact) and reads no clock: every blocking wait of every
// primitive would otherwise pay two clock readings and a lock, which costs a
// park-heavy workload (a Cond's bounded buffer, an Event's broadcast) a fifth
// to a half of its time. The first read of stats turns it on (Counts, and so
// every primitive's Stats, Snapshot and the live page; Register;
// SetSlowWait), and it stays on: from then on, every wait is timed, so a
// collector that reads every second sees exact numbers from its first read.
//
// A wait begun before looking began has no start. OldestWait counts it from
// when looking began (unless its primitive knows its start, see
// CountsOldest), and WaitTime adds its length from then (or from its start,
// if known) if it ends after: lower bounds, exact for every wait begun
// after.
var looking atomic.Pointer[lookInfo]

type lookInfo struct {
	start int64 // the reading of Now when looking began
}

// Look turns looking on, if it is not on yet.
func Look() { look() }

// look is Look, returning when looking began.
func look() *lookInfo {
	if lk := looking.Load(); lk != nil {
		return lk
	}
	lk := &lookInfo{start: Now()}
	if looking.CompareAndSwap(nil, lk) {
		return lk
	}
	return looking.Load()
}

// Looking reports whether anyone has looked: one atomic load.
func Looking() bool { return looking.Load() != nil }

// StopLooking turns looking off again, for tests of what waits cost and
// record while nobody looks; nothing else turns it off. Waits begun while
// it was on are still timed when they end.
func StopLooking() { looking.Store(nil) }
