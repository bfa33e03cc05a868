package waitq_test

import (
	"testing"

	"github.com/coordkit/coord/internal/waitq"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestGate(t *testing.T) {
	var g waitq.Gate
	if g.IsOpen() {
		t.Fatal("zero Gate is open")
	}
	if g.Shut() {
		t.Fatal("Shut of a shut Gate reported a change")
	}
	c1 := g.Chan()
	if c1 != g.Chan() || closed(c1) {
		t.Fatal("a shut Gate's channel changed or is closed")
	}
	if !g.Open() || g.Open() {
		t.Fatal("Open did not report the change exactly once")
	}
	if !closed(c1) || !closed(g.Chan()) {
		t.Fatal("Open did not close the channel")
	}
	if !g.Shut() {
		t.Fatal("Shut of an open Gate reported no change")
	}
	c2 := g.Chan()
	if closed(c2) || !closed(c1) {
		t.Fatal("Shut must give a new open channel and leave the old one closed")
	}
	g.Open()
	if !closed(c2) {
		t.Fatal("second Open did not close the new channel")
	}

	// Opened before anyone asked for the channel.
	var h waitq.Gate
	h.Open()
	if !closed(h.Chan()) {
		t.Fatal("Chan of a Gate opened first is not closed")
	}
	h.Shut()
	if closed(h.Chan()) {
		t.Fatal("Chan after Shut is closed")
	}
}

// A Gate forgets a shut channel once every waiter that entered has left,
// unless Chan handed it out, and hands out one channel made outside every
// bubble once open: a Gate used by one synctest bubble after another must
// never give the next bubble a channel the last one made.
func TestGateForgets(t *testing.T) {
	var g waitq.Gate
	c1 := g.Enter()
	c2 := g.Enter()
	if c1 != c2 {
		t.Fatal("two Enters in one generation got different channels")
	}
	g.Leave(c1)
	if g.Enter() != c1 {
		t.Fatal("the gate forgot its channel while a waiter still waits on it")
	}
	g.Leave(c1)
	g.Leave(c2)
	if c3 := g.Enter(); c3 == c1 {
		t.Fatal("the gate kept a channel nobody waits on")
	}

	// A channel handed out by Chan is kept until the gate opens.
	var h waitq.Gate
	shared := h.Chan()
	c := h.Enter()
	h.Leave(c)
	if h.Chan() != shared {
		t.Fatal("the gate forgot a channel that Chan handed out")
	}

	// Once open, every gate hands out the same closed channel.
	var a, b waitq.Gate
	a.Enter()
	a.Open()
	b.Open()
	if a.Chan() != b.Chan() || a.Enter() != b.Chan() || !closed(a.Chan()) {
		t.Fatal("open gates do not share the closed channel made at init")
	}
	// A Leave from an earlier generation changes nothing.
	a.Shut()
	c = a.Enter()
	a.Leave(shared)
	if a.Enter() != c {
		t.Fatal("a Leave with another generation's channel made the gate forget its own")
	}
}
