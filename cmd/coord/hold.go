package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/coordkit/coord/etcd"
)

// A hold is what a holding command keeps while CMD runs: a Mutex's, an
// RWMutex's or a Semaphore's hold, or an Election's leadership, by the two
// methods every hold of the etcd module has.
type hold interface {
	Token() int64          // the fencing token CMD gets
	Lost() <-chan struct{} // closed when the hold ends without a release
}

// A holding is what one holding command takes for NAME: the hold, how to
// acquire and release it, and how messages name it.
type holding struct {
	what    string // `lock "x"`
	held    string // what a lost hold was, `the leadership of election "x"`; "" for `the hold on ` + what
	hold    hold
	acquire func(ctx context.Context) error
	release func(ctx context.Context) error
}

// holdAndRun is the one path of every command that runs CMD while holding
// NAME (lock, sem, elect), once the command has parsed and checked its own flags: check
// NAME and CMD, connect, acquire within --timeout, run CMD with its token
// while the hold lasts, and release. newHolding makes, on the session, what
// the command holds.
func (c *command) holdAndRun(newHolding func(s *etcd.Session, name string) holding) int {
	// Signals are caught from here on: while waiting they end the wait
	// (leaving no key), while CMD runs they are forwarded to it.
	name, cn, sigs, stopSignals, code, ok := c.nameAndConnect(true)
	if !ok {
		return code
	}
	defer stopSignals()
	h := newHolding(cn.sess, name)

	r := c.wait(sigs, h.acquire)
	if r.err != nil || r.sig != nil {
		if r.err == nil { // acquired as the signal came: give it back
			rctx, cancel := context.WithTimeout(context.Background(), opTimeout)
			h.release(rctx)
			cancel()
			r.err = context.Canceled
		}
		cn.close()
		return c.waitFailed(h.what, r)
	}

	code, lost := runHeld(h.hold, cn.sess, c.rest, sigs, c.stderr, c.cmd)
	if lost {
		// Act locally and at once: CMD is dead, and the cluster may be out
		// of reach, so neither release nor close the session (the lease
		// expires on its own, or has already).
		held := h.held
		if held == "" {
			held = "the hold on " + h.what
		}
		fmt.Fprintf(c.stderr, "%s: lost %s (%v) while CMD ran; CMD and its process group were killed. Check the cluster's health and the network, then retry\n",
			c.cmd, held, sessionReason(cn.sess))
		return exitLost
	}
	rctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	err := h.release(rctx)
	cancel()
	cn.close()
	if err != nil && code == 0 {
		// CMD succeeded, but the hold could not be released cleanly; the
		// lease will free it. Report, and keep CMD's code.
		fmt.Fprintf(c.stderr, "%s: CMD finished but releasing %s failed (%v); it is freed when the lease expires\n", c.cmd, h.what, err)
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
// own (the terminal's foreground group when coord has the terminal),
// forwarding SIGINT, SIGTERM and SIGHUP to that group. It returns CMD's exit
// code, or lost = true when the hold was lost first: CMD's process group
// then got SIGTERM and, unless it had gone, SIGKILL within half the
// session's safety margin, so that it stops before any other process can be
// granted the hold.
func runHeld(h hold, sess *etcd.Session, args []string, sigs <-chan os.Signal, stderr io.Writer, name string) (code int, lost bool) {
	select {
	case <-h.Lost(): // lost between the grant and now: do not start CMD
		return exitLost, true
	default:
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "COORD_FENCING_TOKEN="+strconv.FormatInt(h.Token(), 10))
	// CMD gets a process group of its own, so that a lost hold reaches its
	// children too, and where the system has one a parent-death signal, so
	// that it does not outlive coord; and the terminal, if coord has it
	// (see proc_*.go). Whatever happens to CMD, coord takes the terminal
	// back before it writes its last line.
	giveBack := prepareCmd(cmd)
	defer giveBack()
	if err := cmd.Start(); err != nil {
		// The shell's codes: 127 not found, 126 found but not runnable.
		code, hint := 126, "check that it is an executable file"
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			code, hint = 127, "check the command's name and PATH"
		}
		giveBack()
		fmt.Fprintf(stderr, "%s: cannot run %s: %v; %s\n", name, args[0], err, hint)
		return code, false
	}
	ignoreJobControlStops()
	waited := make(chan struct{})
	go func() { code = waitCmd(cmd); close(waited) }()

	for {
		select {
		case <-waited:
			return code, false
		case s := <-sigs:
			signalGroup(cmd, s)
		case <-h.Lost():
			killGroup(cmd, waited, sess.SafetyMargin()/2)
			giveBack()
			return exitLost, true
		}
	}
}

// killGroup ends CMD's process group after a lost hold: SIGTERM, and
// SIGKILL once grace has passed unless the group had gone by then.
func killGroup(cmd *exec.Cmd, waited <-chan struct{}, grace time.Duration) {
	signalGroup(cmd, syscall.SIGTERM)
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
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
	signalGroup(cmd, os.Kill)
	select {
	case <-waited:
	case <-time.After(time.Second):
	}
}
