//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

func init() { helpers["tty"] = ttyHelper }

// ttyHelper runs in a session of its own whose controlling terminal is a
// pseudo-terminal, as a login shell does: its process group is the
// terminal's foreground. It runs coord with the arguments in
// COORD_TEST_ARGS (a JSON array, the binary first) in that group, on the
// terminal, and then reports coord's exit code and whether its group is the
// terminal's foreground again.
func ttyHelper() int {
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv("COORD_TEST_ARGS")), &args); err != nil || len(args) == 0 {
		fmt.Println("tty helper: bad COORD_TEST_ARGS:", err)
		return 1
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Println("tty helper:", err)
		return 1
	}
	// A ^C that reaches coord's group (coord in the foreground, as with
	// ls --watch) reaches this one too: it must outlive coord to report.
	signal.Ignore(os.Interrupt)
	err := cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		fmt.Println("tty helper:", err)
		return 1
	}
	fg, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	fmt.Printf("\r\n[coord exited %d; foreground is ours: %v (%v)]\r\n", code, fg == unix.Getpgrp(), err)
	return 0
}

// terminal is the test's side of a pseudo-terminal: what was written to it,
// read as it comes.
type terminal struct {
	ptmx *os.File
	mu   sync.Mutex
	out  bytes.Buffer
}

func (tm *terminal) String() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// waitFor waits until the terminal has shown s.
func (tm *terminal) waitFor(t *testing.T, s string, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); !strings.Contains(tm.String(), s); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal did not show %q within %v; it shows:\n%s", s, limit, tm)
		}
	}
}

// startOnTerminal runs coord with args as the foreground job of a new
// pseudo-terminal (under ttyHelper), as a user at a terminal runs it.
func startOnTerminal(t *testing.T, args ...string) *terminal {
	t.Helper()
	bin, err := coordBinary()
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(append([]string{bin}, args...))
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "COORD_TEST_HELPER=tty", "COORD_TEST_ARGS="+string(js))
	ptmx, err := pty.Start(cmd) // a new session, the pty its controlling terminal
	if err != nil {
		t.Fatal(err)
	}
	tm := &terminal{ptmx: ptmx}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil { // EIO once the last process on the terminal closed it
				return
			}
		}
	}()
	t.Cleanup(func() {
		// A CMD or a coord that the system stopped keeps the helper
		// waiting, and the terminal open: kill the helper's process group
		// (its own and coord's); coord's death kills CMD's (the parent-death
		// signal), and the terminal closes.
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
			<-done
		}
		select {
		case <-copied:
		case <-time.After(5 * time.Second):
			t.Error("the terminal stayed open after the helper ended")
		}
		ptmx.Close()
	})
	return tm
}

// TestCLIInteractiveCmd runs `coord lock NAME -- CMD` at a terminal with a
// CMD that reads the terminal: CMD's group must be the terminal's
// foreground while it runs (in the background, its read would stop it with
// SIGTTIN), coord must not be stopped by taking the terminal back (SIGTTOU),
// and the terminal's foreground must be coord's group again after it exits.
func TestCLIInteractiveCmd(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	tm := startOnTerminal(t, c.args("lock", "tty", "--", "sh", "-c", `printf 'name? '; read x; echo "got $x"; exit 3`)...)
	tm.waitFor(t, "name? ", 20*time.Second)
	if _, err := tm.ptmx.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	tm.waitFor(t, "[coord exited", 15*time.Second)
	out := tm.String()
	if !strings.Contains(out, "got hello") {
		t.Errorf("CMD did not read the terminal; it shows:\n%s", out)
	}
	if !strings.Contains(out, "[coord exited 3; foreground is ours: true (<nil>)]") {
		t.Errorf("want coord to pass on CMD's exit 3 and give the terminal's foreground back; it shows:\n%s", out)
	}
	c.checkEmpty(t)
}

// TestCLIInteractiveCtrlC types Ctrl-C at the terminal while CMD, in the
// foreground, waits: the terminal sends SIGINT to CMD's group, and coord
// passes on CMD's death by it and takes the terminal back.
func TestCLIInteractiveCtrlC(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	tm := startOnTerminal(t, c.args("lock", "tty", "--", "sh", "-c", `echo ready; exec sleep 30`)...)
	tm.waitFor(t, "ready", 20*time.Second)
	time.Sleep(100 * time.Millisecond)                     // sleep has replaced sh
	if _, err := tm.ptmx.Write([]byte{0x03}); err != nil { // ^C, the terminal's VINTR
		t.Fatal(err)
	}
	tm.waitFor(t, "[coord exited", 15*time.Second)
	if want := fmt.Sprintf("[coord exited %d; foreground is ours: true (<nil>)]", 128+int(unix.SIGINT)); !strings.Contains(tm.String(), want) {
		t.Errorf("after ^C: want %q; the terminal shows:\n%s", want, tm)
	}
	c.checkEmpty(t)
}

// TestCLIInteractiveCtrlZ types Ctrl-Z at the terminal while CMD, in the
// foreground, reads it: the terminal stops CMD's group, and coord, which
// must not leave a stopped CMD holding NAME, continues it at once, so that
// CMD then reads the line typed.
func TestCLIInteractiveCtrlZ(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	tm := startOnTerminal(t, c.args("lock", "tty", "--", "sh", "-c", `echo ready; read x; echo "got $x"`)...)
	tm.waitFor(t, "ready", 20*time.Second)
	time.Sleep(100 * time.Millisecond)                     // sh waits in read
	if _, err := tm.ptmx.Write([]byte{0x1a}); err != nil { // ^Z, the terminal's VSUSP
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := tm.ptmx.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	tm.waitFor(t, "[coord exited", 15*time.Second)
	if out := tm.String(); !strings.Contains(out, "got hello") || !strings.Contains(out, "[coord exited 0; foreground is ours: true (<nil>)]") {
		t.Errorf("after ^Z: want CMD continued, reading the line, and coord exiting 0 with the terminal back; it shows:\n%s", out)
	}
	c.checkEmpty(t)
}
