package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Fault tests: members killed and restarted, clients cut off, holders that
// die. Each is bounded in time and asserts safety (no two holders act at
// once, tokens increase, a stale holder's fenced write is refused) and
// liveness (locks are granted again after the fault). They run unless -short.

// faultSession makes a session under prefix for a client loop of a fault
// test, or returns nil after a short pause when the cluster cannot give one
// yet (no leader during the fault).
func faultSession(ctx context.Context, cli *clientv3.Client, prefix string, opts []etcd.Option) *etcd.Session {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := etcd.NewSession(sctx, cli, append([]etcd.Option{etcd.WithPrefix(prefix)}, opts...)...)
	if err != nil {
		time.Sleep(50 * time.Millisecond) // no leader yet
		return nil
	}
	return s
}

// holdUntil records a hold by who with token that begins now and lasts
// holdFor or until lost closes, whichever is first.
func holdUntil(who string, token int64, lost <-chan struct{}, holdFor time.Duration) holdRecord {
	r := holdRecord{who: who, token: token, start: time.Now()}
	select {
	case <-lost:
		r.lost = true
	case <-time.After(holdFor):
	}
	r.end = time.Now()
	return r
}

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: runs without -short")
	}
}

// locker locks name over and over until stop closes, recording each hold in
// rec. A hold lasts holdFor or until Lost closes, whichever is first. When
// its session ends (lease lost during a fault) it makes a new one. It
// returns the number of holds it had.
func locker(t *testing.T, cli *clientv3.Client, prefix, name, who string, rec *holds, stop <-chan struct{}, holdFor time.Duration, opts ...etcd.Option) int {
	n := 0
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	for !stopped() {
		s := faultSession(context.Background(), cli, prefix, opts)
		if s == nil {
			continue
		}
		m := etcd.NewMutex(s, name)
		for !stopped() {
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				select {
				case <-stop:
				case <-ctx.Done():
				}
				cancel()
			}()
			err := m.Lock(ctx)
			if err != nil {
				cancel()
				if errors.Is(err, etcd.ErrSessionDone) {
					break
				}
				if !errors.Is(err, context.Canceled) {
					time.Sleep(50 * time.Millisecond) // a cluster error during the fault
				}
				continue
			}
			rec.add(holdUntil(who, m.Token(), m.Lost(), holdFor))
			n++
			m.Unlock()
			cancel()
		}
		s.Close()
	}
	return n
}

func TestFaultOverlapManyClients(t *testing.T) {
	skipShort(t)
	p := testPrefix(t)
	var rec holds
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var total atomic.Int64
	for i := range 6 {
		cli := newClient(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			total.Add(int64(locker(t, cli, p, "x", fmt.Sprint("c", i), &rec, stop, time.Millisecond)))
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	n, _ := rec.check(t)
	if n < 10 {
		t.Fatalf("only %d holds in 1.5s", n)
	}
	t.Logf("%d holds by 6 clients, none overlapping", n)
}

func TestFaultLeaderKilled(t *testing.T) {
	skipShort(t)
	c := startCluster(t, 3)
	p := testPrefix(t)
	var rec holds
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		cli := newClient(t, c.endpoints()...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			locker(t, cli, p, "x", fmt.Sprint("c", i), &rec, stop, 300*time.Millisecond, etcd.WithTTL(3*time.Second))
		}()
	}
	time.Sleep(time.Second)
	before, _ := rec.check(t)
	if before == 0 {
		t.Fatal("no holds before the fault")
	}
	// The killed leader hangs rather than resetting connections (see
	// cluster.kill): its clients' requests and watches stall until their
	// sessions pass their early deadline, and their keys stay until the new
	// leader's renewed leases run out. That is the harsher fault, and the
	// time to recover is mostly that TTL.
	killed := time.Now()
	c.kill(c.leader())
	// Locks are granted again once a new leader is elected.
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec.mu.Lock()
		after := 0
		for _, r := range rec.list {
			if r.start.After(killed) {
				after++
			}
		}
		rec.mu.Unlock()
		if after >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d holds in 30s after the leader was killed", after)
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	n, lost := rec.check(t)
	t.Logf("%d holds (%d before the kill, %d lost), recovered in %v", n, before, lost, time.Since(killed).Round(time.Millisecond))
}

func TestFaultMemberRestarted(t *testing.T) {
	skipShort(t)
	c := startCluster(t, 3)
	p := testPrefix(t)
	// Kill a member that does not lead, and lock through it alone once it
	// is back: it must have caught up with what happened while it was down.
	leader := c.leader()
	victim := (leader + 1) % 3
	survivor := etcd.NewMutex(newSession(t, newClient(t, c.endpoints()[leader]), p), "r")
	c.kill(victim)
	if err := survivor.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	tokenWhileDown := survivor.Token()
	c.restart(victim)
	cli := newClient(t, c.endpoints()[victim])
	m := etcd.NewMutex(newSession(t, cli, p), "r")
	res := result(func() error { return m.Lock(bg(t)) })
	pending(t, res, 300*time.Millisecond, "Lock through the restarted member while held")
	survivor.Unlock()
	if err := wait(t, res, 10*time.Second, "Lock through the restarted member"); err != nil {
		t.Fatal(err)
	}
	if m.Token() <= tokenWhileDown {
		t.Fatalf("token %d after a restart does not exceed %d", m.Token(), tokenWhileDown)
	}
	m.Unlock()
}

func TestFaultClientCutOff(t *testing.T) {
	skipShort(t)
	p := testPrefix(t)
	px := newProxy(t, shared.Endpoint())
	cut := newClient(t, px.addr())
	a := etcd.NewMutex(newSession(t, cut, p, etcd.WithTTL(2*time.Second)), "cut")
	b := etcd.NewMutex(newSession(t, nil, p), "cut")
	if err := a.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	guardA, tokenA := a.Guard(), a.Token()
	var grantedB time.Time
	bres := result(func() error {
		err := b.Lock(bg(t))
		grantedB = time.Now()
		return err
	})
	waitKeys(t, newClient(t), p, 2)
	px.cutOff()
	cutAt := time.Now()
	within(t, a.Lost(), 5*time.Second, "Lost of the holder cut off")
	lostA := time.Now()
	if err := wait(t, bres, 10*time.Second, "Lock of the next holder"); err != nil {
		t.Fatal(err)
	}
	if !lostA.Before(grantedB) {
		t.Fatalf("the holder cut off saw Lost at %v, after the next holder was granted at %v",
			lostA.Sub(cutAt), grantedB.Sub(cutAt))
	}
	t.Logf("cut at 0; holder lost at %v; next granted at %v", lostA.Sub(cutAt).Round(time.Millisecond), grantedB.Sub(cutAt).Round(time.Millisecond))
	if b.Token() <= tokenA {
		t.Fatalf("token %d of the next holder does not exceed %d", b.Token(), tokenA)
	}
	// The stale holder's fenced write is refused; the current one's is not.
	cli := newClient(t)
	resp, err := cli.Txn(bg(t)).If(guardA).Then(clientv3.OpPut(p+"data", "stale")).Commit()
	if err != nil || resp.Succeeded {
		t.Fatalf("stale holder's guarded write: succeeded=%v err=%v", resp != nil && resp.Succeeded, err)
	}
	resp, err = cli.Txn(bg(t)).If(b.Guard()).Then(clientv3.OpPut(p+"data", "fresh")).Commit()
	if err != nil || !resp.Succeeded {
		t.Fatalf("current holder's guarded write refused: %v", err)
	}
	// Unlock of the lost hold returns promptly, cluster unreachable or not.
	start := time.Now()
	a.Unlock()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Unlock of a cut-off holder took %v", d)
	}
	b.Unlock()
}

func TestFaultUnreachableBounded(t *testing.T) {
	skipShort(t)
	// With the cluster unreachable, every call returns within a few seconds
	// even with a ctx that never ends: waits end with the session, Unlock,
	// Release and Close are bounded by a timeout.
	p := testPrefix(t)
	px := newProxy(t, shared.Endpoint())
	cli := newClient(t, px.addr())
	s := newSession(t, cli, p, etcd.WithTTL(2*time.Second))
	other := etcd.NewMutex(newSession(t, nil, p), "u")
	if err := other.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	held := etcd.NewSemaphore(s, "sem", 1)
	if err := held.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	m := etcd.NewMutex(s, "u")
	res := result(func() error { return m.Lock(context.Background()) })
	waitKeys(t, newClient(t), p+"lock/", 2)
	px.cutOff()
	if err := wait(t, res, 6*time.Second, "Lock with the cluster unreachable"); !errors.Is(err, etcd.ErrSessionDone) {
		t.Fatalf("Lock = %v, want ErrSessionDone", err)
	}
	within(t, held.Lost(), time.Second, "Lost of a semaphore hold")
	start := time.Now()
	if err := held.Release(context.Background()); !errors.Is(err, etcd.ErrLost) {
		t.Fatalf("Release = %v, want ErrLost", err)
	}
	e := etcd.NewEvent(s, "ev")
	if err := e.Wait(context.Background()); !errors.Is(err, etcd.ErrSessionDone) {
		t.Fatalf("Event.Wait on a done session = %v", err)
	}
	s.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Release, Wait and Close took %v with the cluster unreachable", d)
	}
	other.Unlock()
}

func TestFaultHolderDiesWithoutClose(t *testing.T) {
	skipShort(t)
	p := testPrefix(t)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{shared.Endpoint()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	a := etcd.NewMutex(newSession(t, cli, p, etcd.WithTTL(2*time.Second)), "die")
	b := etcd.NewMutex(newSession(t, nil, p), "die")
	if err := a.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	bres := result(func() error { return b.Lock(bg(t)) })
	waitKeys(t, newClient(t), p, 2)
	// The holder's process "dies": its connection goes, its session is
	// never closed, and its lease runs out on the server.
	died := time.Now()
	cli.Close()
	within(t, a.Lost(), 4*time.Second, "Lost of the holder whose client died")
	lostAt := time.Now()
	if err := wait(t, bres, 10*time.Second, "Lock of the next waiter"); err != nil {
		t.Fatal(err)
	}
	grantedAt := time.Now()
	if grantedAt.Before(lostAt) {
		t.Fatal("next waiter granted before the holder saw Lost")
	}
	if d := grantedAt.Sub(died); d < time.Second {
		t.Fatalf("next waiter granted %v after the holder died: before the lease could expire", d)
	}
	t.Logf("holder lost after %v, next granted after %v", lostAt.Sub(died).Round(time.Millisecond), grantedAt.Sub(died).Round(time.Millisecond))
	b.Unlock()
}

func TestFaultShortOutageLeavesNoKey(t *testing.T) {
	skipShort(t)
	// A waiter gives up while its cluster is unreachable: the bounded delete
	// of its key fails, and its session, which outlives the outage, deletes
	// the key once it reaches the cluster again, so the waiters behind it
	// are not blocked until the session ends.
	p := testPrefix(t)
	px := newProxy(t, shared.Endpoint())
	s := newSession(t, newClient(t, px.addr()), p, etcd.WithTTL(20*time.Second))
	watcher := newClient(t)
	holder := etcd.NewMutex(newSession(t, nil, p), "o")
	if err := holder.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	m := etcd.NewMutex(s, "o")
	ctx, cancel := context.WithCancel(context.Background())
	res := result(func() error { return m.Lock(ctx) })
	waitKeys(t, watcher, p, 2)
	px.cutOff()
	t0 := time.Now()
	cancel()
	if err := wait(t, res, 5*time.Second, "Lock cancelled during the outage"); err != context.Canceled {
		t.Fatalf("Lock = %v, want context.Canceled", err)
	}
	if n := countKeys(t, watcher, p); n != 2 {
		t.Fatalf("%d keys: the waiter's key went during the outage?", n)
	}
	t.Logf("cancelled Lock returned after %v", time.Since(t0).Round(time.Millisecond))
	px.heal()
	waitKeys(t, watcher, p, 1) // the session cleaned up after the outage
	t.Logf("key deleted %v after the cut", time.Since(t0).Round(time.Millisecond))
	select {
	case <-s.Done():
		t.Fatalf("session ended: %v", s.Err())
	default:
	}
	next := etcd.NewMutex(newSession(t, nil, p), "o")
	nres := result(func() error { return next.Lock(bg(t)) })
	holder.Unlock()
	if err := wait(t, nres, 5*time.Second, "Lock after the holder's Unlock"); err != nil {
		t.Fatal(err)
	}
	next.Unlock()
}
