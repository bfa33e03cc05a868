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

const usageLs = "usage: coord ls [PREFIX] [--json]"

// cmdLs runs `coord ls`: one row per live holder or waiter of a lock,
// semaphore or barrier, and per set event, whose name starts with PREFIX.
func cmdLs(g globalFlags, args []string, stdout, stderr io.Writer) int {
	f := failer{cmd: "coord ls", stderr: stderr, g: &g}
	fs := newFlagSet("ls")
	asJSON := fs.Bool("json", false, "print the rows as a JSON array")
	pos, rest, code, done := parseCommand(fs, &g, args, usageLs, stdout, f)
	if done {
		return code
	}
	if rest != nil {
		return f.usage(usageLs, "unexpected \"--\"")
	}
	if len(pos) > 1 {
		return f.usage(usageLs, "unexpected argument %q", pos[1])
	}
	namePrefix := ""
	if len(pos) == 1 {
		namePrefix = pos[0]
	}

	cli, err := g.client()
	if err != nil {
		return f.cluster("connect", err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	all, err := etcd.List(ctx, cli, g.prefix)
	if err != nil {
		return f.cluster("list", err)
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
