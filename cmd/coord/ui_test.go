package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	"github.com/coordkit/coord/internal/page"
)

// TestPageRows turns ls rows into the page's: one row per name and kind,
// sorted by name; an RWMutex's readers and writers on one row; waiters and
// candidates in the queue, oldest first, with the oldest wait; a set event
// with who set it and no holder; a holder seen being granted aged from then.
func TestPageRows(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	entries := []etcd.Entry{
		{Name: "ready", Kind: "event", State: "set", Token: 9, Who: "a:1", Since: ago(time.Minute), Key: "e"},
		{Name: "boss", Kind: "election", State: "leader", Token: 3, Who: "a:2", Since: ago(10 * time.Second), Key: "b1"},
		{Name: "boss", Kind: "election", State: "candidate", Token: 4, Who: "a:3", Since: ago(8 * time.Second), Key: "b2"},
		{Name: "db", Kind: "lock", State: "holder", Token: 5, Who: "a:4", Since: ago(30 * time.Second), Key: "d1"},
		{Name: "db", Kind: "rlock", State: "waiter", Token: 6, Who: "a:5", Since: ago(20 * time.Second), Key: "d2"},
		{Name: "db", Kind: "lock", State: "waiter", Token: 7, Who: "a:6", Since: ago(5 * time.Second), Key: "d3"},
		{Name: "cfg", Kind: "rlock", State: "reader", Token: 8, Who: "a:7", Since: ago(time.Hour), Key: "c1"},
		{Name: "cfg", Kind: "rlock", State: "reader", Token: 10, Who: "a:8", Since: now.Add(time.Second), Key: "c2"}, // a clock ahead
	}
	granted := map[string]time.Time{"c1": ago(2 * time.Second)}
	got := pageRows(entries, granted, now)
	want := []page.Row{
		{Name: "boss", Kind: "election", Holders: 1, Waiters: 1, OldestWait: 8 * time.Second,
			Holding: []page.Party{{Role: "leader", Who: "a:2", Token: 3, Age: 10 * time.Second}},
			Queue:   []page.Party{{Role: "candidate", Who: "a:3", Token: 4, Age: 8 * time.Second}}},
		{Name: "cfg", Kind: "lock", Holders: 2,
			Holding: []page.Party{{Role: "reader", Who: "a:7", Token: 8, Age: 2 * time.Second}, {Role: "reader", Who: "a:8", Token: 10}}},
		{Name: "db", Kind: "lock", Holders: 1, Waiters: 2, OldestWait: 20 * time.Second,
			Holding: []page.Party{{Role: "holder", Who: "a:4", Token: 5, Age: 30 * time.Second}},
			Queue: []page.Party{{Role: "waiter", Who: "a:5", Token: 6, Age: 20 * time.Second},
				{Role: "waiter", Who: "a:6", Token: 7, Age: 5 * time.Second}}},
		{Name: "ready", Kind: "event", State: "set",
			Holding: []page.Party{{Role: "set by", Who: "a:1", Age: time.Minute}}},
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("pageRows:\n got %+v\nwant %+v", got, want)
	}
	if rows := pageRows(nil, nil, now); rows == nil || len(rows) != 0 {
		t.Errorf("pageRows(nil) = %#v, want an empty slice", rows)
	}
}

// TestClusterViewGranted: a key seen waiting and then holding is granted
// when the view saw the change; a key first seen holding, or gone, is not
// in granted.
func TestClusterViewGranted(t *testing.T) {
	v := newClusterView(nil, "", []etcd.Entry{
		{Key: "a", State: "holder"}, {Key: "b", State: "waiter"}, {Key: "c", State: "candidate"},
	})
	ch := make(chan []etcd.Entry, 2)
	ch <- []etcd.Entry{{Key: "b", State: "holder"}, {Key: "c", State: "candidate"}, {Key: "d", State: "holder"}}
	ch <- []etcd.Entry{{Key: "b", State: "holder"}, {Key: "c", State: "leader"}}
	close(ch)
	before := time.Now()
	v.follow(ch)
	if len(v.granted) != 2 || v.granted["b"].Before(before) || v.granted["c"].Before(v.granted["b"]) {
		t.Errorf("granted = %v, want b and c, c after b", v.granted)
	}
}
