package coord_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coordkit/coord"
)

// Fetch two things at once; the first failure cancels the other fetch, and
// Wait reports the failure, not the cancellation it caused.
func ExampleTaskGroup() {
	g, ctx := coord.NewTaskGroup(context.Background())
	_ = ctx // the group's ctx, for work done by the caller alongside the tasks

	results := make([]string, 2)
	g.Go(func(ctx context.Context) error {
		results[0] = "user"
		return nil
	})
	g.Go(func(ctx context.Context) error {
		results[1] = "orders"
		return nil
	})
	if err := g.Wait(); err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(results)
	// Output: [user orders]
}

func ExampleTaskGroup_failure() {
	g, _ := coord.NewTaskGroup(context.Background())
	errNotFound := errors.New("not found")
	g.Go(func(ctx context.Context) error {
		return errNotFound
	})
	g.Go(func(ctx context.Context) error {
		select {
		case <-time.After(time.Minute): // slow work
			return nil
		case <-ctx.Done():
			return ctx.Err() // cancelled by the failure: not itself a failure
		}
	})
	err := g.Wait()
	fmt.Println(err, errors.Is(err, errNotFound))
	// Output: not found true
}

// A panicking task does not crash the program from its goroutine: Wait
// re-raises it, with the task's stack, once the other tasks are done.
func ExampleTaskGroup_panic() {
	g, _ := coord.NewTaskGroup(context.Background())
	g.Go(func(ctx context.Context) error {
		panic("out of cheese")
	})
	defer func() {
		pe := recover().(*coord.PanicError)
		fmt.Println(pe.Value)
	}()
	g.Wait()
	// Output: out of cheese
}
