package coord_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// asyncio test_taskgroup_01/02: tasks finish, Wait returns nil.
func TestTaskGroupAllSucceed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, _ := coord.NewTaskGroup(t.Context())
		var r1, r2 atomic.Int32
		g.Go(func(ctx context.Context) error { time.Sleep(100 * time.Millisecond); r1.Store(42); return nil })
		time.Sleep(150 * time.Millisecond)
		g.Go(func(ctx context.Context) error { time.Sleep(200 * time.Millisecond); r2.Store(11); return nil })
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if r1.Load() != 42 || r2.Load() != 11 {
			t.Fatal("Wait returned before the tasks finished")
		}
	})
}

// asyncio test_taskgroup_04 / test_cancel_children_on_child_error: the first
// failure cancels the others, whose echo of the cancellation is not a
// failure; Wait returns the failure. "Every task gets the group's ctx ... It
// is cancelled by the first failure, by the parent, or when Wait returns."
// (For the parent: TestTaskGroupParentCancelled; for Wait:
// TestTaskGroupGoAfterFailureRuns.)
func TestTaskGroupFailureCancelsOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errBoom := errors.New("boom")
		g, gctx := coord.NewTaskGroup(t.Context())
		var cancelled atomic.Int32
		for range 3 {
			g.Go(func(ctx context.Context) error {
				select {
				case <-time.After(5 * time.Second):
					return nil
				case <-ctx.Done():
					cancelled.Add(1)
					return ctx.Err()
				}
			})
		}
		g.Go(func(ctx context.Context) error {
			time.Sleep(100 * time.Millisecond)
			return errBoom
		})
		start := time.Now()
		err := g.Wait()
		if err != errBoom && !(errors.Is(err, errBoom) && strings.Count(err.Error(), "boom") == 1) || errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want boom alone (the echo is not a failure)", err)
		}
		if cancelled.Load() != 3 || time.Since(start) != 100*time.Millisecond {
			t.Fatalf("cancelled %d tasks after %v", cancelled.Load(), time.Since(start))
		}
		if context.Cause(gctx) != errBoom {
			t.Fatalf("Cause(group ctx) = %v, want the first failure", context.Cause(gctx))
		}
	})
}

// "Wait ... returns errors.Join of the failures in the order they happened."
// Failures are joined in the order they happened, whether the tasks ignore
// the cancellation or fail after it; a wrapped cancellation echo is still
// only an echo.
func TestTaskGroupJoinsFailuresInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, _ := coord.NewTaskGroup(t.Context())
		e1, e2, e3 := errors.New("e1"), errors.New("e2"), errors.New("e3")
		// All three fail; e3 ignores the cancel, e2 fails after it.
		g.Go(func(ctx context.Context) error { time.Sleep(3 * time.Second); return e3 })
		g.Go(func(ctx context.Context) error { time.Sleep(time.Second); return e1 })
		g.Go(func(ctx context.Context) error { <-ctx.Done(); time.Sleep(time.Second); return e2 })
		g.Go(func(ctx context.Context) error { <-ctx.Done(); return fmt.Errorf("fetch: %w", ctx.Err()) })
		err := g.Wait()
		want := errors.Join(e1, e2, e3).Error()
		if err == nil || err.Error() != want {
			t.Fatalf("Wait = %q, want %q", err, want)
		}
		for _, e := range []error{e1, e2, e3} {
			if !errors.Is(err, e) {
				t.Fatalf("Wait result does not wrap %v", e)
			}
		}

		// All three ignore the cancellation and fail in turn, started in
		// another order than they fail.
		g, _ = coord.NewTaskGroup(t.Context())
		for i, e := range []error{e3, e1, e2} {
			d := []time.Duration{3, 1, 2}[i] * time.Second
			g.Go(func(ctx context.Context) error {
				time.Sleep(d)
				return e
			})
		}
		if err := g.Wait(); err == nil || err.Error() != want {
			t.Fatalf("Wait = %q; want %q", err, want)
		}
	})
}

// "A task fails when ... returns a non-nil error that is not merely the group
// ctx's own error after that ctx was done." A task's error that matches
// context.Canceled but comes before the group is cancelled is a real failure.
func TestTaskGroupCanceledErrorBeforeCancelIsFailure(t *testing.T) {
	g, _ := coord.NewTaskGroup(context.Background())
	g.Go(func(ctx context.Context) error { return context.Canceled })
	if err := g.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled as a failure", err)
	}
}

// asyncio test_cancellation / test_taskgroup_07: the parent is cancelled; all
// tasks see it; Wait reports the parent's cancellation, not nil, even though
// every task returned nil.
func TestTaskGroupParentCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		g, _ := coord.NewTaskGroup(parent)
		var n atomic.Int32
		for range 5 {
			g.Go(func(ctx context.Context) error {
				<-ctx.Done()
				n.Add(1)
				return nil
			})
		}
		time.Sleep(100 * time.Millisecond)
		cancel()
		if err := g.Wait(); err != context.Canceled {
			t.Fatalf("Wait = %v, want context.Canceled", err)
		}
		if n.Load() != 5 {
			t.Fatalf("%d tasks saw the cancel", n.Load())
		}
	})
}

func TestTaskGroupParentDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		g, _ := coord.NewTaskGroup(parent)
		g.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		if err := g.Wait(); err != context.DeadlineExceeded {
			t.Fatalf("Wait = %v, want DeadlineExceeded", err)
		}
	})
}

// asyncio test_taskgroup_08: tasks that fail while being cancelled by the
// parent: the failures win over the parent's cancellation.
func TestTaskGroupFailureDuringParentCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		g, _ := coord.NewTaskGroup(parent)
		errZero := errors.New("division by zero")
		for range 5 {
			g.Go(func(ctx context.Context) error { <-ctx.Done(); return errZero })
		}
		cancel()
		err := g.Wait()
		if !errors.Is(err, errZero) || errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want the failures only", err)
		}
	})
}

// Parent done when Wait is called: its error comes back with or without
// tasks; a parent done only after the tasks finished and Wait was called
// does not count.
func TestTaskGroupParentDoneAtWait(t *testing.T) {
	// "Go while the group is already cancelled still runs the task, with the
	// cancelled ctx. A group whose parent is done when Wait is called and
	// that had no failure returns the parent's ctx.Err(), with or without
	// tasks." With a cancelled parent and with an expired one.
	for _, parent := range []context.Context{doneCtx(), expiredCtx()} {
		want := parent.Err()
		g, gctx := coord.NewTaskGroup(parent)
		if gctx.Err() == nil {
			t.Fatal("group ctx of a done parent is live")
		}
		if err := g.Wait(); err != want {
			t.Fatalf("Wait with no tasks = %v, want %v", err, want)
		}

		g2, _ := coord.NewTaskGroup(parent)
		ran := make(chan bool, 1)
		g2.Go(func(ctx context.Context) error { ran <- ctx.Err() != nil; return nil })
		if err := g2.Wait(); err != want {
			t.Fatalf("Wait = %v, want %v", err, want)
		}
		if !<-ran {
			t.Fatal("task on a cancelled group did not get the cancelled ctx")
		}
	}

	p3, cancel3 := context.WithCancel(context.Background())
	g3, _ := coord.NewTaskGroup(p3)
	g3.Go(func(ctx context.Context) error { return nil })
	if err := g3.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	cancel3()
	if err := g3.Wait(); err != nil {
		t.Fatalf("second Wait after a late parent cancel = %v", err)
	}
}

// Go on a cancelled group still runs the task (asyncio refuses; we let the
// task run with the cancelled ctx so that it can clean up), and the group
// ctx is cancelled once Wait returns.
func TestTaskGroupGoAfterFailureRuns(t *testing.T) {
	g, gctx := coord.NewTaskGroup(context.Background())
	boom := errors.New("boom")
	g.Go(func(ctx context.Context) error { return boom })
	<-gctx.Done()
	var ran atomic.Bool
	g.Go(func(ctx context.Context) error {
		ran.Store(ctx.Err() != nil)
		return nil
	})
	if err := g.Wait(); err != boom {
		t.Fatalf("Wait = %v", err)
	}
	if !ran.Load() {
		t.Fatal("task started after the failure did not run with the cancelled ctx")
	}

	g2, gctx2 := coord.NewTaskGroup(context.Background())
	g2.Go(func(ctx context.Context) error { return nil })
	if err := g2.Wait(); err != nil {
		t.Fatal(err)
	}
	if gctx2.Err() == nil {
		t.Fatal("group ctx live after Wait returned")
	}
}

// Tasks may start more tasks while Wait is waiting.
func TestTaskGroupNestedGo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, _ := coord.NewTaskGroup(t.Context())
		var n atomic.Int32
		var spawn func(depth int) func(context.Context) error
		spawn = func(depth int) func(context.Context) error {
			return func(ctx context.Context) error {
				time.Sleep(time.Millisecond)
				n.Add(1)
				if depth > 0 {
					g.Go(spawn(depth - 1))
					g.Go(spawn(depth - 1))
				}
				return nil
			}
		}
		g.Go(spawn(5))
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if n.Load() != 63 {
			t.Fatalf("%d tasks ran, want 63", n.Load())
		}
	})
}

type panicVal struct{ code int }

// "A panic in a task is recovered, cancels the group, and is re-raised by
// Wait once all tasks have finished, with the original value and the task's
// stack in the message": as a *PanicError keeping the value and the stack,
// for a value of any type (a struct, then a string).
func TestTaskGroupPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, gctx := coord.NewTaskGroup(t.Context())
		var otherDone atomic.Bool
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(time.Second) // Wait must wait for this one
			otherDone.Store(true)
			return nil
		})
		g.Go(func(ctx context.Context) error { panicInTask(); return nil })
		r := func() (r any) {
			defer func() { r = recover() }()
			g.Wait()
			return nil
		}()
		if !otherDone.Load() {
			t.Fatal("Wait re-panicked before every task finished")
		}
		pe, ok := r.(*coord.PanicError)
		if !ok {
			t.Fatalf("Wait panicked with %T %v, want *coord.PanicError", r, r)
		}
		if v, ok := pe.Value.(panicVal); !ok || v.code != 7 {
			t.Fatalf("PanicError.Value = %#v", pe.Value)
		}
		msg := pe.Error()
		if !strings.HasPrefix(msg, "coord:") || !strings.Contains(msg, "{7}") || !strings.Contains(msg, "panicInTask") {
			t.Fatalf("message lacks value or stack:\n%s", msg)
		}
		if _, ok := context.Cause(gctx).(*coord.PanicError); !ok {
			t.Fatalf("group cause = %v, want the panic", context.Cause(gctx))
		}
	})
	synctest.Test(t, func(t *testing.T) {
		g, _ := coord.NewTaskGroup(context.Background())
		finished := false
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(time.Second)
			finished = true
			return nil
		})
		g.Go(func(context.Context) error { panic("contract-panic-value") })
		defer func() {
			r := recover()
			if !finished {
				t.Fatal("Wait re-raised before every task finished")
			}
			msg := fmt.Sprint(r)
			if err, ok := r.(error); ok {
				msg = err.Error()
			}
			if !strings.Contains(msg, "contract-panic-value") || !strings.Contains(msg, "TestTaskGroupPanic") {
				t.Fatalf("panic message lacks the value or the task's stack:\n%s", msg)
			}
		}()
		g.Wait()
		t.Fatal("Wait did not panic")
	})
}

//go:noinline
func panicInTask() { panic(panicVal{7}) }

// A panic with an error value unwraps to it; a panic takes precedence over
// ordinary failures.
func TestTaskGroupPanicErrorUnwrap(t *testing.T) {
	errInner := errors.New("inner")
	g, _ := coord.NewTaskGroup(context.Background())
	g.Go(func(ctx context.Context) error { return errors.New("plain failure") })
	g.Go(func(ctx context.Context) error { panic(fmt.Errorf("wrapped: %w", errInner)) })
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, errInner) {
			t.Fatalf("Wait panicked with %v, want an error wrapping inner", r)
		}
	}()
	g.Wait()
	t.Fatal("Wait did not panic")
}

// A task that calls runtime.Goexit neither hangs Wait nor goes unreported.
func TestTaskGroupGoexit(t *testing.T) {
	g, _ := coord.NewTaskGroup(context.Background())
	g.Go(func(ctx context.Context) error { runtime.Goexit(); return nil })
	g.Go(func(ctx context.Context) error { <-ctx.Done(); return nil })
	if err := g.Wait(); err == nil {
		t.Fatal("Wait = nil after a task called runtime.Goexit")
	}
}

// Wait waits for tasks started by other tasks after a failure, too, and
// a stress of many tasks: counts conserved, every failure reported.
func TestTaskGroupStress(t *testing.T) {
	for range 20 {
		g, _ := coord.NewTaskGroup(context.Background())
		var finished atomic.Int32
		const n = 200
		for i := range n {
			g.Go(func(ctx context.Context) error {
				defer finished.Add(1)
				if i%50 == 49 {
					return fmt.Errorf("task %d", i)
				}
				runtime.Gosched()
				return nil
			})
		}
		err := g.Wait()
		if finished.Load() != n {
			t.Fatalf("Wait returned with %d of %d tasks finished", finished.Load(), n)
		}
		if err == nil {
			t.Fatal("no failure reported")
		}
		var fails int
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			fails = len(j.Unwrap())
		} else {
			fails = 1
		}
		if fails != 4 {
			t.Fatalf("%d failures reported, want 4: %v", fails, err)
		}
	}
}

type tgKey struct{}

// The task ctx hides only ReentrantMutex holds: other values, the deadline
// and the cancellation cause of the group's ctx pass through.
func TestTaskGroupTaskCtxPassesValues(t *testing.T) {
	parent, cancel := context.WithTimeout(context.WithValue(context.Background(), tgKey{}, "v"), time.Hour)
	defer cancel()
	g, gctx := coord.NewTaskGroup(parent)
	boom := errors.New("boom")
	g.Go(func(ctx context.Context) error {
		if ctx.Value(tgKey{}) != "v" {
			t.Error("task ctx lost a value of the parent")
		}
		if d1, _ := ctx.Deadline(); d1 != func() time.Time { d, _ := gctx.Deadline(); return d }() {
			t.Error("task ctx has another deadline")
		}
		return boom
	})
	g.Go(func(ctx context.Context) error {
		<-ctx.Done()
		if context.Cause(ctx) != boom {
			t.Errorf("Cause(task ctx) = %v, want the failure", context.Cause(ctx))
		}
		return nil
	})
	if err := g.Wait(); err != boom {
		t.Fatal(err)
	}
}
