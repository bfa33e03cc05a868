package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Fault tests of Election, as those of fault_test.go for Mutex: bounded in
// time, asserting safety (never two leaders acting at once, tokens
// increase, Observe never goes back) and liveness (leadership and Observe
// recover). They run unless -short.

// campaigner campaigns on name over and over until stop closes, recording
// each leadership in rec. A leader acts for holdFor or until Lost closes,
// whichever is first, then resigns. When its session ends (lease lost
// during a fault) it makes a new one.
func campaigner(cli *clientv3.Client, prefix, name, who string, rec *holds, stop <-chan struct{}, holdFor time.Duration, opts ...etcd.Option) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-stop; cancel() }()
	for ctx.Err() == nil {
		s := faultSession(ctx, cli, prefix, opts)
		if s == nil {
			continue
		}
		e := etcd.NewElection(s, name)
		for ctx.Err() == nil && s.Err() == nil {
			if err := e.Campaign(ctx, who); err != nil {
				if !errors.Is(err, context.Canceled) && !errors.Is(err, etcd.ErrSessionDone) {
					time.Sleep(50 * time.Millisecond) // a cluster error during the fault
				}
				continue
			}
			rec.add(holdUntil(who, e.Token(), e.Lost(), holdFor))
			e.Resign(context.Background())
		}
		s.Close()
	}
}

// waitStarted waits until n records of rec started after t0.
func waitStarted(t *testing.T, rec *holds, t0 time.Time, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		rec.mu.Lock()
		after := 0
		for _, r := range rec.list {
			if r.start.After(t0) {
				after++
			}
		}
		rec.mu.Unlock()
		if after >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d leaderships in %v after the fault, want %d", after, d, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// "One leader per name at a time": leaders that act only while Lost is
// open never overlap, and their tokens increase, when the cluster's leader
// is killed under them; leadership is won again after it.
func TestFaultElectionLeaderKilled(t *testing.T) {
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
			campaigner(cli, p, "x", fmt.Sprint("c", i), &rec, stop, 300*time.Millisecond, etcd.WithTTL(3*time.Second))
		}()
	}
	time.Sleep(time.Second)
	before, _ := rec.check(t)
	if before == 0 {
		t.Fatal("no leaderships before the fault")
	}
	killed := time.Now()
	c.kill(c.leader())
	waitStarted(t, &rec, killed, 3, 30*time.Second)
	close(stop)
	wg.Wait()
	n, lost := rec.check(t)
	t.Logf("%d leaderships (%d before the kill, %d lost), recovered in %v", n, before, lost, time.Since(killed).Round(time.Millisecond))
}

// A leader cut off from the cluster sees Lost, and its Context ends with
// ErrLost, before the next candidate leads; its Guard is then refused.
func TestFaultElectionCutOff(t *testing.T) {
	skipShort(t)
	p := testPrefix(t)
	px := newProxy(t, shared.Endpoint())
	a := etcd.NewElection(newSession(t, newClient(t, px.addr()), p, etcd.WithTTL(2*time.Second)), "cut")
	b := etcd.NewElection(newSession(t, nil, p), "cut")
	if err := a.Campaign(bg(t), "a"); err != nil {
		t.Fatal(err)
	}
	work := a.Context(bg(t))
	guardA, tokenA := a.Guard(), a.Token()
	var ledB time.Time
	bres := result(func() error {
		err := b.Campaign(bg(t), "b")
		ledB = time.Now()
		return err
	})
	waitKeys(t, newClient(t), p, 2)
	px.cutOff()
	cutAt := time.Now()
	within(t, work.Done(), 5*time.Second, "Context of the leader cut off")
	stoppedA := time.Now()
	if !errors.Is(context.Cause(work), etcd.ErrLost) {
		t.Fatalf("Context's cause = %v, want ErrLost", context.Cause(work))
	}
	if !isClosed(a.Lost()) {
		t.Fatal("Context ended with ErrLost but Lost is open")
	}
	if err := wait(t, bres, 10*time.Second, "Campaign of the next candidate"); err != nil {
		t.Fatal(err)
	}
	if !stoppedA.Before(ledB) {
		t.Fatalf("the leader cut off stopped at %v, after the next one led at %v", stoppedA.Sub(cutAt), ledB.Sub(cutAt))
	}
	t.Logf("cut at 0; leader's work stopped at %v; next led at %v", stoppedA.Sub(cutAt).Round(time.Millisecond), ledB.Sub(cutAt).Round(time.Millisecond))
	if b.Token() <= tokenA {
		t.Fatalf("token %d of the next leader does not exceed %d", b.Token(), tokenA)
	}
	cli := newClient(t)
	resp, err := cli.Txn(bg(t)).If(guardA).Then(clientv3.OpPut(p+"data", "stale")).Commit()
	if err != nil || resp.Succeeded {
		t.Fatalf("stale leader's guarded write: succeeded=%v err=%v", resp != nil && resp.Succeeded, err)
	}
	if l := leaderNow(t, b); l.Value != "b" || l.Token != b.Token() {
		t.Fatalf("Leader = %+v after the handover", l)
	}
	start := time.Now()
	if err := a.Resign(bg(t)); !errors.Is(err, etcd.ErrLost) {
		t.Fatalf("Resign of the leader cut off = %v, want ErrLost", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Resign of a cut-off leader took %v", d)
	}
	b.Resign(bg(t))
}

// observed collects what one Observe sends, in order.
type observed struct {
	mu   sync.Mutex
	list []etcd.Leader
	shut bool // the channel closed
}

func observe(ctx context.Context, e *etcd.Election) *observed {
	o := &observed{}
	go func() {
		for l := range e.Observe(ctx) {
			o.mu.Lock()
			o.list = append(o.list, l)
			o.mu.Unlock()
		}
		o.mu.Lock()
		o.shut = true
		o.mu.Unlock()
	}()
	return o
}

func (o *observed) last() (etcd.Leader, int, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.list) == 0 {
		return etcd.Leader{}, 0, o.shut
	}
	return o.list[len(o.list)-1], len(o.list), o.shut
}

// check fails t if the observer went back in time: the values (the driver's
// step numbers, in the order it made them) and tokens of the leaders sent
// must never decrease, nor a value repeat under one token.
func (o *observed) check(t *testing.T, what string) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	var value, token int64
	for i, l := range o.list {
		if l.Token == 0 {
			continue // nobody led
		}
		v, err := strconv.ParseInt(l.Value, 10, 64)
		if err != nil {
			t.Fatalf("%s: value %q", what, l.Value)
		}
		if v <= value || l.Token < token {
			t.Fatalf("%s: sent %d is leader %+v, after value %d of token %d: went back", what, i, l, value, token)
		}
		value, token = v, l.Token
	}
}

// "Observe ... never an older leader after a newer one, also across a
// broken watch or a reconnection; changes made while its watch was broken
// may be skipped, never reordered. The channel closes when ctx ends or the
// session is done, and for no other reason." Observers follow a driver
// that changes leader and value step by step on a 3-member cluster, while
// a member is killed and restarted (an observer's only member), another's
// client is cut off and healed, and the history of the cut is compacted.
func TestFaultElectionObserveOrder(t *testing.T) {
	skipShort(t)
	c := startCluster(t, 3)
	p := testPrefix(t)
	leader := c.leader()
	victim, other := (leader+1)%3, (leader+2)%3
	eps := c.endpoints()
	driverCli := newClient(t, eps[leader])
	var es []*etcd.Election
	for range 3 {
		es = append(es, etcd.NewElection(newSession(t, driverCli, p), "o"))
	}
	// Observers: one on the member killed, one through a proxy to another
	// member, one on every member, and one on the member that stays up and
	// leads, whose watch never breaks: it must see every step. Their
	// sessions outlive the faults.
	px := newProxy(t, eps[other])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := map[string]*observed{}
	for what, cli := range map[string]*clientv3.Client{
		"restarted member": newClient(t, eps[victim]),
		"cut off":          newClient(t, px.addr()),
		"every member":     newClient(t, eps...),
		"steady member":    newClient(t, eps[leader]),
	} {
		obs[what] = observe(ctx, etcd.NewElection(newSession(t, cli, p, etcd.WithTTL(30*time.Second)), "o"))
	}

	// The driver: each step sets the next number as the value of a new
	// leader (Campaign, uncontended) or of the current one (Proclaim), or
	// resigns; one step at a time, so revision order is step order.
	stop := make(chan struct{})
	final := make(chan string, 1)
	go func() {
		step, cur := 0, -1
		defer func() { final <- strconv.Itoa(step) }()
		for {
			step++
			var err error
			switch {
			case cur < 0:
				cur = step % 3
				err = es[cur].Campaign(bg(t), strconv.Itoa(step))
			case step%5 == 0:
				err = es[cur].Resign(bg(t))
				cur = -1
			default:
				err = es[cur].Proclaim(bg(t), strconv.Itoa(step))
			}
			if err != nil {
				t.Errorf("driver step %d: %v", step, err)
				return
			}
			if isClosed(stop) && cur >= 0 {
				// End on a leader whose value is the last step.
				if err := es[cur].Proclaim(bg(t), strconv.Itoa(step)); err != nil {
					t.Errorf("driver's last step: %v", err)
				}
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()

	time.Sleep(500 * time.Millisecond)
	c.kill(victim)
	time.Sleep(500 * time.Millisecond)
	px.cutOff()
	time.Sleep(time.Second)
	resp, err := driverCli.Get(bg(t), "/")
	if err != nil {
		t.Fatal(err)
	}
	// Compact the history up to now: the observer cut off can no longer
	// replay what it missed, and must read the state again.
	if _, err := driverCli.Compact(bg(t), resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	c.restart(victim)
	time.Sleep(300 * time.Millisecond)
	px.heal()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	want := <-final

	deadline := time.Now().Add(20 * time.Second)
	for what, o := range obs {
		for {
			l, n, shut := o.last()
			if shut {
				t.Fatalf("%s: Observe's channel closed while its ctx and session live", what)
			}
			if l.Value == want {
				t.Logf("%s: %d leaders observed, in order, up to step %s", what, n, want)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: last observed %+v (of %d), want step %s", what, l, n, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
		o.check(t, what)
	}
	// Each step made one change: a new leader, a new value, or nobody.
	if _, n, _ := obs["steady member"].last(); strconv.Itoa(n) != want {
		t.Fatalf("steady member: %d changes observed, want every one of %s", n, want)
	}
	cancel()
}
