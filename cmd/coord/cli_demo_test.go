package main

import (
	"strings"
	"testing"
	"time"
)

func TestCLIDemoEach(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		want []string // in order
	}{
		{"race", []string{"Without lock:\nCounter: ", " (lost updates due to race condition)\n", "With lock:\nCounter: 100 (correct)\n"}},
		{"rlock", []string{"Outer: acquired lock\nInner: acquired lock\nOuter: still have lock\n", "Outer: acquired lock\n", "DEADLOCK caught", "context deadline exceeded"}},
		{"event", []string{"waiter1: waiting for event\nwaiter2: waiting for event\nwaiter3: waiting for event\nSetter: setting event\nwaiter1: event fired!\nwaiter2: event fired!\nwaiter3: event fired!\n"}},
		{"condition", []string{"cons1: buffer empty, waiting\n", "prod1: produced prod1-0 (buffer: 1)\n", "cons1: consumed prod1-0 (buffer: 0)\n", "cons1: consumed prod1-4 (buffer: 0)\n", "never held more than"}},
		{"timeout", []string{"holder: acquired lock", "waiter: gave up after 0.2", "context deadline exceeded", "holder: released lock"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCoord(t, 20*time.Second, "demo", tc.name)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if !strings.HasPrefix(r.stdout, "=== "+tc.name+": ") || strings.Count(r.stdout, "=== ") != 1 {
				t.Errorf("want one header, for %s:\n%s", tc.name, r.stdout)
			}
			if !inOrder(r.stdout, tc.want...) {
				t.Errorf("output lacks, in order, %q:\n%s", tc.want, r.stdout)
			}
			if r.took > 5*time.Second {
				t.Errorf("took %v, want a few seconds at most", r.took)
			}
		})
	}
}

// TestCLIDemoAll runs `coord demo --seed`: every scenario in order, the
// ratelimit one with the seed's logger beside coord's, in real time.
func TestCLIDemoAll(t *testing.T) {
	t.Parallel()
	r := runCoord(t, 60*time.Second, "demo", "--seed")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
	var headers []string
	for _, s := range scenarios {
		headers = append(headers, "=== "+s.name+": ")
	}
	if !inOrder(r.stdout, headers...) || strings.Count(r.stdout, "=== ") != len(scenarios) {
		t.Errorf("want the headers %q in order:\n%s", headers, r.stdout)
	}
	for _, l := range []string{
		"Counter: 100 (correct)\n", "Outer: acquired lock\n", "Inner: acquired lock\n", "Outer: still have lock\n",
		"waiter1: waiting for event\n", "Setter: setting event\n", "waiter1: event fired!\n", "waiter3: event fired!\n",
		"prod1: produced prod1-0 (buffer: 1)\n", "cons1: consumed prod1-0 (buffer: 0)\n",
		"cons1: consumed prod1-4 (buffer: 0)\n", "Rate limit: waiting 0.", "] worker1: message 0\n",
		"] worker2: message 4\n", "Mistake 1", "Mistake 2", "waiter: gave up after",
	} {
		if !strings.Contains(r.stdout, l) {
			t.Errorf("output lacks %q", l)
		}
	}
	// The ratelimit scenario takes the seconds its limit implies, twice.
	if r.took < 2*minRateLimitRun-time.Second {
		t.Errorf("took %v, too fast for two real-time rate-limited runs", r.took)
	}
}

func TestCLIDemoList(t *testing.T) {
	t.Parallel()
	r := runCoord(t, 10*time.Second, "demo", "--list")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	want := []string{"race", "rlock", "event", "condition", "ratelimit", "timeout"}
	if len(lines) != len(want) {
		t.Fatalf("--list printed %d lines, want %d:\n%s", len(lines), len(want), r.stdout)
	}
	for i, l := range lines {
		if f := strings.Fields(l); len(f) < 2 || f[0] != want[i] {
			t.Errorf("line %d = %q, want %q and a description", i, l, want[i])
		}
	}
	// Flags may come after or before the scenario list.
	if r2 := runCoord(t, 10*time.Second, "demo", "race", "--list"); r2.code != 0 || r2.stdout != r.stdout {
		t.Errorf("demo race --list: exit %d, output %q; want the list", r2.code, r2.stdout)
	}
}

func TestCLIDemoBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // substring of stdout
		stderr string // substring of stderr
	}{
		{[]string{"demo", "nosuch"}, 2, "", `unknown scenario "nosuch"`},
		{[]string{"demo", "race", "nosuch"}, 2, "", "ratelimit "},
		{[]string{"demo", "--bogus"}, 2, "", "usage: coord demo"},
		{[]string{"demo", "race", "--", "x"}, 2, "", "usage: coord demo"},
		{[]string{"demo", "--help"}, 0, "usage: coord demo", ""},
		{[]string{"demo", "-h"}, 0, "ratelimit ", ""},
		{[]string{}, 2, "", "missing command"},
		{[]string{"nosuch"}, 2, "", `unknown command "nosuch"`},
		{[]string{"--help"}, 0, "usage: coord", ""},
	} {
		r := runCoord(t, 10*time.Second, tc.args...)
		if r.code != tc.code {
			t.Errorf("coord %q: exit %d, want %d (stderr %q)", tc.args, r.code, tc.code, r.stderr)
		}
		if !strings.Contains(r.stdout, tc.stdout) || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("coord %q: stdout %q, stderr %q; want them to contain %q and %q", tc.args, r.stdout, r.stderr, tc.stdout, tc.stderr)
		}
		if tc.code != 0 && r.stdout != "" {
			t.Errorf("coord %q failed but wrote to stdout: %q", tc.args, r.stdout)
		}
		if tc.code == 0 && r.stderr != "" {
			t.Errorf("coord %q succeeded but wrote to stderr: %q", tc.args, r.stderr)
		}
	}
	// An unknown scenario lists every scenario on stderr, one a line.
	r := runCoord(t, 10*time.Second, "demo", "nosuch")
	for _, s := range scenarios {
		if !strings.Contains(r.stderr, "\n"+s.name+" ") {
			t.Errorf("stderr lacks scenario %s:\n%s", s.name, r.stderr)
		}
	}
}
