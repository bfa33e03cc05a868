package coord

import (
	"context"
	"errors"
	"sync"
	"unsafe"

	"github.com/coordkit/coord/internal/inspect"
	"github.com/coordkit/coord/internal/waitq"
)

// ErrQueueShutDown is returned by Queue.Put once the queue is shut down, and
// by Queue.Get once it is shut down and has nothing left to give.
var ErrQueueShutDown = errors.New("coord: queue is shut down")

// A Queue is a FIFO queue of values of type T, optionally bounded, whose
// blocking calls can be given up through a context: asyncio.Queue, with the
// shutdown of Python 3.13, for goroutines.
//
// The zero Queue is an empty, unbounded queue; NewQueue makes a bounded one.
// A Queue must not be copied after first use. It is safe for use by any number of
// goroutines.
//
// Ordering: items come out in the order they went in. Blocked Get calls are
// served in the order they blocked, and so are blocked Put calls; TryGet and
// TryPut never take an item or a slot ahead of a blocked caller.
//
// Handoff: a Put that finds a Get waiting gives its item straight to the
// longest-waiting Get, under the queue's lock, and a Get that frees a slot
// moves the longest-waiting Put's item into the queue the same way. So a
// woken caller never has to compete again for what it was woken for, and a
// blocked Put's item is in the queue, in order, the moment there is room.
// A Get whose ctx ends as an item is handed to it returns ctx.Err() and
// passes the item on, to the next Get or back to the front of the queue:
// no item is lost, and it stays ahead of the items queued behind it.
// (Handed back while the queue has filled up again behind it, the item may
// leave Len() above maxsize for a moment; it is never dropped.)
//
// Join and TaskDone count work as asyncio's do: every item put adds one
// unfinished task, every TaskDone removes one, and Join waits for none to be
// left.
type Queue[T any] struct {
	_ noCopy

	mu         sync.Mutex
	maxsize    int // <= 0: unbounded
	buf        ring[T]
	getters    waitq.List[slot[T]] // blocked Gets; only while buf is empty
	putters    waitq.List[slot[T]] // blocked Puts; only while buf is full
	joiners    waitq.List[struct{}]
	unfinished int
	shutdown   bool
	immediate  bool
	rec        inspect.Recorder // waits of Put, Get and Join, for Stats; see the package doc's "Seeing inside"
}

var queueKind = &inspect.Kind{Name: "Queue"}

// slot is what a blocked Get or Put parks with: the item handed over, and
// the caller's ctx, which a granter checks so that it does not hand anything
// to a caller that has already given up.
type slot[T any] struct {
	v   T
	ctx context.Context
}

// NewQueue returns an empty Queue that holds at most maxsize items, or any
// number of items if maxsize <= 0.
func NewQueue[T any](maxsize int) *Queue[T] {
	return &Queue[T]{maxsize: maxsize}
}

// full reports whether the buffer has no room. q.mu is held.
func (q *Queue[T]) full() bool {
	return q.maxsize > 0 && q.buf.len() >= q.maxsize
}

// popLiveGetter removes and returns the longest-waiting Get whose ctx is not
// done, or nil. Gets that have given up are dropped from the queue of
// waiters on the way; each returns its ctx error by itself. q.mu is held.
func (q *Queue[T]) popLiveGetter() *waitq.Waiter[slot[T]] {
	for w := q.getters.PopFront(); w != nil; w = q.getters.PopFront() {
		if w.Val.ctx.Err() == nil {
			return w
		}
	}
	return nil
}

// admitPutters moves the items of blocked Puts into the buffer while there is
// room, longest-waiting first. A Put whose ctx is already done is skipped and
// fails: a cancel before the grant always fails the call. q.mu is held.
func (q *Queue[T]) admitPutters() {
	for !q.full() {
		w := q.putters.PopFront()
		if w == nil {
			return
		}
		if w.Val.ctx.Err() != nil {
			continue
		}
		q.buf.pushBack(w.Val.v)
		var zero T
		w.Val.v = zero
		q.unfinished++
		w.Grant()
	}
}

// handOn passes an item that a cancelled Get was granted to the next Get, or
// back to the front of the buffer, where it was; after an immediate shutdown
// it is dropped and counted done, like the items Shutdown dropped. q.mu is
// held.
func (q *Queue[T]) handOn(v T) {
	if q.immediate {
		q.taskDone(1)
		return
	}
	if g := q.popLiveGetter(); g != nil {
		g.Val.v = v
		g.Grant()
		return
	}
	q.buf.pushFront(v)
}

// Put puts v at the back of the queue, waiting while it is full.
//
// Put returns nil once v is in the queue (or given to a waiting Get). It
// returns ErrQueueShutDown if the queue is shut down, before or while Put
// waits; v is then not put. If ctx ends first, Put returns ctx.Err() and v is
// not put; a ctx that is already done makes Put return ctx.Err() at once,
// even if there is room. A Put whose v was moved into the queue returns nil
// even if its ctx ended at that moment, as v may already be taken.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	if q.shutdown {
		q.mu.Unlock()
		return ErrQueueShutDown
	}
	if q.putters.Len() == 0 {
		if q.tryPut(v) {
			q.mu.Unlock()
			return nil
		}
	}
	w := q.putters.Waiter()
	w.Val = slot[T]{v: v, ctx: ctx}
	q.putters.PushBack(w)
	rec := q.rec.Begin(unsafe.Pointer(q), queueKind)

	// Granted, v is in the queue (and may be taken already) or the queue
	// shut down: either way the outcome stands.
	err := w.Wait(ctx, &q.mu, q.putters.Keep(w))
	q.rec.End(rec, err != nil) // only ctx's error; a shutdown is not giving up
	if err == nil {
		err = w.Err
	}
	q.putters.Recycle(w)
	return err
}

// tryPut puts v if that needs no wait. The caller has checked that no Put is
// blocked and the queue is not shut down. q.mu is held.
func (q *Queue[T]) tryPut(v T) bool {
	if g := q.popLiveGetter(); g != nil {
		// A Get is waiting, so the buffer is empty: hand v over directly.
		g.Val.v = v
		q.unfinished++
		g.Grant()
		return true
	}
	if q.full() {
		return false
	}
	q.buf.pushBack(v)
	q.unfinished++
	return true
}

// TryPut puts v at the back of the queue if that needs no wait, and reports
// whether it did. It returns false if the queue is full, if a Put is waiting
// (it does not jump ahead of one), or if the queue is shut down.
func (q *Queue[T]) TryPut(v T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown || q.putters.Len() > 0 {
		return false
	}
	return q.tryPut(v)
}

// Get removes and returns the item at the front of the queue, waiting while
// the queue is empty.
//
// After Shutdown, Get still returns the items left in the queue, and then
// ErrQueueShutDown; a Get waiting on an empty queue returns ErrQueueShutDown
// as soon as the queue is shut down. (After Shutdown(true) nothing is left.)
// If ctx ends first, Get returns ctx.Err() and takes nothing: an item handed
// to it at that moment goes to the next Get, or back to the front of the
// queue. A ctx that is already done makes Get return ctx.Err() at once.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	q.mu.Lock()
	if v, ok := q.tryGet(); ok {
		q.mu.Unlock()
		return v, nil
	}
	if q.shutdown {
		q.mu.Unlock()
		return zero, ErrQueueShutDown
	}
	w := q.getters.Waiter()
	w.Val.ctx = ctx
	q.getters.PushBack(w)
	rec := q.rec.Begin(unsafe.Pointer(q), queueKind)

	err := w.Wait(ctx, &q.mu, q.getters.HandOn(w, func() {
		if w.Err == nil {
			// Handed an item as the ctx ended: cancellation wins, and
			// the item goes on to whoever would have had it next.
			q.handOn(w.Val.v)
		}
	}))
	v, werr := w.Val.v, w.Err
	q.getters.Recycle(w)
	q.rec.End(rec, err != nil)
	if err != nil {
		return zero, err
	}
	if werr != nil {
		return zero, werr
	}
	return v, nil
}

// tryGet takes the front item if there is one, and lets the longest-waiting
// Put into the slot it frees. q.mu is held.
func (q *Queue[T]) tryGet() (T, bool) {
	if q.buf.len() == 0 {
		var zero T
		return zero, false
	}
	v := q.buf.popFront()
	q.admitPutters()
	return v, true
}

// TryGet removes and returns the item at the front of the queue if there is
// one, and reports whether it did. After Shutdown it still drains the queue.
func (q *Queue[T]) TryGet() (T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.tryGet()
}

// Len returns the number of items in the queue.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.buf.len()
}

// TaskDone tells the queue that the processing of an item taken from it is
// complete. Every item put adds one unfinished task; when TaskDone has been
// called once for each (items dropped by Shutdown(true) count as done), Join
// returns.
//
// TaskDone panics if it is called more times than items were put.
func (q *Queue[T]) TaskDone() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.unfinished <= 0 {
		panic("coord: Queue.TaskDone called more times than items were put")
	}
	q.taskDone(1)
}

// taskDone counts n tasks done and releases Join when none is left. q.mu is
// held.
func (q *Queue[T]) taskDone(n int) {
	q.unfinished -= n
	if q.unfinished < 0 {
		q.unfinished = 0
	}
	if q.unfinished == 0 {
		for w := q.joiners.PopFront(); w != nil; w = q.joiners.PopFront() {
			w.Grant()
		}
	}
}

// Join waits until every item put has been processed: TaskDone has been
// called for each, or it was dropped by Shutdown(true). It returns nil then,
// or ctx.Err() if ctx ends first. A ctx that is already done makes Join
// return ctx.Err() even when there is nothing to wait for.
func (q *Queue[T]) Join(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	if q.unfinished == 0 {
		q.mu.Unlock()
		return nil
	}
	w := q.joiners.Waiter()
	q.joiners.PushBack(w)
	rec := q.rec.Begin(unsafe.Pointer(q), queueKind)
	// The count reaching zero is not handed on: a released Join keeps it.
	err := w.Wait(ctx, &q.mu, q.joiners.Keep(w))
	q.joiners.Recycle(w)
	q.rec.End(rec, err != nil)
	return err
}

// Stats returns a snapshot of q: Holders is the number of items in it, and
// Waiters the goroutines blocked in Put, Get and Join. Kind is "Queue",
// whatever T is. See Stats.
func (q *Queue[T]) Stats() Stats {
	// Under mu, the items and the waits agree: a Get that waits is one
	// the queue had nothing for.
	q.mu.Lock()
	items := q.buf.len()
	c := q.rec.Counts()
	q.mu.Unlock()
	return statsOf(unsafe.Pointer(q), queueKind, items, c)
}

// Shutdown shuts the queue down: every blocked Put and every later Put or
// TryPut fails (ErrQueueShutDown, false), and every Get blocked on the empty
// queue returns ErrQueueShutDown at once.
//
// If immediate is false, items already in the queue can still be taken with
// Get and TryGet; a Get on the drained queue then returns ErrQueueShutDown.
// If immediate is true, the items left in the queue are dropped and counted
// as done for Join, and every Get returns ErrQueueShutDown.
//
// Shutdown may be called more than once; a later Shutdown(true) still drops
// what is left.
func (q *Queue[T]) Shutdown(immediate bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	if immediate {
		q.immediate = true
		if n := q.buf.len(); n > 0 {
			q.buf.clear()
			q.taskDone(n)
		}
	}
	for w := q.getters.PopFront(); w != nil; w = q.getters.PopFront() {
		w.Err = ErrQueueShutDown
		w.Grant()
	}
	for w := q.putters.PopFront(); w != nil; w = q.putters.PopFront() {
		var zero T
		w.Val.v = zero
		w.Err = ErrQueueShutDown
		w.Grant()
	}
}

// ring is a growable FIFO ring buffer.
type ring[T any] struct {
	buf  []T
	head int // index of the front item
	n    int
}

func (r *ring[T]) len() int { return r.n }

func (r *ring[T]) grow() {
	size := 2 * len(r.buf)
	if size == 0 {
		size = 8
	}
	buf := make([]T, size)
	k := copy(buf, r.buf[r.head:])
	copy(buf[k:], r.buf[:r.head])
	r.buf, r.head = buf, 0
}

func (r *ring[T]) pushBack(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
}

func (r *ring[T]) pushFront(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.head = (r.head + len(r.buf) - 1) % len(r.buf)
	r.buf[r.head] = v
	r.n++
}

func (r *ring[T]) popFront() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero // let the item be collected
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return v
}

func (r *ring[T]) clear() {
	clear(r.buf)
	r.head, r.n = 0, 0
}
