package coord_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/coordkit/coord"
)

// A cache read by many goroutines at once and refreshed by one writer at a
// time: lookups share the read lock, the refresh excludes them, and a
// lookup whose request has gone away stops waiting.
func ExampleRWMutex() {
	var (
		mu    coord.RWMutex
		cache = map[string]string{"greeting": "hello"}
	)
	lookup := func(ctx context.Context, key string) (string, error) {
		if err := mu.RLock(ctx); err != nil {
			return "", err // ctx ended first: we hold nothing
		}
		defer mu.RUnlock()
		return cache[key], nil
	}
	refresh := func(ctx context.Context, key, value string) error {
		if err := mu.Lock(ctx); err != nil {
			return err
		}
		defer mu.Unlock()
		cache[key] = value
		return nil
	}

	ctx := context.Background()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := lookup(ctx, "greeting"); err != nil {
				fmt.Println(err)
			}
		})
	}
	wg.Wait()
	if err := refresh(ctx, "greeting", "hello, world"); err != nil {
		fmt.Println(err)
	}
	v, _ := lookup(ctx, "greeting")
	fmt.Println(v)

	// A writer holds the lock for longer than a reader is willing to wait.
	mu.Lock(ctx)
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_, err := lookup(short, "greeting")
	fmt.Println("lookup gave up:", err)
	mu.Unlock()
	// Output:
	// hello, world
	// lookup gave up: context deadline exceeded
}

// RLocker gives the read side of an RWMutex as a Locker, for code written
// against Locker.
func ExampleRWMutex_RLocker() {
	var mu coord.RWMutex
	readers := mu.RLocker()
	ctx := context.Background()
	readers.Lock(ctx)
	readers.Lock(ctx) // readers share
	fmt.Println("writer can lock:", mu.TryLock())
	readers.Unlock()
	readers.Unlock()
	fmt.Println("writer can lock:", mu.TryLock())
	mu.Unlock()
	// Output:
	// writer can lock: false
	// writer can lock: true
}
