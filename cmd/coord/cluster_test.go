//go:build unix

package main

import (
	"errors"
	"os/exec"
	"slices"
	"syscall"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.1.2.3": true, "::1": true, "localhost": true,
		"0.0.0.0": false, "": false, "::": false, "10.0.0.1": false, "example.com": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestEndpointList(t *testing.T) {
	g := globalFlags{endpoints: " 127.0.0.1:2379, ,https://10.0.0.1:2379,"}
	if got, want := g.endpointList(), []string{"127.0.0.1:2379", "https://10.0.0.1:2379"}; !slices.Equal(got, want) {
		t.Errorf("endpointList() = %q, want %q", got, want)
	}
	g.endpoints = " , "
	if _, err := g.client(); err == nil {
		t.Error("client() with no endpoints: want an error")
	}
}

// TestExitCodeOf checks that a CMD's status is passed on as a shell reports
// it: its exit code, or 128 plus the number of the signal that ended it.
func TestExitCodeOf(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 7", 7},
		{"kill -TERM $$", 128 + int(syscall.SIGTERM)},
		{"kill -KILL $$", 128 + int(syscall.SIGKILL)},
	} {
		cmd := exec.Command("sh", "-c", tc.script)
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		if got := exitCodeOf(cmd.ProcessState); got != tc.want {
			t.Errorf("sh -c %q: exitCodeOf = %d, want %d", tc.script, got, tc.want)
		}
	}
	if got := exitCodeOf(nil); got != exitFailure {
		t.Errorf("exitCodeOf(nil) = %d, want %d", got, exitFailure)
	}
	if got := signalExit(syscall.SIGINT); got != 130 {
		t.Errorf("signalExit(SIGINT) = %d, want 130", got)
	}
}
