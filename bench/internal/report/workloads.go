package report

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A Workload is one row of the main table: a benchmark whose sub-benchmarks
// are "coord" and one per anchor.
type Workload struct {
	Bench   string   // benchmark name without "Benchmark", e.g. "MutexContended"
	Title   string   // what the row is called in the table
	Op      string   // what one op is
	Anchors []string // sub-benchmark names of the anchors, in column order
	// Targets are the bounds the issues set on the row, at most one per
	// anchor, each against one of Anchors; none when no issue sets one.
	// A row with two must meet both: each is judged and counted on its own.
	Targets []Target
}

// A Target is a bound on the ratio of coord's time to one anchor's.
type Target struct {
	Anchor string
	Max    float64
}

// Workloads are the rows of BENCHMARKS.md, in order, with the targets of
// the core issue, and the second bound a later issue put on the Semaphore
// row: at or below the channel semaphore as well as semaphore.Weighted.
var Workloads = []Workload{
	{Bench: "MutexUncontended", Title: "Mutex, uncontended", Op: "Lock+Unlock",
		Anchors: []string{"sync", "chan", "xsync-weighted"}, Targets: []Target{{"sync", 1.5}}},
	{Bench: "MutexUncontendedCancellable", Title: "Mutex, uncontended, cancellable ctx", Op: "Lock+Unlock",
		Anchors: []string{"xsync-weighted", "chan"}, Targets: []Target{{"xsync-weighted", 1.0}}},
	{Bench: "MutexContended", Title: "Mutex, contended (8 goroutines per P)", Op: "Lock+Unlock",
		Anchors: []string{"sync", "chan", "xsync-weighted"}, Targets: []Target{{"sync", 2.0}}},
	{Bench: "MutexHandoff100", Title: "Mutex, handoff among 100 goroutines", Op: "Lock+yield+Unlock",
		Anchors: []string{"sync", "chan", "xsync-weighted"}, Targets: []Target{{"sync", 2.0}}},
	{Bench: "CancelledWait/expired", Title: "Lock on a held mutex, ctx already done", Op: "failed Lock",
		Anchors: []string{"xsync-weighted", "chan"}},
	{Bench: "CancelledWait/soon", Title: "Lock on a held mutex, ctx cancelled meanwhile", Op: "failed Lock",
		Anchors: []string{"xsync-weighted", "chan"}},
	{Bench: "RWMutexUncontendedRead", Title: "RWMutex, uncontended reads", Op: "RLock+RUnlock",
		Anchors: []string{"sync", "xsync-weighted"}, Targets: []Target{{"sync", 1.5}}},
	{Bench: "RWMutexUncontendedWrite", Title: "RWMutex, uncontended writes", Op: "Lock+Unlock",
		Anchors: []string{"sync", "xsync-weighted"}, Targets: []Target{{"sync", 1.5}}},
	{Bench: "RWMutexReadMostly", Title: "RWMutex, read-mostly (8 goroutines per P, 1 write in 100)", Op: "RLock+RUnlock or Lock+Unlock",
		Anchors: []string{"sync", "xsync-weighted"}, Targets: []Target{{"sync", 2.0}}},
	{Bench: "EventBroadcast1000", Title: "Event, broadcast to 1000 waiters", Op: "round",
		Anchors: []string{"close-chan", "sync-cond"}, Targets: []Target{{"close-chan", 1.5}}},
	{Bench: "EventWaitSet", Title: "Event, Wait when already set", Op: "Wait",
		Anchors: []string{"close-chan", "close-chan-select-ctx"}},
	{Bench: "CondBoundedBuffer1", Title: "Cond, bounded buffer (1 producer, 1 consumer, cap 1)", Op: "item",
		Anchors: []string{"sync-cond"}, Targets: []Target{{"sync-cond", 1.5}}},
	{Bench: "CondBoundedBuffer3", Title: "Cond, bounded buffer (1 producer, 1 consumer, cap 3)", Op: "item",
		Anchors: []string{"sync-cond"}, Targets: []Target{{"sync-cond", 1.5}}},
	{Bench: "CondBoundedBuffer", Title: "Cond, bounded buffer (1 producer, 1 consumer, cap 8)", Op: "item",
		Anchors: []string{"sync-cond"}, Targets: []Target{{"sync-cond", 1.5}}},
	{Bench: "CondBoundedBuffer1Cancellable", Title: "Cond, bounded buffer, cap 1, cancellable ctx", Op: "item",
		Anchors: []string{"sync-cond"}},
	{Bench: "SemaphoreTenOf1000", Title: "Semaphore, 10 permits, 1000 goroutines", Op: "Acquire+yield+Release",
		Anchors: []string{"xsync-weighted", "chan"}, Targets: []Target{{"xsync-weighted", 1.0}, {"chan", 1.0}}},
	{Bench: "SemaphoreUncontended", Title: "Semaphore, uncontended", Op: "Acquire+Release",
		Anchors: []string{"xsync-weighted", "chan"}},
	{Bench: "RateLimiterAllow", Title: "RateLimiter.Allow, admitted", Op: "Allow",
		Anchors: []string{"xtime-rate"}},
	{Bench: "RateLimiterAllowRefused", Title: "RateLimiter.Allow, refused", Op: "Allow",
		Anchors: []string{"xtime-rate"}},
	{Bench: "RateLimiterWait", Title: "RateLimiter.Wait, admitted at once", Op: "Wait",
		Anchors: []string{"xtime-rate"}},
	{Bench: "RateLimiterWaitPaced", Title: "RateLimiter.Wait at 100 per ms (ideal 10 000 ns)", Op: "Wait",
		Anchors: []string{"xtime-rate"}},
	{Bench: "TaskGroup", Title: "TaskGroup, Go+Wait of 100 tasks", Op: "group",
		Anchors: []string{"errgroup", "waitgroup"}},
	{Bench: "QueueSPSC", Title: "Queue, 1 producer 1 consumer, cap 128", Op: "item",
		Anchors: []string{"chan", "chan-select-ctx"}, Targets: []Target{{"chan", 2.0}}},
	{Bench: "QueueTryPutGet", Title: "Queue, TryPut+TryGet in one goroutine", Op: "item",
		Anchors: []string{"chan"}},
	{Bench: "BarrierRound", Title: "Barrier, round of 4 parties", Op: "round",
		Anchors: []string{"waitgroup-rounds"}},
}

// A Row is a workload's measured medians, ratios and verdicts.
type Row struct {
	Workload
	Coord       Summary
	CoordAllocs Summary // allocs/op; N is 0 when the run did not report allocations
	Cells       []Cell  // one per anchor, in the workload's order
	// Verdict sums up the verdicts of the row's targets (the cells'):
	// Missed if any target is missed, NotMeasured if none could be
	// measured, Met otherwise, NoTarget for a row without targets.
	Verdict Verdict
}

// A Cell is one anchor's median, coord's ratio to it, and the verdict on
// the row's target against that anchor, if it has one.
type Cell struct {
	Anchor  string
	Time    Summary
	Allocs  Summary // allocs/op, as Row.CoordAllocs
	Ratio   float64 // coord's time over the anchor's, pass by pass (Run.PairedRatio); NaN if either is missing
	Target  *Target // the row's target against this anchor; nil for none
	Verdict Verdict // Ratio judged against Target; NoTarget when Target is nil
}

// A Verdict says whether a target was met.
type Verdict string

const (
	Met         Verdict = "met"
	Missed      Verdict = "missed"
	NoTarget    Verdict = ""
	NotMeasured Verdict = "not measured"
)

// Ratio returns a/b, the ratio of coord's time to an anchor's (below 1:
// coord is faster), or NaN when either is not positive.
func Ratio(a, b float64) float64 {
	if !(a > 0) || !(b > 0) {
		return math.NaN()
	}
	return a / b
}

// PairedRatio returns the ratio of benchmark a's values in unit to b's,
// taken pass by pass: the median, over the passes in which both have a
// sample, of a's value in that pass over b's (each the median of the
// pass's samples, should a pass hold several). The passes run one after
// another on a shared machine, and a burst of load from elsewhere can
// land on a in one pass and not on b; a ratio taken within each pass
// leaves that pass an outlier among the ratios, which the median then
// ignores, where a ratio of the medians over all passes mixes times taken
// under different loads. Output with no pass in which both ran (a single
// go test -count N has one pass, so there the two ways agree) falls back
// to the ratio of the medians. It is NaN when either has no sample.
func (r *Run) PairedRatio(a, b, unit string) float64 {
	if ratio := pairedRatio(r.passMedians(a, unit), r.passMedians(b, unit)); !math.IsNaN(ratio) {
		return ratio
	}
	sa, okA := r.Summarize(a, unit)
	sb, okB := r.Summarize(b, unit)
	if !okA || !okB {
		return math.NaN()
	}
	return Ratio(sa.Median, sb.Median)
}

// pairedRatio returns the median over the passes in both a and b (pass
// to value) of a's value over b's, or NaN when no pass has a ratio.
func pairedRatio(a, b map[int]float64) float64 {
	var rs []float64
	for pass, va := range a {
		if vb, ok := b[pass]; ok {
			if r := Ratio(va, vb); !math.IsNaN(r) {
				rs = append(rs, r)
			}
		}
	}
	return Median(rs)
}

// Judge returns the verdict on a ratio against a target: met when the
// ratio is at most max, NotMeasured when it is NaN.
func Judge(ratio, max float64) Verdict {
	switch {
	case math.IsNaN(ratio):
		return NotMeasured
	case ratio <= max:
		return Met
	default:
		return Missed
	}
}

// Overall sums up verdicts on the targets of one row: Missed if any is
// missed, NotMeasured if none was measured, Met otherwise (some met, the
// rest not measured), and NoTarget for none at all.
func Overall(vs ...Verdict) Verdict {
	if len(vs) == 0 {
		return NoTarget
	}
	v := NotMeasured
	for _, x := range vs {
		switch x {
		case Missed:
			return Missed
		case Met:
			v = Met
		}
	}
	return v
}

// Rows computes the table rows of the workloads from run, using medians of
// ns/op for the times and PairedRatio of ns/op for the ratios. A workload none of whose benchmarks ran is left out. A target
// against an anchor the workload does not have, or a second target against
// one anchor, is a mistake in ws and panics: it would have no cell to be
// shown and judged in.
func Rows(run *Run, ws []Workload) []Row {
	var rows []Row
	for _, w := range ws {
		targets := map[string]*Target{}
		for _, t := range w.Targets {
			if !slices.Contains(w.Anchors, t.Anchor) {
				panic(fmt.Sprintf("coord: report: workload %s has a target against %q, which is not one of its anchors", w.Bench, t.Anchor))
			}
			if targets[t.Anchor] != nil {
				panic(fmt.Sprintf("coord: report: workload %s has two targets against %q", w.Bench, t.Anchor))
			}
			targets[t.Anchor] = &t // this iteration's own t (Go 1.22 loop variables)
		}
		row := Row{Workload: w}
		c, haveCoord := run.Summarize(w.Bench+"/coord", "ns/op")
		row.Coord = c
		row.CoordAllocs, _ = run.Summarize(w.Bench+"/coord", "allocs/op")
		any := haveCoord
		var verdicts []Verdict
		for _, a := range w.Anchors {
			t, ok := run.Summarize(w.Bench+"/"+a, "ns/op")
			any = any || ok
			cell := Cell{Anchor: a, Time: t, Ratio: math.NaN()}
			cell.Allocs, _ = run.Summarize(w.Bench+"/"+a, "allocs/op")
			if ok && haveCoord {
				cell.Ratio = run.PairedRatio(w.Bench+"/coord", w.Bench+"/"+a, "ns/op")
			}
			if tg := targets[a]; tg != nil {
				cell.Target = tg
				cell.Verdict = Judge(cell.Ratio, tg.Max)
				verdicts = append(verdicts, cell.Verdict)
			}
			row.Cells = append(row.Cells, cell)
		}
		if !any {
			continue
		}
		row.Verdict = Overall(verdicts...)
		rows = append(rows, row)
	}
	return rows
}

// A Family is one set of scaling curves: BenchmarkScaling<Name>.
type Family struct {
	Name string // "Mutex": the benchmarks are ScalingMutex/waiters=N/impl
	// PerWaiter divides ns/op by the number of waiters (an Event op wakes
	// them all; a Mutex op is one acquisition whoever waits).
	PerWaiter bool
	Metric    string // what the plotted number is, for labels
}

// Families are the scaling curves of the report.
var Families = []Family{
	{Name: "Mutex", Metric: "ns per acquisition"},
	{Name: "Semaphore", Metric: "ns per acquisition"},
	{Name: "Event", PerWaiter: true, Metric: "ns per waiter woken"},
}

// A Curve is one implementation's scaling curve.
type Curve struct {
	Family Family
	Impl   string
	Points []Point // by increasing Waiters
	// Slope is the least-squares slope of log(ns) against log(waiters): 0
	// when the cost stays flat as waiters grow, 1 when it grows in
	// proportion (for a per-op cost, quadratic work overall).
	Slope float64
}

// A Point is the median cost at one number of waiters.
type Point struct {
	Waiters int
	Ns      float64
	// passes is the cost in each pass, by pass, so that Anchored can
	// compare curves pass by pass as PairedRatio does; nil for a point
	// made by hand, which Anchored compares by Ns.
	passes map[int]float64
}

var scalingName = regexp.MustCompile(`^Scaling([A-Za-z]+)/waiters=(\d+)/(.+)$`)

// Curves extracts the scaling curves of the families from run, coord first
// in each family, then the anchors by name.
func Curves(run *Run, fams []Family) []Curve {
	var out []Curve
	for _, f := range fams {
		byImpl := map[string][]Point{}
		for name := range run.Samples {
			m := scalingName.FindStringSubmatch(name)
			if m == nil || m[1] != f.Name {
				continue
			}
			n, _ := strconv.Atoi(m[2])
			s, ok := run.Summarize(name, "ns/op")
			if !ok || n < 1 {
				continue
			}
			v, passes := s.Median, run.passMedians(name, "ns/op")
			if f.PerWaiter {
				v /= float64(n)
				for p := range passes {
					passes[p] /= float64(n)
				}
			}
			byImpl[m[3]] = append(byImpl[m[3]], Point{Waiters: n, Ns: v, passes: passes})
		}
		impls := make([]string, 0, len(byImpl))
		for impl := range byImpl {
			impls = append(impls, impl)
		}
		slices.SortFunc(impls, func(a, b string) int {
			if a == "coord" || b == "coord" {
				return boolCmp(b == "coord", a == "coord")
			}
			return strings.Compare(a, b)
		})
		for _, impl := range impls {
			pts := byImpl[impl]
			slices.SortFunc(pts, func(a, b Point) int { return a.Waiters - b.Waiters })
			out = append(out, Curve{Family: f, Impl: impl, Points: pts, Slope: LogLogSlope(pts)})
		}
	}
	return out
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}

// LogLogSlope returns the least-squares slope of log(Ns) against
// log(Waiters), or NaN for fewer than two distinct points.
func LogLogSlope(pts []Point) float64 {
	var n, sx, sy, sxx, sxy float64
	for _, p := range pts {
		if p.Waiters < 1 || !(p.Ns > 0) {
			continue
		}
		x, y := math.Log(float64(p.Waiters)), math.Log(p.Ns)
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	d := n*sxx - sx*sx
	if n < 2 || d == 0 {
		return math.NaN()
	}
	return (n*sxy - sx*sy) / d
}

// Shape names what a slope means for a curve of per-op (or per-waiter)
// cost, with the power of n it amounts to: "flat" within ±0.05 (less than
// a 1.6x change over 10 000x the waiters), "falling" below that,
// "sublinear, n^0.27" up to 0.9, "linear, n^1.00" up to 1.1 (quadratic work
// overall), "superlinear, n^2.00" beyond. A curve that rises from 189 ns to
// 2272 ns over 1 to 10 000 waiters is sublinear, not flat: what makes it
// acceptable is that its anchor rises alike, which Anchored shows.
func Shape(slope float64) string {
	switch {
	case math.IsNaN(slope):
		return "n/a"
	case math.Abs(slope) < 0.05:
		return "flat"
	case slope < 0:
		return fmt.Sprintf("falling, n^%.2f", slope)
	case slope < 0.9:
		return fmt.Sprintf("sublinear, n^%.2f", slope)
	case slope < 1.1:
		return fmt.Sprintf("linear, n^%.2f", slope)
	default:
		return fmt.Sprintf("superlinear, n^%.2f", slope)
	}
}

// Anchored compares curve c, coord's, with the first anchor curve of its
// family in curves at the largest number of waiters both measured. It
// returns the ratio of c's cost to the anchor's there (taken pass by pass
// as PairedRatio does, or of the medians for points without passes), the
// anchor's name and that number of waiters; ok is false for an anchor's
// own curve, or when the family has no anchor with a point in common.
func Anchored(c Curve, curves []Curve) (ratio float64, anchor string, waiters int, ok bool) {
	if c.Impl != "coord" {
		return 0, "", 0, false
	}
	for _, a := range curves {
		if a.Family.Name != c.Family.Name || a.Impl == "coord" {
			continue
		}
		at := map[int]Point{}
		for _, p := range a.Points {
			at[p.Waiters] = p
		}
		for i := len(c.Points) - 1; i >= 0; i-- {
			p := c.Points[i]
			if ap, found := at[p.Waiters]; found {
				r := pairedRatio(p.passes, ap.passes)
				if math.IsNaN(r) {
					r = Ratio(p.Ns, ap.Ns)
				}
				return r, a.Impl, p.Waiters, !math.IsNaN(r)
			}
		}
		return 0, "", 0, false
	}
	return 0, "", 0, false
}

// An AsyncioWorkload ties a workload of bench/asyncio_bench.py to the Go
// benchmark that does the same thing.
type AsyncioWorkload struct {
	Python string // key in the script's JSON
	Bench  string // Go benchmark (coord's sub-benchmark), e.g. "MutexHandoff100/coord"
	Title  string
	// Anchor is the Go anchor of the same workload, e.g.
	// "MutexHandoff100/sync": how fast Go itself is at it, which bounds
	// what coord can reach against asyncio.
	Anchor string
}

// AsyncioGoal is how many times asyncio's ops/s coord should reach.
const AsyncioGoal = 20.0

// AsyncioWorkloads are the rows of the asyncio comparison.
var AsyncioWorkloads = []AsyncioWorkload{
	{"lock_uncontended", "MutexUncontended/coord", "Lock uncontended", "MutexUncontended/sync"},
	{"handoff_100", "MutexHandoff100/coord", "Lock handoff among 100", "MutexHandoff100/sync"},
	{"event_wake_1000", "EventBroadcast1000/coord", "Event wake of 1000 (rounds)", "EventBroadcast1000/close-chan"},
	{"cond_bounded_buffer", "CondBoundedBuffer/coord", "Condition bounded buffer (items)", "CondBoundedBuffer/sync-cond"},
	{"semaphore_10_of_1000", "SemaphoreTenOf1000/coord", "Semaphore 10 of 1000", "SemaphoreTenOf1000/xsync-weighted"},
}

// Asyncio is the JSON bench/asyncio_bench.py prints, or a merge of
// several of its runs.
type Asyncio struct {
	Python         string                   `json:"python"`
	Implementation string                   `json:"implementation"`
	Workloads      map[string]AsyncioResult `json:"workloads"`
}

// An AsyncioResult is one workload's rate.
type AsyncioResult struct {
	OpsPerSec float64   `json:"ops_per_sec"`
	Runs      []float64 `json:"runs,omitempty"` // the rates it is the median of
}

// MergeAsyncio merges runs of asyncio_bench.py into one result whose rate
// for each workload is the median of the runs' rates (the Runs field lists
// them). It returns nil for no runs.
func MergeAsyncio(runs []*Asyncio) *Asyncio {
	if len(runs) == 0 {
		return nil
	}
	m := &Asyncio{Python: runs[0].Python, Implementation: runs[0].Implementation, Workloads: map[string]AsyncioResult{}}
	rates := map[string][]float64{}
	for _, r := range runs {
		for name, w := range r.Workloads {
			rates[name] = append(rates[name], w.OpsPerSec)
		}
	}
	for name, rs := range rates {
		m.Workloads[name] = AsyncioResult{OpsPerSec: Median(rs), Runs: rs}
	}
	return m
}

// An AsyncioRow compares coord's throughput with asyncio's on one workload.
type AsyncioRow struct {
	AsyncioWorkload
	CoordOps, AsyncioOps float64 // ops per second
	Speedup              float64 // CoordOps / AsyncioOps
	Verdict              Verdict // against AsyncioGoal
	AnchorOps            float64 // ops per second of the Go anchor
	AnchorSpeedup        float64 // AnchorOps / AsyncioOps
}

// OpsPerSec converts a time per op in nanoseconds to ops per second (NaN
// for a non-positive time).
func OpsPerSec(nsPerOp float64) float64 {
	if !(nsPerOp > 0) {
		return math.NaN()
	}
	return 1e9 / nsPerOp
}

// AsyncioRows compares run with the asyncio results, one row per workload
// measured on either side.
func AsyncioRows(run *Run, py *Asyncio, ws []AsyncioWorkload) []AsyncioRow {
	var rows []AsyncioRow
	for _, w := range ws {
		r := AsyncioRow{AsyncioWorkload: w, CoordOps: math.NaN(), AsyncioOps: math.NaN(), AnchorOps: math.NaN()}
		if s, ok := run.Summarize(w.Bench, "ns/op"); ok {
			r.CoordOps = OpsPerSec(s.Median)
		}
		if s, ok := run.Summarize(w.Anchor, "ns/op"); ok {
			r.AnchorOps = OpsPerSec(s.Median)
		}
		if py != nil {
			if p, ok := py.Workloads[w.Python]; ok && p.OpsPerSec > 0 {
				r.AsyncioOps = p.OpsPerSec
			}
		}
		if math.IsNaN(r.CoordOps) && math.IsNaN(r.AsyncioOps) {
			continue
		}
		r.Speedup = r.CoordOps / r.AsyncioOps
		r.AnchorSpeedup = r.AnchorOps / r.AsyncioOps
		// Judge wants a ratio to stay under a bound; the goal is a
		// speedup of at least AsyncioGoal, i.e. goal/speedup <= 1.
		r.Verdict = Judge(AsyncioGoal/r.Speedup, 1)
		rows = append(rows, r)
	}
	return rows
}
