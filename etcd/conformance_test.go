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

// The RWMutex: the read-write suite, and the Locker suite on its writer
// side (each under a prefix of its own). The probe counts keys of both kinds,
// writers' and readers'.
func TestConformanceRWMutex(t *testing.T) {
	cli := newClient(t)
	probe := func(p string) coordtest.Option {
		return coordtest.WithProbe(func(t *testing.T, name string) int {
			return int(countKeys(t, cli, p+"lock/"+name+"/") + countKeys(t, cli, p+"rlock/"+name+"/"))
		})
	}
	t.Run("RWLocker", func(t *testing.T) {
		p := testPrefix(t)
		coordtest.TestRWLocker(t, func(t *testing.T, name string) coordtest.RWLocker {
			return etcd.NewRWMutex(newSession(t, cli, p), name)
		}, probe(p))
	})
	t.Run("Locker", func(t *testing.T) {
		p := testPrefix(t)
		coordtest.TestLocker(t, func(t *testing.T, name string) coord.Locker {
			return etcd.NewRWMutex(newSession(t, cli, p), name)
		}, probe(p))
	})
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
