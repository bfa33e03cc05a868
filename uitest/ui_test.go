package uitest

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var uiScreenshot = flag.String("ui-screenshot", "", "also save coord ui's screenshot to this file (../docs/ui.png refreshes the README's)")

// buildCoord builds the coord command into a temporary directory.
func buildCoord(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "coord")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/coord").CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/coord: %v\n%s", err, out)
	}
	return bin
}

// A process is a coord process the test started; it is killed when the
// test ends, if it still runs.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// start starts bin with args, its stderr to the test's log, and returns it
// with its first line on stdout (within 30 s) if firstLine is set.
func start(t *testing.T, bin string, firstLine bool, args ...string) (*process, string) {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	name := args[0]
	if name == "--endpoints" {
		name = args[2]
	}
	p.cmd.Stderr = testWriter{t, name}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		line <- sc.Text()
		for sc.Scan() {
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	if !firstLine {
		return p, ""
	}
	select {
	case l := <-line:
		return p, l
	case <-time.After(30 * time.Second):
		t.Fatalf("coord %q printed nothing within 30s", args)
		return nil, ""
	}
}

// stop ends p with SIGTERM (coord releases what it holds), or SIGKILL after
// 10 s.
func (p *process) stop(t *testing.T) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Errorf("coord %q did not stop within 10s of SIGTERM", p.cmd.Args[1:])
		p.cmd.Process.Kill()
		<-p.done
	}
}

// testWriter logs what a process writes on stderr: only failures do.
type testWriter struct {
	t    *testing.T
	name string
}

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Logf("coord %s: %s", w.name, strings.TrimSpace(string(b)))
	return len(b), nil
}

// lsHas reports whether `coord ls --json` shows a row of name in state by
// pid.
func lsHas(t *testing.T, bin, ep, name, state string, pid int) bool {
	out, err := exec.Command(bin, "--endpoints", ep, "ls", name, "--json").Output()
	if err != nil {
		t.Fatalf("coord ls --json: %v", err)
	}
	var rows []struct{ Name, State, Who string }
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("coord ls --json: %q: %v", out, err)
	}
	for _, r := range rows {
		if r.Name == name && r.State == state && strings.HasSuffix(r.Who, ":"+strconv.Itoa(pid)) {
			return true
		}
	}
	return false
}

// TestUIInBrowser runs coord serve and coord ui, and watches the page in
// headless Chromium while other coord processes take a lock: the page shows
// the holder, then the waiter, each within a second of the cluster having
// it, without reloading.
func TestUIInBrowser(t *testing.T) {
	ctx := Browser(t, 1400, 400)
	bin := buildCoord(t)
	dir := t.TempDir()
	_, ep := start(t, bin, true, "serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"))
	if !strings.HasPrefix(ep, "127.0.0.1:") {
		t.Fatalf("coord serve's first line is %q, want 127.0.0.1:PORT", ep)
	}
	_, url := start(t, bin, true, "--endpoints", ep, "ui", "--listen", "127.0.0.1:0")
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("coord ui's first line is %q, want http://127.0.0.1:PORT/", url)
	}
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	// The page says it is empty, in the words of coord ls.
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("empty").style.display === "block"`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the page never said it is empty: %v", err)
	}
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("empty").textContent`)); err != nil ||
		got != "No holders, waiters or set events under /coord/." {
		t.Errorf("the empty page says %q (%v)", got, err)
	}

	// within checks that the page's cell of name comes to contain want
	// within a second.
	within := func(name, class, want string) {
		t.Helper()
		start := time.Now()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`(%s || "").includes(%q)`, cell(name, class), want),
			chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("the page's %s of %s never showed %q: %v", class, name, want, err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("the page took %v to show %q in %s of %s, want within a second", took, want, class, name)
		} else {
			t.Logf("%s of %s showed %q after %v", class, name, want, took)
		}
	}

	// A lock taken by another process: the page shows its holder, with the
	// process's pid, from when its CMD runs (it holds by then).
	const name = "nightly-report"
	held := filepath.Join(dir, "held")
	holder, _ := start(t, bin, false, "--endpoints", ep, "lock", name, "--", "sh", "-c", `touch "$0"; while [ -e "$0" ]; do sleep 0.05; done`, held)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(held); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("coord lock's CMD did not run within 30s")
		}
	}
	within(name, "c-holders", "holder #")
	within(name, "c-holders", ":"+strconv.Itoa(holder.cmd.Process.Pid))

	// A second process waits: the page shows it in the queue from when
	// coord ls sees it.
	waiter, _ := start(t, bin, false, "--endpoints", ep, "lock", name, "--", "sleep", "60")
	for deadline := time.Now().Add(30 * time.Second); !lsHas(t, bin, ep, name, "waiter", waiter.cmd.Process.Pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("coord ls did not show the second coord lock waiting within 30s")
		}
	}
	within(name, "c-waiters", "waiter #")
	within(name, "c-waiters", ":"+strconv.Itoa(waiter.cmd.Process.Pid))
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](cell(name, "c-waiters")+`.slice(0, 1)`)); err != nil || got != "1" {
		t.Errorf("the page's waiter count of %s is %q (%v), want 1", name, got, err)
	}

	// More of a cluster for the picture: a semaphore with a queue, a
	// barrier short of parties, a process waiting on an event, a set
	// event; then some seconds of waiting
	// for the charts.
	for range 3 {
		start(t, bin, false, "--endpoints", ep, "sem", "db/pool", "--limit", "2", "--", "sleep", "60")
	}
	start(t, bin, false, "--endpoints", ep, "barrier", "release-train", "--parties", "3")
	start(t, bin, false, "--endpoints", ep, "event", "wait", "cache/warm")
	if out, err := exec.Command(bin, "--endpoints", ep, "event", "set", "deploy/ready").CombinedOutput(); err != nil {
		t.Fatalf("coord event set: %v %s", err, out)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cell("db/pool", "c-waiters")+`?.startsWith("1") && `+cell("cache/warm", "c-waiters")+`?.startsWith("1")`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the page never showed db/pool's waiter: %v", err)
	}
	time.Sleep(4 * time.Second)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.ArtifactDir(), "ui.png")
	if *uiScreenshot != "" {
		out = *uiScreenshot
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)

	// Released, the holder's row goes and the waiter holds.
	os.Remove(held)
	within(name, "c-holders", ":"+strconv.Itoa(waiter.cmd.Process.Pid))
}
