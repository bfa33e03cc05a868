package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/coordkit/coord"
)

// ConditionResult is the outcome of the condition scenario.
type ConditionResult struct {
	Capacity      int      // the buffer's bound (the seed's MAX_SIZE)
	Produced      []string // items in the order the producer appended them
	Consumed      []string // items in the order the consumer took them
	MaxBuffer     int      // the most items the buffer ever held
	ProducerWaits int      // times the producer found the buffer full and waited
	ConsumerWaits int      // times the consumer found the buffer empty and waited
}

// The scenario's shape. The seed's producer (a pause of 0.1s after each item)
// never outruns its consumer (0.15s) by three items in five, so its buffer
// never fills and its producer never waits: the seed shows only half of what
// a Condition is for. Here the consumer is ready first, so it finds the
// buffer empty and waits, and the producer is five times as fast as the
// consumer, so it fills the buffer and waits for space: both sides of the
// Condition show, in the seed's words, in about a second.
const (
	condCapacity      = 3                      // the seed's MAX_SIZE
	condItems         = 5                      // items each side handles, as in the seed
	condProducerPause = 50 * time.Millisecond  // after each item but the last
	condConsumerPause = 250 * time.Millisecond // after each item but the last
)

// demoCondition is the seed's producer/consumer over a bounded buffer, with
// coord.Cond in place of asyncio.Condition.
func demoCondition(ctx context.Context, w io.Writer) (ConditionResult, error) {
	p := newPrinter(w)
	res := ConditionResult{Capacity: condCapacity}
	p.note("One producer and one consumer, %d items each, over a buffer of %d guarded by a coord.Cond.", condItems, condCapacity)
	p.note("The consumer is ready first; the producer pauses %s after an item, the consumer %s, so each side has to wait on the Cond in turn.",
		secs(condProducerPause), secs(condConsumerPause))

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var mu coord.Mutex
	cond := coord.NewCond(&mu)
	var buffer []string // guarded by mu
	// consumerWaits is closed, with the lock held, as the consumer starts
	// to wait on the empty buffer; the producer then starts, and its Lock
	// returns once that Wait has released the lock.
	consumerWaits := make(chan struct{})

	// wait waits on cond until ready holds, saying so in the seed's words
	// each time it finds it does not; it returns with the lock held, or an
	// error with the lock released.
	wait := func(ready func() bool, waiting string, count *int, started func()) error {
		if err := cond.Lock(ctx); err != nil {
			return err
		}
		for !ready() {
			p.line("%s", waiting)
			*count++
			started()
			if err := cond.Wait(ctx); err != nil {
				cond.Unlock()
				return err
			}
		}
		return nil
	}
	// pause is a side's pause after item i, none after its last.
	pause := func(i int, d time.Duration) error {
		if i == condItems-1 {
			return nil
		}
		return sleepCtx(ctx, d)
	}

	producer := func(name string) error {
		select {
		case <-consumerWaits:
		case <-ctx.Done():
			return ctx.Err()
		}
		for i := range condItems {
			// Wait until the buffer has space. The check is repeated after
			// every wakeup: NotifyAll wakes the producer for any change.
			if err := wait(func() bool { return len(buffer) < condCapacity }, name+": buffer full, waiting", &res.ProducerWaits, func() {}); err != nil {
				return err
			}
			item := fmt.Sprintf("%s-%d", name, i)
			buffer = append(buffer, item)
			res.Produced = append(res.Produced, item)
			res.MaxBuffer = max(res.MaxBuffer, len(buffer))
			p.line("%s: produced %s (buffer: %d)", name, item, len(buffer))
			cond.NotifyAll() // wake waiters
			cond.Unlock()
			if err := pause(i, condProducerPause); err != nil {
				return err
			}
		}
		return nil
	}
	consumer := func(name string) error {
		var once sync.Once
		started := func() { once.Do(func() { close(consumerWaits) }) }
		defer started() // should the consumer fail before it waits
		for i := range condItems {
			// Wait until the buffer has items.
			if err := wait(func() bool { return len(buffer) > 0 }, name+": buffer empty, waiting", &res.ConsumerWaits, started); err != nil {
				return err
			}
			item := buffer[0]
			buffer = buffer[1:]
			res.Consumed = append(res.Consumed, item)
			p.line("%s: consumed %s (buffer: %d)", name, item, len(buffer))
			cond.NotifyAll() // wake waiters
			cond.Unlock()
			if err := pause(i, condConsumerPause); err != nil {
				return err
			}
		}
		return nil
	}

	var wg sync.WaitGroup
	var perr, cerr error
	wg.Add(2)
	go func() { defer wg.Done(); cerr = consumer("cons1") }()
	go func() { defer wg.Done(); perr = producer("prod1") }()
	wg.Wait()
	if perr != nil {
		return res, fmt.Errorf("producer: %w", perr)
	}
	if cerr != nil {
		return res, fmt.Errorf("consumer: %w", cerr)
	}

	if res.MaxBuffer > condCapacity {
		p.note("BUG: the buffer held %d items, more than its capacity %d.", res.MaxBuffer, condCapacity)
		return res, fmt.Errorf("%w: buffer reached %d > %d", errDemo, res.MaxBuffer, condCapacity)
	}
	if !slices.Equal(res.Produced, res.Consumed) {
		return res, fmt.Errorf("%w: consumed %v, produced %v", errDemo, res.Consumed, res.Produced)
	}
	p.note("The buffer never held more than %d (capacity %d): the producer waited %d time%s for space, the consumer %d time%s for an item.",
		res.MaxBuffer, condCapacity, res.ProducerWaits, plural(res.ProducerWaits), res.ConsumerWaits, plural(res.ConsumerWaits))
	if res.ProducerWaits == 0 {
		// Only a machine too loaded to keep the pauses gets here.
		p.note("This time the consumer kept up and the buffer never filled; a producer that finds it full waits in Cond.Wait at %d items.", condCapacity)
	}
	p.note("All %d items were consumed once, in the order produced. Wait released the lock while waiting and held it again on return; one Cond serves both conditions, not-full and not-empty, since NotifyAll wakes both sides to re-check.", len(res.Consumed))
	return res, nil
}

// sleepCtx sleeps for d or until ctx is done, whichever comes first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
