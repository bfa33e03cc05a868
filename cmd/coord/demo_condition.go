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
	condProducerPause = 100 * time.Millisecond // the seed's asyncio.sleep(0.1)
	condConsumerPause = 150 * time.Millisecond // the seed's asyncio.sleep(0.15)
)

// conditionPacing is how the two sides of the condition scenario are paced.
// The demo runs the seed's; tests also run a faster producer against a late
// consumer, so that the producer's wait on a full buffer is exercised too.
type conditionPacing struct {
	producerPause, consumerPause time.Duration
	// consumerDelay holds the consumer back after the producer's first
	// item; the seed has none.
	consumerDelay time.Duration
}

// seedPacing is the seed's: the producer pauses 0.1s after each item, the
// consumer 0.15s.
var seedPacing = conditionPacing{producerPause: condProducerPause, consumerPause: condConsumerPause}

// demoCondition is the seed's producer/consumer over a bounded buffer, with
// coord.Cond in place of asyncio.Condition, at the seed's pace.
func demoCondition(ctx context.Context, w io.Writer) (ConditionResult, error) {
	return runCondition(ctx, w, seedPacing)
}

// runCondition runs the producer/consumer scenario at the given pace. As in
// the seed, where asyncio starts tasks in creation order and the producer
// runs until its first sleep, the consumer starts once the producer has
// added its first item.
func runCondition(ctx context.Context, w io.Writer, pace conditionPacing) (ConditionResult, error) {
	p := newPrinter(w)
	res := ConditionResult{Capacity: condCapacity}
	p.note("One producer and one consumer, %d items each, over a buffer of %d guarded by a coord.Cond.", condItems, condCapacity)
	whose := "the seed's"
	if pace != seedPacing {
		whose = "not the seed's"
	}
	p.note("Pauses after each item: producer %s, consumer %s (%s); the consumer starts after the producer's first item, as asyncio runs the seed's tasks.",
		secs(pace.producerPause), secs(pace.consumerPause), whose)
	if pace.consumerDelay > 0 {
		p.note("The consumer starts %s late, so the buffer fills.", secs(pace.consumerDelay))
	}

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var mu coord.Mutex
	cond := coord.NewCond(&mu)
	var buffer []string // guarded by mu
	firstItem := make(chan struct{})

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
			if i == 0 {
				close(firstItem)
			}
			if err := sleepCtx(ctx, pace.producerPause); err != nil {
				return err
			}
		}
		return nil
	}
	consumer := func(name string) error {
		select {
		case <-firstItem:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := sleepCtx(ctx, pace.consumerDelay); err != nil {
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
			if err := sleepCtx(ctx, pace.consumerPause); err != nil {
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
	if res.ProducerWaits == 0 {
		p.note("At the seed's pace the consumer keeps up and the buffer never fills; were the consumer slower, the producer would wait in Cond.Wait at %d items.", condCapacity)
	}
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
