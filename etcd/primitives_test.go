package etcd_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestSemaphoreTokenLostGuard(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	a := etcd.NewSemaphore(newSession(t, nil, p), "s", 2)
	b := etcd.NewSemaphore(newSession(t, nil, p), "s", 2)
	if a.Lost() != nil || a.Token() != 0 {
		t.Fatal("Lost or Token before the first Acquire")
	}
	if err := a.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := b.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	if b.Token() <= a.Token() {
		t.Fatalf("tokens %d then %d: not increasing", a.Token(), b.Token())
	}
	actx, bctx := a.Context(bg(t)), b.Context(bg(t))
	g := a.Guard()
	if _, err := cli.Delete(bg(t), string(g.KeyBytes())); err != nil {
		t.Fatal(err)
	}
	within(t, a.Lost(), 5*time.Second, "Lost after the key was deleted")
	within(t, actx.Done(), time.Second, "Context after the key was deleted")
	if cause := context.Cause(actx); !errors.Is(cause, etcd.ErrLost) {
		t.Fatalf("Context's cause after a loss = %v, want ErrLost", cause)
	}
	resp, err := cli.Txn(bg(t)).If(g).Then(clientv3.OpPut(p+"data", "x")).Commit()
	if err != nil || resp.Succeeded {
		t.Fatalf("Guard of a lost hold: succeeded=%v, %v", resp != nil && resp.Succeeded, err)
	}
	if err := a.Release(bg(t)); !errors.Is(err, etcd.ErrLost) {
		t.Fatalf("Release after loss = %v, want ErrLost", err)
	}
	if isClosed(b.Lost()) || bctx.Err() != nil {
		t.Fatal("the other holder lost its hold")
	}
	if err := b.Release(bg(t)); err != nil {
		t.Fatal(err)
	}
	within(t, bctx.Done(), time.Second, "Context after Release")
	if cause := context.Cause(bctx); errors.Is(cause, etcd.ErrLost) {
		t.Fatalf("Context's cause after Release = %v, want no ErrLost", cause)
	}
}

func TestSemaphoreLimitPanics(t *testing.T) {
	s := newSession(t, nil, testPrefix(t))
	for _, f := range []func(){
		func() { etcd.NewSemaphore(s, "x", 0) },
		func() { etcd.NewBarrier(s, "x", 0) },
	} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.HasPrefix(r, "coord: ") {
					t.Fatalf("recovered %q, want a coord: panic", r)
				}
			}()
			f()
		}()
	}
}

func TestSemaphoreHolderSessionEnds(t *testing.T) {
	p := testPrefix(t)
	s := newSession(t, nil, p)
	a := etcd.NewSemaphore(s, "end", 1)
	b := etcd.NewSemaphore(newSession(t, nil, p), "end", 1)
	if err := a.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	bres := result(func() error { return b.Acquire(bg(t)) })
	pending(t, bres, 200*time.Millisecond, "Acquire of a full semaphore")
	s.Close()
	within(t, a.Lost(), time.Second, "Lost after Close")
	if err := wait(t, bres, 5*time.Second, "Acquire after the holder's session closed"); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(bg(t)); err != nil {
		t.Fatal(err)
	}
}

func TestEventOutlivesSetter(t *testing.T) {
	p := testPrefix(t)
	setter := newSession(t, nil, p)
	if err := etcd.NewEvent(setter, "ready").Set(bg(t)); err != nil {
		t.Fatal(err)
	}
	setter.Close()
	e := etcd.NewEvent(newSession(t, nil, p), "ready")
	if set, err := e.IsSet(bg(t)); err != nil || !set {
		t.Fatalf("IsSet after the setter's session closed = %v, %v", set, err)
	}
	if err := e.Wait(bg(t)); err != nil {
		t.Fatal(err)
	}
	// Calls on a done session fail at once.
	if err := etcd.NewEvent(setter, "ready").Set(bg(t)); !errors.Is(err, etcd.ErrSessionDone) {
		t.Fatalf("Set on a closed session = %v", err)
	}
}

func TestEventWaitEndsWithSession(t *testing.T) {
	p := testPrefix(t)
	s := newSession(t, nil, p)
	e := etcd.NewEvent(s, "never")
	res := result(func() error { return e.Wait(context.Background()) })
	pending(t, res, 200*time.Millisecond, "Wait on a clear event")
	s.Close()
	if err := wait(t, res, 5*time.Second, "Wait after Close"); !errors.Is(err, etcd.ErrSessionDone) {
		t.Fatalf("Wait = %v, want ErrSessionDone", err)
	}
}

func TestBarrierPartyDies(t *testing.T) {
	// A party whose session ends while it waits leaves its round: it takes
	// two more arrivals, not one, to complete a 3-party round.
	p := testPrefix(t)
	dying := newSession(t, nil, p)
	a := etcd.NewBarrier(newSession(t, nil, p), "b", 3)
	d := etcd.NewBarrier(dying, "b", 3)
	cli := newClient(t)
	type res struct {
		i   int
		err error
	}
	ares, dres := make(chan res, 1), make(chan res, 1)
	go func() { i, err := a.Wait(bg(t)); ares <- res{i, err} }()
	waitKeys(t, cli, p, 1)
	go func() { i, err := d.Wait(context.Background()); dres <- res{i, err} }()
	waitKeys(t, cli, p, 2)
	dying.Close()
	if r := <-dres; r.i != -1 || !errors.Is(r.err, etcd.ErrSessionDone) {
		t.Fatalf("Wait of a party whose session closed = %+v", r)
	}
	waitKeys(t, cli, p, 1)
	e := etcd.NewBarrier(newSession(t, nil, p), "b", 3)
	eres := make(chan res, 1)
	go func() { i, err := e.Wait(bg(t)); eres <- res{i, err} }()
	waitKeys(t, cli, p, 2)
	select {
	case r := <-ares:
		t.Fatalf("round tripped with two live parties: %+v", r)
	case <-time.After(200 * time.Millisecond):
	}
	f := etcd.NewBarrier(newSession(t, nil, p), "b", 3)
	fi, err := f.Wait(bg(t))
	if err != nil {
		t.Fatal(err)
	}
	ra, re := <-ares, <-eres
	if ra.err != nil || re.err != nil {
		t.Fatal(ra.err, re.err)
	}
	seen := map[int]bool{ra.i: true, re.i: true, fi: true}
	if len(seen) != 3 || !seen[0] || !seen[1] || !seen[2] {
		t.Fatalf("indices %d %d %d, want 0, 1 and 2", ra.i, re.i, fi)
	}
	if ra.i != 0 || re.i != 1 || fi != 2 {
		t.Fatalf("indices %d %d %d, want arrival order 0 1 2", ra.i, re.i, fi)
	}
	waitKeys(t, cli, p, 0)
}

func TestList(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	s := newSession(t, nil, p)
	h := etcd.NewMutex(s, "jobs/a") // a name with a slash
	w := etcd.NewMutex(newSession(t, nil, p), "jobs/a")
	if err := h.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wres := result(func() error { return w.Lock(wctx) })
	sems := []*etcd.Semaphore{}
	for range 3 {
		sems = append(sems, etcd.NewSemaphore(newSession(t, nil, p), "pool", 2))
	}
	for _, m := range sems[:2] {
		if err := m.Acquire(bg(t)); err != nil {
			t.Fatal(err)
		}
	}
	sres := result(func() error { return sems[2].Acquire(wctx) })
	if err := etcd.NewEvent(s, "ready").Set(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := etcd.NewEvent(s, "unset").Clear(bg(t)); err != nil {
		t.Fatal(err)
	}
	waitKeys(t, cli, p, 6)
	entries, err := etcd.List(bg(t), cli, p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Kind+" "+e.Name+" "+e.State)
		if e.Who != s.Who() || e.Token == 0 || e.Since.IsZero() || time.Since(e.Since) > time.Minute {
			t.Errorf("entry %+v: Who, Token or Since wrong", e)
		}
	}
	want := "event ready set|lock jobs/a holder|lock jobs/a waiter|sem pool holder|sem pool holder|sem pool waiter"
	if strings.Join(got, "|") != want {
		t.Fatalf("List:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.ReplaceAll(want, "|", "\n"))
	}
	if entries[1].Token != h.Token() {
		t.Fatalf("holder token %d, want %d", entries[1].Token, h.Token())
	}
	cancel()
	<-wres
	<-sres
}
