package main

// The prose of BENCHMARKS.md. It explains where the costs come from, which
// does not change from run to run, and leaves verdicts and numbers to the
// tables; it was written from the profiles and runs of November 2026, and
// the notes on parking from those of December 2026, when internal/waitq
// began to keep its waiters. Re-read it when the code it describes changes.

// notes explain results that the numbers alone do not, keyed by the
// workload's benchmark name.
var notes = map[string]string{
	"MutexContended": "coord.Mutex and sync.Mutex both let a running goroutine take a free mutex ahead of " +
		"a woken waiter (for at most about 1 ms), so the mutex stays busy while a waiter wakes up. " +
		"semaphore.Weighted(1) and the channel mutex hand it over in strict FIFO order, which costs a " +
		"goroutine switch per Lock under contention: that is the order of magnitude between them.",
	"MutexHandoff100": "Every holder yields while it holds the mutex, so nearly every Unlock finds parked " +
		"waiters: this measures the handoff path (queue, park, wake). coord's waiters park on a sync.Cond " +
		"of a waiter that the mutex keeps for reuse, sync.Mutex's on the runtime semaphore; neither allocates.",
	"CancelledWait/soon": "Each op creates a cancellable ctx, sends its cancel func to another goroutine and " +
		"blocks in Lock until that goroutine cancels it; the goroutine switches dominate, and the three " +
		"implementations do the same work around them. coord's waiter also has to leave the queue and " +
		"check whether it was granted the mutex on the way out (API rule 3).",
	"RWMutexUncontendedWrite": "coord.RWMutex's Lock and Unlock are one compare-and-swap each on its state " +
		"word; sync.RWMutex's Lock takes its writer mutex and then announces itself on the reader count, " +
		"and its Unlock undoes both: four atomic operations to coord's two.",
	"RWMutexReadMostly": "Readers take and leave the lock with one atomic add each, as sync.RWMutex's do, " +
		"and contend for the same cache line. Each write makes the readers that arrive meanwhile wait: " +
		"coord's yield the processor once before they queue, which often outlasts the write hold, so " +
		"fewer of them pay for queueing (the RWMutex's internal lock and a waiter it keeps for reuse) " +
		"and parking; more yields cost more, each taking the scheduler's global run-queue lock. The " +
		"semaphore.Weighted lock sends every reader through its mutex.",
	"EventBroadcast1000": "One op wakes 1000 parked goroutines and waits for the last one to check in; " +
		"the runtime's cost of making 1000 goroutines runnable and running them is most of it, whichever " +
		"primitive fires. coord.Event.Set closes a channel, as the anchor does, plus its bookkeeping for " +
		"Clear.",
	"CondBoundedBuffer1": "With room for one item every item is a handoff: nearly every Wait parks and " +
		"nearly every Notify wakes someone, so this is the parking path at its busiest. A Cond.Wait whose " +
		"ctx cannot end parks in its wait list's lane (internal/waitq): an arrival number in a ring and " +
		"sync.Cond.Wait on the one sync.Cond of the list, no waiter record at all, so the parking is " +
		"sync.Cond's own; Notify takes the longest waiter off the ring and signals after unlocking. What " +
		"coord adds is its own Mutex under the Cond, the Cond's internal lock (which also orders these waits " +
		"against cancellable ones), and the checks that the lock is held.",
	"CondBoundedBuffer1Cancellable": "The same handoffs with a ctx that can be cancelled. A parked wait " +
		"then has to select on ctx.Done() and something a Notify can wake, which a sync.Cond is not: it " +
		"parks on a channel made for that wait by the waiting goroutine (so it belongs to that goroutine's " +
		"synctest bubble, if any) and dropped afterwards. That channel is the one allocation per item; " +
		"waking a sync.Cond from context.AfterFunc instead costs two (the registration and its stop func).",
	"SemaphoreTenOf1000": "Each holder yields while it holds its permit, so the 990 others really queue. " +
		"coord.Semaphore and semaphore.Weighted both serve waiters FIFO and hand permits over directly; " +
		"Weighted allocates a waiter (a list element and a channel) per wait that blocks, coord parks a wait " +
		"whose ctx cannot end in its list's lane on one sync.Cond, allocating nothing, and a Release wakes " +
		"the waiters it granted after unlocking. The channel semaphore is FIFO too (a receive hands the " +
		"freed slot to the longest-blocked sender), all inside the runtime under one lock; coord's Release " +
		"takes two (its own, then the notify list's), which is what is left between them.",
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
	"profile puts the waiting in waitq.(*Waiter).Wait, the park where a waiter is meant to be (the rest " +
	"is the benchmark's own WaitGroup)."
