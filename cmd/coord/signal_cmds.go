package main

import (
	"context"
	"fmt"
	"io"

	"github.com/coordkit/coord/etcd"
)

const (
	usageEvent   = "usage: coord event set|clear|wait NAME [--timeout D]"
	usageBarrier = "usage: coord barrier NAME --parties N [--timeout D]"
)

// cmdEvent runs `coord event set|clear|wait NAME`.
func cmdEvent(g globalFlags, args []string, stdout, stderr io.Writer) int {
	f := failer{cmd: "coord event", stderr: stderr, g: &g}
	fs := newFlagSet("event")
	timeout := fs.Duration("timeout", 0, "wait: give up after this long (exit 3); 0 waits for ever")
	pos, rest, code, done := parseCommand(fs, &g, args, usageEvent, stdout, f)
	if done {
		return code
	}
	switch {
	case rest != nil:
		return f.usage(usageEvent, "unexpected \"--\"")
	case len(pos) == 0:
		return f.usage(usageEvent, "missing set, clear or wait")
	case pos[0] != "set" && pos[0] != "clear" && pos[0] != "wait":
		return f.usage(usageEvent, "unknown action %q (want set, clear or wait)", pos[0])
	case len(pos) == 1 || pos[1] == "":
		return f.usage(usageEvent, "missing NAME")
	case len(pos) > 2:
		return f.usage(usageEvent, "unexpected argument %q", pos[2])
	case *timeout < 0:
		return f.usage(usageEvent, "--timeout must not be negative")
	}
	action, name := pos[0], pos[1]
	f.cmd += " " + action

	sigs, stopSignals := signals()
	defer stopSignals()
	c, code, ok := g.connectOrInterrupt(sigs, 0, f)
	if !ok {
		return code
	}
	defer c.close()
	e := etcd.NewEvent(c.sess, name)
	what := fmt.Sprintf("event %q", name)
	switch action {
	case "set", "clear":
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		op := e.Set
		if action == "clear" {
			op = e.Clear
		}
		if err := op(ctx); err != nil {
			return f.cluster(action+" "+what, err)
		}
		return exitOK
	default:
		// A wait that succeeded as a signal came counts as a success.
		if r := waitInterruptible(sigs, *timeout, e.Wait); r.err != nil {
			return f.waitFailed(what, r, *timeout)
		}
		return exitOK
	}
}

// cmdBarrier runs `coord barrier NAME --parties N`: it returns once N
// processes have arrived, and prints this one's index in the round.
func cmdBarrier(g globalFlags, args []string, stdout, stderr io.Writer) int {
	f := failer{cmd: "coord barrier", stderr: stderr, g: &g}
	fs := newFlagSet("barrier")
	parties := fs.Int("parties", 0, "how many processes make a round (required, at least 1)")
	timeout := fs.Duration("timeout", 0, "give up after this long (exit 3); 0 waits for ever")
	ttl := fs.Duration("ttl", 0, "lease TTL: how long the others count a party that died (default 10s)")
	pos, rest, code, done := parseCommand(fs, &g, args, usageBarrier, stdout, f)
	if done {
		return code
	}
	switch {
	case rest != nil:
		return f.usage(usageBarrier, "unexpected \"--\"")
	case len(pos) == 0 || pos[0] == "":
		return f.usage(usageBarrier, "missing NAME")
	case len(pos) > 1:
		return f.usage(usageBarrier, "unexpected argument %q", pos[1])
	case !flagSet(fs, "parties"):
		return f.usage(usageBarrier, "missing --parties N")
	case *parties < 1:
		return f.usage(usageBarrier, "--parties must be at least 1")
	case *timeout < 0:
		return f.usage(usageBarrier, "--timeout must not be negative")
	case *ttl < 0:
		return f.usage(usageBarrier, "--ttl must not be negative")
	}
	name := pos[0]

	sigs, stopSignals := signals()
	defer stopSignals()
	c, code, ok := g.connectOrInterrupt(sigs, *ttl, f)
	if !ok {
		return code
	}
	defer c.close()
	b := etcd.NewBarrier(c.sess, name, *parties)
	index := -1
	r := waitInterruptible(sigs, *timeout, func(ctx context.Context) error {
		i, err := b.Wait(ctx)
		index = i
		return err
	})
	if r.err != nil { // a round that tripped as a signal came counts
		return f.waitFailed(fmt.Sprintf("barrier %q", name), r, *timeout)
	}
	fmt.Fprintln(stdout, index)
	return exitOK
}
