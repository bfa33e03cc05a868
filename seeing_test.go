package coord_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
	"github.com/coordkit/coord/internal/logtest"
)

// chanLock is a lock wired the way coord's primitives are (see package
// inspect): a Recorder around its blocking wait, Took and Released while
// slow-wait reports are on, and Stats from the recorder's counts.
type chanLock struct {
	rec  inspect.Recorder
	held chan struct{} // full while held
}

var chanLockKind = &inspect.Kind{Name: "ChanLock", Lock: true}

func newChanLock() *chanLock { return &chanLock{held: make(chan struct{}, 1)} }

func (l *chanLock) Lock(ctx context.Context) error {
	select {
	case l.held <- struct{}{}:
	default:
		w := l.rec.Begin(unsafe.Pointer(l), chanLockKind)
		select {
		case l.held <- struct{}{}:
			l.rec.End(w, false)
		case <-ctx.Done():
			l.rec.End(w, true)
			return ctx.Err()
		}
	}
	if inspect.SlowWaitOn() {
		l.rec.Took()
	}
	return nil
}

func (l *chanLock) Unlock() {
	if inspect.SlowWaitOn() {
		l.rec.Released()
	}
	<-l.held
}

func (l *chanLock) Stats() coord.Stats {
	c := l.rec.Counts()
	return coord.Stats{Name: inspect.NameOf(unsafe.Pointer(l)), Kind: chanLockKind.Name, Holders: len(l.held),
		Waiters: c.Waiters, OldestWait: c.OldestWait, Waits: c.Waits, GaveUp: c.GaveUp, WaitTime: c.WaitTime}
}

// TestSeeingInsideWired runs the scenario of issue 13 against a lock wired
// like the primitives: three goroutines parked on a held lock, seen in its
// Stats and in Snapshot under its registered name; one gives up; a slow
// wait is reported once, on the logger given to coord.SetSlowWait.
func TestSeeingInsideWired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &logtest.Records{}
		coord.SetSlowWait(10*time.Second, slog.New(h))
		defer coord.SetSlowWait(0, nil)
		l := newChanLock()
		coord.Register("wired/orders", l)
		defer coord.Unregister("wired/orders")

		l.Lock(context.Background())
		ctx, cancel := context.WithCancel(context.Background())
		errs := make(chan error, 3)
		go func() { errs <- l.Lock(ctx) }()
		time.Sleep(time.Second)
		go func() { errs <- l.Lock(context.Background()) }()
		go func() { errs <- l.Lock(context.Background()) }()
		time.Sleep(time.Second)
		synctest.Wait()

		want := coord.Stats{Name: "wired/orders", Kind: "ChanLock", Holders: 1, Waiters: 3, OldestWait: 2 * time.Second}
		if got := l.Stats(); got != want {
			t.Fatalf("Stats = %+v\nwant %+v", got, want)
		}
		if got := registered("wired/"); len(got) != 1 || got[0] != want {
			t.Fatalf("Snapshot = %+v", got)
		}
		cancel()
		if err := <-errs; err != context.Canceled {
			t.Fatalf("cancelled Lock = %v", err)
		}
		got := l.Stats()
		if got.Waiters != 2 || got.GaveUp != 1 || got.Waits != 1 || got.WaitTime != 2*time.Second || got.OldestWait != time.Second {
			t.Fatalf("after one gave up: %+v", got)
		}
		if n := h.Len(); n != 0 {
			t.Fatalf("%d slow-wait records before 10s", n)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if n := h.Len(); n != 2 {
			t.Fatalf("%d slow-wait records once both waits passed 10s, want 2", n)
		}
		for _, r := range h.All() {
			a := logtest.Attrs(r)
			name, holder := a["name"].String(), a["holder"].String()
			if name != "wired/orders" || !strings.Contains(holder, "seeing_test.go") {
				t.Errorf("record name %q holder %q", name, holder)
			}
		}
		l.Unlock()
		<-errs
		l.Unlock()
		<-errs
		l.Unlock()
	})
}
