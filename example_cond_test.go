package coord_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/coordkit/coord"
)

// A bounded buffer: consumers wait until there is something to take,
// producers until there is room, each with a deadline.
func ExampleCond() {
	var c coord.Cond // guards itself with a Mutex of its own
	var buf []int
	const capacity = 2
	ctx := context.Background()

	put := func(v int) error {
		if err := c.Lock(ctx); err != nil {
			return err
		}
		defer c.Unlock()
		if err := c.WaitFor(ctx, func() bool { return len(buf) < capacity }); err != nil {
			return err
		}
		buf = append(buf, v)
		c.NotifyAll() // wake consumers (and producers, who re-check)
		return nil
	}
	get := func(ctx context.Context) (int, error) {
		if err := c.Lock(ctx); err != nil {
			return 0, err
		}
		defer c.Unlock()
		if err := c.WaitFor(ctx, func() bool { return len(buf) > 0 }); err != nil {
			return 0, err
		}
		v := buf[0]
		buf = buf[1:]
		c.NotifyAll()
		return v, nil
	}

	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; i <= 5; i++ {
			put(i)
		}
	})
	sum := 0
	for range 5 {
		v, _ := get(ctx)
		sum += v
	}
	wg.Wait()
	fmt.Println("sum:", sum)

	// Nothing more will come: a get with a deadline gives up, still
	// leaving the Cond's lock free for others.
	tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_, err := get(tctx)
	fmt.Println(err)
	// Output:
	// sum: 15
	// context deadline exceeded
}
