package main

import (
	"runtime"
	"syscall"
)

// setParentDeathSignal makes the kernel SIGKILL CMD if coord dies (kill -9,
// the OOM killer): coord's lease then expires within its TTL and another
// process may be granted the hold, so CMD must not run on. The kernel sends
// the signal when the thread that forked CMD exits, so that thread is kept:
// the calling goroutine is locked to it and never unlocked, and Go does not
// end a thread whose goroutine still runs.
func setParentDeathSignal(a *syscall.SysProcAttr) {
	runtime.LockOSThread()
	a.Pdeathsig = syscall.SIGKILL
}
