package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// The lease TTL of a session, as the etcd module's session has it: coord
// checks --ttl against the minimum itself, because the session would raise a
// shorter TTL to it silently.
const (
	defaultTTL = 10 * time.Second
	minTTL     = time.Second
)

// A command is one run of a cluster command: its flags, its parsed command
// line, and the one line it prints when it fails. Every cluster command goes
// through it, so that they take the same flags the same way and fail with
// the same words:
//
//	c := newCommand("lock", usageLock, g, stderr)
//	c.waitFlags(true)                  // --timeout, and --ttl for a session of its own
//	limit := c.count("limit", ...)     // the command's own flags
//	if code, ok := c.parse(args, stdout); !ok { return code }
//	... check c.pos and c.rest, then c.connect ...
type command struct {
	failer
	usage   string
	fs      *flag.FlagSet
	g       globalFlags
	globals func(*flag.FlagSet) // registers the global flags the command takes
	shared  []string            // of those, the ones its usage line leaves to "global flags"

	timeout *time.Duration // --timeout, when the command waits
	ttl     *time.Duration // --ttl, when the command's session may hold
	counts  []string       // the flags added by count

	pos  []string // positional arguments
	rest []string // the arguments after "--"; nil without "--"
}

// newCommand starts a cluster command that takes the client's global flags
// (its cluster and how to reach it).
func newCommand(name, usage string, g globalFlags, stderr io.Writer) *command {
	c := &command{usage: usage, fs: newFlagSet(name), g: g}
	c.globals, c.shared = c.g.registerClient, clientFlags
	c.failer = failer{cmd: "coord " + name, stderr: stderr, g: &c.g}
	return c
}

// waitFlags adds --timeout and, with ttl, --ttl: the flags of a command that
// waits on other processes, and whose session others wait on when it holds.
func (c *command) waitFlags(ttl bool) {
	c.timeout = durationFlag(c.fs, "timeout", 0, "give up waiting after this `duration` (exit 3); 0 waits for ever")
	if ttl {
		c.ttl = durationFlag(c.fs, "ttl", defaultTTL,
			fmt.Sprintf("lease TTL, a `duration`: how long others wait for this process should it die (at least %v)", minTTL))
	}
}

// parse parses args: the command's flags and the global client flags,
// anywhere before "--". It prints --help, or the one line of a usage error,
// and returns ok = false with the exit code when the command should end.
func (c *command) parse(args []string, stdout io.Writer) (code int, ok bool) {
	c.globals(c.fs)
	pos, rest, err := parseArgs(c.fs, args)
	if errors.Is(err, flag.ErrHelp) {
		writeHelp(stdout, c.usage, c.fs, c.shared)
		return exitOK, false
	}
	if err != nil {
		return c.usageError("%s", flagError(err)), false
	}
	if err := c.g.checkBefore(c.fs); err != nil {
		return c.usageError("%v", err), false
	}
	c.pos, c.rest = pos, rest
	switch {
	case c.timeout != nil && *c.timeout < 0:
		return c.usageError("--timeout must not be negative"), false
	case c.ttl != nil && *c.ttl < minTTL:
		return c.usageError("--ttl %v is below the minimum of %v", *c.ttl, minTTL), false
	}
	for _, name := range c.counts {
		if !flagSet(c.fs, name) {
			return c.usageError("missing --%s N", name), false
		}
		if n := c.fs.Lookup(name).Value.(flag.Getter).Get().(int); n < 1 {
			return c.usageError("--%s must be at least 1", name), false
		}
	}
	return 0, true
}

// usageError prints a usage error with the command's usage line.
func (c *command) usageError(format string, args ...any) int {
	return c.failer.usage(c.usage, format, args...)
}

// name checks that the positional arguments are NAME alone (more, with
// "--" in the command's syntax, are CMD given without "--") and returns it.
func (c *command) name(wantCmd bool) (name string, code int, ok bool) {
	switch {
	case len(c.pos) == 0 || c.pos[0] == "":
		return "", c.usageError("missing NAME"), false
	case len(c.pos) > 1 && wantCmd && c.rest == nil:
		return "", c.usageError("missing \"--\" before CMD"), false
	case len(c.pos) > 1:
		return "", c.usageError("unexpected argument %q", c.pos[1]), false
	case !wantCmd && c.rest != nil:
		return "", c.usageError("unexpected \"--\""), false
	case wantCmd && c.rest == nil:
		return "", c.usageError("missing \"--\" and CMD"), false
	case wantCmd && len(c.rest) == 0:
		return "", c.usageError("missing CMD after \"--\""), false
	}
	return c.pos[0], 0, true
}

// count adds a flag N that the command requires, at least 1 (sem's --limit,
// barrier's --parties); parse checks it.
func (c *command) count(name, usage string) *int {
	c.counts = append(c.counts, name)
	return c.fs.Int(name, 0, usage+" (required, at least 1)")
}

// connect catches SIGINT, SIGTERM and SIGHUP from here on (see signals) and
// reaches the cluster with a session of --ttl, ended early by a signal. It
// prints a failure and returns its exit code, or ok = true with the
// connection and the signals, which the caller stops with stop.
func (c *command) connect() (cn *conn, sigs <-chan os.Signal, stop func(), code int, ok bool) {
	ch, stop := signals()
	ttl := time.Duration(0)
	if c.ttl != nil {
		ttl = *c.ttl
	}
	cn, code, ok = c.g.connectOrInterrupt(ch, ttl, c.failer)
	if !ok {
		stop()
		return nil, nil, nil, code, false
	}
	return cn, ch, stop, 0, true
}

// nameAndConnect is name, then connect: the start of every command that
// works on one NAME in the cluster.
func (c *command) nameAndConnect(wantCmd bool) (name string, cn *conn, sigs <-chan os.Signal, stop func(), code int, ok bool) {
	if name, code, ok = c.name(wantCmd); ok {
		cn, sigs, stop, code, ok = c.connect()
	}
	return name, cn, sigs, stop, code, ok
}

// wait runs a wait on other processes within --timeout, ended early by a
// signal on sigs (see waitInterruptible).
func (c *command) wait(sigs <-chan os.Signal, wait func(ctx context.Context) error) waitResult {
	return waitInterruptible(sigs, *c.timeout, wait)
}

// waitFailed prints a failed wait for what and returns its exit code (see
// failer.waitFailed).
func (c *command) waitFailed(what string, r waitResult) int {
	return c.failer.waitFailed(what, r, *c.timeout)
}

// writeHelp prints a command's --help: its usage line, the flags the usage
// line names, and the global flags (shared) the command also takes, which
// the usage line leaves to "coord --help".
func writeHelp(w io.Writer, usage string, fs *flag.FlagSet, shared []string) {
	fmt.Fprintln(w, usage)
	fmt.Fprintln(w, "\nflags:")
	printFlags(w, fs, func(name string) bool { return !slices.Contains(shared, name) })
	if len(shared) > 0 {
		fmt.Fprintln(w, "\nglobal flags (before or after the command):")
		printFlags(w, fs, func(name string) bool { return slices.Contains(shared, name) })
	}
}
