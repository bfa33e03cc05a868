package main

// The scenarios are package main functions, so their unit tests are in
// package main too (a command cannot be imported by an external test
// package). The end-to-end tests in cli_demo_test.go run the built binary.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// seedLines returns the non-empty lines of out that are not coord's notes, that
// is the lines in the seed's words.
func seedLines(out string) []string {
	var ls []string
	for _, l := range strings.Split(out, "\n") {
		if l == "" || strings.HasPrefix(l, "  # ") {
			continue
		}
		ls = append(ls, l)
	}
	return ls
}

func TestRace(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	res, err := demoRace(context.Background(), &out)
	if err != nil {
		t.Fatalf("demoRace: %v\n%s", err, &out)
	}
	if res.Goroutines != 100 {
		t.Errorf("Goroutines = %d, want the seed's 10×10 = 100", res.Goroutines)
	}
	// Every goroutine reads before any writes (they start behind a gate and
	// pause between read and write), so far fewer than 100 updates survive.
	if res.Unsafe >= res.Goroutines || res.Unsafe < 1 {
		t.Errorf("Unsafe = %d, want 1..%d (lost updates)", res.Unsafe, res.Goroutines-1)
	}
	if res.Safe != res.Goroutines {
		t.Errorf("Safe = %d, want %d", res.Safe, res.Goroutines)
	}
	want := []string{
		"Without lock:",
		"Counter: " + strconv.Itoa(res.Unsafe) + " (lost updates due to race condition)",
		"With lock:",
		"Counter: 100 (correct)",
	}
	if got := seedLines(out.String()); !slices.Equal(got, want) {
		t.Errorf("seed lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRLock(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	start := time.Now()
	res, err := demoRLock(context.Background(), &out)
	if err != nil {
		t.Fatalf("demoRLock: %v\n%s", err, &out)
	}
	if !res.ReentrantDone || !res.ReentrantFree {
		t.Errorf("ReentrantMutex: done %v, free afterwards %v; want both", res.ReentrantDone, res.ReentrantFree)
	}
	if !errors.Is(res.Deadlock, context.DeadlineExceeded) {
		t.Errorf("Deadlock = %v, want context.DeadlineExceeded", res.Deadlock)
	}
	if res.DeadlockAfter < rlockDeadline/2 || time.Since(start) > 10*rlockDeadline {
		t.Errorf("inner Lock gave up after %v (scenario took %v), want about %v", res.DeadlockAfter, time.Since(start), rlockDeadline)
	}
	if !res.MutexFree {
		t.Error("the plain Mutex is still locked after the scenario")
	}
	want := []string{
		"Outer: acquired lock", "Inner: acquired lock", "Outer: still have lock",
		"Outer: acquired lock", // the plain Mutex: inner never gets it
	}
	if got := seedLines(out.String()); !slices.Equal(got, want) {
		t.Errorf("seed lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(out.String(), "DEADLOCK caught") || !strings.Contains(out.String(), "context deadline exceeded") {
		t.Errorf("output does not explain the deadlock:\n%s", &out)
	}
}

func TestEvent(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	res, err := demoEvent(context.Background(), &out)
	if err != nil {
		t.Fatalf("demoEvent: %v\n%s", err, &out)
	}
	if res.Waiters != 3 || res.Fired != 3 || res.Early != 0 {
		t.Errorf("waiters %d, fired %d, early %d; want 3, 3, 0", res.Waiters, res.Fired, res.Early)
	}
	// The seed's output, line for line.
	want := []string{
		"waiter1: waiting for event", "waiter2: waiting for event", "waiter3: waiting for event",
		"Setter: setting event",
		"waiter1: event fired!", "waiter2: event fired!", "waiter3: event fired!",
	}
	if got := seedLines(out.String()); !slices.Equal(got, want) {
		t.Errorf("seed lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCondition runs the scenario on synctest's clock, where its pauses are
// exact: the consumer waits on the empty buffer, then the producer on the
// full one, so both sides of the Condition show, in the seed's words.
func TestCondition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		start := time.Now()
		res, err := demoCondition(context.Background(), &out)
		if err != nil {
			t.Fatalf("demoCondition: %v\n%s", err, &out)
		}
		// The consumer's four pauses, and none after its last item.
		if took := time.Since(start); took != 4*condConsumerPause {
			t.Errorf("took %v, want %v", took, 4*condConsumerPause)
		}
		if res.Capacity != 3 || res.MaxBuffer != 3 || res.ProducerWaits != 1 || res.ConsumerWaits != 1 {
			t.Errorf("capacity %d, buffer peaked at %d, producer waited %d times, consumer %d; want 3, 3, 1, 1",
				res.Capacity, res.MaxBuffer, res.ProducerWaits, res.ConsumerWaits)
		}
		want := []string{"prod1-0", "prod1-1", "prod1-2", "prod1-3", "prod1-4"}
		if !slices.Equal(res.Produced, want) || !slices.Equal(res.Consumed, want) {
			t.Errorf("produced %v, consumed %v; want %v for both", res.Produced, res.Consumed, want)
		}
		wantLines := []string{
			"cons1: buffer empty, waiting",
			"prod1: produced prod1-0 (buffer: 1)",
			"cons1: consumed prod1-0 (buffer: 0)",
			"prod1: produced prod1-1 (buffer: 1)",
			"prod1: produced prod1-2 (buffer: 2)",
			"prod1: produced prod1-3 (buffer: 3)",
			"prod1: buffer full, waiting",
			"cons1: consumed prod1-1 (buffer: 2)",
			"prod1: produced prod1-4 (buffer: 3)",
			"cons1: consumed prod1-2 (buffer: 2)",
			"cons1: consumed prod1-3 (buffer: 1)",
			"cons1: consumed prod1-4 (buffer: 0)",
		}
		if got := seedLines(out.String()); !slices.Equal(got, wantLines) {
			t.Errorf("seed lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
		}
		if !strings.Contains(out.String(), "the producer waited 1 time for space, the consumer 1 time for an item") {
			t.Errorf("the closing note does not count both waits:\n%s", &out)
		}
	})
}

// checkCoordRun checks what a logger on coord.RateLimiter did with the
// seed's two workers.
func checkCoordRun(t *testing.T, run RateLimitRun) {
	t.Helper()
	if len(run.Stamps) != rlWorkers*rlMessages {
		t.Fatalf("%d lines logged, want %d", len(run.Stamps), rlWorkers*rlMessages)
	}
	if run.MaxPerWindow > rlLimit {
		t.Errorf("%d lines in one second, limit %d; stamps %v", run.MaxPerWindow, rlLimit, run.Stamps)
	}
	// 10 messages at 3 a second: admissions at 0, 1, 2 and 3 s.
	if run.Elapsed < minRateLimitRun-rlSlack || run.Elapsed > minRateLimitRun+time.Second {
		t.Errorf("run took %v, want about %v", run.Elapsed, minRateLimitRun)
	}
	if !slices.IsSorted(run.Stamps) || run.MaxStale != 0 {
		t.Errorf("stamps %v (stale up to %v): want them read at admission, in output order", run.Stamps, run.MaxStale)
	}
	if run.MaxLockWait != 0 {
		t.Errorf("MaxLockWait = %v: coord's logger takes no lock while waiting", run.MaxLockWait)
	}
	if run.Waits == 0 {
		t.Error("no message waited for the limit")
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	res, err := demoRateLimit(context.Background(), &out, false)
	if err != nil {
		t.Fatalf("demoRateLimit: %v\n%s", err, &out)
	}
	if res.Limit != 3 || res.Window != time.Second || res.Seed != nil {
		t.Errorf("limit %d per %v, seed run %v; want 3 per 1s and no seed run", res.Limit, res.Window, res.Seed)
	}
	checkCoordRun(t, res.Coord)
	o := out.String()
	if !strings.Contains(o, "] worker1: message 0\n") || !strings.Contains(o, "] worker2: message 4\n") || !strings.Contains(o, "Rate limit: waiting ") {
		t.Errorf("output lacks the seed's lines:\n%s", o)
	}
	if n := strings.Count(o, "Rate limit: waiting "); n != res.Coord.Waits {
		t.Errorf("%d \"Rate limit: waiting\" lines, %d waits counted", n, res.Coord.Waits)
	}
	if strings.Contains(o, "Rate limit: waiting 0.00s") || strings.Contains(o, "Rate limit: waiting 0.01s") {
		t.Errorf("a wait shorter than the scheduling slack was printed:\n%s", o)
	}
	if first := seedLines(o)[0]; first != "[0.00] worker1: message 0" {
		t.Errorf("first line %q, want worker1's message 0 at 0.00", first)
	}
}

// TestRateLimitShortWait checks on synctest's clock that a message whose
// slot frees a moment after it asks is neither printed nor counted as one
// that waited for the limit: the demo once printed "Rate limit: waiting
// 0.00s" and counted it.
func TestRateLimitShortWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		l := newCoordLogger(newPrinter(&out), coord.NewRateLimiter(1, time.Second))
		ctx := context.Background()
		for i, pause := range []time.Duration{0, time.Second - time.Millisecond, 0} {
			time.Sleep(pause)
			if err := l.log(ctx, "worker1", i); err != nil {
				t.Fatal(err)
			}
		}
		want := "[0.00] worker1: message 0\n" +
			"[1.00] worker1: message 1\n" + // waited 1ms: not for the limit
			"Rate limit: waiting 1.00s\n" +
			"[2.00] worker1: message 2\n"
		if out.String() != want || l.run.Waits != 1 {
			t.Errorf("output:\n%s(%d waits)\nwant:\n%s(1 wait)", &out, l.run.Waits, want)
		}
	})
}

func TestRateLimitSeed(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	res, err := demoRateLimit(context.Background(), &out, true)
	if err != nil {
		t.Fatalf("demoRateLimit: %v\n%s", err, &out)
	}
	if res.Seed == nil {
		t.Fatal("no seed run with seed = true")
	}
	checkCoordRun(t, res.Coord)
	s := res.Seed
	if len(s.Stamps) != rlWorkers*rlMessages {
		t.Fatalf("seed's logger logged %d lines, want %d", len(s.Stamps), rlWorkers*rlMessages)
	}
	// The seed's mistakes, as the demo must show them: worker2's message 1
	// finds the window full at 0.1 s and sleeps 0.9 s holding the lock, with
	// the time read before the sleep; worker1 waits on the lock meanwhile.
	if s.MaxStale < 500*time.Millisecond {
		t.Errorf("seed's stamps stale by at most %v, want the 0.9 s sleep", s.MaxStale)
	}
	if s.MaxLockWait < 500*time.Millisecond {
		t.Errorf("seed's workers waited at most %v for the lock, want most of the 0.9 s sleep", s.MaxLockWait)
	}
	o := out.String()
	for _, l := range []string{"Mistake 1", "Mistake 2", "waiting for the lock while the other worker slept", "stamp is stale by"} {
		if !strings.Contains(o, l) {
			t.Errorf("output lacks %q:\n%s", l, o)
		}
	}
	if strings.Index(o, "Mistake 2") > strings.Index(o, "coord.RateLimiter(") {
		t.Errorf("the seed's run should come first, then coord's:\n%s", o)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	res, err := demoTimeout(context.Background(), &out)
	if err != nil {
		t.Fatalf("demoTimeout: %v\n%s", err, &out)
	}
	if res.Err != context.DeadlineExceeded {
		t.Errorf("Lock returned %v, want context.DeadlineExceeded itself", res.Err)
	}
	if res.Elapsed < res.Timeout || res.Elapsed > res.Timeout+2*time.Second {
		t.Errorf("Lock gave up after %v, want just after %v", res.Elapsed, res.Timeout)
	}
	if !res.HolderKept || !res.Free {
		t.Errorf("holder kept the lock %v, free after unlock %v; want both", res.HolderKept, res.Free)
	}
	if res.EventErr != context.DeadlineExceeded {
		t.Errorf("Event.Wait returned %v, want context.DeadlineExceeded", res.EventErr)
	}
	if !strings.Contains(out.String(), "waiter: gave up after 0.2") {
		t.Errorf("output:\n%s", &out)
	}
}

// A cancelled run stops promptly with the ctx error instead of finishing.
func TestDemosCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, s := range scenarios {
		start := time.Now()
		err := s.run(ctx, &bytes.Buffer{}, demoOptions{seed: true})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled ctx: err = %v, want context.Canceled", s.name, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s with a cancelled ctx took %v", s.name, d)
		}
	}
}

func TestMaxInWindow(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	for _, tc := range []struct {
		ts    []time.Duration
		slack time.Duration
		want  int
	}{
		{nil, 0, 0},
		{ms(0), 0, 1},
		{ms(0, 0, 100, 1000, 1000, 1100), 0, 3}, // coord's admissions: [t, t+1s) half-open
		{ms(0, 0, 100, 999, 1000, 1100), 0, 4},  // one millisecond early is a violation
		{ms(0, 0, 100, 995, 1000, 1100), 10 * time.Millisecond, 3}, // ...unless within the slack
		{ms(1100, 1000, 1000, 1100, 0, 100), 0, 4},                 // unsorted input
	} {
		if got := maxInWindow(tc.ts, time.Second, tc.slack); got != tc.want {
			t.Errorf("maxInWindow(%v, 1s, %v) = %d, want %d", tc.ts, tc.slack, got, tc.want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		pos, rest []string
		timeout   string
		err       bool
	}{
		{args: []string{"a"}, pos: []string{"a"}},
		{args: []string{"--timeout", "1s", "a"}, pos: []string{"a"}, timeout: "1s"},
		{args: []string{"a", "--timeout=2s"}, pos: []string{"a"}, timeout: "2s"},
		{args: []string{"a", "-timeout", "3s", "b"}, pos: []string{"a", "b"}, timeout: "3s"},
		{args: []string{"a", "--", "echo", "--timeout", "x"}, pos: []string{"a"}, rest: []string{"echo", "--timeout", "x"}},
		{args: []string{"a", "--"}, pos: []string{"a"}, rest: []string{}},
		{args: []string{"--", "a"}, rest: []string{"a"}},
		{args: []string{"a", "--bogus"}, pos: []string{"a"}, err: true},
	} {
		fs := newFlagSet("t")
		timeout := fs.String("timeout", "", "")
		pos, rest, err := parseArgs(fs, tc.args)
		if (err != nil) != tc.err {
			t.Errorf("parseArgs(%q): err = %v, want error %v", tc.args, err, tc.err)
			continue
		}
		if tc.err {
			continue
		}
		if !slices.Equal(pos, tc.pos) || !slices.Equal(rest, tc.rest) || (rest == nil) != (tc.rest == nil) || *timeout != tc.timeout {
			t.Errorf("parseArgs(%q) = %q, %q, timeout %q; want %q, %q, %q", tc.args, pos, rest, *timeout, tc.pos, tc.rest, tc.timeout)
		}
	}
	fs := newFlagSet("t")
	if _, _, err := parseArgs(fs, []string{"x", "--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: err = %v, want flag.ErrHelp", err)
	}
}
