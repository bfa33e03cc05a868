package etcd_test

import (
	"context"
	"fmt"
	"log"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
)

// next returns the next rows from ch, failing t if none come within 10s or
// ch is closed.
func next(t testing.TB, ch <-chan []etcd.Entry) []etcd.Entry {
	t.Helper()
	select {
	case es, ok := <-ch:
		if !ok {
			t.Fatal("WatchList's channel closed")
		}
		return es
	case <-time.After(10 * time.Second):
		t.Fatal("no rows from WatchList within 10s")
		return nil
	}
}

// nextIs receives from ch until the rows are want (rowsOf's form) and
// returns how many were received.
func nextIs(t testing.TB, ch <-chan []etcd.Entry, want string) int {
	t.Helper()
	for n := 1; ; n++ {
		if rowsOf(next(t, ch)) == want {
			return n
		}
	}
}

func TestWatchListFollows(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := etcd.WatchList(ctx, cli, p)

	// The rows at once: none, as an empty slice.
	if es := next(t, ch); es == nil || len(es) != 0 {
		t.Fatalf("first rows %#v, want an empty slice", es)
	}

	// A change shows up, as List shows it.
	s := newSession(t, nil, p)
	h, w := etcd.NewMutex(s, "jobs"), etcd.NewMutex(newSession(t, nil, p), "jobs")
	if err := h.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	nextIs(t, ch, "lock jobs holder")
	wctx, wcancel := context.WithCancel(ctx)
	wres := result(func() error { return w.Lock(wctx) })
	nextIs(t, ch, "lock jobs holder\nlock jobs waiter")
	es, err := etcd.List(bg(t), cli, p)
	if err != nil {
		t.Fatal(err)
	}
	got := listIs(t, cli, p, "lock jobs holder\nlock jobs waiter")
	if !sameEntries(got, es) {
		t.Fatalf("WatchList's rows differ from List's:\n%+v\n%+v", got, es)
	}
	wcancel()
	<-wres
	nextIs(t, ch, "lock jobs holder")
	h.Unlock()
	nextIs(t, ch, "")

	// A key of another prefix, or of no known kind, changes no row: nothing
	// is sent for it.
	if _, err := cli.Put(bg(t), p+"unknown", "x"); err != nil {
		t.Fatal(err)
	}
	select {
	case es := <-ch:
		t.Fatalf("rows sent for a change that changes none: %+v", es)
	case <-time.After(300 * time.Millisecond):
	}
}

// sameEntries reports whether a and b are the same rows.
func sameEntries(a, b []etcd.Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Kind != y.Kind || x.State != y.State || x.Token != y.Token ||
			x.Who != y.Who || x.Key != y.Key || !x.Since.Equal(y.Since) {
			return false
		}
	}
	return true
}

func TestWatchListCoalesces(t *testing.T) {
	// A burst of changes made while the receiver does not read comes as
	// the latest rows, not as a queue of stale ones.
	p := testPrefix(t)
	cli := newClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := etcd.WatchList(ctx, cli, p)
	next(t, ch)
	ev := etcd.NewEvent(newSession(t, nil, p), "e")
	const changes = 40
	for range changes / 2 {
		if err := ev.Set(bg(t)); err != nil {
			t.Fatal(err)
		}
		if err := ev.Clear(bg(t)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ev.Set(bg(t)); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(bg(t), p+"event/e")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatal(resp, err)
	}
	final := resp.Kvs[0].CreateRevision
	n := 1
	for es := next(t, ch); len(es) != 1 || es[0].Token != final; es = next(t, ch) {
		n++
	}
	t.Logf("%d sends for a burst of %d changes", n, changes+1)
	if n > changes/4 {
		t.Fatalf("%d sends for a burst of %d changes: not coalesced", n, changes+1)
	}
	select {
	case es := <-ch:
		t.Fatalf("rows sent after the latest: %+v", es)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestWatchListEnds(t *testing.T) {
	// The channel closes when ctx ends, receiver or not, and nothing of
	// WatchList is left running.
	p := testPrefix(t)
	cli := newClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	ch := etcd.WatchList(ctx, cli, p)
	next(t, ch)
	if _, err := cli.Put(bg(t), p+"event/x", "{}"); err != nil {
		t.Fatal(err) // rows the receiver never takes
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	deadline := time.After(5 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-ch:
		case <-deadline:
			t.Fatal("WatchList's channel not closed within 5s of ctx's end")
		}
	}
	noGoroutinesLeft(t)

	// A ctx already done: closed at once.
	ch = etcd.WatchList(ctx, cli, p)
	select {
	case _, open := <-ch:
		if open {
			t.Fatal("rows sent on a done ctx")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not closed")
	}
	noGoroutinesLeft(t)
}

func TestWatchListAcrossBrokenWatch(t *testing.T) {
	// Changes made while the client is cut off from the cluster show up
	// once it is back: the watch is resumed.
	skipShort(t)
	p := testPrefix(t)
	px := newProxy(t, shared.Endpoint())
	cut := newClient(t, px.addr())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := etcd.WatchList(ctx, cut, p)
	next(t, ch)
	px.cutOff()
	m := etcd.NewMutex(newSession(t, nil, p), "jobs")
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	defer m.Unlock()
	ev := etcd.NewEvent(newSession(t, nil, p), "e")
	if err := ev.Set(bg(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case es := <-ch:
		t.Fatalf("rows through a cut connection: %+v", es)
	case <-time.After(200 * time.Millisecond):
	}
	px.heal()
	nextIs(t, ch, "event e set\nlock jobs holder")
}

// WatchList sends what List shows, at once and then after each change: what
// `coord ls --watch` redraws.
func ExampleWatchList() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cli := connect()
	defer cli.Close()
	session, err := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-watchlist/"))
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()

	rows := etcd.WatchList(ctx, cli, "/example-watchlist/")
	fmt.Println(len(<-rows), "rows")
	m := etcd.NewMutex(session, "jobs")
	if err := m.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	for _, e := range <-rows {
		fmt.Println(e.Kind, e.Name, e.State, e.Token == m.Token())
	}
	m.Unlock()
	fmt.Println(len(<-rows), "rows")
	// Output:
	// 0 rows
	// lock jobs holder true
	// 0 rows
}
