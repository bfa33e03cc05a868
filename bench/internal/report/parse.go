// Package report turns the output of coord's benchmarks (go test -bench,
// any -count) and of bench/asyncio_bench.py into BENCHMARKS.md: medians,
// ratios of coord to each anchor, target verdicts, scaling curves and the
// comparison with asyncio. It is the logic behind bench/cmd/report, kept
// apart from the running of commands so that tests can feed it fixed text.
package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A Run is the parsed output of one or more go test -bench runs.
type Run struct {
	// Config holds the "key: value" header lines go test prints
	// (goos, goarch, pkg, cpu).
	Config map[string]string
	// Samples maps a benchmark's name, without the "Benchmark" prefix and
	// the -GOMAXPROCS suffix ("MutexContended/coord"), to its measurements
	// in order of appearance, one per -count.
	Samples map[string][]Sample
	// Procs is the GOMAXPROCS suffix the benchmarks ran with (1 when
	// there was none, as go test omits "-1").
	Procs int
}

// Passes returns the largest number of samples of any one benchmark: the
// number of passes (or -count) the output holds. It counts samples, not
// headers, so that output of one go test -count N, which has a single
// header, still says N.
func (r *Run) Passes() int {
	n := 0
	for _, s := range r.Samples {
		n = max(n, len(s))
	}
	return n
}

// A Sample is one line of benchmark output.
type Sample struct {
	// Pass numbers the go test run the sample came from, from 0: the
	// header a run prints (goos:, goarch:, ...) after results of an
	// earlier run starts the next. Output with a single header, such as
	// that of one go test -count N, is all pass 0.
	Pass   int
	Iters  int
	Values map[string]float64 // unit ("ns/op", "B/op", "allocs/op", ...) to value
}

// procsSuffix is the "-N" go test appends to a benchmark's name when
// GOMAXPROCS is not 1. Only the last path element carries it.
var procsSuffix = regexp.MustCompile(`-(\d+)$`)

// Parse reads benchmark output in the Go benchmark format
// (golang.org/design/14313-benchmark-data): "key: value" configuration
// lines and "BenchmarkName-N  iters  value unit  value unit ..." result
// lines. Everything else (PASS, ok, log output) is skipped. It is an error
// for a line starting with "Benchmark" and looking like a result to be
// malformed, or for no result to be found.
//
// A configuration line that follows results starts a new pass (see
// Sample.Pass): bench/cmd/report concatenates one go test run per pass,
// each opening with its own header, and the configuration lines before
// the first result (its own "benchtime:" line, the first header) belong to
// the first pass.
func Parse(r io.Reader) (*Run, error) {
	run := &Run{Config: map[string]string{}, Samples: map[string][]Sample{}, Procs: 1}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	pass, inResults := 0, false
	for sc.Scan() {
		line++
		text := sc.Text()
		if k, v, ok := configLine(text); ok {
			if inResults {
				pass++
				inResults = false
			}
			run.Config[k] = v
			continue
		}
		f := strings.Fields(text)
		if len(f) < 2 || !strings.HasPrefix(f[0], "Benchmark") || len(f[0]) == len("Benchmark") {
			continue
		}
		iters, err := strconv.Atoi(f[1])
		if err != nil {
			// "BenchmarkX" followed by something that is not an iteration
			// count: a benchmark name echoed by -v, or a log line.
			continue
		}
		if len(f)%2 != 0 {
			return nil, fmt.Errorf("line %d: value without a unit: %q", line, text)
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if m := procsSuffix.FindStringSubmatch(name); m != nil {
			name = strings.TrimSuffix(name, m[0])
			run.Procs, _ = strconv.Atoi(m[1])
		}
		s := Sample{Pass: pass, Iters: iters, Values: map[string]float64{}}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: bad value %q: %v", line, f[i], err)
			}
			s.Values[f[i+1]] = v
		}
		run.Samples[name] = append(run.Samples[name], s)
		inResults = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(run.Samples) == 0 {
		return nil, fmt.Errorf("no benchmark results in the input")
	}
	return run, nil
}

// configLine reports whether text is a "key: value" configuration line
// with a lower-case key and no spaces in it, as go test prints them.
func configLine(text string) (key, value string, ok bool) {
	k, v, found := strings.Cut(text, ":")
	if !found || k == "" || strings.ContainsAny(k, " \t") || strings.HasPrefix(k, "Benchmark") {
		return "", "", false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", "", false
		}
	}
	return k, strings.TrimSpace(v), true
}

// A Summary is the median of a benchmark's samples of one unit, with the
// extremes, so that the report can show how noisy a number was.
type Summary struct {
	Median, Min, Max float64
	N                int
}

// Spread returns (Max-Min)/Median, the relative range of the samples, or 0
// for an empty summary.
func (s Summary) Spread() float64 {
	if s.N == 0 || s.Median == 0 {
		return 0
	}
	return (s.Max - s.Min) / s.Median
}

// Summarize returns the summary of the named benchmark's values in unit,
// and whether there was any.
func (r *Run) Summarize(name, unit string) (Summary, bool) {
	var vs []float64
	for _, s := range r.Samples[name] {
		if v, ok := s.Values[unit]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return Summary{}, false
	}
	return Summary{Median: Median(vs), Min: slices.Min(vs), Max: slices.Max(vs), N: len(vs)}, true
}

// passMedians returns the median of the named benchmark's values in unit
// within each pass that has any, by pass.
func (r *Run) passMedians(name, unit string) map[int]float64 {
	by := map[int][]float64{}
	for _, s := range r.Samples[name] {
		if v, ok := s.Values[unit]; ok {
			by[s.Pass] = append(by[s.Pass], v)
		}
	}
	m := make(map[int]float64, len(by))
	for p, vs := range by {
		m[p] = Median(vs)
	}
	return m
}

// Median returns the median of vs (the mean of the middle two for an even
// count), or NaN for none. vs is not modified.
func Median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}
