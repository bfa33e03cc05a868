package main

// The prose of BENCHMARKS.md. It explains where the costs come from, which
// does not change from run to run, and leaves verdicts and numbers to the
// tables; it was written from the profiles and runs of November 2026.
// Re-read it when the code it describes changes.

// notes explain results that the numbers alone do not, keyed by the
// workload's benchmark name.
var notes = map[string]string{
	"MutexContended": "coord.Mutex and sync.Mutex both let a running goroutine take a free mutex ahead of " +
		"a woken waiter (for at most about 1 ms), so the mutex stays busy while a waiter wakes up. " +
		"semaphore.Weighted(1) and the channel mutex hand it over in strict FIFO order, which costs a " +
		"goroutine switch per Lock under contention: that is the order of magnitude between them.",
	"MutexHandoff100": "Every holder yields while it holds the mutex, so nearly every Unlock finds parked " +
		"waiters: this measures the handoff path (queue, park, wake), where coord's waiters park on a " +
		"channel of their own and sync.Mutex's on the runtime semaphore.",
	"CancelledWait/soon": "Each op creates a cancellable ctx, sends its cancel func to another goroutine and " +
		"blocks in Lock until that goroutine cancels it; the goroutine switches dominate, and the three " +
		"implementations do the same work around them. coord's waiter also has to leave the queue and " +
		"check whether it was granted the mutex on the way out (API rule 3).",
	"RWMutexUncontendedWrite": "coord.RWMutex's Lock and Unlock are one compare-and-swap each on its state " +
		"word; sync.RWMutex's Lock takes its writer mutex and then announces itself on the reader count, " +
		"and its Unlock undoes both: four atomic operations to coord's two.",
	"RWMutexReadMostly": "Readers take and leave the lock with one atomic add each, as sync.RWMutex's do, " +
		"and contend for the same cache line. Each write makes the readers that arrive meanwhile wait: " +
		"coord's yield the processor up to four times before they queue, which usually outlasts the " +
		"write hold, so few of them pay for queueing (the RWMutex's internal lock and a waiter allocated " +
		"per wait) and parking. The semaphore.Weighted lock sends every reader through its mutex.",
	"EventBroadcast1000": "One op wakes 1000 parked goroutines and waits for the last one to check in; " +
		"the runtime's cost of making 1000 goroutines runnable and running them is most of it, whichever " +
		"primitive fires. coord.Event.Set closes a channel, as the anchor does, plus its bookkeeping for " +
		"Clear.",
	"CondBoundedBuffer": "Where the time goes (CPU profile of the coord side): every Cond.Wait that blocks " +
		"allocates a fresh waiter with its own channel (internal/waitq deliberately does not pool them, so " +
		"that a wait inside a testing/synctest bubble never reuses a channel from another bubble), about a " +
		"seventh of the CPU time; a wakeup is a channel send and receive, where sync.Cond parks and readies " +
		"goroutines on the runtime's notify list directly, with no allocation; and producer and consumer " +
		"contend for a coord.Mutex whose state word Wait and Notify also read, to panic when the lock is " +
		"not held. Notify with nobody waiting returns without taking the Cond's internal lock, as " +
		"sync.Cond.Signal does.",
	"SemaphoreTenOf1000": "Each holder yields while it holds its permit, so the 990 others really queue. " +
		"coord.Semaphore and semaphore.Weighted both serve waiters FIFO and hand permits over directly, " +
		"allocating a waiter (a struct and a channel) per wait that blocks. The channel semaphore is FIFO " +
		"too (a receive hands the freed slot to the longest-blocked sender), but inside the runtime, " +
		"whose waiter records are cached per goroutine: that is its lead here.",
	"RateLimiterWaitPaced": "Both limiters admit 100 000 per second on average, so the ideal is 10 µs per " +
		"Wait; the excess over it is the cost of sleeping and waking on time. The sliding window admits " +
		"in bursts (up to 100 at once, when the oldest admission leaves the window) where the token " +
		"bucket admits one token at a time.",
	"TaskGroup": "Per group coord does a little more than errgroup: a cancellable ctx derived from the " +
		"parent, panic recovery in every task (a panic is re-raised by Wait with the task's stack) and " +
		"errors.Join of every failure rather than the first. The WaitGroup row is the floor with none of it.",
	"QueueSPSC": "Queue.Put and Get can always be given up through their ctx; the fair comparison for that " +
		"is the chan-select-ctx row, a select on the channel and ctx.Done().",
}

// asyncioRemarks explain the comparison with the seed.
const asyncioRemarks = "Where coord misses the goal against asyncio, so does Go itself: the last column " +
	"shows the Go anchor of the same workload no further ahead. Waking a parked goroutine means handing " +
	"it to a scheduler that runs it on one of the machine's threads, where asyncio resumes a coroutine " +
	"inside the one thread it already runs in; once each op is mostly wakeups (1000 per Event round, one " +
	"or two per Semaphore op, with a yield inside the critical section as in the asyncio code), the ratio " +
	"is the ratio of a goroutine wakeup to an asyncio task switch, not a property of the primitive. " +
	"Where no goroutine has to wake (an uncontended Lock, a buffer that rarely fills) coord is well " +
	"past the goal, and unlike asyncio it is also doing the work on every core."

// profileSummary is what the profiles of coord.Mutex under contention
// showed; the top entries follow it in BENCHMARKS.md.
const profileSummary = "Under contention coord.Mutex spends its CPU time where sync.Mutex does: in the atomic " +
	"operations on its one state word (the compare-and-swap of Lock's fast path, of the bounded spin in " +
	"lockSlow, and of Unlock), that is, in moving that word's cache line between the cores. The waiter " +
	"queue costs next to nothing: the sync.Mutex that guards it appears in the mutex profile with well " +
	"under a millisecond of contention over the whole run, there are no allocations per op, and the block " +
	"profile puts the waiting in waitq.(*Waiter).Wait, the channel receive where a parked waiter is meant " +
	"to be (the rest is the benchmark's own WaitGroup)."
