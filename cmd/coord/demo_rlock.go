package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/coordkit/coord"
)

// RLockResult is the outcome of the rlock scenario.
type RLockResult struct {
	// ReentrantDone reports whether the outer and inner functions both ran to
	// completion on a coord.ReentrantMutex.
	ReentrantDone bool
	// ReentrantFree reports whether the ReentrantMutex was free afterwards:
	// the inner Unlock did not release the outer hold early, and the outer
	// Unlock released it.
	ReentrantFree bool
	// Deadlock is the error the inner Lock on a plain coord.Mutex returned:
	// the deadline that caught the deadlock (context.DeadlineExceeded).
	Deadlock error
	// DeadlockAfter is how long the inner Lock waited before giving up.
	DeadlockAfter time.Duration
	// MutexFree reports whether the plain Mutex was free afterwards: the inner
	// Lock that gave up took nothing, and the outer function still unlocked.
	MutexFree bool
}

// rlockDeadline bounds the plain Mutex run, standing in for the
// asyncio.wait_for a careful caller would wrap around it.
const rlockDeadline = 300 * time.Millisecond

// demoRLock is the seed's outer/inner example. The seed's RLock is
// coord.ReentrantMutex; its ownership travels in the context that Lock
// returns, which the outer function passes down to the inner one.
func demoRLock(ctx context.Context, w io.Writer) (RLockResult, error) {
	p := newPrinter(w)
	var res RLockResult

	p.note("With coord.ReentrantMutex (the seed's RLock): Lock returns a ctx that owns the lock, and outer passes it to inner.")
	var r coord.ReentrantMutex
	inner := func(ctx context.Context) error {
		ictx, err := r.Lock(ctx) // ctx owns r: re-enters at once
		if err != nil {
			return err
		}
		defer r.Unlock(ictx)
		p.line("Inner: acquired lock")
		return nil
	}
	outer := func(ctx context.Context) error {
		octx, err := r.Lock(ctx)
		if err != nil {
			return err
		}
		defer r.Unlock(octx)
		p.line("Outer: acquired lock")
		if err := inner(octx); err != nil {
			return err
		}
		if !r.Held(octx) {
			return fmt.Errorf("%w: inner's Unlock released outer's hold", errDemo)
		}
		p.line("Outer: still have lock")
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := outer(rctx)
	cancel()
	if err != nil {
		return res, fmt.Errorf("ReentrantMutex: %w", err)
	}
	res.ReentrantDone = true
	res.ReentrantFree = !r.Held(ctx)
	// A fresh ctx owns nothing; it must get the lock at once if it is free.
	if c, err := r.Lock(ctx); err == nil {
		r.Unlock(c)
	} else {
		res.ReentrantFree = false
	}
	if !res.ReentrantFree {
		return res, fmt.Errorf("%w: the ReentrantMutex is still held after outer returned", errDemo)
	}
	p.note("Each Lock is matched by one Unlock; the last one freed the lock.")

	p.line("")
	p.note("With a plain coord.Mutex (the seed's Lock), the same code under a %v deadline, as asyncio.wait_for would bound it:", rlockDeadline)
	var mu coord.Mutex
	var innerStart time.Time
	innerM := func(ctx context.Context) error {
		innerStart = time.Now()
		if err := mu.Lock(ctx); err != nil { // waits for the Mutex its own caller holds
			return err
		}
		defer mu.Unlock()
		p.line("Inner: acquired lock")
		return nil
	}
	outerM := func(ctx context.Context) error {
		if err := mu.Lock(ctx); err != nil {
			return err
		}
		defer mu.Unlock()
		p.line("Outer: acquired lock")
		if err := innerM(ctx); err != nil {
			return fmt.Errorf("inner: %w", err)
		}
		p.line("Outer: still have lock")
		return nil
	}
	mctx, cancel := context.WithTimeout(ctx, rlockDeadline)
	err = outerM(mctx)
	cancel()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		return res, fmt.Errorf("%w: the plain Mutex did not deadlock (err = %v)", errDemo, err)
	}
	res.Deadlock = errors.Unwrap(err)
	res.DeadlockAfter = time.Since(innerStart)
	res.MutexFree = !mu.Locked()
	p.note("DEADLOCK caught: Inner's Lock waited %s for the Mutex its own caller holds, and the deadline ended it: %v.", secs(res.DeadlockAfter), err)
	p.note("A plain Mutex has no owner, so it cannot tell re-entry from contention; in asyncio this hangs for ever. Use coord.ReentrantMutex and pass its ctx down.")
	if !res.MutexFree {
		return res, fmt.Errorf("%w: the Mutex is still held after outer returned", errDemo)
	}
	p.note("Inner's Lock gave up and took nothing; outer's deferred Unlock left the Mutex free.")
	return res, nil
}
