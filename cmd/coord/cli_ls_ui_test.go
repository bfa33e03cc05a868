//go:build unix

package main

// Black-box tests of what coord shows of a cluster: ls, ls --watch and ui.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// holdLock starts `coord lock name` whose CMD runs until the file it
// creates in dir is removed, and returns that file once CMD runs (or, for
// a waiter, its path: it appears once the lock is granted).
func holdLock(t *testing.T, c cluster, name, dir, tag string) (*proc, string) {
	t.Helper()
	flag := filepath.Join(dir, tag)
	p := c.start(t, "lock", name, "--", "sh", "-c", `touch "$0"; while [ -e "$0" ]; do sleep 0.05; done`, flag)
	return p, flag
}

// eventually retries check every 20 ms until it returns "" or limit passes,
// and fails the test with its last complaint.
func eventually(t *testing.T, limit time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", limit, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCLILsRows: with nothing held, ls says so in one line (and --json
// prints []); a lock taken by another process shows as its holder, with
// that process's pid, and a second process as its waiter; released, both
// rows go, and the line comes back. Processes blocked in `coord event
// wait` show as the event's waiters.
func TestCLILsRows(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	dir := t.TempDir()

	if p := c.run(t, 10*time.Second, "ls"); p.code != 0 || p.stdout.String() != c.emptyLine() || p.stderr.Len() != 0 {
		t.Errorf("coord ls with nothing held: exit %d, stdout %q, stderr %q; want 0 and %q", p.code, p.stdout.String(), p.stderr.String(), c.emptyLine())
	}
	if p := c.run(t, 10*time.Second, "ls", "--json"); p.code != 0 || p.stdout.String() != "[]\n" {
		t.Errorf("coord ls --json with nothing held: exit %d, stdout %q; want []", p.code, p.stdout.String())
	}
	if p := c.run(t, 10*time.Second, "ls", "jo"); p.code != 0 || !strings.HasPrefix(p.stdout.String(), "no holders, waiters or set events under "+c.prefix+` with a name starting "jo"`) {
		t.Errorf("coord ls jo with nothing held: exit %d, stdout %q", p.code, p.stdout.String())
	}

	holder, held := holdLock(t, c, "jobs", dir, "a")
	waitFile(t, held, 20*time.Second)
	waiter, granted := holdLock(t, c, "jobs", dir, "b")
	c.waitRows(t, 2)

	rows := c.lsRows(t)
	want := []struct {
		state string
		pid   int
	}{{"holder", holder.cmd.Process.Pid}, {"waiter", waiter.cmd.Process.Pid}}
	if len(rows) != len(want) {
		t.Fatalf("ls --json: %v, want a holder and a waiter", rows)
	}
	for i, w := range want {
		r := rows[i]
		if r["name"] != "jobs" || r["kind"] != "lock" || r["state"] != w.state || !strings.HasSuffix(r["who"].(string), ":"+strconv.Itoa(w.pid)) {
			t.Errorf("ls row %d: %v, want jobs lock %s by pid %d", i, r, w.state, w.pid)
		}
	}
	ls := c.run(t, 10*time.Second, "ls").stdout.String()
	lines := strings.Split(strings.TrimSuffix(ls, "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "NAME KIND STATE TOKEN WHO SINCE" ||
		!strings.HasPrefix(strings.Join(strings.Fields(lines[1]), " "), "jobs lock holder ") ||
		!strings.HasPrefix(strings.Join(strings.Fields(lines[2]), " "), "jobs lock waiter ") {
		t.Errorf("coord ls:\n%s\nwant a header, the holder and the waiter", ls)
	}

	os.Remove(held)
	waitFile(t, granted, 20*time.Second)
	os.Remove(granted)
	holder.wait(t, 20*time.Second)
	waiter.wait(t, 20*time.Second)
	c.checkEmpty(t)

	// Two processes blocked in `coord event wait` are its waiters; set, the
	// event is one row, its waiters gone.
	w1, w2 := c.start(t, "event", "wait", "ev"), c.start(t, "event", "wait", "ev")
	c.waitRows(t, 2)
	rows = c.lsRows(t)
	if len(rows) != 2 {
		t.Fatalf("ls with two event waiters: %v", rows)
	}
	for i, p := range []*proc{w1, w2} {
		pid := ":" + strconv.Itoa(p.cmd.Process.Pid)
		if !slices.ContainsFunc(rows, func(r map[string]any) bool {
			return r["name"] == "ev" && r["kind"] == "event" && r["state"] == "waiter" && strings.HasSuffix(r["who"].(string), pid)
		}) {
			t.Errorf("ls with two event waiters: %v, want ev event waiter by pid%s (%d)", rows, pid, i)
		}
	}
	if p := c.run(t, 10*time.Second, "event", "set", "ev"); p.code != 0 {
		t.Fatalf("coord event set: exit %d, stderr %q", p.code, p.stderr.String())
	}
	w1.wait(t, 20*time.Second)
	w2.wait(t, 20*time.Second)
	if rows := c.lsRows(t); len(rows) != 1 || rows[0]["state"] != "set" {
		t.Errorf("ls with ev set: %v, want its one set row", rows)
	}
	c.run(t, 10*time.Second, "event", "clear", "ev")
	c.checkEmpty(t)
}

// TestCLILsWatch runs ls --watch, and --watch --json, with stdout a pipe
// while another process takes and releases a lock: each change appends a
// time line and the table after a blank line (--json: one array per line),
// and SIGINT ends the watch with exit 0 and nothing on stderr.
func TestCLILsWatch(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	dir := t.TempDir()
	table := c.start(t, "ls", "--watch")
	jsonw := c.start(t, "ls", "--watch", "--json")
	eventually(t, 10*time.Second, func() string {
		if !strings.Contains(table.stdout.String(), c.emptyLine()) || jsonw.stdout.String() != "[]\n" {
			return fmt.Sprintf("ls --watch printed %q and --json %q, want the empty line and []", table.stdout.String(), jsonw.stdout.String())
		}
		return ""
	})

	holder, held := holdLock(t, c, "w", dir, "a")
	eventually(t, 10*time.Second, func() string {
		if !strings.Contains(table.stdout.String(), " holder ") || strings.Count(jsonw.stdout.String(), "\n") < 2 {
			return fmt.Sprintf("ls --watch printed %q and --json %q, want the holder", table.stdout.String(), jsonw.stdout.String())
		}
		return ""
	})
	os.Remove(held)
	holder.wait(t, 20*time.Second)
	eventually(t, 10*time.Second, func() string {
		if !strings.HasSuffix(table.stdout.String(), "\n"+c.emptyLine()) || !strings.HasSuffix(jsonw.stdout.String(), "\n[]\n") {
			return fmt.Sprintf("ls --watch printed %q and --json %q, want the empty line and [] again", table.stdout.String(), jsonw.stdout.String())
		}
		return ""
	})

	for _, p := range []*proc{table, jsonw} {
		p.cmd.Process.Signal(syscall.SIGINT)
		if code := p.wait(t, 10*time.Second); code != 0 || p.stderr.Len() != 0 {
			t.Errorf("coord %q after SIGINT: exit %d, stderr %q; want 0 and nothing", p.cmd.Args[1:], code, p.stderr.String())
		}
	}

	// The table's blocks: a time line, then the table or the empty line,
	// each after a blank line but the first.
	blocks := strings.Split(strings.TrimSuffix(table.stdout.String(), "\n"), "\n\n")
	if len(blocks) < 3 {
		t.Fatalf("ls --watch printed %d blocks, want at least 3 (empty, held, empty):\n%s", len(blocks), table.stdout.String())
	}
	for i, b := range blocks {
		stamp, rest, _ := strings.Cut(b, "\n")
		if _, err := time.Parse(time.RFC3339, stamp); err != nil {
			t.Errorf("ls --watch block %d opens with %q, want a time (%v)", i, stamp, err)
		}
		if !strings.HasPrefix(rest, "NAME ") && rest+"\n" != c.emptyLine() {
			t.Errorf("ls --watch block %d is %q, want a table or the empty line", i, rest)
		}
		if i > 0 && b == blocks[i-1] {
			t.Errorf("ls --watch printed block %d twice: %q", i, b)
		}
	}
	for i, line := range strings.Split(strings.TrimSuffix(jsonw.stdout.String(), "\n"), "\n") {
		var rows []map[string]any
		if err := json.Unmarshal([]byte(line), &rows); err != nil {
			t.Errorf("ls --watch --json line %d: %q: %v", i, line, err)
		}
	}
	if strings.Contains(table.stdout.String(), "\x1b[") {
		t.Errorf("ls --watch to a pipe printed terminal escapes: %q", table.stdout.String())
	}
}

// startUI starts `coord ui` on a free loopback port and returns it and the
// URL it prints first.
func startUI(t *testing.T, c cluster, extra ...string) (*proc, string) {
	t.Helper()
	p := c.start(t, append([]string{"ui", "--listen", "127.0.0.1:0"}, extra...)...)
	var url string
	eventually(t, 20*time.Second, func() string {
		if p.exited() {
			t.Fatalf("coord ui exited %d: stderr %q", p.code, p.stderr.String())
		}
		line, _, ok := strings.Cut(p.stdout.String(), "\n")
		if !ok {
			return "coord ui printed no URL"
		}
		url = line
		return ""
	})
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/") {
		t.Fatalf("coord ui's first line is %q, want http://127.0.0.1:PORT/", url)
	}
	return p, url
}

// get fetches url and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestCLIUI serves the page of a cluster: its HTML, ?format=json (the rows
// of ls --json) and ?format=view (the page's rows), which shows a holder and
// then a waiter within a second of their taking and joining the lock; only
// GET and HEAD are answered; SIGTERM stops it with exit 0.
func TestCLIUI(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	dir := t.TempDir()
	ui, url := startUI(t, c)

	if code, body := get(t, url); code != 200 || !strings.Contains(body, "<title>coord: etcd at "+c.s.endpoint+"</title>") {
		t.Errorf("GET %s: %d, want 200 and the page titled with the endpoint:\n%.300s", url, code, body)
	}
	if code, body := get(t, url+"?format=json"); code != 200 || body != "[]\n" {
		t.Errorf("GET ?format=json with nothing held: %d %q, want 200 and []", code, body)
	}
	if code, _ := get(t, url+"nothing-here"); code != 404 {
		t.Errorf("GET %snothing-here: %d, want 404", url, code)
	}
	if resp, err := http.Post(url, "text/plain", strings.NewReader("x")); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST %s: %v %v, want 405", url, resp, err)
	}

	type party struct {
		Role, Who string
		Token     int64
		Age       time.Duration
	}
	type row struct {
		Name, Kind       string
		Holders, Waiters int
		Holding, Queue   []party
	}
	view := func() []row {
		code, body := get(t, url+"?format=view")
		var v struct {
			Rows  []row
			Error string
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil || code != 200 || v.Error != "" {
			t.Fatalf("GET ?format=view: %d %q (%v)", code, body, err)
		}
		return v.Rows
	}

	holder, held := holdLock(t, c, "jobs", dir, "a")
	waitFile(t, held, 20*time.Second)
	took := time.Now()
	hpid := ":" + strconv.Itoa(holder.cmd.Process.Pid)
	eventually(t, time.Second, func() string {
		if r := view(); len(r) != 1 || r[0].Name != "jobs" || r[0].Kind != "lock" || r[0].Holders != 1 ||
			len(r[0].Holding) != 1 || !strings.HasSuffix(r[0].Holding[0].Who, hpid) || r[0].Holding[0].Token == 0 {
			return fmt.Sprintf("the page's rows are %+v, want jobs held by pid%s", r, hpid)
		}
		return ""
	})
	t.Logf("the holder showed %v after CMD ran", time.Since(took))

	waiter, granted := holdLock(t, c, "jobs", dir, "b")
	wpid := ":" + strconv.Itoa(waiter.cmd.Process.Pid)
	eventually(t, 10*time.Second, func() string { // a new process: it starts, then joins
		if r := view(); len(r) != 1 || r[0].Waiters != 1 || !strings.HasSuffix(r[0].Queue[0].Who, wpid) || r[0].Queue[0].Role != "waiter" {
			return fmt.Sprintf("the page's rows are %+v, want jobs waited on by pid%s", r, wpid)
		}
		return ""
	})
	// ?format=json is ls --json, row for row.
	_, body := get(t, url+"?format=json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(body), &rows); err != nil || len(rows) != 2 || rows[0]["state"] != "holder" || rows[1]["state"] != "waiter" {
		t.Errorf("GET ?format=json: %q (%v), want the holder's and the waiter's rows", body, err)
	}

	// The waiter is granted: the page shows it as the holder, held for
	// less time than it has existed (its wait is not counted as holding).
	time.Sleep(1200 * time.Millisecond)
	os.Remove(held)
	waitFile(t, granted, 20*time.Second)
	eventually(t, time.Second, func() string {
		if r := view(); len(r) != 1 || r[0].Waiters != 0 || len(r[0].Holding) != 1 || !strings.HasSuffix(r[0].Holding[0].Who, wpid) ||
			r[0].Holding[0].Age >= time.Second {
			return fmt.Sprintf("the page's rows are %+v, want jobs held by pid%s for less than its wait", r, wpid)
		}
		return ""
	})
	os.Remove(granted)
	holder.wait(t, 20*time.Second)
	waiter.wait(t, 20*time.Second)
	eventually(t, time.Second, func() string {
		if r := view(); len(r) != 0 {
			return fmt.Sprintf("the page's rows are %+v, want none once released", r)
		}
		return ""
	})

	ui.cmd.Process.Signal(syscall.SIGTERM)
	if code := ui.wait(t, 10*time.Second); code != 0 || ui.stderr.Len() != 0 {
		t.Errorf("coord ui after SIGTERM: exit %d, stderr %q; want 0 and nothing", code, ui.stderr.String())
	}
	if strings.Count(ui.stdout.String(), "\n") != 1 {
		t.Errorf("coord ui printed %q, want its URL alone", ui.stdout.String())
	}
}

// TestCLIUIListen: a non-loopback --listen serves, with one warning line on
// stderr; a malformed one is a usage error.
func TestCLIUIListen(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	p := c.start(t, "ui", "--listen", "0.0.0.0:0")
	eventually(t, 20*time.Second, func() string {
		if p.exited() {
			t.Fatalf("coord ui --listen 0.0.0.0:0 exited %d: stderr %q", p.code, p.stderr.String())
		}
		if !strings.Contains(p.stdout.String(), "\n") {
			return "coord ui printed no URL"
		}
		return ""
	})
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("coord ui after SIGINT: exit %d, want 0", code)
	}
	oneLine(t, p, "not a loopback address")

	bad := c.run(t, 10*time.Second, "ui", "--listen", "8080")
	if bad.code != exitUsage {
		t.Errorf("coord ui --listen 8080: exit %d, want 2", bad.code)
	}
	oneLine(t, bad, "usage: coord ui")
}

// TestCLILsWatchTerminal runs ls --watch at a terminal: each change clears
// the screen and redraws, and Ctrl-C ends it with exit 0.
func TestCLILsWatchTerminal(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	tm := startOnTerminal(t, c.args("ls", "--watch")...)
	tm.waitFor(t, strings.TrimSuffix(c.emptyLine(), "\n"), 20*time.Second)
	if p := c.run(t, 10*time.Second, "event", "set", "flag"); p.code != 0 {
		t.Fatalf("coord event set: exit %d, stderr %q", p.code, p.stderr.String())
	}
	tm.waitFor(t, "NAME", 10*time.Second)
	time.Sleep(100 * time.Millisecond)
	if _, err := tm.ptmx.Write([]byte{0x03}); err != nil { // ^C
		t.Fatal(err)
	}
	tm.waitFor(t, "[coord exited", 15*time.Second)
	out := tm.String()
	if n := strings.Count(out, clearScreen); n != 2 {
		t.Errorf("ls --watch cleared the screen %d times for two tables, want 2; the terminal shows %q", n, out)
	}
	if !strings.Contains(out, "[coord exited 0;") {
		t.Errorf("ls --watch after ^C: want exit 0; the terminal shows %q", out)
	}
	if p := c.run(t, 10*time.Second, "event", "clear", "flag"); p.code != 0 {
		t.Fatalf("coord event clear: exit %d", p.code)
	}
}

// TestCLIUIClusterGone stops the cluster under a running coord ui: the page
// says it cannot read the rows (503 with the reason), rather than showing
// the last ones as live, and ui still stops cleanly.
func TestCLIUIClusterGone(t *testing.T) {
	t.Parallel()
	s, err := launchServer()
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, s)
	ui, url := startUI(t, c)
	if code, _ := get(t, url+"?format=view"); code != 200 {
		t.Fatalf("GET ?format=view with the cluster up: %d, want 200", code)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() string {
		code, body := get(t, url+"?format=view")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "not connected to etcd at "+s.endpoint) {
			return fmt.Sprintf("GET ?format=view with the cluster gone: %d %q, want 503 saying so", code, body)
		}
		return ""
	})
	if code, _ := get(t, url+"?format=json"); code != http.StatusServiceUnavailable {
		t.Errorf("GET ?format=json with the cluster gone: %d, want 503", code)
	}
	ui.cmd.Process.Signal(syscall.SIGINT)
	if code := ui.wait(t, 10*time.Second); code != 0 || ui.stderr.Len() != 0 {
		t.Errorf("coord ui after SIGINT: exit %d, stderr %q; want 0 and nothing", code, ui.stderr.String())
	}
}
