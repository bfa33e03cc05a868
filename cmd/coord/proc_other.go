//go:build !unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
)

// forwarded are the signals coord catches: they end a wait, and while CMD
// runs they are passed on to it.
var forwarded = []os.Signal{os.Interrupt}

// prepareCmd does nothing without Unix process groups: a lost hold kills
// CMD itself, not its children, and there is no foreground to give CMD.
func prepareCmd(*exec.Cmd) (giveBack func()) { return func() {} }

// ignoreJobControlStops does nothing: there is no job control to stop coord.
func ignoreJobControlStops() {}

// waitCmd waits for CMD to exit and returns its exit code.
func waitCmd(cmd *exec.Cmd) int {
	cmd.Wait()
	if cmd.ProcessState == nil {
		return exitFailure
	}
	return cmd.ProcessState.ExitCode()
}

// signalGroup sends sig to CMD; os.Kill is the only signal every system can
// send, so any other kills CMD as well.
func signalGroup(cmd *exec.Cmd, sig os.Signal) {
	if cmd.Process.Signal(sig) != nil {
		cmd.Process.Kill()
	}
}

// groupGone reports whether CMD has exited.
func groupGone(_ *exec.Cmd, waited <-chan struct{}) bool {
	select {
	case <-waited:
		return true
	default:
		return false
	}
}

// lockDataDir opens a lock file in dir; without flock it does not keep a
// second server out.
func lockDataDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, "coord-serve.lock"), os.O_CREATE|os.O_RDWR, 0o600)
}
