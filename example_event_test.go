package coord_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/coordkit/coord"
)

// Workers wait for a start signal; one Set releases all of them.
func ExampleEvent() {
	var ready coord.Event
	var wg sync.WaitGroup
	results := make([]string, 3)
	for i := range results {
		wg.Go(func() {
			if err := ready.Wait(context.Background()); err != nil {
				results[i] = err.Error()
				return
			}
			results[i] = fmt.Sprintf("worker %d started", i)
		})
	}
	ready.Set() // wakes every worker waiting, and lets later ones through
	wg.Wait()
	for _, r := range results {
		fmt.Println(r)
	}
	// Output:
	// worker 0 started
	// worker 1 started
	// worker 2 started
}

// Done lets an Event take part in a select with other channels.
func ExampleEvent_Done() {
	var shutdown coord.Event
	jobs := make(chan int)
	go func() {
		jobs <- 1
		jobs <- 2
		shutdown.Set()
	}()
	for {
		select {
		case j := <-jobs:
			fmt.Println("job", j)
		case <-shutdown.Done():
			fmt.Println("shutting down")
			return
		}
	}
	// Output:
	// job 1
	// job 2
	// shutting down
}
