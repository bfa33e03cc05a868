//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwarded are the signals coord catches: they end a wait, and while CMD
// runs they are passed on to its process group.
var forwarded = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// prepareCmd puts CMD in a process group of its own, so that a lost hold can
// kill its children too, and, when coord's stdin is its controlling terminal
// and coord's group is the terminal's foreground, makes CMD's group the
// foreground instead: an interactive CMD (an editor, a shell) then reads the
// terminal and gets its Ctrl-C, rather than being stopped by SIGTTIN as a
// background group that reads is. The child process itself does the
// tcsetpgrp, with every signal blocked, before it runs CMD, so CMD never
// runs in the background of a terminal it was meant to have.
//
// giveBack makes coord's group the foreground again (once, however often it
// is called); coord calls it as soon as CMD has exited or been killed, also
// when CMD could not be started, since the child may have taken the
// terminal before its exec failed. coord is a background group by then, and
// a background group that sets the foreground is sent SIGTTOU, which would
// stop it: giveBack ignores SIGTTOU first. It is not ignored before CMD
// starts, for CMD would inherit the ignored disposition.
func prepareCmd(cmd *exec.Cmd) (giveBack func()) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(cmd.SysProcAttr)
	const tty = 0 // coord's stdin, CMD's stdin too
	fg, err := unix.IoctlGetInt(tty, unix.TIOCGPGRP)
	if err != nil || fg != unix.Getpgrp() {
		// Not a terminal, not coord's controlling terminal, or coord runs
		// in the background (`coord lock x -- cmd &`): taking the
		// foreground would take it from the shell.
		return func() {}
	}
	cmd.SysProcAttr.Foreground = true
	cmd.SysProcAttr.Ctty = tty
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Ignore(syscall.SIGTTOU)
			unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, fg)
		})
	}
}

// ignoreJobControlStops keeps coord running while it holds: a Ctrl-Z
// (SIGTSTP), or a write to the terminal from a background job under
// `stty tostop` (SIGTTOU), would otherwise stop coord but not CMD, which is
// in a group of its own. A stopped coord renews no lease: the hold expires
// and another process is granted it while CMD still runs, and coord, being
// stopped, cannot kill CMD in time. Called after CMD has started, so that CMD
// does not inherit the ignored dispositions.
func ignoreJobControlStops() {
	signal.Ignore(syscall.SIGTSTP, syscall.SIGTTOU, syscall.SIGTTIN)
}

// waitCmd waits for CMD to exit and returns its exit code (see
// waitStatusCode). A CMD that stops is continued at once: with the terminal's
// foreground, it, not coord, gets the terminal's Ctrl-Z, and stopped it would
// hold NAME while the shell that waits on coord could not resume it. So
// Ctrl-Z does nothing while CMD runs, in the foreground or not (see
// ignoreJobControlStops); an editor that suspends itself on ^Z is resumed
// and redraws.
//
// It reaps CMD itself, with wait4 and WUNTRACED, since cmd.Wait does not
// report stops; cmd.Wait must not be called.
func waitCmd(cmd *exec.Cmd) int {
	pid := cmd.Process.Pid
	for {
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(pid, &ws, syscall.WUNTRACED, nil)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return exitFailure
		case ws.Stopped():
			syscall.Kill(-pid, syscall.SIGCONT)
			continue
		}
		cmd.Process.Release()
		return waitStatusCode(ws)
	}
}

// waitStatusCode returns a finished CMD's exit code, 128 plus the signal's
// number when a signal ended it, as shells report it.
func waitStatusCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// signalGroup sends sig to CMD's process group.
func signalGroup(cmd *exec.Cmd, sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		syscall.Kill(-cmd.Process.Pid, s)
	}
}

// groupGone reports whether CMD has been reaped and no process of its group
// is left (kill(-pgid, 0) fails with ESRCH).
func groupGone(cmd *exec.Cmd, waited <-chan struct{}) bool {
	select {
	case <-waited:
		return syscall.Kill(-cmd.Process.Pid, 0) == syscall.ESRCH
	default:
		return false
	}
}

// lockDataDir takes an exclusive lock on a file in dir, held until the
// returned file is closed (or the process ends), so that two servers never
// share a data directory: etcd itself would wait without end on its own
// lock of the database.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "coord-serve.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if err == syscall.EWOULDBLOCK {
			return nil, fmt.Errorf("data directory %s is in use by another server", dir)
		}
		return nil, fmt.Errorf("data directory %s: lock: %w", dir, err)
	}
	return f, nil
}
