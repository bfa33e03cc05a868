package etcd_test

import (
	"testing"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/coordtest"
	"github.com/coordkit/coord/etcd"
)

// The conformance suite runs against the etcd primitives here, and against
// the in-process ones in the root module: same tests, same semantics. Every
// handle has a session (a lease) of its own, as separate processes would.

func TestConformanceLocker(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t)
	coordtest.TestLocker(t, func(t *testing.T, name string) coord.Locker {
		return etcd.NewMutex(newSession(t, cli, p), name)
	}, coordtest.WithProbe(func(t *testing.T, name string) int {
		return int(countKeys(t, cli, p+"lock/"+name+"/"))
	}))
}

func TestConformanceSemaphore(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t)
	coordtest.TestSemaphore(t, func(t *testing.T, name string, limit int) coordtest.Semaphore {
		return etcd.NewSemaphore(newSession(t, cli, p), name, limit)
	}, coordtest.WithProbe(func(t *testing.T, name string) int {
		return int(countKeys(t, cli, p+"sem/"+name+"/"))
	}))
}

func TestConformanceEvent(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t)
	coordtest.TestEvent(t, func(t *testing.T, name string) coordtest.Event {
		return etcd.NewEvent(newSession(t, cli, p), name)
	})
}

func TestConformanceBarrier(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t)
	coordtest.TestBarrier(t, func(t *testing.T, name string, parties int) coordtest.Barrier {
		return etcd.NewBarrier(newSession(t, cli, p), name, parties)
	}, coordtest.WithProbe(func(t *testing.T, name string) int {
		return int(countKeys(t, cli, p+"barrier/"+name+"/"))
	}))
}
