package coord_test

// Stats of every primitive, each field checked against a scripted scenario
// on the fake clock of a testing/synctest bubble; Register of real
// primitives; slow-wait reports from a real Mutex.

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"weak"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
	"github.com/coordkit/coord/internal/logtest"
)

// wantStats checks that got is want, field for field.
func wantStats(t *testing.T, when string, got, want coord.Stats) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: Stats =\n\t%+v\nwant\n\t%+v", when, got, want)
	}
}

// here returns the line it is called from.
func here() int {
	_, _, line, _ := runtime.Caller(1)
	return line
}

var bg = context.Background()

func TestStatsMutex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		wantStats(t, "new", m.Stats(), coord.Stats{Kind: "Mutex"})

		// The fast path and a ctx already done are not waits.
		m.Lock(bg)
		m.Unlock()
		m.Lock(bg)
		isCtxErr(t, "Lock(done)", m.Lock(doneCtx()), context.Canceled)
		wantStats(t, "held, nobody waited", m.Stats(), coord.Stats{Kind: "Mutex", Holders: 1})

		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		first := goParked(func() error { return m.Lock(ctx) })
		time.Sleep(time.Second)
		second := goParked(func() error { return m.Lock(bg) })
		third := goParked(func() error { return m.Lock(bg) })
		time.Sleep(time.Second)
		wantStats(t, "three parked", m.Stats(), coord.Stats{Kind: "Mutex", Holders: 1, Waiters: 3, OldestWait: 2 * time.Second})

		cancel()
		isCtxErr(t, "cancelled Lock", resultNow(t, "cancelled Lock", first), context.Canceled)
		wantStats(t, "one gave up", m.Stats(), coord.Stats{Kind: "Mutex", Holders: 1, Waiters: 2, OldestWait: time.Second,
			Waits: 1, GaveUp: 1, WaitTime: 2 * time.Second})

		time.Sleep(time.Second)
		m.Unlock()
		if err := resultNow(t, "second Lock", second); err != nil {
			t.Fatal(err)
		}
		wantStats(t, "second took it", m.Stats(), coord.Stats{Kind: "Mutex", Holders: 1, Waiters: 1, OldestWait: 2 * time.Second,
			Waits: 2, GaveUp: 1, WaitTime: 4 * time.Second})
		m.Unlock()
		if err := resultNow(t, "third Lock", third); err != nil {
			t.Fatal(err)
		}
		m.Unlock()
		wantStats(t, "all done", m.Stats(), coord.Stats{Kind: "Mutex", Waits: 3, GaveUp: 1, WaitTime: 6 * time.Second})
	})
}

// A waiter woken to compete for the mutex that loses it to a running
// goroutine queues again: its Lock is still one wait.
func TestStatsMutexBargedWaiterIsOneWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		barged := 0
		for round := 1; round <= 50; round++ {
			m.Lock(bg)
			waiter := goParked(func() error { return m.Lock(bg) })
			// No bubble time passes, so the waiter is young enough to be
			// woken to compete rather than handed the mutex, and TryLock,
			// running on, usually takes it first.
			m.Unlock()
			if m.TryLock() {
				stillBlocked(t, "barged Lock", waiter)
				s := m.Stats()
				if s.Waiters != 1 || s.Waits != uint64(round-1) {
					t.Fatalf("round %d, waiter queued again: %+v; want Waiters 1, Waits %d", round, s, round-1)
				}
				barged++
				m.Unlock()
			}
			if err := resultNow(t, "Lock", waiter); err != nil {
				t.Fatal(err)
			}
			m.Unlock()
			wantStats(t, "round "+strconv.Itoa(round), m.Stats(), coord.Stats{Kind: "Mutex", Waits: uint64(round)})
		}
		if barged == 0 {
			t.Fatal("no waiter lost to a barger in 50 rounds: the scenario did not happen")
		}
	})
}

func TestStatsReentrantMutex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r coord.ReentrantMutex
		wantStats(t, "new", r.Stats(), coord.Stats{Kind: "ReentrantMutex"})
		owner, err := r.Lock(bg)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := r.Lock(owner); err != nil {
				t.Fatal(err)
			}
		}
		wantStats(t, "held three deep", r.Stats(), coord.Stats{Kind: "ReentrantMutex", Holders: 1})

		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		lock := func(ctx context.Context) func() error {
			return func() error {
				c, err := r.Lock(ctx)
				if err == nil {
					r.Unlock(c)
				}
				return err
			}
		}
		first := goParked(lock(ctx))
		time.Sleep(3 * time.Second)
		second := goParked(lock(bg))
		wantStats(t, "two wait", r.Stats(), coord.Stats{Kind: "ReentrantMutex", Holders: 1, Waiters: 2, OldestWait: 3 * time.Second})
		cancel()
		isCtxErr(t, "cancelled Lock", resultNow(t, "cancelled Lock", first), context.Canceled)
		for range 3 {
			r.Unlock(owner)
		}
		if err := resultNow(t, "second Lock", second); err != nil {
			t.Fatal(err)
		}
		wantStats(t, "done", r.Stats(), coord.Stats{Kind: "ReentrantMutex", Waits: 2, GaveUp: 1, WaitTime: 3 * time.Second})
	})
}

func TestStatsRWMutex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rw coord.RWMutex
		rw.RLock(bg)
		rw.RLock(bg)
		wantStats(t, "two readers", rw.Stats(), coord.Stats{Kind: "RWMutex", Holders: 2})

		writer := goParked(func() error { return rw.Lock(bg) })
		time.Sleep(2 * time.Second)
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		reader := goParked(func() error { return rw.RLock(ctx) }) // behind the writer
		time.Sleep(time.Second)
		wantStats(t, "writer and reader wait", rw.Stats(), coord.Stats{Kind: "RWMutex", Holders: 2, Waiters: 2, OldestWait: 3 * time.Second})
		cancel()
		isCtxErr(t, "cancelled RLock", resultNow(t, "cancelled RLock", reader), context.Canceled)

		rw.RUnlock()
		rw.RUnlock()
		if err := resultNow(t, "Lock", writer); err != nil {
			t.Fatal(err)
		}
		wantStats(t, "writer holds", rw.Stats(), coord.Stats{Kind: "RWMutex", Holders: 1, Waits: 2, GaveUp: 1, WaitTime: 4 * time.Second})
		rw.Unlock()
		wantStats(t, "free", rw.Stats(), coord.Stats{Kind: "RWMutex", Waits: 2, GaveUp: 1, WaitTime: 4 * time.Second})
	})
}

func TestStatsEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e coord.Event
		wantStats(t, "new", e.Stats(), coord.Stats{Kind: "Event"}) // and someone looks: waits are timed
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		quitter := goParked(func() error { return e.Wait(ctx) })
		time.Sleep(time.Second)
		waiter := goParked(func() error { return e.Wait(bg) })
		// A select on Done is not a wait of e's: e cannot see it.
		selecting := goParked(func() bool {
			select {
			case <-e.Done():
				return true
			case <-time.After(time.Hour):
				return false
			}
		})
		time.Sleep(time.Second)
		wantStats(t, "two in Wait, one in a select", e.Stats(), coord.Stats{Kind: "Event", Waiters: 2, OldestWait: 2 * time.Second})
		cancel()
		isCtxErr(t, "cancelled Wait", resultNow(t, "cancelled Wait", quitter), context.Canceled)
		time.Sleep(time.Second)
		e.Set()
		if err := resultNow(t, "Wait", waiter); err != nil {
			t.Fatal(err)
		}
		if !resultNow(t, "select on Done", selecting) {
			t.Fatal("Done not closed by Set")
		}
		e.Wait(bg) // set: no wait
		wantStats(t, "set", e.Stats(), coord.Stats{Kind: "Event", Waits: 2, GaveUp: 1, WaitTime: 4 * time.Second})
	})
}

func TestStatsCond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c coord.Cond
		wantStats(t, "new", c.Stats(), coord.Stats{Kind: "Cond"}) // and someone looks: waits are timed
		wait := func(ctx context.Context) func() error {
			return func() error {
				c.Lock(bg)
				defer c.Unlock()
				return c.Wait(ctx)
			}
		}
		first := goParked(wait(bg))
		time.Sleep(time.Second)
		second := goParked(wait(bg))
		time.Sleep(time.Second)
		wantStats(t, "two wait", c.Stats(), coord.Stats{Kind: "Cond", Waiters: 2, OldestWait: 2 * time.Second})

		// Notified, the first waiter waits for the lock: no longer a wait
		// of the Cond's.
		c.Lock(bg)
		c.Notify(1)
		stillBlocked(t, "notified Wait, re-locking", first)
		wantStats(t, "one re-locking", c.Stats(), coord.Stats{Kind: "Cond", Waiters: 1, OldestWait: time.Second,
			Waits: 1, WaitTime: 2 * time.Second})
		c.Unlock()
		if err := resultNow(t, "notified Wait", first); err != nil {
			t.Fatal(err)
		}

		// Notified, and its ctx ends while it takes the lock back: Wait
		// returns ctx.Err(), a wait given up.
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		third := goParked(wait(ctx))
		c.Lock(bg)
		c.NotifyAll()
		synctest.Wait()
		cancel()
		c.Unlock()
		isCtxErr(t, "Wait cancelled while re-locking", resultNow(t, "Wait", third), context.Canceled)
		if err := resultNow(t, "Wait", second); err != nil {
			t.Fatal(err)
		}
		wantStats(t, "all notified", c.Stats(), coord.Stats{Kind: "Cond", Waits: 3, GaveUp: 1, WaitTime: 3 * time.Second})

		// WaitFor: each notification waited for is one wait; a true
		// predicate is none.
		n := 0
		waitFor := goParked(func() error {
			c.Lock(bg)
			defer c.Unlock()
			return c.WaitFor(bg, func() bool { return n >= 2 })
		})
		for range 2 {
			time.Sleep(time.Second)
			c.Lock(bg)
			n++
			c.Notify(1)
			c.Unlock()
			synctest.Wait()
		}
		if err := resultNow(t, "WaitFor", waitFor); err != nil {
			t.Fatal(err)
		}
		c.Lock(bg)
		c.WaitFor(bg, func() bool { return true })
		c.Unlock()
		wantStats(t, "after WaitFor", c.Stats(), coord.Stats{Kind: "Cond", Waits: 5, GaveUp: 1, WaitTime: 5 * time.Second})
	})
}

func TestStatsSemaphore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := coord.NewSemaphore(3)
		s.AcquireN(bg, 2)
		wantStats(t, "two of three taken", s.Stats(), coord.Stats{Kind: "Semaphore", Holders: 2})
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		big := goParked(func() error { return s.AcquireN(ctx, 3) })
		time.Sleep(time.Second)
		small := goParked(func() error { return s.Acquire(bg) }) // behind big, in arrival order
		time.Sleep(time.Second)
		wantStats(t, "two wait", s.Stats(), coord.Stats{Kind: "Semaphore", Holders: 2, Waiters: 2, OldestWait: 2 * time.Second})
		cancel()
		isCtxErr(t, "cancelled AcquireN", resultNow(t, "cancelled AcquireN", big), context.Canceled)
		if err := resultNow(t, "Acquire", small); err != nil {
			t.Fatal(err)
		}
		wantStats(t, "all taken", s.Stats(), coord.Stats{Kind: "Semaphore", Holders: 3, Waits: 2, GaveUp: 1, WaitTime: 3 * time.Second})

		// Released past the count it was made with: never below 0.
		s.ReleaseN(5)
		wantStats(t, "released past", s.Stats(), coord.Stats{Kind: "Semaphore", Waits: 2, GaveUp: 1, WaitTime: 3 * time.Second})
		var zero coord.Semaphore
		zero.Release()
		wantStats(t, "zero Semaphore released", zero.Stats(), coord.Stats{Kind: "Semaphore"})

		b := coord.NewBoundedSemaphore(2)
		b.Acquire(bg)
		wantStats(t, "bounded", b.Stats(), coord.Stats{Kind: "Semaphore", Holders: 1})
	})
}

func TestStatsBarrier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := coord.NewBarrier(3)
		wantStats(t, "new", b.Stats(), coord.Stats{Kind: "Barrier"}) // and someone looks: waits are timed
		type res struct {
			i   int
			err error
		}
		wait := func(ctx context.Context) func() res {
			return func() res { i, err := b.Wait(ctx); return res{i, err} }
		}
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		quitter := goParked(wait(ctx))
		time.Sleep(time.Second)
		p1 := goParked(wait(bg))
		time.Sleep(time.Second)
		wantStats(t, "two parties wait", b.Stats(), coord.Stats{Kind: "Barrier", Waiters: 2, OldestWait: 2 * time.Second})
		cancel()
		isCtxErr(t, "cancelled Wait", resultNow(t, "cancelled Wait", quitter).err, context.Canceled)
		p2 := goParked(wait(bg))
		if _, err := b.Wait(bg); err != nil { // trips the round: no wait
			t.Fatal(err)
		}
		resultNow(t, "party", p1)
		resultNow(t, "party", p2)
		wantStats(t, "tripped", b.Stats(), coord.Stats{Kind: "Barrier", Waits: 3, GaveUp: 1, WaitTime: 3 * time.Second})

		// A broken round is not a wait given up.
		broken := goParked(wait(bg))
		time.Sleep(time.Second)
		b.Abort()
		if r := resultNow(t, "Wait on an aborted barrier", broken); r.err != coord.ErrBrokenBarrier {
			t.Fatalf("Wait = %v", r.err)
		}
		wantStats(t, "aborted", b.Stats(), coord.Stats{Kind: "Barrier", Waits: 4, GaveUp: 1, WaitTime: 4 * time.Second})
	})
}

func TestStatsQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := coord.NewQueue[string](1)
		wantStats(t, "empty", q.Stats(), coord.Stats{Kind: "Queue"})
		q.Put(bg, "a")
		wantStats(t, "one item", q.Stats(), coord.Stats{Kind: "Queue", Holders: 1})

		put := goParked(func() error { return q.Put(bg, "b") })
		time.Sleep(time.Second)
		join := goParked(func() error { return q.Join(bg) })
		time.Sleep(time.Second)
		wantStats(t, "Put and Join wait", q.Stats(), coord.Stats{Kind: "Queue", Holders: 1, Waiters: 2, OldestWait: 2 * time.Second})

		if v, err := q.Get(bg); v != "a" || err != nil {
			t.Fatalf("Get = %q, %v", v, err)
		}
		if err := resultNow(t, "Put", put); err != nil {
			t.Fatal(err)
		}
		wantStats(t, "Put let in", q.Stats(), coord.Stats{Kind: "Queue", Holders: 1, Waiters: 1, OldestWait: time.Second,
			Waits: 1, WaitTime: 2 * time.Second})
		q.Get(bg)
		q.TaskDone()
		q.TaskDone()
		if err := resultNow(t, "Join", join); err != nil {
			t.Fatal(err)
		}

		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		get := goParked(func() (err error) { _, err = q.Get(ctx); return })
		time.Sleep(time.Second)
		cancel()
		isCtxErr(t, "cancelled Get", resultNow(t, "cancelled Get", get), context.Canceled)
		shut := goParked(func() (err error) { _, err = q.Get(bg); return })
		q.Shutdown(false)
		if err := resultNow(t, "Get at shutdown", shut); err != coord.ErrQueueShutDown {
			t.Fatalf("Get = %v", err)
		}
		wantStats(t, "shut down", q.Stats(), coord.Stats{Kind: "Queue", Waits: 4, GaveUp: 1, WaitTime: 4 * time.Second})
	})
}

func TestStatsRateLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := coord.NewRateLimiter(1, 10*time.Second)
		// And someone looks: waits are timed.
		wantStats(t, "new", r.Stats(), coord.Stats{Kind: "RateLimiter"})
		r.Wait(bg) // admitted at once: no wait
		head := goParked(func() error { return r.Wait(bg) })
		time.Sleep(time.Second)
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		queued := goParked(func() error { return r.Wait(ctx) })
		time.Sleep(time.Second)
		wantStats(t, "head sleeps, one queued", r.Stats(), coord.Stats{Kind: "RateLimiter", Waiters: 2, OldestWait: 2 * time.Second})
		cancel()
		isCtxErr(t, "cancelled Wait", resultNow(t, "cancelled Wait", queued), context.Canceled)
		time.Sleep(8 * time.Second)
		if err := resultNow(t, "head Wait", head); err != nil {
			t.Fatal(err)
		}
		wantStats(t, "head admitted", r.Stats(), coord.Stats{Kind: "RateLimiter", Waits: 2, GaveUp: 1, WaitTime: 11 * time.Second})
	})
}

// Every primitive fills Name from the registry in its own Stats, and gives
// its Kind without type parameters.
func TestStatsNameAndKind(t *testing.T) {
	prims := []struct {
		kind string
		p    interface{ Stats() coord.Stats }
	}{
		{"Mutex", new(coord.Mutex)},
		{"ReentrantMutex", new(coord.ReentrantMutex)},
		{"RWMutex", new(coord.RWMutex)},
		{"Event", new(coord.Event)},
		{"Cond", new(coord.Cond)},
		{"Semaphore", coord.NewSemaphore(1)},
		{"Semaphore", coord.NewBoundedSemaphore(1)},
		{"Barrier", coord.NewBarrier(2)},
		{"Queue", coord.NewQueue[map[string][]int](0)},
		{"RateLimiter", coord.NewRateLimiter(1, time.Second)},
	}
	for i, pr := range prims {
		name := "stats-name/" + strconv.Itoa(i)
		if s := pr.p.Stats(); s.Name != "" || s.Kind != pr.kind {
			t.Errorf("unregistered %s: Name %q, Kind %q", pr.kind, s.Name, s.Kind)
		}
		coord.Register(name, pr.p)
		if s := pr.p.Stats(); s.Name != name || s.Kind != pr.kind {
			t.Errorf("registered %s: Name %q, Kind %q; want %q, %q", pr.kind, s.Name, s.Kind, name, pr.kind)
		}
		coord.Unregister(name)
		if s := pr.p.Stats(); s.Name != "" {
			t.Errorf("unregistered again %s: Name %q", pr.kind, s.Name)
		}
	}
}

// A registered Mutex, a field of a larger struct, drops off the list once
// the struct is garbage.
func TestRegisterRealMutexDropsOff(t *testing.T) {
	type server struct {
		buf [512]byte
		mu  coord.Mutex
	}
	s := &server{}
	s.mu.Lock(bg)
	coord.Register("gc-real/server.mu", &s.mu)
	if got := registered("gc-real/"); len(got) != 1 || got[0] != (coord.Stats{Name: "gc-real/server.mu", Kind: "Mutex", Holders: 1}) {
		t.Fatalf("Snapshot = %+v", got)
	}
	wp := weak.Make(s)
	s = nil
	collect(t, wp)
	if got := registered("gc-real/"); len(got) != 0 {
		t.Fatalf("after the server was collected, Snapshot = %+v", got)
	}
}

// The fast paths allocate nothing, and neither does Stats.
func TestStatsFastPathsAllocateNothing(t *testing.T) {
	var m coord.Mutex
	var rw coord.RWMutex
	var e coord.Event
	e.Set()
	s := coord.NewSemaphore(1)
	q := coord.NewQueue[int](1)
	for what, f := range map[string]func(){
		"Mutex":     func() { m.Lock(bg); m.Unlock() },
		"RWMutex.R": func() { rw.RLock(bg); rw.RUnlock() },
		"RWMutex.W": func() { rw.Lock(bg); rw.Unlock() },
		"Event":     func() { e.Wait(bg) },
		"Semaphore": func() { s.Acquire(bg); s.Release() },
		"Queue":     func() { q.TryPut(1); q.TryGet() },
		"Stats":     func() { _ = m.Stats(); _ = rw.Stats(); _ = q.Stats() },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations", what, n)
		}
	}
}

// SetSlowWait with a real Mutex: one Warn record while the wait still
// waits, saying where it waits from and where the holder took the lock, and
// nothing else.
func TestSlowWaitMutex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &logtest.Records{}
		coord.SetSlowWait(5*time.Second, slog.New(h))
		defer coord.SetSlowWait(0, nil)
		var m coord.Mutex
		coord.Register("slow/mu", &m)
		defer coord.Unregister("slow/mu")

		holderLine := here() + 1
		m.Lock(bg)
		waiterLine := here() + 1
		waiter := goResult(func() error { return m.Lock(bg) })
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if n := h.Len(); n != 0 {
			t.Fatalf("%d records before the wait was slow", n)
		}
		time.Sleep(2 * time.Second)
		stillBlocked(t, "slow Lock", waiter)
		if n := h.Len(); n != 1 {
			t.Fatalf("%d records once the wait was slow, want 1", n)
		}
		time.Sleep(time.Minute)
		stillBlocked(t, "slow Lock", waiter)
		m.Unlock()
		if err := resultNow(t, "slow Lock", waiter); err != nil {
			t.Fatal(err)
		}
		m.Unlock()
		if n := h.Len(); n != 1 {
			t.Fatalf("%d records in all, want 1", n)
		}

		r := h.All()[0]
		a := logtest.Attrs(r)
		if r.Level != slog.LevelWarn || a["name"].String() != "slow/mu" || a["kind"].String() != "Mutex" ||
			a["waited"].Duration() != 5*time.Second {
			t.Errorf("record: level %v, message %q, attrs %v", r.Level, r.Message, a)
		}
		for key, line := range map[string]int{"waiter": waiterLine, "holder": holderLine} {
			if want := "stats_test.go:" + strconv.Itoa(line) + " "; !strings.Contains(a[key].String(), want) {
				t.Errorf("%s = %q; want the site %s", key, a[key].String(), want)
			}
		}
	})
}

// Turned off, slow-wait reports leave no goroutine, and a wait armed while
// they were on is not reported.
func TestSlowWaitOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &logtest.Records{}
		before := runtime.NumGoroutine()
		coord.SetSlowWait(time.Second, slog.New(h))
		var m coord.Mutex
		m.Lock(bg)
		waiter := goParked(func() error { return m.Lock(bg) })
		coord.SetSlowWait(0, nil)
		time.Sleep(time.Minute)
		stillBlocked(t, "Lock", waiter)
		if n := h.Len(); n != 0 {
			t.Fatalf("%d records after SetSlowWait(0)", n)
		}
		m.Unlock()
		resultNow(t, "Lock", waiter)
		m.Unlock()
		synctest.Wait()
		if n := runtime.NumGoroutine(); n != before {
			t.Fatalf("%d goroutines after slow-wait reports were turned off, %d before", n, before)
		}
	})
}

// For each lock kind, a slow-wait report says where the current holder took
// the lock; for the other kinds it has no holder.
func TestSlowWaitHolderSites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &logtest.Records{}
		coord.SetSlowWait(time.Second, slog.New(h))
		defer coord.SetSlowWait(0, nil)

		var r coord.ReentrantMutex
		var rw coord.RWMutex
		var e coord.Event
		cases := []struct {
			kind       string
			holderLine int // 0: no holder attribute
			take       func() (release func())
			wait       func() error
		}{
			{"ReentrantMutex", here() + 1, func() func() {
				ctx, _ := r.Lock(bg)
				ctx, _ = r.Lock(ctx) // a re-entry is not where it was taken
				return func() { r.Unlock(ctx); r.Unlock(ctx) }
			}, func() error { c, err := r.Lock(bg); r.Unlock(c); return err }},
			{"RWMutex", here(), func() func() { rw.Lock(bg); return rw.Unlock },
				func() error { err := rw.RLock(bg); rw.RUnlock(); return err }},
			{"RWMutex", here(), func() func() { rw.RLock(bg); return rw.RUnlock },
				func() error { err := rw.Lock(bg); rw.Unlock(); return err }},
			{"Event", 0, func() func() { return e.Set }, func() error { return e.Wait(bg) }},
		}
		for i, c := range cases {
			release := c.take()
			waiter := goParked(c.wait)
			time.Sleep(2 * time.Second)
			synctest.Wait()
			release()
			if err := resultNow(t, c.kind, waiter); err != nil {
				t.Fatal(err)
			}
			if n := h.Len(); n != i+1 {
				t.Fatalf("%s: %d records in all, want %d", c.kind, n, i+1)
			}
			a := logtest.Attrs(h.All()[i])
			if a["kind"].String() != c.kind || a["waited"].Duration() != time.Second {
				t.Errorf("%s: record %v", c.kind, a)
			}
			holder, ok := a["holder"]
			switch {
			case c.holderLine == 0 && ok:
				t.Errorf("%s: holder %q in the report of a kind that is not a lock", c.kind, holder)
			case c.holderLine != 0 && !strings.Contains(holder.String(), "stats_test.go:"+strconv.Itoa(c.holderLine)+" "):
				t.Errorf("%s: holder %q; want the site stats_test.go:%d", c.kind, holder, c.holderLine)
			}
		}
	})
}

// nobodyLooks turns looking off for the rest of t, as in a process that has
// not read stats yet, and back on after it.
func nobodyLooks(t *testing.T) {
	inspect.StopLooking()
	t.Cleanup(inspect.Look)
}

// The scenario of the first look: goroutines park while nobody looks (their
// waits are only counted), then Stats is called for the first time. A
// Mutex knows when each of its waiters queued, so its Stats is exact; so
// are Waiters, Waits and GaveUp of every primitive.
func TestStatsFirstLookMutex(t *testing.T) {
	nobodyLooks(t)
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		m.Lock(bg)
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		first := goParked(func() error { return m.Lock(ctx) })
		time.Sleep(time.Second)
		second := goParked(func() error { return m.Lock(bg) })
		third := goParked(func() error { return m.Lock(bg) })
		time.Sleep(time.Second)
		if inspect.Looking() {
			t.Fatal("looking before the first Stats")
		}
		wantStats(t, "three parked, first look", m.Stats(), coord.Stats{Kind: "Mutex", Holders: 1, Waiters: 3, OldestWait: 2 * time.Second})

		cancel()
		isCtxErr(t, "cancelled Lock", resultNow(t, "cancelled Lock", first), context.Canceled)
		wantStats(t, "one gave up", m.Stats(), coord.Stats{Kind: "Mutex", Holders: 1, Waiters: 2, OldestWait: time.Second,
			Waits: 1, GaveUp: 1, WaitTime: 2 * time.Second})
		m.Unlock()
		if err := resultNow(t, "second Lock", second); err != nil {
			t.Fatal(err)
		}
		m.Unlock()
		if err := resultNow(t, "third Lock", third); err != nil {
			t.Fatal(err)
		}
		m.Unlock()
		wantStats(t, "all done", m.Stats(), coord.Stats{Kind: "Mutex", Waits: 3, GaveUp: 1, WaitTime: 4 * time.Second}) // 2s + 1s + 1s: exact
	})
}

// Counted while nobody looks, then looked at: the counts are exact; the
// waits of a primitive that does not know their starts count from the first
// look (OldestWait and WaitTime are lower bounds for them); waits begun
// after the first look are exact.
func TestStatsFirstLookEvent(t *testing.T) {
	nobodyLooks(t)
	synctest.Test(t, func(t *testing.T) {
		var e coord.Event
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		quitter := goParked(func() error { return e.Wait(ctx) })
		waiter := goParked(func() error { return e.Wait(bg) })
		cancel()
		isCtxErr(t, "cancelled Wait", resultNow(t, "cancelled Wait", quitter), context.Canceled)
		time.Sleep(2 * time.Second)
		wantStats(t, "first look", e.Stats(), coord.Stats{Kind: "Event", Waiters: 1, Waits: 1, GaveUp: 1})
		time.Sleep(time.Second)
		late := goParked(func() error { return e.Wait(bg) }) // begun after the first look: exact
		time.Sleep(time.Second)
		wantStats(t, "a late waiter", e.Stats(), coord.Stats{Kind: "Event", Waiters: 2, OldestWait: 2 * time.Second, Waits: 1, GaveUp: 1})
		e.Set()
		for _, r := range []<-chan error{waiter, late} {
			if err := resultNow(t, "Wait", r); err != nil {
				t.Fatal(err)
			}
		}
		wantStats(t, "set", e.Stats(), coord.Stats{Kind: "Event", Waits: 3, GaveUp: 1, WaitTime: 3 * time.Second})
	})
}

// A Cond and a Semaphore count a wait that cannot be cancelled themselves
// while nobody looks (it parks in their lane, see waitq.List.Park), and a
// cancellable one through their Recorder: looked at, both are counted as
// waits begun before the first look, and a wait begun after is exact.
func TestStatsFirstLookLane(t *testing.T) {
	nobodyLooks(t)
	synctest.Test(t, func(t *testing.T) {
		var c coord.Cond
		s := coord.NewSemaphore(0)
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		wait := func(ctx context.Context) func() error {
			return func() error {
				c.Lock(bg)
				defer c.Unlock()
				return c.Wait(ctx)
			}
		}
		laneCond := goParked(wait(bg))
		waiterCond := goParked(wait(ctx))
		laneSem := goParked(func() error { return s.Acquire(bg) })
		waiterSem := goParked(func() error { return s.Acquire(ctx) })
		time.Sleep(2 * time.Second)
		if inspect.Looking() {
			t.Fatal("looking before the first Stats")
		}
		wantStats(t, "Cond, first look", c.Stats(), coord.Stats{Kind: "Cond", Waiters: 2})
		wantStats(t, "Semaphore, first look", s.Stats(), coord.Stats{Kind: "Semaphore", Waiters: 2})
		time.Sleep(time.Second)
		late := goParked(wait(bg))
		lateSem := goParked(func() error { return s.Acquire(bg) })
		time.Sleep(time.Second)
		wantStats(t, "Cond, late waiter", c.Stats(), coord.Stats{Kind: "Cond", Waiters: 3, OldestWait: 2 * time.Second})
		wantStats(t, "Semaphore, late waiter", s.Stats(), coord.Stats{Kind: "Semaphore", Waiters: 3, OldestWait: 2 * time.Second})

		c.Lock(bg)
		c.NotifyAll()
		c.Unlock()
		s.ReleaseN(3)
		for _, r := range []<-chan error{laneCond, waiterCond, late, laneSem, waiterSem, lateSem} {
			if err := resultNow(t, "wait", r); err != nil {
				t.Fatal(err)
			}
		}
		// 2s + 2s from the first look for the early two, 1s for the late one.
		wantStats(t, "Cond, all notified", c.Stats(), coord.Stats{Kind: "Cond", Waits: 3, WaitTime: 5 * time.Second})
		wantStats(t, "Semaphore, all served", s.Stats(), coord.Stats{Kind: "Semaphore", Holders: 0, Waits: 3, WaitTime: 5 * time.Second})
	})
}

// A Barrier counts the waits begun while nobody looks itself, under its
// lock, and ends them with their round, tripped or broken, as an Event
// ends a generation.
func TestStatsFirstLookBarrier(t *testing.T) {
	nobodyLooks(t)
	synctest.Test(t, func(t *testing.T) {
		b := coord.NewBarrier(3)
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		wait := func(ctx context.Context) func() error {
			return func() error { _, err := b.Wait(ctx); return err }
		}
		quitter := goParked(wait(ctx))
		waiter := goParked(wait(bg))
		cancel()
		isCtxErr(t, "cancelled Wait", resultNow(t, "cancelled Wait", quitter), context.Canceled)
		time.Sleep(2 * time.Second)
		if inspect.Looking() {
			t.Fatal("looking before the first Stats")
		}
		wantStats(t, "first look", b.Stats(), coord.Stats{Kind: "Barrier", Waiters: 1, Waits: 1, GaveUp: 1})
		time.Sleep(time.Second)
		late := goParked(wait(bg)) // begun after the first look: exact
		time.Sleep(time.Second)
		wantStats(t, "a late party", b.Stats(), coord.Stats{Kind: "Barrier", Waiters: 2, OldestWait: 2 * time.Second, Waits: 1, GaveUp: 1})
		if i, err := b.Wait(bg); i != 2 || err != nil {
			t.Fatalf("the tripping party's Wait = %d, %v; want 2, nil", i, err)
		}
		for _, r := range []<-chan error{waiter, late} {
			if err := resultNow(t, "Wait", r); err != nil {
				t.Fatal(err)
			}
		}
		// 2s from the first look for the early party, 1s for the late one.
		wantStats(t, "tripped", b.Stats(), coord.Stats{Kind: "Barrier", Waits: 3, GaveUp: 1, WaitTime: 3 * time.Second})

		// A round broken while nobody looks ends its counted waits, none
		// given up.
		inspect.StopLooking()
		broken := goParked(wait(bg))
		b.Reset()
		if err := resultNow(t, "broken Wait", broken); !errors.Is(err, coord.ErrBrokenBarrier) {
			t.Fatalf("Wait in a reset round = %v; want ErrBrokenBarrier", err)
		}
		wantStats(t, "broken", b.Stats(), coord.Stats{Kind: "Barrier", Waits: 4, GaveUp: 1, WaitTime: 3 * time.Second})
	})
}

// A Mutex counts the waits begun while nobody looks in a tally under its
// inner lock, and each of the ways such a wait ends is counted once: a
// woken waiter that takes the mutex without that lock (ended by the next
// holder of it, here Stats), a waiter handed the mutex after waiting past
// the starvation bound, and a waiter that gives up.
func TestStatsMutexTalliedEnds(t *testing.T) {
	nobodyLooks(t)
	synctest.Test(t, func(t *testing.T) {
		var m coord.Mutex
		m.Lock(bg)
		first := goParked(func() error { return m.Lock(bg) })
		second := goParked(func() error { return m.Lock(bg) })
		m.Unlock() // wakes first, which takes m in one CAS
		if err := resultNow(t, "first Lock", first); err != nil {
			t.Fatal(err)
		}
		wantStats(t, "woken waiter took it", m.Stats(), coord.Stats{Kind: "Mutex", Holders: 1, Waiters: 1, Waits: 1})

		inspect.StopLooking()
		time.Sleep(2 * time.Millisecond) // past the starvation bound: a handoff
		m.Unlock()
		if err := resultNow(t, "second Lock", second); err != nil {
			t.Fatal(err)
		}
		wantStats(t, "handed over", m.Stats(), coord.Stats{Kind: "Mutex", Holders: 1, Waits: 2})

		inspect.StopLooking()
		ctx, cancel := context.WithCancel(bg)
		quitter := goParked(func() error { return m.Lock(ctx) })
		cancel()
		isCtxErr(t, "cancelled Lock", resultNow(t, "cancelled Lock", quitter), context.Canceled)
		m.Unlock()
		wantStats(t, "one gave up", m.Stats(), coord.Stats{Kind: "Mutex", Waits: 3, GaveUp: 1})
	})
}

// Cancellation raced against handoff while nobody looks: however each wait
// ends (taken in the woken waiter's CAS, handed over, given up before or
// after a grant), the tally ends it exactly once, so once every goroutine is
// done no wait is left and none is counted twice.
func TestStatsMutexTallyStress(t *testing.T) {
	nobodyLooks(t)
	for round := range 3 {
		var m coord.Mutex
		var cancelled atomic.Int64
		var wg sync.WaitGroup
		const goroutines = 1000
		for i := range goroutines {
			wg.Go(func() {
				ctx := bg
				if i%4 != 0 {
					d := time.Duration(rand.IntN(300)) * time.Microsecond
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(bg, d)
					defer cancel()
					if i%3 == 0 {
						go cancel()
					}
				}
				if !waitSucceeded(t, "Lock", ctx, m.Lock(ctx)) {
					cancelled.Add(1)
					return
				}
				for range rand.IntN(20) {
					runtime.Gosched()
				}
				m.Unlock()
			})
		}
		wg.Wait()
		inspect.StopLooking() // Stats below turns it on
		st := m.Stats()
		inspect.StopLooking()
		if st.Waiters != 0 || st.Holders != 0 {
			t.Fatalf("round %d: %d waiters, %d holders once every Lock returned: %+v", round, st.Waiters, st.Holders, st)
		}
		if st.Waits > goroutines || st.GaveUp > uint64(cancelled.Load()) || st.GaveUp > st.Waits {
			t.Fatalf("round %d: %d Locks, %d cancelled; Stats %+v", round, goroutines, cancelled.Load(), st)
		}
		if st.Waits == 0 {
			t.Fatalf("round %d: no Lock waited among %d goroutines", round, goroutines)
		}
	}
}
