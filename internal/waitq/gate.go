package waitq

// A Gate is a broadcast: any number of goroutines wait on its channel, and
// opening the gate releases all of them at once by closing it. Shutting the
// gate again gives later waiters a fresh channel, so the goroutines released
// by one opening stay released even if the gate shuts at once: each of them
// holds the closed channel of its own generation.
//
// Waking n goroutines costs one close, whatever n is; that is why Event uses
// a Gate rather than a List of Waiters, and why anything else that releases
// everyone at once (a Barrier round) may. A Gate hands nothing to any one
// waiter, so a waiter that gives up has nothing to pass on and simply stops
// listening.
//
// The zero Gate is shut. Like a List, a Gate has no lock of its own: it is
// guarded by its owner's lock.
type Gate struct {
	open bool
	ch   chan struct{} // nil until someone asks for it while the gate is shut
}

// closed is the channel a Gate hands out when it was opened before anyone
// asked for its channel. It is closed once, at init, and never written again.
var closed = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// Open opens g, releasing every goroutine waiting on its channel. It reports
// whether g was shut.
func (g *Gate) Open() bool {
	if g.open {
		return false
	}
	g.open = true
	if g.ch != nil {
		close(g.ch)
	} else {
		g.ch = closed
	}
	return true
}

// Shut shuts g. Goroutines already released stay released; Chan returns a
// new channel to later callers. It reports whether g was open.
func (g *Gate) Shut() bool {
	if !g.open {
		return false
	}
	g.open = false
	g.ch = nil // made lazily: a Clear nobody waits after costs no allocation
	return true
}

// IsOpen reports whether g is open.
func (g *Gate) IsOpen() bool { return g.open }

// Chan returns the channel of g's current generation: closed if g is open,
// otherwise one that Open will close.
func (g *Gate) Chan() <-chan struct{} {
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	return g.ch
}
