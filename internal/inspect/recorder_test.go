package inspect

import (
	"log/slog"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/coordkit/coord/internal/logtest"
)

var testKind = &Kind{Name: "Test"}

// TestCountsScripted checks every count against a scripted scenario on
// synctest's clock: three waits a second apart, the middle one given up,
// then the oldest one done.
func TestCountsScripted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r Recorder
		if c := r.Counts(); c != (Counts{}) {
			t.Fatalf("zero Recorder: Counts = %+v, want zero", c)
		}
		owner := unsafe.Pointer(&r)
		w1 := r.Begin(owner, testKind)
		time.Sleep(time.Second)
		w2 := r.Begin(owner, testKind)
		time.Sleep(time.Second)
		w3 := r.Begin(owner, testKind)
		time.Sleep(time.Second)
		want := Counts{Waiters: 3, OldestWait: 3 * time.Second}
		if c := r.Counts(); c != want {
			t.Fatalf("three waiting: Counts = %+v, want %+v", c, want)
		}
		r.End(w2, true) // waited 2s, gave up
		want = Counts{Waiters: 2, OldestWait: 3 * time.Second, Waits: 1, GaveUp: 1, WaitTime: 2 * time.Second}
		if c := r.Counts(); c != want {
			t.Fatalf("middle gave up: Counts = %+v, want %+v", c, want)
		}
		r.End(w1, false) // waited 3s
		want = Counts{Waiters: 1, OldestWait: time.Second, Waits: 2, GaveUp: 1, WaitTime: 5 * time.Second}
		if c := r.Counts(); c != want {
			t.Fatalf("oldest done: Counts = %+v, want %+v", c, want)
		}
		time.Sleep(time.Second)
		r.End(w3, false) // waited 2s
		want = Counts{Waits: 3, GaveUp: 1, WaitTime: 7 * time.Second}
		if c := r.Counts(); c != want {
			t.Fatalf("all done: Counts = %+v, want %+v", c, want)
		}
	})
}

// TestOldestModel runs random begins and ends against a model: the oldest
// live wait is always the one q[off] names, and q stays within about twice
// the live waits.
func TestOldestModel(t *testing.T) {
	var r Recorder
	owner := unsafe.Pointer(&r)
	rng := rand.New(rand.NewPCG(1, 2))
	var live []Wait // in begin order
	for i := range 20000 {
		if len(live) == 0 || (len(live) < 200 && rng.IntN(2) == 0) {
			live = append(live, r.Begin(owner, testKind))
		} else {
			// End mostly near the front (FIFO), sometimes anywhere.
			j := 0
			if rng.IntN(3) == 0 {
				j = rng.IntN(len(live))
			}
			r.End(live[j], rng.IntN(2) == 0)
			live = append(live[:j], live[j+1:]...)
		}
		l := r.log.Load()
		if l.live != len(live) {
			t.Fatalf("step %d: live = %d, want %d", i, l.live, len(live))
		}
		if len(live) > 0 && l.q[l.off].seq != live[0].seq {
			t.Fatalf("step %d: oldest seq = %d, want %d", i, l.q[l.off].seq, live[0].seq)
		}
		if n := len(l.q) - l.off; n > 2*len(live)+9 {
			t.Fatalf("step %d: %d entries kept for %d live waits", i, n, len(live))
		}
	}
}

// TestEndTwicePanics: a wait ends once; a second End is a bug in the
// primitive, caught loudly.
func TestEndTwicePanics(t *testing.T) {
	var r Recorder
	w := r.Begin(unsafe.Pointer(&r), testKind)
	r.End(w, false)
	defer func() {
		if recover() == nil {
			t.Fatal("second End did not panic")
		}
	}()
	r.End(w, false)
}

// TestBeginEndAllocs: with slow-wait reports off, a wait that blocks costs
// the Recorder no allocation once its log has grown to the waiters it sees.
func TestBeginEndAllocs(t *testing.T) {
	SetSlowWait(0, nil)
	var r Recorder
	owner := unsafe.Pointer(&r)
	r.End(r.Begin(owner, testKind), false) // the log, once
	var ws [4]Wait
	allocs := testing.AllocsPerRun(1000, func() {
		for i := range ws {
			ws[i] = r.Begin(owner, testKind)
		}
		for i := range ws {
			r.End(ws[i], i%2 == 0)
		}
	})
	if allocs != 0 {
		t.Fatalf("Begin/End allocated %v times per run, want 0", allocs)
	}
}

// TestOverlappingWaitsAllocs: waits that overlap without end, so that the
// log never empties (the parties of one Barrier round still ending as the
// next round's begin), allocate nothing once the log has grown to them, and
// the log stays that size.
func TestOverlappingWaitsAllocs(t *testing.T) {
	SetSlowWait(0, nil)
	var r Recorder
	owner := unsafe.Pointer(&r)
	var ws [3]Wait
	for i := range ws {
		ws[i] = r.Begin(owner, testKind)
	}
	i := 0
	step := func() {
		r.End(ws[i], false)
		ws[i] = r.Begin(owner, testKind)
		i = (i + 1) % len(ws)
	}
	for range 100 {
		step()
	}
	if allocs := testing.AllocsPerRun(10000, step); allocs != 0 {
		t.Fatalf("an overlapping Begin/End allocated %v times per run, want 0", allocs)
	}
	if c := cap(r.log.Load().q); c > 32 {
		t.Fatalf("the log of 3 live waits has grown to %d entries", c)
	}
}

// TestEndAll: a broadcast ends every live wait at once, with the one given
// up before it counted once, and an armed slow-wait report of an ended wait
// never fires.
func TestEndAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r Recorder
		r.EndAll() // nothing yet: nothing to do
		owner := unsafe.Pointer(&r)
		h := &logtest.Records{}
		SetSlowWait(5*time.Second, slog.New(h))
		defer SetSlowWait(0, nil)
		r.Begin(owner, testKind)
		time.Sleep(time.Second)
		quitter := r.Begin(owner, testKind)
		time.Sleep(time.Second)
		r.Begin(owner, testKind)
		r.End(quitter, true) // waited 1s
		time.Sleep(time.Second)
		r.EndAll() // the others waited 3s and 1s
		want := Counts{Waits: 3, GaveUp: 1, WaitTime: 5 * time.Second}
		if c := r.Counts(); c != want {
			t.Fatalf("after EndAll: Counts = %+v, want %+v", c, want)
		}
		w := r.Begin(owner, testKind) // the next generation
		time.Sleep(2 * time.Second)
		if c := r.Counts(); c.Waiters != 1 || c.OldestWait != 2*time.Second {
			t.Fatalf("next generation: Counts = %+v", c)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := h.Len(); n != 1 {
			t.Fatalf("%d slow-wait reports, want 1: the waits ended by EndAll are not reported", n)
		}
		r.End(w, false)
	})
}
