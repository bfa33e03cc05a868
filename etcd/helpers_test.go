package etcd_test

// The helpers every test file of package etcd_test uses: the shared server,
// clients, sessions and prefixes, key counts, and waiting on a channel with
// a bound.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	"github.com/coordkit/coord/etcd/embedded"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// One single-member server serves every test that does not need a cluster
// of its own; each test works under a prefix of its own.
var shared *embedded.Server

func TestMain(m *testing.M) {
	etcd.DiscardGRPCLogs()
	dir, err := os.MkdirTemp("", "coord-etcd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	shared, err = embedded.Start(ctx, embedded.Config{
		DataDir:       dir,
		ClientAddr:    "127.0.0.1:0",
		UnsafeNoFsync: true,
	})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	shared.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newClient returns a quiet client of endpoints, closed when t ends.
func newClient(t testing.TB, endpoints ...string) *clientv3.Client {
	t.Helper()
	if len(endpoints) == 0 {
		endpoints = []string{shared.Endpoint()}
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

var prefixSeq atomic.Int64

// testPrefix returns a key namespace no other test uses.
func testPrefix(t testing.TB) string {
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	return fmt.Sprintf("/t/%s-%d/", name, prefixSeq.Add(1))
}

// newSession returns a session on cli (a fresh client of the shared server
// when cli is nil) under prefix, closed when t ends.
func newSession(t testing.TB, cli *clientv3.Client, prefix string, opts ...etcd.Option) *etcd.Session {
	t.Helper()
	if cli == nil {
		cli = newClient(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := etcd.NewSession(ctx, cli, append([]etcd.Option{etcd.WithPrefix(prefix)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// countKeys returns how many keys are under p.
func countKeys(t testing.TB, cli *clientv3.Client, p string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, p, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}

// waitKeys waits until exactly n keys are under p.
func waitKeys(t testing.TB, cli *clientv3.Client, p string, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := countKeys(t, cli, p)
		if c == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys under %q, want %d", c, p, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// within fails t unless ch is closed within d.
func within(t testing.TB, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("%s: not within %v", what, d)
	}
}

// stillOpen fails t if ch is closed within d.
func stillOpen(t testing.TB, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s: closed within %v, want it open", what, d)
	case <-time.After(d):
	}
}

// isClosed reports whether ch is closed now.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// result runs f in a goroutine and returns a channel with its error.
func result(f func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

// wait returns the error from ch, failing t if none comes within d.
func wait(t testing.TB, ch <-chan error, d time.Duration, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		t.Fatalf("%s: no result within %v", what, d)
		return nil
	}
}

// pending fails t if ch yields within d.
func pending(t testing.TB, ch <-chan error, d time.Duration, what string) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("%s returned %v, want it still waiting", what, err)
	case <-time.After(d):
	}
}

func bg(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
