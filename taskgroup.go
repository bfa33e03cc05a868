package coord

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// A TaskGroup runs goroutines, its tasks, that work on parts of one job, and
// waits for all of them; the first task to fail cancels the others. It is
// asyncio.TaskGroup for goroutines.
//
// Create one with NewTaskGroup. The zero TaskGroup is also ready to use: it
// behaves as one made by NewTaskGroup(context.Background()) whose ctx the
// caller never sees. A TaskGroup must not be copied after first use. Its
// methods are safe for use by any number of goroutines; tasks may start more
// tasks with Go while Wait is waiting.
//
// A TaskGroup is used once: Go after Wait has returned panics.
//
// How it differs from golang.org/x/sync/errgroup:
//
//   - Wait returns every failure, joined with errors.Join in the order they
//     happened, not only the first one.
//   - A task that returns only the cancellation it was handed — an error for
//     which errors.Is(err, ctx.Err()) holds once the group's ctx is done — has
//     not failed: it is the echo of another failure or of the parent's
//     cancellation, and is left out of Wait's result, as asyncio drops the
//     CancelledError of a task it cancelled.
//   - If the parent ctx was done before the tasks finished (or when Wait is
//     called) and no task failed, Wait returns the parent's ctx.Err(): a
//     cancelled caller sees that it was cancelled, even if every task
//     returned nil, as asyncio re-raises CancelledError. errgroup returns nil.
//   - A panicking task does not crash the program from its own goroutine: the
//     panic is recovered, cancels the group like a failure, and Wait re-raises
//     it once every task has finished, as a *PanicError carrying the original
//     value and the task's stack (as github.com/sourcegraph/conc does).
//     errgroup lets the panic kill the process.
//   - Each task receives the group's ctx as its argument, derived from the
//     one NewTaskGroup returned so that it owns no ReentrantMutex hold: as an
//     asyncio task created inside `async with lock` does not own the lock, a
//     task does not inherit the holds of the goroutine that started it.
//   - Go after Wait has returned panics; errgroup leaves reuse undefined.
//   - There is no SetLimit; bound concurrency with a Semaphore inside the
//     tasks, or around the calls to Go.
//
// As with errgroup, the group's ctx is cancelled by the first failure (with
// that failure as its context.Cause), by the parent, or when Wait returns.
type TaskGroup struct {
	_ noCopy

	mu      sync.Mutex
	parent  context.Context
	ctx     context.Context // the group's ctx, returned by NewTaskGroup
	taskCtx context.Context // ctx without ReentrantMutex ownership, given to tasks
	cancel  context.CancelCauseFunc

	running   int
	idle      chan struct{} // made by Wait while tasks run; closed when none do
	finished  bool          // Wait has seen no task running and returns
	parentErr error         // the parent's error, if it was done before the tasks finished
	failures  []error       // in the order they happened
	panicked  *PanicError   // the first panic
}

// A PanicError is the value TaskGroup.Wait panics with when a task panicked.
// It keeps the value the task panicked with and the task's stack at that
// moment, which the re-raised panic would otherwise lose.
type PanicError struct {
	// Value is the value the task passed to panic.
	Value any
	// Stack is the task's stack trace at the panic, as from debug.Stack.
	Stack []byte
}

// Error returns the panic value and the stack of the task that panicked.
func (p *PanicError) Error() string {
	return fmt.Sprintf("coord: TaskGroup task panicked: %v\n\n[task stack]:\n%s", p.Value, p.Stack)
}

// Unwrap returns Value if it is an error, so that errors.Is and errors.As see
// through a PanicError to what the task panicked with.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// errGoexit records a task that ended by runtime.Goexit (as t.FailNow does):
// it neither returned nor panicked, and its work is not done.
var errGoexit = errors.New("coord: TaskGroup task called runtime.Goexit")

// NewTaskGroup returns a TaskGroup and its ctx, derived from ctx. The ctx is
// cancelled by the first task to fail, when ctx is, or when Wait returns.
func NewTaskGroup(ctx context.Context) (*TaskGroup, context.Context) {
	g := &TaskGroup{}
	g.init(ctx)
	return g, g.ctx
}

// init sets up the group's ctx. g.mu is held or g is not yet shared.
func (g *TaskGroup) init(parent context.Context) {
	g.parent = parent
	g.ctx, g.cancel = context.WithCancelCause(parent)
	g.taskCtx = withoutOwnership(g.ctx)
}

// Go runs f in a new goroutine, as a task of the group, passing it the
// group's ctx (without the caller's ReentrantMutex holds).
//
// f fails if it panics, or returns a non-nil error other than the group's
// own cancellation echoed back after the group's ctx is done. The first
// failure cancels the group's ctx. Go on a group whose ctx is already
// cancelled still runs f, with the cancelled ctx, so that f can clean up.
//
// Go panics if Wait has already returned.
func (g *TaskGroup) Go(f func(ctx context.Context) error) {
	g.mu.Lock()
	if g.ctx == nil {
		g.init(context.Background())
	}
	if g.finished {
		g.mu.Unlock()
		panic("coord: TaskGroup.Go called after Wait returned")
	}
	g.running++
	ctx := g.taskCtx
	g.mu.Unlock()
	go g.run(ctx, f)
}

func (g *TaskGroup) run(ctx context.Context, f func(context.Context) error) {
	var err error
	returned := false
	defer func() {
		var pe *PanicError
		if !returned {
			if r := recover(); r != nil {
				pe = &PanicError{Value: r, Stack: debug.Stack()}
			} else {
				err = errGoexit // runtime.Goexit: no value to recover
			}
		}
		g.finish(err, pe)
	}()
	err = f(ctx)
	returned = true
}

// finish records the outcome of a task that has ended.
func (g *TaskGroup) finish(err error, pe *PanicError) {
	g.mu.Lock()
	var cause error
	switch {
	case pe != nil:
		if g.panicked == nil {
			g.panicked = pe
		}
		cause = pe
	case err != nil:
		// A task that returns the group's own cancellation after the group
		// was cancelled has not failed: it is obeying the cancel.
		if cerr := g.ctx.Err(); cerr == nil || !errors.Is(err, cerr) {
			g.failures = append(g.failures, err)
			cause = err
		}
	}
	if g.parentErr == nil {
		// Seen here, the parent was done before this task (and so before the
		// last task) finished.
		g.parentErr = g.parent.Err()
	}
	g.running--
	if g.running == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
	g.mu.Unlock()
	if cause != nil {
		g.cancel(cause) // only the first call sets the cause
	}
}

// Wait waits until every task has finished, cancels the group's ctx, and
// returns:
//
//   - if a task panicked, nothing: Wait panics with a *PanicError holding the
//     first panic's value and the task's stack;
//   - otherwise, if tasks failed, their errors joined with errors.Join in the
//     order they failed (a single failure is returned as itself);
//   - otherwise, if the parent ctx was done before the tasks finished, or when
//     Wait was called, the parent's ctx.Err();
//   - otherwise nil.
//
// Wait takes no ctx: it waits only for the group's own tasks, which it can
// cancel through the group's ctx. It may be called more than once, and
// returns the same result each time.
func (g *TaskGroup) Wait() error {
	g.mu.Lock()
	if g.ctx == nil {
		g.init(context.Background())
	}
	if !g.finished && g.parentErr == nil {
		g.parentErr = g.parent.Err()
	}
	for g.running > 0 {
		if g.idle == nil {
			g.idle = make(chan struct{})
		}
		idle := g.idle
		g.mu.Unlock()
		<-idle
		g.mu.Lock()
	}
	g.finished = true
	pe, failures, parentErr := g.panicked, g.failures, g.parentErr
	g.mu.Unlock()

	g.cancel(nil)
	if pe != nil {
		panic(pe)
	}
	switch len(failures) {
	case 0:
		return parentErr
	case 1:
		return failures[0]
	}
	return errors.Join(failures...)
}
