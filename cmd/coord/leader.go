package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// noLeader is the line `coord leader --watch` prints while nobody leads: the
// three fields of a leader's line, with TOKEN 0, which no leader has (a
// leader's token is its key's create revision, at least 2).
const noLeader = "- 0 -"

// usageLeader is leader's usage line, as main.go's usage block has the others.
const usageLeader = "usage: coord leader NAME [--watch]"

// cmdLeader runs `coord leader NAME [--watch]`: it prints the value of the
// election's leader, or exits 3 when nobody leads; with --watch it prints the
// leader now and then one line per change, until interrupted.
func cmdLeader(g globalFlags, args []string, stdout, stderr io.Writer) int {
	c := newCommand("leader", usageLeader, g, stderr)
	watch := c.fs.Bool("watch", false, `print "VALUE TOKEN WHO" now and on every change of leader or value, "`+noLeader+`" while nobody leads, until interrupted`)
	if code, ok := c.parse(args, stdout); !ok {
		return code
	}
	name, cn, sigs, stopSignals, code, ok := c.nameAndConnect(false)
	if !ok {
		return code
	}
	defer stopSignals()
	defer cn.close()
	e := etcd.NewElection(cn.sess, name)
	what := fmt.Sprintf("election %q", name)
	if *watch {
		return c.watchLeader(cn, e, sigs, what, stdout)
	}

	var l etcd.Leader
	var leads bool
	if code, ok := c.call(sigs, "read the leader of "+what, func(ctx context.Context) (err error) {
		l, leads, err = e.Leader(ctx)
		return err
	}); !ok {
		return code
	}
	if !leads {
		fmt.Fprintf(c.stderr, "%s: nobody leads %s; candidates campaign with `coord elect %s -- CMD`, and `coord leader %s --watch` waits for one\n",
			c.cmd, what, name, name)
		return exitTimeout
	}
	fmt.Fprintln(stdout, l.Value)
	return exitOK
}

// watchLeader prints the election's leader now and each change after it,
// one line each (leaderLine), until SIGINT, SIGTERM or SIGHUP (exit 0, as
// for ls --watch: a watch waits for nothing, so stopping it is no failure)
// or the end of the session (exit 1). Interrupted while it first reads the
// cluster, it exits 128 plus the signal's number, as every command does.
//
// Observe sends the leader now and then every change in order, but nothing
// while nobody leads at its start. So the watch first reads the election's
// keys itself (their range is the package's documented key layout): when
// there are none, it prints noLeader and drops any leader Observe then
// reports with a token below that read's revision, one that was already
// gone by then (tokens are create revisions, and nobody led at that read).
// Observe keeps the order from there on.
func (c *command) watchLeader(cn *conn, e *etcd.Election, sigs <-chan os.Signal, what string, stdout io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := e.Observe(ctx)
	drain := func() {
		cancel()
		for range changes { // Observe's sender must be received from until it closes
		}
	}
	var keys *clientv3.GetResponse
	rng := cn.sess.Prefix() + "election/" + url.PathEscape(e.Name()) + "/"
	if code, ok := c.call(sigs, "read the leader of "+what, func(ctx context.Context) (err error) {
		keys, err = cn.cli.Get(ctx, rng, clientv3.WithPrefix(), clientv3.WithCountOnly())
		return err
	}); !ok {
		drain()
		return code
	}
	var floor int64 // leaders with a lower token were gone before the watch began
	last := ""
	if keys.Count == 0 {
		floor, last = keys.Header.Revision, noLeader
		fmt.Fprintln(stdout, last)
	}
	for {
		select {
		case l, ok := <-changes:
			if !ok { // the session is done: Observe closes for no other reason
				err := cn.sess.Err()
				if err == nil {
					err = etcd.ErrSessionDone
				}
				return c.cluster("watch the leader of "+what, err)
			}
			if l.Token != 0 && l.Token < floor {
				continue
			}
			if line := leaderLine(l); line != last {
				last = line
				fmt.Fprintln(stdout, line)
			}
		case <-sigs:
			// Stopping is how a watch ends, not a wait given up: exit 0,
			// as ls --watch, serve and ui do.
			drain()
			return exitOK
		}
	}
}

// call runs one call on the cluster that does not wait on other processes,
// within opTimeout and ended early by a signal on sigs. It prints a failure
// and returns its exit code, or ok = true.
func (c *command) call(sigs <-chan os.Signal, what string, call func(ctx context.Context) error) (code int, ok bool) {
	r := waitInterruptible(sigs, 0, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		return call(ctx)
	})
	switch {
	case r.sig != nil:
		fmt.Fprintf(c.stderr, "%s: interrupted (%v) while trying to %s\n", c.cmd, r.sig, what)
		return signalExit(r.sig), false
	case r.err != nil:
		return c.cluster(what, r.err), false
	}
	return 0, true
}

// leaderLine is the line `coord leader --watch` prints for l: "VALUE TOKEN
// WHO", or noLeader when nobody leads. TOKEN and WHO (host:pid) never hold
// a space; VALUE is quoted, as a Go string, when it is empty, holds a space
// or a character that does not print, or begins with a quote, so that the
// line always splits into three fields.
func leaderLine(l etcd.Leader) string {
	if l.Token == 0 {
		return noLeader
	}
	v := l.Value
	if v == "" || strings.HasPrefix(v, `"`) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
		v = strconv.Quote(v)
	}
	who := l.Who
	if who == "" {
		who = "-"
	}
	return v + " " + strconv.FormatInt(l.Token, 10) + " " + who
}
