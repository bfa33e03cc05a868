// Package etcd provides coord's primitives across processes and machines,
// on an etcd cluster: Mutex, Semaphore, Event and Barrier, with the same
// rules for every wait as the in-process package coord, plus what a
// distributed lock needs and an in-process one does not: fencing tokens, a
// signal that a hold was lost, and a comparison that makes a write
// conditional on still holding.
//
//	in process (coord)       across processes (coord/etcd)
//	coord.Mutex              etcd.Mutex      (satisfies coord.Locker)
//	coord.RWMutex            etcd.RWMutex    (a Mutex of its name is a writer)
//	coord.Semaphore          etcd.Semaphore
//	coord.Event              etcd.Event
//	coord.Barrier            etcd.Barrier
//	(none in process)        etcd.Election   (leader election; Observe follows it)
//
// # Sessions
//
// Every primitive lives on a Session: one lease per process, kept alive by
// the session, to which every key the primitives write is attached. When the
// process dies its keys go when the lease expires (the TTL, WithTTL); Close
// revokes the lease and so releases everything at once. The session counts
// its lease as lost early, at the send time of the last acknowledged
// keepalive plus the TTL minus a safety margin, so that a holder learns it
// has lost a lock before any other process can be granted it, even when the
// cluster cannot be reached.
//
// # Holding safely
//
// A process can lose a lock it holds without calling Unlock: its lease
// expires during a long pause or a partition, or an operator deletes its
// key. Two mechanisms keep that from corrupting what the lock protects:
//
//   - Lost returns a channel that is closed when the hold ends other than by
//     Unlock. A holder that selects on it and stops acting never overlaps the
//     next holder.
//   - Token returns the hold's fencing token, strictly increasing across
//     successive holders of a name, for a storage service to refuse writes
//     older than the newest token it has seen; and Guard returns a Txn
//     comparison that holds only while the hold is current, for data kept in
//     etcd itself (see the example).
//   - Context returns a ctx for the work done under the hold, done when
//     the hold is released or lost (context.Cause is then ErrLost), so
//     work that passes it down stops by itself when the lock goes.
//
// # Ordering and cost
//
// Each Lock or Acquire writes a key; keys are served in create-revision
// (arrival) order. A Mutex waiter watches only the key just before its own,
// so a handoff costs the next waiter one watch event and wakes nobody else.
// An RWMutex's readers queue in <prefix>rlock/<name>/, beside its writers
// (and the Mutex holders of its name) in lock/<name>/: a reader watches the
// last writer before it, and a writer the key just before its own, reader
// or writer, so a release wakes only those it lets in.
// The package is built on the client's raw KV, Txn, Watch and Lease APIs, not
// on client/v3/concurrency, whose Mutex gives holders neither a lost-lock
// signal nor a fencing check, and aliases two mutexes of one session.
//
// # Waits, errors and cancellation
//
// As in package coord, a wait that is given up returns ctx.Err() itself and
// has taken nothing (its key is deleted before it returns), and a call whose
// ctx is already done returns ctx.Err() and changes nothing. Every wait also
// ends within a few seconds of its session ending, with an error errors.Is
// ErrSessionDone, so a ctx without a deadline never hangs on a cluster that
// cannot be reached; Unlock, Release and Session.Close are bounded by a
// timeout. Errors from the cluster come back wrapped with the operation and
// the name (`coord/etcd: lock "jobs": ...`) and stay errors.Is-comparable to
// the client's errors.
//
// # Key layout
//
// Keys live under the session's prefix (default "/coord/"):
// <prefix>lock/<name>/<holder>, <prefix>sem/<name>/<holder>,
// <prefix>rlock/<name>/<holder> (an RWMutex's readers),
// <prefix>barrier/<name>/<holder>, <prefix>election/<name>/<holder>,
// <prefix>event/<name> and <prefix>eventwait/<name>/<holder> (an Event's
// waiters), the name path-escaped. Each value records the writing
// session's host and pid; List reads them back as the holders, waiters and
// set events that `coord ls` shows, and WatchList follows them.
//
// # Seeing inside
//
// Every primitive has Stats, this process's view of its own value, and can
// be given to coord.Register, as in package coord; its waits that block
// are reported by coord.SetSlowWait too. List and WatchList show the
// cluster's view of every name: who holds, who waits, in what order.
//
// # Running a server
//
// Package embedded (coord/etcd/embedded) runs an embedded single-member etcd
// (or a member of a small cluster), as `coord serve` does and as the tests
// do. It is apart so that a program that only takes locks does not link the
// etcd server. DiscardGRPCLogs keeps the gRPC library quiet.
package etcd
