package coord_test

// Helpers shared by every test of the package. Most tests run in
// testing/synctest bubbles: synctest.Wait returns once every goroutine of
// the bubble is durably blocked, so "still blocked" and "has returned" are
// facts to check rather than pauses to hope through, and a bubble whose
// goroutines are still blocked at its end fails the test (the leak check for
// tests inside a bubble; noGoroutineLeak is the one for tests outside).

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coordkit/coord"
)

// errCause is a cancellation cause. Rule 1 of the package doc says a wait
// returns ctx.Err() itself, so a call cancelled with this cause must return
// context.Canceled, not errCause and not a wrapper of either.
var errCause = errors.New("test cancellation cause")

// doneCtx returns a ctx that is already cancelled, with errCause as cause.
func doneCtx() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errCause)
	return ctx
}

// expiredCtx returns a ctx whose deadline has already passed: its Err is
// context.DeadlineExceeded.
func expiredCtx() context.Context {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	cancel() // the deadline has ended it already; Err stays DeadlineExceeded
	return ctx
}

// goResult runs f in a new goroutine and returns a channel that receives
// its result. The channel has room for it, so the goroutine never blocks
// on the send and never leaks when nobody reads.
func goResult[T any](f func() T) <-chan T {
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	return ch
}

// goParked is goResult in a bubble, returning once every goroutine of the
// bubble is durably blocked: f is then parked in its wait (or done), so a
// call started next queues behind it.
func goParked[T any](f func() T) <-chan T {
	ch := goResult(f)
	synctest.Wait()
	return ch
}

// stillBlocked checks, in a bubble, that the goroutine behind ch has not
// returned: once every goroutine of the bubble is durably blocked, ch is
// still empty.
func stillBlocked[T any](t *testing.T, what string, ch <-chan T) {
	t.Helper()
	synctest.Wait()
	select {
	case v := <-ch:
		t.Fatalf("%s returned %v; want it still blocked", what, v)
	default:
	}
}

// resultNow returns, in a bubble, the result of the goroutine behind ch,
// which must have returned by the time every goroutine of the bubble is
// durably blocked (no bubble time passes).
func resultNow[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	synctest.Wait()
	select {
	case v := <-ch:
		return v
	default:
		t.Fatalf("%s is still blocked", what)
		var zero T
		return zero
	}
}

// isReady reports whether a receive from ch would proceed now (ch holds a
// value or is closed), without waiting; it consumes the value if there is
// one. For channels that are closed to signal (Event.Done), and for checks
// outside a bubble.
func isReady[T any](ch <-chan T) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// isCtxErr checks that err is exactly want (rule 1 of the package doc:
// not wrapped, not the cause).
func isCtxErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if err != want {
		t.Fatalf("%s = %#v; want exactly %v (rule 1: ctx.Err() itself)", what, err, want)
	}
}

// timesOutAfter checks, in a bubble, that wait, given a ctx that times out
// after d, returns context.DeadlineExceeded itself exactly d later on the
// bubble's clock: not sooner, and not later.
func timesOutAfter(t *testing.T, what string, d time.Duration, wait func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	isCtxErr(t, what, wait(ctx), context.DeadlineExceeded)
	if got := time.Since(start); got != d {
		t.Fatalf("%s gave up after %v; want %v", what, got, d)
	}
}

// cancelWhileBlocked checks, in a bubble, rule 1 of the package doc for a
// wait that blocks: it starts wait in a goroutine with a ctx of its own,
// checks that wait is still blocked once the bubble is, cancels the ctx
// (with errCause as cause), and checks that wait then returns
// context.Canceled itself, without bubble time passing.
func cancelWhileBlocked(t *testing.T, what string, wait func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	ch := goResult(func() error { return wait(ctx) })
	stillBlocked(t, what, ch)
	cancel(errCause)
	isCtxErr(t, what, resultNow(t, what, ch), context.Canceled)
}

// waitSucceeded reports whether a wait given ctx succeeded (err is nil). An
// error must be ctx.Err() itself (rule 1 of the package doc); any other
// fails the test. It only calls t.Errorf, so stress goroutines may use it.
func waitSucceeded(t *testing.T, what string, ctx context.Context, err error) bool {
	t.Helper()
	if err != nil && err != ctx.Err() {
		t.Errorf("%s = %v, ctx.Err() = %v; want nil or ctx.Err() itself", what, err, ctx.Err())
	}
	return err == nil
}

// returnsWithin reports whether f returns within d of real time, for tests
// that run outside a bubble (stress tests under -race) and must fail rather
// than hang when a wakeup is lost. If it does not, f is left running.
func returnsWithin(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// mustPanic runs f and checks that it panics with a message that begins
// "coord:" and contains want (rule 6 of the package doc).
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want one containing %q", want)
		}
		msg, _ := r.(string)
		if err, ok := r.(error); ok {
			msg = err.Error()
		}
		if !strings.HasPrefix(msg, "coord:") || !strings.Contains(msg, want) {
			t.Fatalf("panic %q; want a coord: panic containing %q", msg, want)
		}
	}()
	f()
}

// noGoroutineLeak checks, when the test ends, that the number of goroutines
// is back to what it was when noGoroutineLeak was called: the leak check for
// stress tests that run outside a synctest bubble (inside one, the bubble
// itself fails on a goroutine left blocked).
func noGoroutineLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				t.Errorf("goroutines leaked: %d before the test, %d after", before, runtime.NumGoroutine())
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// mutexFree checks that m is free: Locked reports false and TryLock takes
// it (nobody holds it, and no waiter was left to be handed it). It leaves m
// free.
func mutexFree(t *testing.T, m *coord.Mutex, when string) {
	t.Helper()
	if m.Locked() {
		t.Fatalf("mutex locked %s", when)
	}
	if !m.TryLock() {
		t.Fatalf("TryLock failed %s", when)
	}
	m.Unlock()
}

// barrierIdle checks that nobody waits on b and that b is not broken.
func barrierIdle(t *testing.T, b *coord.Barrier, when string) {
	t.Helper()
	if b.Waiting() != 0 || b.Broken() {
		t.Fatalf("%s: Waiting = %d, Broken = %v; want 0, false", when, b.Waiting(), b.Broken())
	}
}

// wantAvailable checks that s has exactly want permits free.
func wantAvailable(t *testing.T, s *coord.Semaphore, want int) {
	t.Helper()
	if got := s.Available(); got != want {
		t.Fatalf("Available = %d, want %d", got, want)
	}
}

// lockedBy reports whether a goroutine whose ctx does not own r finds r
// held: its Lock does not succeed within a second of bubble time.
func lockedBy(t *testing.T, r *coord.ReentrantMutex) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	got := goResult(func() bool {
		c, err := r.Lock(ctx)
		if err == nil {
			r.Unlock(c)
		}
		return err != nil
	})
	return <-got
}
