package waitq_test

import (
	"context"
	"sync"
	"testing"

	"github.com/coordkit/coord/internal/waitq"
)

// Keep: a granted waiter whose ctx is done keeps its grant (Wait returns
// nil); an ungranted one leaves the list and Wait returns ctx.Err().
func TestKeep(t *testing.T) {
	var mu sync.Mutex
	var l waitq.List[struct{}]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	w := waitq.NewWaiter[struct{}]()
	mu.Lock()
	l.PushBack(w)
	if err := w.Wait(ctx, &mu, l.Keep(w)); err != context.Canceled {
		t.Fatalf("ungranted Wait = %v; want Canceled", err)
	}
	if l.Len() != 0 || l.Remove(w) {
		t.Fatal("ungranted waiter still queued")
	}

	w = waitq.NewWaiter[struct{}]()
	l.PushBack(w)
	l.Remove(w)
	w.Grant()
	mu.Lock()
	if err := w.Wait(ctx, &mu, l.Keep(w)); err != nil {
		t.Fatalf("granted Wait = %v; want nil (the grant is kept)", err)
	}
}

// HandOn: cancellation wins; a granted waiter passes its grant on, an
// ungranted one leaves the list, and both return ctx.Err().
func TestHandOn(t *testing.T) {
	var mu sync.Mutex
	var l waitq.List[struct{}]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	passed := 0
	pass := func() { passed++ }

	w := waitq.NewWaiter[struct{}]()
	mu.Lock()
	l.PushBack(w)
	if err := w.Wait(ctx, &mu, l.HandOn(w, pass)); err != context.Canceled {
		t.Fatalf("ungranted Wait = %v", err)
	}
	if l.Len() != 0 || passed != 0 {
		t.Fatalf("Len = %d, passed = %d; want 0, 0", l.Len(), passed)
	}

	w = waitq.NewWaiter[struct{}]()
	l.PushBack(w)
	l.Remove(w)
	w.Grant()
	mu.Lock()
	if err := w.Wait(ctx, &mu, l.HandOn(w, pass)); err != context.Canceled {
		t.Fatalf("granted Wait = %v; want Canceled (cancellation wins)", err)
	}
	if passed != 1 {
		t.Fatalf("passed = %d; want the grant handed on once", passed)
	}
}

// The List is FIFO, PushFront keeps a returning waiter first, and Remove
// works anywhere.
func TestListOrder(t *testing.T) {
	var l waitq.List[struct{}]
	ws := make([]*waitq.Waiter[struct{}], 4)
	for i := range ws {
		ws[i] = waitq.NewWaiter[struct{}]()
		ws[i].Index = i
	}
	l.PushBack(ws[1])
	l.PushBack(ws[2])
	l.PushBack(ws[3])
	l.PushFront(ws[0])
	if !l.Remove(ws[2]) || l.Remove(ws[2]) {
		t.Fatal("Remove did not report membership")
	}
	var got []int
	for w := l.PopFront(); w != nil; w = l.PopFront() {
		got = append(got, w.Index)
	}
	if len(got) != 3 || got[0] != 0 || got[1] != 1 || got[2] != 3 || l.Len() != 0 {
		t.Fatalf("order %v; want [0 1 3]", got)
	}
}
