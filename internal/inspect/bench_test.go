package inspect

import (
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// The costs a wired primitive pays, for the record of what looking costs.
// Run beside the anchor: BenchmarkAnchorAtomicAdd is one contended-free
// atomic add, the cheapest thing a fast path does.

var sink atomic.Int64

func BenchmarkAnchorAtomicAdd(b *testing.B) {
	for b.Loop() {
		sink.Add(1)
	}
}

// BenchmarkSlowWaitOnCheck is what a lock's fast path pays while reports
// are off: one load.
func BenchmarkSlowWaitOnCheck(b *testing.B) {
	SetSlowWait(0, nil)
	n := 0
	for b.Loop() {
		if SlowWaitOn() {
			n++
		}
	}
	sink.Add(int64(n))
}

// BenchmarkBeginEnd is what a wait that blocks pays, reports off and on
// (on: its call stack and a timer).
func BenchmarkBeginEnd(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run("slow="+strconv.FormatBool(on), func(b *testing.B) {
			SetSlowWait(0, nil)
			if on {
				SetSlowWait(time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
				defer SetSlowWait(0, nil)
			}
			var r Recorder
			owner := unsafe.Pointer(&r)
			b.ReportAllocs()
			for b.Loop() {
				r.End(r.Begin(owner, testKind), false)
			}
		})
	}
}

// BenchmarkBeginEndUnlooked is what a wait that blocks pays while nobody
// looks (see Looking), the case of every primitive that does not keep a
// Tally: one atomic add as it begins and one as it ends, on the Recorder's
// log. parallel: two goroutines per P share one Recorder, as the waiters of
// one primitive do, so the adds contend for its line.
func BenchmarkBeginEndUnlooked(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		b.Run("parallel="+strconv.FormatBool(parallel), func(b *testing.B) {
			SetSlowWait(0, nil)
			StopLooking()
			b.Cleanup(Look)
			var r Recorder
			owner := unsafe.Pointer(&r)
			b.ReportAllocs()
			if !parallel {
				for b.Loop() {
					r.End(r.Begin(owner, testKind), false)
				}
				return
			}
			b.SetParallelism(2)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r.End(r.Begin(owner, testKind), false)
				}
			})
			if Looking() {
				b.Fatal("looking turned on while the waits ran")
			}
		})
	}
}

// BenchmarkTookReleased is what every acquisition and release of a lock
// pays while reports are on.
func BenchmarkTookReleased(b *testing.B) {
	SetSlowWait(time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer SetSlowWait(0, nil)
	var r Recorder
	b.ReportAllocs()
	for b.Loop() {
		r.Took()
		r.Released()
	}
}

// BenchmarkCounts and BenchmarkNameOf are what a Stats call pays, with a
// thousand primitives registered.
func BenchmarkCounts(b *testing.B) {
	var r Recorder
	w := r.Begin(unsafe.Pointer(&r), testKind)
	defer r.End(w, false)
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Counts()
	}
}

// registerN registers n primitives under prefix, for as long as b runs.
func registerN(b *testing.B, prefix string, n int) []*struct {
	rec Recorder
	_   *int
} {
	prims := make([]*struct {
		rec Recorder
		_   *int
	}, n)
	for i := range prims {
		prims[i] = new(struct {
			rec Recorder
			_   *int
		})
		name := prefix + strconv.Itoa(i)
		Register("Register", name, prims[i])
		b.Cleanup(func() { Unregister(name) })
	}
	return prims
}

func BenchmarkNameOf(b *testing.B) {
	prims := registerN(b, "bench/", 1000)
	p := unsafe.Pointer(prims[500])
	b.ReportAllocs()
	for b.Loop() {
		if NameOf(p) != "bench/500" {
			b.Fatal("wrong name")
		}
	}
	runtime.KeepAlive(prims)
}

func BenchmarkLive1000(b *testing.B) {
	prims := registerN(b, "live/", 1000)
	b.ReportAllocs()
	for b.Loop() {
		if len(Live()) < 1000 {
			b.Fatal("lost some")
		}
	}
	runtime.KeepAlive(prims)
}
