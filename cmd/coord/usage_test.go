package main

import (
	"bytes"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// runInProcess runs coord's command line in this process and returns its
// exit code and output; for commands that fail before reaching a cluster.
func runInProcess(args ...string) (code int, stdout, stderr string) {
	var out, errs bytes.Buffer
	code = run(args, &out, &errs)
	return code, out.String(), errs.String()
}

// flagNames returns the flags named in s ("--ttl", "[--cert FILE"), in order
// of first appearance, without dashes.
func flagNames(s string) []string {
	var names []string
	for _, m := range regexp.MustCompile(`--([a-z][a-z-]*)`).FindAllStringSubmatch(s, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return names
}

// TestUsageLinesMatchFlags checks, for every command, that its usage line
// names exactly the flags that its --help lists as its own, and that the
// other flags its --help lists are global ones it takes: `barrier`'s usage
// line once left out its --ttl, and `serve --help` listed --endpoints and
// --user, which do nothing for it.
func TestUsageLinesMatchFlags(t *testing.T) {
	for _, tc := range []struct {
		cmd    string
		global []string // the global flags the command takes, besides those on its usage line
	}{
		{"demo", nil},
		{"serve", nil},
		{"lock", clientFlags},
		{"sem", clientFlags},
		{"event", clientFlags},
		{"barrier", clientFlags},
		{"elect", clientFlags},
		{"leader", clientFlags},
		{"ls", clientFlags},
		{"ui", clientFlags},
		{"version", nil},
	} {
		code, out, errs := runInProcess(tc.cmd, "--help")
		if code != 0 || errs != "" {
			t.Errorf("coord %s --help: exit %d, stderr %q", tc.cmd, code, errs)
			continue
		}
		usage, rest, _ := strings.Cut(out, "\n")
		if !strings.HasPrefix(usage, "usage: coord "+tc.cmd) {
			t.Errorf("coord %s --help opens with %q, want its usage line", tc.cmd, usage)
		}
		own, global, _ := strings.Cut(rest, "\nglobal flags")
		if got, want := flagNames(own), flagNames(usage); !slices.Equal(got, want) {
			t.Errorf("coord %s --help lists the flags %q; its usage line names %q:\n%s", tc.cmd, got, want, out)
		}
		want := slices.Sorted(slices.Values(tc.global))
		if got := flagNames(global); !slices.Equal(got, want) {
			t.Errorf("coord %s --help lists the global flags %q, want %q:\n%s", tc.cmd, got, want, out)
		}
		// A usage error prints the same usage line.
		code, _, errs = runInProcess(tc.cmd, "--no-such-flag")
		if code != exitUsage || !strings.HasSuffix(errs, "; "+usage+"\n") {
			t.Errorf("coord %s --no-such-flag: exit %d, stderr %q; want 2 and the usage line %q", tc.cmd, code, errs, usage)
		}
	}
}

// TestDurationFlags checks that a duration without a unit, the first thing a
// new user types, fails with a hint of the format, and that --ttl below the
// session's minimum is refused rather than silently raised.
func TestDurationFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lock", "x", "--timeout", "5", "--", "true"}, `invalid value "5" for flag --timeout: no unit; want a duration such as 30s or 5m`},
		{[]string{"sem", "x", "--limit", "2", "--ttl", "10", "--", "true"}, `for flag --ttl: no unit; want a duration such as 30s or 5m`},
		{[]string{"event", "wait", "x", "--timeout", "soon"}, `invalid value "soon" for flag --timeout: want a duration such as 30s or 5m`},
		{[]string{"barrier", "x", "--parties", "2", "--ttl", "1x"}, `for flag --ttl: want a duration such as 30s or 5m`},
		{[]string{"lock", "x", "--ttl", "100ms", "--", "true"}, "--ttl 100ms is below the minimum of 1s"},
		{[]string{"barrier", "x", "--parties", "2", "--ttl", "0"}, "--ttl 0s is below the minimum of 1s"},
		{[]string{"sem", "x", "--limit", "1", "--ttl", "-1s", "--", "true"}, "below the minimum of 1s"},
		{[]string{"lock", "x", "--timeout", "-1s", "--", "true"}, "--timeout must not be negative"},
		{[]string{"elect", "x", "--ttl", "500ms", "--", "true"}, "--ttl 500ms is below the minimum of 1s"},
		{[]string{"lock", "x", "--read", "--timeout", "5", "--", "true"}, "no unit; want a duration such as 30s or 5m"},
	} {
		code, out, errs := runInProcess(append([]string{"--endpoints", "127.0.0.1:1"}, tc.args...)...)
		if code != exitUsage || out != "" {
			t.Errorf("coord %q: exit %d, stdout %q; want 2 and nothing", tc.args, code, out)
		}
		if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "usage: coord ") {
			t.Errorf("coord %q: stderr %q, want one line with %q and the usage line", tc.args, errs, tc.want)
		}
	}
}

// TestGlobalFlagNotForCommand checks that a global flag given before a
// command that does not take it is a usage error, not ignored.
func TestGlobalFlagNotForCommand(t *testing.T) {
	for _, args := range [][]string{
		{"--endpoints", "10.0.0.1:2379", "serve"},
		{"--user", "bob", "serve"},
		{"--prefix", "/x/", "demo", "race"},
		{"--user", "bob", "version"},
	} {
		code, out, errs := runInProcess(args...)
		if code != exitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, args[0]+" does not apply to "+args[2]) {
			t.Errorf("coord %q: exit %d, stdout %q, stderr %q; want 2 and one line saying %s does not apply", args, code, out, errs, args[0])
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, errs := runInProcess("version")
	if code != 0 || errs != "" || !strings.HasPrefix(out, "coord ") || strings.Count(out, "\n") != 1 {
		t.Errorf("coord version: exit %d, stdout %q, stderr %q; want one line", code, out, errs)
	}
	if !strings.Contains(out, runtime.Version()) {
		t.Errorf("coord version: %q lacks the Go version %s", out, runtime.Version())
	}
	if code, _, errs := runInProcess("version", "extra"); code != exitUsage || !strings.Contains(errs, "usage: coord version") {
		t.Errorf("coord version extra: exit %d, stderr %q; want a usage error", code, errs)
	}
	if code, out, _ := runInProcess("--help"); code != 0 || !strings.Contains(out, "\n  version ") {
		t.Errorf("coord --help does not list version:\n%s", out)
	}
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, "coord (devel), go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "false"},
		}}, true, "coord v1.2.0, go1.26.8, revision 0123abcd"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "true"},
		}}, true, "coord (devel), go1.26.8, revision 0123abcd (modified)"},
		{&debug.BuildInfo{GoVersion: "go1.26.8"}, true, "coord (devel), go1.26.8"},
		{nil, false, "coord (unknown version: the binary carries no build information)"},
	} {
		if got := versionLine(tc.bi, tc.ok); got != tc.want {
			t.Errorf("versionLine = %q, want %q", got, tc.want)
		}
	}
}
