package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Readers in two processes (two sessions) share the lock; a writer waits
// for both, and a Mutex of the same name is a writer too.
func ExampleRWMutex() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()
	session := func() *etcd.Session {
		s, err := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-rw/"))
		if err != nil {
			log.Fatal(err)
		}
		return s
	}
	a, b, c := session(), session(), session()
	defer a.Close()
	defer b.Close()
	defer c.Close()

	r1, r2 := etcd.NewRWMutex(a, "catalog"), etcd.NewRWMutex(b, "catalog")
	if err := r1.RLock(ctx); err != nil {
		log.Fatal(err)
	}
	if err := r2.RLock(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("two readers hold the lock")

	w := etcd.NewMutex(c, "catalog")
	fmt.Println("writer's TryLock:", errors.Is(w.TryLock(ctx), etcd.ErrLocked))
	r1.RUnlock()
	r2.RUnlock()
	if err := w.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("writer holds it alone")
	w.Unlock()
	// Output:
	// two readers hold the lock
	// writer's TryLock: true
	// writer holds it alone
}

// Work done under a hold takes the hold's Context, and stops by itself when
// the hold is lost: here an operator deletes the reader's key.
func ExampleRWMutex_Context() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()
	session, err := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-rwctx/"))
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()

	m := etcd.NewRWMutex(session, "reports")
	if err := m.RLock(ctx); err != nil {
		log.Fatal(err)
	}
	work := m.Context(ctx)
	cli.Delete(ctx, "/example-rwctx/", clientv3.WithPrefix()) // an operator steps in

	<-work.Done() // the work's own waits end here, with work.Err()
	fmt.Println("work stopped; lost:", errors.Is(context.Cause(work), etcd.ErrLost))
	m.RUnlock()
	// Output: work stopped; lost: true
}
