//go:build unix

package main

// Black-box tests of lock --read, elect and leader, and of sem and barrier
// given another number than the one in use: built coord processes against
// `coord serve`, as in cli_cluster_test.go.

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// etcdClient returns a client of c's server, closed when the test ends: the
// tests count and delete keys under c's prefix with it.
func (c cluster) etcdClient(t *testing.T) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{c.s.endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// keyCount returns how many keys coord has under c's prefix: holders,
// readers, waiters and candidates alike.
func (c cluster) keyCount(t *testing.T, cli *clientv3.Client) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, c.prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}

// waitKeys waits until c's prefix holds n keys.
func (c cluster) waitKeys(t *testing.T, cli *clientv3.Client, n int64) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got := c.keyCount(t, cli)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys under %s, want %d", got, c.prefix, n)
		}
	}
}

// readLines returns the lines of path, waiting up to limit for it to hold at
// least n.
func readLines(t *testing.T, path string, n int, limit time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		b, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) > 0 && len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q, want %d lines", path, b, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCLIReadersShareWriterExcludes runs two readers whose CMDs each wait for
// the other's to start (so both run at once, or they fail), then a writer
// (plain `coord lock`) that must wait for both to exit, and a reader that
// arrives while the writer waits and so must wait for the writer.
func TestCLIReadersShareWriterExcludes(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	cli := c.etcdClient(t)
	dir := t.TempDir()
	env := []string{"D=" + dir}
	// A reader: says it started, waits (bounded) for the other reader to
	// start too, then for "release", and logs its name and token.
	reader := `touch "$D/$0"; i=0; while [ ! -e "$D/$1" ]; do i=$((i+1)); [ $i -gt 400 ] && exit 9; sleep 0.05; done
while [ ! -e "$D/release" ]; do sleep 0.05; done; echo "$0 $COORD_FENCING_TOKEN" >> "$D/log"`
	a := startCoord(t, env, c.args("lock", "rw", "--read", "--", "sh", "-c", reader, "a", "b")...)
	b := startCoord(t, env, c.args("lock", "--read", "rw", "--ttl", "5s", "--", "sh", "-c", reader, "b", "a")...)
	waitFile(t, filepath.Join(dir, "a"), 20*time.Second)
	waitFile(t, filepath.Join(dir, "b"), 20*time.Second)

	// The writer queues behind both readers; the reader after it, behind it.
	w := startCoord(t, env, c.args("lock", "rw", "--", "sh", "-c",
		`echo "w-start $COORD_FENCING_TOKEN" >> "$D/log"; sleep 0.3; echo w-end >> "$D/log"`)...)
	c.waitKeys(t, cli, 3)
	late := startCoord(t, env, c.args("lock", "rw", "--read", "--", "sh", "-c", `echo "late $COORD_FENCING_TOKEN" >> "$D/log"`)...)
	c.waitKeys(t, cli, 4)
	// A reader that cannot wait long gives up behind the writer, and leaves
	// no key.
	p := c.run(t, 20*time.Second, "lock", "rw", "--read", "--timeout", "300ms", "--", "true")
	if p.code != exitTimeout {
		t.Errorf("a reader with --timeout 300ms behind a waiting writer: exit %d, want 3; stderr %q", p.code, p.stderr.String())
	}
	oneLine(t, p, `gave up waiting for lock "rw" as a reader`)
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(dir, "log")); err == nil {
		t.Fatalf("the writer or the late reader ran while two readers held the lock")
	}
	if n := c.keyCount(t, cli); n != 4 {
		t.Errorf("%d keys while two readers hold and a writer and a reader wait, want 4", n)
	}

	if err := os.WriteFile(filepath.Join(dir, "release"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*proc{a, b, w, late} {
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Errorf("coord %q: exit %d, stderr %q", p.cmd.Args[1:], code, p.stderr.String())
		}
	}
	lines := readLines(t, filepath.Join(dir, "log"), 5, 5*time.Second)
	var order []string
	tokens := map[string]int64{}
	for _, l := range lines {
		f := strings.Fields(l)
		order = append(order, f[0])
		if len(f) == 2 {
			tok, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || tok <= 0 {
				t.Fatalf("log line %q: COORD_FENCING_TOKEN is not a positive number", l)
			}
			tokens[f[0]] = tok
		}
	}
	if got := strings.Join(order, " "); got != "a b w-start w-end late" && got != "b a w-start w-end late" {
		t.Errorf("order of CMDs %q, want both readers, then the writer alone, then the late reader", got)
	}
	if tokens["a"] == tokens["b"] || tokens["w-start"] <= max(tokens["a"], tokens["b"]) || tokens["late"] <= tokens["w-start"] {
		t.Errorf("tokens %v: want each reader its own, the writer's above both, the late reader's above the writer's", tokens)
	}
	c.waitKeys(t, cli, 0)
}

// TestCLIElectSuccessor runs two electors: the first leads and runs CMD, the
// second waits as a candidate; `coord leader` names the first. Killed with
// SIGKILL, the first takes its CMD with it, and the second leads and runs
// its CMD once the first's lease has expired, with a higher token.
func TestCLIElectSuccessor(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	cli := c.etcdClient(t)
	dir := t.TempDir()
	env := []string{"D=" + dir}
	first := startCoord(t, env, c.args("elect", "boss", "--value", "one", "--ttl", "1s", "--", "sh", "-c",
		`echo "$COORD_FENCING_TOKEN" > "$D/tok1"; echo $$ > "$D/pid1"; exec sleep 60`)...)
	pid1 := readPID(t, filepath.Join(dir, "pid1"))
	second := startCoord(t, env, c.args("elect", "boss", "--ttl", "1s", "--", "sh", "-c",
		`echo "$COORD_FENCING_TOKEN" > "$D/tok2"`)...)
	c.waitKeys(t, cli, 2)
	if p := c.run(t, 10*time.Second, "leader", "boss"); p.code != 0 || p.stdout.String() != "one\n" {
		t.Errorf("coord leader boss: exit %d, stdout %q, stderr %q; want the first's value, one", p.code, p.stdout.String(), p.stderr.String())
	}
	time.Sleep(200 * time.Millisecond)
	if second.exited() {
		t.Fatalf("the second elector ran its CMD while the first led: exit %d, stderr %q", second.code, second.stderr.String())
	}

	first.cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	first.wait(t, 10*time.Second)
	checkGone(t, pid1, 2*time.Second, "the first leader's CMD after its coord was killed")
	if code := second.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("the second elector: exit %d, stderr %q", code, second.stderr.String())
	}
	// The lease of 1s, counted from the last renewal, and a little.
	if d := time.Since(killed); d > 6*time.Second {
		t.Errorf("the successor ran its CMD %v after the leader was killed, want within its 1s TTL and a little", d)
	}
	tok := func(f string) int64 {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 {
			t.Fatalf("%s holds %q, want a token", f, b)
		}
		return n
	}
	if t1, t2 := tok("tok1"), tok("tok2"); t2 <= t1 {
		t.Errorf("the successor's token %d is not above the first leader's %d", t2, t1)
	}
	// The successor resigned on exit; the killed leader's key went with its lease.
	c.waitKeys(t, cli, 0)
	if p := c.run(t, 10*time.Second, "leader", "boss"); p.code != exitTimeout || p.stdout.Len() != 0 {
		t.Errorf("coord leader with nobody leading: exit %d, stdout %q; want 3 and nothing", p.code, p.stdout.String())
	} else {
		oneLine(t, p, `nobody leads election "boss"`)
	}
}

// TestCLIElectLost deletes the leader's key behind its back: coord elect
// must kill CMD's group and exit 4 with one line, as lock does. An elector
// that passes its CMD's exit code through, and one that gives up waiting,
// are checked on the way.
func TestCLIElectLost(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	cli := c.etcdClient(t)
	dir := t.TempDir()
	if p := c.run(t, 20*time.Second, "elect", "e", "--", "sh", "-c", "exit 6"); p.code != 6 || p.stderr.Len() != 0 {
		t.Errorf("coord elect -- sh -c 'exit 6': exit %d, stderr %q; want CMD's 6 and nothing", p.code, p.stderr.String())
	}
	p := startCoord(t, []string{"D=" + dir}, c.args("elect", "e", "--", "sh", "-c", `sleep 60 & echo $! > "$D/child"; echo $$ > "$D/pid"; wait`)...)
	waitFile(t, filepath.Join(dir, "child"), 20*time.Second)
	pid := readPID(t, filepath.Join(dir, "pid"))
	q := c.run(t, 20*time.Second, "elect", "e", "--timeout", "200ms", "--", "true")
	if q.code != exitTimeout {
		t.Errorf("a candidate with --timeout 200ms: exit %d, want 3; stderr %q", q.code, q.stderr.String())
	}
	oneLine(t, q, "coord leader NAME")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Delete(ctx, c.prefix, clientv3.WithPrefix())
	if err != nil || resp.Deleted != 1 {
		t.Fatalf("deleting the leader's key: %v, %d deleted, want 1", err, resp.Deleted)
	}
	if code := p.wait(t, 15*time.Second); code != exitLost {
		t.Errorf("coord elect after its key was deleted: exit %d, want 4; stderr %q", code, p.stderr.String())
	}
	oneLine(t, p, `lost the leadership of election "e"`)
	checkGone(t, pid, 2*time.Second, "CMD after the lost leadership")
	checkGone(t, readPID(t, filepath.Join(dir, "child")), 2*time.Second, "CMD's child after the lost leadership")
}

// watcher is a `coord leader --watch` whose lines the test reads as they come.
type watcher struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr bytes.Buffer
	done   chan struct{}
}

func startWatcher(t *testing.T, c cluster, name string) *watcher {
	t.Helper()
	bin, err := coordBinary()
	if err != nil {
		t.Fatal(err)
	}
	w := &watcher{lines: make(chan string, 100), done: make(chan struct{})}
	w.cmd = exec.Command(bin, c.args("leader", name, "--watch")...)
	w.cmd.Stderr = &w.stderr
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.done)
	}()
	t.Cleanup(func() {
		w.cmd.Process.Kill()
		<-w.done
		w.cmd.Wait()
	})
	return w
}

// next returns the watcher's next line, failing the test if none comes
// within 15 s.
func (w *watcher) next(t *testing.T) string {
	t.Helper()
	select {
	case l := <-w.lines:
		return l
	case <-time.After(15 * time.Second):
		t.Fatalf("coord leader --watch printed no line within 15s")
		return ""
	}
}

// quiet checks that the watcher prints nothing for a moment.
func (w *watcher) quiet(t *testing.T, why string) {
	t.Helper()
	select {
	case l := <-w.lines:
		t.Errorf("coord leader --watch printed %q %s, want nothing", l, why)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestCLILeaderWatch follows an election with `coord leader --watch` as
// electors come and go: a line for nobody, for each leader in turn (not for
// a candidate that only queues), for nobody again, and a SIGINT ends it with
// 128+2 and one line on stderr.
func TestCLILeaderWatch(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	cli := c.etcdClient(t)
	dir := t.TempDir()
	env := []string{"D=" + dir}
	w := startWatcher(t, c, "w")
	if l := w.next(t); l != noLeader {
		t.Fatalf("first line with nobody leading: %q, want %q", l, noLeader)
	}
	// An elector runs until its stop file exists.
	leadUntil := `touch "$D/$0"; while [ ! -e "$D/$0.stop" ]; do sleep 0.05; done`
	a := startCoord(t, env, c.args("elect", "w", "--value", "alpha", "--", "sh", "-c", leadUntil, "a")...)
	waitFile(t, filepath.Join(dir, "a"), 20*time.Second)
	lineRE := regexp.MustCompile(`^(alpha|"beta two"|\S+) ([0-9]+) (\S+:[0-9]+)$`)
	check := func(l, value string, p *proc) int64 {
		t.Helper()
		m := lineRE.FindStringSubmatch(l)
		if m == nil || m[1] != value || !strings.HasSuffix(m[3], ":"+strconv.Itoa(p.cmd.Process.Pid)) {
			t.Fatalf("coord leader --watch printed %q, want %q, TOKEN and the host:pid of coord (pid %d)", l, value+" TOKEN WHO", p.cmd.Process.Pid)
		}
		tok, _ := strconv.ParseInt(m[2], 10, 64)
		return tok
	}
	t1 := check(w.next(t), "alpha", a)

	// A candidate that queues changes nothing; a second watcher begins with
	// the leader now.
	b := startCoord(t, env, c.args("elect", "w", "--value", "beta two", "--", "sh", "-c", leadUntil, "b")...)
	c.waitKeys(t, cli, 2)
	w.quiet(t, "when a candidate joined")
	w2 := startWatcher(t, c, "w")
	if tok := check(w2.next(t), "alpha", a); tok != t1 {
		t.Errorf("a watcher started while alpha leads begins with token %d, want alpha's %d", tok, t1)
	}

	// alpha's CMD ends: it resigns, and beta leads at once.
	os.WriteFile(filepath.Join(dir, "a.stop"), nil, 0o600)
	if code := a.wait(t, 10*time.Second); code != 0 {
		t.Errorf("elector alpha: exit %d, stderr %q", code, a.stderr.String())
	}
	t2 := check(w.next(t), `"beta two"`, b)
	if t2 <= t1 {
		t.Errorf("beta's token %d is not above alpha's %d", t2, t1)
	}
	if p := c.run(t, 10*time.Second, "leader", "w"); p.stdout.String() != "beta two\n" {
		t.Errorf("coord leader w while beta leads: stdout %q, exit %d; want the value as is", p.stdout.String(), p.code)
	}
	os.WriteFile(filepath.Join(dir, "b.stop"), nil, 0o600)
	if code := b.wait(t, 10*time.Second); code != 0 {
		t.Errorf("elector beta: exit %d, stderr %q", code, b.stderr.String())
	}
	if l := w.next(t); l != noLeader {
		t.Errorf("after the last leader resigned: %q, want %q", l, noLeader)
	}

	w.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("coord leader --watch did not end within 10s of SIGINT")
	}
	err := w.cmd.Wait()
	// A watch ends by being stopped, as ls --watch, serve and ui do: exit 0,
	// nothing on stderr (128+N is for a wait whose thing did not happen).
	if err != nil {
		t.Errorf("coord leader --watch after SIGINT: %v, want exit 0", err)
	}
	if s := w.stderr.String(); s != "" {
		t.Errorf("coord leader --watch after SIGINT: stderr %q, want nothing", s)
	}
	select {
	case l := <-w.lines:
		t.Errorf("coord leader --watch printed %q more", l)
	default:
	}
	c.waitKeys(t, cli, 0)
}

// TestCLINumberMismatch gives a semaphore's and a barrier's name, while in
// use, to a process with another --limit or --parties: it exits 2 at once
// with one line naming both numbers and writes nothing, and the processes
// already there carry on as before.
func TestCLINumberMismatch(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	cli := c.etcdClient(t)
	dir := t.TempDir()
	holder := c.start(t, "sem", "pool", "--limit", "2", "--", "sh", "-c",
		`touch "$0"; while [ ! -e "$0.stop" ]; do sleep 0.05; done; exit 7`, filepath.Join(dir, "held"))
	waitFile(t, filepath.Join(dir, "held"), 20*time.Second)
	party := c.start(t, "barrier", "round", "--parties", "2", "--timeout", "30s")
	c.waitKeys(t, cli, 2)

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"sem", "pool", "--limit", "3", "--", "touch", filepath.Join(dir, "ran")}, []string{"limit 3", "limit 2", "--limit 2"}},
		{[]string{"barrier", "round", "--parties", "3"}, []string{"parties 3", "parties 2", "--parties 2"}},
	} {
		start := time.Now()
		p := c.run(t, 20*time.Second, tc.args...)
		if p.code != exitUsage || p.stdout.Len() != 0 {
			t.Errorf("coord %q with another number in use: exit %d, stdout %q; want 2 and nothing", tc.args, p.code, p.stdout.String())
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("coord %q took %v to fail, want at once", tc.args, d)
		}
		for _, w := range tc.want {
			oneLine(t, p, w)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Errorf("the sem with another --limit ran its CMD")
	}
	if n := c.keyCount(t, cli); n != 2 {
		t.Errorf("%d keys after the mismatched calls, want the 2 of before: they wrote nothing", n)
	}
	time.Sleep(200 * time.Millisecond)
	if party.exited() || holder.exited() {
		t.Fatalf("a process with another number released the barrier or the semaphore: barrier exit %d %q, sem exit %d %q",
			party.code, party.stdout.String(), holder.code, holder.stderr.String())
	}

	// The round completes with a party of the right number.
	other := c.run(t, 20*time.Second, "barrier", "round", "--parties", "2")
	if code := party.wait(t, 10*time.Second); code != 0 || other.code != 0 {
		t.Errorf("barrier parties: exit %d and %d, want 0 (stderr %q %q)", code, other.code, party.stderr.String(), other.stderr.String())
	}
	if got := strings.TrimSpace(party.stdout.String()) + strings.TrimSpace(other.stdout.String()); got != "01" && got != "10" {
		t.Errorf("barrier indices %q, want 0 and 1", got)
	}
	os.WriteFile(filepath.Join(dir, "held.stop"), nil, 0o600)
	if code := holder.wait(t, 10*time.Second); code != 7 {
		t.Errorf("sem holder: exit %d, want its CMD's 7; stderr %q", code, holder.stderr.String())
	}
	c.waitKeys(t, cli, 0)
}
