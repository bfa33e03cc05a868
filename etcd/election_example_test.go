package etcd_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/coordkit/coord/etcd"
)

// Two processes campaign to run a scheduler and a third follows who leads.
// The leader works under its leadership's Context, which ends by itself if
// the leadership is lost; when it resigns, the candidate waiting behind it
// leads at once, with a higher token.
func ExampleElection() {
	ctx := context.Background()
	cli := connect()
	defer cli.Close()
	const prefix = "/example-election/"
	session := func() *etcd.Session {
		s, err := etcd.NewSession(ctx, cli, etcd.WithPrefix(prefix))
		if err != nil {
			log.Fatal(err)
		}
		return s
	}
	a, b, watcher := session(), session(), session()
	defer a.Close()
	defer b.Close()
	defer watcher.Close()
	nodeA := etcd.NewElection(a, "scheduler")
	nodeB := etcd.NewElection(b, "scheduler")

	if err := nodeA.Campaign(ctx, "node-a"); err != nil {
		log.Fatal(err)
	}
	octx, stop := context.WithCancel(ctx)
	defer stop()
	leaders := etcd.NewElection(watcher, "scheduler").Observe(octx)
	first := <-leaders
	fmt.Println("leader:", first.Value)

	campaigned := make(chan error, 1)
	go func() { campaigned <- nodeB.Campaign(ctx, "node-b") }()
	for { // until node-b waits in line, as `coord ls` would show
		entries, err := etcd.List(ctx, cli, prefix)
		if err != nil {
			log.Fatal(err)
		}
		if len(entries) == 2 {
			for _, e := range entries {
				fmt.Println(e.State, e.Value)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	work := nodeA.Context(ctx) // pass it to the leader's work
	if err := nodeA.Proclaim(ctx, "node-a (busy)"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("leader:", (<-leaders).Value)
	if err := nodeA.Resign(ctx); err != nil {
		log.Fatal(err)
	}
	<-work.Done()
	fmt.Println("node-a's work stopped")
	if err := <-campaigned; err != nil {
		log.Fatal(err)
	}
	next := <-leaders
	fmt.Println("leader:", next.Value, "token higher:", next.Token > first.Token)
	nodeB.Resign(ctx)
	// Output:
	// leader: node-a
	// leader node-a
	// candidate node-b
	// leader: node-a (busy)
	// node-a's work stopped
	// leader: node-b token higher: true
}
