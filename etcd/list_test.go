package etcd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// rowsOf is "kind name state" of each row, one per line.
func rowsOf(es []etcd.Entry) string {
	var out []string
	for _, e := range es {
		out = append(out, e.Kind+" "+e.Name+" "+e.State)
	}
	return strings.Join(out, "\n")
}

// listIs waits until List under p shows want (rowsOf's form).
func listIs(t testing.TB, cli *clientv3.Client, p, want string) []etcd.Entry {
	t.Helper()
	var es []etcd.Entry
	var err error
	eventually(t, "List", func() bool {
		es, err = etcd.List(bg(t), cli, p)
		return err == nil && rowsOf(es) == want
	})
	return es
}

func TestListRWMutex(t *testing.T) {
	// Readers and writers of one name are one line, in token order: the
	// readers before the first writer hold, everyone after it waits.
	p := testPrefix(t)
	cli := newClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rw := func() *etcd.RWMutex { return etcd.NewRWMutex(newSession(t, nil, p), "db") }
	r1, r2 := rw(), rw()
	for _, r := range []*etcd.RWMutex{r1, r2} {
		if err := r.RLock(bg(t)); err != nil {
			t.Fatal(err)
		}
	}
	w := etcd.NewMutex(newSession(t, nil, p), "db") // a Mutex is a writer of the name
	wres := result(func() error { return w.Lock(ctx) })
	waitKeys(t, cli, p+"lock/", 1)
	r3 := rw()
	rres := result(func() error { return r3.RLock(ctx) })
	es := listIs(t, cli, p, "rlock db reader\nrlock db reader\nlock db waiter\nrlock db waiter")
	for i := 1; i < len(es); i++ {
		if es[i].Token <= es[i-1].Token {
			t.Fatalf("rows not in token order: %+v", es)
		}
	}
	if es[0].Token != r1.Token() || es[1].Token != r2.Token() {
		t.Fatalf("reader tokens %d %d, want %d %d", es[0].Token, es[1].Token, r1.Token(), r2.Token())
	}

	// The readers leave: the writer holds, the reader behind it waits.
	r1.RUnlock()
	r2.RUnlock()
	if err := wait(t, wres, 5*time.Second, "Lock"); err != nil {
		t.Fatal(err)
	}
	listIs(t, cli, p, "lock db holder\nrlock db waiter")
	w.Unlock()
	if err := wait(t, rres, 5*time.Second, "RLock"); err != nil {
		t.Fatal(err)
	}
	listIs(t, cli, p, "rlock db reader")
	r3.RUnlock()
	listIs(t, cli, p, "")
}

func TestListEventWaiters(t *testing.T) {
	// Processes blocked in an Event's Wait are listed as its waiters
	// until it is set; then the event is listed as set, and the waiters'
	// keys are gone.
	p := testPrefix(t)
	cli := newClient(t)
	ev := etcd.NewEvent(newSession(t, nil, p), "ready")
	other := etcd.NewEvent(newSession(t, nil, p), "ready")
	a := result(func() error { return ev.Wait(bg(t)) })
	b := result(func() error { return other.Wait(bg(t)) })
	es := listIs(t, cli, p, "event ready waiter\nevent ready waiter")
	for _, e := range es {
		if e.Who == "" || e.Since.IsZero() || e.Token == 0 {
			t.Fatalf("waiter row %+v", e)
		}
	}
	if err := ev.Set(bg(t)); err != nil {
		t.Fatal(err)
	}
	for _, r := range []<-chan error{a, b} {
		if err := wait(t, r, 5*time.Second, "Wait"); err != nil {
			t.Fatal(err)
		}
	}
	listIs(t, cli, p, "event ready set")
	waitKeys(t, cli, p+"eventwait/", 0)
}

func TestListEventWaiterGivesUp(t *testing.T) {
	// A waiter that gives up leaves no key, and a waiter whose session
	// ends leaves none either.
	p := testPrefix(t)
	cli := newClient(t)
	s := newSession(t, nil, p)
	ev := etcd.NewEvent(s, "e")
	ctx, cancel := context.WithCancel(context.Background())
	res := result(func() error { return ev.Wait(ctx) })
	listIs(t, cli, p, "event e waiter")
	cancel()
	if err := wait(t, res, 5*time.Second, "Wait"); err != context.Canceled {
		t.Fatalf("Wait = %v", err)
	}
	if n := countKeys(t, cli, p); n != 0 {
		t.Fatalf("%d keys left after giving up", n)
	}
	res = result(func() error { return ev.Wait(bg(t)) })
	listIs(t, cli, p, "event e waiter")
	s.Close()
	if err := wait(t, res, 5*time.Second, "Wait"); err == nil {
		t.Fatal("Wait on a closed session returned nil")
	}
	waitKeys(t, cli, p, 0)
}

func TestListBarrierAndElection(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := etcd.NewBarrier(newSession(t, nil, p), "b", 3)
	bres := result(func() error { _, err := b.Wait(ctx); return err })
	bres2 := result(func() error { _, err := b.Wait(ctx); return err })
	e1 := etcd.NewElection(newSession(t, nil, p), "el")
	if err := e1.Campaign(bg(t), "v1"); err != nil {
		t.Fatal(err)
	}
	e2 := etcd.NewElection(newSession(t, nil, p), "el")
	eres := result(func() error { return e2.Campaign(ctx, "v2") })
	es := listIs(t, cli, p, "barrier b waiter\nbarrier b waiter\nelection el leader\nelection el candidate")
	if es[2].Value != "v1" || es[3].Value != "v2" {
		t.Fatalf("election values: %+v", es[2:])
	}
	cancel()
	for _, r := range []<-chan error{bres, bres2, eres} {
		wait(t, r, 5*time.Second, "wait")
	}
	listIs(t, cli, p, "election el leader")
}
