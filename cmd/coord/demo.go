package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A scenario is one of the seed's examples, redone with coord. Each shows the
// problem the seed describes and coord's fix, in output a person can follow:
// the seed's own lines in the seed's words, and coord's explanations on lines
// of their own that start with "  # ".
type scenario struct {
	name    string
	summary string
	run     func(ctx context.Context, w io.Writer, opt demoOptions) error
}

// demoOptions are the flags of `coord demo` that change what a scenario does.
type demoOptions struct {
	seed bool // ratelimit: also run the seed's RateLimitedLogger beside coord's
}

// scenarios lists the demos in the order `coord demo` runs them, which is the
// order the seed introduces them in (the timeout last, from its FAQ).
var scenarios = []scenario{
	{"race", "lost updates on a shared counter without a lock; coord.Mutex makes the count exact",
		func(ctx context.Context, w io.Writer, _ demoOptions) error {
			_, err := demoRace(ctx, w)
			return err
		}},
	{"rlock", "a function that re-enters its lock: coord.ReentrantMutex completes, a plain Mutex deadlocks (caught by a deadline)",
		func(ctx context.Context, w io.Writer, _ demoOptions) error {
			_, err := demoRLock(ctx, w)
			return err
		}},
	{"event", "three waiters released at once by one coord.Event.Set",
		func(ctx context.Context, w io.Writer, _ demoOptions) error {
			_, err := demoEvent(ctx, w)
			return err
		}},
	{"condition", "a producer and a consumer over a bounded buffer (capacity 3) with coord.Cond, each waiting on it in turn",
		func(ctx context.Context, w io.Writer, _ demoOptions) error {
			_, err := demoCondition(ctx, w)
			return err
		}},
	{"ratelimit", "the seed's rate-limited logger done right with coord.RateLimiter (--seed: the seed's version beside it)",
		func(ctx context.Context, w io.Writer, opt demoOptions) error {
			_, err := demoRateLimit(ctx, w, opt.seed)
			return err
		}},
	{"timeout", "asyncio.wait_for as a context deadline on a wait that cannot succeed",
		func(ctx context.Context, w io.Writer, _ demoOptions) error {
			_, err := demoTimeout(ctx, w)
			return err
		}},
}

func findScenario(name string) (scenario, bool) {
	for _, s := range scenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}

// writeScenarioList writes one line per scenario: its name and what it shows.
func writeScenarioList(w io.Writer) {
	for _, s := range scenarios {
		fmt.Fprintf(w, "%-10s %s\n", s.name, s.summary)
	}
}

// runDemos runs the named scenarios (all of them when names is empty) one
// after another, with a header before each.
func runDemos(ctx context.Context, w io.Writer, names []string, opt demoOptions) error {
	list := scenarios
	if len(names) > 0 {
		list = nil
		for _, n := range names {
			s, ok := findScenario(n)
			if !ok {
				return fmt.Errorf("unknown scenario %q", n)
			}
			list = append(list, s)
		}
	}
	for i, s := range list {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "=== %s: %s\n", s.name, s.summary)
		if err := s.run(ctx, w, opt); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

// printer serializes the lines that a scenario's goroutines write, so that
// lines never interleave. Its lock is held only while a line is formatted and
// written, never while anyone waits on a coord primitive.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func newPrinter(w io.Writer) *printer { return &printer{w: w} }

// line writes one of the seed's lines, in the seed's words.
func (p *printer) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// note writes one of coord's explanations, on a line of its own.
func (p *printer) note(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "  # "+format+"\n", args...)
}

// locked runs f with the printer's lock held, for a group of lines that must
// stay together or a timestamp that must be taken in output order.
func (p *printer) locked(f func(w io.Writer)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p.w)
}

// secs formats d as seconds with two decimals, as the seed prints times.
func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// errDemo reports a scenario whose outcome contradicts what it demonstrates
// (a coord primitive misbehaving), so that `coord demo` exits non-zero.
var errDemo = errors.New("unexpected outcome")

// maxInWindow returns the largest number of the times ts that fall in any
// half-open interval [t, t+window). slack shortens the window, so that a few
// milliseconds of scheduling delay between an admission and the moment its
// time was read do not count as a violation.
func maxInWindow(ts []time.Duration, window, slack time.Duration) int {
	s := append([]time.Duration(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	best := 0
	for i := range s {
		n := 0
		for j := i; j < len(s) && s[j]-s[i] < window-slack; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

// plural returns "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// joinNames joins names as "a, b and c".
func joinNames(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// cmdDemo runs `coord demo`.
func cmdDemo(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo")
	list := fs.Bool("list", false, "list the scenarios, one a line")
	seed := fs.Bool("seed", false, "ratelimit: also run the seed's RateLimitedLogger, to show its mistakes")
	names, rest, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, usageDemo)
		fmt.Fprintln(stdout, "\nscenarios (all of them, in this order, without NAME):")
		writeScenarioList(stdout)
		fmt.Fprintln(stdout, "\nflags:")
		printFlags(stdout, fs, all)
		return exitOK
	}
	if err == nil && rest != nil {
		err = errors.New("unexpected \"--\"")
	}
	if err != nil {
		fmt.Fprintf(stderr, "coord demo: %s; %s\n", flagError(err), usageDemo)
		return exitUsage
	}
	if *list {
		writeScenarioList(stdout)
		return exitOK
	}
	for _, n := range names {
		if _, ok := findScenario(n); !ok {
			fmt.Fprintf(stderr, "coord demo: unknown scenario %q; the scenarios are:\n", n)
			writeScenarioList(stderr)
			return exitUsage
		}
	}
	// SIGINT or SIGTERM ends the scenario's waits through their ctx; coord
	// then exits 128 plus the signal, as a shell reports an interrupted
	// command, rather than 1 with the scenario's "context canceled".
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got atomic.Value // the os.Signal that interrupted the run
	go func() {
		select {
		case s := <-sigs:
			got.Store(s)
			cancel()
		case <-ctx.Done():
		}
	}()
	err = runDemos(ctx, stdout, names, demoOptions{seed: *seed})
	cancel()
	if s, ok := got.Load().(os.Signal); ok {
		fmt.Fprintf(stderr, "coord demo: interrupted (%v)\n", s)
		return signalExit(s)
	}
	if err != nil {
		fmt.Fprintf(stderr, "coord demo: %v\n", err)
		return exitFailure
	}
	return exitOK
}
