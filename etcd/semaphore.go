package etcd

import (
	"context"
	"strconv"
	"unsafe"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// A Semaphore admits at most limit holders of a name at once across
// processes, kept on a Session's lease.
//
// Each Acquire writes a key; a waiter is admitted when fewer than limit keys
// precede its own by create revision, so holders are admitted in arrival
// order (FIFO), and a waiter that gives up deletes its key, passing its place
// to those behind it. A waiter watches the name's range for deletions only
// (puts are filtered out by the server) and keeps count of the keys ahead of
// it from the events, without reading again: one release costs each waiter
// one event and no request. (A Mutex does better, one event for one waiter,
// because only its first waiter can be admitted by a release; with limit > 1
// any deletion ahead can admit the first waiter, whichever holder it was.)
//
// A Semaphore value, like a Mutex value, holds at most once at a time, and
// its Token and Lost mean what they mean for Mutex; goroutines sharing one
// value take turns. Processes sharing a name must pass the same limit: an
// Acquire whose limit differs from the one in use on the name (by any key
// of a holder or waiter left under it) fails at once, writing nothing, with
// an error errors.Is ErrMismatch that names both numbers (*MismatchError);
// once no key of the name is left, any limit may start over. The check and
// the write of the key are one transaction, so of two processes arriving at
// once with different limits, one fails. A Semaphore is safe for use by any
// number of goroutines; it must be made with NewSemaphore (there is no useful
// zero value) and not copied (go vet's copylocks check catches a copy).
type Semaphore struct {
	v     holder
	limit int
}

// NewSemaphore returns the semaphore called name on s's prefix, admitting at
// most limit holders at once. A limit below 1 panics.
func NewSemaphore(s *Session, name string, limit int) *Semaphore {
	if s == nil {
		panic("coord: etcd.NewSemaphore with a nil session")
	}
	if limit < 1 {
		panic("coord: etcd.NewSemaphore with limit " + strconv.Itoa(limit) + " < 1")
	}
	m := &Semaphore{limit: limit}
	m.v.init(unsafe.Pointer(m), semaphoreKind, s, kindSem, name)
	return m
}

var semaphoreKind = &inspect.Kind{Name: "Semaphore"}

// Stats returns this process's view of m, as Mutex.Stats: Holders is 1
// while m holds one of the limit places (a value holds at most one), not
// the number of holders across processes, which List shows.
func (m *Semaphore) Stats() coord.Stats { return m.v.stats() }

// Name returns the name the semaphore was made with.
func (m *Semaphore) Name() string { return m.v.name }

// Limit returns the number of holders the semaphore admits at once.
func (m *Semaphore) Limit() int { return m.limit }

// Acquire waits until the caller is one of at most limit holders and
// returns nil. It returns ctx.Err() if ctx ends first, having deleted its key
// (it took nothing, and those behind it move up), an error errors.Is
// ErrSessionDone if the session ends first, and an error errors.Is
// ErrMismatch, at once and having written nothing, if the name is in use
// with another limit. A ctx that is already done returns ctx.Err() at once
// and changes nothing.
func (m *Semaphore) Acquire(ctx context.Context) error {
	return m.v.acquire(ctx, "acquire semaphore", m.v.kn, keyMeta{Limit: m.limit}, line{
		admits: func(ahead int64) bool { return ahead < int64(m.limit) },
		wait:   m.waitAdmitted,
	})
}

// waitAdmitted waits until fewer than limit keys precede (key, rev). It
// reads the keys ahead once and follows their deletions on the watch,
// without reading again (the follow's watch comes first, so no deletion
// between the read and the watch is missed, and one seen twice is
// harmless).
func (m *Semaphore) waitAdmitted(ctx context.Context, key string, rev int64) error {
	s := m.v.s
	ahead := make(map[string]struct{})
	return s.follow(ctx, &follow{
		key:  m.v.pfx,
		opts: []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithFilterPut()},
		read: func(ctx context.Context) (bool, error) {
			resp, err := s.cli.Txn(ctx).Then(
				clientv3.OpGet(key, clientv3.WithKeysOnly()),
				clientv3.OpGet(m.v.pfx, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithMaxCreateRev(rev-1)),
			).Commit()
			if err != nil {
				return false, err
			}
			if !exists(resp.Responses[0].GetResponseRange().Kvs, rev) {
				return false, errKeyGone
			}
			clear(ahead)
			for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
				ahead[string(kv.Key)] = struct{}{}
			}
			return len(ahead) < m.limit, nil
		},
		seen: func(ev *clientv3.Event) (bool, error) {
			k := string(ev.Kv.Key)
			if k == key {
				return false, errKeyGone
			}
			delete(ahead, k)
			return len(ahead) < m.limit, nil
		},
	})
}

// Release ends the hold and deletes its key, fenced so it never deletes
// another's. It returns an error errors.Is ErrLost when the hold had ended
// before (Lost is closed; when the session is done, the error is also
// errors.Is ErrSessionDone), or the cluster's error when the delete did not go
// through within ctx and a few seconds; either way m is no longer held, except
// when ctx was already done: then Release returns ctx.Err() and changes
// nothing. Release of a Semaphore that is not held panics.
func (m *Semaphore) Release(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return m.v.release(ctx, "release semaphore", "coord: etcd Semaphore.Release of a semaphore not held")
}

// Token returns the fencing token of the current hold, the create revision
// of its key, or 0 when m is not held. Tokens increase strictly across
// successive acquisitions of the name; with limit > 1 several holders hold
// tokens at once.
func (m *Semaphore) Token() int64 { return m.v.token() }

// Lost returns a channel that is closed when the current hold ends other
// than by Release, as Mutex.Lost.
func (m *Semaphore) Lost() <-chan struct{} { return m.v.lost() }

// Guard returns a comparison that holds in a Txn only while the current hold
// is current, as Mutex.Guard: never when m is not held or its hold is known
// to be lost.
func (m *Semaphore) Guard() clientv3.Cmp { return m.v.guard() }

// Context returns a ctx for the work done under the current hold, done
// when parent is, when m is released, or when the hold is lost, as
// Mutex.Context.
func (m *Semaphore) Context(parent context.Context) context.Context { return m.v.context(parent) }
