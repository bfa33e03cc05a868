package main

// The helpers of every test of the command: the built binary, coord
// processes run in the background, `coord serve` servers and the shared
// one, one test's view of a cluster, and checks on processes and output.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// coordBinary builds the command once per test binary, into a temporary
// directory, and returns its path.
var coordBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "coord-e2e-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "coord")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New("go build: " + err.Error() + "\n" + string(out))
	}
	return bin, nil
})

// helpers are the roles a test may start this test binary in, instead of
// running tests: the environment variable COORD_TEST_HELPER names the role,
// and the helper's result is the process's exit code. A test file adds its
// own in an init function.
var helpers = map[string]func() int{}

func TestMain(m *testing.M) {
	if role := os.Getenv("COORD_TEST_HELPER"); role != "" {
		os.Exit(helpers[role]())
	}
	code := m.Run()
	if err := stopSharedServer(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	if bin, err := coordBinary(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// runCoord runs the built coord with args and returns its exit code and
// output. It fails the test if coord does not exit within limit.
func runCoord(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	if _, err := coordBinary(); err != nil { // built before the clock starts
		t.Fatal(err)
	}
	start := time.Now()
	p := startCoord(t, nil, args...)
	code := p.wait(t, limit)
	return result{code: code, stdout: p.stdout.String(), stderr: p.stderr.String(), took: time.Since(start)}
}

// inOrder reports whether each of want occurs in s, in order.
func inOrder(s string, want ...string) bool {
	for _, w := range want {
		i := strings.Index(s, w)
		if i < 0 {
			return false
		}
		s = s[i+len(w):]
	}
	return true
}

// server is a `coord serve` process.
type server struct {
	cmd      *exec.Cmd
	endpoint string
	stderr   *bytes.Buffer
	dataDir  string
}

// launchServer starts `coord serve` on a free loopback port, with its data
// in a new temporary directory, and returns once it has printed its endpoint.
func launchServer(extra ...string) (*server, error) {
	bin, err := coordBinary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "coord-serve-")
	if err != nil {
		return nil, err
	}
	s := &server{stderr: &bytes.Buffer{}, dataDir: dir}
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}, extra...)...)
	s.cmd.Stderr = s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		line <- sc.Text()
		for sc.Scan() { // keep draining: serve must not block on stdout
		}
	}()
	select {
	case l := <-line:
		if !strings.HasPrefix(l, "127.0.0.1:") {
			s.cmd.Process.Kill()
			s.cmd.Wait()
			return nil, fmt.Errorf("coord serve: first line %q, want 127.0.0.1:PORT; stderr %q", l, s.stderr)
		}
		s.endpoint = l
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		s.cmd.Wait()
		return nil, fmt.Errorf("coord serve printed no endpoint within 30s; stderr %q", s.stderr)
	}
	return s, nil
}

// stop stops the server with SIGTERM and reports whether it exited
// cleanly (status 0) within 15 s.
func (s *server) stop() error { return s.stopWith(syscall.SIGTERM) }

// stopWith stops the server with sig (SIGINT or SIGTERM).
func (s *server) stopWith(sig os.Signal) error {
	defer os.RemoveAll(s.dataDir)
	s.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("coord serve after %v: %v; stderr %q", sig, err, s.stderr)
		}
		if s.stderr.Len() != 0 {
			return fmt.Errorf("coord serve wrote on stderr: %q", s.stderr)
		}
		return nil
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-done
		return fmt.Errorf("coord serve did not stop within 15s of %v", sig)
	}
}

// startServer starts a server of the test's own, stopped when it ends.
func startServer(t *testing.T) *server {
	t.Helper()
	s, err := launchServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// The shared server serves every test that does not stop its server; each
// test keeps to a key prefix of its own. TestMain stops it.
var (
	sharedMu  sync.Mutex
	shared    *server
	sharedErr error
)

func sharedServer(t *testing.T) *server {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = launchServer()
	}
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// stopSharedServer stops the shared server, if one was started.
func stopSharedServer() error {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil {
		return nil
	}
	return shared.stop()
}

// proc is a coord process started in the background.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer // read while it runs (ls --watch, ui)
	done           chan struct{}
	code           int
}

// A lockedBuffer is a bytes.Buffer that a test may read while a process
// writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Bytes() []byte { return []byte(b.String()) }

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func startCoord(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	bin, err := coordBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				p.code = 128 + int(ws.Signal())
			}
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits up to limit for p to exit and returns its exit code.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(limit):
		t.Fatalf("coord %q did not exit within %v; stderr %q", p.cmd.Args[1:], limit, p.stderr.String())
		return 0
	}
}

// exited reports whether p has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// cluster is one test's view of a server: its endpoint and a key prefix of
// its own, so that parallel tests do not see each other in `coord ls`.
type cluster struct {
	s      *server
	prefix string
}

func newCluster(t *testing.T, s *server) cluster {
	return cluster{s: s, prefix: "/coordtest/" + strings.ReplaceAll(t.Name(), "/", "_") + "/"}
}

func (c cluster) args(args ...string) []string {
	return append([]string{"--endpoints", c.s.endpoint, "--prefix", c.prefix}, args...)
}

// start runs coord with c's endpoint and prefix in the background.
func (c cluster) start(t *testing.T, args ...string) *proc {
	t.Helper()
	return startCoord(t, nil, c.args(args...)...)
}

// run runs coord with c's endpoint and prefix and waits for it.
func (c cluster) run(t *testing.T, limit time.Duration, args ...string) *proc {
	t.Helper()
	p := c.start(t, args...)
	p.wait(t, limit)
	return p
}

// lsRows returns `coord ls --json` for c.
func (c cluster) lsRows(t *testing.T) []map[string]any {
	t.Helper()
	p := c.run(t, 10*time.Second, "ls", "--json")
	if p.code != 0 {
		t.Fatalf("coord ls --json: exit %d, stderr %q", p.code, p.stderr.String())
	}
	var rows []map[string]any
	if err := json.Unmarshal(p.stdout.Bytes(), &rows); err != nil {
		t.Fatalf("coord ls --json printed %q: %v", p.stdout.String(), err)
	}
	return rows
}

// waitRows waits until `coord ls` shows at least n rows under c's prefix.
func (c cluster) waitRows(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		rows := c.lsRows(t)
		if len(rows) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ls shows %v, want %d rows", rows, n)
		}
	}
}

// checkEmpty checks that `coord ls` shows nothing under c's prefix: every
// hold was released, and every waiter that gave up left no key behind.
func (c cluster) checkEmpty(t *testing.T) {
	t.Helper()
	if rows := c.lsRows(t); len(rows) != 0 {
		t.Errorf("coord ls after the test: %v, want no rows", rows)
	}
	if p := c.run(t, 10*time.Second, "ls"); p.code != 0 || p.stdout.String() != c.emptyLine() {
		t.Errorf("coord ls after the test: exit %d, output %q; want %q", p.code, p.stdout.String(), c.emptyLine())
	}
}

// emptyLine is what `coord ls` prints for c when nothing is held, waited on
// or set.
func (c cluster) emptyLine() string {
	return "no holders, waiters or set events under " + c.prefix + "\n"
}

// oneLine checks that a failing coord wrote exactly one line on stderr and
// that it contains want.
func oneLine(t *testing.T, p *proc, want string) {
	t.Helper()
	s := p.stderr.String()
	if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") || !strings.Contains(s, want) {
		t.Errorf("coord %q: stderr %q, want one line containing %q", p.cmd.Args[1:], s, want)
	}
}

// waitFile waits until path exists.
func waitFile(t *testing.T, path string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %v", path, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readPID reads the process id a CMD wrote into path, waiting for it: the
// file exists before its content is written.
func readPID(t *testing.T, path string) int {
	t.Helper()
	waitFile(t, path, 20*time.Second)
	for range 250 {
		b, _ := os.ReadFile(path)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s holds no process id", path)
	return 0
}

// checkGone checks that process pid ends within limit (it may linger a
// moment as a zombie of its reaper), and kills it if it does not.
func checkGone(t *testing.T, pid int, limit time.Duration, what string) {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(10 * time.Millisecond) {
		if !alive(pid) || procState(pid) == 'Z' {
			return
		}
		if time.Now().After(deadline) {
			break
		}
	}
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
	t.Errorf("%s (pid %d) is still running after %v", what, pid, limit)
}

// alive reports whether process pid exists (signal 0 reaches it).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

// procState returns the state letter of pid in /proc (R, S, T for stopped,
// Z for a zombie...), or 0 where there is no /proc.
func procState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0
	}
	return s[i+2]
}
