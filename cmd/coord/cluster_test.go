//go:build unix

package main

import (
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"
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

// TestWaitCmd checks that a CMD's status is passed on as a shell reports
// it: its exit code, or 128 plus the number of the signal that ended it; and
// that a CMD that stops (a Ctrl-Z at the terminal it has) is continued, not
// left holding NAME while coord waits.
func TestWaitCmd(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 7", 7},
		{"kill -TERM $$", 128 + int(syscall.SIGTERM)},
		{"kill -KILL $$", 128 + int(syscall.SIGKILL)},
		{"kill -STOP $$; exit 5", 5},
		{"kill -TSTP $$; kill -TTIN $$; exit 6", 6},
	} {
		cmd := exec.Command("sh", "-c", tc.script)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a group of its own, as CMD has
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan int, 1)
		go func() { done <- waitCmd(cmd) }()
		select {
		case got := <-done:
			if got != tc.want {
				t.Errorf("sh -c %q: waitCmd = %d, want %d", tc.script, got, tc.want)
			}
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Fatalf("sh -c %q: waitCmd did not return within 10s", tc.script)
		}
	}
	if got := signalExit(syscall.SIGINT); got != 130 {
		t.Errorf("signalExit(SIGINT) = %d, want 130", got)
	}
}
