package etcd

import (
	"context"
	"errors"
	"sync"
	"unsafe"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// errNotHeld is the cause of a Context asked for when nothing is held, and
// errReleased that of a Context whose hold was released.
var (
	errNotHeld  = errors.New("coord/etcd: not held")
	errReleased = errors.New("coord/etcd: hold released")
)

// A holder is the part shared by every primitive whose value holds at most
// once at a time (Mutex, RWMutex, Semaphore and Election), as sync.Mutex
// sits on internal/sync: a value's turn, its key's name, one attempt from
// the turn to the hold, the hold's Token, Lost, Guard and Context, its
// release, and its Stats. The public types add their names, their lines
// and their doc comments.
//
// One attempt runs under the value's turn: goroutines sharing one value
// take turns, as with a coord.Mutex, and the value's key name is reused
// from attempt to attempt (see keyName). Attempts of one value never
// overlap, so h and last are written only by the goroutine holding the
// turn, under mu because Token, Lost, Guard and Context read them from any
// goroutine.
type holder struct {
	s    *Session
	name string
	pfx  string // the primitive's range: namePrefix(prefix, kind, name)

	// owner is the public value this holder is part of (the pointer a user
	// gives to coord.Register), and kind its kind, for Stats and slow-wait
	// reports; rec counts the value's waits that blocked. A wait behind
	// other keys is reported as of lineKind, kind without Lock: its holder
	// is another value or process, where this value's Took knows nothing
	// (List shows it), so its report names none rather than a wrong one.
	owner    unsafe.Pointer
	kind     *inspect.Kind
	lineKind *inspect.Kind
	rec      inspect.Recorder

	// turn serializes the goroutines sharing this value: a buffered token
	// is taken for the whole of an attempt and hold. It is a channel so that
	// waiting for it is cancellable.
	turn chan struct{}
	kn   *keyName // the name of this value's key; used under turn

	mu   sync.Mutex
	h    *hold // the current hold, nil when not held
	last *hold // the latest hold, for Lost after it ended
}

// init makes v the holder of the value owner, of kind k (whose Name is
// the public type's), on the range kind/name of s's prefix.
func (v *holder) init(owner unsafe.Pointer, k *inspect.Kind, s *Session, kind, name string) {
	pfx := namePrefix(s.prefix, kind, name)
	v.s, v.name, v.pfx = s, name, pfx
	v.owner, v.kind, v.lineKind = owner, k, k
	if k.Lock {
		v.lineKind = &inspect.Kind{Name: k.Name}
	}
	v.turn = make(chan struct{}, 1)
	v.kn = newKeyName(pfx, s.nextID())
}

// begin is the prologue of an attempt: the session's (start) and then the
// value's turn, waited for (a wait that blocks is recorded in w), or with
// try taken only if free (ErrLocked otherwise). On success the caller owns
// the turn and must call cancel.
func (v *holder) begin(ctx context.Context, op string, try bool, w *waiting) (context.Context, context.CancelFunc, error) {
	wctx, cancel, err := v.s.start(ctx, op, v.name)
	if err != nil {
		return nil, nil, err
	}
	select {
	case v.turn <- struct{}{}:
		return wctx, cancel, nil
	default:
	}
	if try {
		cancel()
		return nil, nil, wrapErr(op, v.name, ErrLocked)
	}
	// Another goroutine's attempt or hold on this value: a wait, whose
	// holder (if it holds) took the lock where this value's Took saw it.
	w.begin(&v.rec, v.owner, v.kind)
	select {
	case v.turn <- struct{}{}:
		return wctx, cancel, nil
	case <-wctx.Done():
		cancel()
		return nil, nil, v.s.fail(ctx, op, v.name, wctx.Err())
	}
}

// A line is how an attempt of a kind waits once its key is written.
type line struct {
	// count lists the ranges whose keys ahead of the attempt's are
	// counted; nil means the key's own range.
	count []string
	// admits reports whether a key with ahead keys of count before it
	// holds at once.
	admits func(ahead int64) bool
	// wait waits until the key (key, rev), which was not admitted at
	// once, holds.
	wait func(ctx context.Context, key string, rev int64) error
	// then, when set, runs once the key holds, before the attempt returns
	// (a new leader writes when it began to lead).
	then func(ctx context.Context, key string, rev int64) error
}

// acquire is one attempt that waits: it takes the value's turn, joins the
// line l with the key kn (v.kn, or another name the value owns, such as an
// RWMutex's reader key) carrying meta, and returns once the key holds.
//
// The attempt is a wait, for the value's Stats and slow-wait reports, only
// from the moment it must block: for the value's turn (another goroutine
// holds or waits on it), or for others' keys ahead of its own. A key
// admitted at once costs Stats nothing.
func (v *holder) acquire(ctx context.Context, op string, kn *keyName, meta keyMeta, l line) error {
	var w waiting
	wctx, cancel, err := v.begin(ctx, op, false, &w)
	if err != nil {
		w.end(&v.rec, ctx, err)
		return err
	}
	defer cancel()
	key, rev, ahead, err := v.s.enqueue(wctx, kn, meta, l.count...)
	if err == nil && !l.admits(ahead) {
		w.begin(&v.rec, v.owner, v.lineKind) // unless it began on the turn
		err = l.wait(wctx, key, rev)
	}
	if err == nil && l.then != nil {
		err = l.then(wctx, key, rev)
	}
	return v.finish(ctx, op, kn, key, rev, err, &w)
}

// stats returns the value's Stats: one holder while it holds a hold not
// known to be lost, and the counts of its waits.
func (v *holder) stats() coord.Stats {
	v.mu.Lock()
	h := v.h
	v.mu.Unlock()
	holders := 0
	if h != nil && !h.lostNow() {
		holders = 1
	}
	return statsOf(v.owner, v.kind, holders, &v.rec)
}

// tryAcquire is one attempt that does not wait: it writes the key kn only
// if every range of empty is empty, in one transaction, so a failed try
// never shows up in the line; otherwise it returns an error errors.Is
// ErrLocked.
func (v *holder) tryAcquire(ctx context.Context, op string, kn *keyName, empty ...string) error {
	_, cancel, err := v.begin(ctx, op, true, nil)
	if err != nil {
		return err
	}
	defer cancel()
	s := v.s
	cmps := make([]clientv3.Cmp, len(empty))
	for i, r := range empty {
		cmps[i] = clientv3.Compare(clientv3.CreateRevision(r), "=", 0).WithPrefix()
	}
	// Not cancelled with ctx, for the reason given at enqueue.
	tctx, tcancel := context.WithTimeout(s.ctx, opTimeout)
	defer tcancel()
	key := kn.String()
	resp, err := s.cli.Txn(tctx).If(cmps...).
		Then(s.put(key, keyMeta{})).
		Commit()
	switch {
	case err != nil:
		s.orphan(kn, key, 0) // as after a failed enqueue
		return v.finish(ctx, op, kn, key, 0, timedOut(tctx, err), nil)
	case !resp.Succeeded:
		// The request outlives ctx (see enqueue): a ctx that ended
		// before the answer still wins (rule 1 of package coord's doc).
		err = wrapErr(op, v.name, ErrLocked)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		<-v.turn
		return err
	}
	return v.finish(ctx, op, kn, key, resp.Header.Revision, nil, nil)
}

// finish ends an attempt. A key that came first (err nil) becomes the
// value's hold, unless the caller gave up or the session ended meanwhile:
// cancellation wins whenever the waiter sees it (rule 3 of package coord's
// doc), and deleting the key hands what it was granted to the next waiter.
// On failure the key, when it was written (rev > 0), is deleted, and the
// turn given back; a key whose write failed was handed to the session's
// cleaner by whoever wrote it. The attempt's wait w, if it blocked, ends
// here, before a granted key shows as held.
func (v *holder) finish(ctx context.Context, op string, kn *keyName, key string, rev int64, err error, w *waiting) error {
	s := v.s
	if err == nil && (ctx.Err() != nil || s.ctx.Err() != nil) {
		err = context.Canceled // fail returns ctx.Err() or the session's error
	}
	if err != nil {
		if rev > 0 {
			s.remove(kn, key, rev)
		}
		<-v.turn
		err = s.fail(ctx, op, v.name, err)
		w.end(&v.rec, ctx, err)
		return err
	}
	w.end(&v.rec, ctx, nil)
	if v.kind.Lock && inspect.SlowWaitOn() {
		v.rec.Took() // where this value took it, for slow-wait reports
	}
	h := newHold(s, kn, key, rev)
	v.mu.Lock()
	v.h, v.last = h, h
	v.mu.Unlock()
	return nil
}

// release ends the current hold (see hold.release) and gives back the
// turn. It panics with notHeld when nothing is held, and wraps a failure
// with op.
func (v *holder) release(ctx context.Context, op, notHeld string) error {
	v.mu.Lock()
	h := v.h
	v.h = nil
	v.mu.Unlock()
	if h == nil {
		panic(notHeld)
	}
	if v.kind.Lock && inspect.SlowWaitOn() {
		v.rec.Released()
	}
	err := h.release(ctx)
	<-v.turn
	if err != nil && !errors.Is(err, ErrLost) && ctx.Err() != nil {
		return ctx.Err()
	}
	return wrapErr(op, v.name, err)
}

// token returns the current hold's create revision, 0 when not held.
func (v *holder) token() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.h == nil {
		return 0
	}
	return v.h.rev
}

// lost returns the channel of the latest hold, nil before the first.
func (v *holder) lost() <-chan struct{} {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.last == nil {
		return nil
	}
	return v.last.lostChan()
}

// guard returns the Txn comparison that holds only while the current hold
// is current.
func (v *holder) guard() clientv3.Cmp {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.h.guard(v.pfx)
}

// context returns a ctx done when parent is, when the current hold is
// released (cause errReleased), or when it is lost (cause ErrLost); with
// nothing held, one already done (cause errNotHeld).
func (v *holder) context(parent context.Context) context.Context {
	ctx, cancel := context.WithCancelCause(parent)
	v.mu.Lock()
	h := v.h
	v.mu.Unlock()
	if h == nil {
		cancel(errNotHeld)
		return ctx
	}
	h.lostChan() // a loss must end h.ctx even when nobody asked for Lost
	// h.ctx ends on release, on a loss and with the session; after a loss
	// or with the session gone, lostNow says so.
	stop := context.AfterFunc(h.ctx, func() {
		if h.lostNow() {
			h.markLost() // so that Lost is closed when the cause says ErrLost
			cancel(ErrLost)
		} else {
			cancel(errReleased)
		}
	})
	context.AfterFunc(ctx, func() { stop() })
	return ctx
}
