package report_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/coordkit/coord/bench/internal/report"
)

// passes builds raw output as bench/cmd/report writes it: its benchtime
// line, then one go test run per pass, each with its own header and
// closing lines. results maps a benchmark's name to its ns/op in each
// pass; a NaN leaves the benchmark out of that pass.
func passes(n int, results map[string][]float64) string {
	var b strings.Builder
	b.WriteString("benchtime: 500ms\n")
	for p := range n {
		b.WriteString("goos: linux\ngoarch: amd64\npkg: github.com/coordkit/coord/bench\ncpu: AMD EPYC\n")
		for name, vs := range results {
			if p < len(vs) && !math.IsNaN(vs[p]) {
				fmt.Fprintf(&b, "Benchmark%s-2 \t 1000 \t %g ns/op \t 0 B/op \t 0 allocs/op\n", name, vs[p])
			}
		}
		b.WriteString("PASS\nok  \tgithub.com/coordkit/coord/bench\t12.345s\n")
	}
	return b.String()
}

func TestParsePasses(t *testing.T) {
	run := parse(t, passes(3, map[string][]float64{
		"MutexUncontended/coord": {10, 20, 30},
		"MutexUncontended/sync":  {10, math.NaN(), 15},
	}))
	if n := run.Passes(); n != 3 {
		t.Errorf("Passes = %d, want 3", n)
	}
	if bt := run.Config["benchtime"]; bt != "500ms" {
		t.Errorf("benchtime = %q, want 500ms", bt)
	}
	var got []int
	for _, s := range run.Samples["MutexUncontended/coord"] {
		got = append(got, s.Pass)
	}
	if fmt.Sprint(got) != "[0 1 2]" {
		t.Errorf("coord's samples came from passes %v, want [0 1 2]", got)
	}
	// The anchor missing from the second pass does not shift the third.
	got = nil
	for _, s := range run.Samples["MutexUncontended/sync"] {
		got = append(got, s.Pass)
	}
	if fmt.Sprint(got) != "[0 2]" {
		t.Errorf("sync's samples came from passes %v, want [0 2]", got)
	}

	// One go test -count 3 prints one header: all of it is one pass.
	for _, s := range parse(t, fixture).Samples["MutexUncontended/coord"] {
		if s.Pass != 0 {
			t.Errorf("a sample of output with one header is in pass %d, want 0", s.Pass)
		}
	}
}

func TestPairedRatio(t *testing.T) {
	for _, tc := range []struct {
		name          string
		coord, anchor []float64
		want          float64
	}{
		// A burst on coord alone in the third pass: one outlier among
		// the per-pass ratios 1, 1, 10.
		{"burst on coord", []float64{10, 10, 100}, []float64{10, 10, 10}, 1},
		// Per pass 1.0, 0.5, 2.0: the median is 1.0, where the ratio of
		// the medians would be 20/15.
		{"median of ratios", []float64{10, 20, 30}, []float64{10, 40, 15}, 1},
		// A pass where the anchor did not run is left out: 1.0, 0.5, 2.0
		// again, not the 4th pass's 999.
		{"anchor missing from a pass", []float64{10, 20, 30, 999}, []float64{10, 40, 15, math.NaN()}, 1},
		// An even number of passes: the mean of the middle two, 0.5 and 1.
		{"even passes", []float64{10, 20, 30, 10}, []float64{10, 40, 15, 20}, 0.75},
	} {
		run := parse(t, passes(len(tc.coord), map[string][]float64{"X/coord": tc.coord, "X/anchor": tc.anchor}))
		if got := run.PairedRatio("X/coord", "X/anchor", "ns/op"); !near(got, tc.want) {
			t.Errorf("%s: PairedRatio = %v, want %v", tc.name, got, tc.want)
		}
	}

	// Output without pass boundaries (one header, -count 3) gives the
	// ratio of the medians, 12/8, not a pairing of the counts by order
	// (12/10, 10/8, 30/6: median 1.25).
	run := parse(t, fixture)
	if got := run.PairedRatio("MutexUncontended/coord", "MutexUncontended/sync", "ns/op"); !near(got, 1.5) {
		t.Errorf("without pass boundaries: PairedRatio = %v, want the ratio of medians 1.5", got)
	}
	// Nor with no header at all.
	run = parse(t, "BenchmarkX/coord-2 \t 10 \t 30 ns/op\nBenchmarkX/anchor-2 \t 10 \t 20 ns/op\nBenchmarkX/coord-2 \t 10 \t 10 ns/op\nBenchmarkX/anchor-2 \t 10 \t 5 ns/op\n")
	if got := run.PairedRatio("X/coord", "X/anchor", "ns/op"); !near(got, 20.0/12.5) {
		t.Errorf("without a header: PairedRatio = %v, want the ratio of medians %v", got, 20.0/12.5)
	}
	// No pass has both: the ratio of the medians, 20/40.
	run = parse(t, passes(4, map[string][]float64{
		"X/coord":  {10, 30, math.NaN(), math.NaN()},
		"X/anchor": {math.NaN(), math.NaN(), 40, 40},
	}))
	if got := run.PairedRatio("X/coord", "X/anchor", "ns/op"); !near(got, 0.5) {
		t.Errorf("no pass with both: PairedRatio = %v, want the ratio of medians 0.5", got)
	}
	// A pass holding several counts contributes the median of its own.
	run = parse(t, "goos: linux\nBenchmarkX/coord-2 \t 1 \t 10 ns/op\nBenchmarkX/coord-2 \t 1 \t 30 ns/op\nBenchmarkX/coord-2 \t 1 \t 20 ns/op\nBenchmarkX/anchor-2 \t 1 \t 10 ns/op\n"+
		"goos: linux\nBenchmarkX/coord-2 \t 1 \t 100 ns/op\nBenchmarkX/anchor-2 \t 1 \t 50 ns/op\nBenchmarkX/anchor-2 \t 1 \t 150 ns/op\n"+
		"goos: linux\nBenchmarkX/coord-2 \t 1 \t 5 ns/op\nBenchmarkX/anchor-2 \t 1 \t 1 ns/op\n")
	// Per pass 20/10, 100/100, 5/1: the median is 2.
	if got := run.PairedRatio("X/coord", "X/anchor", "ns/op"); !near(got, 2) {
		t.Errorf("several counts per pass: PairedRatio = %v, want 2", got)
	}
	if got := run.PairedRatio("X/coord", "Y/anchor", "ns/op"); !math.IsNaN(got) {
		t.Errorf("PairedRatio against a benchmark that did not run = %v, want NaN", got)
	}
}

// TestRowsPaired checks that the table's ratios, verdicts and the scaling
// column are taken pass by pass: coord 10, 20, 30 ns against 10, 40, 15 is
// 1.00x (the ratio of the medians, 1.33x, would miss the bound of 1.1).
func TestRowsPaired(t *testing.T) {
	raw := passes(3, map[string][]float64{
		"MutexUncontended/coord":        {10, 20, 30},
		"MutexUncontended/sync":         {10, 40, 15},
		"ScalingMutex/waiters=10/coord": {10, 20, 30},
		"ScalingMutex/waiters=10/sync":  {10, 40, 15},
		"ScalingEvent/waiters=10/coord": {100, 200, 300},
		"ScalingEvent/waiters=10/chan":  {100, 400, 150},
		"ScalingMutex/waiters=1/coord":  {5, 5, 5},
		"ScalingMutex/waiters=1/sync":   {5, 5, 5},
	})
	run := parse(t, raw)
	rows := report.Rows(run, []report.Workload{{
		Bench: "MutexUncontended", Title: "Mutex, uncontended", Op: "Lock+Unlock",
		Anchors: []string{"sync"}, Targets: []report.Target{{Anchor: "sync", Max: 1.1}},
	}})
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	c := rows[0].Cells[0]
	if !near(c.Ratio, 1) || c.Verdict != report.Met {
		t.Errorf("cell %+v: want ratio 1.0, met", c)
	}
	// The times stay medians over all the passes, with their spread.
	if rows[0].Coord.Median != 20 || c.Time.Median != 15 {
		t.Errorf("medians coord %v, sync %v; want 20, 15", rows[0].Coord.Median, c.Time.Median)
	}

	curves := report.Curves(run, report.Families)
	for _, c := range curves {
		if c.Impl != "coord" {
			continue
		}
		r, anchor, n, ok := report.Anchored(c, curves)
		if !ok || !near(r, 1) || n != 10 {
			t.Errorf("Anchored(%s/coord) = %v, %q, %d, %v; want 1.0 at 10", c.Family.Name, r, anchor, n, ok)
		}
	}

	doc := &report.Doc{Command: "report", GoTest: "go test", Count: 3, Rows: rows, Curves: curves}
	md := string(report.Render(doc))
	reportHas(t, md,
		"| Mutex, uncontended | Lock+Unlock | 20.0 ns ±50% | 0 | sync | 15.0 ns ±100% | 0 | 1.00x | ≤ 1.1x | **met** |",
		"**Targets: 1 of 1 met.**",
		"| 1.00x sync at 10 |",
		"the ratio within each pass",
	)

	// Hand-made points, without passes, are compared by their medians.
	mc := report.Curve{Family: report.Families[0], Impl: "coord", Points: []report.Point{{Waiters: 10, Ns: 20}}}
	ms := report.Curve{Family: report.Families[0], Impl: "sync", Points: []report.Point{{Waiters: 10, Ns: 15}}}
	if r, _, _, ok := report.Anchored(mc, []report.Curve{mc, ms}); !ok || !near(r, 20.0/15) {
		t.Errorf("Anchored of points without passes = %v, %v; want %v", r, ok, 20.0/15)
	}
}
