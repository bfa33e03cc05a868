package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/coordkit/coord"
)

// RateLimitResult is the outcome of the ratelimit scenario.
type RateLimitResult struct {
	Limit  int           // admissions allowed per Window (the seed's max_logs_per_second=3)
	Window time.Duration // one second
	Coord  RateLimitRun  // the logger on coord.RateLimiter
	Seed   *RateLimitRun // the seed's RateLimitedLogger, when asked for with --seed
}

// RateLimitRun is what one logger did with the seed's two workers.
type RateLimitRun struct {
	// Stamps are the times printed in the "[t] worker: message i" lines, and
	// Written the times those lines were actually written, both measured
	// from the start of the run, in the order the lines were written.
	Stamps  []time.Duration
	Written []time.Duration
	// MaxPerWindow is the most lines written in any one Window (allowing a
	// few milliseconds for scheduling between an admission and its line).
	MaxPerWindow int
	// MaxStale is the largest gap between a line's stamp and its writing.
	MaxStale time.Duration
	// MaxLockWait is the longest a worker waited for the logger's lock (the
	// seed's logger; coord's takes no lock while waiting).
	MaxLockWait time.Duration
	// Waits counts messages that had to wait for the limit, longer than
	// scheduling noise (see waitedForLimit).
	Waits   int
	Elapsed time.Duration
}

const (
	rlLimit    = 3                      // the seed's RateLimitedLogger(max_logs_per_second=3)
	rlWindow   = time.Second            // real time: the limit is the point of this demo
	rlWorkers  = 2                      // worker1 and worker2
	rlMessages = 5                      // messages per worker
	rlPause    = 100 * time.Millisecond // the seed's asyncio.sleep(0.1) between a worker's messages
	rlSlack    = 20 * time.Millisecond  // scheduling allowance when checking the limit
	rlNoticed  = 50 * time.Millisecond  // delays shorter than this are not worth a note
)

// minRateLimitRun is the least time the seed's ten messages can take under
// the limit: the first three go at once, and every further three a window later.
const minRateLimitRun = time.Duration((rlWorkers*rlMessages-1)/rlLimit) * rlWindow

// demoRateLimit runs the seed's logger test (2 workers × 5 messages, at most 3
// per second) on coord.RateLimiter, and with seed also the seed's own
// RateLimitedLogger first, so its two mistakes can be seen.
func demoRateLimit(ctx context.Context, w io.Writer, seed bool) (RateLimitResult, error) {
	p := newPrinter(w)
	res := RateLimitResult{Limit: rlLimit, Window: rlWindow}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	if seed {
		p.note("The seed's RateLimitedLogger: a coord.Mutex held across the sleep, and the time read before it. Times are seconds since the run began.")
		run, err := runSeedLogger(ctx, p)
		if err != nil {
			return res, fmt.Errorf("seed's logger: %w", err)
		}
		res.Seed = &run
		p.note("Mistake 1, the lock held across the sleep: a worker was blocked up to %s behind the other's sleep; while one sleeps, nobody else can even look at the window.", secs(run.MaxLockWait))
		p.note("Mistake 2, the time read before the sleep: stamps were stale by up to %s, and the stale times kept in the window let it slide early.", secs(run.MaxStale))
		if run.MaxPerWindow > rlLimit {
			p.note("So the limit itself broke: %d lines were written within one second (limit %d).", run.MaxPerWindow, rlLimit)
		} else {
			p.note("Lines written in any one second: at most %d (limit %d) this time; the stale window can let a 4th through.", run.MaxPerWindow, rlLimit)
		}
		p.note("Took %s; %d messages at %d a second need at least %s.", secs(run.Elapsed), rlWorkers*rlMessages, rlLimit, secs(minRateLimitRun))
		p.line("")
	}

	p.note("coord.RateLimiter(%d, %v): a sliding-window log; Wait queues FIFO and holds no lock while it sleeps, and the stamp is read after admission.", rlLimit, rlWindow)
	p.note("\"Rate limit: waiting\" is printed once the wait is over, with the time actually waited (under %s, a slot freeing as the worker asked, is no wait). Times are seconds since the run began.", secs(rlSlack))
	run, err := runCoordLogger(ctx, p)
	if err != nil {
		return res, err
	}
	res.Coord = run
	if run.MaxPerWindow > rlLimit {
		return res, fmt.Errorf("%w: coord.RateLimiter let %d lines through in one second (limit %d)", errDemo, run.MaxPerWindow, rlLimit)
	}
	p.note("At most %d lines in any one second (limit %d); %d of %d messages waited for a slot, each admitted as soon as the window allowed. Took %s.",
		run.MaxPerWindow, rlLimit, run.Waits, rlWorkers*rlMessages, secs(run.Elapsed))
	if run.Elapsed < minRateLimitRun-rlSlack {
		return res, fmt.Errorf("%w: %d messages at %d per %v took only %v", errDemo, rlWorkers*rlMessages, rlLimit, rlWindow, run.Elapsed)
	}
	return res, nil
}

// runCoordLogger is the seed's logger_test on coord.RateLimiter.
func runCoordLogger(ctx context.Context, p *printer) (RateLimitRun, error) {
	l := newCoordLogger(p, coord.NewRateLimiter(rlLimit, rlWindow))
	err := runWorkers(ctx, l.log)
	l.run.Elapsed = time.Since(l.start)
	l.run.MaxPerWindow = maxInWindow(l.run.Written, rlWindow, rlSlack)
	return l.run, err
}

// coordLogger is the seed's RateLimitedLogger done with coord.RateLimiter.
type coordLogger struct {
	rl    *coord.RateLimiter
	p     *printer
	start time.Time
	run   RateLimitRun // guarded by p's lock
}

func newCoordLogger(p *printer, rl *coord.RateLimiter) *coordLogger {
	return &coordLogger{rl: rl, p: p, start: time.Now()}
}

// log logs one message once the limiter admits it.
func (l *coordLogger) log(ctx context.Context, worker string, i int) error {
	var waited time.Duration
	// Allow first, only so that the demo knows whether to print the seed's
	// "Rate limit" line; Allow refuses while anyone is queued, so this
	// keeps the limiter's FIFO order.
	if !l.rl.Allow() {
		t0 := time.Now()
		if err := l.rl.Wait(ctx); err != nil {
			return err
		}
		waited = time.Since(t0)
	}
	l.p.locked(func(w io.Writer) {
		// The stamp is read after admission (and in output order).
		now := time.Since(l.start)
		if waitedForLimit(waited) {
			l.run.Waits++
			fmt.Fprintf(w, "Rate limit: waiting %.2fs\n", waited.Seconds())
		}
		fmt.Fprintf(w, "[%.2f] %s: message %d\n", now.Seconds(), worker, i)
		l.run.Stamps = append(l.run.Stamps, now)
		l.run.Written = append(l.run.Written, now)
	})
	return nil
}

// waitedForLimit reports whether a message that waited d was held back by
// the limit. The workers' pauses line up with the window (ten pauses of
// 0.1s make one second), so a worker often asks a moment before its slot
// frees, and Wait returns within a millisecond or two: that is no wait for
// the limit, and printed it read "Rate limit: waiting 0.00s" and was
// counted among the messages that waited.
func waitedForLimit(d time.Duration) bool { return d >= rlSlack }

// seedLogger is the seed's RateLimitedLogger, transcribed faithfully with a
// coord.Mutex for its asyncio.Lock, mistakes included.
type seedLogger struct {
	lock     coord.Mutex
	maxLogs  int
	logTimes []time.Duration // guarded by lock
}

// runSeedLogger is the seed's logger_test on its own RateLimitedLogger.
func runSeedLogger(ctx context.Context, p *printer) (RateLimitRun, error) {
	var run RateLimitRun
	var mu sync.Mutex // guards run.MaxLockWait
	l := &seedLogger{maxLogs: rlLimit}
	start := time.Now()
	log := func(ctx context.Context, worker string, i int) error {
		t0 := time.Now()
		if err := l.lock.Lock(ctx); err != nil {
			return err
		}
		defer l.lock.Unlock()
		lockWait := time.Since(t0)
		mu.Lock()
		run.MaxLockWait = max(run.MaxLockWait, lockWait)
		mu.Unlock()
		if lockWait >= rlNoticed {
			p.note("%s was blocked %s waiting for the lock while the other worker slept holding it.", worker, secs(lockWait))
		}

		now := time.Since(start) // the seed reads the time here, before any sleep
		kept := l.logTimes[:0]
		for _, t := range l.logTimes {
			if now-t < rlWindow {
				kept = append(kept, t)
			}
		}
		l.logTimes = kept
		if len(l.logTimes) >= l.maxLogs {
			wait := rlWindow - (now - l.logTimes[0])
			p.line("Rate limit: waiting %.2fs", wait.Seconds())
			if err := sleepCtx(ctx, wait); err != nil { // still holding the lock
				return err
			}
			mu.Lock()
			run.Waits++
			mu.Unlock()
		}
		l.logTimes = append(l.logTimes, now)
		p.locked(func(w io.Writer) {
			written := time.Since(start)
			fmt.Fprintf(w, "[%.2f] %s: message %d\n", now.Seconds(), worker, i)
			if stale := written - now; stale >= rlNoticed {
				fmt.Fprintf(w, "  # this line was written at %.2f: its stamp is stale by %s (read before the sleep, and kept in the window).\n",
					written.Seconds(), secs(stale))
			}
			run.Stamps = append(run.Stamps, now)
			run.Written = append(run.Written, written)
			run.MaxStale = max(run.MaxStale, written-now)
		})
		return nil
	}
	err := runWorkers(ctx, log)
	run.Elapsed = time.Since(start)
	run.MaxPerWindow = maxInWindow(run.Written, rlWindow, rlSlack)
	return run, err
}

// runWorkers is the seed's logger_test: two workers, each logging five
// messages with a pause after each. Each worker starts once the one before it
// has logged its first message, as asyncio runs the seed's tasks in the order
// they were created, so that worker1 always logs first.
func runWorkers(ctx context.Context, log func(ctx context.Context, worker string, i int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, rlWorkers)
	next := make(chan struct{})
	close(next)
	for n := range rlWorkers {
		wg.Add(1)
		mine, after := next, make(chan struct{})
		next = after
		go func() {
			defer wg.Done()
			worker := fmt.Sprintf("worker%d", n+1)
			<-mine
			for i := range rlMessages {
				err := log(ctx, worker, i)
				if i == 0 {
					close(after)
				}
				if err != nil {
					errs[n] = fmt.Errorf("%s: %w", worker, err)
					return
				}
				if err := sleepCtx(ctx, rlPause); err != nil {
					errs[n] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
