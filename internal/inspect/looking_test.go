package inspect

import (
	"os"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"
)

// The tests of this package look, as anyone who reads stats does; those of
// what a wait records while nobody looks turn looking off for themselves.
func TestMain(m *testing.M) {
	Look()
	os.Exit(m.Run())
}

// notLooking turns looking off for the rest of t, and back on after it.
func notLooking(t *testing.T) {
	StopLooking()
	t.Cleanup(Look)
}

// countClock counts the Recorder's clock readings for the rest of t.
func countClock(t *testing.T) *atomic.Int64 {
	var n atomic.Int64
	old := now
	now = func() int64 { n.Add(1); return Now() }
	t.Cleanup(func() { now = old })
	return &n
}

// TestNotLookingOnlyCounts: while nobody looks, a wait that blocks reads no
// clock, takes no lock of the Recorder's and logs nothing, yet Waiters, Waits
// and GaveUp are exact once someone looks.
func TestNotLookingOnlyCounts(t *testing.T) {
	notLooking(t)
	reads := countClock(t)
	if Looking() {
		t.Fatal("Looking after StopLooking")
	}
	if s := Start(); s != NoStart {
		t.Fatalf("Start() = %d while nobody looks, want NoStart", s)
	}
	var r, b Recorder
	owner := unsafe.Pointer(&r)
	r.waitLog() // so that its lock can be held below
	b.waitLog()
	l, bl := r.log.Load(), b.log.Load()
	// Hold both logs' locks: a Begin, End, EndAll or GaveUpLate that took
	// one would never return.
	l.mu.Lock()
	bl.mu.Lock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		w1 := r.Begin(owner, testKind)
		w2 := r.BeginAt(owner, testKind, NoStart)
		w3 := r.Begin(owner, testKind)
		r.End(w2, true)
		r.End(w1, false)
		r.GaveUpLate()
		_ = w3 // still waiting
		b.Begin(unsafe.Pointer(&b), testKind)
		b.Begin(unsafe.Pointer(&b), testKind)
		b.EndAll() // a broadcast
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a wait took the Recorder's lock while nobody looked")
	}
	l.mu.Unlock()
	bl.mu.Unlock()
	if n := reads.Load(); n != 0 {
		t.Fatalf("%d clock readings while nobody looked, want 0", n)
	}
	if len(l.q) != 0 || l.next != 0 || len(bl.q) != 0 || bl.next != 0 {
		t.Fatalf("wait log touched while nobody looked: %d and %d entries", len(l.q), len(bl.q))
	}

	c := r.Counts() // someone looks
	if !Looking() {
		t.Fatal("Counts did not turn looking on")
	}
	if c.Waiters != 1 || c.Waits != 2 || c.GaveUp != 2 || c.WaitTime != 0 {
		t.Fatalf("Counts = %+v, want 1 waiter, 2 waits, 2 given up, no wait time", c)
	}
	if c := b.Counts(); c.Waiters != 0 || c.Waits != 2 || c.GaveUp != 0 {
		t.Fatalf("broadcast: Counts = %+v, want 2 waits, none waiting", c)
	}
}

// TestBegunBeforeLooking: a wait begun while nobody looked counts from when
// looking began (or from its start, when its primitive knows it); every
// wait begun after is exact.
func TestBegunBeforeLooking(t *testing.T) {
	notLooking(t)
	synctest.Test(t, func(t *testing.T) {
		var r Recorder
		owner := unsafe.Pointer(&r)
		w1 := r.Begin(owner, testKind)
		known := Now()
		w2 := r.BeginAt(owner, testKind, known) // a Mutex's: its start is free
		time.Sleep(2 * time.Second)

		if c := r.Counts(); c != (Counts{Waiters: 2}) {
			t.Fatalf("first look: Counts = %+v, want 2 waiters, OldestWait 0 (looking began now)", c)
		}
		if c := r.CountsOldest(known); c != (Counts{Waiters: 2, OldestWait: 2 * time.Second}) {
			t.Fatalf("first look, oldest start known: Counts = %+v, want OldestWait 2s", c)
		}
		time.Sleep(time.Second)
		if c := r.Counts(); c != (Counts{Waiters: 2, OldestWait: time.Second}) {
			t.Fatalf("a second later: Counts = %+v, want OldestWait 1s", c)
		}
		w3 := r.Begin(owner, testKind) // begun while looking: exact
		time.Sleep(time.Second)
		r.End(w1, false) // 2s since looking began
		r.End(w2, true)  // 4s since its known start
		if c := r.Counts(); c != (Counts{Waiters: 1, OldestWait: time.Second, Waits: 2, GaveUp: 1, WaitTime: 6 * time.Second}) {
			t.Fatalf("the early waits ended: Counts = %+v", c)
		}
		time.Sleep(time.Second)
		r.End(w3, false)
		if c := r.Counts(); c != (Counts{Waits: 3, GaveUp: 1, WaitTime: 8 * time.Second}) {
			t.Fatalf("all ended: Counts = %+v", c)
		}

		// A broadcast of waits begun before and after looking began.
		StopLooking()
		var b Recorder
		b.Begin(unsafe.Pointer(&b), testKind)
		time.Sleep(time.Second)
		Look()
		b.Begin(unsafe.Pointer(&b), testKind)
		time.Sleep(time.Second)
		b.EndAll()
		if c := b.Counts(); c != (Counts{Waits: 2, WaitTime: 2 * time.Second}) {
			t.Fatalf("broadcast across the switch: Counts = %+v, want 2 waits of 1s each since looking began", c)
		}
	})
}

// TestLookingSwitches: everything that reads stats turns looking on, and
// nothing turns it off.
func TestLookingSwitches(t *testing.T) {
	for name, f := range map[string]func(){
		"Counts":      func() { var r Recorder; r.Counts() },
		"Live":        func() { Live() },
		"Register":    func() { var x int; Register("Register", "looking-switch", &x); Unregister("looking-switch") },
		"SetSlowWait": func() { SetSlowWait(time.Hour, nil); SetSlowWait(0, nil) },
	} {
		notLooking(t)
		f()
		if !Looking() {
			t.Errorf("%s did not turn looking on", name)
		}
		SetSlowWait(0, nil)
		if !Looking() {
			t.Errorf("after %s, SetSlowWait(0) turned looking off", name)
		}
	}
}
