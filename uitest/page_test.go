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

	"github.com/chromedp/chromedp"

	"github.com/coordkit/coord"
)

var screenshot = flag.String("screenshot", "", "also save the page's screenshot to this file (../docs/page.png refreshes the README's)")

// cell is the JavaScript that reads one cell of a row of the page.
func cell(name, class string) string {
	return fmt.Sprintf(`(document.querySelector('tr[data-name=%q] .%s') || {}).textContent`, name, class)
}

// TestPageInBrowser serves coord.Handler on 127.0.0.1 and watches it in
// headless Chromium, with real primitives: the page shows a held Mutex's
// row, then, within a second and without reloading, the goroutines queued
// on it, and how one that gave up was counted.
func TestPageInBrowser(t *testing.T) {
	ctx := Browser(t, 1280, 420)

	var jobs coord.Mutex
	pool := coord.NewSemaphore(4)
	var ready coord.Event
	coord.Register("orders/jobs", &jobs)
	coord.Register("db/pool", pool)
	coord.Register("cache/ready", &ready)
	t.Cleanup(func() {
		for _, name := range []string{"orders/jobs", "db/pool", "cache/ready"} {
			coord.Unregister(name)
		}
	})

	mux := http.NewServeMux()
	mux.Handle("/debug/coord", coord.Handler())
	srv := httptest.NewServer(mux) // on 127.0.0.1
	defer srv.Close()

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	background := context.Background()
	if err := jobs.Lock(background); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/debug/coord"),
		chromedp.WaitVisible(`tr[data-name="orders/jobs"]`),
	); err != nil {
		t.Fatal(err)
	}
	wantCells(t, ctx, "orders/jobs", map[string]string{"c-kind": "Mutex", "c-holders": "1", "c-waiters": "0"})

	// One goroutine gives up on the held mutex, then three queue on it.
	short, cancelShort := context.WithTimeout(background, 50*time.Millisecond)
	defer cancelShort()
	if err := jobs.Lock(short); err != context.DeadlineExceeded {
		t.Fatalf("Lock on the held mutex with a short ctx = %v", err)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := jobs.Lock(background); err == nil {
				time.Sleep(30 * time.Millisecond)
				jobs.Unlock()
			}
		})
	}
	queued := time.Now()
	for jobs.Stats().Waiters < 3 {
		time.Sleep(time.Millisecond)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cell("orders/jobs", "c-waiters")+` === "3"`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the page never showed 3 waiters: %v", err)
	}
	if took := time.Since(queued); took > time.Second {
		t.Errorf("the page took %v to show the waiters, want within a second", took)
	}
	wantCells(t, ctx, "orders/jobs", map[string]string{"c-holders": "1", "c-gaveup": "1", "c-waits": "1"})
	order, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('tbody tr')].map(tr => tr.dataset.name)`))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[cache/ready db/pool orders/jobs]" {
		t.Errorf("rows in order %v, want sorted by name", order)
	}

	// A few seconds of work for the charts: the mutex drains, workers
	// contend for the pool and the mutex, and some wait for the event.
	jobs.Unlock()
	wg.Wait()
	stop := make(chan struct{})
	for i := range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if pool.Acquire(background) == nil {
					time.Sleep(time.Duration(20+i*15) * time.Millisecond)
					pool.Release()
				}
				if jobs.Lock(background) == nil {
					time.Sleep(time.Duration(10+i*3) * time.Millisecond)
					jobs.Unlock()
				}
			}
		})
	}
	for i := range 3 {
		wg.Go(func() {
			wctx, cancel := context.WithTimeout(background, time.Duration(i+1)*time.Second)
			defer cancel()
			ready.Wait(wctx)
			ready.Wait(background) // until Set
		})
	}
	time.Sleep(4 * time.Second)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	ready.Set()
	close(stop)
	wg.Wait()
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

// wantCells checks cells of the named row of the page.
func wantCells(t *testing.T, ctx context.Context, name string, want map[string]string) {
	t.Helper()
	for class, w := range want {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](cell(name, class)))
		if err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Errorf("%s %s = %q, want %q", name, class, got, w)
		}
	}
}
