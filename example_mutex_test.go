package coord_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/coordkit/coord"
)

// The seed's first scenario: 100 increments of a shared counter, each a
// read, a pause and a write. Under the mutex no update is lost.
func ExampleMutex() {
	var (
		mu      coord.Mutex
		counter int
		wg      sync.WaitGroup
	)
	ctx := context.Background()
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := mu.Lock(ctx); err != nil {
				return
			}
			defer mu.Unlock()
			tmp := counter
			time.Sleep(time.Microsecond)
			counter = tmp + 1
		}()
	}
	wg.Wait()
	fmt.Println("Counter:", counter)
	// Output: Counter: 100
}

// A Lock that cannot succeed in time gives up with the ctx's error, as
// asyncio.wait_for(lock.acquire(), timeout) does.
func ExampleMutex_Lock_timeout() {
	var mu coord.Mutex
	mu.Lock(context.Background()) // held elsewhere, and never released here

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := mu.Lock(ctx); err != nil {
		fmt.Println("gave up:", err)
	}
	// Output: gave up: context deadline exceeded
}
