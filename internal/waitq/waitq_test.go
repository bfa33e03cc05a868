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

// A List hands back the Waiters it was given, reset, and keeps at most a
// few of them.
func TestRecycle(t *testing.T) {
	var mu sync.Mutex
	var l waitq.List[int]
	mu.Lock()
	w := l.Waiter()
	mu.Unlock()
	w.N, w.Val, w.Index, w.Err = 3, 4, 5, context.Canceled
	l.PushBack(w)
	l.Remove(w)
	w.Grant()
	l.Recycle(w)

	mu.Lock()
	w2 := l.Waiter()
	w3 := l.Waiter()
	mu.Unlock()
	if w2 != w {
		t.Fatal("Waiter did not reuse the recycled waiter")
	}
	if w3 == w {
		t.Fatal("Waiter handed out one waiter twice")
	}
	if w2.N != 0 || w2.Val != 0 || w2.Index != 0 || w2.Err != nil {
		t.Fatalf("recycled waiter not reset: N=%d Val=%d Index=%d Err=%v", w2.N, w2.Val, w2.Index, w2.Err)
	}
	// A recycled waiter is not granted: it can be queued, granted and
	// waited on again.
	mu.Lock()
	l.PushBack(w2)
	l.Remove(w2)
	w2.Grant()
	if err := w2.Wait(context.Background(), &mu, l.Keep(w2)); err != nil {
		t.Fatalf("Wait of a granted recycled waiter = %v", err)
	}

	// Recycle many; only a bounded number are handed back.
	many := make([]*waitq.Waiter[int], 100)
	for i := range many {
		many[i] = waitq.NewWaiter[int]()
	}
	for _, w := range many {
		l.Recycle(w)
	}
	seen := map[*waitq.Waiter[int]]bool{}
	mu.Lock()
	for range len(many) {
		seen[l.Waiter()] = true
	}
	mu.Unlock()
	reused := 0
	for _, w := range many {
		if seen[w] {
			reused++
		}
	}
	if reused == 0 || reused > 16 {
		t.Fatalf("%d of 100 recycled waiters reused; want a few, not all", reused)
	}
}

// A wait that parks with a ctx that cannot end (on the Waiter's Cond) and
// with one that can (on a channel) is woken by Grant, and Wait returns with
// the owner's lock released.
func TestParkAndGrant(t *testing.T) {
	ctxs := map[string]context.Context{"background": context.Background()}
	live, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctxs["cancellable"] = live
	for name, ctx := range ctxs {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var l waitq.List[int]
			for round := range 3 { // the same Waiter, recycled, round after round
				mu.Lock()
				w := l.Waiter()
				l.PushBack(w)
				done := make(chan error)
				go func() { done <- w.Wait(ctx, &mu, l.Keep(w)) }()
				// The waiter releases mu as it parks: this Lock proves it.
				mu.Lock()
				g := l.PopFront()
				if g != w {
					t.Fatal("PopFront did not return the queued waiter")
				}
				g.Val = round
				g.Grant()
				mu.Unlock()
				if err := <-done; err != nil {
					t.Fatalf("Wait = %v", err)
				}
				if w.Val != round {
					t.Fatalf("Val = %d; want %d", w.Val, round)
				}
				l.Recycle(w)
			}
		})
	}
}

// A wait whose ctx cannot end allocates nothing once its List has a spare
// Waiter: the Waiter is reused and parking on its Cond makes no channel.
func TestWaitAllocatesNothing(t *testing.T) {
	var mu sync.Mutex
	var l waitq.List[int]
	ctx := context.Background()
	cycle := func() {
		mu.Lock()
		w := l.Waiter()
		l.PushBack(w)
		l.Remove(w)
		w.Grant()
		if err := w.Wait(ctx, &mu, l.Keep(w)); err != nil {
			t.Fatal(err)
		}
		l.Recycle(w)
	}
	cycle()
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Fatalf("%v allocations per wait; want 0", n)
	}
}
