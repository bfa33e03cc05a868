package etcd_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coordkit/coord/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Benchmarks on the one-member embedded server of TestMain, each beside its
// anchor in the same run: client/v3/concurrency's Mutex (which coord does
// not use, see doc.go) and raw puts. Run them with
//
//	go test -run '^$' -bench . -benchtime 2s ./etcd/

// BenchmarkLockUnlock is one uncontended Lock and Unlock: for coord one
// transaction that writes the key and counts those ahead, a watch for Lost,
// and one fenced delete.
func BenchmarkLockUnlock(b *testing.B) {
	ctx := context.Background()
	b.Run("coord", func(b *testing.B) {
		m := etcd.NewMutex(newSession(b, nil, testPrefix(b)), "bench")
		b.ReportAllocs()
		for b.Loop() {
			if err := m.Lock(ctx); err != nil {
				b.Fatal(err)
			}
			m.Unlock()
		}
	})
	b.Run("concurrency", func(b *testing.B) {
		s, err := concurrency.NewSession(newClient(b))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		m := concurrency.NewMutex(s, testPrefix(b)+"bench")
		b.ReportAllocs()
		for b.Loop() {
			if err := m.Lock(ctx); err != nil {
				b.Fatal(err)
			}
			if err := m.Unlock(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// countingWatcher counts the events delivered to the watches of a client.
type countingWatcher struct {
	clientv3.Watcher
	events *atomic.Int64
}

func (w countingWatcher) Watch(ctx context.Context, key string, opts ...clientv3.OpOption) clientv3.WatchChan {
	in := w.Watcher.Watch(ctx, key, opts...)
	out := make(chan clientv3.WatchResponse)
	go func() {
		defer close(out)
		for wr := range in {
			w.events.Add(int64(len(wr.Events)))
			select {
			case out <- wr:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// BenchmarkContendedHandoff has waiters clients contend for one lock and
// reports the watch events delivered per acquisition (handoff-events/op):
// with no herd it stays near one, whatever the number of waiters. coord
// also watches each hold's own key for Lost, which adds the holder's own
// delete to the count (the event that ends that watch arrives only if the
// hold was not released first, so it rarely does).
func BenchmarkContendedHandoff(b *testing.B) {
	for _, waiters := range []int{2, 8} {
		b.Run(fmt.Sprintf("coord/waiters=%d", waiters), func(b *testing.B) {
			p := testPrefix(b)
			var events atomic.Int64
			var ms []*etcd.Mutex
			for range waiters {
				cli := newClient(b)
				cli.Watcher = countingWatcher{cli.Watcher, &events}
				ms = append(ms, etcd.NewMutex(newSession(b, cli, p), "hot"))
			}
			contend(b, &events, waiters, func(i int) (func() error, func()) {
				return func() error { return ms[i].Lock(context.Background()) }, ms[i].Unlock
			})
		})
		b.Run(fmt.Sprintf("concurrency/waiters=%d", waiters), func(b *testing.B) {
			p := testPrefix(b)
			var events atomic.Int64
			var ms []*concurrency.Mutex
			for range waiters {
				cli := newClient(b)
				cli.Watcher = countingWatcher{cli.Watcher, &events}
				s, err := concurrency.NewSession(cli)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				ms = append(ms, concurrency.NewMutex(s, p+"hot"))
			}
			contend(b, &events, waiters, func(i int) (func() error, func()) {
				ctx := context.Background()
				return func() error { return ms[i].Lock(ctx) }, func() { ms[i].Unlock(ctx) }
			})
		})
	}
}

// contend runs b.N acquisitions spread over n goroutines.
func contend(b *testing.B, events *atomic.Int64, n int, handle func(i int) (lock func() error, unlock func())) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	events.Store(0)
	for i := range n {
		lock, unlock := handle(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := lock(); err != nil {
					b.Error(err)
					return
				}
				unlock()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(events.Load())/float64(b.N), "handoff-events/op")
}

// BenchmarkManyNames measures throughput with every acquisition on a name
// of its own (no contention), beside raw puts in the same run: what coord
// costs over the writes it is made of. An acquisition and its release are
// two writes (the key's put and its delete), so 0.5 of the put rate is the
// ceiling. It runs on the shared 1-node server and on a 3-node cluster,
// where every write is a raft round among the members.
func BenchmarkManyNames(b *testing.B) {
	b.Run("1-node", func(b *testing.B) {
		benchManyNames(b, func(b *testing.B) *clientv3.Client { return newClient(b) })
	})
	b.Run("3-node", func(b *testing.B) {
		c := startCluster(b, 3)
		c.leader()
		benchManyNames(b, func(b *testing.B) *clientv3.Client { return newClient(b, c.endpoints()...) })
	})
}

func benchManyNames(b *testing.B, connect func(*testing.B) *clientv3.Client) {
	const parallel = 8
	b.Run("coord-lock-unlock", func(b *testing.B) {
		p := testPrefix(b)
		cli := connect(b)
		s := newSession(b, cli, p)
		var n atomic.Int64
		b.SetParallelism(parallel)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m := etcd.NewMutex(s, fmt.Sprint("name-", n.Add(1)))
				if err := m.Lock(context.Background()); err != nil {
					b.Error(err)
					return
				}
				m.Unlock()
			}
		})
		reportRate(b)
	})
	b.Run("raw-put", func(b *testing.B) {
		p := testPrefix(b)
		cli := connect(b)
		var n atomic.Int64
		b.SetParallelism(parallel)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := cli.Put(context.Background(), fmt.Sprint(p, n.Add(1)), "x"); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportRate(b)
	})
}

func reportRate(b *testing.B) {
	if e := b.Elapsed(); e > 0 {
		b.ReportMetric(float64(b.N)/e.Seconds(), "ops/s")
	}
}
