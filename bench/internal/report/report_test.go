package report_test

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/coordkit/coord/bench/internal/report"
)

// fixture is go test -bench output as it comes: a header, three counts of
// some benchmarks, noise that must be skipped, names whose anchors contain
// dashes, and the -2 GOMAXPROCS suffix.
const fixture = `goos: linux
goarch: amd64
pkg: github.com/coordkit/coord/bench
cpu: Intel(R) Xeon(R) Processor
BenchmarkMutexUncontended/coord-2         	100000000	        12.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMutexUncontended/coord-2         	100000000	        10.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMutexUncontended/coord-2         	100000000	        30.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMutexUncontended/sync-2          	100000000	        10.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMutexUncontended/sync-2          	100000000	         8.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMutexUncontended/sync-2          	100000000	         6.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkMutexUncontended/xsync-weighted-2	 50000000	        40.0 ns/op	       0 B/op	       0 allocs/op
    mutex_bench_test.go:12: some log line
BenchmarkMutexUncontendedCancellable/coord-2	 50000000	        25.0 ns/op
BenchmarkMutexUncontendedCancellable/xsync-weighted-2	 50000000	        20.0 ns/op
BenchmarkScalingEvent/waiters=10/coord-2    	   10000	     10000 ns/op
BenchmarkScalingEvent/waiters=100/coord-2   	    1000	    100000 ns/op
BenchmarkScalingEvent/waiters=1000/coord-2  	     100	   1000000 ns/op
BenchmarkScalingMutex/waiters=1/sync-2      	 1000000	       100 ns/op
BenchmarkScalingMutex/waiters=10/sync-2     	 1000000	      1000 ns/op
BenchmarkScalingMutex/waiters=1/coord-2     	 1000000	       100 ns/op
BenchmarkScalingMutex/waiters=100/coord-2   	 1000000	       100 ns/op
BenchmarkScalingMutex/waiters=10/coord-2    	 1000000	       100 ns/op
PASS
ok  	github.com/coordkit/coord/bench	12.345s
`

func parse(t *testing.T, s string) *report.Run {
	t.Helper()
	run, err := report.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return run
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestParse(t *testing.T) {
	run := parse(t, fixture)
	if got := run.Config["cpu"]; got != "Intel(R) Xeon(R) Processor" {
		t.Errorf("cpu = %q", got)
	}
	if got := run.Config["pkg"]; got != "github.com/coordkit/coord/bench" {
		t.Errorf("pkg = %q", got)
	}
	if run.Procs != 2 {
		t.Errorf("Procs = %d, want 2", run.Procs)
	}
	if n := len(run.Samples["MutexUncontended/coord"]); n != 3 {
		t.Errorf("MutexUncontended/coord has %d samples, want 3", n)
	}
	if n := run.Passes(); n != 3 {
		t.Errorf("Passes = %d, want 3", n)
	}
	// The dash inside the anchor's name stays; only the -2 goes.
	ws := run.Samples["MutexUncontended/xsync-weighted"]
	if len(ws) != 1 || ws[0].Values["ns/op"] != 40 || ws[0].Iters != 50000000 {
		t.Errorf("xsync-weighted samples = %+v", ws)
	}
	if v, ok := ws[0].Values["allocs/op"]; !ok || v != 0 {
		t.Errorf("allocs/op = %v, %v", v, ok)
	}
	for name := range run.Samples {
		if strings.HasPrefix(name, "Benchmark") || strings.HasSuffix(name, "-2") {
			t.Errorf("name %q keeps its prefix or suffix", name)
		}
	}
	if _, ok := run.Samples["mutex_bench_test.go"]; ok {
		t.Error("a log line was taken for a result")
	}
}

func TestParseWithoutProcsSuffix(t *testing.T) {
	// GOMAXPROCS=1: go test prints no suffix.
	run := parse(t, "BenchmarkQueueSPSC/chan-select-ctx \t 100 \t 50.5 ns/op\n")
	if run.Procs != 1 {
		t.Errorf("Procs = %d, want 1", run.Procs)
	}
	if s := run.Samples["QueueSPSC/chan-select-ctx"]; len(s) != 1 || s[0].Values["ns/op"] != 50.5 {
		t.Errorf("samples = %+v", run.Samples)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"PASS\nok  \tx\t1s\n",
		"BenchmarkX-2 \t 100 \t 5 ns/op \t 7\n", // value without unit
		"BenchmarkX-2 \t 100 \t five ns/op\n",   // bad value
	} {
		if _, err := report.Parse(strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q) succeeded", in)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{10, 10, 1000, 9, 11}, 10}, // an outlier does not move it
	} {
		in := append([]float64(nil), tc.in...)
		if got := report.Median(in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("Median modified its input: %v", in)
			}
		}
	}
	if got := report.Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
}

func TestSummarize(t *testing.T) {
	run := parse(t, fixture)
	s, ok := run.Summarize("MutexUncontended/coord", "ns/op")
	if !ok || s.Median != 12 || s.Min != 10 || s.Max != 30 || s.N != 3 {
		t.Errorf("Summarize = %+v, %v; want median 12, min 10, max 30, N 3", s, ok)
	}
	if got := s.Spread(); !near(got, 20.0/12) {
		t.Errorf("Spread = %v, want %v", got, 20.0/12)
	}
	if _, ok := run.Summarize("MutexUncontended/coord", "widgets/op"); ok {
		t.Error("Summarize found a unit nobody reported")
	}
	if _, ok := run.Summarize("NoSuchBenchmark", "ns/op"); ok {
		t.Error("Summarize found a benchmark that did not run")
	}
}

func TestRatioAndJudge(t *testing.T) {
	if got := report.Ratio(15, 10); got != 1.5 {
		t.Errorf("Ratio(15, 10) = %v", got)
	}
	for _, bad := range [][2]float64{{0, 1}, {1, 0}, {math.NaN(), 1}, {-1, 1}} {
		if got := report.Ratio(bad[0], bad[1]); !math.IsNaN(got) {
			t.Errorf("Ratio(%v, %v) = %v, want NaN", bad[0], bad[1], got)
		}
	}
	for _, tc := range []struct {
		ratio, max float64
		want       report.Verdict
	}{
		{1.5, 1.5, report.Met}, // the bound itself is met
		{1.49, 1.5, report.Met},
		{1.51, 1.5, report.Missed},
		{math.NaN(), 1.5, report.NotMeasured},
	} {
		if got := report.Judge(tc.ratio, tc.max); got != tc.want {
			t.Errorf("Judge(%v, %v) = %q, want %q", tc.ratio, tc.max, got, tc.want)
		}
	}
}

func TestRows(t *testing.T) {
	run := parse(t, fixture)
	ws := []report.Workload{
		{Bench: "MutexUncontended", Anchors: []string{"sync", "chan", "xsync-weighted"}, Targets: []report.Target{{Anchor: "sync", Max: 1.5}}},
		{Bench: "MutexUncontendedCancellable", Anchors: []string{"xsync-weighted"}, Targets: []report.Target{{Anchor: "xsync-weighted", Max: 1.0}}},
		{Bench: "EventBroadcast1000", Anchors: []string{"close-chan"}, Targets: []report.Target{{Anchor: "close-chan", Max: 1.5}}},
	}
	rows := report.Rows(run, ws)
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2 (a workload that did not run is left out)", len(rows))
	}
	r := rows[0]
	if len(r.Cells) != 3 {
		t.Fatalf("MutexUncontended has %d cells, want 3", len(r.Cells))
	}
	// Medians 12 (coord) and 8 (sync): 1.5, exactly the bound.
	if c := r.Cells[0]; r.Coord.Median != 12 || !near(c.Ratio, 1.5) || c.Target == nil || c.Target.Max != 1.5 || c.Verdict != report.Met || r.Verdict != report.Met {
		t.Errorf("MutexUncontended: coord %v, sync cell %+v, row verdict %q; want 12, 1.5 against ≤ 1.5 met, met", r.Coord.Median, c, r.Verdict)
	}
	if c := r.Cells[1]; c.Anchor != "chan" || c.Time.N != 0 || !math.IsNaN(c.Ratio) || c.Target != nil || c.Verdict != report.NoTarget {
		t.Errorf("chan cell = %+v; want no measurement, a NaN ratio and no target", c)
	}
	if c := r.Cells[2]; !near(c.Ratio, 12.0/40) || c.Target != nil || c.Verdict != report.NoTarget {
		t.Errorf("xsync-weighted cell = %+v; want ratio %v and no target", c, 12.0/40)
	}
	if r := rows[1]; !near(r.Cells[0].Ratio, 1.25) || r.Cells[0].Verdict != report.Missed || r.Verdict != report.Missed {
		t.Errorf("cancellable: cell %+v, row verdict %q; want 1.25 missed, missed", r.Cells[0], r.Verdict)
	}

	// Without the target's anchor the target is not measured, not met.
	noAnchor := parse(t, "BenchmarkQueueSPSC/coord-2 \t 10 \t 100 ns/op\n")
	rows = report.Rows(noAnchor, []report.Workload{{Bench: "QueueSPSC", Anchors: []string{"chan"}, Targets: []report.Target{{Anchor: "chan", Max: 2}}}})
	if len(rows) != 1 || rows[0].Verdict != report.NotMeasured || rows[0].Cells[0].Verdict != report.NotMeasured {
		t.Errorf("rows = %+v; want one, not measured", rows)
	}

	// A row without targets has no verdict at all.
	rows = report.Rows(run, []report.Workload{{Bench: "MutexUncontended", Anchors: []string{"sync"}}})
	if len(rows) != 1 || rows[0].Verdict != report.NoTarget || rows[0].Cells[0].Target != nil {
		t.Errorf("rows = %+v; want one without a target", rows)
	}
}

// twoTargets is a row bound against two anchors, as the Semaphore row is:
// 12 ns against sync's 8 ns (1.5x, over the bound of 1.0) and against
// semaphore.Weighted's 40 ns (0.3x, under it).
var twoTargets = report.Workload{
	Bench: "MutexUncontended", Title: "Mutex, uncontended", Op: "Lock+Unlock",
	Anchors: []string{"sync", "chan", "xsync-weighted"},
	Targets: []report.Target{{Anchor: "xsync-weighted", Max: 1.0}, {Anchor: "sync", Max: 1.0}},
}

func TestRowsTwoTargets(t *testing.T) {
	rows := report.Rows(parse(t, fixture), []report.Workload{twoTargets})
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	r := rows[0]
	// Each target is judged in its own anchor's cell, whatever the order
	// the targets were listed in.
	want := []struct {
		anchor  string
		max     float64
		ratio   float64
		verdict report.Verdict
	}{
		{"sync", 1.0, 1.5, report.Missed},
		{"chan", 0, math.NaN(), report.NoTarget},
		{"xsync-weighted", 1.0, 0.3, report.Met},
	}
	for i, w := range want {
		c := r.Cells[i]
		if c.Anchor != w.anchor || c.Verdict != w.verdict {
			t.Errorf("cell %d = %+v; want %s, %q", i, c, w.anchor, w.verdict)
		}
		if w.verdict == report.NoTarget {
			if c.Target != nil {
				t.Errorf("cell %d has target %+v; want none", i, *c.Target)
			}
			continue
		}
		if c.Target == nil || c.Target.Anchor != w.anchor || c.Target.Max != w.max || !near(c.Ratio, w.ratio) {
			t.Errorf("cell %d = %+v (target %v); want ratio %v against ≤ %v", i, c, c.Target, w.ratio, w.max)
		}
	}
	// One bound missed misses the row, though the other is met.
	if r.Verdict != report.Missed {
		t.Errorf("row verdict %q; want missed", r.Verdict)
	}
}

func TestOverall(t *testing.T) {
	const (
		met, missed, nm = report.Met, report.Missed, report.NotMeasured
	)
	for _, tc := range []struct {
		in   []report.Verdict
		want report.Verdict
	}{
		{nil, report.NoTarget},
		{[]report.Verdict{met}, met},
		{[]report.Verdict{missed}, missed},
		{[]report.Verdict{nm}, nm},
		{[]report.Verdict{met, met}, met},
		{[]report.Verdict{met, missed}, missed},
		{[]report.Verdict{missed, met}, missed},
		{[]report.Verdict{nm, missed}, missed},
		{[]report.Verdict{nm, nm}, nm},
		{[]report.Verdict{nm, met}, met},
	} {
		if got := report.Overall(tc.in...); got != tc.want {
			t.Errorf("Overall(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRowsBadTargets(t *testing.T) {
	run := parse(t, fixture)
	for _, w := range []report.Workload{
		{Bench: "MutexUncontended", Anchors: []string{"sync"}, Targets: []report.Target{{Anchor: "chan", Max: 1}}},
		{Bench: "MutexUncontended", Anchors: []string{"sync"}, Targets: []report.Target{{Anchor: "sync", Max: 1}, {Anchor: "sync", Max: 2}}},
		// Also for a workload that did not run: the table is wrong all the same.
		{Bench: "NoSuchBenchmark", Anchors: []string{"sync"}, Targets: []report.Target{{Anchor: "chan", Max: 1}}},
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "coord: ") {
					t.Errorf("Rows(%+v) panicked with %q; want a \"coord: \" panic", w, msg)
				}
			}()
			report.Rows(run, []report.Workload{w})
		}()
	}
}

// TestWorkloads checks the table of the report itself: every target is
// against one of its row's anchors (Rows would panic otherwise), and the
// Semaphore row is bound against both semaphore.Weighted and the channel.
func TestWorkloads(t *testing.T) {
	report.Rows(&report.Run{}, report.Workloads)
	var sem *report.Workload
	for i, w := range report.Workloads {
		if w.Bench == "SemaphoreTenOf1000" {
			sem = &report.Workloads[i]
		}
	}
	if sem == nil {
		t.Fatal("no SemaphoreTenOf1000 row")
	}
	want := []report.Target{{Anchor: "xsync-weighted", Max: 1.0}, {Anchor: "chan", Max: 1.0}}
	if !slices.Equal(sem.Targets, want) {
		t.Errorf("Semaphore targets %+v, want %+v", sem.Targets, want)
	}
}

func TestLogLogSlope(t *testing.T) {
	pts := func(f func(n float64) float64) []report.Point {
		var ps []report.Point
		for _, n := range []int{1, 10, 100, 1000, 10000} {
			ps = append(ps, report.Point{Waiters: n, Ns: f(float64(n))})
		}
		return ps
	}
	for _, tc := range []struct {
		name  string
		pts   []report.Point
		slope float64
		shape string
	}{
		{"flat", pts(func(float64) float64 { return 50 }), 0, "flat"},
		{"linear", pts(func(n float64) float64 { return 3 * n }), 1, "linear, n^1.00"},
		{"quadratic", pts(func(n float64) float64 { return n * n }), 2, "superlinear, n^2.00"},
		{"root", pts(func(n float64) float64 { return math.Pow(n, 0.7) }), 0.7, "sublinear, n^0.70"},
		// The Mutex curve of the November 2026 report, 189 ns to 2272 ns
		// over 1 to 10 000 waiters: it was called flat, and is not.
		{"slow rise", pts(func(n float64) float64 { return 189 * math.Pow(n, 0.27) }), 0.27, "sublinear, n^0.27"},
		{"falling", pts(func(n float64) float64 { return 1000 * math.Pow(n, -0.2) }), -0.2, "falling, n^-0.20"},
	} {
		got := report.LogLogSlope(tc.pts)
		if !near(got, tc.slope) {
			t.Errorf("%s: slope %v, want %v", tc.name, got, tc.slope)
		}
		if s := report.Shape(got); s != tc.shape {
			t.Errorf("%s: shape %q, want %q", tc.name, s, tc.shape)
		}
	}
	if got := report.LogLogSlope([]report.Point{{Waiters: 10, Ns: 5}}); !math.IsNaN(got) {
		t.Errorf("slope of one point = %v, want NaN", got)
	}
}

func TestCurves(t *testing.T) {
	run := parse(t, fixture)
	curves := report.Curves(run, report.Families)
	var names []string
	for _, c := range curves {
		names = append(names, c.Family.Name+"/"+c.Impl)
	}
	// Family order as given, coord first within a family, families with
	// no results left out.
	if got, want := strings.Join(names, " "), "Mutex/coord Mutex/sync Event/coord"; got != want {
		t.Fatalf("curves %q, want %q", got, want)
	}
	mc := curves[0]
	if len(mc.Points) != 3 || mc.Points[0].Waiters != 1 || mc.Points[1].Waiters != 10 || mc.Points[2].Waiters != 100 {
		t.Errorf("Mutex/coord points not sorted by waiters: %+v", mc.Points)
	}
	if !near(mc.Slope, 0) {
		t.Errorf("Mutex/coord slope %v, want 0", mc.Slope)
	}
	if !near(curves[1].Slope, 1) {
		t.Errorf("Mutex/sync slope %v, want 1", curves[1].Slope)
	}
	// Event ops wake every waiter: 10 000 ns for 10 waiters is 1000 ns each,
	// and the curve of the fixture is flat per waiter.
	ev := curves[2]
	for _, p := range ev.Points {
		if p.Ns != 1000 {
			t.Errorf("Event point %+v: want 1000 ns per waiter", p)
		}
	}
	if !near(ev.Slope, 0) {
		t.Errorf("Event slope %v, want 0", ev.Slope)
	}

	// coord's Mutex curve against sync's at the most waiters both have:
	// 100 ns against 1000 ns at 10.
	r, anchor, n, ok := report.Anchored(mc, curves)
	if !ok || !near(r, 0.1) || anchor != "sync" || n != 10 {
		t.Errorf("Anchored(Mutex/coord) = %v, %q, %d, %v; want 0.1, sync, 10, true", r, anchor, n, ok)
	}
	if _, _, _, ok := report.Anchored(curves[1], curves); ok {
		t.Error("Anchored of an anchor's own curve reported a comparison")
	}
	if _, _, _, ok := report.Anchored(ev, curves); ok {
		t.Error("Anchored of a family without anchors reported a comparison")
	}
}

func TestAsyncioRows(t *testing.T) {
	run := parse(t, fixture)
	var py report.Asyncio
	js := `{"python": "3.11.7", "implementation": "CPython", "workloads": {
		"lock_uncontended": {"ops_per_sec": 1000000, "ops": 5, "runs": [1]},
		"handoff_100": {"ops_per_sec": 50000}}}`
	if err := json.Unmarshal([]byte(js), &py); err != nil {
		t.Fatal(err)
	}
	rows := report.AsyncioRows(run, &py, report.AsyncioWorkloads)
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2: %+v", len(rows), rows)
	}
	// coord: median 12 ns/op = 83.3 M ops/s, 83.3x asyncio's 1 M/s.
	r := rows[0]
	if !near(r.CoordOps, 1e9/12) || r.AsyncioOps != 1e6 || !near(r.Speedup, 1e3/12) || r.Verdict != report.Met {
		t.Errorf("lock_uncontended row = %+v", r)
	}
	// sync.Mutex: median 8 ns/op, 125x asyncio.
	if !near(r.AnchorOps, 1e9/8) || !near(r.AnchorSpeedup, 125) {
		t.Errorf("lock_uncontended anchor: %v ops/s, %vx; want 1.25e8, 125x", r.AnchorOps, r.AnchorSpeedup)
	}
	// handoff_100 has no Go result in the fixture.
	if r := rows[1]; !math.IsNaN(r.CoordOps) || r.Verdict != report.NotMeasured {
		t.Errorf("handoff_100 row = %+v; want no coord number, not measured", r)
	}
	// A speedup under the goal is missed.
	slow := parse(t, "BenchmarkMutexUncontended/coord-2 \t 10 \t 100 ns/op\n")
	if r := report.AsyncioRows(slow, &py, report.AsyncioWorkloads)[0]; !near(r.Speedup, 10) || r.Verdict != report.Missed {
		t.Errorf("10x row = %+v; want missed", r)
	}
}

// reportHas fails t for each of wants that md lacks.
func reportHas(t *testing.T, md string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestRender(t *testing.T) {
	run := parse(t, fixture)
	doc := &report.Doc{
		Command: "go run ./bench/cmd/report",
		GoTest:  "go test -bench . ./bench",
		Count:   3,
		Machine: report.Machine{CPU: "Test CPU 9000", Cores: 2, GOMAXPROCS: 2, GoVersion: "go1.26", OS: "linux", Arch: "amd64", Date: "today"},
		Rows: report.Rows(run, []report.Workload{
			{Bench: "MutexUncontended", Title: "Mutex, uncontended", Op: "Lock+Unlock", Anchors: []string{"sync"}, Targets: []report.Target{{Anchor: "sync", Max: 1.0}}},
		}),
		Notes:       map[string]string{"MutexUncontended": "a note on the result"},
		Curves:      report.Curves(run, report.Families),
		ChartPath:   "bench/scaling.svg",
		AsyncioNote: "python3 is not installed here.",
		// Remarks belong to a table that is not there: not printed.
		AsyncioRemarks: "remarks on asyncio",
		Profile:        &report.Profile{Bench: "BenchmarkMutexContended/coord", CPUTop: "flat  flat%\n1s 50% coord.(*Mutex).lockSlow", Summary: "what it showed"},
	}
	md := string(report.Render(doc))
	if strings.Contains(md, "remarks on asyncio") {
		t.Error("asyncio remarks printed without asyncio results")
	}
	reportHas(t, md,
		"| CPU | Test CPU 9000 |",
		"| Mutex, uncontended | Lock+Unlock | 12.0 ns ±83% | 0 | sync | 8.00 ns ±25% | 0 | 1.50x | ≤ 1.0x | **MISSED** |",
		"**Targets: 0 of 1 met.** Missed: Mutex, uncontended (1.50x against sync, target ≤ 1.0x).",
		"- **Mutex, uncontended.** a note on the result",
		"![scaling curves](bench/scaling.svg)",
		"| Mutex coord | ns per acquisition |",
		"| 0.00 | flat | 0.10x sync at 10 |",
		"| Mutex sync | ns per acquisition | 100 ns | 1000 ns | — | — | 1.00 | linear, n^1.00 | — |",
		"Not run: python3 is not installed here.",
		"coord.(*Mutex).lockSlow",
		"what it showed",
		"go tool pprof",
	)
}

func TestRenderTwoTargets(t *testing.T) {
	run := parse(t, fixture)
	doc := &report.Doc{Command: "report", GoTest: "go test", Count: 3, Rows: report.Rows(run, []report.Workload{twoTargets})}
	md := string(report.Render(doc))
	reportHas(t, md,
		// Both bounds shown, each with its own result, in its anchor's cell.
		"| Mutex, uncontended | Lock+Unlock | 12.0 ns ±83% | 0 | sync | 8.00 ns ±25% | 0 | 1.50x | ≤ 1.0x | **MISSED** |\n",
		"|  |  |  |  | chan | — | — | — |  |  |\n",
		"|  |  |  |  | xsync-weighted | 40.0 ns | 0 | 0.30x | ≤ 1.0x | **met** |\n",
		// Each target counts: this one row is 1 of 2.
		"**Targets: 1 of 2 met.** Missed: Mutex, uncontended (1.50x against sync, target ≤ 1.0x).\n",
	)
	if strings.Contains(md, "against xsync-weighted") {
		t.Error("the met target is listed as missed")
	}

	// A target that could not be measured is shown as such and counted
	// neither way, as before; the row's other target still counts.
	doc.Rows = report.Rows(run, []report.Workload{twoTargets, {
		Bench: "MutexUncontendedCancellable", Title: "Mutex, cancellable", Op: "Lock+Unlock",
		Anchors: []string{"xsync-weighted", "chan"},
		Targets: []report.Target{{Anchor: "xsync-weighted", Max: 1.25}, {Anchor: "chan", Max: 1.0}},
	}})
	md = string(report.Render(doc))
	reportHas(t, md,
		"| Mutex, cancellable | Lock+Unlock | 25.0 ns | — | xsync-weighted | 20.0 ns | — | 1.25x | ≤ 1.25x | **met** |\n",
		"|  |  |  |  | chan | — | — | — | ≤ 1.0x | not measured |\n",
		"**Targets: 2 of 3 met.** Missed: Mutex, uncontended (1.50x against sync, target ≤ 1.0x).\n",
	)
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{report.FormatNs(9.123), "9.12 ns"},
		{report.FormatNs(12.34), "12.3 ns"},
		{report.FormatNs(1234), "1234 ns"},
		{report.FormatNs(12345), "12.3 µs"},
		{report.FormatNs(2.5e6), "2.50 ms"},
		{report.FormatNs(math.NaN()), "—"},
		{report.FormatRatio(1.234), "1.23x"},
		{report.FormatRatio(math.NaN()), "—"},
		{report.FormatRatio(250), "250x"},
		{report.FormatOps(2.5e6), "2.50 M/s"},
		{report.FormatOps(1500), "1.5 k/s"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestWriteChart(t *testing.T) {
	run := parse(t, fixture)
	var buf bytes.Buffer
	if err := report.WriteChart(&buf, report.Curves(run, report.Families), "svg"); err != nil {
		t.Fatal(err)
	}
	svg := buf.String()
	if !strings.Contains(svg, "<svg") || !strings.Contains(svg, "</svg>") {
		t.Errorf("not an SVG: %.200q", svg)
	}
	for _, label := range []string{"Mutex", "Event", "coord"} {
		if !strings.Contains(svg, label) {
			t.Errorf("chart lacks the label %q", label)
		}
	}
	buf.Reset()
	if err := report.WriteChart(&buf, report.Curves(run, report.Families), "png"); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\x89PNG")) {
		t.Errorf("not a PNG: %.20q", buf.Bytes())
	}
	if err := report.WriteChart(&buf, nil, "svg"); err == nil {
		t.Error("WriteChart with no curves succeeded")
	}
	if err := report.WriteChart(&buf, report.Curves(run, report.Families), "gif"); err == nil {
		t.Error("WriteChart in an unknown format succeeded")
	}
}

func TestMergeAsyncio(t *testing.T) {
	if report.MergeAsyncio(nil) != nil {
		t.Error("MergeAsyncio(nil) != nil")
	}
	run := func(lock, event float64) *report.Asyncio {
		a := &report.Asyncio{Python: "3.11.7", Implementation: "CPython", Workloads: map[string]report.AsyncioResult{
			"lock_uncontended": {OpsPerSec: lock},
		}}
		if event > 0 {
			a.Workloads["event_wake_1000"] = report.AsyncioResult{OpsPerSec: event}
		}
		return a
	}
	m := report.MergeAsyncio([]*report.Asyncio{run(300, 10), run(100, 0), run(200, 30)})
	if m.Python != "3.11.7" || m.Implementation != "CPython" {
		t.Errorf("interpreter = %q %q", m.Implementation, m.Python)
	}
	if w := m.Workloads["lock_uncontended"]; w.OpsPerSec != 200 || len(w.Runs) != 3 {
		t.Errorf("lock_uncontended = %+v; want the median 200 of 3 runs", w)
	}
	// A workload missing from one run is the median of the others.
	if w := m.Workloads["event_wake_1000"]; w.OpsPerSec != 20 || len(w.Runs) != 2 {
		t.Errorf("event_wake_1000 = %+v; want 20 from 2 runs", w)
	}
}
