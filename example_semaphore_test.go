package coord_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coordkit/coord"
)

// A Semaphore bounds how many goroutines do something at once.
func ExampleSemaphore() {
	sem := coord.NewBoundedSemaphore(2) // at most two downloads at a time
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := sem.Acquire(context.Background()); err != nil {
				return
			}
			defer sem.Release()
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(time.Millisecond) // the download
			running.Add(-1)
		})
	}
	wg.Wait()
	fmt.Println("never more than two at once:", peak.Load() <= 2)
	fmt.Println("available:", sem.Available())
	// Output:
	// never more than two at once: true
	// available: 2
}

// AcquireN takes several permits at once: here a job's weight in memory.
// A request that waits too long gives up through its context and takes
// nothing.
func ExampleSemaphore_AcquireN() {
	mem := coord.NewBoundedSemaphore(100) // 100 MiB of buffers
	ctx := context.Background()

	if err := mem.AcquireN(ctx, 60); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("big job holds 60, available:", mem.Available())

	ctx2, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	err := mem.AcquireN(ctx2, 50) // only 40 are free
	fmt.Println("second job:", err)

	err = mem.AcquireN(ctx, 500)
	fmt.Println("oversized job:", err)

	mem.ReleaseN(60)
	fmt.Println("available:", mem.Available())
	// Output:
	// big job holds 60, available: 40
	// second job: context deadline exceeded
	// oversized job: coord: semaphore request exceeds its capacity
	// available: 100
}
