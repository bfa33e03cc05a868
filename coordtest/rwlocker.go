package coordtest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// RWLocker is what TestRWLocker needs of a read-write lock handle.
// *coord.RWMutex satisfies it, and so does the etcd module's RWMutex.
type RWLocker interface {
	RLock(ctx context.Context) error
	RUnlock()
	Lock(ctx context.Context) error
	Unlock()
}

// TestRWLocker checks a read-write lock: readers share it and a writer
// excludes readers and writers; once a writer waits, a new reader waits
// behind it (writer preference); writers are served in arrival order; a
// done ctx returns ctx.Err() and changes nothing; a waiter of either kind
// that gives up returns ctx.Err() itself and leaves no trace (a writer that
// gives up lets the readers queued behind it in at once, a reader that gives
// up holds no writer back); a cancellation racing a handoff neither loses
// nor doubles the lock. newRWLocker returns a handle on the lock called
// name; a probe, if given, counts the callers that hold or wait on it.
//
// The suite checks only what every backend promises. It does not check
// which readers go in when a writer unlocks with both readers and another
// writer queued behind it: coord.RWMutex lets every queued reader in, a
// backend that serves strictly in arrival order only those queued ahead of
// the next writer.
func TestRWLocker(t *testing.T, newRWLocker func(t *testing.T, name string) RWLocker, opts ...Option) {
	c := newConfig(opts)

	t.Run("ReadersShare", func(t *testing.T) {
		const readers = 3
		var hs []RWLocker
		for i := range readers {
			h := newRWLocker(t, "share")
			if err := c.get(t, goErr(func() error { return h.RLock(c.ctx(t)) }), "RLock while other readers hold"); err != nil {
				t.Fatalf("reader %d: %v", i, err)
			}
			hs = append(hs, h)
		}
		for _, h := range hs {
			h.RUnlock()
		}
		w := newRWLocker(t, "share")
		if err := c.get(t, goErr(func() error { return w.Lock(c.ctx(t)) }), "Lock after the readers left"); err != nil {
			t.Fatal(err)
		}
		w.Unlock()
	})

	t.Run("WriterExcludes", func(t *testing.T) {
		w, r, w2 := newRWLocker(t, "excl"), newRWLocker(t, "excl"), newRWLocker(t, "excl")
		if err := w.Lock(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		rres := goErr(func() error { return r.RLock(c.ctx(t)) })
		c.queued(t, "excl", 2)
		w2res := goErr(func() error { return w2.Lock(c.ctx(t)) })
		c.queued(t, "excl", 3)
		blocked(t, rres, "RLock while a writer holds")
		blocked(t, w2res, "Lock while a writer holds")
		w.Unlock()
		// The reader queued first, so it goes in; the second writer waits
		// for it.
		if err := c.get(t, rres, "RLock after Unlock"); err != nil {
			t.Fatal(err)
		}
		blocked(t, w2res, "Lock while a reader holds")
		r.RUnlock()
		if err := c.get(t, w2res, "Lock after RUnlock"); err != nil {
			t.Fatal(err)
		}
		w2.Unlock()
	})

	t.Run("WriterPreference", func(t *testing.T) {
		a, w, b := newRWLocker(t, "pref"), newRWLocker(t, "pref"), newRWLocker(t, "pref")
		if err := a.RLock(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		wres := goErr(func() error { return w.Lock(c.ctx(t)) })
		c.queued(t, "pref", 2)
		// A reader that arrives while a writer waits waits behind it, even
		// though only readers hold the lock.
		bres := goErr(func() error { return b.RLock(c.ctx(t)) })
		c.queued(t, "pref", 3)
		blocked(t, bres, "RLock behind a waiting writer")
		a.RUnlock()
		if err := c.get(t, wres, "Lock after the reader left"); err != nil {
			t.Fatal(err)
		}
		blocked(t, bres, "RLock while the writer holds")
		w.Unlock()
		if err := c.get(t, bres, "RLock after the writer's Unlock"); err != nil {
			t.Fatal(err)
		}
		b.RUnlock()
	})

	t.Run("WritersFIFO", func(t *testing.T) {
		const writers = 3
		holder := newRWLocker(t, "fifo")
		if err := holder.RLock(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		order := make(chan int, writers)
		var wg sync.WaitGroup
		for i := range writers {
			h := newRWLocker(t, "fifo")
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := h.Lock(c.ctx(t)); err != nil {
					t.Error(err)
					return
				}
				order <- i
				h.Unlock()
			}()
			c.queued(t, "fifo", i+2)
		}
		holder.RUnlock()
		wg.Wait()
		close(order)
		want := 0
		for got := range order {
			if got != want {
				t.Fatalf("writer %d was served in turn %d: not arrival order", got, want)
			}
			want++
		}
		if want != writers {
			t.Fatalf("%d of %d writers served", want, writers)
		}
	})

	t.Run("DoneContext", func(t *testing.T) {
		a, b := newRWLocker(t, "done"), newRWLocker(t, "done")
		cancelled, expired := done()
		for _, call := range []struct {
			name string
			f    func(context.Context) error
		}{{"RLock", a.RLock}, {"Lock", a.Lock}} {
			if err := call.f(cancelled); err != context.Canceled {
				t.Fatalf("%s(cancelled ctx) of a free lock = %v, want context.Canceled", call.name, err)
			}
			if err := call.f(expired); err != context.DeadlineExceeded {
				t.Fatalf("%s(expired ctx) of a free lock = %v, want context.DeadlineExceeded", call.name, err)
			}
		}
		// Nothing changed: the lock is free for a writer.
		if err := c.get(t, goErr(func() error { return b.Lock(c.ctx(t)) }), "Lock after done-ctx calls"); err != nil {
			t.Fatal(err)
		}
		b.Unlock()
		// A done-ctx Lock on a read-held lock queues no writer: another
		// reader still goes in.
		if err := b.RLock(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		if err := a.Lock(cancelled); err != context.Canceled {
			t.Fatalf("Lock(cancelled ctx) of a read-held lock = %v", err)
		}
		if err := c.get(t, goErr(func() error { return a.RLock(c.ctx(t)) }), "RLock after a done-ctx Lock"); err != nil {
			t.Fatal(err)
		}
		a.RUnlock()
		b.RUnlock()
	})

	t.Run("CancelledWriterLetsReadersIn", func(t *testing.T) {
		a, w, r := newRWLocker(t, "cw"), newRWLocker(t, "cw"), newRWLocker(t, "cw")
		if err := a.RLock(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		wres := goErr(func() error { return w.Lock(ctx) })
		c.queued(t, "cw", 2)
		rres := goErr(func() error { return r.RLock(c.ctx(t)) })
		c.queued(t, "cw", 3)
		blocked(t, rres, "RLock behind a waiting writer")
		cancel()
		if err := c.get(t, wres, "cancelled Lock"); err != context.Canceled {
			t.Fatalf("cancelled Lock = %v, want context.Canceled itself", err)
		}
		// The writer is gone: the reader behind it goes in at once, while
		// the first reader still holds.
		if err := c.get(t, rres, "RLock behind a writer that gave up"); err != nil {
			t.Fatal(err)
		}
		a.RUnlock()
		r.RUnlock()
		if err := c.get(t, goErr(func() error { return w.Lock(c.ctx(t)) }), "Lock again after giving up"); err != nil {
			t.Fatal(err)
		}
		w.Unlock()
	})

	t.Run("CancelledReaderHoldsNoWriterBack", func(t *testing.T) {
		h, r, w := newRWLocker(t, "cr"), newRWLocker(t, "cr"), newRWLocker(t, "cr")
		if err := h.Lock(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rres := goErr(func() error { return r.RLock(ctx) })
		c.queued(t, "cr", 2)
		wres := goErr(func() error { return w.Lock(c.ctx(t)) })
		c.queued(t, "cr", 3)
		cancel()
		if err := c.get(t, rres, "cancelled RLock"); err != context.Canceled {
			t.Fatalf("cancelled RLock = %v, want context.Canceled itself", err)
		}
		blocked(t, wres, "Lock while a writer holds")
		h.Unlock()
		if err := c.get(t, wres, "Lock after Unlock, with the reader gone"); err != nil {
			t.Fatal(err)
		}
		w.Unlock()
	})

	t.Run("Deadline", func(t *testing.T) {
		h, r, w := newRWLocker(t, "deadline"), newRWLocker(t, "deadline"), newRWLocker(t, "deadline")
		if err := h.Lock(c.ctx(t)); err != nil {
			t.Fatal(err)
		}
		for _, call := range []struct {
			name string
			f    func(context.Context) error
		}{{"RLock", r.RLock}, {"Lock", w.Lock}} {
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			err := call.f(ctx)
			cancel()
			if err != context.DeadlineExceeded {
				t.Fatalf("%s past its deadline = %v, want context.DeadlineExceeded", call.name, err)
			}
		}
		h.Unlock()
		if err := c.get(t, goErr(func() error { return w.Lock(c.ctx(t)) }), "Lock after timed-out waits"); err != nil {
			t.Fatal(err)
		}
		w.Unlock()
	})

	t.Run("CancelRacesHandoff", func(t *testing.T) {
		// Unlock and a waiter's cancel race: the waiter either holds (nil)
		// or does not (ctx.Err()) and then passes the lock on, so it is
		// neither lost nor doubled. Readers and writers take turns.
		const iterations = 12
		h, a, d := newRWLocker(t, "race"), newRWLocker(t, "race"), newRWLocker(t, "race")
		held := 0
		for i := range iterations {
			reader := i%2 == 1
			if err := h.Lock(c.ctx(t)); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			ares := goErr(func() error {
				if reader {
					return a.RLock(ctx)
				}
				return a.Lock(ctx)
			})
			c.queued(t, "race", 2)
			delay := time.Duration(i%4) * 2 * time.Millisecond
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); h.Unlock() }()
			go func() {
				defer wg.Done()
				time.Sleep(delay)
				cancel()
			}()
			wg.Wait()
			err := c.get(t, ares, "racing wait")
			dres := goErr(func() error { return d.Lock(c.ctx(t)) })
			switch err {
			case nil:
				held++
				blocked(t, dres, "Lock while the racing waiter holds")
				if reader {
					a.RUnlock()
				} else {
					a.Unlock()
				}
			case context.Canceled:
			default:
				t.Fatalf("racing wait = %v", err)
			}
			if err := c.get(t, dres, "Lock after the race"); err != nil {
				t.Fatal(err)
			}
			d.Unlock()
		}
		t.Logf("the waiter kept the lock in %d of %d races", held, iterations)
	})

	t.Run("HammerWithTimeouts", func(t *testing.T) {
		// Readers and writers with short deadlines: a writer is always
		// alone, readers only ever share with readers, and every wait that
		// was given up passed on what it was handed: the lock ends free.
		const handles = 4
		stop := time.Now().Add(time.Second)
		var activity, reads, writes atomic.Int32
		var wg sync.WaitGroup
		for h := range handles {
			l := newRWLocker(t, "hammer")
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; time.Now().Before(stop); i++ {
					writer := (i+h)%3 == 0
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+(i*7+h*3)%20)*time.Millisecond)
					var err error
					if writer {
						err = l.Lock(ctx)
					} else {
						err = l.RLock(ctx)
					}
					cancel()
					if err != nil {
						if err != context.DeadlineExceeded {
							t.Errorf("wait = %v, want nil or context.DeadlineExceeded", err)
							return
						}
						continue
					}
					if writer {
						if n := activity.Add(1000); n != 1000 {
							t.Errorf("a writer holds alongside others (activity %d)", n)
						}
						writes.Add(1)
						activity.Add(-1000)
						l.Unlock()
					} else {
						if n := activity.Add(1); n >= 1000 {
							t.Errorf("a reader holds alongside a writer (activity %d)", n)
						}
						reads.Add(1)
						time.Sleep(time.Millisecond)
						activity.Add(-1)
						l.RUnlock()
					}
				}
			}()
		}
		wg.Wait()
		l := newRWLocker(t, "hammer")
		if err := c.get(t, goErr(func() error { return l.Lock(c.ctx(t)) }), "Lock after the hammer"); err != nil {
			t.Fatal(err)
		}
		l.Unlock()
		t.Logf("%d reads, %d writes", reads.Load(), writes.Load())
	})
}
