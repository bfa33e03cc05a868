package coord

import "context"

// A Locker represents an object that can be locked and unlocked, where
// waiting for the lock can be given up through a context.
//
// *Mutex satisfies Locker, and so does every distributed mutex in
// github.com/coordkit/coord/etcd, so code written against Locker runs in one
// process or across many.
type Locker interface {
	// Lock waits until the caller holds the lock and returns nil, or returns
	// ctx.Err() without holding it if ctx ends first.
	Lock(ctx context.Context) error
	// Unlock releases the lock.
	Unlock()
}
