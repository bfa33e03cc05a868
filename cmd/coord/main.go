// Command coord runs the seed's scenarios in-process and coord's primitives
// across processes on etcd.
//
// Usage:
//
//	coord demo [race|rlock|event|condition|ratelimit|timeout] [--list] [--seed]
//
// `coord demo` with no scenario runs them all, in order; `--list` lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitFailure = 1 // the command failed (a cluster error, a demo that went wrong)
	exitUsage   = 2 // the command line is wrong
)

const usageMain = `usage: coord <command> [arguments]

commands:
  demo [NAME] [--list] [--seed]   the seed's scenarios, in-process (all of them without NAME)

Run "coord <command> --help" for a command's flags.`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "coord: missing command; run \"coord --help\" for usage")
		return exitUsage
	}
	switch cmd := args[0]; cmd {
	case "demo":
		return cmdDemo(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usageMain)
		return exitOK
	default:
		fmt.Fprintf(stderr, "coord: unknown command %q; run \"coord --help\" for usage\n", cmd)
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
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return exitOK
	}
	if err == nil && rest != nil {
		err = errors.New("unexpected \"--\"")
	}
	if err != nil {
		fmt.Fprintf(stderr, "coord demo: %v; %s\n", err, usageDemo)
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runDemos(ctx, stdout, names, demoOptions{seed: *seed}); err != nil {
		fmt.Fprintf(stderr, "coord demo: %v\n", err)
		return exitFailure
	}
	return exitOK
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
