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

const (
	condCapacity      = 3                      // the seed's MAX_SIZE
	condItems         = 5                      // items each side handles, as in the seed
	condProducerPause = 20 * time.Millisecond  // the seed's 0.1 s, shortened 5×
	condConsumerPause = 30 * time.Millisecond  // the seed's 0.15 s, shortened 5×
	condConsumerDelay = 100 * time.Millisecond // a late start, so the bound is reached
)

// demoCondition is the seed's producer/consumer over a bounded buffer, with
// coord.Cond in place of asyncio.Condition. With the seed's pacing alone the
// consumer keeps up and the buffer never fills, so the consumer here starts
// late: the producer fills the buffer and must wait, and the bound is seen to
// hold.
func demoCondition(ctx context.Context, w io.Writer) (ConditionResult, error) {
	p := newPrinter(w)
	res := ConditionResult{Capacity: condCapacity}
	p.note("One producer and one consumer, %d items each, over a buffer of %d guarded by a coord.Cond.", condItems, condCapacity)
	p.note("Pauses: producer %s, consumer %s after each item (the seed's, 5× shorter); the consumer starts %s late so the buffer fills.",
		secs(condProducerPause), secs(condConsumerPause), secs(condConsumerDelay))

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var mu coord.Mutex
	cond := coord.NewCond(&mu)
	var buffer []string // guarded by mu

	producer := func(name string) error {
		for i := range condItems {
			if err := cond.Lock(ctx); err != nil {
				return err
			}
			// Wait until the buffer has space. The check is repeated after
			// every wakeup: NotifyAll wakes the producer for any change.
			for len(buffer) >= condCapacity {
				p.line("%s: buffer full, waiting", name)
				res.ProducerWaits++
				if err := cond.Wait(ctx); err != nil {
					cond.Unlock()
					return err
				}
			}
			item := fmt.Sprintf("%s-%d", name, i)
			buffer = append(buffer, item)
			res.Produced = append(res.Produced, item)
			res.MaxBuffer = max(res.MaxBuffer, len(buffer))
			p.line("%s: produced %s (buffer: %d)", name, item, len(buffer))
			cond.NotifyAll() // wake waiters
			cond.Unlock()
			if err := sleepCtx(ctx, condProducerPause); err != nil {
				return err
			}
		}
		return nil
	}
	consumer := func(name string) error {
		if err := sleepCtx(ctx, condConsumerDelay); err != nil {
			return err
		}
		for range condItems {
			if err := cond.Lock(ctx); err != nil {
				return err
			}
			// Wait until the buffer has items.
			for len(buffer) == 0 {
				p.line("%s: buffer empty, waiting", name)
				res.ConsumerWaits++
				if err := cond.Wait(ctx); err != nil {
					cond.Unlock()
					return err
				}
			}
			item := buffer[0]
			buffer = buffer[1:]
			res.Consumed = append(res.Consumed, item)
			p.line("%s: consumed %s (buffer: %d)", name, item, len(buffer))
			cond.NotifyAll() // wake waiters
			cond.Unlock()
			if err := sleepCtx(ctx, condConsumerPause); err != nil {
				return err
			}
		}
		return nil
	}

	var wg sync.WaitGroup
	var perr, cerr error
	wg.Add(2)
	go func() { defer wg.Done(); perr = producer("prod1") }()
	go func() { defer wg.Done(); cerr = consumer("cons1") }()
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
	p.note("All %d items were consumed once, in the order produced. Wait released the lock while waiting and held it again on return.", len(res.Consumed))
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
