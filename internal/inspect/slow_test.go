package inspect

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/coordkit/coord/internal/logtest"
)

// fakeLockFrames makes site treat fakeLock's methods, and only them, as
// coord's own, as it would a real primitive's; the test's other functions
// then stand for the user's code.
func fakeLockFrames(t *testing.T) {
	isOwnFrame = func(fn string) bool {
		return strings.Contains(fn, "(*fakeLock)") || strings.Contains(fn, "inspect.(*Recorder)")
	}
	t.Cleanup(func() { isOwnFrame = ownFrame })
}

// fakeLock is a lock built the way the primitives are wired: Took on every
// acquisition, Begin/End around a wait that blocks, Released on release.
type fakeLock struct {
	rec  Recorder
	held chan struct{} // capacity 1: full while held
}

var fakeLockKind = &Kind{Name: "FakeLock", Lock: true}

func newFakeLock() *fakeLock { return &fakeLock{held: make(chan struct{}, 1)} }

func (l *fakeLock) Lock(ctx context.Context) error {
	select {
	case l.held <- struct{}{}:
	default:
		w := l.rec.Begin(unsafe.Pointer(l), fakeLockKind)
		select {
		case l.held <- struct{}{}:
			l.rec.End(w, false)
		case <-ctx.Done():
			l.rec.End(w, true)
			return ctx.Err()
		}
	}
	if SlowWaitOn() {
		l.rec.Took()
	}
	return nil
}

func (l *fakeLock) Unlock() {
	if SlowWaitOn() {
		l.rec.Released()
	}
	<-l.held
}

func holderTakesIt(l *fakeLock) { l.Lock(context.Background()) }

func waiterWaits(l *fakeLock, ctx context.Context) error { return l.Lock(ctx) }

// TestSlowWaitOneRecordWhileWaiting: a wait blocked past d is reported once,
// while it still waits, with its name, kind, age, call site and the holder's
// call site; nothing more is logged while it goes on waiting or after it
// ends.
func TestSlowWaitOneRecordWhileWaiting(t *testing.T) {
	fakeLockFrames(t)
	synctest.Test(t, func(t *testing.T) {
		h := &logtest.Records{}
		SetSlowWait(time.Second, slog.New(h))
		defer SetSlowWait(0, nil)
		l := newFakeLock()
		Register("Register", "jobs", l)
		defer Unregister("jobs")

		holderTakesIt(l)
		done := make(chan error)
		go func() { done <- waiterWaits(l, context.Background()) }()

		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		if n := h.Len(); n != 0 {
			t.Fatalf("%d records before the wait was slow", n)
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		recs := h.All()
		if len(recs) != 1 {
			t.Fatalf("%d records once the wait was slow, want 1", len(recs))
		}
		r := recs[0]
		if r.Level != slog.LevelWarn {
			t.Errorf("level %v, want WARN", r.Level)
		}
		a := logtest.Attrs(r)
		if got := a["name"].String(); got != "jobs" {
			t.Errorf("name = %q, want jobs", got)
		}
		if got := a["kind"].String(); got != "FakeLock" {
			t.Errorf("kind = %q, want FakeLock", got)
		}
		if got := a["waited"].Duration(); got != time.Second {
			t.Errorf("waited = %v, want 1s", got)
		}
		if got := a["waiter"].String(); !strings.Contains(got, "slow_test.go:") || !strings.Contains(got, "waiterWaits") {
			t.Errorf("waiter = %q, want this file's waiterWaits", got)
		}
		if got := a["holder"].String(); !strings.Contains(got, "slow_test.go:") || !strings.Contains(got, "holderTakesIt") {
			t.Errorf("holder = %q, want this file's holderTakesIt", got)
		}

		time.Sleep(time.Hour)
		synctest.Wait()
		if n := h.Len(); n != 1 {
			t.Fatalf("%d records after waiting an hour, want still 1", n)
		}
		l.Unlock()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		l.Unlock()
		time.Sleep(time.Hour)
		synctest.Wait()
		if n := h.Len(); n != 1 {
			t.Fatalf("%d records after the wait ended, want still 1", n)
		}
	})
}

// TestSlowWaitNotSlow: waits that end before d are never reported, nor is
// a wait that gave up.
func TestSlowWaitNotSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &logtest.Records{}
		SetSlowWait(time.Second, slog.New(h))
		defer SetSlowWait(0, nil)
		l := newFakeLock()
		l.Lock(context.Background())
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		if err := l.Lock(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Lock = %v, want DeadlineExceeded", err)
		}
		done := make(chan error)
		go func() { done <- l.Lock(context.Background()) }()
		time.Sleep(900 * time.Millisecond)
		l.Unlock()
		<-done
		time.Sleep(time.Hour)
		synctest.Wait()
		if n := h.Len(); n != 0 {
			t.Fatalf("%d records for waits shorter than d, want 0", n)
		}
		if c := l.rec.Counts(); c.Waits != 2 || c.GaveUp != 1 {
			t.Fatalf("Counts = %+v, want 2 waits, 1 gave up", c)
		}
	})
}

// TestSlowWaitOff: with reports off a wait arms nothing, and turning
// reports off cancels the ones not yet made.
func TestSlowWaitOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &logtest.Records{}
		SetSlowWait(0, slog.New(h))
		var r Recorder
		w := r.Begin(unsafe.Pointer(&r), testKind)
		if w.slow != nil {
			t.Fatal("Begin armed a report with reports off")
		}
		r.End(w, false)
		if SlowWaitOn() {
			t.Fatal("SlowWaitOn after SetSlowWait(0)")
		}

		SetSlowWait(time.Second, slog.New(h))
		w = r.Begin(unsafe.Pointer(&r), testKind)
		if w.slow == nil {
			t.Fatal("Begin armed no report with reports on")
		}
		SetSlowWait(-time.Second, nil)
		time.Sleep(time.Hour)
		synctest.Wait()
		r.End(w, false)
		if n := h.Len(); n != 0 {
			t.Fatalf("%d records after reports were turned off, want 0", n)
		}
	})
}

// TestSlowWaitLeavesNoGoroutine: a wait that ends in time, with reports on,
// leaves no goroutine and no timer behind once reports are off.
func TestSlowWaitLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	SetSlowWait(time.Hour, slog.New(&logtest.Records{}))
	var r Recorder
	for range 100 {
		r.End(r.Begin(unsafe.Pointer(&r), testKind), false)
	}
	SetSlowWait(0, nil)
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("%d goroutines after 100 short waits, %d before", after, before)
	}
}

// TestSlowWaitHolderUnknown: a holder that took the lock while reports were
// off is reported as unknown, not as a stale site.
func TestSlowWaitHolderUnknown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &logtest.Records{}
		SetSlowWait(time.Second, slog.New(h))
		l := newFakeLock()
		holderTakesIt(l) // recorded
		l.Unlock()       // recorded as released
		SetSlowWait(0, nil)
		l.Lock(context.Background()) // not recorded
		SetSlowWait(time.Second, slog.New(h))
		defer SetSlowWait(0, nil)
		done := make(chan error)
		go func() { done <- l.Lock(context.Background()) }()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		recs := h.All()
		if len(recs) != 1 {
			t.Fatalf("%d records, want 1", len(recs))
		}
		a := logtest.Attrs(recs[0])
		if got := a["holder"].String(); !strings.HasPrefix(got, "unknown") {
			t.Errorf("holder = %q, want unknown", got)
		}
		if got := a["name"].String(); got != "" {
			t.Errorf("name of an unregistered lock = %q, want empty", got)
		}
		l.Unlock()
		<-done
		l.Unlock()
	})
}

func TestOwnFrame(t *testing.T) {
	for fn, want := range map[string]bool{
		"github.com/coordkit/coord.(*Mutex).Lock":                                   true,
		"github.com/coordkit/coord.(*Mutex).lockSlow.func1":                         true,
		"github.com/coordkit/coord/internal/waitq.(*Waiter[...]).Wait":              true,
		"github.com/coordkit/coord/etcd.(*Mutex).Lock":                              true,
		"github.com/coordkit/coord/internal/inspect.waiterWaits":                    true,
		"github.com/coordkit/coord_test.TestMutex":                                  false,
		"github.com/coordkit/coord/etcd_test.TestLock":                              false,
		"github.com/coordkit/coordination.Do":                                       false,
		"main.main":                                                                 false,
		"example.com/app.(*Pool[github.com/coordkit/coord.Mutex]).get":              false,
		"github.com/coordkit/coord.Queue[go.shape.struct { github.com/x/y.T }].Put": true,
	} {
		if got := ownFrame(fn); got != want {
			t.Errorf("ownFrame(%q) = %v, want %v", fn, got, want)
		}
	}
}

// TestSlowWaitDefaultLogger: a nil logger means slog.Default(), as it is
// when the report is made.
func TestSlowWaitDefaultLogger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		SetSlowWait(time.Second, nil)
		defer SetSlowWait(0, nil)
		h := &logtest.Records{}
		old := slog.Default()
		slog.SetDefault(slog.New(h))
		defer slog.SetDefault(old)
		var r Recorder
		w := r.Begin(unsafe.Pointer(&r), testKind)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		r.End(w, false)
		if recs := h.All(); len(recs) != 1 || recs[0].Message != "coord: slow wait" {
			t.Fatalf("records on slog.Default(): %v", recs)
		}
	})
}
