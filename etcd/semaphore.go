package etcd

import (
	"context"
	"errors"
	"strconv"
	"sync"

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
// value take turns. Processes sharing a name must pass the same limit: coord
// does not reconcile different ones. A Semaphore is safe for use by any
// number of goroutines; it must be made with NewSemaphore (there is no useful
// zero value) and not copied (go vet's copylocks check catches a copy).
type Semaphore struct {
	s     *Session
	name  string
	pfx   string
	limit int
	turn  chan struct{}
	kn    *keyName // the name of this value's key; used under turn

	mu   sync.Mutex
	h    *hold
	last *hold
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
	pfx := namePrefix(s.prefix, kindSem, name)
	return &Semaphore{s: s, name: name, pfx: pfx, limit: limit, turn: make(chan struct{}, 1), kn: s.newKeyName(pfx)}
}

// Name returns the name the semaphore was made with.
func (m *Semaphore) Name() string { return m.name }

// Limit returns the number of holders the semaphore admits at once.
func (m *Semaphore) Limit() int { return m.limit }

// Acquire waits until the caller is one of at most limit holders and
// returns nil. It returns ctx.Err() if ctx ends first, having deleted its key
// (it took nothing, and those behind it move up), and an error errors.Is
// ErrSessionDone if the session ends first. A ctx that is already done
// returns ctx.Err() at once and changes nothing.
func (m *Semaphore) Acquire(ctx context.Context) error {
	const op = "acquire semaphore"
	s := m.s
	wctx, cancel, err := s.start(ctx, op, m.name)
	if err != nil {
		return err
	}
	defer cancel()
	select {
	case m.turn <- struct{}{}:
	case <-wctx.Done():
		return s.fail(ctx, op, m.name, wctx.Err())
	}
	key, rev, ahead, err := s.enqueue(wctx, m.kn, keyMeta{Limit: m.limit})
	if err != nil {
		<-m.turn
		return s.fail(ctx, op, m.name, err)
	}
	if ahead >= int64(m.limit) {
		err = m.waitAdmitted(wctx, key, rev)
	}
	if err == nil && (ctx.Err() != nil || s.ctx.Err() != nil) {
		// Cancellation wins whenever the waiter sees it (API.md rule 3):
		// deleting the key passes the place on.
		err = context.Canceled // fail returns ctx.Err() or the session's error
	}
	if err != nil {
		s.remove(m.kn, key, rev)
		<-m.turn
		return s.fail(ctx, op, m.name, err)
	}
	h := s.newHold(m.kn, key, rev)
	m.mu.Lock()
	m.h, m.last = h, h
	m.mu.Unlock()
	return nil
}

// waitAdmitted waits until fewer than limit keys precede (key, rev). It
// watches the range for deletions, then reads the keys ahead once and
// follows their deletions on the watch: watching first, no deletion
// between the read and the watch is missed (and one seen twice is harmless).
func (m *Semaphore) waitAdmitted(ctx context.Context, key string, rev int64) error {
	for {
		admitted, err := m.waitOnce(ctx, key, rev)
		if err != nil || admitted {
			return err
		}
	}
}

// waitOnce reports false, after a pause, when the watch broke (no leader,
// compaction) and must be made again.
func (m *Semaphore) waitOnce(ctx context.Context, key string, rev int64) (bool, error) {
	s := m.s
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch, _, err := s.watch(wctx, m.pfx, clientv3.WithPrefix(), clientv3.WithFilterPut())
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, s.pause(ctx)
	}
	resp, err := s.cli.Txn(ctx).Then(
		clientv3.OpGet(key),
		clientv3.OpGet(m.pfx, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithMaxCreateRev(rev-1)),
	).Commit()
	if err != nil {
		return false, err
	}
	mine := resp.Responses[0].GetResponseRange().Kvs
	if len(mine) == 0 || mine[0].CreateRevision != rev {
		return false, errKeyGone
	}
	ahead := make(map[string]struct{})
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		ahead[string(kv.Key)] = struct{}{}
	}
	for len(ahead) >= m.limit {
		wr, ok := <-wch
		if !ok || wr.Err() != nil {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			return false, s.pause(ctx)
		}
		for _, ev := range wr.Events {
			k := string(ev.Kv.Key)
			if k == key {
				return false, errKeyGone
			}
			delete(ahead, k)
		}
	}
	return true, nil
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
	m.mu.Lock()
	h := m.h
	m.h = nil
	m.mu.Unlock()
	if h == nil {
		panic("coord: etcd Semaphore.Release of a semaphore not held")
	}
	err := h.release(ctx)
	<-m.turn
	if err != nil && !errors.Is(err, ErrLost) && ctx.Err() != nil {
		return ctx.Err()
	}
	return wrapErr("release semaphore", m.name, err)
}

// Token returns the fencing token of the current hold, the create revision
// of its key, or 0 when m is not held. Tokens increase strictly across
// successive acquisitions of the name; with limit > 1 several holders hold
// tokens at once.
func (m *Semaphore) Token() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h == nil {
		return 0
	}
	return m.h.rev
}

// Lost returns a channel that is closed when the current hold ends other
// than by Release, as Mutex.Lost.
func (m *Semaphore) Lost() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		return nil
	}
	return m.last.lostChan()
}

// Guard returns a comparison that holds in a Txn only while the current hold
// is current, as Mutex.Guard: never when m is not held or its hold is known
// to be lost.
func (m *Semaphore) Guard() clientv3.Cmp {
	m.mu.Lock()
	defer m.mu.Unlock()
	return guard(m.h, m.pfx)
}
