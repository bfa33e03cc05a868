package main

import (
	"context"
	"fmt"
	"io"

	"github.com/coordkit/coord/etcd"
)

// cmdBarrier runs `coord barrier NAME --parties N`: it returns once N
// processes have arrived, and prints this one's index in the round.
func cmdBarrier(g globalFlags, args []string, stdout, stderr io.Writer) int {
	c := newCommand("barrier", usageBarrier, g, stderr)
	c.waitFlags(true)
	parties := c.count("parties", "how many processes make a round")
	if code, ok := c.parse(args, stdout); !ok {
		return code
	}

	name, cn, sigs, stopSignals, code, ok := c.nameAndConnect(false)
	if !ok {
		return code
	}
	defer stopSignals()
	defer cn.close()
	b := etcd.NewBarrier(cn.sess, name, *parties)
	index := -1
	r := c.wait(sigs, func(ctx context.Context) error {
		i, err := b.Wait(ctx)
		index = i
		return err
	})
	if r.err != nil { // a round that tripped as a signal came counts
		return c.waitFailed(fmt.Sprintf("barrier %q", name), r)
	}
	fmt.Fprintln(stdout, index)
	return exitOK
}
