package main

import (
	"context"
	"fmt"
	"io"

	"github.com/coordkit/coord/etcd"
)

// cmdEvent runs `coord event set|clear|wait NAME`.
func cmdEvent(g globalFlags, args []string, stdout, stderr io.Writer) int {
	c := newCommand("event", usageEvent, g, stderr)
	c.waitFlags(false)
	if code, ok := c.parse(args, stdout); !ok {
		return code
	}
	if len(c.pos) == 0 {
		return c.usageError("missing set, clear or wait")
	}
	action := c.pos[0]
	if action != "set" && action != "clear" && action != "wait" {
		return c.usageError("unknown action %q (want set, clear or wait)", action)
	}
	c.pos = c.pos[1:]
	name, code, ok := c.name(false)
	if !ok {
		return code
	}
	c.cmd += " " + action

	cn, sigs, stopSignals, code, ok := c.connect()
	if !ok {
		return code
	}
	defer stopSignals()
	defer cn.close()
	e := etcd.NewEvent(cn.sess, name)
	what := fmt.Sprintf("event %q", name)
	if action == "wait" {
		// A wait that succeeded as a signal came counts as a success.
		if r := c.wait(sigs, e.Wait); r.err != nil {
			return c.waitFailed(what, r)
		}
		return exitOK
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	op := e.Set
	if action == "clear" {
		op = e.Clear
	}
	if err := op(ctx); err != nil {
		return c.cluster(action+" "+what, err)
	}
	return exitOK
}
