package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/coordkit/coord"
)

// EventResult is the outcome of the event scenario.
type EventResult struct {
	Waiters int // goroutines waiting on the event
	Fired   int // waiters whose Wait returned nil
	// Early counts waiters whose Wait returned before Set was called: it must
	// be zero.
	Early int
	// Spread is the time between Set and the last waiter waking.
	Spread time.Duration
}

// eventSetterDelay is the setter's delay: the seed's setter(event, 2.0).
const eventSetterDelay = 2 * time.Second

// demoEvent is the seed's broadcast example: three waiters, one setter.
func demoEvent(ctx context.Context, w io.Writer) (EventResult, error) {
	p := newPrinter(w)
	names := []string{"waiter1", "waiter2", "waiter3"}
	res := EventResult{Waiters: len(names)}
	p.note("%d goroutines wait on one coord.Event; a setter sets it after %s, as in the seed.", len(names), secs(eventSetterDelay))

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var e coord.Event
	var (
		mu    sync.Mutex // guards setAt and the fields of res the waiters update
		setAt time.Time
		woke  []time.Time
		errs  []error
	)
	// The waiters start in order, each after the one before has printed, and
	// print their "fired" lines in the same order (each after the one before),
	// so the output is the seed's. The ordering is of the printing only: all
	// of them are blocked in Wait when Set is called, and one Set wakes them all.
	started := make([]chan struct{}, len(names)+1)
	printed := make([]chan struct{}, len(names)+1)
	for i := range started {
		started[i] = make(chan struct{})
		printed[i] = make(chan struct{})
	}
	close(started[0])
	close(printed[0])
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-started[i]
			p.line("%s: waiting for event", name)
			close(started[i+1])
			err := e.Wait(ctx)
			now := time.Now()
			mu.Lock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			} else {
				res.Fired++
				woke = append(woke, now)
				if setAt.IsZero() {
					res.Early++
				}
			}
			mu.Unlock()
			<-printed[i]
			if err == nil {
				p.line("%s: event fired!", name)
			}
			close(printed[i+1])
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-started[len(names)]
		select {
		case <-time.After(eventSetterDelay):
		case <-ctx.Done():
			return
		}
		p.line("Setter: setting event")
		mu.Lock()
		setAt = time.Now()
		mu.Unlock()
		e.Set()
	}()
	wg.Wait()
	if len(errs) > 0 {
		return res, errs[0]
	}
	for _, t := range woke {
		res.Spread = max(res.Spread, t.Sub(setAt))
	}
	if res.Early > 0 || res.Fired != res.Waiters {
		return res, fmt.Errorf("%w: %d of %d waiters fired, %d before Set", errDemo, res.Fired, res.Waiters, res.Early)
	}
	p.note("One Set woke all %d waiters (broadcast); none returned before it. A Wait after Set returns at once: IsSet() = %v.", res.Fired, e.IsSet())
	return res, nil
}
