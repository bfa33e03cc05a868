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
// A gate's channel is made by whichever goroutine first asks for it, so in a
// testing/synctest bubble it belongs to that bubble, and no goroutine of
// another bubble may touch it. Nothing outside the runtime can tell which
// bubble a channel belongs to, so a Gate keeps no channel longer than
// someone may still be waiting on it in the bubble that made it:
//
//   - Open closes the channel and from then on hands out closed, made
//     outside every bubble, which any goroutine may receive from (a closed
//     channel never blocks, so durable blocking does not come into it).
//   - Enter counts the waiters it hands the channel to, and Leave uncounts
//     one that gave up; when the last leaves before the gate opened, the
//     gate forgets the channel and the next Enter makes a new one. A gate
//     used by one bubble after another (a package-level Event) thus never
//     hands one bubble's channel to the next, as long as its channel is only
//     taken through Enter.
//   - Chan hands the channel to holders the gate cannot count (Event.Done);
//     it keeps that channel until the gate opens.
//
// The zero Gate is shut. Like a List, a Gate has no lock of its own: it is
// guarded by its owner's lock.
type Gate struct {
	open    bool
	ch      chan struct{} // nil until someone asks for it while the gate is shut
	waiters int           // Enters not yet matched by a Leave, in this generation
	shared  bool          // ch was handed out by Chan in this generation
}

// closed is the channel a Gate hands out once it is open. It is closed once,
// at init, outside every bubble, and never written again.
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
	}
	g.ch, g.waiters, g.shared = closed, 0, false
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
// otherwise one that Open will close. g keeps that channel until it opens.
func (g *Gate) Chan() <-chan struct{} {
	g.shared = true
	return g.get()
}

// Enter returns the channel of g's current generation, like Chan, for a
// waiter that will call Leave with it if it stops waiting before the gate
// opens.
func (g *Gate) Enter() <-chan struct{} {
	if !g.open {
		g.waiters++
	}
	return g.get()
}

// Leave tells g that a waiter that got ch from Enter no longer waits on it.
// If ch is still g's shut channel and nobody else may be waiting on it, g
// forgets it: it may belong to a bubble that ends with this waiter.
func (g *Gate) Leave(ch <-chan struct{}) {
	if g.open || g.ch == nil || ch != (<-chan struct{})(g.ch) {
		return // the generation ch belongs to is over
	}
	g.waiters--
	if g.waiters == 0 && !g.shared {
		g.ch = nil
	}
}

func (g *Gate) get() chan struct{} {
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	return g.ch
}
