package coord_test

import (
	"context"
	"fmt"
	"time"

	"github.com/coordkit/coord"
)

// withLock runs f while holding l, giving up if ctx ends while it waits.
// It is written against Locker, so the same code serves a coord.Mutex in
// one process and a distributed mutex (github.com/coordkit/coord/etcd)
// across many.
func withLock(ctx context.Context, l coord.Locker, f func()) error {
	if err := l.Lock(ctx); err != nil {
		return err
	}
	defer l.Unlock()
	f()
	return nil
}

func ExampleLocker() {
	var mu coord.Mutex
	balance := 100

	err := withLock(context.Background(), &mu, func() { balance -= 30 })
	fmt.Println(balance, err)

	// While someone else holds the lock, a caller with a deadline gives up
	// with the ctx's own error and does not run f.
	mu.Lock(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err = withLock(ctx, &mu, func() { balance = 0 })
	fmt.Println(balance, err)
	mu.Unlock()
	// Output:
	// 70 <nil>
	// 70 context deadline exceeded
}
