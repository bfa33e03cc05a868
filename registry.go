package coord

import (
	"github.com/coordkit/coord/internal/inspect"
)

// Register names the primitive p for Snapshot, Handler and slow-wait
// reports, and in p's own Stats. A second Register of a name replaces the
// primitive registered under it.
//
// Registering keeps nothing alive: the registry holds p weakly, so a
// registered primitive that is no longer reachable is collected as usual and
// drops off the list by itself. Register(name, &s.mu), a field of a larger
// struct, is the common case.
//
// Register, like Snapshot, is a look (see Stats): from then on every wait
// that blocks, in any primitive, is timed.
//
// p must be a pointer (every primitive's Stats has a pointer receiver).
// Register panics if name is empty, if p is nil, or if p is not a pointer.
func Register(name string, p interface{ Stats() Stats }) {
	inspect.Register("Register", name, p)
}

// Unregister removes the primitive registered under name. Unregister of a
// name that is not registered does nothing.
func Unregister(name string) {
	inspect.Unregister(name)
}

// Snapshot returns the Stats of every registered primitive still alive,
// sorted by name, with Name set to the name each is registered under. It is
// what Handler shows and what a metrics adapter publishes.
//
// Like every Stats call, it is a look (see Stats), even with nothing
// registered. It calls each primitive's Stats without holding the registry's lock, so it
// may run alongside Register and Unregister in any goroutine.
func Snapshot() []Stats {
	live := inspect.Live()
	out := make([]Stats, 0, len(live))
	for _, e := range live {
		s := e.P.(interface{ Stats() Stats }).Stats()
		s.Name = e.Name
		out = append(out, s)
	}
	return out
}
