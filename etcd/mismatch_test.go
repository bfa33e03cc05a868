package etcd_test

// "Processes sharing a name must pass the same limit (parties): a call whose
// limit (parties) differs from the one already in use on that name fails at
// once, writing nothing, with an error that names both numbers."

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// revision returns the cluster's current revision: it moves with every
// write, so an unchanged revision means nothing was written.
func revision(t *testing.T, cli *clientv3.Client) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "revision-probe", clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

// mismatch fails t unless err is a mismatch carrying what, asked, inUse
// and users, printed as the one line want.
func mismatch(t *testing.T, err error, what string, asked, inUse, users int, want string) {
	t.Helper()
	if !errors.Is(err, etcd.ErrMismatch) {
		t.Fatalf("err = %v, want one errors.Is ErrMismatch", err)
	}
	var me *etcd.MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v (%T), want a *MismatchError inside", err, err)
	}
	if me.What != what || me.Asked != asked || me.InUse != inUse || me.Users != users {
		t.Fatalf("MismatchError = %+v, want {%s %d %d %d}", *me, what, asked, inUse, users)
	}
	if err.Error() != want {
		t.Fatalf("err = %q, want %q", err.Error(), want)
	}
}

func TestSemaphoreLimitMismatch(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t)
	ctx := bg(t)
	a := etcd.NewSemaphore(newSession(t, cli, p), "jobs", 2)
	if err := a.Acquire(ctx); err != nil {
		t.Fatal(err)
	}

	// A ctx with no deadline: the call must end by itself, at once.
	b := etcd.NewSemaphore(newSession(t, cli, p), "jobs", 3)
	before := revision(t, cli)
	err := wait(t, result(func() error { return b.Acquire(context.Background()) }), 5*time.Second, "Acquire with another limit")
	mismatch(t, err, "limit", 3, 2, 1, `coord/etcd: acquire semaphore "jobs": limit 3 differs from limit 2 in use by 1 holder/waiter`)
	if after := revision(t, cli); after != before {
		t.Fatalf("revision moved from %d to %d: the failed Acquire wrote something", before, after)
	}
	if n := countKeys(t, cli, p+"sem/"); n != 1 {
		t.Fatalf("%d keys under the semaphores, want only the holder's", n)
	}
	if b.Token() != 0 {
		t.Fatalf("Token = %d after a failed Acquire, want 0", b.Token())
	}

	// Holders and waiters both put the number in use.
	a2 := etcd.NewSemaphore(newSession(t, cli, p), "jobs", 2)
	if err := a2.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	a3 := etcd.NewSemaphore(newSession(t, cli, p), "jobs", 2)
	waiting := result(func() error { return a3.Acquire(ctx) })
	waitKeys(t, cli, p+"sem/jobs/", 3)
	err = b.Acquire(ctx)
	mismatch(t, err, "limit", 3, 2, 3, `coord/etcd: acquire semaphore "jobs": limit 3 differs from limit 2 in use by 3 holders/waiters`)
	pending(t, waiting, 100*time.Millisecond, "third Acquire with limit 2")
	if n := countKeys(t, cli, p+"sem/"); n != 3 {
		t.Fatalf("%d keys under the semaphores, want 3", n)
	}

	// Once every key of the name is gone, another limit may start over.
	for _, m := range []*etcd.Semaphore{a, a2} {
		if err := m.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := wait(t, waiting, 5*time.Second, "third Acquire"); err != nil {
		t.Fatal(err)
	}
	if err := a3.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Acquire(ctx); err != nil {
		t.Fatalf("Acquire with limit 3 on a name no longer in use: %v", err)
	}
	if err := a.Acquire(ctx); !errors.Is(err, etcd.ErrMismatch) {
		t.Fatalf("Acquire with limit 2 while 3 is in use: %v, want ErrMismatch", err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBarrierPartiesMismatch(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t)
	ctx := bg(t)
	type res struct {
		i   int
		err error
	}
	arrive := func(ctx context.Context, parties int) <-chan res {
		b := etcd.NewBarrier(newSession(t, cli, p), "b", parties)
		ch := make(chan res, 1)
		go func() {
			i, err := b.Wait(ctx)
			ch <- res{i, err}
		}()
		return ch
	}
	first := arrive(ctx, 2)
	waitKeys(t, cli, p+"barrier/b/", 1)

	// The case that released parties early: a second process with other
	// parties must fail, at once though its ctx has no deadline, and the
	// first must go on waiting.
	before := revision(t, cli)
	var r res
	select {
	case r = <-arrive(context.Background(), 3):
	case <-time.After(5 * time.Second):
		t.Fatal("Wait with other parties did not return")
	}
	if r.i != -1 {
		t.Fatalf("index %d, want -1", r.i)
	}
	mismatch(t, r.err, "parties", 3, 2, 1, `coord/etcd: wait barrier "b": parties 3 differs from parties 2 in use by 1 waiting party`)
	if after := revision(t, cli); after != before {
		t.Fatalf("revision moved from %d to %d: the failed Wait wrote something", before, after)
	}
	if n := countKeys(t, cli, p+"barrier/"); n != 1 {
		t.Fatalf("%d keys under the barriers, want the first party's only", n)
	}
	select {
	case r := <-first:
		t.Fatalf("first party released (%d, %v) by a party with other parties", r.i, r.err)
	case <-time.After(100 * time.Millisecond):
	}

	// A party with the same parties completes the round.
	second := arrive(ctx, 2)
	idx := map[int]bool{}
	for _, ch := range []<-chan res{first, second} {
		select {
		case r := <-ch:
			if r.err != nil {
				t.Fatal(r.err)
			}
			idx[r.i] = true
		case <-time.After(5 * time.Second):
			t.Fatal("round of 2 did not trip")
		}
	}
	if !idx[0] || !idx[1] {
		t.Fatalf("indices %v, want 0 and 1", idx)
	}

	// The name is free again: 3 parties make a round now.
	waitKeys(t, cli, p+"barrier/b/", 0)
	chs := []<-chan res{arrive(ctx, 3), arrive(ctx, 3), arrive(ctx, 3)}
	for _, ch := range chs {
		select {
		case r := <-ch:
			if r.err != nil {
				t.Fatalf("round of 3 on a free name: %v", r.err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("round of 3 did not trip")
		}
	}
}

// Two first arrivals with different numbers on an empty name: the check and
// the write are one transaction, so exactly one joins and the other fails,
// whatever the order.
func TestMismatchRaceFirstArrivals(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t)
	ctx := bg(t)
	s1, s2 := newSession(t, cli, p), newSession(t, cli, p)
	for round := range 5 {
		name := fmt.Sprintf("sem%d", round)
		// limit 1 against limit 2: either would be admitted alone.
		sems := []*etcd.Semaphore{etcd.NewSemaphore(s1, name, 1), etcd.NewSemaphore(s2, name, 2)}
		start := make(chan struct{})
		errs := make([]<-chan error, 2)
		for i, m := range sems {
			errs[i] = result(func() error { <-start; return m.Acquire(ctx) })
		}
		close(start)
		var held *etcd.Semaphore
		failed := 0
		for i := range sems {
			err := wait(t, errs[i], 5*time.Second, "racing Acquire")
			switch {
			case err == nil:
				held = sems[i]
			case errors.Is(err, etcd.ErrMismatch):
				failed++
			default:
				t.Fatal(err)
			}
		}
		if held == nil || failed != 1 {
			t.Fatalf("round %d: %d mismatches and held %v, want one of each", round, failed, held != nil)
		}
		if n := countKeys(t, cli, p+"sem/"+name+"/"); n != 1 {
			t.Fatalf("round %d: %d keys, want the holder's only", round, n)
		}
		if err := held.Release(ctx); err != nil {
			t.Fatal(err)
		}

		// Barriers of 2 and of 3: neither round can trip, so the one
		// that joined waits until it gives up.
		name = fmt.Sprintf("bar%d", round)
		bars := []*etcd.Barrier{etcd.NewBarrier(s1, name, 2), etcd.NewBarrier(s2, name, 3)}
		wctx, cancel := context.WithCancel(ctx)
		start = make(chan struct{})
		for i, b := range bars {
			errs[i] = result(func() error { <-start; _, err := b.Wait(wctx); return err })
		}
		close(start)
		var joined <-chan error
		select {
		case err := <-errs[0]:
			joined = errs[1]
			if !errors.Is(err, etcd.ErrMismatch) {
				t.Fatalf("round %d: parties 2: %v, want ErrMismatch", round, err)
			}
		case err := <-errs[1]:
			joined = errs[0]
			if !errors.Is(err, etcd.ErrMismatch) {
				t.Fatalf("round %d: parties 3: %v, want ErrMismatch", round, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: neither racing Wait failed", round)
		}
		waitKeys(t, cli, p+"barrier/"+name+"/", 1)
		pending(t, joined, 50*time.Millisecond, "the Wait that joined")
		cancel()
		if err := wait(t, joined, 5*time.Second, "cancelled Wait"); !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: cancelled Wait: %v", round, err)
		}
		waitKeys(t, cli, p+"barrier/"+name+"/", 0)
	}
}

// A key written in another shape (another version of coord, or by hand)
// still counts by the number it carries: the same number joins, another
// fails.
func TestMismatchOtherValueShape(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t)
	ctx := bg(t)
	if _, err := cli.Put(ctx, p+"sem/jobs/old", `{"who":"old:1","limit":2}`); err != nil {
		t.Fatal(err)
	}
	other := etcd.NewSemaphore(newSession(t, cli, p), "jobs", 3)
	mismatch(t, other.Acquire(ctx), "limit", 3, 2, 1, `coord/etcd: acquire semaphore "jobs": limit 3 differs from limit 2 in use by 1 holder/waiter`)
	same := etcd.NewSemaphore(newSession(t, cli, p), "jobs", 2)
	if err := same.Acquire(ctx); err != nil {
		t.Fatalf("Acquire with the limit of an old-shaped key: %v", err)
	}
	if n := countKeys(t, cli, p+"sem/jobs/"); n != 2 {
		t.Fatalf("%d keys, want 2", n)
	}
	// The new key is in the current shape: it alone keeps limit 3 out.
	if _, err := cli.Delete(ctx, p+"sem/jobs/old"); err != nil {
		t.Fatal(err)
	}
	err := other.Acquire(ctx)
	mismatch(t, err, "limit", 3, 2, 1, `coord/etcd: acquire semaphore "jobs": limit 3 differs from limit 2 in use by 1 holder/waiter`)
	if !strings.Contains(err.Error(), "limit 3") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %q, want one line naming both numbers", err)
	}
	if err := same.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// Two processes disagree on a semaphore's limit: the second fails at once,
// and the numbers are there for a program (or a CLI) to report.
func ExampleMismatchError() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()
	s1, _ := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-mismatch/"))
	defer s1.Close()
	s2, _ := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-mismatch/"))
	defer s2.Close()

	a := etcd.NewSemaphore(s1, "jobs", 5)
	if err := a.Acquire(ctx); err != nil {
		log.Fatal(err)
	}
	defer a.Release(ctx)
	err := etcd.NewSemaphore(s2, "jobs", 3).Acquire(ctx)
	var me *etcd.MismatchError
	if errors.As(err, &me) {
		fmt.Println(me.Asked, me.InUse)
	}
	fmt.Println(errors.Is(err, etcd.ErrMismatch))
	fmt.Println(err)
	// Output:
	// 3 5
	// true
	// coord/etcd: acquire semaphore "jobs": limit 3 differs from limit 5 in use by 1 holder/waiter
}
