package inspect

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

// settings is one SetSlowWait setting. A new value is stored on every call,
// so the pointer also tells settings apart: a holder site recorded under
// other settings may be stale (see Took).
type settings struct {
	d      time.Duration
	logger *slog.Logger
	// released is what Recorder.holder points to after a release under
	// these settings: nobody holds the lock, unless a holder took it since,
	// which would have replaced it.
	released holderSite
}

// slow is the process-wide slow-wait setting, nil while off.
var slow atomic.Pointer[settings]

// SetSlowWait turns slow-wait reports on for waits that block longer than d,
// logged on l (if nil, on whatever slog.Default() is when a report is made),
// or off if d <= 0. Waits that already blocked before it was turned on are
// not reported; turning it off cancels the reports not yet made.
func SetSlowWait(d time.Duration, l *slog.Logger) {
	if d <= 0 {
		slow.Store(nil)
		return
	}
	look() // reports need every wait's start
	s := &settings{d: d, logger: l}
	s.released.set = s
	slow.Store(s)
}

// SlowWaitOn reports whether slow-wait reports are on. It is one atomic load,
// cheap enough for the fast path of a lock, which calls Took and Released
// only when it reports true.
func SlowWaitOn() bool { return slow.Load() != nil }

// A slowWait is the armed report of one wait, made only while slow-wait
// reports are on.
type slowWait struct {
	timer *time.Timer
	ended bool // set by End, under l.mu
	l     *waitLog
	rec   *Recorder
	owner unsafe.Pointer // keeps the primitive alive while its wait is armed, as the waiter does anyway
	kind  *Kind
	start int64
	// The innermost frames of the wait's call stack, from Begin's caller
	// up: enough to pass coord's own frames (a wait is at most a few deep
	// in them) and reach the caller's, which is all a report names. Kept
	// inline, and few, because every wait that blocks pays for them while
	// reports are on.
	pcs [8]uintptr
	n   int
}

// arm captures the wait's call site and starts the timer of its report.
func (s *settings) arm(r *Recorder, l *waitLog, owner unsafe.Pointer, k *Kind, start int64) *slowWait {
	sw := &slowWait{l: l, rec: r, owner: owner, kind: k, start: start}
	sw.n = runtime.Callers(3, sw.pcs[:]) // skip Callers, arm and BeginAt
	// The timer goroutine exists only once the timer fires, and End stops
	// it, so a wait that ends in time leaves nothing behind.
	sw.timer = time.AfterFunc(s.d-time.Duration(now()-start), sw.report)
	return sw
}

// report logs the wait if it is still going on and reports are still on.
func (sw *slowWait) report() {
	s := slow.Load()
	if s == nil {
		return
	}
	sw.l.mu.Lock()
	ended := sw.ended
	sw.l.mu.Unlock()
	if ended {
		return
	}
	name := NameOf(sw.owner)
	attrs := []slog.Attr{
		slog.String("name", name),
		slog.String("kind", sw.kind.Name),
		slog.Duration("waited", time.Duration(now()-sw.start)),
		slog.String("waiter", site(sw.pcs[:sw.n])),
	}
	if sw.kind.Lock {
		// A site recorded under other settings may be stale: the lock may
		// have changed hands while reports were off.
		holder := "unknown (taken while slow-wait reports were off)"
		if h := sw.rec.holder.Load(); h != nil && h.set == s {
			holder = "none"
			if h.n > 0 {
				holder = site(h.pcs[:h.n])
			}
		}
		attrs = append(attrs, slog.String("holder", holder))
	}
	logger := s.logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.LogAttrs(context.Background(), slog.LevelWarn, "coord: slow wait", attrs...)
}

// holderSite is where a lock's current holder took it.
type holderSite struct {
	set *settings // the setting it was recorded under
	pcs [8]uintptr
	n   int
}

// Took records, for slow-wait reports, that the caller has just taken the
// lock r belongs to, and where from. A lock kind calls it after every
// acquisition, fast path included, when SlowWaitOn reports true; for a lock
// with shared holders (readers) the site of the latest one is kept.
func (r *Recorder) Took() {
	s := slow.Load()
	if s == nil {
		return
	}
	h := &holderSite{set: s}
	h.n = runtime.Callers(2, h.pcs[:]) // skip Callers and Took
	r.holder.Store(h)
}

// Released records that the lock r belongs to has no holder any more (for a
// lock with shared holders: its last holder left), so that a report says
// "none" rather than the site of the holder that left. A lock kind calls it
// on a release when SlowWaitOn reports true; on its slow path at least (see
// the package doc).
func (r *Recorder) Released() {
	if s := slow.Load(); s != nil {
		r.holder.Store(&s.released)
	}
}

// site formats the first frame of pcs outside coord's own packages as
// "file:line (function)": where the user's code called into coord.
func site(pcs []uintptr) string {
	if len(pcs) == 0 {
		return "unknown"
	}
	frames := runtime.CallersFrames(pcs)
	var last runtime.Frame
	for {
		f, more := frames.Next()
		if f.Function != "" {
			last = f
			if !isOwnFrame(f.Function) {
				break
			}
		}
		if !more {
			break
		}
	}
	if last.Function == "" {
		return "unknown"
	}
	return last.File + ":" + strconv.Itoa(last.Line) + " (" + last.Function + ")"
}

// isOwnFrame is ownFrame, but for tests, whose own functions live in this
// package.
var isOwnFrame = ownFrame

// ownFrame reports whether function, a fully qualified function name,
// belongs to one of coord's packages (not to their tests, nor to the CLI's
// package main).
func ownFrame(function string) bool {
	const mod = "github.com/coordkit/coord"
	if !strings.HasPrefix(function, mod) {
		return false
	}
	// The package path ends at the first dot after the last slash, in the
	// part before any receiver or type arguments, which may hold dots and
	// slashes of their own.
	p := function
	if i := strings.IndexAny(p, "(["); i >= 0 {
		p = p[:i]
	}
	slash := strings.LastIndexByte(p, '/')
	if dot := strings.IndexByte(p[slash+1:], '.'); dot >= 0 {
		p = p[:slash+1+dot]
	}
	if p != mod && !strings.HasPrefix(p, mod+"/") {
		return false
	}
	return !strings.HasSuffix(p, "_test")
}
