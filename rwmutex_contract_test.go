package coord_test

// The RWMutex contract, bullet by bullet: each test quotes the promise it
// checks. Tests that wait run in testing/synctest bubbles, so they cannot
// hang on the clock and double as goroutine-leak checks.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// The signatures of the contract, checked by the compiler.
var (
	_ func(*coord.RWMutex, context.Context) error = (*coord.RWMutex).RLock
	_ func(*coord.RWMutex) bool                   = (*coord.RWMutex).TryRLock
	_ func(*coord.RWMutex)                        = (*coord.RWMutex).RUnlock
	_ func(*coord.RWMutex, context.Context) error = (*coord.RWMutex).Lock
	_ func(*coord.RWMutex) bool                   = (*coord.RWMutex).TryLock
	_ func(*coord.RWMutex)                        = (*coord.RWMutex).Unlock
	_ func(*coord.RWMutex) coord.Locker           = (*coord.RWMutex).RLocker
	_ coord.Locker                                = new(coord.RWMutex)
)

// errRWCause is a cancellation cause; rule 1 says a wait returns ctx.Err()
// itself, never the cause.
var errRWCause = errors.New("rwmutex contract cause")

// "var rw coord.RWMutex // zero value: unlocked"; "RLocker() Locker //
// Lock/Unlock call RLock/RUnlock".
func TestRWMutexContract_ZeroValueAndRLocker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rw coord.RWMutex
		if !rw.TryLock() {
			t.Fatal("the zero RWMutex is not unlocked")
		}
		rw.Unlock()
		l := rw.RLocker()
		if err := l.Lock(rwBg); err != nil {
			t.Fatal(err)
		}
		if rw.TryLock() {
			t.Fatal("RLocker().Lock did not take a read lock: TryLock succeeded")
		}
		if !rw.TryRLock() {
			t.Fatal("RLocker().Lock took more than a read lock: TryRLock failed")
		}
		rw.RUnlock()
		l.Unlock()
		rwIsFree(t, &rw)
	})
}

// "Any number of readers hold it together, or one writer alone."
func TestRWMutexContract_ReadersTogetherOrOneWriter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rw coord.RWMutex
		var readers, writers, most atomic.Int32
		stop := make(chan struct{})
		var chans []<-chan error
		for i := range 12 {
			chans = append(chans, goResult(func() error {
				for {
					select {
					case <-stop:
						return nil
					default:
					}
					if i%4 == 0 {
						if err := rw.Lock(rwBg); err != nil {
							return err
						}
						if w := writers.Add(1); w != 1 || readers.Load() != 0 {
							return fmt.Errorf("a writer holds with %d writers and %d readers", w, readers.Load())
						}
						time.Sleep(time.Millisecond)
						writers.Add(-1)
						rw.Unlock()
					} else {
						if err := rw.RLock(rwBg); err != nil {
							return err
						}
						r := readers.Add(1)
						if writers.Load() != 0 {
							return errors.New("a reader holds with a writer")
						}
						if r > most.Load() {
							most.Store(r)
						}
						time.Sleep(2 * time.Millisecond)
						readers.Add(-1)
						rw.RUnlock()
					}
				}
			}))
		}
		time.Sleep(time.Second)
		close(stop)
		for _, ch := range chans {
			if err := <-ch; err != nil {
				t.Fatal(err)
			}
		}
		if most.Load() < 2 {
			t.Fatalf("at most %d readers held at once; readers must share", most.Load())
		}
		rwIsFree(t, &rw)
	})
}

// "When a writer unlocks, the readers that queued during its hold go in
// before the next writer; so neither side starves under any load."
func TestRWMutexContract_ReadersOfAHoldGoBeforeNextWriter(t *testing.T) {
	// The order itself, readers queued before and after the next writer
	// alike, is TestRWMutexQueuedReadersGoBeforeNextWriter's.
	// Under a load of writers that never lets up, a reader gets in within
	// one write hold; under a load of readers that always overlap, a writer
	// gets in within one read hold.
	t.Run("no starvation", func(t *testing.T) {
		for _, side := range []string{"reader", "writer"} {
			t.Run(side, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					var rw coord.RWMutex
					const hold = 5 * time.Millisecond
					stop := make(chan struct{})
					var load []<-chan error
					for range 4 {
						load = append(load, goResult(func() error {
							for {
								select {
								case <-stop:
									return nil
								default:
								}
								if side == "reader" {
									rw.Lock(rwBg)
									time.Sleep(hold)
									rw.Unlock()
								} else {
									rw.RLock(rwBg)
									time.Sleep(hold)
									rw.RUnlock()
								}
							}
						}))
						time.Sleep(hold / 4) // stagger, so that readers always overlap
					}
					for range 10 {
						ctx, cancel := context.WithTimeout(rwBg, 2*hold)
						var err error
						if side == "reader" {
							if err = rw.RLock(ctx); err == nil {
								rw.RUnlock()
							}
						} else {
							if err = rw.Lock(ctx); err == nil {
								rw.Unlock()
							}
						}
						cancel()
						if err != nil {
							t.Fatalf("%s starved: %v after two holds", side, err)
						}
					}
					close(stop)
					for _, ch := range load {
						<-ch
					}
				})
			})
		}
	})
}

// "A waiter that gives up leaves no trace ...: a writer that gives up
// while readers queue behind it lets them in at once (they must not stay
// blocked behind a writer that is gone), and a reader that gives up never
// holds a writer back."
func TestRWMutexContract_GiveUpLeavesNoTrace(t *testing.T) {
	t.Run("writer gives up", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var rw coord.RWMutex
			rw.RLock(rwBg)
			ctx, cancel := context.WithTimeout(rwBg, time.Second)
			defer cancel()
			w := goResult(func() error { return rw.Lock(ctx) })
			synctest.Wait()
			rs := []<-chan error{
				goResult(func() error { return rw.RLock(rwBg) }),
				goResult(func() error { return rw.RLocker().Lock(rwBg) }),
			}
			stillBlocked(t, "readers behind the writer", rs[0])
			time.Sleep(time.Second)
			if err := resultNow(t, "Lock", w); err != context.DeadlineExceeded {
				t.Fatalf("Lock = %v; want context.DeadlineExceeded", err)
			}
			for _, r := range rs {
				if err := resultNow(t, "reader behind the writer that gave up", r); err != nil {
					t.Fatal(err)
				}
			}
			for range 3 {
				rw.RUnlock()
			}
			rwIsFree(t, &rw)
		})
	})
	t.Run("reader gives up", func(t *testing.T) {
		// Readers queued behind a writer time out one after another; the
		// writer goes in the moment the reader holding the lock leaves.
		synctest.Test(t, func(t *testing.T) {
			var rw coord.RWMutex
			rw.RLocker().Lock(rwBg)
			w := goResult(func() error { return rw.Lock(rwBg) })
			synctest.Wait()
			for i := range 3 {
				ctx, cancel := context.WithTimeout(rwBg, time.Duration(i+1)*time.Second)
				err := rw.RLocker().Lock(ctx)
				cancel()
				if err != context.DeadlineExceeded {
					t.Fatalf("RLocker().Lock behind a writer = %v; want context.DeadlineExceeded", err)
				}
			}
			stillBlocked(t, "the writer, while a reader holds", w)
			rw.RLocker().Unlock()
			if err := resultNow(t, "the writer, after readers gave up", w); err != nil {
				t.Fatal(err)
			}
			rw.Unlock()
			rwIsFree(t, &rw)
		})
	})
}

// "Rules 1–3 hold for both kinds of waiter." Rule 1: a wait given up
// returns ctx.Err() itself, not the cause and not a wrapper. Rule 2: a done
// ctx returns ctx.Err() and changes nothing (TestRWMutexDoneCtxChangesNothing
// checks it in every state). Rule 3 is the next test.
func TestRWMutexContract_Rules12BothKinds(t *testing.T) {
	kinds := map[string]func(*coord.RWMutex, context.Context) error{
		"RLock": (*coord.RWMutex).RLock,
		"Lock":  (*coord.RWMutex).Lock,
	}
	for name, wait := range kinds {
		t.Run("rule1/"+name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var rw coord.RWMutex
				rw.Lock(rwBg)
				ctx, cancel := context.WithCancelCause(rwBg)
				ch := goResult(func() error { return wait(&rw, ctx) })
				synctest.Wait()
				cancel(errRWCause)
				if err := resultNow(t, name, ch); err != context.Canceled {
					t.Fatalf("%s = %#v; want context.Canceled itself (rule 1)", name, err)
				}
				rw.Unlock()
				rwIsFree(t, &rw)
			})
		})
		t.Run("rule2/"+name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(rwBg)
			cancel(errRWCause)
			var rw coord.RWMutex
			if err := wait(&rw, ctx); err != context.Canceled {
				t.Fatalf("%s on a free RWMutex with a done ctx = %v; want context.Canceled", name, err)
			}
			rwIsFree(t, &rw)
		})
	}
}

// "Rules 1–3 hold for both kinds of waiter", rule 3: "When a wakeup and a
// cancellation race, nothing is lost and nothing is doubled ... cancellation
// wins whenever the waiter sees it", for each kind of waiter and both
// orders. A is the waiter whose ctx ends; B waits behind it and must get
// what A was handed.
//
// With GOMAXPROCS=1 "grant, then cancel, before A runs" is certain: the
// grant makes A runnable, but the test's goroutine keeps the only P until
// it blocks, after the cancel. A then finds its ctx done as it wakes and
// must give back what it was granted.
func TestRWMutexContract_Rule3GrantRacingCancel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	type setup struct {
		// hold takes the lock that A and B will queue behind; a and b are
		// their calls; grant is the release that hands the lock to A.
		hold  func(rw *coord.RWMutex)
		a, b  func(rw *coord.RWMutex, ctx context.Context) error
		grant func(rw *coord.RWMutex)
		// after checks the state once B holds, and releases B's hold.
		after func(t *testing.T, rw *coord.RWMutex)
	}
	rlock := (*coord.RWMutex).RLock
	lock := (*coord.RWMutex).Lock
	cases := map[string]setup{
		// A reader granted as its ctx ends gives its read hold back, which
		// lets the waiting writer in.
		"reader granted, writer behind": {
			hold: func(rw *coord.RWMutex) { rw.Lock(rwBg) }, a: rlock, b: lock,
			grant: (*coord.RWMutex).Unlock,
			after: func(t *testing.T, rw *coord.RWMutex) {
				if rw.TryRLock() {
					t.Fatal("TryRLock succeeded while B writes: A's read hold was doubled")
				}
				rw.Unlock()
			},
		},
		// A writer granted as its ctx ends hands the lock on to the next
		// writer.
		"writer granted, writer behind": {
			hold: func(rw *coord.RWMutex) { rw.RLock(rwBg) }, a: lock, b: lock,
			grant: (*coord.RWMutex).RUnlock,
			after: func(t *testing.T, rw *coord.RWMutex) {
				if rw.TryRLock() || rw.TryLock() {
					t.Fatal("the lock was doubled")
				}
				rw.Unlock()
			},
		},
		// A writer granted as its ctx ends lets in the readers queued
		// behind it.
		"writer granted, reader behind": {
			hold: func(rw *coord.RWMutex) { rw.RLock(rwBg) }, a: lock, b: rlock,
			grant: (*coord.RWMutex).RUnlock,
			after: func(t *testing.T, rw *coord.RWMutex) {
				if rw.TryLock() {
					t.Fatal("TryLock succeeded while B reads")
				}
				rw.RUnlock()
			},
		},
	}
	for name, c := range cases {
		for _, grantFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/grantFirst=%v", name, grantFirst), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					var rw coord.RWMutex
					c.hold(&rw)
					ctx, cancel := context.WithCancel(rwBg)
					a := goResult(func() error { return c.a(&rw, ctx) })
					synctest.Wait()
					b := goResult(func() error { return c.b(&rw, rwBg) })
					synctest.Wait()
					if grantFirst {
						c.grant(&rw)
						cancel()
					} else {
						cancel()
						c.grant(&rw)
					}
					if err := resultNow(t, "A", a); err != context.Canceled {
						t.Fatalf("A = %v; want context.Canceled (cancellation wins when A sees it)", err)
					}
					if err := resultNow(t, "B", b); err != nil {
						t.Fatalf("B = %v; want nil: A's grant must be handed on", err)
					}
					c.after(t, &rw)
					rwIsFree(t, &rw)
				})
			})
		}
	}
}

// "TryRLock refuses while a writer holds or waits. Writers are served in
// arrival order among themselves. Any goroutine may unlock (as with
// sync.RWMutex)."
func TestRWMutexContract_TryRLockWritersFIFOAnyGoroutineUnlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rw coord.RWMutex
		rw.Lock(rwBg)
		if rw.TryRLock() {
			t.Fatal("TryRLock succeeded while a writer holds")
		}
		<-goResult(func() error { rw.Unlock(); return nil }) // another goroutine unlocks
		rw.RLock(rwBg)
		var order []int
		var ws []<-chan error
		for i := range 4 {
			ws = append(ws, goResult(func() error {
				if err := rw.Lock(rwBg); err != nil {
					return err
				}
				order = append(order, i)
				rw.Unlock()
				return nil
			}))
			synctest.Wait()
		}
		if rw.TryRLock() {
			t.Fatal("TryRLock succeeded while writers wait")
		}
		<-goResult(func() error { rw.RUnlock(); return nil })
		for _, w := range ws {
			if err := resultNow(t, "writer", w); err != nil {
				t.Fatal(err)
			}
		}
		if fmt.Sprint(order) != "[0 1 2 3]" {
			t.Fatalf("writers served in order %v; want arrival order", order)
		}
		rwIsFree(t, &rw)
	})
}
