package coord

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/coordkit/coord/internal/inspect"
	"github.com/coordkit/coord/internal/waitq"
)

// An RWMutex is a reader/writer mutual exclusion lock whose RLock and Lock
// can be given up through a context. The lock can be held by any number of
// readers or by a single writer. asyncio has no read-write lock; this is
// sync.RWMutex with cancellable waits.
//
// The zero value for an RWMutex is an unlocked mutex. An RWMutex must not be
// copied after first use. It is safe for use by any number of goroutines,
// and a hold is not tied to a goroutine: one goroutine may RLock (Lock) and
// another RUnlock (Unlock), as with sync.RWMutex.
//
// Fairness. Neither side starves, under any load:
//
//   - Writers are preferred as in sync.RWMutex: once a writer waits, a new
//     RLock waits behind it, so a stream of overlapping readers cannot keep
//     a writer out. (So, as with sync.RWMutex, a reader must not RLock again
//     while it holds a read lock: a writer queued in between would deadlock
//     them both.)
//   - When a writer unlocks, every reader that queued while it held the lock
//     goes in, before the next writer. A stream of writers therefore cannot
//     keep readers out either: once queued, a reader waits for at most one
//     writer's hold, that of the writer holding the lock or, if none does,
//     that of the first writer in line (after the read holds it waits for).
//   - Writers are served in arrival order among themselves.
//
// Cancellation. RLock and Lock return either nil, with the lock held for
// reading or writing, or ctx.Err(), without it; never both (rules 1 and 3 of
// the package doc). A waiter that gives up leaves no trace. This is where
// read-write locks built by hand from a mutex and a condition or a channel
// usually break, and each case is handled here:
//
//   - A writer that gives up while readers queue behind it lets them in at
//     once, unless another writer holds the lock or they also queued behind
//     another waiting writer: readers must not stay blocked behind a writer
//     that is gone.
//   - A reader that gives up never holds a writer back: a queued reader
//     counts for nothing, and a reader granted the lock at the moment its
//     ctx ends gives its read hold back at once, which may let a waiting
//     writer in.
//   - A writer granted the lock as its ctx ends hands it on as Unlock would.
//
// Design. The state is one atomic word: the number of readers holding the
// lock, a bit for a writer holding it, and a bit for "someone is queued".
// RLock adds one reader to the word and is done if neither bit was set;
// RUnlock subtracts one. Lock and Unlock swap the word between zero and
// "writer holds". Each of these is a single atomic operation, as in
// sync.RWMutex, and allocates nothing. Only a goroutine that must wait, or
// that must wake one that waits, takes the mutex that guards the two queues
// (readers and writers, both the package's one waiter queue); it holds it
// briefly and never while it waits (rule 4 of the package doc). Grants are
// direct handoffs: the granter counts the reader in, or sets the writer bit,
// before it wakes the waiter, so nobody can take the lock in between.
//
// An RLock that adds itself while a bit is set has counted itself in by
// mistake. It takes the reader back at once, as an RUnlock would (and, like
// the last RUnlock, lets the first waiting writer in if that take-back was
// what it waited for). Before it queues, it yields the processor once and
// goes in if the bits have cleared: a write hold is usually far shorter
// than queueing, parking and waking, and under contention the writer, or
// the readers it waits for, are often runnable on the same P. This one
// yield is what brings a read-mostly load near the speed of sync.RWMutex
// (see rwReaderYields for why not more). A reader that is yielding has not
// queued yet, so it holds no writer back, and the ordering promises above
// are about queued waiters: a reader queues right after its yield and is
// then served as described. A writer yields a few times after it has
// queued, so that when the last reader leaves, the grant is usually made
// before the writer would park.
//
// Designs rejected. sync.RWMutex's own scheme (a writer subtracts a large
// constant from the reader count, readers that see it negative sleep on a
// semaphore, the writer's Unlock wakes as many as it counted) cannot let a
// waiter leave: a writer that gives up would have to undo its announcement
// while readers are mid-way to sleep, and a reader that gives up would leave
// the writer's Unlock waking a goroutine that is gone. A Mutex for writers
// plus a reader count (the usual hand-made lock) queues readers behind the
// writers' mutex, so readers that arrive behind a queue of writers wait for
// all of them, and a writer that gives up must be noticed by readers that
// are not watching it. One queue of both kinds, served in arrival order,
// would make a reader that arrives behind k queued writers wait for all k
// holds; letting in every reader queued during a hold is what bounds a
// reader's wait to one.
//
// In the terminology of the Go memory model, an Unlock synchronizes before
// any later RLock or Lock that obtains the lock, and an RUnlock before any
// later Lock, as for sync.RWMutex.
type RWMutex struct {
	_ noCopy

	// state is readers*rwReader | rwWaiters | rwWriter.
	//
	// rwWriter and rwWaiters are each set and cleared with mu held, with two
	// exceptions that only ever meet an empty queue: Lock's fast path swaps
	// 0 for rwWriter, and Unlock's fast path swaps rwWriter for 0. The
	// reader count changes without mu (RLock, RUnlock, TryRLock); whoever
	// changes it while a bit is set and brings it to zero takes mu and calls
	// dispatch, so the first waiting writer always hears that the readers
	// have left.
	state atomic.Int64

	mu      sync.Mutex
	readers waitq.List[struct{}] // queued RLocks; guarded by mu
	writers waitq.List[struct{}] // queued Locks, FIFO; guarded by mu
	tick    int64                // arrival clock of the queues; guarded by mu

	rec inspect.Recorder // its waits, for Stats; see the package doc's "Seeing inside"
}

var rwMutexKind = &inspect.Kind{Name: "RWMutex", Lock: true}

const (
	// rwWriter is set while a writer holds the lock, including while it is
	// being handed to a waiting writer.
	rwWriter int64 = 1 << iota
	// rwWaiters is set while either queue is not empty. It closes every
	// fast path: RLock, TryRLock, Lock, TryLock and Unlock then go to mu.
	// With mu free, a set rwWaiters without rwWriter means a writer waits.
	rwWaiters
	// rwReader is one reader in the count in the upper bits. Counting above
	// the flags means that an RUnlock too many drives the word negative
	// without touching the flags, which is how it is caught.
	rwReader

	rwFlags       = rwWriter | rwWaiters
	rwReaderShift = 2 // state >> rwReaderShift is the reader count
)

// rwWriterYields bounds the yielding of a queued writer about to park
// (rule 4 of the package doc: short and bounded). Yielding rather than
// spinning on the word matters when goroutines outnumber Ps: the readers
// that must leave before it can go in are then often runnable on its own P.
const rwWriterYields = 4

// rwReaderYields is how many times a reader that found a writer yields
// before it queues. Once: that lets the writer, or the readers it waits
// for, run if they are on this P. More yields cost more than they save:
// each takes the scheduler's global run-queue lock, which the readers
// yielding on every P then contend for (read-mostly with 2 CPUs: 2.0-2.2x
// sync.RWMutex with 4 yields, 1.2x with 1 and 1.3x with 2, alternating
// passes; with 1 CPU, 1.27x and 1.26x).
const rwReaderYields = 1

// RLock locks rw for reading. If a writer holds rw or waits for it, RLock
// waits until the writer has held and released it, or until ctx is done.
//
// RLock returns nil when the caller holds a read lock on rw. If ctx ends
// first, RLock returns ctx.Err() and the caller holds nothing. If ctx is
// already done when RLock is called, RLock returns ctx.Err() and leaves rw
// as it is, even if rw is free.
//
// RLock must not be used for recursive read locking: a writer that queues
// between the two calls blocks the second one, and the first is never
// released. See the RWMutex type's documentation.
func (rw *RWMutex) RLock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rw.state.Add(rwReader)&rwFlags == 0 && !inspect.SlowWaitOn() {
		return nil
	}
	return rw.rlockMore(ctx)
}

// rlockMore finishes an RLock whose first step was not all: a writer held
// or waited (the reader counted in holds nothing and goes to rlockSlow), or
// slow-wait reports are on and the hold must note where it was taken. Kept
// out of RLock, whose fast path is one atomic add and one load.
func (rw *RWMutex) rlockMore(ctx context.Context) error {
	if rw.state.Load()&rwFlags != 0 {
		if err := rw.rlockSlow(ctx); err != nil {
			return err
		}
	}
	if inspect.SlowWaitOn() {
		rw.rec.Took()
	}
	return nil
}

// TryRLock tries to lock rw for reading without waiting and reports whether
// it succeeded. It refuses while a writer holds rw or waits for it.
func (rw *RWMutex) TryRLock() bool {
	for {
		s := rw.state.Load()
		if s&rwFlags != 0 {
			return false
		}
		if rw.state.CompareAndSwap(s, s+rwReader) {
			if inspect.SlowWaitOn() {
				rw.rec.Took()
			}
			return true
		}
	}
}

// RUnlock undoes a single RLock (or successful TryRLock); it does not affect
// other readers. It panics if no reader holds rw.
func (rw *RWMutex) RUnlock() {
	// The last reader out while a writer waits (the word is then exactly
	// rwWaiters) lets the writer in; a count below zero is an RUnlock too
	// many.
	// No slow-wait bookkeeping here (see Unlock): the site of the latest
	// holder is kept, which is a current holder's whenever rw is held.
	if s := rw.state.Add(-rwReader); s == rwWaiters || s < 0 {
		rw.runlockSlow(s)
	}
}

func (rw *RWMutex) runlockSlow(s int64) {
	rw.mu.Lock()
	if s < 0 {
		rw.state.Add(rwReader)
		rw.dispatch()
		rw.mu.Unlock()
		panic("coord: RWMutex.RUnlock of RWMutex not locked for reading")
	}
	rw.dispatch()
	rw.mu.Unlock()
}

func (rw *RWMutex) rlockSlow(ctx context.Context) error {
	// Take back the reader that RLock counted in: a bit was set, so it
	// holds nothing. Like an RUnlock, the take-back may be the last reader
	// a waiting writer was waiting for.
	if s := rw.state.Add(-rwReader); s == rwWaiters {
		rw.mu.Lock()
		rw.dispatch()
		rw.mu.Unlock()
	}
	// A write hold is usually short: yield before queueing (once, see
	// rwReaderYields), since parking and waking cost more than most write
	// holds last, and the writer (or the readers it waits for) may be
	// runnable on this P. Not being queued, a yielding reader holds no
	// writer back.
	for range rwReaderYields {
		runtime.Gosched()
		if s := rw.state.Load(); s&rwFlags == 0 && rw.state.CompareAndSwap(s, s+rwReader) {
			return nil
		}
	}

	rw.mu.Lock()
	// Decide, with mu held, between going in (the bits may have cleared
	// meanwhile) and queueing. Setting rwWaiters in the same CAS that saw
	// rwWriter set sends the writer's Unlock to mu, where it will find this
	// reader queued.
	for {
		s := rw.state.Load()
		if s&rwFlags == 0 {
			if rw.state.CompareAndSwap(s, s+rwReader) {
				rw.mu.Unlock()
				return nil
			}
		} else if s&rwWaiters != 0 || rw.state.CompareAndSwap(s, s|rwWaiters) {
			break
		}
	}
	w := rw.readers.Waiter()
	w.Since = rw.arrive()
	rw.readers.PushBack(w)
	// Queued with mu held, so nothing can grant w before Wait parks: the
	// wait blocks from here (the yields above are not a wait).
	rec := rw.rec.Begin(unsafe.Pointer(rw), rwMutexKind)

	// Wait releases mu as it parks.
	err := w.Wait(ctx, &rw.mu, func(granted bool) bool {
		if granted {
			// Counted in as the lock was handed over, but the caller gave
			// up: give the read hold back, which may let a writer in.
			rw.state.Add(-rwReader)
		} else {
			// Queued and counted for nothing; a writer never waits for it.
			rw.readers.Remove(w)
		}
		rw.dispatch()
		return false
	})
	rw.readers.Recycle(w)
	rw.rec.End(rec, err != nil)
	return err
}

// Lock locks rw for writing. If rw is held for reading or writing, or others
// wait for it, Lock waits until it is handed to the caller, or until ctx is
// done.
//
// Lock returns nil when the caller holds rw for writing. If ctx ends first,
// Lock returns ctx.Err() and the caller holds nothing. If ctx is already
// done when Lock is called, Lock returns ctx.Err() and leaves rw as it is,
// even if rw is free.
func (rw *RWMutex) Lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !rw.state.CompareAndSwap(0, rwWriter) {
		if err := rw.lockSlow(ctx); err != nil {
			return err
		}
	}
	if inspect.SlowWaitOn() {
		rw.rec.Took()
	}
	return nil
}

// TryLock tries to lock rw for writing without waiting and reports whether
// it succeeded. It refuses while anyone holds rw or waits for it.
func (rw *RWMutex) TryLock() bool {
	if rw.state.CompareAndSwap(0, rwWriter) {
		if inspect.SlowWaitOn() {
			rw.rec.Took()
		}
		return true
	}
	return false
}

func (rw *RWMutex) lockSlow(ctx context.Context) error {
	rw.mu.Lock()
	// Nobody else queues or grants while we hold mu, so the word is zero
	// only if rw is free with nobody queued; otherwise set rwWaiters in the
	// same CAS that saw the holders, so that whoever brings them to zero
	// comes for mu and finds us queued.
	for {
		s := rw.state.Load()
		if s == 0 {
			if rw.state.CompareAndSwap(0, rwWriter) {
				rw.mu.Unlock()
				return nil
			}
			continue
		}
		if s&rwWaiters != 0 || rw.state.CompareAndSwap(s, s|rwWaiters) {
			break
		}
	}
	w := rw.writers.Waiter()
	w.Since = rw.arrive()
	rw.writers.PushBack(w)
	rw.mu.Unlock()

	// Queued, and announced by rwWaiters, so no new reader comes in: the
	// readers that hold the lock usually leave soon, and the last one hands
	// the lock to the first writer in line. Yield a few times, letting them
	// run, so that if that writer is us, Wait finds the grant already made
	// and does not park.
	for range rwWriterYields {
		if s := rw.state.Load(); s&rwWriter != 0 || s < rwReader {
			break
		}
		runtime.Gosched()
	}

	// Wait is called with mu held and releases it as it parks; a grant made
	// while we yielded is found there without parking, and then the
	// yielding was all the waiting there was: not a wait in Stats.
	rw.mu.Lock()
	var rec inspect.Wait
	blocks := !w.Granted()
	if blocks {
		rec = rw.rec.Begin(unsafe.Pointer(rw), rwMutexKind)
	}
	err := w.Wait(ctx, &rw.mu, func(granted bool) bool {
		if granted {
			// Handed the lock as the caller gave up: hand it on.
			rw.release()
		} else {
			// Readers that queued behind us (and ahead of the next writer)
			// go in now, and if we were the only writer, so do all.
			rw.writers.Remove(w)
			rw.dispatch()
		}
		return false
	})
	rw.writers.Recycle(w)
	if blocks {
		rw.rec.End(rec, err != nil)
	}
	return err
}

// Unlock unlocks rw for writing. It panics if rw is not locked for writing.
//
// The readers that queued while rw was held go in together; if there are
// none, the longest-waiting writer gets rw.
func (rw *RWMutex) Unlock() {
	// No slow-wait bookkeeping on the fast path, so that Unlock stays
	// inlined: every acquisition records its holder while reports are on,
	// so the site kept is a current holder's whenever rw is held. Only
	// unlockSlow, which runs when a waiter may be reported, records the
	// release.
	if rw.state.CompareAndSwap(rwWriter, 0) {
		return
	}
	rw.unlockSlow()
}

func (rw *RWMutex) unlockSlow() {
	// Before the release: once rw is free, the next holder may record
	// itself at once.
	if inspect.SlowWaitOn() {
		rw.rec.Released()
	}
	rw.mu.Lock()
	if rw.state.Load()&rwWriter == 0 {
		rw.mu.Unlock()
		panic("coord: RWMutex.Unlock of RWMutex not locked for writing")
	}
	rw.release()
	rw.mu.Unlock()
}

// RLocker returns a Locker whose Lock and Unlock call rw.RLock and
// rw.RUnlock.
func (rw *RWMutex) RLocker() Locker {
	return (*rlocker)(rw)
}

type rlocker RWMutex

func (r *rlocker) Lock(ctx context.Context) error { return (*RWMutex)(r).RLock(ctx) }
func (r *rlocker) Unlock()                        { (*RWMutex)(r).RUnlock() }

// arrive returns the next tick of the queues' arrival clock. rw.mu is held.
func (rw *RWMutex) arrive() int64 {
	rw.tick++
	return rw.tick
}

// release gives up the write lock, which the caller holds, with rw.mu held.
// Every queued reader goes in at once, before the next writer: they all
// queued while this writer held or waited for the lock, and letting them in
// now is what keeps a stream of writers from starving readers. If no reader
// waits, the lock goes straight to the longest-waiting writer, rwWriter
// staying set so that nobody can take it in between.
func (rw *RWMutex) release() {
	if n := int64(rw.readers.Len()); n > 0 {
		// Count them in before waking them: a woken reader may RUnlock at
		// once.
		rw.state.Add(n*rwReader - rwWriter)
		for w := rw.readers.PopFront(); w != nil; w = rw.readers.PopFront() {
			w.Grant()
		}
	} else if w := rw.writers.PopFront(); w != nil {
		w.Grant()
	} else {
		rw.state.Add(-rwWriter)
	}
	rw.settle()
}

// dispatch lets in whoever may go in now that something changed while no
// writer held the lock (a reader left, a waiter gave up), with rw.mu held:
// the readers that queued ahead of every waiting writer, and then, if no
// reader holds the lock, the first waiting writer. Calling it when nothing
// changed does nothing.
func (rw *RWMutex) dispatch() {
	if rw.state.Load()&rwWriter == 0 {
		head := rw.writers.Front()
		// A reader queues only behind a writer, so queued readers ahead of
		// the first waiting writer are there because a writer ahead of them
		// gave up: with it gone they would not have waited at all.
		for r := rw.readers.Front(); r != nil && (head == nil || r.Since < head.Since); r = rw.readers.Front() {
			rw.readers.Remove(r)
			rw.state.Add(rwReader)
			r.Grant()
		}
		// The count includes readers that RLock counted in by mistake and
		// will take back under mu; each take-back calls dispatch again.
		if head != nil && rw.state.Load()>>rwReaderShift == 0 {
			rw.writers.Remove(head)
			rw.state.Add(rwWriter)
			head.Grant()
		}
	}
	rw.settle()
}

// settle clears rwWaiters once both queues are empty, with rw.mu held.
func (rw *RWMutex) settle() {
	if rw.readers.Len() == 0 && rw.writers.Len() == 0 && rw.state.Load()&rwWaiters != 0 {
		rw.state.Add(-rwWaiters)
	}
}

// Stats returns a snapshot of rw: Holders is the number of readers holding
// it, or 1 while a writer does; Waiters the goroutines blocked in RLock and
// Lock. See Stats.
func (rw *RWMutex) Stats() Stats {
	// Under mu the queues stand still and no grant is made, so the holders
	// and the waits agree; only readers coming and going on the fast path
	// move the count meanwhile.
	rw.mu.Lock()
	holders := 0
	if s := rw.state.Load(); s&rwWriter != 0 {
		holders = 1
	} else {
		holders = int(s >> rwReaderShift)
	}
	c := rw.rec.Counts()
	rw.mu.Unlock()
	return statsOf(unsafe.Pointer(rw), rwMutexKind, holders, c)
}
