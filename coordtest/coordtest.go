// Package coordtest is a conformance suite for coord's primitives: one set
// of behavioural tests that runs against the in-process types of package
// coord and against any other backend (coord/etcd runs it on an embedded
// etcd), so that "the same semantics" is checked rather than claimed.
//
// Each Test function takes a factory that returns a handle on a named
// primitive. Handles made for the same name share one primitive (in process,
// the factory returns the same value; across processes, a new client-side
// value of the same name); each handle is used by at most one goroutine's
// hold at a time. Types whose methods differ in shape (coord.Event.Set has
// no ctx and no error) fit through a few lines of adapter.
//
// A test waits for a caller to be queued before the next one arrives. Without
// a probe (WithProbe) it pauses for a moment instead, which is enough in
// process; a backend whose calls take a round trip should give a probe.
//
// coordtest imports only the standard library and coord.
package coordtest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coordkit/coord"
)

// Semaphore is what TestSemaphore needs of a semaphore handle.
// *etcd.Semaphore satisfies it; a *coord.Semaphore needs an adapter whose
// Release calls Release() and returns nil.
type Semaphore interface {
	Acquire(ctx context.Context) error
	Release(ctx context.Context) error
}

// Event is what TestEvent needs of an event handle. *etcd.Event satisfies
// it; a *coord.Event needs an adapter (its Set, Clear and IsSet take no ctx).
type Event interface {
	Set(ctx context.Context) error
	Clear(ctx context.Context) error
	IsSet(ctx context.Context) (bool, error)
	Wait(ctx context.Context) error
}

// Barrier is what TestBarrier needs of a barrier handle. Both *coord.Barrier
// and *etcd.Barrier satisfy it.
type Barrier interface {
	Wait(ctx context.Context) (int, error)
}

// An Option tunes a Test function for a backend.
type Option func(*config)

type config struct {
	probe   func(t *testing.T, name string) int
	timeout time.Duration
}

// WithProbe gives the suite a way to see how many callers hold or wait on the
// named primitive (for a Barrier: how many parties wait), so it can wait for
// a caller to be queued instead of pausing and hoping.
func WithProbe(probe func(t *testing.T, name string) int) Option {
	return func(c *config) { c.probe = probe }
}

// WithTimeout sets how long the suite waits for something that must happen
// (a handoff, a wakeup) before it fails; the default is 10s.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

func newConfig(opts []Option) *config {
	c := &config{timeout: 10 * time.Second}
	for _, o := range opts {
		o(c)
	}
	return c
}

// settle is the pause used without a probe, and how long a call must stay
// blocked to count as waiting.
const settle = 100 * time.Millisecond

// queued waits until n callers hold or wait on name.
func (c *config) queued(t *testing.T, name string, n int) {
	t.Helper()
	if c.probe == nil {
		time.Sleep(settle)
		return
	}
	deadline := time.Now().Add(c.timeout)
	for {
		got := c.probe(t, name)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callers hold or wait on %q, want %d", got, name, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ctx returns a context that ends with the test's timeout.
func (c *config) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*c.timeout)
	t.Cleanup(cancel)
	return ctx
}

func goErr(f func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

func (c *config) get(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(c.timeout):
		t.Fatalf("%s: no return within %v", what, c.timeout)
		return nil
	}
}

func blocked(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("%s returned %v; want it still waiting", what, err)
	case <-time.After(settle):
	}
}

func done() (context.Context, context.Context) {
	c, cancel := context.WithCancel(context.Background())
	cancel()
	d, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	cancel2()
	return c, d
}

// TestLocker checks a coord.Locker: mutual exclusion, arrival-order
// handoff, that a done ctx returns ctx.Err() and changes nothing, that a
// waiter that gives up returns ctx.Err() itself and does not take the lock,
// and that a cancellation racing a handoff neither loses nor doubles the
// lock. newLocker returns a handle on the lock called name.
func TestLocker(t *testing.T, newLocker func(t *testing.T, name string) coord.Locker, opts ...Option) {
	c := newConfig(opts)

	t.Run("MutualExclusion", func(t *testing.T) {
		const handles, rounds = 4, 10
		var inside, total atomic.Int32
		var wg sync.WaitGroup
		for range handles {
			l := newLocker(t, "excl")
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					if err := l.Lock(c.ctx(t)); err != nil {
						t.Error(err)
						return
					}
					if inside.Add(1) != 1 {
						t.Error("two holders at once")
					}
					time.Sleep(time.Millisecond)
					inside.Add(-1)
					total.Add(1)
					l.Unlock()
				}
			}()
		}
		wg.Wait()
		if got := total.Load(); got != handles*rounds {
			t.Fatalf("%d holds, want %d", got, handles*rounds)
		}
	})

	t.Run("DoneContext", func(t *testing.T) {
		a, b := newLocker(t, "done"), newLocker(t, "done")
		cancelled, expired := done()
		if err := a.Lock(cancelled); err != context.Canceled {
			t.Fatalf("Lock(cancelled ctx) of a free lock = %v, want context.Canceled", err)
		}
		if err := a.Lock(expired); err != context.DeadlineExceeded {
			t.Fatalf("Lock(expired ctx) of a free lock = %v, want context.DeadlineExceeded", err)
		}
		// Nothing changed: the lock is still free.
		if err := c.get(t, goErr(func() error { return b.Lock(c.ctx(t)) }), "Lock after a done-ctx Lock"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := a.Lock(cancelled); err != context.Canceled {
			t.Fatalf("Lock(cancelled ctx) of a held lock = %v", err)
		}
		if d := time.Since(start); d > c.timeout/2 {
			t.Fatalf("Lock(cancelled ctx) took %v", d)
		}
		b.Unlock()
		if err := c.get(t, goErr(func() error { return a.Lock(c.ctx(t)) }), "Lock after Unlock"); err != nil {
			t.Fatal(err)
		}
		a.Unlock()
	})

	t.Run("CancelledWaiter", func(t *testing.T) {
		a, b, d := newLocker(t, "cancel"), newLocker(t, "cancel"), newLocker(t, "cancel")
		if err := a.Lock(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		bres := goErr(func() error { return b.Lock(ctx) })
		c.queued(t, "cancel", 2)
		dres := goErr(func() error { return d.Lock(c.ctx(t)) })
		c.queued(t, "cancel", 3)
		cancel()
		if err := c.get(t, bres, "cancelled Lock"); err != context.Canceled {
			t.Fatalf("cancelled Lock = %v, want context.Canceled itself", err)
		}
		blocked(t, dres, "Lock behind the holder")
		a.Unlock()
		// The waiter that gave up did not take the lock: the next one gets it.
		if err := c.get(t, dres, "Lock after Unlock"); err != nil {
			t.Fatal(err)
		}
		d.Unlock()
		if err := c.get(t, goErr(func() error { return b.Lock(c.ctx(t)) }), "Lock again after giving up"); err != nil {
			t.Fatal(err)
		}
		b.Unlock()
	})

	t.Run("Deadline", func(t *testing.T) {
		a, b := newLocker(t, "deadline"), newLocker(t, "deadline")
		if err := a.Lock(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		if err := b.Lock(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Lock past its deadline = %v, want context.DeadlineExceeded", err)
		}
		a.Unlock()
		if err := c.get(t, goErr(func() error { return b.Lock(c.ctx(t)) }), "Lock after a timed-out Lock"); err != nil {
			t.Fatal(err)
		}
		b.Unlock()
	})

	t.Run("FIFO", func(t *testing.T) {
		const waiters = 3
		holder := newLocker(t, "fifo")
		if err := holder.Lock(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		order := make(chan int, waiters)
		var wg sync.WaitGroup
		for i := range waiters {
			l := newLocker(t, "fifo")
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := l.Lock(c.ctx(t)); err != nil {
					t.Error(err)
					return
				}
				order <- i
				l.Unlock()
			}()
			c.queued(t, "fifo", i+2)
		}
		holder.Unlock()
		wg.Wait()
		close(order)
		want := 0
		for got := range order {
			if got != want {
				t.Fatalf("waiter %d was served in turn %d: not arrival order", got, want)
			}
			want++
		}
		if want != waiters {
			t.Fatalf("%d of %d waiters served", want, waiters)
		}
	})

	t.Run("CancelRacesHandoff", func(t *testing.T) {
		// Unlock and the waiter's cancel race: the waiter either holds the
		// lock (nil) or does not (ctx.Err()) and then passes it on, so the
		// lock is neither lost nor doubled.
		const iterations = 12
		a, b, d := newLocker(t, "race"), newLocker(t, "race"), newLocker(t, "race")
		held := 0
		for i := range iterations {
			if err := a.Lock(c.ctx(t)); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			bres := goErr(func() error { return b.Lock(ctx) })
			c.queued(t, "race", 2)
			// Cancel at once, or a few milliseconds after Unlock: in
			// process the handoff takes microseconds, across processes a
			// few round trips, so the delays catch both sides of the race.
			delay := time.Duration(i%4) * 2 * time.Millisecond
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); a.Unlock() }()
			go func() {
				defer wg.Done()
				time.Sleep(delay)
				cancel()
			}()
			wg.Wait()
			err := c.get(t, bres, "racing Lock")
			dres := goErr(func() error { return d.Lock(c.ctx(t)) })
			switch err {
			case nil:
				held++
				blocked(t, dres, "Lock while the racing waiter holds")
				b.Unlock()
			case context.Canceled:
			default:
				t.Fatalf("racing Lock = %v", err)
			}
			if err := c.get(t, dres, "Lock after the race"); err != nil {
				t.Fatal(err)
			}
			d.Unlock()
		}
		t.Logf("the waiter kept the lock in %d of %d races", held, iterations)
	})

	t.Run("HammerWithTimeouts", func(t *testing.T) {
		const handles = 3
		stop := time.Now().Add(time.Second)
		var inside, holds atomic.Int32
		var wg sync.WaitGroup
		for h := range handles {
			l := newLocker(t, "hammer")
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; time.Now().Before(stop); i++ {
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+(i*7+h*3)%20)*time.Millisecond)
					err := l.Lock(ctx)
					cancel()
					if err != nil {
						if err != context.DeadlineExceeded {
							t.Errorf("Lock = %v, want nil or context.DeadlineExceeded", err)
							return
						}
						continue
					}
					if inside.Add(1) != 1 {
						t.Error("two holders at once")
					}
					holds.Add(1)
					inside.Add(-1)
					l.Unlock()
				}
			}()
		}
		wg.Wait()
		// Every abandoned wait passed the lock on: it is free now.
		l := newLocker(t, "hammer")
		if err := c.get(t, goErr(func() error { return l.Lock(c.ctx(t)) }), "Lock after the hammer"); err != nil {
			t.Fatal(err)
		}
		l.Unlock()
		t.Logf("%d holds", holds.Load())
	})
}

// TestSemaphore checks a semaphore of limit 2: at most limit holders at
// once, arrival-order admission, that a done ctx returns ctx.Err() and takes
// nothing even with permits free, and that a waiter that gives up takes
// nothing and lets those behind it move up. newSemaphore returns a handle on
// the semaphore called name with the given limit.
func TestSemaphore(t *testing.T, newSemaphore func(t *testing.T, name string, limit int) Semaphore, opts ...Option) {
	c := newConfig(opts)
	const limit = 2

	t.Run("AtMostLimit", func(t *testing.T) {
		const handles, rounds = 5, 6
		var inside, most, total atomic.Int32
		var wg sync.WaitGroup
		for range handles {
			s := newSemaphore(t, "limit", limit)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					if err := s.Acquire(c.ctx(t)); err != nil {
						t.Error(err)
						return
					}
					n := inside.Add(1)
					if n > limit {
						t.Errorf("%d holders of a semaphore of limit %d", n, limit)
					}
					for {
						m := most.Load()
						if n <= m || most.CompareAndSwap(m, n) {
							break
						}
					}
					time.Sleep(time.Millisecond)
					inside.Add(-1)
					total.Add(1)
					if err := s.Release(c.ctx(t)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if total.Load() != handles*rounds {
			t.Fatalf("%d holds, want %d", total.Load(), handles*rounds)
		}
	})

	t.Run("DoneContext", func(t *testing.T) {
		x := newSemaphore(t, "done", limit)
		cancelled, expired := done()
		if err := x.Acquire(cancelled); err != context.Canceled {
			t.Fatalf("Acquire(cancelled ctx) with permits free = %v, want context.Canceled", err)
		}
		if err := x.Acquire(expired); err != context.DeadlineExceeded {
			t.Fatalf("Acquire(expired ctx) = %v, want context.DeadlineExceeded", err)
		}
		// Nothing was taken: limit others get in at once, and one more waits.
		var hs []Semaphore
		for range limit {
			h := newSemaphore(t, "done", limit)
			if err := c.get(t, goErr(func() error { return h.Acquire(c.ctx(t)) }), "Acquire"); err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		ctx, cancel := context.WithCancel(context.Background())
		res := goErr(func() error { return x.Acquire(ctx) })
		blocked(t, res, "Acquire past the limit")
		cancel()
		if err := c.get(t, res, "cancelled Acquire"); err != context.Canceled {
			t.Fatalf("cancelled Acquire = %v", err)
		}
		for _, h := range hs {
			if err := h.Release(c.ctx(t)); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("CancelledWaiter", func(t *testing.T) {
		var hs []Semaphore
		for range limit {
			h := newSemaphore(t, "cancel", limit)
			if err := h.Acquire(c.ctx(t)); err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		w, next := newSemaphore(t, "cancel", limit), newSemaphore(t, "cancel", limit)
		ctx, cancel := context.WithCancel(context.Background())
		wres := goErr(func() error { return w.Acquire(ctx) })
		c.queued(t, "cancel", limit+1)
		nres := goErr(func() error { return next.Acquire(c.ctx(t)) })
		c.queued(t, "cancel", limit+2)
		cancel()
		if err := c.get(t, wres, "cancelled Acquire"); err != context.Canceled {
			t.Fatalf("cancelled Acquire = %v, want context.Canceled itself", err)
		}
		blocked(t, nres, "Acquire while the semaphore is full")
		if err := hs[0].Release(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		if err := c.get(t, nres, "Acquire after a Release"); err != nil {
			t.Fatal(err)
		}
		for _, h := range []Semaphore{hs[1], next} {
			if err := h.Release(c.ctx(t)); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("HammerWithTimeouts", func(t *testing.T) {
		// Acquisitions racing their own timeouts neither lose nor double a
		// permit: never more than limit holders, and all permits free after.
		const handles = 4
		stop := time.Now().Add(time.Second)
		var inside, holds atomic.Int32
		var wg sync.WaitGroup
		for h := range handles {
			s := newSemaphore(t, "hammer", limit)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; time.Now().Before(stop); i++ {
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+(i*7+h*3)%20)*time.Millisecond)
					err := s.Acquire(ctx)
					cancel()
					if err != nil {
						if err != context.DeadlineExceeded {
							t.Errorf("Acquire = %v, want nil or context.DeadlineExceeded", err)
							return
						}
						continue
					}
					if n := inside.Add(1); n > limit {
						t.Errorf("%d holders of a semaphore of limit %d", n, limit)
					}
					holds.Add(1)
					inside.Add(-1)
					if err := s.Release(c.ctx(t)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		var hs []Semaphore
		for range limit {
			h := newSemaphore(t, "hammer", limit)
			if err := c.get(t, goErr(func() error { return h.Acquire(c.ctx(t)) }), "Acquire after the hammer"); err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		for _, h := range hs {
			if err := h.Release(c.ctx(t)); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%d holds", holds.Load())
	})

	t.Run("FIFO", func(t *testing.T) {
		const waiters = 3
		var hs []Semaphore
		for range limit {
			h := newSemaphore(t, "fifo", limit)
			if err := h.Acquire(c.ctx(t)); err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		admitted := make(chan int, waiters)
		release := make([]chan struct{}, waiters)
		var wg sync.WaitGroup
		freed := 0 // release[:freed] are closed
		defer func() {
			for ; freed < waiters; freed++ {
				close(release[freed])
			}
			wg.Wait()
		}()
		for i := range waiters {
			s := newSemaphore(t, "fifo", limit)
			release[i] = make(chan struct{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Acquire(c.ctx(t)); err != nil {
					t.Error(err)
					admitted <- -1
					return
				}
				admitted <- i
				<-release[i]
				if err := s.Release(c.ctx(t)); err != nil {
					t.Error(err)
				}
			}()
			c.queued(t, "fifo", limit+i+1)
		}
		// Free one permit at a time; each must go to the longest waiter.
		for want := range waiters {
			var err error
			if want < limit {
				err = hs[want].Release(c.ctx(t))
			} else {
				close(release[freed])
				freed++
			}
			if err != nil {
				t.Fatal(err)
			}
			select {
			case got := <-admitted:
				if got != want {
					t.Fatalf("waiter %d admitted in turn %d: not arrival order", got, want)
				}
			case <-time.After(c.timeout):
				t.Fatal("no waiter admitted after a release")
			}
		}
	})
}

// TestEvent checks an event: Wait blocks until Set, Set wakes every waiter
// even when Clear follows at once, Wait on a set event returns at once, a
// done ctx returns ctx.Err() even on a set event, Clear makes Wait block
// again, and handles of one name share the state. newEvent returns a handle
// on the event called name.
func TestEvent(t *testing.T, newEvent func(t *testing.T, name string) Event, opts ...Option) {
	c := newConfig(opts)

	t.Run("SetWakesWaiters", func(t *testing.T) {
		e := newEvent(t, "wake")
		if set, err := e.IsSet(c.ctx(t)); err != nil || set {
			t.Fatalf("IsSet of a new event = %v, %v", set, err)
		}
		const waiters = 3
		var res []<-chan error
		for range waiters {
			w := newEvent(t, "wake")
			res = append(res, goErr(func() error { return w.Wait(c.ctx(t)) }))
		}
		for i := range res {
			blocked(t, res[i], "Wait on a clear event")
		}
		// A waiter is waiting once it has read the event clear; give a
		// backend whose Wait makes round trips time to get there.
		time.Sleep(4 * settle)
		// Every waiter waiting at Set returns nil, even though Clear follows.
		if err := newEvent(t, "wake").Set(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		if err := e.Clear(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		for i := range res {
			if err := c.get(t, res[i], "Wait after Set"); err != nil {
				t.Fatalf("Wait after Set = %v", err)
			}
		}
	})

	t.Run("SetStaysSet", func(t *testing.T) {
		e, f := newEvent(t, "set"), newEvent(t, "set")
		if err := e.Set(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		if err := e.Set(c.ctx(t)); err != nil {
			t.Fatalf("Set of a set event: %v", err)
		}
		if set, err := f.IsSet(c.ctx(t)); err != nil || !set {
			t.Fatalf("IsSet after Set = %v, %v", set, err)
		}
		if err := c.get(t, goErr(func() error { return f.Wait(c.ctx(t)) }), "Wait on a set event"); err != nil {
			t.Fatal(err)
		}
		cancelled, expired := done()
		if err := f.Wait(cancelled); err != context.Canceled {
			t.Fatalf("Wait(cancelled ctx) on a set event = %v, want context.Canceled", err)
		}
		if err := f.Wait(expired); err != context.DeadlineExceeded {
			t.Fatalf("Wait(expired ctx) on a set event = %v, want context.DeadlineExceeded", err)
		}
	})

	t.Run("Clear", func(t *testing.T) {
		e := newEvent(t, "clear")
		if err := e.Set(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		if err := e.Clear(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		if set, err := e.IsSet(c.ctx(t)); err != nil || set {
			t.Fatalf("IsSet after Clear = %v, %v", set, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		res := goErr(func() error { return e.Wait(ctx) })
		blocked(t, res, "Wait after Clear")
		cancel()
		if err := c.get(t, res, "cancelled Wait"); err != context.Canceled {
			t.Fatalf("cancelled Wait = %v, want context.Canceled", err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := e.Wait(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Wait past its deadline = %v, want context.DeadlineExceeded", err)
		}
	})
}

// TestBarrier checks a barrier: each round gives its parties distinct
// indices 0..parties-1, rounds repeat (cyclic), a party that gives up leaves
// its round (the round completes with a later arrival), and a done ctx
// returns -1 and ctx.Err() and changes nothing, even for what would be the
// last party. newBarrier returns a handle on the barrier called name.
func TestBarrier(t *testing.T, newBarrier func(t *testing.T, name string, parties int) Barrier, opts ...Option) {
	c := newConfig(opts)

	t.Run("CyclicIndices", func(t *testing.T) {
		const parties, rounds = 3, 3
		var bs []Barrier
		for range parties {
			bs = append(bs, newBarrier(t, "cyclic", parties))
		}
		for r := range rounds {
			idx := make(chan int, parties)
			var wg sync.WaitGroup
			for _, b := range bs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					i, err := b.Wait(c.ctx(t))
					if err != nil {
						t.Error(err)
					}
					idx <- i
				}()
			}
			wg.Wait()
			close(idx)
			var got []int
			for i := range idx {
				got = append(got, i)
			}
			sort.Ints(got)
			if fmt.Sprint(got) != "[0 1 2]" {
				t.Fatalf("round %d: indices %v, want each of 0..2 once", r, got)
			}
		}
	})

	t.Run("DoneContext", func(t *testing.T) {
		a, b, d := newBarrier(t, "done", 2), newBarrier(t, "done", 2), newBarrier(t, "done", 2)
		type res struct {
			i   int
			err error
		}
		ares := make(chan res, 1)
		go func() { i, err := a.Wait(c.ctx(t)); ares <- res{i, err} }()
		c.queued(t, "done", 1)
		// b would be the last party, but its ctx is done: it returns at
		// once, is not counted, and a keeps waiting (rule 2).
		cancelled, expired := done()
		if i, err := b.Wait(cancelled); i != -1 || err != context.Canceled {
			t.Fatalf("Wait(cancelled ctx) = %d, %v; want -1, context.Canceled", i, err)
		}
		if i, err := b.Wait(expired); i != -1 || err != context.DeadlineExceeded {
			t.Fatalf("Wait(expired ctx) = %d, %v; want -1, context.DeadlineExceeded", i, err)
		}
		select {
		case r := <-ares:
			t.Fatalf("round tripped with a party whose ctx was done: %+v", r)
		case <-time.After(settle):
		}
		i, err := d.Wait(c.ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-ares:
			if r.err != nil || r.i+i != 1 {
				t.Fatalf("round of a and d: indices %d and %d (%v), want 0 and 1", r.i, i, r.err)
			}
		case <-time.After(c.timeout):
			t.Fatal("the first party was not released by the round")
		}
	})

	t.Run("LeaveWhileWaiting", func(t *testing.T) {
		const parties = 3
		a, b := newBarrier(t, "leave3", parties), newBarrier(t, "leave3", parties)
		ares := goErr(func() error { _, err := a.Wait(c.ctx(t)); return err })
		c.queued(t, "leave3", 1)
		ctx, cancel := context.WithCancel(context.Background())
		bres := goErr(func() error {
			i, err := b.Wait(ctx)
			if i != -1 {
				return fmt.Errorf("index %d with error %v", i, err)
			}
			return err
		})
		c.queued(t, "leave3", 2)
		cancel()
		if err := c.get(t, bres, "cancelled Wait"); err != context.Canceled {
			t.Fatalf("cancelled Wait = %v, want -1, context.Canceled", err)
		}
		c.queued(t, "leave3", 1)
		// b left: two more arrivals are needed, one is not enough.
		d := newBarrier(t, "leave3", parties)
		dres := goErr(func() error { _, err := d.Wait(c.ctx(t)); return err })
		blocked(t, ares, "Wait with two of three parties")
		e := newBarrier(t, "leave3", parties)
		if _, err := e.Wait(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		for _, ch := range []<-chan error{ares, dres} {
			if err := c.get(t, ch, "Wait of a full round"); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("OneParty", func(t *testing.T) {
		b := newBarrier(t, "one", 1)
		for range 3 {
			if i, err := b.Wait(c.ctx(t)); i != 0 || err != nil {
				t.Fatalf("Wait of a 1-party barrier = %d, %v", i, err)
			}
		}
	})
}
