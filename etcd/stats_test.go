package etcd_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// eventually fails t unless cond holds within 10s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type statser interface{ Stats() coord.Stats }

// waiters waits until p reports n waiters and returns its Stats then.
func waiters(t testing.TB, p statser, n int) coord.Stats {
	t.Helper()
	var st coord.Stats
	eventually(t, "waiters", func() bool { st = p.Stats(); return st.Waiters == n })
	return st
}

// checkCounts fails t unless st's counts are waits, gaveUp, and WaitTime is
// positive exactly when waits is.
func checkCounts(t testing.TB, what string, st coord.Stats, waits, gaveUp uint64) {
	t.Helper()
	if st.Waits != waits || st.GaveUp != gaveUp || (st.WaitTime > 0) != (waits > 0) {
		t.Fatalf("%s: %+v, want Waits %d, GaveUp %d", what, st, waits, gaveUp)
	}
}

func TestStatsMutex(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	h := etcd.NewMutex(newSession(t, nil, p), "l")
	w := etcd.NewMutex(newSession(t, nil, p), "l")

	// A free lock is taken without a wait.
	if err := h.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	st := h.Stats()
	if st.Kind != "Mutex" || st.Name != "" || st.Holders != 1 || st.Waiters != 0 || st.OldestWait != 0 {
		t.Fatalf("holder: %+v", st)
	}
	checkCounts(t, "holder", st, 0, 0)

	// A value parked behind another session's hold: one waiter, aging.
	ctx, cancel := context.WithCancel(context.Background())
	res := result(func() error { return w.Lock(ctx) })
	st = waiters(t, w, 1)
	if st.Holders != 0 || st.OldestWait <= 0 {
		t.Fatalf("waiter: %+v", st)
	}
	checkCounts(t, "waiting", st, 0, 0)
	time.Sleep(20 * time.Millisecond)
	if later := w.Stats(); later.OldestWait <= st.OldestWait {
		t.Fatalf("OldestWait did not grow: %v then %v", st.OldestWait, later.OldestWait)
	}

	// Giving up: counted, no waiter left.
	cancel()
	if err := wait(t, res, 5*time.Second, "Lock"); err != context.Canceled {
		t.Fatalf("Lock = %v, want context.Canceled", err)
	}
	st = w.Stats()
	if st.Waiters != 0 || st.OldestWait != 0 || st.Holders != 0 {
		t.Fatalf("after giving up: %+v", st)
	}
	checkCounts(t, "after giving up", st, 1, 1)

	// Waiting again, and granted on the holder's Unlock.
	res = result(func() error { return w.Lock(bg(t)) })
	waiters(t, w, 1)
	h.Unlock()
	if err := wait(t, res, 5*time.Second, "Lock"); err != nil {
		t.Fatal(err)
	}
	st = w.Stats()
	if st.Holders != 1 || st.Waiters != 0 {
		t.Fatalf("granted: %+v", st)
	}
	checkCounts(t, "granted", st, 2, 1)
	if st := h.Stats(); st.Holders != 0 {
		t.Fatalf("after Unlock: %+v", st)
	}

	// A hold known to be lost is not counted.
	lost := w.Lost()
	if _, err := cli.Delete(bg(t), p, clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	within(t, lost, 5*time.Second, "Lost")
	if st := w.Stats(); st.Holders != 0 {
		t.Fatalf("after a loss: %+v", st)
	}
	w.Unlock()
	checkCounts(t, "after Unlock", w.Stats(), 2, 1)
}

func TestStatsTurn(t *testing.T) {
	// Goroutines sharing one value wait for its turn: each is a waiter.
	m := etcd.NewMutex(newSession(t, nil, testPrefix(t)), "l")
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	a := result(func() error { return m.Lock(bg(t)) })
	b := result(func() error { return m.Lock(bg(t)) })
	st := waiters(t, m, 2)
	if st.Holders != 1 {
		t.Fatalf("%+v", st)
	}
	m.Unlock()
	var errA, errB error
	select {
	case errA = <-a:
		m.Unlock()
		errB = wait(t, b, 5*time.Second, "second Lock")
	case errB = <-b:
		m.Unlock()
		errA = wait(t, a, 5*time.Second, "second Lock")
	case <-time.After(5 * time.Second):
		t.Fatal("no Lock returned")
	}
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	m.Unlock()
	checkCounts(t, "after both", m.Stats(), 2, 0)
}

func TestStatsRegister(t *testing.T) {
	p := testPrefix(t)
	m := etcd.NewMutex(newSession(t, nil, p), "jobs")
	coord.Register("etcd-jobs", m)
	defer coord.Unregister("etcd-jobs")
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	defer m.Unlock()
	if st := m.Stats(); st.Name != "etcd-jobs" {
		t.Fatalf("Stats().Name = %q", st.Name)
	}
	for _, st := range coord.Snapshot() {
		if st.Name == "etcd-jobs" {
			if st.Kind != "Mutex" || st.Holders != 1 {
				t.Fatalf("Snapshot: %+v", st)
			}
			return
		}
	}
	t.Fatal("Snapshot does not show the registered etcd Mutex")
}

func TestStatsKinds(t *testing.T) {
	p := testPrefix(t)
	s1, s2 := newSession(t, nil, p), newSession(t, nil, p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// RWMutex: a reader parked behind another session's writer.
	wr, rd := etcd.NewRWMutex(s1, "rw"), etcd.NewRWMutex(s2, "rw")
	if err := wr.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	rres := result(func() error { return rd.RLock(bg(t)) })
	if st := waiters(t, rd, 1); st.Kind != "RWMutex" || st.Holders != 0 || st.OldestWait <= 0 {
		t.Fatalf("RWMutex reader waiting: %+v", st)
	}
	wr.Unlock()
	if err := wait(t, rres, 5*time.Second, "RLock"); err != nil {
		t.Fatal(err)
	}
	st := rd.Stats()
	if st.Holders != 1 {
		t.Fatalf("RWMutex reader: %+v", st)
	}
	checkCounts(t, "RWMutex reader", st, 1, 0)
	rd.RUnlock()

	// Semaphore: the limit+1st waits.
	a, b := etcd.NewSemaphore(s1, "sem", 1), etcd.NewSemaphore(s2, "sem", 1)
	if err := a.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	if st := a.Stats(); st.Kind != "Semaphore" || st.Holders != 1 || st.Waits != 0 {
		t.Fatalf("Semaphore holder: %+v", st)
	}
	sres := result(func() error { return b.Acquire(ctx) })
	waiters(t, b, 1)

	// Election: a candidate behind the leader.
	e1, e2 := etcd.NewElection(s1, "el"), etcd.NewElection(s2, "el")
	if err := e1.Campaign(bg(t), "one"); err != nil {
		t.Fatal(err)
	}
	eres := result(func() error { return e2.Campaign(ctx, "two") })
	if st := waiters(t, e2, 1); st.Kind != "Election" || st.Holders != 0 {
		t.Fatalf("Election candidate: %+v", st)
	}
	if st := e1.Stats(); st.Holders != 1 || st.Waits != 0 {
		t.Fatalf("Election leader: %+v", st)
	}

	cancel()
	for _, r := range []<-chan error{sres, eres} {
		if err := wait(t, r, 5*time.Second, "wait"); err != context.Canceled {
			t.Fatalf("gave up with %v", err)
		}
	}
	checkCounts(t, "Semaphore gave up", b.Stats(), 1, 1)
	checkCounts(t, "Election gave up", e2.Stats(), 1, 1)
	if err := a.Release(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := e1.Resign(bg(t)); err != nil {
		t.Fatal(err)
	}
	if st := e1.Stats(); st.Holders != 0 {
		t.Fatalf("Election after Resign: %+v", st)
	}
}

func TestStatsEvent(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	s := newSession(t, cli, p)
	ev := etcd.NewEvent(s, "e")

	// Two waiters on a clear event, one in a copy of the handle.
	cp := *ev
	ctx, cancel := context.WithCancel(context.Background())
	a := result(func() error { return ev.Wait(bg(t)) })
	b := result(func() error { return cp.Wait(ctx) })
	st := waiters(t, ev, 2)
	if st.Kind != "Event" || st.Holders != 0 || st.OldestWait <= 0 {
		t.Fatalf("Event waiting: %+v", st)
	}

	// One gives up: counted, and its key is gone.
	cancel()
	if err := wait(t, b, 5*time.Second, "Wait"); err != context.Canceled {
		t.Fatalf("Wait = %v", err)
	}
	if st := ev.Stats(); st.Waiters != 1 {
		t.Fatalf("after giving up: %+v", st)
	}
	waitKeys(t, cli, p+"eventwait/", 1)

	if err := ev.Set(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, a, 5*time.Second, "Wait"); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "after Set", ev.Stats(), 2, 1)
	waitKeys(t, cli, p+"eventwait/", 0)

	// A Wait on a set event returns at once: no wait, nothing written.
	before := revision(t, cli)
	if err := ev.Wait(bg(t)); err != nil {
		t.Fatal(err)
	}
	if after := revision(t, cli); after != before {
		t.Fatalf("Wait on a set event wrote: revision %d -> %d", before, after)
	}
	checkCounts(t, "Wait on a set event", ev.Stats(), 2, 1)
}

func TestStatsBarrier(t *testing.T) {
	p := testPrefix(t)
	b := etcd.NewBarrier(newSession(t, nil, p), "b", 3)
	last := etcd.NewBarrier(newSession(t, nil, p), "b", 3)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := b.Wait(bg(t)); err != nil {
				t.Error(err)
			}
		})
	}
	st := waiters(t, b, 2)
	if st.Kind != "Barrier" || st.Holders != 0 || st.OldestWait <= 0 {
		t.Fatalf("Barrier waiting: %+v", st)
	}
	// The party that trips the round does not wait.
	if _, err := last.Wait(bg(t)); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	checkCounts(t, "tripped", b.Stats(), 2, 0)
	checkCounts(t, "tripping party", last.Stats(), 0, 0)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := b.Wait(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Wait = %v", err)
	}
	checkCounts(t, "gave up", b.Stats(), 3, 1)
}

func TestStatsSlowWait(t *testing.T) {
	// A slow etcd wait is reported as an in-process one is, with the
	// registered name.
	var buf syncBuffer
	coord.SetSlowWait(50*time.Millisecond, slog.New(slog.NewTextHandler(&buf, nil)))
	defer coord.SetSlowWait(0, nil)
	p := testPrefix(t)
	h := etcd.NewMutex(newSession(t, nil, p), "l")
	w := etcd.NewMutex(newSession(t, nil, p), "l")
	coord.Register("etcd-slow", w)
	defer coord.Unregister("etcd-slow")
	if err := h.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	res := result(func() error { return w.Lock(bg(t)) })
	eventually(t, "slow-wait report", func() bool { return strings.Contains(buf.String(), "coord: slow wait") })
	h.Unlock()
	if err := wait(t, res, 5*time.Second, "Lock"); err != nil {
		t.Fatal(err)
	}
	w.Unlock()
	out := buf.String()
	for _, want := range []string{"name=etcd-slow", "kind=Mutex", "stats_test.go"} {
		if !strings.Contains(out, want) {
			t.Fatalf("report %q lacks %q", out, want)
		}
	}
	// The holder is another value (here, of another session): this
	// value's Took knows nothing of it, and the report names no holder
	// rather than a wrong one.
	if strings.Contains(out, "holder=") {
		t.Fatalf("report %q names a holder it cannot know", out)
	}
	if n := strings.Count(out, "name=etcd-slow"); n != 1 {
		t.Fatalf("%d reports, want 1:\n%s", n, out)
	}

	// Goroutines sharing one value: the holder is this value's, and the
	// report says where it took the lock (the waiter's site is a closure's,
	// TestStatsSlowWait.funcN).
	var buf2 syncBuffer
	coord.SetSlowWait(50*time.Millisecond, slog.New(slog.NewTextHandler(&buf2, nil)))
	if err := w.Lock(bg(t)); err != nil { // the holder's site
		t.Fatal(err)
	}
	res = result(func() error { return w.Lock(bg(t)) })
	eventually(t, "slow-wait report", func() bool { return strings.Contains(buf2.String(), "coord: slow wait") })
	w.Unlock()
	if err := wait(t, res, 5*time.Second, "Lock"); err != nil {
		t.Fatal(err)
	}
	w.Unlock()
	if out := buf2.String(); !strings.Contains(out, `(github.com/coordkit/coord/etcd_test.TestStatsSlowWait)"`) {
		t.Fatalf("report %q does not say where the holder took the lock", out)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Stats is this process's view of its own value; coord.Register names it
// for coord.Snapshot, coord.Handler and slow-wait reports.
func ExampleMutex_Stats() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()
	s1, _ := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-stats/"))
	defer s1.Close()
	s2, _ := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-stats/"))
	defer s2.Close()
	holder, waiter := etcd.NewMutex(s1, "jobs"), etcd.NewMutex(s2, "jobs")
	coord.Register("jobs", waiter)
	defer coord.Unregister("jobs")

	if err := holder.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	defer holder.Unlock()
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	fmt.Println(waiter.Lock(tctx))
	st := waiter.Stats()
	fmt.Println(st.Name, st.Kind, st.Holders, st.Waiters, st.Waits, st.GaveUp)
	fmt.Println(holder.Stats().Holders)
	// Output:
	// context deadline exceeded
	// jobs Mutex 0 0 1 1
	// 1
}
