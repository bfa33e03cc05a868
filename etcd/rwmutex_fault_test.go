package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Fault tests of RWMutex, as those of fault_test.go for Mutex: bounded in
// time, asserting safety (no writer acts while anyone else does, writers'
// tokens increase) and liveness (the lock is granted again after the fault).

// rwHold is one hold of an RWMutex: its kind, token and the time its holder
// acted on it (from the grant to its release, or to Lost).
type rwHold struct {
	holdRecord
	reader bool
}

type rwHolds struct {
	mu   sync.Mutex
	list []rwHold
}

func (h *rwHolds) add(r rwHold) {
	h.mu.Lock()
	h.list = append(h.list, r)
	h.mu.Unlock()
}

// since returns how many holds of each kind began after t.
func (h *rwHolds) since(t time.Time) (readers, writers int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.list {
		if r.start.After(t) {
			if r.reader {
				readers++
			} else {
				writers++
			}
		}
	}
	return readers, writers
}

// check fails t if a writer's hold overlaps any other hold, or if the
// tokens do not follow the order of the holds around each writer: every
// hold before a writer's has a lower token, every hold after it a higher
// one (a writer waits for every key older than its own, and every younger
// key waits for it). It returns the number of holds and how many pairs of
// readers overlapped (shared the lock).
func (h *rwHolds) check(t *testing.T) (n, shared int) {
	t.Helper()
	h.mu.Lock()
	l := append([]rwHold(nil), h.list...)
	h.mu.Unlock()
	sort.Slice(l, func(i, j int) bool { return l[i].start.Before(l[j].start) })
	for i, a := range l {
		for _, b := range l[i+1:] {
			if !b.start.Before(a.end) {
				if !a.reader && b.token <= a.token || !b.reader && b.token <= a.token {
					t.Errorf("%s token %d (reader=%v) held before %s token %d (reader=%v): tokens out of order",
						a.who, a.token, a.reader, b.who, b.token, b.reader)
				}
				continue
			}
			if !a.reader || !b.reader {
				t.Errorf("holds overlap: %s token %d (reader=%v, lost=%v) still acting when %s token %d (reader=%v) started",
					a.who, a.token, a.reader, a.lost, b.who, b.token, b.reader)
			} else {
				shared++
			}
		}
	}
	return len(l), shared
}

// rwLocker takes name as a reader (when read(i) is true for its i-th hold)
// or as a writer, over and over until stop closes, as locker does for a
// Mutex: each hold lasts holdFor or until Lost closes, and a session that
// ends is replaced.
func rwLocker(cli *clientv3.Client, prefix, name, who string, read func(i int) bool, rec *rwHolds, stop <-chan struct{}, holdFor time.Duration, opts ...etcd.Option) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	for i := 0; ctx.Err() == nil; {
		s := faultSession(ctx, cli, prefix, opts)
		if s == nil {
			continue
		}
		m := etcd.NewRWMutex(s, name)
		for ctx.Err() == nil {
			reader := read(i)
			lock := m.Lock
			if reader {
				lock = m.RLock
			}
			if err := lock(ctx); err != nil {
				if errors.Is(err, etcd.ErrSessionDone) {
					break
				}
				time.Sleep(50 * time.Millisecond) // a cluster error during the fault
				continue
			}
			rec.add(rwHold{holdRecord: holdUntil(who, m.Token(), m.Lost(), holdFor), reader: reader})
			i++
			m.Release(context.Background())
		}
		s.Close()
	}
}

func TestFaultRWMutexLeaderKilled(t *testing.T) {
	skipShort(t)
	c := startCluster(t, 3)
	p := testPrefix(t)
	var rec rwHolds
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Two readers most of the time, a writer now and then, and a writer
	// that reads now and then: readers share, writers queue among them.
	modes := []func(i int) bool{
		func(i int) bool { return i%4 != 3 },
		func(i int) bool { return i%3 != 1 },
		func(i int) bool { return i%2 == 0 },
		func(i int) bool { return i%4 == 2 },
	}
	for i, read := range modes {
		cli := newClient(t, c.endpoints()...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rwLocker(cli, p, "x", fmt.Sprint("c", i), read, &rec, stop, 200*time.Millisecond, etcd.WithTTL(3*time.Second))
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if r, w := rec.since(time.Time{}); r == 0 || w == 0 {
		t.Fatalf("%d reader and %d writer holds before the fault", r, w)
	}
	killed := time.Now()
	c.kill(c.leader())
	// Both kinds are granted again once a new leader is elected.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, w := rec.since(killed)
		if r >= 2 && w >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reader and %d writer holds in 30s after the leader was killed", r, w)
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	n, shared := rec.check(t)
	if shared == 0 {
		t.Error("no two readers ever shared the lock")
	}
	t.Logf("%d holds, %d pairs of readers sharing, recovered in %v", n, shared, time.Since(killed).Round(time.Millisecond))
}

// "Context(parent) ... is done when parent is, when the hold is released,
// or when it is lost, and then context.Cause says which (ErrLost for a lost
// hold) ... Work that passes it down stops by itself when the lock goes."
// A reader whose client is cut off from the cluster: its work stops with
// cause ErrLost before the writer waiting behind it is granted, while the
// work of a reader sharing the lock through a healthy client goes on until
// it releases.
func TestFaultRWMutexContextCutOff(t *testing.T) {
	skipShort(t)
	p := testPrefix(t)
	px := newProxy(t, shared.Endpoint())
	cli := newClient(t)
	cut := etcd.NewRWMutex(newSession(t, newClient(t, px.addr()), p, etcd.WithTTL(2*time.Second)), "ctx")
	well, w := rwm(t, cli, p, "ctx"), rwm(t, cli, p, "ctx")
	if err := cut.RLock(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := well.RLock(bg(t)); err != nil {
		t.Fatal(err)
	}
	// work runs until its ctx ends, and reports when it stopped.
	work := func(ctx context.Context) <-chan time.Time {
		done := make(chan time.Time, 1)
		go func() {
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					done <- time.Now()
					return
				case <-tick.C: // a step of work
				}
			}
		}()
		return done
	}
	cutCtx, wellCtx := cut.Context(bg(t)), well.Context(bg(t))
	cutStopped, wellStopped := work(cutCtx), work(wellCtx)
	var grantedW time.Time
	wres := queue(t, cli, p, 3, func() error {
		err := w.Lock(bg(t))
		grantedW = time.Now()
		return err
	})
	px.cutOff()
	var stoppedAt time.Time
	select {
	case stoppedAt = <-cutStopped:
	case <-time.After(5 * time.Second):
		t.Fatal("work under the cut-off reader's Context did not stop within 5s")
	}
	if got := context.Cause(cutCtx); !errors.Is(got, etcd.ErrLost) {
		t.Fatalf("cause of the cut-off reader's Context = %v, want ErrLost", got)
	}
	if !isClosed(cut.Lost()) {
		t.Fatal("Context ended but Lost is open")
	}
	select {
	case <-wellStopped:
		t.Fatal("work of the healthy reader stopped with the other reader's loss")
	default:
	}
	pending(t, wres, 0, "writer while the healthy reader holds")
	well.RUnlock()
	select {
	case <-wellStopped:
	case <-time.After(time.Second):
		t.Fatal("work of the healthy reader went on after RUnlock")
	}
	if got := context.Cause(wellCtx); got == nil || errors.Is(got, etcd.ErrLost) {
		t.Fatalf("cause after RUnlock = %v, want a release that is not ErrLost", got)
	}
	if err := wait(t, wres, 10*time.Second, "writer after the readers"); err != nil {
		t.Fatal(err)
	}
	if !stoppedAt.Before(grantedW) {
		t.Fatal("the cut-off reader's work stopped after the writer was granted")
	}
	t.Logf("cut-off reader's work stopped %v before the writer was granted", grantedW.Sub(stoppedAt).Round(time.Millisecond))
	w.Unlock()
	cut.RUnlock()
}
