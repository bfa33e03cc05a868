package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/coordkit/coord/etcd"
)

// signals delivers SIGINT, SIGTERM and SIGHUP to the returned channel
// instead of ending the process; stop undoes that.
func signals() (ch chan os.Signal, stop func()) {
	ch = make(chan os.Signal, 4)
	// SIGHUP too: a closed terminal sends it to coord's group, not to CMD's,
	// and CMD must not outlive coord's hold.
	signal.Notify(ch, forwarded...)
	return ch, func() { signal.Stop(ch) }
}

// signalExit is the exit code of a process ended by sig: 128 plus its number.
func signalExit(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}

// waitResult is the outcome of waitInterruptible.
type waitResult struct {
	err error
	sig os.Signal // the signal that interrupted the wait, if any
}

// waitInterruptible runs wait with a ctx that ends at timeout (when it is
// positive) or when SIGINT or SIGTERM arrives, and returns once wait has
// returned, so that a wait that gave up has also cleaned up after itself (a
// waiter's key is deleted before Lock returns).
func waitInterruptible(sigs <-chan os.Signal, timeout time.Duration, wait func(ctx context.Context) error) waitResult {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if timeout > 0 {
		var c context.CancelFunc
		ctx, c = context.WithTimeout(ctx, timeout)
		defer c()
	}
	done := make(chan error, 1)
	go func() { done <- wait(ctx) }()
	var sig os.Signal
	for {
		select {
		case err := <-done:
			return waitResult{err: err, sig: sig}
		case s := <-sigs:
			if sig == nil {
				sig = s
			}
			cancel()
		}
	}
}

// waitFailed turns a failed wait into the line on stderr and the exit code:
// 128+signal when interrupted, 3 when --timeout ran out, 2 when the
// command's --limit or --parties differs from the one in use on the name (a
// mistake in the command line, caught before anything was written), 1
// otherwise.
func (f failer) waitFailed(what string, r waitResult, timeout time.Duration) int {
	var mismatch *etcd.MismatchError
	switch {
	case r.sig != nil:
		fmt.Fprintf(f.stderr, "%s: interrupted (%v) while waiting for %s; left nothing behind\n", f.cmd, r.sig, what)
		return signalExit(r.sig)
	case r.err == context.DeadlineExceeded && timeout > 0: // ctx.Err() itself, not a cluster error that wraps one
		hint := "see who holds it and who waits with `coord ls`, or wait longer"
		switch {
		case strings.HasPrefix(what, "event "):
			hint = "nobody set it; set it with `coord event set NAME`, or wait longer"
		case strings.HasPrefix(what, "barrier "):
			hint = "too few parties arrived; see who waits with `coord ls`, or wait longer"
		case strings.HasPrefix(what, "leadership "):
			hint = "another candidate leads; see who with `coord leader NAME` or `coord ls`, or wait longer"
		}
		fmt.Fprintf(f.stderr, "%s: gave up waiting for %s after %v (--timeout); %s\n", f.cmd, what, timeout, hint)
		return exitTimeout
	case errors.As(r.err, &mismatch):
		// The library's own line, "limit 3 differs from limit 5 in use by
		// 2 holders/waiters", names both numbers.
		fmt.Fprintf(f.stderr, "%s: %s: %s; pass --%s %d as they do, or use another NAME\n",
			f.cmd, what, strings.TrimPrefix(mismatch.Error(), "coord/etcd: "), mismatch.What, mismatch.InUse)
		return exitUsage
	default:
		return f.cluster("waiting for "+what, r.err)
	}
}
