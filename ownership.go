package coord

import "context"

// reentrantKey is the context key under which a ReentrantMutex records the
// hold that a context owns.
type reentrantKey struct{ r *ReentrantMutex }

// ownerless is a context that hides every ReentrantMutex hold of its parent
// while passing on its deadline, cancellation and other values. TaskGroup
// gives it to its tasks: as an asyncio task created inside `async with lock`
// does not own the lock, a goroutine started by TaskGroup.Go does not own the
// ReentrantMutex holds of the context it was started from.
type ownerless struct{ context.Context }

func (c ownerless) Value(key any) any {
	if _, ok := key.(reentrantKey); ok {
		return nil
	}
	return c.Context.Value(key)
}

// withoutOwnership returns a context derived from ctx that owns no
// ReentrantMutex.
func withoutOwnership(ctx context.Context) context.Context {
	return ownerless{ctx}
}
