package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coordkit/coord"
)

// RaceResult is the outcome of the race scenario.
type RaceResult struct {
	Goroutines int // increments started, one goroutine each (the seed's 10×10)
	Unsafe     int // the counter after the increments without a lock
	Safe       int // the counter after the increments under a coord.Mutex
}

// raceTasks and racePerTask are the seed's loop: 10 × 10 increments.
const (
	raceTasks   = 10
	racePerTask = 10
	racePause   = time.Millisecond // the seed's asyncio.sleep(0.001) between read and write
)

// demoRace is the seed's first example. Every increment reads the counter,
// pauses, and writes back the value it read plus one. The reads and writes
// are sync/atomic loads and stores, so the race detector stays quiet: the
// bug shown is not a data race in Go's sense but a lost update, the
// read-modify-write interleaving that no memory model fixes and only mutual
// exclusion does.
func demoRace(ctx context.Context, w io.Writer) (RaceResult, error) {
	p := newPrinter(w)
	res := RaceResult{Goroutines: raceTasks * racePerTask}
	p.note("%d goroutines (the seed's 10×10 loop) each read the counter, pause %v, and write back what they read plus one.", res.Goroutines, racePause)
	p.note("They all start together behind a gate, as the seed's tasks all start before any of them runs.")

	p.line("Without lock:")
	unsafe, err := incrementAll(ctx, nil)
	if err != nil {
		return res, err
	}
	res.Unsafe = unsafe
	if unsafe < res.Goroutines {
		p.line("Counter: %d (lost updates due to race condition)", unsafe)
		lost := res.Goroutines - unsafe
		p.note("%d of %d updates were lost: goroutines read the same value during the pause, and each write overwrote the others'.", lost, res.Goroutines)
	} else {
		p.line("Counter: %d (no update lost this time; the race is still there)", unsafe)
	}

	p.line("")
	p.line("With lock:")
	var mu coord.Mutex
	safe, err := incrementAll(ctx, &mu)
	if err != nil {
		return res, err
	}
	res.Safe = safe
	if safe != res.Goroutines {
		p.line("Counter: %d (expected %d)", safe, res.Goroutines)
		return res, fmt.Errorf("%w: the counter under coord.Mutex is %d, not %d", errDemo, safe, res.Goroutines)
	}
	p.line("Counter: %d (correct)", safe)
	p.note("coord.Mutex makes read, pause and write one step: each goroutine's Lock waits (FIFO, cancellable through its ctx) until the one before it has written.")
	return res, nil
}

// incrementAll runs the seed's 10×10 increments, each in its own goroutine,
// under mu when mu is not nil, and returns the final count.
func incrementAll(ctx context.Context, mu *coord.Mutex) (int, error) {
	var counter atomic.Int64
	gate := make(chan struct{})
	errs := make(chan error, raceTasks*racePerTask)
	var wg sync.WaitGroup
	for range raceTasks {
		for range racePerTask {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				if mu != nil {
					if err := mu.Lock(ctx); err != nil {
						errs <- err
						return
					}
					defer mu.Unlock()
				}
				temp := counter.Load()
				time.Sleep(racePause) // simulate other work, as the seed does
				counter.Store(temp + 1)
			}()
		}
	}
	close(gate)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return int(counter.Load()), nil
}
