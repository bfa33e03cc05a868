package coord_test

import (
	"context"
	"fmt"

	"github.com/coordkit/coord"
)

// An rmAccount whose methods lock it and call each other: with a Mutex,
// Transfer calling Withdraw would deadlock; with a ReentrantMutex the ctx
// that Transfer's Lock returned re-enters.
type rmAccount struct {
	mu      coord.ReentrantMutex
	balance int
}

func (a *rmAccount) Withdraw(ctx context.Context, n int) error {
	ctx, err := a.mu.Lock(ctx)
	if err != nil {
		return err
	}
	defer a.mu.Unlock(ctx)
	if a.balance < n {
		return fmt.Errorf("insufficient funds: %d < %d", a.balance, n)
	}
	a.balance -= n
	return nil
}

func (a *rmAccount) Transfer(ctx context.Context, to *rmAccount, n int) error {
	ctx, err := a.mu.Lock(ctx)
	if err != nil {
		return err
	}
	defer a.mu.Unlock(ctx)
	if err := a.Withdraw(ctx, n); err != nil { // re-enters a.mu
		return err
	}
	to.balance += n
	return nil
}

func ExampleReentrantMutex() {
	ctx := context.Background()
	a, b := &rmAccount{balance: 100}, &rmAccount{}
	fmt.Println(a.Transfer(ctx, b, 30))
	fmt.Println(a.Transfer(ctx, b, 300))
	fmt.Println(a.balance, b.balance)
	// Output:
	// <nil>
	// insufficient funds: 70 < 300
	// 70 30
}

// Held tells whether a context owns the mutex, for assertions in code that
// must be called with it held.
func ExampleReentrantMutex_Held() {
	var r coord.ReentrantMutex
	ctx, _ := r.Lock(context.Background())
	fmt.Println(r.Held(ctx), r.Held(context.Background()))
	r.Unlock(ctx)
	fmt.Println(r.Held(ctx))
	// Output:
	// true false
	// false
}
