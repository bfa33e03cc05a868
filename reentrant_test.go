package coord_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// "a Lock with that ctx (or one derived from it) re-enters at once and
// deepens the hold; each Lock is matched by one Unlock with an owning ctx,
// and the last one frees r."
func TestReentrantMutexReentry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r coord.ReentrantMutex
		bg := context.Background()
		if r.Held(bg) {
			t.Fatal("Background holds a zero ReentrantMutex")
		}
		ctx, err := r.Lock(bg)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Held(ctx) || r.Held(bg) {
			t.Fatalf("Held(owner) = %v, Held(Background) = %v; want true, false", r.Held(ctx), r.Held(bg))
		}
		// Three levels deep, the second through a ctx derived from the
		// owning one.
		ctx2, err := r.Lock(context.WithValue(ctx, struct{}{}, 1))
		if err != nil {
			t.Fatal(err)
		}
		ctx3, err := r.Lock(ctx2)
		if err != nil {
			t.Fatal(err)
		}
		other := goResult(func() error {
			c, err := r.Lock(bg)
			if err == nil {
				r.Unlock(c)
			}
			return err
		})
		// Any owning ctx matches a Lock: ctx3, then ctx (not ctx2), then
		// ctx2.
		for i, c := range []context.Context{ctx3, ctx} {
			r.Unlock(c)
			if !r.Held(ctx) || !r.Held(ctx2) {
				t.Fatalf("after %d of 3 Unlocks the hold ended", i+1)
			}
			stillBlocked(t, fmt.Sprintf("another ctx's Lock after %d of 3 Unlocks", i+1), other)
			if !lockedBy(t, &r) {
				t.Fatalf("after %d of 3 Unlocks another context took the mutex", i+1)
			}
		}
		r.Unlock(ctx2)
		if err := resultNow(t, "another ctx's Lock after the last Unlock", other); err != nil {
			t.Fatal(err)
		}
		if r.Held(ctx) {
			t.Fatal("Held after the last Unlock")
		}
		if lockedBy(t, &r) {
			t.Fatal("the mutex is still locked after the last Unlock")
		}
	})
}

// A context derived from the owning one, by any means, owns the mutex too.
func TestReentrantMutexDerivedContextReenters(t *testing.T) {
	var r coord.ReentrantMutex
	ctx, err := r.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type key struct{}
	cctx, cancel := context.WithCancel(context.WithValue(ctx, key{}, 1))
	defer cancel()
	tctx, tcancel := context.WithTimeout(cctx, time.Hour)
	defer tcancel()
	for _, c := range []context.Context{cctx, tctx, context.WithoutCancel(ctx)} {
		if !r.Held(c) {
			t.Fatal("a derived context does not own the mutex")
		}
		got, err := r.Lock(c)
		if err != nil {
			t.Fatalf("re-entry with a derived ctx: %v", err)
		}
		r.Unlock(got)
	}
	// Unlock may use any owning ctx, not only the one Lock returned.
	if _, err := r.Lock(tctx); err != nil {
		t.Fatal(err)
	}
	r.Unlock(ctx)
	r.Unlock(cctx)
	if r.Held(ctx) {
		t.Fatal("still held after matching Unlocks")
	}
}

// A context that does not own the mutex waits, FIFO, and can give up; its
// Unlock panics.
func TestReentrantMutexNonOwnerWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r coord.ReentrantMutex
		owner, err := r.Lock(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var order []int
		var wg sync.WaitGroup
		cctx, cancel := context.WithCancel(context.Background())
		var cancelled <-chan error
		for i := range 4 {
			if i == 1 {
				cancelled = goResult(func() error {
					got, err := r.Lock(cctx)
					if got != cctx || r.Held(got) {
						t.Error("a cancelled Lock returned an owning ctx")
					}
					return err
				})
				synctest.Wait()
			}
			wg.Go(func() {
				// A plain go statement with a ctx not derived from the
				// owning one: it waits, like any other goroutine.
				ctx, err := r.Lock(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				// Re-entry inside the waiter's own hold.
				inner, err := r.Lock(ctx)
				if err != nil {
					t.Error(err)
				}
				r.Unlock(inner)
				r.Unlock(ctx)
			})
			synctest.Wait()
		}
		if len(order) != 0 {
			t.Fatalf("non-owners got the mutex while it was held: %v", order)
		}
		mustPanic(t, "does not own", func() { r.Unlock(context.Background()) })
		mustPanic(t, "ReentrantMutex.Unlock", func() { r.Unlock(cctx) })
		cancel()
		isCtxErr(t, "cancelled waiter", <-cancelled, context.Canceled)
		r.Unlock(owner)
		wg.Wait()
		if !slices.Equal(order, []int{0, 1, 2, 3}) {
			t.Fatalf("waiters served in order %v, want [0 1 2 3]", order)
		}
		// The old owning ctx no longer owns anything.
		if r.Held(owner) {
			t.Fatal("a ctx from an ended hold reports Held")
		}
		mustPanic(t, "does not own", func() { r.Unlock(owner) })
	})
}

// A context that owned an earlier hold waits like a stranger while another
// context holds the mutex.
func TestReentrantMutexStaleContextWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r coord.ReentrantMutex
		old, _ := r.Lock(context.Background())
		r.Unlock(old)
		cur, _ := r.Lock(context.Background())
		got := goResult(func() error {
			ctx, err := r.Lock(old)
			if err == nil {
				if !r.Held(ctx) {
					t.Error("Lock returned a ctx that does not own")
				}
				r.Unlock(ctx)
			}
			return err
		})
		stillBlocked(t, "a stale owning ctx's Lock (re-entered another hold)", got)
		r.Unlock(cur)
		if err := <-got; err != nil {
			t.Fatal(err)
		}
	})
}

// Several goroutines sharing one owning ctx re-enter and unlock
// concurrently; the race detector checks the depth bookkeeping, and the
// owner's last Unlock frees the mutex.
func TestReentrantMutexSharedOwnerContext(t *testing.T) {
	noGoroutineLeak(t)
	var r coord.ReentrantMutex
	ctx, err := r.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				c, err := r.Lock(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if !r.Held(c) {
					t.Error("not held inside a re-entry")
				}
				r.Unlock(c)
			}
		})
	}
	wg.Wait()
	r.Unlock(ctx)
	if c, err := r.Lock(context.Background()); err != nil || !r.Held(c) {
		t.Fatalf("mutex not free after the owner's last Unlock: %v", err)
	}
}

// Stress: goroutines race for the mutex with nested re-entries and racing
// cancellation. Mutual exclusion holds, every call returns nil or its own
// ctx error, and the mutex is free at the end.
func TestReentrantMutexStress(t *testing.T) {
	noGoroutineLeak(t)
	var r coord.ReentrantMutex
	var inside, ok, gaveUp atomic.Int64
	var wg sync.WaitGroup
	const n = 2000
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			switch i % 4 {
			case 0:
				// Cancelled before Lock, so that some calls give up whatever
				// the scheduling: the check below wants both outcomes, and
				// a racing cancel alone may always lose (it did without
				// -race, where Lock mostly wins on the fast path).
				cancel()
			case 2:
				go cancel()
			}
			owned, err := r.Lock(ctx)
			if !waitSucceeded(t, "Lock", ctx, err) {
				gaveUp.Add(1)
				return
			}
			ok.Add(1)
			if inside.Add(1) != 1 {
				t.Error("two contexts hold the mutex at once")
			}
			// Re-enter with a ctx that may be cancelled by now: rule 2
			// may fail it, which must change nothing.
			if inner, err := r.Lock(owned); err == nil {
				r.Unlock(inner)
			} else if err != context.Canceled {
				t.Errorf("re-entry: %v", err)
			}
			inside.Add(-1)
			r.Unlock(owned)
		})
	}
	wg.Wait()
	if ok.Load()+gaveUp.Load() != n || ok.Load() == 0 || gaveUp.Load() == 0 {
		t.Fatalf("%d ok, %d gave up, of %d", ok.Load(), gaveUp.Load(), n)
	}
	ctx, err := r.Lock(context.Background())
	if err != nil || !r.Held(ctx) {
		t.Fatal("mutex not free after the stress")
	}
}

// "Goroutines started through TaskGroup.Go do not inherit ownership." A
// task started through TaskGroup.Go does not inherit the holds of the
// goroutine that started it, as an asyncio task created inside
// `async with lock` does not own the lock: it waits for the mutex like any
// other goroutine (a Lock with a deadline times out while the starter
// holds), while the caller itself, and the group ctx it got back, still own
// it.
func TestReentrantMutexTaskGroupTasksDoNotInherit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r coord.ReentrantMutex
		owned, err := r.Lock(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		g, gctx := coord.NewTaskGroup(owned)
		if !r.Held(gctx) {
			t.Fatal("the group ctx returned to the holder lost its hold")
		}
		var heldInTask bool
		timedOut := make(chan error, 1)
		acquired := make(chan struct{})
		g.Go(func(ctx context.Context) error {
			heldInTask = r.Held(ctx)
			ctx2, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			_, err := r.Lock(ctx2)
			timedOut <- err
			tctx, err := r.Lock(ctx) // must wait for the caller's Unlock
			if err != nil {
				return err
			}
			close(acquired)
			r.Unlock(tctx)
			return nil
		})
		time.Sleep(2 * time.Second)
		isCtxErr(t, "task Lock with a deadline while the starter holds", resultNow(t, "task Lock", timedOut), context.DeadlineExceeded)
		stillBlocked(t, "task Lock (re-entered its starter's hold)", acquired)
		r.Unlock(owned)
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if heldInTask {
			t.Fatal("Held(task ctx) = true")
		}
		<-acquired
	})
}
