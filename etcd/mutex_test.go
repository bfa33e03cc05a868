package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestMutexExclusion(t *testing.T) {
	p := testPrefix(t)
	const workers, rounds = 4, 8
	var inside, total atomic.Int64
	var last atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for range workers {
		m := etcd.NewMutex(newSession(t, nil, p), "x")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := m.Lock(bg(t)); err != nil {
					errc <- err
					return
				}
				if n := inside.Add(1); n != 1 {
					errc <- errors.New("two holders at once")
				}
				if tok := m.Token(); tok <= last.Load() {
					errc <- errors.New("token did not increase")
				} else {
					last.Store(tok)
				}
				total.Add(1)
				inside.Add(-1)
				m.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if got := total.Load(); got != workers*rounds {
		t.Fatalf("%d holds, want %d", got, workers*rounds)
	}
	waitKeys(t, newClient(t), p, 0)
}

func TestMutexCancelledWaiterLeavesNoKey(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	a := etcd.NewMutex(newSession(t, nil, p), "c")
	b := etcd.NewMutex(newSession(t, nil, p), "c")
	c := etcd.NewMutex(newSession(t, nil, p), "c")
	if err := a.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	bres := result(func() error { return b.Lock(ctx) })
	waitKeys(t, cli, p, 2)
	cres := result(func() error { return c.Lock(bg(t)) })
	waitKeys(t, cli, p, 3)
	cancel()
	if err := wait(t, bres, 5*time.Second, "cancelled Lock"); err != context.Canceled {
		t.Fatalf("cancelled Lock = %v, want context.Canceled itself", err)
	}
	waitKeys(t, cli, p, 2) // b's key is gone, c still waits behind a
	pending(t, cres, 100*time.Millisecond, "c.Lock while a holds")
	a.Unlock()
	if err := wait(t, cres, 5*time.Second, "c.Lock"); err != nil {
		t.Fatal(err)
	}
	c.Unlock()
	if b.Token() != 0 {
		t.Fatal("cancelled waiter has a token")
	}
}

func TestMutexDeadline(t *testing.T) {
	p := testPrefix(t)
	a := etcd.NewMutex(newSession(t, nil, p), "t")
	b := etcd.NewMutex(newSession(t, nil, p), "t")
	if err := a.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := b.Lock(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Lock past its deadline = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Lock returned %v after its deadline", d)
	}
	waitKeys(t, newClient(t), p, 1)
}

func TestMutexTryLock(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	a := etcd.NewMutex(newSession(t, nil, p), "try")
	b := etcd.NewMutex(newSession(t, nil, p), "try")
	if err := a.TryLock(bg(t)); err != nil {
		t.Fatalf("TryLock of a free mutex: %v", err)
	}
	err := b.TryLock(bg(t))
	if !errors.Is(err, etcd.ErrLocked) {
		t.Fatalf("TryLock of a held mutex = %v, want ErrLocked", err)
	}
	if !strings.HasPrefix(err.Error(), `coord/etcd: trylock "try": `) {
		t.Fatalf("error %q does not name the operation", err)
	}
	if err := a.TryLock(bg(t)); !errors.Is(err, etcd.ErrLocked) {
		t.Fatalf("TryLock of a value that holds = %v, want ErrLocked", err)
	}
	if n := countKeys(t, cli, p); n != 1 {
		t.Fatalf("%d keys, want only the holder's: a failed TryLock queued", n)
	}
	// A waiter in line also makes TryLock fail: it would jump the queue.
	c := etcd.NewMutex(newSession(t, nil, p), "try")
	cres := result(func() error { return c.Lock(bg(t)) })
	waitKeys(t, cli, p, 2)
	a.Unlock()
	if err := wait(t, cres, 5*time.Second, "c.Lock"); err != nil {
		t.Fatal(err)
	}
	if err := b.TryLock(bg(t)); !errors.Is(err, etcd.ErrLocked) {
		t.Fatalf("TryLock while c holds = %v", err)
	}
	c.Unlock()
	if err := b.TryLock(bg(t)); err != nil {
		t.Fatal(err)
	}
	b.Unlock()
}

func TestMutexSameSessionDistinctHolders(t *testing.T) {
	p := testPrefix(t)
	s := newSession(t, nil, p)
	a, b := etcd.NewMutex(s, "same"), etcd.NewMutex(s, "same")
	if err := a.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	bres := result(func() error { return b.Lock(bg(t)) })
	pending(t, bres, 300*time.Millisecond, "second Mutex on the same session")
	a.Unlock()
	if err := wait(t, bres, 5*time.Second, "b.Lock"); err != nil {
		t.Fatal(err)
	}
	b.Unlock()
}

func TestMutexValueSharedByGoroutines(t *testing.T) {
	p := testPrefix(t)
	m := etcd.NewMutex(newSession(t, nil, p), "shared")
	var inside atomic.Int32
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if err := m.Lock(bg(t)); err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					t.Error("two goroutines hold one Mutex value")
				}
				inside.Add(-1)
				m.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestMutexLostOnKeyDeleted(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	m := etcd.NewMutex(newSession(t, nil, p), "l")
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	lost := m.Lost()
	if isClosed(lost) {
		t.Fatal("Lost closed while held")
	}
	if _, err := cli.Delete(bg(t), p, clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	within(t, lost, 5*time.Second, "Lost after the key was deleted")
	err := m.Release(bg(t))
	if !errors.Is(err, etcd.ErrLost) {
		t.Fatalf("Release after loss = %v, want ErrLost", err)
	}
	// The mutex is usable again, and Unlock after a loss does not panic.
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Delete(bg(t), p, clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	within(t, m.Lost(), 5*time.Second, "Lost of the second hold")
	m.Unlock()
}

func TestMutexUnlockDoesNotReportLost(t *testing.T) {
	p := testPrefix(t)
	m := etcd.NewMutex(newSession(t, nil, p), "u")
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	lost := m.Lost()
	m.Unlock()
	stillOpen(t, lost, 200*time.Millisecond, "Lost after Unlock")
	if m.Token() != 0 {
		t.Fatal("Token after Unlock")
	}
}

func TestMutexUnlockUnlockedPanics(t *testing.T) {
	m := etcd.NewMutex(newSession(t, nil, testPrefix(t)), "p")
	defer func() {
		r := recover()
		if s, ok := r.(string); !ok || !strings.HasPrefix(s, "coord: ") {
			t.Fatalf("Unlock of an unlocked Mutex: recovered %v, want a coord: panic", r)
		}
	}()
	m.Unlock()
}

func TestMutexOnClosedSession(t *testing.T) {
	p := testPrefix(t)
	s := newSession(t, nil, p)
	a := etcd.NewMutex(newSession(t, nil, p), "s")
	b := etcd.NewMutex(s, "s")
	if err := a.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	// A waiter whose ctx has no deadline ends when its session does.
	bres := result(func() error { return b.Lock(context.Background()) })
	waitKeys(t, newClient(t), p, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	within(t, s.Done(), time.Second, "Done after Close")
	if err := wait(t, bres, 5*time.Second, "Lock on a closed session"); !errors.Is(err, etcd.ErrSessionDone) {
		t.Fatalf("Lock = %v, want ErrSessionDone", err)
	}
	start := time.Now()
	if err := b.Lock(context.Background()); !errors.Is(err, etcd.ErrSessionDone) {
		t.Fatalf("Lock on a done session = %v, want ErrSessionDone", err)
	}
	if time.Since(start) > 100*time.Millisecond {
		t.Fatal("Lock on a done session did not fail at once")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Lock(ctx); err != context.Canceled {
		t.Fatalf("ctx.Err() must win over ErrSessionDone, got %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestMutexLostOnSessionClose(t *testing.T) {
	p := testPrefix(t)
	s := newSession(t, nil, p)
	a := etcd.NewMutex(s, "sc")
	b := etcd.NewMutex(newSession(t, nil, p), "sc")
	if err := a.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	bres := result(func() error { return b.Lock(bg(t)) })
	s.Close()
	within(t, a.Lost(), time.Second, "Lost after Close")
	if err := wait(t, bres, 5*time.Second, "b.Lock after the holder's session closed"); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(bg(t)); !errors.Is(err, etcd.ErrLost) {
		t.Fatalf("Release after the session closed = %v, want ErrLost", err)
	}
	b.Unlock()
}

func TestMutexLostAfterCompaction(t *testing.T) {
	// The Lost watch starts at the hold's revision; once that is compacted
	// away it falls back to reading the key and watching from then on.
	p := testPrefix(t)
	cli := newClient(t)
	m := etcd.NewMutex(newSession(t, nil, p), "c")
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	var rev int64
	for i := range 3 {
		resp, err := cli.Put(bg(t), p+"x", fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		rev = resp.Header.Revision
	}
	if _, err := cli.Compact(bg(t), rev); err != nil {
		t.Fatal(err)
	}
	lost := m.Lost()
	stillOpen(t, lost, 300*time.Millisecond, "Lost after a compaction")
	if _, err := cli.Delete(bg(t), p+"lock/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	within(t, lost, 5*time.Second, "Lost after the key was deleted")
}

func TestSessionLeaseRevokedByHand(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	s := newSession(t, cli, p)
	m := etcd.NewMutex(s, "r")
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	lost := m.Lost()
	if _, err := cli.Revoke(bg(t), s.Lease()); err != nil {
		t.Fatal(err)
	}
	within(t, lost, 5*time.Second, "Lost after the lease was revoked")
	// The next call learns the lease is gone and ends the session.
	m.Unlock()
	if err := m.Lock(bg(t)); !errors.Is(err, etcd.ErrSessionDone) {
		t.Fatalf("Lock after the lease was revoked = %v, want ErrSessionDone", err)
	}
	within(t, s.Done(), time.Second, "Done after the lease was revoked")
}

// Context is done with the parent, on Unlock, and on a loss, and its cause
// says which; with nothing held it is done at once.
func TestMutexContext(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	m := etcd.NewMutex(newSession(t, nil, p), "c")
	if ctx := m.Context(bg(t)); ctx.Err() == nil {
		t.Fatal("Context of an unheld mutex is not done")
	}

	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	parent, cancel := context.WithCancelCause(bg(t))
	stop := errors.New("parent stopped")
	ctx := m.Context(parent)
	cancel(stop)
	within(t, ctx.Done(), time.Second, "Context after its parent ended")
	if got := context.Cause(ctx); got != stop {
		t.Fatalf("cause after the parent ended = %v, want %v", got, stop)
	}

	ctx = m.Context(bg(t))
	if ctx.Err() != nil {
		t.Fatal("Context done while held")
	}
	m.Unlock()
	within(t, ctx.Done(), time.Second, "Context after Unlock")
	if got := context.Cause(ctx); got == nil || errors.Is(got, etcd.ErrLost) {
		t.Fatalf("cause after Unlock = %v, want a release that is not ErrLost", got)
	}

	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	ctx = m.Context(bg(t))
	if _, err := cli.Delete(bg(t), p, clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	within(t, ctx.Done(), 5*time.Second, "Context after the key was deleted")
	if got := context.Cause(ctx); !errors.Is(got, etcd.ErrLost) {
		t.Fatalf("cause after a loss = %v, want ErrLost", got)
	}
	m.Unlock()
}
