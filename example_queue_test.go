package coord_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/coordkit/coord"
)

// Producer and consumers: the producer puts jobs, shuts the queue down when
// it is done, and the consumers drain it and stop at ErrQueueShutDown.
func ExampleQueue() {
	q := coord.NewQueue[int](2) // Put blocks while 2 jobs wait
	ctx := context.Background()

	var mu sync.Mutex
	sum := 0
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				job, err := q.Get(ctx)
				if errors.Is(err, coord.ErrQueueShutDown) {
					return
				}
				mu.Lock()
				sum += job
				mu.Unlock()
			}
		})
	}
	for job := 1; job <= 10; job++ {
		q.Put(ctx, job)
	}
	q.Shutdown(false) // no more jobs; what is queued is still served
	wg.Wait()
	fmt.Println(sum)
	// Output: 55
}

// Join waits until every item put has been processed.
func ExampleQueue_Join() {
	q := coord.NewQueue[string](0)
	ctx := context.Background()
	for _, s := range []string{"a", "b", "c"} {
		q.Put(ctx, s)
	}
	go func() {
		for {
			s, err := q.Get(ctx)
			if err != nil {
				return
			}
			fmt.Println("done", s)
			q.TaskDone()
		}
	}()
	q.Join(ctx)
	fmt.Println("all done")
	q.Shutdown(true)
	// Output:
	// done a
	// done b
	// done c
	// all done
}
