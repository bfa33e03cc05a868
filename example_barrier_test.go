package coord_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/coordkit/coord"
)

// Three workers compute in phases; none starts phase 2 before all have
// finished phase 1.
func ExampleBarrier() {
	const workers = 3
	b := coord.NewBarrier(workers)
	ctx := context.Background()

	var mu sync.Mutex
	phase1 := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			mu.Lock()
			phase1++ // phase 1
			mu.Unlock()

			if _, err := b.Wait(ctx); err != nil {
				return
			}

			mu.Lock()
			seen := phase1 // phase 2: everyone's phase 1 is done
			mu.Unlock()
			if seen != workers {
				fmt.Println("phase 2 started early")
			}
		})
	}
	wg.Wait()
	fmt.Println("phase 1 results seen by every worker:", phase1)
	// Output: phase 1 results seen by every worker: 3
}

// A party that gives up leaves the round without breaking it.
func ExampleBarrier_Wait_cancel() {
	b := coord.NewBarrier(2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // this party gives up (here: before it even arrives)
	i, err := b.Wait(ctx)
	fmt.Println(i, err, b.Broken(), b.Waiting())
	// Output: -1 context canceled false 0
}

// Abort tells the parties waiting that one will not come.
func ExampleBarrier_Abort() {
	b := coord.NewBarrier(3)
	done := make(chan error)
	go func() {
		_, err := b.Wait(context.Background())
		done <- err
	}()
	for b.Waiting() == 0 { // let the party arrive
		time.Sleep(time.Millisecond)
	}
	b.Abort()
	fmt.Println(<-done)
	b.Reset()
	fmt.Println(b.Broken())
	// Output:
	// coord: barrier is broken
	// false
}
