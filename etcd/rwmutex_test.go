package etcd_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Tests of the RWMutex contract: "readers share, a writer excludes; served
// in arrival (revision) order, so a writer that waits holds back readers
// that come after it, never those before it. A waiter watches one key only
// (a reader the last writer before it, a writer the key just before its
// own): no herd. A waiter that gives up leaves no key, and the readers
// behind a writer that gave up go in at once."

// rwm returns an RWMutex called name under p, on a session of its own (a
// process of its own) on cli.
func rwm(t *testing.T, cli *clientv3.Client, p, name string) *etcd.RWMutex {
	t.Helper()
	return etcd.NewRWMutex(newSession(t, cli, p), name)
}

// queue starts f in a goroutine and waits until its key is written (n keys
// under p), so that the calls queued this way arrive in the order given.
func queue(t *testing.T, cli *clientv3.Client, p string, n int64, f func() error) <-chan error {
	t.Helper()
	ch := result(f)
	waitKeys(t, cli, p, n)
	return ch
}

func mustNil(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	if err := wait(t, ch, 5*time.Second, what); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestRWMutexReadersShareWriterExcludes(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	r1, r2, r3 := rwm(t, cli, p, "x"), rwm(t, cli, p, "x"), rwm(t, cli, p, "x")
	w := rwm(t, cli, p, "x")
	if err := r1.RLock(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := r2.RLock(bg(t)); err != nil {
		t.Fatal("a second reader waits while only a reader holds:", err)
	}
	// A reader's token is its own key's create revision.
	resp, err := cli.Get(bg(t), p+"rlock/x/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil || len(resp.Kvs) != 2 {
		t.Fatalf("reader keys: %v, %v", resp, err)
	}
	if r1.Token() != resp.Kvs[0].CreateRevision || r2.Token() != resp.Kvs[1].CreateRevision {
		t.Fatalf("reader tokens %d, %d; their keys' create revisions %d, %d", r1.Token(), r2.Token(), resp.Kvs[0].CreateRevision, resp.Kvs[1].CreateRevision)
	}
	wres := queue(t, cli, p, 3, func() error { return w.Lock(bg(t)) })
	// A writer that waits holds back the readers after it.
	r3res := queue(t, cli, p, 4, func() error { return r3.RLock(bg(t)) })
	r1.RUnlock()
	pending(t, wres, 200*time.Millisecond, "writer while a reader still holds")
	r2.RUnlock()
	mustNil(t, wres, "writer after the readers before it left")
	if w.Token() <= r2.Token() {
		t.Fatalf("writer token %d not above the readers' %d", w.Token(), r2.Token())
	}
	pending(t, r3res, 200*time.Millisecond, "reader behind a holding writer")
	w.Unlock()
	mustNil(t, r3res, "reader after the writer before it left")
	r3.RUnlock()
	waitKeys(t, cli, p, 0)
}

// A writer that waits never holds back the readers that came before it:
// with W0 holding, the queue R1 W1 R2 lets R1 in on W0's Unlock, then W1,
// then R2.
func TestRWMutexRevisionOrder(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	w0, r1, w1, r2 := rwm(t, cli, p, "o"), rwm(t, cli, p, "o"), rwm(t, cli, p, "o"), rwm(t, cli, p, "o")
	if err := w0.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	r1res := queue(t, cli, p, 2, func() error { return r1.RLock(bg(t)) })
	w1res := queue(t, cli, p, 3, func() error { return w1.Lock(bg(t)) })
	r2res := queue(t, cli, p, 4, func() error { return r2.RLock(bg(t)) })
	w0.Unlock()
	mustNil(t, r1res, "reader queued before the waiting writer")
	pending(t, w1res, 200*time.Millisecond, "writer behind a reader")
	pending(t, r2res, 0, "reader behind a waiting writer")
	r1.RUnlock()
	mustNil(t, w1res, "writer")
	if w1.Token() <= w0.Token() {
		t.Fatalf("writer tokens %d then %d", w0.Token(), w1.Token())
	}
	pending(t, r2res, 200*time.Millisecond, "reader behind a holding writer")
	w1.Unlock()
	mustNil(t, r2res, "last reader")
	r2.RUnlock()
}

// "A waiter that gives up leaves no key, and the readers behind a writer
// that gave up go in at once"; a reader that gives up never holds a writer
// back.
func TestRWMutexWaiterGivesUp(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	r0, w, r1, r2 := rwm(t, cli, p, "g"), rwm(t, cli, p, "g"), rwm(t, cli, p, "g"), rwm(t, cli, p, "g")
	if err := r0.RLock(bg(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wres := queue(t, cli, p, 2, func() error { return w.Lock(ctx) })
	r1res := queue(t, cli, p, 3, func() error { return r1.RLock(bg(t)) })
	r2res := queue(t, cli, p, 4, func() error { return r2.RLock(bg(t)) })
	pending(t, r1res, 100*time.Millisecond, "reader behind a waiting writer")
	cancel()
	if err := wait(t, wres, 5*time.Second, "cancelled Lock"); err != context.Canceled {
		t.Fatalf("cancelled Lock = %v", err)
	}
	mustNil(t, r1res, "reader behind the writer that gave up")
	mustNil(t, r2res, "second reader behind the writer that gave up")
	if n := countKeys(t, cli, p+"lock/"); n != 0 {
		t.Fatalf("%d writer keys after the writer gave up", n)
	}
	r0.RUnlock()
	r1.RUnlock()
	r2.RUnlock()

	// W0 holds; a reader waits behind it, a writer behind the reader; the
	// reader gives up: the writer is next after W0.
	w0, r, w1 := rwm(t, cli, p, "h"), rwm(t, cli, p, "h"), rwm(t, cli, p, "h")
	if err := w0.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	rres := queue(t, cli, p, 2, func() error { return r.RLock(rctx) })
	w1res := queue(t, cli, p, 3, func() error { return w1.Lock(bg(t)) })
	rcancel()
	if err := wait(t, rres, 5*time.Second, "cancelled RLock"); err != context.Canceled {
		t.Fatalf("cancelled RLock = %v", err)
	}
	waitKeys(t, cli, p+"rlock/", 0)
	pending(t, w1res, 100*time.Millisecond, "writer while W0 holds")
	w0.Unlock()
	mustNil(t, w1res, "writer behind the reader that gave up")
	w1.Unlock()
	waitKeys(t, cli, p, 0)
}

// "A waiter watches one key only: no herd." With W0 holding and the queue
// R1 R2 R3 W1 R4 W2, each waiter counts the watch events its client
// receives: a release wakes only the waiters it lets in, one event each.
func TestRWMutexNoHerd(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	w0 := rwm(t, cli, p, "n")
	if err := w0.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	kinds := "rrrwrw"
	ms := make([]*etcd.RWMutex, len(kinds))
	counts := make([]*atomic.Int64, len(kinds))
	res := make([]<-chan error, len(kinds))
	for i, k := range kinds {
		wcli, c := countingClient(t)
		counts[i], ms[i] = c, rwm(t, wcli, p, "n")
		m := ms[i]
		lock := m.Lock
		if k == 'r' {
			lock = m.RLock
		}
		res[i] = queue(t, cli, p, int64(i+2), func() error { return lock(bg(t)) })
	}
	time.Sleep(50 * time.Millisecond) // every waiter's watch is open
	events := func() []int64 {
		time.Sleep(50 * time.Millisecond) // time for a herd to show
		out := make([]int64, len(counts))
		for i, c := range counts {
			out[i] = c.Load()
		}
		return out
	}
	expect := func(step string, want []int64) {
		t.Helper()
		got := events()
		for i := range got {
			// A waiter may see no event at all, when its watch began
			// after the deletion and its read found the key gone.
			if got[i] > want[i] {
				t.Fatalf("%s: watch events per waiter %v, want at most %v", step, got, want)
			}
		}
	}
	expect("before any release", []int64{0, 0, 0, 0, 0, 0})
	handoffs := 0
	w0.Unlock() // lets R1 R2 R3 in: each watched W0
	for i := range 3 {
		mustNil(t, res[i], "reader "+string(rune('1'+i)))
	}
	handoffs += 3
	expect("W0 released", []int64{1, 1, 1, 0, 0, 0})
	ms[0].RUnlock() // W1 watches R3, the key just before its own
	ms[1].RUnlock()
	expect("R1 and R2 released", []int64{1, 1, 1, 0, 0, 0})
	pending(t, res[3], 0, "writer while R3 holds")
	ms[2].RUnlock()
	mustNil(t, res[3], "W1")
	handoffs++
	expect("R3 released", []int64{1, 1, 1, 1, 0, 0})
	pending(t, res[4], 0, "reader behind W1")
	ms[3].Unlock()
	mustNil(t, res[4], "R4")
	handoffs++
	expect("W1 released", []int64{1, 1, 1, 1, 1, 0})
	ms[4].RUnlock()
	mustNil(t, res[5], "W2")
	handoffs++
	got := events()
	expect("R4 released", []int64{1, 1, 1, 1, 1, 1})
	ms[5].Unlock()
	var total int64
	for _, n := range got {
		total += n
	}
	t.Logf("%d watch events for %d grants after a wait (%.2f per grant); per waiter %v", total, handoffs, float64(total)/float64(handoffs), got)
	waitKeys(t, cli, p, 0)
}

func TestRWMutexTry(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	a, b, c := rwm(t, cli, p, "t"), rwm(t, cli, p, "t"), rwm(t, cli, p, "t")
	if err := a.TryRLock(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := b.TryRLock(bg(t)); err != nil {
		t.Fatal("TryRLock while only readers hold:", err)
	}
	if err := c.TryLock(bg(t)); !errors.Is(err, etcd.ErrLocked) {
		t.Fatalf("TryLock while readers hold = %v, want ErrLocked", err)
	}
	b.RUnlock()
	// TryRLock refuses while a writer waits.
	wres := queue(t, cli, p, 2, func() error { return c.Lock(bg(t)) })
	if err := b.TryRLock(bg(t)); !errors.Is(err, etcd.ErrLocked) {
		t.Fatalf("TryRLock while a writer waits = %v, want ErrLocked", err)
	}
	a.RUnlock()
	mustNil(t, wres, "writer")
	if err := b.TryRLock(bg(t)); !errors.Is(err, etcd.ErrLocked) {
		t.Fatalf("TryRLock while a writer holds = %v, want ErrLocked", err)
	}
	if err := b.TryLock(bg(t)); !errors.Is(err, etcd.ErrLocked) {
		t.Fatalf("TryLock while a writer holds = %v, want ErrLocked", err)
	}
	if n := countKeys(t, cli, p); n != 1 {
		t.Fatalf("%d keys: a failed try left one", n)
	}
	c.Unlock()
	if err := b.TryLock(bg(t)); err != nil {
		t.Fatal("TryLock of a free lock:", err)
	}
	if err := b.Release(bg(t)); err != nil {
		t.Fatal(err)
	}
}

// "A Mutex and an RWMutex of the same name (and prefix) are one lock: a
// Mutex holder is a writer of it."
func TestRWMutexAndMutexOneLock(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	m := etcd.NewMutex(newSession(t, cli, p), "one")
	r1, r2, w := rwm(t, cli, p, "one"), rwm(t, cli, p, "one"), rwm(t, cli, p, "one")

	// A Mutex holder excludes readers and writers.
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := r1.TryRLock(bg(t)); !errors.Is(err, etcd.ErrLocked) {
		t.Fatalf("TryRLock while a Mutex holds = %v", err)
	}
	r1res := queue(t, cli, p, 2, func() error { return r1.RLock(bg(t)) })
	wres := queue(t, cli, p, 3, func() error { return w.Lock(bg(t)) })
	pending(t, r1res, 200*time.Millisecond, "RLock while a Mutex holds")
	m.Unlock()
	mustNil(t, r1res, "RLock after the Mutex's Unlock")
	pending(t, wres, 100*time.Millisecond, "RWMutex writer while a reader holds")

	// A reader excludes a Mutex; a waiting Mutex holds back later readers.
	if err := m.TryLock(bg(t)); !errors.Is(err, etcd.ErrLocked) {
		t.Fatalf("Mutex.TryLock while a reader holds = %v", err)
	}
	mres := queue(t, cli, p, 3, func() error { return m.Lock(bg(t)) })
	r2res := queue(t, cli, p, 4, func() error { return r2.RLock(bg(t)) })
	r1.RUnlock()
	mustNil(t, wres, "RWMutex writer")
	pending(t, mres, 100*time.Millisecond, "Mutex while an RWMutex writer holds")
	w.Unlock()
	mustNil(t, mres, "Mutex after the writer")
	if m.Token() <= w.Token() {
		t.Fatalf("Mutex token %d after writer token %d", m.Token(), w.Token())
	}
	pending(t, r2res, 100*time.Millisecond, "reader behind the Mutex")
	m.Unlock()
	mustNil(t, r2res, "reader after the Mutex")
	r2.RUnlock()
	waitKeys(t, cli, p, 0)
}

// "Each value holds at most once": a second RLock or Lock on a value held
// as a reader waits for its release; Unlock and RUnlock of the wrong kind
// panic.
func TestRWMutexOneHoldPerValue(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	m := rwm(t, cli, p, "v")
	panics := func(what string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r == nil || !strings.HasPrefix(r.(string), "coord: ") {
				t.Fatalf("%s: recovered %v, want a coord: panic", what, r)
			}
		}()
		f()
	}
	if ctx := m.Context(bg(t)); ctx.Err() == nil {
		t.Fatal("Context of an RWMutex not held is not done")
	}
	panics("RUnlock unlocked", m.RUnlock)
	panics("Unlock unlocked", m.Unlock)
	panics("Release unlocked", func() { m.Release(bg(t)) })
	if err := m.RLock(bg(t)); err != nil {
		t.Fatal(err)
	}
	panics("Unlock of a reader hold", m.Unlock)
	again := result(func() error { return m.RLock(bg(t)) })
	pending(t, again, 200*time.Millisecond, "second RLock on one value")
	if n := countKeys(t, cli, p); n != 1 {
		t.Fatalf("%d keys: the second RLock on one value joined the line", n)
	}
	m.RUnlock()
	mustNil(t, again, "second RLock after RUnlock")
	wr := result(func() error { return m.Lock(bg(t)) })
	pending(t, wr, 200*time.Millisecond, "Lock on a value held as a reader")
	m.RLocker().Unlock()
	mustNil(t, wr, "Lock after RUnlock")
	panics("RUnlock of a writer hold", m.RUnlock)
	m.Unlock()
	l := m.RLocker()
	if err := l.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, cli, p+"rlock/"); n != 1 {
		t.Fatalf("RLocker().Lock wrote %d reader keys", n)
	}
	l.Unlock()
	waitKeys(t, cli, p, 0)
}

// Token, Lost, Guard and Release "as for Mutex", for a reader and a writer:
// a loss closes Lost, the Guard never holds again, Release reports ErrLost
// and deletes nobody else's key.
func TestRWMutexLostGuardReleaseFenced(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	for _, reader := range []bool{true, false} {
		m, next := rwm(t, cli, p, "f"), rwm(t, cli, p, "f")
		lock, nextLock := m.Lock, next.Lock
		if reader {
			lock, nextLock = m.RLock, next.Lock
		}
		if m.Lost() != nil || m.Token() != 0 {
			t.Fatal("Lost or Token before the first hold")
		}
		if err := lock(bg(t)); err != nil {
			t.Fatal(err)
		}
		g := m.Guard()
		if resp, err := cli.Txn(bg(t)).If(g).Commit(); err != nil || !resp.Succeeded {
			t.Fatalf("reader=%v: Guard of a current hold fails: %v", reader, err)
		}
		lost := m.Lost()
		if _, err := cli.Delete(bg(t), p, clientv3.WithPrefix()); err != nil {
			t.Fatal(err)
		}
		within(t, lost, 5*time.Second, "Lost after the key was deleted")
		if resp, err := cli.Txn(bg(t)).If(m.Guard()).Commit(); err != nil || resp.Succeeded {
			t.Fatalf("reader=%v: Guard of a lost hold holds", reader)
		}
		if err := nextLock(bg(t)); err != nil {
			t.Fatal(err)
		}
		if next.Token() <= m.Token() {
			t.Fatalf("reader=%v: next token %d not above %d", reader, next.Token(), m.Token())
		}
		if err := m.Release(bg(t)); !errors.Is(err, etcd.ErrLost) {
			t.Fatalf("reader=%v: Release of a lost hold = %v, want ErrLost", reader, err)
		}
		if n := countKeys(t, cli, p); n != 1 {
			t.Fatalf("reader=%v: %d keys after a stale Release: it deleted the next holder's", reader, n)
		}
		next.Unlock()
	}
}

// A waiter whose own key goes while it waits (its lease revoked) fails and
// takes nothing, and the waiter behind it still waits for the holder (etcd
// issue 16221: the recipe granted both).
func TestRWMutexWaiterLeaseRevoked(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	for _, reader := range []bool{true, false} {
		w0, third := rwm(t, cli, p, "r"), rwm(t, cli, p, "r")
		s := newSession(t, cli, p)
		victim := etcd.NewRWMutex(s, "r")
		lock := victim.Lock
		if reader {
			lock = victim.RLock
		}
		if err := w0.Lock(bg(t)); err != nil {
			t.Fatal(err)
		}
		vres := queue(t, cli, p, 2, func() error { return lock(bg(t)) })
		tres := queue(t, cli, p, 3, func() error { return third.Lock(bg(t)) })
		if _, err := cli.Revoke(bg(t), s.Lease()); err != nil {
			t.Fatal(err)
		}
		if err := wait(t, vres, 5*time.Second, "waiter whose lease was revoked"); !errors.Is(err, etcd.ErrSessionDone) {
			t.Fatalf("reader=%v: waiter whose lease was revoked = %v, want ErrSessionDone", reader, err)
		}
		pending(t, tres, 200*time.Millisecond, "writer while W0 still holds")
		w0.Unlock()
		mustNil(t, tres, "writer after W0")
		third.Unlock()
	}
}

// Rules 1 and 2 of coord's package doc: a done ctx changes nothing, for
// every call of RWMutex that takes one.
func TestRWMutexDoneContextChangesNothing(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	m := rwm(t, cli, p, "d")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for what, f := range map[string]func(context.Context) error{
		"RLock": m.RLock, "TryRLock": m.TryRLock, "Lock": m.Lock, "TryLock": m.TryLock,
	} {
		if err := f(cancelled); err != context.Canceled {
			t.Errorf("%s(done ctx) = %v", what, err)
		}
	}
	if n := countKeys(t, cli, p); n != 0 {
		t.Fatalf("%d keys after calls with a done ctx", n)
	}
	for _, lock := range []func(context.Context) error{m.RLock, m.Lock} {
		if err := lock(bg(t)); err != nil {
			t.Fatal(err)
		}
		tok := m.Token()
		if err := m.Release(cancelled); err != context.Canceled || m.Token() != tok || countKeys(t, cli, p) != 1 {
			t.Fatalf("Release(done ctx) = %v, or changed the hold", err)
		}
		if err := m.Release(bg(t)); err != nil || countKeys(t, cli, p) != 0 {
			t.Fatalf("Release = %v, or left a key", err)
		}
	}
}

// Rule 3 of coord's package doc: a grant that races a cancel is neither
// lost nor doubled. A reader and a writer wait behind a holder whose Unlock
// races their cancels; whatever each returned, the counts add up (nil: it
// holds, and a writer behind them gets the lock only after their release)
// and no key is left.
func TestRWMutexGrantRacesCancel(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	w0, r, w, last := rwm(t, cli, p, "c"), rwm(t, cli, p, "c"), rwm(t, cli, p, "c"), rwm(t, cli, p, "c")
	outcomes := map[string]int{}
	for i := range 8 {
		if err := w0.Lock(bg(t)); err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithCancel(context.Background())
		wctx, wcancel := context.WithCancel(context.Background())
		rres := queue(t, cli, p, 2, func() error { return r.RLock(rctx) })
		wres := queue(t, cli, p, 3, func() error { return w.Lock(wctx) })
		lres := queue(t, cli, p, 4, func() error { return last.Lock(bg(t)) })
		go w0.Unlock()
		time.Sleep(time.Duration(i) * time.Millisecond)
		rcancel()
		wcancel()
		rerr := wait(t, rres, 5*time.Second, "reader")
		if rerr == nil {
			pending(t, lres, 0, "writer while a reader holds")
			r.RUnlock()
		} else if rerr != context.Canceled {
			t.Fatalf("RLock = %v", rerr)
		}
		werr := wait(t, wres, 5*time.Second, "writer")
		if werr == nil {
			pending(t, lres, 0, "writer while a writer holds")
			w.Unlock()
		} else if werr != context.Canceled {
			t.Fatalf("Lock = %v", werr)
		}
		mustNil(t, lres, "the writer behind them")
		if n := countKeys(t, cli, p); n != 1 {
			t.Fatalf("%d keys with one holder left: a waiter that gave up left its key", n)
		}
		last.Unlock()
		outcomes[fmt2(rerr, werr)]++
	}
	t.Logf("outcomes (reader, writer): %v", outcomes)
}

func fmt2(a, b error) string {
	s := func(e error) string {
		if e == nil {
			return "held"
		}
		return "gave up"
	}
	return s(a) + "/" + s(b)
}

// BenchmarkRWMutexHandoff is BenchmarkContendedHandoff for an RWMutex: 8
// handles, each taking the lock as a writer one time in four and as a
// reader otherwise, reporting watch events per acquisition (readers that
// go in together each see the event of the writer they waited for).
func BenchmarkRWMutexHandoff(b *testing.B) {
	p := testPrefix(b)
	var events atomic.Int64
	const n = 8
	var ms []*etcd.RWMutex
	for range n {
		cli := newClient(b)
		cli.Watcher = countingWatcher{cli.Watcher, &events}
		ms = append(ms, etcd.NewRWMutex(newSession(b, cli, p), "hot"))
	}
	contend(b, &events, n, func(i int) (func() error, func()) {
		var k int
		return func() error {
				k++
				if (i+k)%4 == 0 {
					return ms[i].Lock(context.Background())
				}
				return ms[i].RLock(context.Background())
			}, func() {
				ms[i].Release(context.Background())
			}
	})
}

// Waits of both kinds given up, holds with Lost and Context watches, then
// Close: no goroutine of package etcd is left.
func TestRWMutexNoGoroutineLeak(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	func() {
		s1, err := etcd.NewSession(bg(t), cli, etcd.WithPrefix(p))
		if err != nil {
			t.Fatal(err)
		}
		defer s1.Close()
		s2, err := etcd.NewSession(bg(t), cli, etcd.WithPrefix(p))
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		r, w, r2 := etcd.NewRWMutex(s1, "l"), etcd.NewRWMutex(s2, "l"), etcd.NewRWMutex(s2, "l2")
		if err := r.RLock(bg(t)); err != nil {
			t.Fatal(err)
		}
		_, _ = r.Lost(), r.Context(bg(t))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := w.Lock(ctx); err != context.DeadlineExceeded {
			t.Fatal(err)
		}
		if err := r2.Lock(bg(t)); err != nil {
			t.Fatal(err)
		}
		ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel2()
		if err := etcd.NewRWMutex(s1, "l2").RLock(ctx2); err != context.DeadlineExceeded {
			t.Fatal(err)
		}
	}()
	noGoroutinesLeft(t)
}
