package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/coordkit/coord"
)

// TimeoutResult is the outcome of the timeout scenario.
type TimeoutResult struct {
	Timeout time.Duration // the deadline given to the wait
	Err     error         // what Lock returned: context.DeadlineExceeded itself
	Elapsed time.Duration // how long Lock waited before giving up
	// HolderKept reports whether the holder still held the Mutex after the
	// waiter gave up, and Free whether the Mutex was free once the holder
	// unlocked: together, the waiter that gave up took nothing.
	HolderKept bool
	Free       bool
	// EventErr is what Event.Wait returned under the same deadline on an
	// event nobody sets.
	EventErr error
}

// timeoutAfter is the deadline: asyncio.wait_for(lock.acquire(), timeout=N).
const timeoutAfter = 250 * time.Millisecond

// demoTimeout answers the seed's FAQ "How do I timeout waiting for a lock?".
// asyncio wraps the wait in wait_for; in Go the deadline rides on the context
// that every coord wait takes, and a wait that gives up returns ctx.Err()
// itself, having taken nothing.
func demoTimeout(ctx context.Context, w io.Writer) (TimeoutResult, error) {
	p := newPrinter(w)
	res := TimeoutResult{Timeout: timeoutAfter}
	var mu coord.Mutex
	if err := mu.Lock(ctx); err != nil {
		return res, err
	}
	p.line("holder: acquired lock (and keeps it)")
	p.note("asyncio: await asyncio.wait_for(lock.acquire(), timeout=%g)", timeoutAfter.Seconds())
	p.note("coord:   ctx, cancel := context.WithTimeout(ctx, %v); err := mu.Lock(ctx)", timeoutAfter)

	// The clock is read before the deadline is set, so that the time given
	// up after is never less than the timeout.
	start := time.Now()
	tctx, cancel := context.WithTimeout(ctx, timeoutAfter)
	res.Err = mu.Lock(tctx)
	res.Elapsed = time.Since(start)
	cancel()
	if res.Err == nil {
		mu.Unlock()
		mu.Unlock()
		return res, fmt.Errorf("%w: Lock of a held Mutex succeeded", errDemo)
	}
	if ctx.Err() != nil {
		mu.Unlock()
		return res, ctx.Err()
	}
	p.line("waiter: gave up after %s: %v", secs(res.Elapsed), res.Err)
	p.note("Lock returned ctx.Err() itself: err == context.DeadlineExceeded is %v (asyncio raises TimeoutError).", res.Err == context.DeadlineExceeded)
	res.HolderKept = mu.Locked()
	mu.Unlock()
	p.line("holder: released lock")
	res.Free = !mu.Locked()
	if !res.HolderKept || !res.Free || !errors.Is(res.Err, context.DeadlineExceeded) {
		return res, fmt.Errorf("%w: err %v, holder kept the lock %v, free after unlock %v", errDemo, res.Err, res.HolderKept, res.Free)
	}
	p.note("The waiter that gave up took nothing: the holder kept the Mutex, and once it unlocked the Mutex was free (Locked() = false).")

	var e coord.Event
	tctx, cancel = context.WithTimeout(ctx, timeoutAfter)
	res.EventErr = e.Wait(tctx)
	cancel()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	p.line("waiter: waiting for an event nobody sets: %v", res.EventErr)
	if res.EventErr != context.DeadlineExceeded {
		return res, fmt.Errorf("%w: Event.Wait under a deadline returned %v", errDemo, res.EventErr)
	}
	p.note("The same deadline bounds every coord wait: Event.Wait, Cond.Wait, Semaphore.Acquire, Barrier.Wait, Queue.Get, RateLimiter.Wait.")
	return res, nil
}
