// Command report runs coord's benchmarks, and the same workloads on CPython
// asyncio when python3 is present, and writes BENCHMARKS.md at the root of
// the repository: the machine, coord against its anchors with the ratios
// and target verdicts, the scaling curves (with an SVG chart), coord
// against asyncio, and a CPU/block/mutex profile of coord.Mutex under
// contention.
//
// From the repository root:
//
//	go run ./bench/cmd/report
//
// takes about six minutes on two cores. Flags change the number of runs
// (-count, the report shows medians), their length (-benchtime), which
// benchmarks run (-bench), and let it re-render from saved output without
// running anything (-in, -asyncio-in).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/coordkit/coord/bench/internal/report"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("report: ")
	var (
		count      = flag.Int("count", 5, "runs of each benchmark; the report keeps the median")
		benchtime  = flag.String("benchtime", "500ms", "go test -benchtime for each run")
		benchRe    = flag.String("bench", ".", "go test -bench: which benchmarks to run")
		out        = flag.String("out", "BENCHMARKS.md", "the report, relative to the repository root")
		raw        = flag.String("raw", "bench/results.txt", "where to keep the raw benchmark output (benchstat reads it), relative to the root")
		chart      = flag.String("chart", "bench/scaling.svg", "the scaling chart, relative to the root (.svg or .png)")
		in         = flag.String("in", "", "read benchmark output from this file instead of running the benchmarks")
		python     = flag.String("python", "python3", "the Python interpreter for bench/asyncio_bench.py (\"\" to skip)")
		asyncioIn  = flag.String("asyncio-in", "", "read asyncio_bench.py's JSON from this file instead of running it")
		asyncioOut = flag.String("asyncio-out", "bench/asyncio_results.json", "where to keep asyncio_bench.py's JSON, relative to the root")
		profile    = flag.Bool("profile", true, "profile coord.Mutex under contention and summarise the profiles")
		timeout    = flag.Duration("timeout", 20*time.Minute, "give up after this long")
	)
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	root, err := repoRoot()
	if err != nil {
		log.Fatal(err)
	}
	start := time.Now()

	// 1. The Go benchmarks, compiled once and run -count times over: one
	// whole pass after another rather than go test -count, which repeats
	// each benchmark back to back. Passes interleave coord and its anchors
	// in time, so a burst of load from elsewhere on the machine lands on
	// all of them alike instead of on five runs of one. A burst can still
	// hit coord's sub-benchmark in one pass and not its anchor's, seconds
	// later: the report takes each ratio within a pass and keeps the
	// median over the passes (report.Run.PairedRatio), which the header
	// each pass prints lets it tell apart.
	//
	// asyncio_bench.py runs once after each pass, with one repeat, and the
	// report keeps the median of those runs: asyncio's numbers are then
	// taken across the same stretch of time, and the same load, as coord's.
	py := newAsyncioRunner(*python, *asyncioIn)
	var output []byte
	if *in != "" {
		if output, err = os.ReadFile(*in); err != nil {
			log.Fatal(err)
		}
		py.run(ctx, root) // once, with the script's own repeats
	} else {
		if output, err = runPasses(ctx, root, *count, *benchRe, *benchtime, func() { py.run(ctx, root, "--repeat", "1") }); err != nil {
			log.Fatalf("benchmarks failed: %v", err)
		}
		if err := os.WriteFile(at(root, *raw), output, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	res, err := report.Parse(bytes.NewReader(output))
	if err != nil {
		log.Fatal(err)
	}

	// Rendering saved output: describe the runs it holds, not the flags.
	if *in != "" {
		if bt := res.Config["benchtime"]; bt != "" {
			*benchtime = bt
		}
		*count = res.Passes()
	}
	goTest := []string{"test", "-run", "^$", "-bench", *benchRe, "-benchtime", *benchtime, "-benchmem", "./bench"}
	doc := &report.Doc{
		Command:   "go run ./bench/cmd/report",
		GoTest:    "go " + quoteArgs(goTest),
		Count:     *count,
		Benchtime: *benchtime,
		RawPath:   relTo(*out, *raw),
		Machine:   machine(ctx, root, res),
		Notes:     notes,
	}
	if *in != "" {
		doc.RawPath = relTo(*out, *in)
	}
	doc.Rows = report.Rows(res, report.Workloads)
	doc.Curves = report.Curves(res, report.Families)

	// 2. The chart of the scaling curves.
	if len(doc.Curves) > 0 && *chart != "" {
		var img bytes.Buffer
		if err := report.WriteChart(&img, doc.Curves, strings.TrimPrefix(filepath.Ext(*chart), ".")); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(at(root, *chart), img.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
		doc.ChartPath = relTo(*out, *chart)
	}

	// 3. asyncio.
	doc.Asyncio, doc.AsyncioNote = py.result(root, *asyncioOut)
	if doc.Asyncio != nil {
		doc.AsyncioRows = report.AsyncioRows(res, doc.Asyncio, report.AsyncioWorkloads)
		doc.AsyncioRemarks = asyncioRemarks
	}

	// 4. A profile of coord.Mutex under contention.
	if *profile {
		p, err := profileMutex(ctx, root)
		if err != nil {
			log.Printf("profiling failed, the report will have no profile: %v", err)
		} else {
			doc.Profile = p
		}
	}

	if err := os.WriteFile(at(root, *out), report.Render(doc), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s in %v", *out, time.Since(start).Round(time.Second))
}

// runPasses compiles the benchmarks and runs them count times, returning
// the concatenated output.
// After each pass it calls between.
func runPasses(ctx context.Context, root string, count int, bench, benchtime string, between func()) ([]byte, error) {
	dir, err := os.MkdirTemp("", "coord-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bench.test")
	if _, err := run(ctx, root, nil, "go", "test", "-c", "-o", bin, "./bench"); err != nil {
		return nil, fmt.Errorf("compiling the benchmarks: %v", err)
	}
	// A configuration line in the benchmark format, so that a report
	// rendered later from this output (-in) can say how it was taken.
	all := []byte(fmt.Sprintf("benchtime: %s\n", benchtime))
	for i := range count {
		log.Printf("pass %d of %d: -bench %s -benchtime %s", i+1, count, bench, benchtime)
		out, err := run(ctx, filepath.Join(root, "bench"), os.Stderr, bin,
			"-test.run", "^$", "-test.bench", bench, "-test.benchtime", benchtime, "-test.count", "1",
			"-test.benchmem") // the allocs/op column, for every benchmark
		if err != nil {
			return nil, err
		}
		all = append(all, out...)
		between()
	}
	return all, nil
}

// repoRoot returns the directory holding go.work, from the working
// directory upwards.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "bench", "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the coord repository (no go.work with a bench module above the working directory)")
		}
		dir = parent
	}
}

// at resolves a path given relative to the repository root.
func at(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

// run runs a command in dir, copying its stdout to progress as it comes,
// and returns that output. Its stderr goes to ours.
func run(ctx context.Context, dir string, progress io.Writer, name string, args ...string) ([]byte, error) {
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout = &buf
	if progress != nil {
		cmd.Stdout = io.MultiWriter(&buf, progress)
	}
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	return buf.Bytes(), err
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$*|() ") {
			a = "'" + a + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// relTo returns target (relative to the root) as a path relative to the
// directory of doc (also relative to the root), with forward slashes.
func relTo(doc, target string) string {
	r, err := filepath.Rel(filepath.Dir(doc), target)
	if err != nil {
		return filepath.ToSlash(target)
	}
	return filepath.ToSlash(r)
}

func machine(ctx context.Context, root string, res *report.Run) report.Machine {
	m := report.Machine{
		CPU:        res.Config["cpu"],
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: res.Procs,
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		Date:       time.Now().UTC().Format("2006-01-02 15:04 MST"),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := run(ctx, root, nil, "go", "env", "GOVERSION"); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	if m.CPU == "" {
		m.CPU = "unknown"
	}
	return m
}

// An asyncioRunner runs bench/asyncio_bench.py, or reads its saved output,
// and merges the runs.
type asyncioRunner struct {
	in     string // saved output to read instead of running
	python string // the interpreter's path; "" if none
	note   string // why there are no results, once that is known
	runs   []*report.Asyncio
}

func newAsyncioRunner(python, in string) *asyncioRunner {
	r := &asyncioRunner{in: in}
	switch {
	case in != "":
	case python == "":
		r.note = "skipped (-python \"\")."
	default:
		path, err := exec.LookPath(python)
		if err != nil {
			r.note = fmt.Sprintf("%s is not installed here.", python)
		}
		r.python = path
	}
	return r
}

// run runs the script once with args, unless it has failed before or is
// not to be run.
func (r *asyncioRunner) run(ctx context.Context, root string, args ...string) {
	if r.in != "" || r.python == "" || r.note != "" {
		return
	}
	log.Printf("running %s bench/asyncio_bench.py %s", r.python, strings.Join(args, " "))
	out, err := run(ctx, root, nil, r.python, append([]string{filepath.Join("bench", "asyncio_bench.py")}, args...)...)
	if err != nil {
		r.note = fmt.Sprintf("bench/asyncio_bench.py failed: %v.", err)
		return
	}
	var a report.Asyncio
	if err := json.Unmarshal(out, &a); err != nil {
		r.note = fmt.Sprintf("could not read asyncio_bench.py's output: %v.", err)
		return
	}
	r.runs = append(r.runs, &a)
}

// result returns the merged results (saving them to out, relative to the
// root) or the saved ones, or nil and the reason there are none.
func (r *asyncioRunner) result(root, out string) (*report.Asyncio, string) {
	if r.in != "" {
		b, err := os.ReadFile(r.in)
		if err != nil {
			return nil, err.Error()
		}
		var a report.Asyncio
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, fmt.Sprintf("could not read %s: %v.", r.in, err)
		}
		return &a, ""
	}
	if r.note != "" {
		return nil, r.note
	}
	m := report.MergeAsyncio(r.runs)
	if m == nil {
		return nil, "bench/asyncio_bench.py was not run."
	}
	if out != "" {
		b, err := json.MarshalIndent(m, "", " ")
		if err == nil {
			err = os.WriteFile(at(root, out), append(b, '\n'), 0o644)
		}
		if err != nil {
			log.Print(err)
		}
	}
	return m, ""
}

// profileMutex profiles BenchmarkMutexContended/coord and returns the top
// entries of its CPU, block and mutex profiles.
func profileMutex(ctx context.Context, root string) (*report.Profile, error) {
	dir, err := os.MkdirTemp("", "coord-profile-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	const bench = "MutexContended/coord$"
	bin := filepath.Join(dir, "bench.test")
	args := []string{"test", "-run", "^$", "-bench", bench, "-benchtime", "2s", "-o", bin,
		"-cpuprofile", "cpu.out", "-blockprofile", "block.out", "-mutexprofile", "mutex.out",
		"-outputdir", dir, "./bench"}
	log.Printf("profiling: go %s", strings.Join(args, " "))
	if _, err := run(ctx, root, os.Stderr, "go", args...); err != nil {
		return nil, err
	}
	p := &report.Profile{
		Bench: "BenchmarkMutexContended/coord",
		Commands: []string{
			"go " + quoteArgs(args),
		},
		Summary: profileSummary,
	}
	top := func(file string, extra ...string) (string, error) {
		a := append([]string{"tool", "pprof", "-top", "-nodecount=12"}, extra...)
		a = append(a, bin, filepath.Join(dir, file))
		out, err := run(ctx, root, nil, "go", a...)
		return trimPprof(string(out)), err
	}
	if p.CPUTop, err = top("cpu.out"); err != nil {
		return nil, err
	}
	if p.BlockTop, err = top("block.out"); err != nil {
		return nil, err
	}
	if p.MutexTop, err = top("mutex.out"); err != nil {
		return nil, err
	}
	return p, nil
}

// trimPprof drops the lines of pprof's header that name temporary files
// or change from run to run without meaning anything.
func trimPprof(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "File: ") || strings.HasPrefix(line, "Build ID: ") || strings.HasPrefix(line, "Time: ") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}
