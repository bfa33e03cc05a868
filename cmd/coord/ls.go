package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// cmdLs runs `coord ls`: one row per live holder, reader, waiter, leader or
// candidate of a lock, semaphore, election, barrier or event, and per set
// event, whose name starts with PREFIX; with --watch, the same again on
// every change until interrupted.
func cmdLs(g globalFlags, args []string, stdout, stderr io.Writer) int {
	c := newCommand("ls", usageLs, g, stderr)
	asJSON := c.fs.Bool("json", false, "print the rows as a JSON array (with --watch: one array per line per change)")
	watch := c.fs.Bool("watch", false, "print the rows again on every change until interrupted (on a terminal: redraw the screen)")
	if code, ok := c.parse(args, stdout); !ok {
		return code
	}
	if c.rest != nil {
		return c.usageError("unexpected \"--\"")
	}
	if len(c.pos) > 1 {
		return c.usageError("unexpected argument %q", c.pos[1])
	}
	l := lister{prefix: listPrefix(c.g.prefix), json: *asJSON}
	if len(c.pos) == 1 {
		l.name = c.pos[0]
	}

	cli, err := c.g.client()
	if err != nil {
		return c.cluster("connect", err)
	}
	defer cli.Close()
	if *watch {
		return l.watch(c, cli, stdout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	all, err := etcd.List(ctx, cli, c.g.prefix)
	if err != nil {
		return c.cluster("list", err)
	}
	io.WriteString(stdout, l.render(all))
	return exitOK
}

// listPrefix is the key namespace that etcd.List reads for prefix, as the
// empty line names it.
func listPrefix(prefix string) string {
	if prefix == "" {
		return "/coord/"
	}
	if !strings.HasSuffix(prefix, "/") {
		return prefix + "/"
	}
	return prefix
}

// A lister prints the rows of `coord ls`.
type lister struct {
	prefix string // the key namespace, as the empty line names it
	name   string // PREFIX: only names that start with it
	json   bool
}

// render returns what ls prints for the rows all: a JSON array on one line,
// or a table, or with no rows one line that says so (a blank screen or an
// empty output reads as "ls is broken" or "still loading").
func (l lister) render(all []etcd.Entry) string {
	rows := []etcd.Entry{} // "[]", not "null", when there is none
	for _, e := range all {
		if strings.HasPrefix(e.Name, l.name) {
			rows = append(rows, e)
		}
	}
	if l.json {
		b, _ := json.Marshal(rows) // Entry has nothing that fails to marshal
		return string(b) + "\n"
	}
	if len(rows) == 0 {
		if l.name != "" {
			return fmt.Sprintf("no holders, waiters or set events under %s with a name starting %q\n", l.prefix, l.name)
		}
		return fmt.Sprintf("no holders, waiters or set events under %s\n", l.prefix)
	}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSTATE\tTOKEN\tWHO\tSINCE")
	for _, e := range rows {
		since := "-"
		if !e.Since.IsZero() {
			since = e.Since.Local().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.Kind, e.State, strconv.FormatInt(e.Token, 10), orDash(e.Who), since)
	}
	tw.Flush()
	return b.String()
}

// clearScreen moves a terminal's cursor home and clears the screen.
const clearScreen = "\x1b[H\x1b[2J"

// watch runs `coord ls --watch`: it prints the rows, then prints them
// again each time they change, until SIGINT, SIGTERM or SIGHUP, and exits 0
// then. Interrupting is how a watch ends, not a wait given up (the 128+N of
// an interrupted wait says "the thing waited for did not happen"; a watch
// waits for nothing), so `coord ls --watch; next` and `set -e` scripts go
// on. Interrupted before the first rows, while reaching the cluster, it
// exits 128+N as any command interrupted while connecting does.
//
// On a terminal each change clears the screen and draws the table under a
// line with the time of the change. Elsewhere (a pipe, a file) each change
// appends that time line and the table, after a blank line, so the output
// is a log of the changes; with --json, each change is one JSON array on
// one line, with no time line.
func (l lister) watch(c *command, cli *clientv3.Client, stdout io.Writer) int {
	sigs, stop := signals()
	defer stop()
	rows, code, ok := c.firstRows(cli, sigs)
	if !ok {
		return code
	}
	tty := isTerminal(stdout)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := etcd.WatchList(ctx, cli, c.g.prefix)
	var last string
	for n := 0; ; n++ {
		if out := l.render(rows); out != last {
			last = out
			switch {
			case l.json:
			case tty:
				out = clearScreen + time.Now().Format(time.RFC3339) + "\n" + out
			case n > 0:
				out = "\n" + time.Now().Format(time.RFC3339) + "\n" + out
			default:
				out = time.Now().Format(time.RFC3339) + "\n" + out
			}
			io.WriteString(stdout, out)
		}
		select {
		case <-sigs:
			return exitOK
		case next, ok := <-changes:
			if !ok {
				return exitOK
			}
			rows = next
		}
	}
}

// firstRows reads the rows once before a command follows them (ls --watch,
// ui), within connectTimeout and ended early by a signal on sigs, so that an
// unreachable cluster or a wrong --prefix or --user fails at once, in one
// line, rather than showing nothing for ever. It prints the failure and
// returns its exit code (128+N when interrupted), or the rows and ok.
func (c *command) firstRows(cli *clientv3.Client, sigs <-chan os.Signal) (rows []etcd.Entry, code int, ok bool) {
	r := waitInterruptible(sigs, 0, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, connectTimeout)
		defer cancel()
		var err error
		rows, err = etcd.List(ctx, cli, c.g.prefix)
		return err
	})
	switch {
	case r.sig != nil:
		fmt.Fprintf(c.stderr, "%s: interrupted (%v) while connecting to etcd at %s\n", c.cmd, r.sig, c.g.endpoints)
		return nil, signalExit(r.sig), false
	case r.err != nil:
		return nil, c.cluster("list", r.err), false
	}
	return rows, 0, true
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
