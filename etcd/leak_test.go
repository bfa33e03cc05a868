package etcd_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
)

// etcdGoroutines returns the stacks of goroutines running code of package
// etcd (keepalive loops, Lost watches, cleaners).
func etcdGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/coordkit/coord/etcd.") {
			out = append(out, g)
		}
	}
	return out
}

func TestNoGoroutineLeak(t *testing.T) {
	// Every goroutine the package starts ends with its session: after
	// holds with Lost watches, waits given up, a wait ended by its session
	// and Close, none is left.
	p := testPrefix(t)
	cli := newClient(t)
	func() {
		s1, err := etcd.NewSession(bg(t), cli, etcd.WithPrefix(p))
		if err != nil {
			t.Fatal(err)
		}
		s2, err := etcd.NewSession(bg(t), cli, etcd.WithPrefix(p))
		if err != nil {
			t.Fatal(err)
		}
		a, b := etcd.NewMutex(s1, "l"), etcd.NewMutex(s2, "l")
		if err := a.Lock(bg(t)); err != nil {
			t.Fatal(err)
		}
		_ = a.Lost()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		if err := b.Lock(ctx); err != context.DeadlineExceeded {
			t.Fatal(err)
		}
		cancel()
		sem := etcd.NewSemaphore(s2, "s", 1)
		if err := sem.Acquire(bg(t)); err != nil {
			t.Fatal(err)
		}
		_ = sem.Lost()
		ev := etcd.NewEvent(s2, "e")
		res := result(func() error { return ev.Wait(context.Background()) })
		bar := etcd.NewBarrier(s1, "b", 2)
		bres := result(func() error { _, err := bar.Wait(context.Background()); return err })
		waitKeys(t, cli, p+"barrier/", 1)
		a.Unlock()
		s2.Close()
		if err := wait(t, res, 5*time.Second, "Event.Wait after Close"); err == nil {
			t.Fatal("Wait returned nil on a closed session")
		}
		s1.Close()
		if err := wait(t, bres, 5*time.Second, "Barrier.Wait after Close"); err == nil {
			t.Fatal("Barrier.Wait returned nil on a closed session")
		}
	}()
	noGoroutinesLeft(t)
}

// noGoroutinesLeft fails t unless, within a few seconds, no goroutine of
// package etcd is left.
func noGoroutinesLeft(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := etcdGoroutines()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of package etcd left:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
