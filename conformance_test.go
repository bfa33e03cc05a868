package coord_test

import (
	"context"
	"sync"
	"testing"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/coordtest"
)

// The conformance suite of package coordtest, run against the in-process
// primitives; coord/etcd runs the same suite against its own, so the two
// are checked to mean the same thing. Handles of one name share one value.

// registry hands out one value per test and name.
type registry[T any] struct {
	mu sync.Mutex
	m  map[string]T
}

func (r *registry[T]) get(t *testing.T, name string, newT func() T) T {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]T{}
	}
	k := t.Name() + "\x00" + name
	v, ok := r.m[k]
	if !ok {
		v = newT()
		r.m[k] = v
	}
	return v
}

func TestConformanceMutex(t *testing.T) {
	var r registry[*coord.Mutex]
	coordtest.TestLocker(t, func(t *testing.T, name string) coord.Locker {
		return r.get(t, name, func() *coord.Mutex { return new(coord.Mutex) })
	})
}

// semaphore adapts coord.Semaphore, whose Release takes no ctx.
type semaphore struct{ *coord.Semaphore }

func (s semaphore) Release(context.Context) error { s.Semaphore.Release(); return nil }

func TestConformanceSemaphore(t *testing.T) {
	var r registry[*coord.Semaphore]
	coordtest.TestSemaphore(t, func(t *testing.T, name string, limit int) coordtest.Semaphore {
		return semaphore{r.get(t, name, func() *coord.Semaphore { return coord.NewSemaphore(limit) })}
	})
}

// event adapts coord.Event, whose Set, Clear and IsSet take no ctx and
// cannot fail; a done ctx fails them as it would a call that can.
type event struct{ *coord.Event }

func (e event) Set(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.Event.Set()
	return nil
}

func (e event) Clear(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.Event.Clear()
	return nil
}

func (e event) IsSet(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return e.Event.IsSet(), nil
}

func TestConformanceEvent(t *testing.T) {
	var r registry[*coord.Event]
	coordtest.TestEvent(t, func(t *testing.T, name string) coordtest.Event {
		return event{r.get(t, name, func() *coord.Event { return new(coord.Event) })}
	})
}

func TestConformanceBarrier(t *testing.T) {
	var r registry[*coord.Barrier]
	coordtest.TestBarrier(t, func(t *testing.T, name string, parties int) coordtest.Barrier {
		return r.get(t, name, func() *coord.Barrier { return coord.NewBarrier(parties) })
	}, coordtest.WithProbe(func(t *testing.T, name string) int {
		return r.get(t, name, func() *coord.Barrier { panic("coord: no barrier " + name) }).Waiting()
	}))
}
