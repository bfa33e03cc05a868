// Package uitest tests coord's live pages in a real browser: the page of
// coord.Handler here, and the page of coord ui beside it.
//
// It is a module of its own because it drives headless Chromium through
// github.com/chromedp/chromedp, and coord's root module imports nothing but
// the standard library. Nothing imports it; it holds only tests and the
// helper they share.
package uitest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// browsers are the names a Chromium goes by on the distributions' PATHs, in
// the order they are tried.
var browsers = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"}

// FindBrowser returns the path of a Chromium to drive: $COORD_BROWSER if
// set, or the first of the usual names found on PATH.
func FindBrowser() (string, bool) {
	if p := os.Getenv("COORD_BROWSER"); p != "" {
		return p, true
	}
	for _, name := range browsers {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// Browser starts a headless Chromium for t, with a fresh profile and no
// network of its own beyond what the page asks for, and returns a chromedp
// context for one tab of it; both end with the test. It skips t, saying so,
// only when no browser can be found.
func Browser(t testing.TB, width, height int) context.Context {
	t.Helper()
	path, ok := FindBrowser()
	if !ok {
		t.Skip("no Chromium found (set COORD_BROWSER, or install it: apt-get install chromium); the page was not tested in a browser")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in CI and containers, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// chromedp reports CDP events it does not know (a newer Chromium's) as
	// errors; they are noise here, and a real failure fails an action.
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(string, ...any) {}))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // start the browser now, to fail here if it cannot
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}
