//go:build unix && !linux

package main

import "syscall"

// setParentDeathSignal does nothing where the system has no parent-death
// signal: if coord is killed outright, CMD runs on.
func setParentDeathSignal(*syscall.SysProcAttr) {}
