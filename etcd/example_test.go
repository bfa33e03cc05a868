package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"github.com/coordkit/coord/etcd"
	"github.com/coordkit/coord/etcd/embedded"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// endpoints returns, in these examples, the endpoint of the test server;
// in a program it would come from configuration (coord's CLI reads
// COORD_ENDPOINTS).
func endpoints() []string { return []string{shared.Endpoint()} }

func connect() *clientv3.Client {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints(),
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		log.Fatal(err)
	}
	return cli
}

// This example starts a local etcd, takes a lock, and makes a write that
// etcd refuses once the hold is no longer current: a fenced write.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "coord-example-")
	defer os.RemoveAll(dir)
	srv, err := embedded.Start(ctx, embedded.Config{DataDir: dir, ClientAddr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Endpoint()}, Logger: zap.NewNop()})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()

	session, err := etcd.NewSession(ctx, cli, etcd.WithTTL(5*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()

	m := etcd.NewMutex(session, "config")
	if err := m.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	// The write happens only if the hold is still current: a holder whose
	// lease expired while it paused cannot overwrite its successor's work.
	guard := m.Guard()
	resp, err := cli.Txn(ctx).If(guard).Then(clientv3.OpPut("/app/config", "v2")).Commit()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("write while holding:", resp.Succeeded)
	m.Unlock()

	resp, err = cli.Txn(ctx).If(guard).Then(clientv3.OpPut("/app/config", "v3")).Commit()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("write with a stale hold:", resp.Succeeded)
	// Output:
	// write while holding: true
	// write with a stale hold: false
}

// A holder selects on Lost to stop acting as soon as its hold ends without
// Unlock, here because its key is deleted by hand.
func ExampleMutex_Lost() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()
	session, err := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-lost/"))
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()

	m := etcd.NewMutex(session, "jobs")
	if err := m.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	cli.Delete(ctx, "/example-lost/lock/", clientv3.WithPrefix()) // an operator steps in

	select {
	case <-m.Lost():
		fmt.Println("hold lost: stop working")
	case <-time.After(10 * time.Second):
		fmt.Println("still holding")
	}
	err = m.Release(ctx)
	fmt.Println(errors.Is(err, etcd.ErrLost))
	// Output:
	// hold lost: stop working
	// true
}

// Tokens increase strictly from one holder to the next, so a storage
// service can refuse a write that carries a token older than one it has
// seen.
func ExampleMutex_Token() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()
	session, err := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-token/"))
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()

	m := etcd.NewMutex(session, "jobs")
	var tokens []int64
	for range 2 {
		if err := m.Lock(ctx); err != nil {
			log.Fatal(err)
		}
		tokens = append(tokens, m.Token())
		m.Unlock()
	}
	fmt.Println(tokens[1] > tokens[0])
	// Output: true
}

func ExampleMutex_TryLock() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()
	s1, _ := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-try/"))
	defer s1.Close()
	s2, _ := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-try/"))
	defer s2.Close()

	a, b := etcd.NewMutex(s1, "jobs"), etcd.NewMutex(s2, "jobs")
	if err := a.TryLock(ctx); err != nil {
		log.Fatal(err)
	}
	err := b.TryLock(ctx)
	fmt.Println(errors.Is(err, etcd.ErrLocked))
	fmt.Println(err)
	a.Unlock()
	// Output:
	// true
	// coord/etcd: trylock "jobs": locked by another holder
}

// At most two of five workers hold the semaphore at once.
func ExampleSemaphore() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()

	var mu sync.Mutex
	inside, most := 0, 0
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			session, err := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-sem/"))
			if err != nil {
				log.Fatal(err)
			}
			defer session.Close()
			sem := etcd.NewSemaphore(session, "pool", 2)
			if err := sem.Acquire(ctx); err != nil {
				log.Fatal(err)
			}
			mu.Lock()
			inside++
			most = max(most, inside)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			if err := sem.Release(ctx); err != nil {
				log.Fatal(err)
			}
		}()
	}
	wg.Wait()
	fmt.Println("most holders at once:", most)
	// Output: most holders at once: 2
}

// An event set by one process releases every process waiting on it; it
// stays set after the setter's session ends.
func ExampleEvent() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()
	session, err := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-event/"))
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()

	ready := etcd.NewEvent(session, "ready")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ready.Wait(ctx); err != nil {
			log.Fatal(err)
		}
		fmt.Println("released")
	}()
	if err := ready.Set(ctx); err != nil {
		log.Fatal(err)
	}
	<-done
	set, _ := ready.IsSet(ctx)
	fmt.Println("set:", set)
	ready.Clear(ctx)
	// Output:
	// released
	// set: true
}

// Three parties meet at a barrier; each gets a distinct index.
func ExampleBarrier() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()

	var wg sync.WaitGroup
	seen := make([]bool, 3)
	var mu sync.Mutex
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			session, err := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-barrier/"))
			if err != nil {
				log.Fatal(err)
			}
			defer session.Close()
			i, err := etcd.NewBarrier(session, "start", 3).Wait(ctx)
			if err != nil {
				log.Fatal(err)
			}
			mu.Lock()
			seen[i] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	fmt.Println(seen)
	// Output: [true true true]
}

// List shows who holds and who waits, as `coord ls` prints it.
func ExampleList() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()
	session, err := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-list/"))
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()
	m := etcd.NewMutex(session, "jobs")
	if err := m.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	defer m.Unlock()

	entries, err := etcd.List(ctx, cli, "/example-list/")
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.Kind, e.Name, e.State, e.Token == m.Token(), e.Who == session.Who())
	}
	// Output: lock jobs holder true true
}

// A wait ends when its session does, with an error that says so, even with
// a ctx that has no deadline.
func ExampleSession_Done() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()
	s1, _ := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-done/"))
	defer s1.Close()
	s2, _ := etcd.NewSession(ctx, cli, etcd.WithPrefix("/example-done/"))

	holder, waiter := etcd.NewMutex(s1, "jobs"), etcd.NewMutex(s2, "jobs")
	if err := holder.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		s2.Close()
	}()
	err := waiter.Lock(ctx)
	<-s2.Done()
	fmt.Println(errors.Is(err, etcd.ErrSessionDone))
	holder.Unlock()
	// Output: true
}

// NewClient connects as coord's command line does, from endpoints and
// optional TLS files and user.
func ExampleNewClient() {
	cli, err := etcd.NewClient(etcd.ClientConfig{Endpoints: endpoints()})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()
	session, err := etcd.NewSession(context.Background(), cli, etcd.WithTTL(5*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()
	fmt.Println(session.TTL(), session.SafetyMargin())
	// Output: 5s 1s
}
