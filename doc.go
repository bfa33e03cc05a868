// Package coord provides synchronization primitives whose every wait can be
// given up through a context.Context: asyncio's toolkit of locks, events,
// conditions, semaphores, barriers, task groups and queues, done right for
// goroutines.
//
// The package sync gives Go fast primitives that wait forever; channels give
// cancellable waits but leave fairness, reentrancy and the bookkeeping of
// what a cancelled waiter was handed to every caller. coord's primitives are
// as cheap as sync's where nobody waits, and every call that waits takes a
// context, so a deadline, a shutdown or a cancelled request ends the wait
// without leaking a goroutine or losing what the waiter was about to get.
//
// # Which primitive
//
//   - Mutex: mutual exclusion. The Locker interface is what Mutex and every
//     distributed mutex in github.com/coordkit/coord/etcd share.
//   - ReentrantMutex: mutual exclusion that the holder may take again; the
//     hold travels in the context that Lock returns.
//   - RWMutex: any number of readers at once, or one writer alone, with
//     neither side starved.
//   - Event: a flag that goroutines wait to see set; a broadcast.
//   - Cond: wait, with a lock held, for a predicate on shared state to
//     become true.
//   - Semaphore: at most n holders at once, or a pool of n weighted units.
//   - Barrier: n goroutines meet before any of them goes on, round after round.
//   - TaskGroup: run goroutines as one unit; the first failure cancels the
//     rest, and Wait reports every failure.
//   - RateLimiter: at most n admissions in any window of time.
//   - Queue: a FIFO of values between producers and consumers, with the
//     task accounting and shutdown of asyncio.Queue.
//
// # Rules for every wait
//
// Every call that waits on other goroutines takes a ctx as its first
// argument (TaskGroup.Wait, which waits only on its own tasks, is the one
// exception). These rules hold for all of them, without exception:
//
//  1. A wait that is given up returns ctx.Err() itself, unwrapped, and has
//     taken nothing.
//  2. A call whose ctx is already done returns ctx.Err() and changes nothing,
//     even where it could have succeeded without waiting: on a free Mutex, a
//     set Event, AcquireN(ctx, 0), a true WaitFor predicate, a re-entry.
//  3. When a wakeup and a cancellation race, nothing is lost and nothing is
//     doubled. What is handed to one waiter (a Mutex, an RWMutex read or
//     write hold, Semaphore permits, a Cond notification, a Queue item, a
//     RateLimiter admission) goes to the next waiter if the waiter it was
//     meant for finds its ctx done when it wakes. A set Event and a tripped
//     Barrier round release everyone and are not handed on.
//  4. Waiting blocks on channels (or a sync.Cond), never on a sync.Mutex, so
//     a waiting goroutine is durably blocked for testing/synctest and every
//     primitive can be tested with a fake clock. A primitive may be shared by
//     tests that run one bubble after another: what it keeps for reuse
//     belongs to no bubble.
//  5. Every type is safe for use by any number of goroutines, and none needs
//     to be closed.
//  6. Misuse that is a programming error (unlocking what is not held, a
//     negative count, releasing past a bound) panics with a message that
//     begins "coord:" and names the call. Conditions a program must handle
//     at run time are errors, and those callers branch on are exported
//     sentinels such as ErrBrokenBarrier.
//
// Waiters are served in arrival order by every primitive, with two
// exceptions, both bounded: Mutex lets a running goroutine take a free
// mutex ahead of a woken one, for speed, and only for about a millisecond
// (see Mutex); and when an RWMutex writer unlocks, every reader queued
// during its hold goes in before the next writer, even one that queued
// before some of those readers, so that writers cannot starve readers (see
// RWMutex).
//
// # Seeing inside
//
// Every primitive reports on itself through a Stats method: who holds it,
// how many goroutines wait in it and for how long the oldest has, and, since
// it was made, how many waits blocked, how many were given up and how long
// they took. Only waits that block are counted, by the goroutine that parks
// anyway, so the fast paths (a free Mutex, a set Event) cost what they cost
// without it. And until someone looks (the first Stats, Snapshot, request to
// Handler, Register or SetSlowWait of the process), a wait that blocks is
// only counted, not timed: reading the clock twice per wait would slow a
// workload where every op parks by a fifth or more. From the first look on,
// every wait is timed; a wait that was already blocked then counts its age
// from that moment (a lower bound; a Mutex knows its waiters' ages, so
// its OldestWait is exact). The Stats type says exactly what is exact when.
//
// Register names a primitive (registering keeps nothing alive), Snapshot
// returns the Stats of every registered one, and Handler serves them as a
// live page and as JSON, as net/http/pprof serves profiles:
//
//	coord.Register("orders/jobs", &s.jobs)
//	http.Handle("/debug/coord", coord.Handler())
//
// SetSlowWait logs a warning for each wait that has blocked longer than a
// threshold, while it still waits, with where it waits from and, for the
// locks, where the holder took it. The module github.com/coordkit/coord/otel
// publishes the same Stats as OpenTelemetry metrics.
//
// # From asyncio
//
//	asyncio                     coord
//	asyncio.Lock                Mutex (Go calls a lock a Mutex)
//	RLock (asyncio has none)    ReentrantMutex (in Go, RLock means a read lock)
//	(asyncio has no RW lock)    RWMutex (readers share, a writer excludes)
//	asyncio.Event               Event
//	asyncio.Condition           Cond
//	asyncio.Semaphore           NewSemaphore
//	asyncio.BoundedSemaphore    NewBoundedSemaphore
//	asyncio.Barrier             Barrier
//	asyncio.TaskGroup           TaskGroup
//	asyncio.Queue               Queue (with Python 3.13's Shutdown)
//	asyncio.wait_for(x, t)      context.WithTimeout on the ctx of any wait
//	task.cancel()               cancelling the ctx of the wait
//	async with lock:            if err := m.Lock(ctx); err != nil { ... }; defer m.Unlock()
//
// Unlike asyncio's, coord's primitives are used by goroutines running in
// parallel, not by tasks taking turns on one thread, so they are safe across
// threads, and a cancelled wait is reported as an error value rather than
// raised.
package coord
