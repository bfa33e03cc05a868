package uitest

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/chromedp/chromedp"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
)

var screenshot = flag.String("screenshot", "", "also save the page's screenshot to this file (../docs/page.png refreshes the README's)")

// fakePrim stands for a primitive: the test sets its Stats as a scenario
// unfolds.
type fakePrim struct {
	mu sync.Mutex
	s  coord.Stats
}

func (f *fakePrim) Stats() coord.Stats {
	f.mu.Lock()
	s := f.s
	f.mu.Unlock()
	s.Name = inspect.NameOf(unsafe.Pointer(f))
	return s
}

func (f *fakePrim) set(s coord.Stats) {
	f.mu.Lock()
	f.s = s
	f.mu.Unlock()
}

// cell is the JavaScript that reads one cell of a row of the page.
func cell(name, class string) string {
	return fmt.Sprintf(`(document.querySelector('tr[data-name=%q] .%s') || {}).textContent`, name, class)
}

// TestPageInBrowser serves coord.Handler on 127.0.0.1 and watches it in
// headless Chromium: the page shows a registered primitive's row, and
// shows a change of its Stats within a second, without reloading.
func TestPageInBrowser(t *testing.T) {
	ctx := Browser(t, 1280, 420)

	jobs := &fakePrim{s: coord.Stats{Kind: "Mutex", Holders: 1}}
	pool := &fakePrim{s: coord.Stats{Kind: "Semaphore", Holders: 4, Waiters: 2, OldestWait: 180 * time.Millisecond,
		Waits: 1532, GaveUp: 3, WaitTime: 41 * time.Second}}
	ready := &fakePrim{s: coord.Stats{Kind: "Event", Waits: 12, WaitTime: 2500 * time.Millisecond}}
	for name, p := range map[string]*fakePrim{"orders/jobs": jobs, "db/pool": pool, "cache/ready": ready} {
		coord.Register(name, p)
		t.Cleanup(func() { coord.Unregister(name) })
	}

	mux := http.NewServeMux()
	mux.Handle("/debug/coord", coord.Handler())
	srv := httptest.NewServer(mux) // on 127.0.0.1
	defer srv.Close()

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/debug/coord"),
		chromedp.WaitVisible(`tr[data-name="orders/jobs"]`),
	); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ class, want string }{{"c-kind", "Mutex"}, {"c-holders", "1"}, {"c-waiters", "0"}} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](cell("orders/jobs", c.class)))
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("orders/jobs %s = %q, want %q", c.class, got, c.want)
		}
	}

	// Three goroutines queue on the held mutex; one of them gave up once.
	jobs.set(coord.Stats{Kind: "Mutex", Holders: 1, Waiters: 3, OldestWait: 2300 * time.Millisecond,
		Waits: 41, GaveUp: 1, WaitTime: 9 * time.Second})
	changed := time.Now()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cell("orders/jobs", "c-waiters")+` === "3"`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the page never showed 3 waiters: %v", err)
	}
	if took := time.Since(changed); took > time.Second {
		t.Errorf("the page took %v to show the change, want within a second", took)
	}
	for _, c := range []struct{ class, want string }{{"c-oldest", "2.30s"}, {"c-gaveup", "1"}, {"c-waits", "41"}} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](cell("orders/jobs", c.class)))
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("orders/jobs %s = %q, want %q", c.class, got, c.want)
		}
	}
	order, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('tbody tr')].map(tr => tr.dataset.name)`))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[cache/ready db/pool orders/jobs]" {
		t.Errorf("rows in order %v, want sorted by name", order)
	}

	// A few seconds of a queue that grows and drains, for the charts, then
	// the picture.
	for i := range 16 {
		wait := time.Duration(i%8+1) * 300 * time.Millisecond
		jobs.set(coord.Stats{Kind: "Mutex", Holders: 1, Waiters: 3, OldestWait: wait,
			Waits: uint64(41 + 3*i), GaveUp: 1, WaitTime: 9*time.Second + time.Duration(i)*wait})
		pool.set(coord.Stats{Kind: "Semaphore", Holders: 4, Waiters: i % 3, OldestWait: time.Duration(i%3) * 60 * time.Millisecond,
			Waits: uint64(1532 + 20*i), GaveUp: 3, WaitTime: 41*time.Second + time.Duration(i)*400*time.Millisecond})
		time.Sleep(250 * time.Millisecond)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.ArtifactDir(), "page.png")
	if *screenshot != "" {
		out = *screenshot
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
}
