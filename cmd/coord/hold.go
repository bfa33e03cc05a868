package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/coordkit/coord/etcd"
)

const (
	usageLock = "usage: coord lock NAME [--timeout D] [--ttl D] -- CMD ARGS..."
	usageSem  = "usage: coord sem NAME --limit N [--timeout D] [--ttl D] -- CMD ARGS..."
)

// A holder is what `lock` and `sem` hold while CMD runs: an etcd Mutex or
// Semaphore.
type holder interface {
	acquire(ctx context.Context) error
	release(ctx context.Context) error
	token() int64
	lost() <-chan struct{}
}

type mutexHolder struct{ m *etcd.Mutex }

func (h mutexHolder) acquire(ctx context.Context) error { return h.m.Lock(ctx) }
func (h mutexHolder) release(ctx context.Context) error { return h.m.Release(ctx) }
func (h mutexHolder) token() int64                      { return h.m.Token() }
func (h mutexHolder) lost() <-chan struct{}             { return h.m.Lost() }

type semHolder struct{ s *etcd.Semaphore }

func (h semHolder) acquire(ctx context.Context) error { return h.s.Acquire(ctx) }
func (h semHolder) release(ctx context.Context) error { return h.s.Release(ctx) }
func (h semHolder) token() int64                      { return h.s.Token() }
func (h semHolder) lost() <-chan struct{}             { return h.s.Lost() }

// cmdHold runs `coord lock` and `coord sem`: CMD runs while NAME is held.
func cmdHold(kind string, g globalFlags, args []string, stdout, stderr io.Writer) int {
	usage := usageLock
	if kind == "sem" {
		usage = usageSem
	}
	f := failer{cmd: "coord " + kind, stderr: stderr, g: &g}
	fs := newFlagSet(kind)
	timeout := fs.Duration("timeout", 0, "give up waiting after this long (exit 3); 0 waits for ever")
	ttl := fs.Duration("ttl", 0, "lease TTL: how long others wait for a holder that died (default 10s, minimum 1s)")
	var limit *int
	if kind == "sem" {
		limit = fs.Int("limit", 0, "how many may hold NAME at once (required, at least 1)")
	}
	pos, cmdArgs, code, done := parseCommand(fs, &g, args, usage, stdout, f)
	if done {
		return code
	}
	switch {
	case len(pos) == 0 || pos[0] == "":
		return f.usage(usage, "missing NAME")
	case len(pos) > 1:
		if cmdArgs == nil {
			return f.usage(usage, "missing \"--\" before CMD")
		}
		return f.usage(usage, "unexpected argument %q", pos[1])
	case cmdArgs == nil:
		return f.usage(usage, "missing \"--\" and CMD")
	case len(cmdArgs) == 0:
		return f.usage(usage, "missing CMD after \"--\"")
	case limit != nil && !flagSet(fs, "limit"):
		return f.usage(usage, "missing --limit N")
	case limit != nil && *limit < 1:
		return f.usage(usage, "--limit must be at least 1")
	case *timeout < 0:
		return f.usage(usage, "--timeout must not be negative")
	case *ttl < 0:
		return f.usage(usage, "--ttl must not be negative")
	}
	name := pos[0]

	// Signals are caught from here on: while waiting they end the wait
	// (leaving no key), while CMD runs they are forwarded to it.
	sigs, stopSignals := signals()
	defer stopSignals()

	c, code, ok := g.connectOrInterrupt(sigs, *ttl, f)
	if !ok {
		return code
	}
	var h holder
	what := fmt.Sprintf("lock %q", name)
	if kind == "sem" {
		h = semHolder{etcd.NewSemaphore(c.sess, name, *limit)}
		what = fmt.Sprintf("semaphore %q", name)
	} else {
		h = mutexHolder{etcd.NewMutex(c.sess, name)}
	}

	r := waitInterruptible(sigs, *timeout, h.acquire)
	if r.err != nil || r.sig != nil {
		if r.err == nil { // acquired as the signal came: give it back
			rctx, cancel := context.WithTimeout(context.Background(), opTimeout)
			h.release(rctx)
			cancel()
		}
		c.close()
		if r.err == nil {
			r.err = context.Canceled
		}
		return f.waitFailed(what, r, *timeout)
	}

	code, lost := runHeld(h, c.sess, cmdArgs, sigs, stderr, f.cmd)
	if lost {
		// Act locally and at once: CMD is dead, and the cluster may be out
		// of reach, so neither release nor close the session (the lease
		// expires on its own, or has already).
		fmt.Fprintf(stderr, "%s: lost the hold on %s (%v) while CMD ran; CMD and its process group were killed. Check the cluster's health and the network, then retry\n",
			f.cmd, what, sessionReason(c.sess))
		return exitLost
	}
	rctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	err := h.release(rctx)
	cancel()
	c.close()
	if err != nil && code == 0 {
		// CMD succeeded, but the hold could not be released cleanly; the
		// lease will free it. Report, and keep CMD's code.
		fmt.Fprintf(stderr, "%s: CMD finished but releasing %s failed (%v); it is freed when the lease expires\n", f.cmd, what, err)
	}
	return code
}

// sessionReason says why a hold ended, for the message of a lost hold.
func sessionReason(s *etcd.Session) string {
	if err := s.Err(); err != nil {
		return err.Error()
	}
	return "its key was deleted"
}

// runHeld runs CMD with COORD_FENCING_TOKEN set, in a process group of its
// own, forwarding SIGINT and SIGTERM to that group. It returns CMD's exit
// code, or lost = true when the hold was lost first: CMD's process group
// then got SIGTERM and, unless it had gone, SIGKILL within half the
// session's safety margin, so that it stops before any other process can be
// granted the hold.
func runHeld(h holder, sess *etcd.Session, args []string, sigs <-chan os.Signal, stderr io.Writer, name string) (code int, lost bool) {
	select {
	case <-h.lost(): // lost between the grant and now: do not start CMD
		return exitLost, true
	default:
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "COORD_FENCING_TOKEN="+strconv.FormatInt(h.token(), 10))
	// CMD gets a process group of its own, so that a lost hold reaches its
	// children too, and where the system has one a parent-death signal, so
	// that it does not outlive coord (see proc_*.go).
	prepareCmd(cmd)
	if err := cmd.Start(); err != nil {
		// The shell's codes: 127 not found, 126 found but not runnable.
		code, hint := 126, "check that it is an executable file"
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			code, hint = 127, "check the command's name and PATH"
		}
		fmt.Fprintf(stderr, "%s: cannot run %s: %v; %s\n", name, args[0], err, hint)
		return code, false
	}
	ignoreJobControlStops()
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()

	for {
		select {
		case <-waited:
			return exitCodeOf(cmd.ProcessState), false
		case s := <-sigs:
			signalGroup(cmd, s)
		case <-h.lost():
			grace := sess.SafetyMargin() / 2
			signalGroup(cmd, syscall.SIGTERM)
			deadline := time.NewTimer(grace)
			tick := time.NewTicker(10 * time.Millisecond)
		wait:
			for {
				select {
				case <-deadline.C:
					break wait
				case <-tick.C:
					if groupGone(cmd, waited) {
						break wait
					}
				}
			}
			tick.Stop()
			deadline.Stop()
			signalGroup(cmd, os.Kill)
			select {
			case <-waited:
			case <-time.After(time.Second):
			}
			return exitCodeOf(cmd.ProcessState), true
		}
	}
}

// exitCodeOf returns a finished CMD's exit code, 128 plus the signal's
// number when a signal ended it, as shells report it.
func exitCodeOf(ps *os.ProcessState) int {
	if ps == nil {
		return exitFailure
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
