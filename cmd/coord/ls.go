package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coordkit/coord/etcd"
)

// cmdLs runs `coord ls`: one row per live holder or waiter of a lock,
// semaphore or barrier, and per set event, whose name starts with PREFIX.
func cmdLs(g globalFlags, args []string, stdout, stderr io.Writer) int {
	c := newCommand("ls", usageLs, g, stderr)
	asJSON := c.fs.Bool("json", false, "print the rows as a JSON array")
	if code, ok := c.parse(args, stdout); !ok {
		return code
	}
	if c.rest != nil {
		return c.usageError("unexpected \"--\"")
	}
	if len(c.pos) > 1 {
		return c.usageError("unexpected argument %q", c.pos[1])
	}
	namePrefix := ""
	if len(c.pos) == 1 {
		namePrefix = c.pos[0]
	}

	cli, err := c.g.client()
	if err != nil {
		return c.cluster("connect", err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	all, err := etcd.List(ctx, cli, c.g.prefix)
	if err != nil {
		return c.cluster("list", err)
	}
	rows := []etcd.Entry{} // "[]", not "null", when there is none
	for _, e := range all {
		if strings.HasPrefix(e.Name, namePrefix) {
			rows = append(rows, e)
		}
	}
	if *asJSON {
		b, err := json.Marshal(rows)
		if err != nil {
			fmt.Fprintf(stderr, "coord ls: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	if len(rows) == 0 {
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSTATE\tTOKEN\tWHO\tSINCE")
	for _, e := range rows {
		since := "-"
		if !e.Since.IsZero() {
			since = e.Since.Local().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.Kind, e.State, strconv.FormatInt(e.Token, 10), orDash(e.Who), since)
	}
	tw.Flush()
	return exitOK
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
