package coord_test

import (
	"context"
	"fmt"
	"time"

	"github.com/coordkit/coord"
)

// The seed tutorial's rate-limited logger: at most 3 lines in any second.
// The first three go at once, the next three exactly one second later.
func ExampleRateLimiter() {
	r := coord.NewRateLimiter(3, time.Second)
	start := time.Now()
	for i := range 6 {
		if err := r.Wait(context.Background()); err != nil {
			return
		}
		fmt.Printf("line %d after %.0fs\n", i, time.Since(start).Seconds())
	}
	// Output:
	// line 0 after 0s
	// line 1 after 0s
	// line 2 after 0s
	// line 3 after 1s
	// line 4 after 1s
	// line 5 after 1s
}

// Allow drops what does not fit instead of waiting.
func ExampleRateLimiter_Allow() {
	r := coord.NewRateLimiter(2, time.Minute)
	for i := range 4 {
		fmt.Println(i, r.Allow())
	}
	// Output:
	// 0 true
	// 1 true
	// 2 false
	// 3 false
}
