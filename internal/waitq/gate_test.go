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
