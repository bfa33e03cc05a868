// Command coord runs the seed's scenarios in-process, and coord's primitives
// across processes on etcd.
//
// Usage:
//
//	coord demo [race|rlock|event|condition|ratelimit|timeout] [--list] [--seed]
//	coord serve [--data-dir DIR] [--addr 127.0.0.1:2379] [--peer-addr 127.0.0.1:0]
//	coord lock NAME [--timeout D] [--ttl D] -- CMD ARGS...
//	coord sem NAME --limit N [--timeout D] [--ttl D] -- CMD ARGS...
//	coord event set|clear|wait NAME [--timeout D]
//	coord barrier NAME --parties N [--timeout D]
//	coord ls [PREFIX] [--json]
//
// `coord demo` with no scenario runs them all, in order; `--list` lists them.
//
// The cluster commands take the global flags --endpoints (env
// COORD_ENDPOINTS, default 127.0.0.1:2379), --prefix, --cacert, --cert,
// --key and --user (password from env COORD_PASSWORD), before or after the
// command's own arguments. Flags may stand before or after NAME; "--" ends
// coord's arguments and is required before CMD.
//
// lock and sem run CMD with COORD_FENCING_TOKEN in its environment (a number
// that grows with every new holder, for storage that refuses stale writers),
// pass its exit code through, and forward SIGINT, SIGTERM and SIGHUP to it.
// If the hold is lost while CMD runs, CMD's process group gets SIGTERM, then
// SIGKILL within the session's safety margin, and coord exits 4. If coord
// itself is killed, CMD gets SIGKILL (Linux's parent-death signal).
//
// CMD runs in a process group of its own, so that a lost hold reaches its
// children too. That group is not the terminal's foreground group: coord
// receives the terminal's Ctrl-C and forwards it, and a CMD that reads from
// the terminal is stopped (SIGTTIN); give such a CMD its input by a pipe or
// a file. For the same reason coord ignores Ctrl-Z (SIGTSTP), SIGTTIN and
// SIGTTOU while CMD runs: stopped, coord would renew no lease, and CMD would
// run on after another process had been granted the hold.
//
// serve runs a single-node etcd for local use and tests, with its data in
// the user's cache directory (coord/etcd under os.UserCacheDir) unless
// --data-dir says otherwise. It prints its client endpoint as its first line
// on stdout.
//
// Exit codes: 0 success (lock and sem: CMD's code); 1 a cluster error or an
// unreachable cluster; 2 a usage error; 3 gave up waiting (--timeout); 4 the
// hold was lost; 128+N interrupted by signal N while connecting or waiting
// (demo: while running). Every failure is one line on stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/coordkit/coord/etcd"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitFailure = 1 // the command failed (a cluster error, a demo that went wrong)
	exitUsage   = 2 // the command line is wrong
)

// usageLine is usageMain's first line, the usage line a usage error prints.
const usageLine = "usage: coord [global flags] <command> [arguments]"

const usageMain = usageLine + `

commands:
  demo [NAME] [--list] [--seed]              the seed's scenarios, in-process (all without NAME)
  serve [--data-dir DIR] [--addr HOST:PORT]  a local single-node etcd; prints its endpoint
  lock NAME [--timeout D] [--ttl D] -- CMD   run CMD while holding NAME
  sem NAME --limit N [...] -- CMD            run CMD while holding one of N permits of NAME
  event set|clear|wait NAME [--timeout D]    a flag in the cluster
  barrier NAME --parties N [--timeout D]     wait for N processes; prints this one's index
  ls [PREFIX] [--json]                       live holders, waiters and set events

global flags: --endpoints (env COORD_ENDPOINTS, default 127.0.0.1:2379), --prefix,
  --cacert/--cert/--key, --user (password from env COORD_PASSWORD)
exit codes: 0 ok (lock, sem: CMD's), 1 cluster error, 2 usage, 3 timeout, 4 hold lost

Run "coord <command> --help" for a command's flags.`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	// Global flags may also stand before the command.
	g := defaultGlobals()
	gfs := newFlagSet("coord")
	g.register(gfs)
	if err := gfs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, usageMain)
			return exitOK
		}
		fmt.Fprintf(stderr, "coord: %s; %s (run \"coord --help\" for more)\n", flagError(err), usageLine)
		return exitUsage
	}
	args = gfs.Args()
	if len(args) == 0 {
		fmt.Fprintf(stderr, "coord: missing command; %s (run \"coord --help\" for more)\n", usageLine)
		return exitUsage
	}
	switch cmd := args[0]; cmd {
	case "demo":
		return cmdDemo(args[1:], stdout, stderr)
	case "help":
		fmt.Fprintln(stdout, usageMain)
		return exitOK
	case "serve", "lock", "sem", "event", "barrier", "ls":
		// The gRPC library logs through a global logger; coord's only
		// output on failure is its own one line.
		etcd.DiscardGRPCLogs()
		switch cmd {
		case "serve":
			return cmdServe(g, args[1:], stdout, stderr)
		case "lock", "sem":
			return cmdHold(cmd, g, args[1:], stdout, stderr)
		case "event":
			return cmdEvent(g, args[1:], stdout, stderr)
		case "barrier":
			return cmdBarrier(g, args[1:], stdout, stderr)
		default:
			return cmdLs(g, args[1:], stdout, stderr)
		}
	default:
		fmt.Fprintf(stderr, "coord: unknown command %q; %s (run \"coord --help\" for more)\n", cmd, usageLine)
		return exitUsage
	}
}

const usageDemo = "usage: coord demo [race|rlock|event|condition|ratelimit|timeout] [--list] [--seed]"

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
		printFlags(stdout, fs)
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

// printFlags prints fs's flags as flag.PrintDefaults does, but spelled with
// two dashes, as coord's usage lines and documentation spell them (the flag
// package takes both).
func printFlags(w io.Writer, fs *flag.FlagSet) {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	io.WriteString(w, strings.ReplaceAll("\n"+b.String(), "\n  -", "\n  --")[1:])
}

// flagError is the flag package's parse error with the flag spelled as the
// user spells it, "--timeout" rather than "-timeout".
func flagError(err error) string {
	return strings.NewReplacer(
		"not defined: -", "not defined: --", // flag provided but not defined: -x
		"needs an argument: -", "needs an argument: --", // flag needs an argument: -x
		"for flag -", "for flag --", // invalid value "v" for flag -x: ...
		"\" for -", "\" for --", // invalid boolean value "v" for -x: ...
	).Replace(err.Error())
}

// newFlagSet returns a FlagSet that reports errors to its caller instead of
// printing them, so that every failure is one line on stderr.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses args with fs, allowing flags before and after positional
// arguments (the standard flag package stops at the first positional one).
// It returns the positional arguments and, when args contain "--", the
// arguments after it (non-nil, possibly empty); flags are not parsed after "--".
func parseArgs(fs *flag.FlagSet, args []string) (pos, rest []string, err error) {
	for {
		if err := fs.Parse(args); err != nil {
			return pos, nil, err
		}
		left := fs.Args()
		if consumed := len(args) - len(left); consumed > 0 && args[consumed-1] == "--" {
			return pos, append([]string{}, left...), nil
		}
		if len(left) == 0 {
			return pos, nil, nil
		}
		pos = append(pos, left[0])
		args = left[1:]
	}
}
