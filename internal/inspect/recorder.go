// Package inspect is the machinery behind coord's "Seeing inside": the wait
// recorder that every primitive embeds, slow-wait reports, and the
// process-wide registry of named primitives.
//
// Next to nothing here runs while nobody looks. A primitive's fast paths (a
// free Mutex, a set Event) never touch its Recorder; only a wait that is
// about to block calls Begin, and the same wait calls End once it is over.
// Until someone looks (see Looking), those only count the wait, with atomic
// adds: no clock reading, no lock, no log. Once someone looks, they time it
// too, paid by a goroutine that parks anyway. Lock kinds
// also call Took on their fast paths, but only after SlowWaitOn, one atomic
// load of a word that only SetSlowWait writes, reports true.
//
// # Wiring a primitive
//
// A primitive embeds a Recorder (16 bytes, zero value ready) and a Kind:
//
//	var mutexKind = &inspect.Kind{Name: "Mutex", Lock: true}
//
//	type Mutex struct {
//		...
//		rec inspect.Recorder
//	}
//
// A wait that is about to park (after any spinning, once it knows it must
// block, typically just before it queues its waiter) begins, keeps the token
// for the whole wait (across re-queueing), and ends it exactly once, however
// it ends:
//
//	w := m.rec.Begin(unsafe.Pointer(m), mutexKind)
//	... park; possibly wake and park again ...
//	m.rec.End(w, err != nil) // gaveUp: the wait returns its ctx's error
//
// A primitive that already reads the clock when its waiter queues (Mutex
// keeps waitq.Waiter.Since) reads Now instead and calls BeginAt with the
// reading, saving a clock read per wait; it may then pass the start of its
// longest waiter to CountsOldest, which makes OldestWait exact even for a
// wait begun before anyone looked. One that reads the clock before BeginAt
// only to keep the reading out of its lock reads Start instead, which reads
// nothing while nobody looks.
//
// Begin and End lock the Recorder's own small mutex, a leaf lock, so they may
// be called with or without the primitive's lock held, and End may be called
// from the waiter after it was granted outside that lock (a Mutex waiter that
// wins the race for a freed mutex).
//
// A lock kind records where the holder took it, for slow-wait reports, on
// every acquisition, fast path included, and on the releases of its slow
// path (where a waiter is about to be let in):
//
//	if inspect.SlowWaitOn() {
//		m.rec.Took()
//	}
//	...
//	if inspect.SlowWaitOn() {
//		m.rec.Released()
//	}
//
// A release on the fast path need not record anything, and coord's do not,
// so that their Unlocks stay small enough to be inlined: since every
// acquisition records itself, the site kept is the current holder's
// whenever the lock is held, and it is only stale while the lock is free,
// when nobody waits long.
//
// Stats reads the counters with Counts (which turns looking on) and the
// name with NameOf:
//
//	c := m.rec.Counts()
//	name := inspect.NameOf(unsafe.Pointer(m))
package inspect

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// A Kind describes a type of primitive to slow-wait reports.
type Kind struct {
	Name string // the Go type's name without type parameters: "Mutex", "Queue"
	// Lock reports whether the kind is a lock whose holders call Took and
	// Released, so that a slow-wait report says where the holder took it.
	Lock bool
}

// A Recorder keeps the wait statistics of one primitive. Its zero value is
// ready to use; it must not be copied after first use.
//
// Everything but a pointer is allocated on the first Begin, so a primitive
// that never blocks pays 16 bytes for it.
type Recorder struct {
	log    atomic.Pointer[waitLog]
	holder atomic.Pointer[holderSite] // where the current holder took it; see Took
}

// A Wait is the token of one wait that blocked, from Begin to End. It is a
// value the waiting goroutine keeps (on its stack, or in its waiter), so
// beginning a wait allocates nothing while slow-wait reports are off.
type Wait struct {
	seq   uint64
	start int64     // NoStart if not read
	slow  *slowWait // non-nil while a slow-wait report is armed for it
	// counted is set for a wait begun while nobody looked: it is only
	// counted (in waitLog.cBegun and cEnded), not logged.
	counted bool
}

// waitLog is what a Recorder keeps once something has waited.
type waitLog struct {
	mu       sync.Mutex // a leaf lock: nothing is called while it is held
	waits    uint64
	gaveUp   uint64
	waitTime int64  // nanoseconds
	next     uint64 // seq of the next wait
	live     int    // waits begun and not ended
	// q holds the live waits, and some ended ones not yet dropped, in the
	// order they began, which is also the order of their starts (both are
	// taken under mu). q[off] is the oldest live wait whenever live > 0, so
	// OldestWait is one subtraction. Ended waits behind a live one stay, as
	// tombstones, until they outnumber the live ones, and are then squeezed
	// out: the slice stays within about twice the number of waiters, and
	// once it has grown to the most waiters seen, beginning a wait
	// allocates nothing.
	q   []entry
	off int

	// The counts of the waits begun while nobody looked (Wait.counted),
	// kept without mu and added to the above by Counts: those begun,
	// those ended (begun minus ended are waiting) and those given up. One
	// atomic add as such a wait begins, one as it ends. (A wait that ends
	// once someone looks also adds its length to waitTime, under mu.)
	cBegun  atomic.Uint64
	cEnded  atomic.Uint64
	cGaveUp atomic.Uint64
}

type entry struct {
	seq   uint64
	start int64
	ended bool
	slow  *slowWait // its armed slow-wait report, for EndAll; nil if none
}

// epoch anchors the monotonic readings of Now. Under testing/synctest, time
// is the bubble's fake time, so tests see exact ages.
var epoch = time.Now()

// Now is the monotonic clock of wait starts, in nanoseconds since the
// process started (or, in a testing/synctest bubble, of the bubble's fake
// time). A primitive that reads the clock as a wait begins can read this one
// and pass the reading to BeginAt.
func Now() int64 { return int64(time.Since(epoch)) }

// now is the clock every reading of the Recorder's goes through: a seam for
// tests that count the readings (a wait begun and ended while nobody looks
// takes none).
var now = Now

func (r *Recorder) waitLog() *waitLog {
	if l := r.log.Load(); l != nil {
		return l
	}
	l := new(waitLog)
	if r.log.CompareAndSwap(nil, l) {
		return l
	}
	return r.log.Load()
}

// Begin records that a wait is about to block and returns its token, which
// the wait passes to End exactly once when it is over. owner is the
// primitive's address (the pointer a user would give to Register) and k its
// kind; both are used only by slow-wait reports.
//
// While nobody looks (see Looking), Begin only counts the wait: one atomic
// add, no clock reading, no lock. Once someone looks, it also reads the
// clock, logs the wait for OldestWait and WaitTime, and, while slow-wait
// reports are on, notes where the wait was called from and arms a timer
// that reports the wait if it is still going on after the threshold.
func (r *Recorder) Begin(owner unsafe.Pointer, k *Kind) Wait {
	return r.BeginAt(owner, k, NoStart)
}

// NoStart is the start of a wait whose start was not read: what Start
// returns while nobody looks.
const NoStart int64 = math.MinInt64

// Start is the reading of Now a primitive that reads the clock before
// BeginAt (to keep the reading out of its lock) takes: Now while someone
// looks, NoStart, without reading the clock, while nobody does.
func Start() int64 {
	if looking.Load() == nil {
		return NoStart
	}
	return Now()
}

// BeginAt is Begin for a wait that started at start, a reading of Now the
// primitive has already taken (a Mutex notes when its waiter queued): on a
// machine where reading the clock is slow, one reading is saved per wait.
// start may be NoStart (see Start), and then BeginAt reads the clock itself
// if it needs a start.
func (r *Recorder) BeginAt(owner unsafe.Pointer, k *Kind, start int64) Wait {
	l := r.waitLog()
	if looking.Load() == nil {
		// Nobody looks: count it, nothing more. start is kept (a Mutex's
		// is free) so that, if someone looks before it ends, its length
		// in WaitTime is exact when it is known.
		l.cBegun.Add(1)
		return Wait{start: start, counted: true}
	}
	if start == NoStart {
		start = now()
	}
	var sw *slowWait
	if s := slow.Load(); s != nil {
		sw = s.arm(r, l, owner, k, start)
	}
	l.mu.Lock()
	// Keep starts in the order of seq, which OldestWait relies on: a start
	// read before a concurrent Begin took mu counts from that one's start,
	// a difference of the time it took to get mu.
	if n := len(l.q); n > l.off && start < l.q[n-1].start {
		start = l.q[n-1].start
	}
	w := Wait{seq: l.next, start: start, slow: sw}
	l.next++
	if len(l.q) == cap(l.q) && l.off > 0 {
		// Full, with ended waits dropped at the front: reuse their room
		// rather than grow. Waits that overlap without end (never all
		// ended at once, so trim never empties q) would otherwise grow it
		// for ever, allocating as it goes.
		n := copy(l.q, l.q[l.off:])
		clear(l.q[n:])
		l.q, l.off = l.q[:n], 0
	}
	l.q = append(l.q, entry{seq: w.seq, start: w.start, slow: sw})
	l.live++
	l.mu.Unlock()
	return w
}

// EndAll ends every live wait of r at once, none of them given up, with
// one reading of the clock: the waits of an Event's generation when it is
// set, of a Barrier's round when it trips. Their goroutines must not call
// End for them. The caller holds the lock under which every wait of r
// begins, so that no wait of the next generation can be among them.
//
// A broadcast thus costs one clock reading and one pass over the log,
// rather than an End per waiter, each contending for the log as the woken
// goroutines all run at once.
func (r *Recorder) EndAll() {
	l := r.log.Load()
	if l == nil {
		return
	}
	// The counted waits among them. Every wait of r begins and, if it
	// gives up, ends under the caller's lock, so none can end meanwhile.
	n := l.cBegun.Load() - l.cEnded.Load()
	if n > 0 {
		l.cEnded.Add(n)
	}
	lk := looking.Load()
	if lk == nil {
		// Nobody looks, so nobody has: every wait was only counted.
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.live == 0 && n == 0 {
		return
	}
	t := now()
	if n > 0 {
		l.waitTime += int64(n) * max(0, t-lk.start)
	}
	for i := l.off; i < len(l.q); i++ {
		e := &l.q[i]
		if e.ended {
			continue
		}
		l.waits++
		l.waitTime += t - e.start
		if e.slow != nil {
			e.slow.ended = true
			e.slow.timer.Stop() // never blocks
		}
	}
	clear(l.q)
	l.q, l.off, l.live = l.q[:0], 0, 0
}

// End records that the wait w is over: counted in Waits, in GaveUp if gaveUp
// (the wait returns its ctx's error), and its length in WaitTime. An armed
// slow-wait report is cancelled; one that has not fired by now never will.
func (r *Recorder) End(w Wait, gaveUp bool) {
	l := r.log.Load()
	if l == nil {
		panic("coord: internal error: inspect.Recorder.End without Begin")
	}
	if w.counted {
		l.endCounted(w, gaveUp)
		return
	}
	l.mu.Lock()
	t := now()
	i, found := slices.BinarySearchFunc(l.q[l.off:], w.seq, func(e entry, seq uint64) int {
		switch {
		case e.seq < seq:
			return -1
		case e.seq > seq:
			return 1
		}
		return 0
	})
	if !found || l.q[l.off+i].ended {
		l.mu.Unlock()
		panic("coord: internal error: inspect.Recorder.End of a wait that is not live")
	}
	l.q[l.off+i].ended = true
	l.live--
	l.waits++
	if gaveUp {
		l.gaveUp++
	}
	l.waitTime += t - w.start
	l.trim()
	if w.slow != nil {
		w.slow.ended = true
	}
	l.mu.Unlock()
	if w.slow != nil {
		w.slow.timer.Stop()
	}
}

// endCounted ends a wait begun while nobody looked. While still nobody
// looks, it only counts it; once someone looks, it also adds its length,
// from its start if known and from when looking began otherwise.
func (l *waitLog) endCounted(w Wait, gaveUp bool) {
	lk := looking.Load()
	if lk == nil {
		if gaveUp {
			l.cGaveUp.Add(1)
		}
		l.cEnded.Add(1)
		return
	}
	t := now()
	l.mu.Lock()
	if gaveUp {
		l.cGaveUp.Add(1)
	}
	l.cEnded.Add(1)
	from := w.start
	if from == NoStart {
		from = lk.start // a lower bound
	}
	l.waitTime += max(0, t-from)
	l.mu.Unlock()
}

// GaveUpLate counts in GaveUp a wait that End recorded as not given up,
// whose call then returned its ctx's error all the same: a Cond waiter,
// notified, whose ctx ends while it takes its lock back. Its wait (for the
// notification) was over when End was called, so only the count changes.
func (r *Recorder) GaveUpLate() {
	l := r.waitLog()
	if looking.Load() == nil {
		l.cGaveUp.Add(1)
		return
	}
	l.mu.Lock()
	l.gaveUp++
	l.mu.Unlock()
}

// trim drops ended waits from the front of q, and squeezes out the ended
// ones behind a live wait once they outnumber the live ones. Called under mu.
func (l *waitLog) trim() {
	for l.off < len(l.q) && l.q[l.off].ended {
		l.off++
	}
	if l.off == len(l.q) {
		l.q, l.off = l.q[:0], 0
		return
	}
	if n := len(l.q) - l.off; n-l.live > l.live+8 {
		kept := l.q[:0]
		for _, e := range l.q[l.off:] {
			if !e.ended {
				kept = append(kept, e)
			}
		}
		clear(l.q[len(kept):])
		l.q, l.off = kept, 0
	}
}

// Counts is what a Recorder knows of its primitive's waits: the fields of
// coord.Stats other than Name, Kind and Holders.
type Counts struct {
	Waiters    int           // waits begun and not ended
	OldestWait time.Duration // age of the oldest of them, 0 if none
	Waits      uint64        // waits ended
	GaveUp     uint64        // of those, the ones that gave up
	WaitTime   time.Duration // their total length
}

// Counts returns a consistent snapshot of r's counts. Like everything that
// reads stats, it turns looking on (see Look).
//
// Waits begun before anyone looked have no start: OldestWait counts them
// from when looking began, a lower bound. CountsOldest is Counts for a
// primitive that knows the start of its longest current waiter.
func (r *Recorder) Counts() Counts { return r.CountsOldest(NoStart) }

// CountsOldest is Counts for a primitive that knows oldest, the start (a
// reading of Now) of its longest current waiter, or NoStart if it does not
// (or has no waiter): a Mutex keeps its waiters' queueing times. It makes
// OldestWait exact even for a wait begun before anyone looked.
func (r *Recorder) CountsOldest(oldest int64) Counts { return r.CountsWith(oldest, Tally{}) }

// A Tally is what a primitive counts itself, under its own lock, of the
// waits it does not log in its Recorder because nobody looks (see Looking):
// those begun, those ended, and of those the ones given up. Such a wait
// costs the primitive a plain addition under a lock it holds anyway, and
// no call, where Begin and End would cost two calls and two atomic adds on
// a line every waiter shares. The counts only grow.
type Tally struct {
	Begun, Ended, GaveUp uint64
}

// EndAll ends every wait t counts and has not ended, none given up: the
// Tally's side of Recorder.EndAll, which a primitive whose waits end
// together (an Event's generation, a Barrier's round) calls beside it. If
// someone looks by now, their lengths go to r's WaitTime (see AddUnseen).
func (t *Tally) EndAll(r *Recorder) {
	if n := t.Begun - t.Ended; n > 0 {
		t.Ended = t.Begun
		r.AddUnseen(int(n))
	}
}

// GiveUp ends one wait t counts, given up; if someone looks by now, its
// length goes to r's WaitTime (see AddUnseen).
func (t *Tally) GiveUp(r *Recorder) { t.End(r, NoStart, true) }

// End ends one wait t counts, given up if gaveUp. If someone looks by now,
// its length goes to r's WaitTime: from start, a reading of Now, for a
// primitive that knows when the wait began (a Mutex keeps its waiters'
// queueing times), or from when looking began if start is NoStart (a lower
// bound, see AddUnseen).
func (t *Tally) End(r *Recorder, start int64, gaveUp bool) {
	t.Ended++
	if gaveUp {
		t.GaveUp++
	}
	r.addUnseen(1, start)
}

// CountsWith is CountsOldest for a primitive that also counts some waits
// itself (t, read under its lock), rather than through r. They count as
// waits begun before anyone looked, as r's own counted waits do.
func (r *Recorder) CountsWith(oldest int64, t Tally) Counts {
	lk := look()
	var c Counts
	counted := int(t.Begun - t.Ended)
	c.Waits = t.Ended
	c.GaveUp = t.GaveUp
	start := NoStart
	if l := r.log.Load(); l != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		cEnded := l.cEnded.Load() // before cBegun: never more than it
		counted += int(l.cBegun.Load() - cEnded)
		c.Waiters = l.live
		c.Waits += l.waits + cEnded
		c.GaveUp += l.gaveUp + l.cGaveUp.Load()
		c.WaitTime = time.Duration(l.waitTime)
		if l.live > 0 {
			start = l.q[l.off].start
		}
	}
	c.Waiters += counted
	if counted > 0 {
		// A counted wait began before every logged one, before looking
		// began.
		if oldest != NoStart {
			start = oldest
		} else {
			start = lk.start
		}
	}
	if start != NoStart {
		c.OldestWait = time.Duration(max(0, now()-start))
	}
	return c
}

// AddUnseen adds to WaitTime the lengths of n waits the primitive counted
// in its Tally that have just ended with someone looking, from when
// looking began (a lower bound: their starts were not read). It does
// nothing while nobody looks.
func (r *Recorder) AddUnseen(n int) { r.addUnseen(n, NoStart) }

// addUnseen is AddUnseen for n waits that began at start, if it is not
// NoStart.
func (r *Recorder) addUnseen(n int, start int64) {
	lk := looking.Load()
	if lk == nil || n <= 0 {
		return
	}
	if start == NoStart {
		start = lk.start
	}
	t := now()
	l := r.waitLog()
	l.mu.Lock()
	l.waitTime += int64(n) * max(0, t-start)
	l.mu.Unlock()
}

// Logged reports whether r has logged or counted a wait itself. While
// nobody looks, the primitives that count their waits in a Tally or a lane
// (see Tally) never touch their Recorder, and Logged stays false: what the
// tests of their cost check.
func (r *Recorder) Logged() bool { return r.log.Load() != nil }
