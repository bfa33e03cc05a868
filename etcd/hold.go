package etcd

import (
	"context"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// hold is one held key (a Mutex or Semaphore hold) and the watch that tells
// its holder when it is lost.
type hold struct {
	s    *Session
	kn   *keyName
	key  string
	rev  int64
	lost chan struct{} // closed when the hold ends by anything but release

	ctx    context.Context // ends on release and when the session is done
	cancel context.CancelFunc
	watch  sync.Once // starts monitor, on the first call of Lost

	mu    sync.Mutex
	ended bool // released or lost
	gone  bool // lost
}

// newHold returns the hold of (key, rev), a key just granted.
func newHold(s *Session, kn *keyName, key string, rev int64) *hold {
	h := &hold{s: s, kn: kn, key: key, rev: rev, lost: make(chan struct{})}
	h.ctx, h.cancel = context.WithCancel(s.ctx)
	return h
}

// lostChan returns the channel closed when the hold is lost. The watch
// behind it starts on the first call: a holder that never asks does not pay
// for a watch on every hold (Release learns of a loss from its fenced
// delete). The watch covers every revision after the hold's own, so a
// deletion before the first call is not missed.
func (h *hold) lostChan() <-chan struct{} {
	h.watch.Do(func() { go h.monitor() })
	return h.lost
}

// markLost ends the hold as lost unless it was released first.
func (h *hold) markLost() {
	h.mu.Lock()
	if !h.ended {
		h.ended, h.gone = true, true
		close(h.lost)
	}
	h.mu.Unlock()
	h.cancel()
}

// end ends the hold by release and reports whether it had been lost before.
// The monitor is stopped first, so the holder's own delete is never taken
// for a loss.
//
// A hold whose session is already done was lost with it (revoked by Close,
// or past the early deadline), whether or not anyone asked for Lost: the
// monitor starts only on the first call of Lost, so without this a holder
// that calls Unlock first and Lost afterwards would get a channel that
// never closes for a hold that did end without Unlock.
func (h *hold) end() (wasLost bool) {
	h.mu.Lock()
	if !h.ended && h.s.ctx.Err() != nil {
		h.gone = true
		close(h.lost)
	}
	wasLost = h.gone
	h.ended = true
	h.mu.Unlock()
	h.cancel()
	return wasLost
}

// lostNow reports whether the hold is known to be lost: Lost closed, or
// the session done (its early deadline passed, or closed).
func (h *hold) lostNow() bool {
	if h.s.ctx.Err() != nil {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gone
}

// foundLost closes h.lost, once, for a hold that release found already gone
// (its fenced delete matched no key): it ended before the release, and Lost
// says so even when the monitor never ran.
func (h *hold) foundLost() {
	h.mu.Lock()
	if !h.gone {
		h.gone = true
		close(h.lost)
	}
	h.mu.Unlock()
}

// monitor closes h.lost when the key is deleted (by anyone but the holder's
// release: by lease expiry or revocation, or by hand) or when the session is
// done, which happens at the session's early deadline, before the server can
// expire the lease, so a holder selecting on Lost stops before any other
// process can be granted what it held. The follow starts from the hold's
// own revision, at which the key is known to be there; a read that fails is
// retried after a pause.
func (h *hold) monitor() {
	s := h.s
	f := &follow{
		key:  h.key,
		opts: []clientv3.OpOption{clientv3.WithFilterPut()},
		from: h.rev,
		read: func(ctx context.Context) (bool, error) {
			ctx, cancel := context.WithTimeout(ctx, opTimeout)
			defer cancel()
			resp, err := s.cli.Get(ctx, h.key, clientv3.WithKeysOnly())
			if err != nil {
				return false, err
			}
			return !exists(resp.Kvs, h.rev), nil
		},
		seen: func(*clientv3.Event) (bool, error) { return true, nil },
	}
	for s.follow(h.ctx, f) != nil && pause(h.ctx) == nil {
	}
	// The key is gone, or h.ctx ended: released (markLost is then a no-op)
	// or the session is done.
	h.markLost()
}

// release ends the hold and deletes its key, fenced by its create revision
// so that it never deletes a later holder's key. The delete is bounded by
// ctx and by opTimeout. It returns an error errors.Is ErrLost when the hold
// had been lost, and also errors.Is ErrSessionDone when the session is done
// (every call on a done session fails that way).
func (h *hold) release(ctx context.Context) error {
	wasLost := h.end()
	s := h.s
	if wasLost || s.ctx.Err() != nil {
		// The key is gone, or goes with the session's lease.
		return h.lostErr()
	}
	caller := ctx
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	ok, err := s.deleteKey(ctx, h.key, h.rev)
	if err != nil {
		if caller.Err() == nil {
			err = timedOut(ctx, err)
		}
		// Leave the key to the session to delete: the lease keeps it alive
		// while the session lives, and it must not block others forever.
		s.orphan(h.kn, h.key, h.rev)
		return err
	}
	if !ok {
		h.foundLost()
		return h.lostErr()
	}
	return nil
}

// lostErr is the error of a release that finds its hold lost: ErrLost, and
// when the session is done (which is why the hold was lost, or why it does
// not matter) also the session's error, so that it errors.Is both.
func (h *hold) lostErr() error {
	if h.s.ctx.Err() == nil {
		return ErrLost
	}
	return &lostError{cause: context.Cause(h.s.ctx)}
}

// guard returns the comparison that holds while h is current, or one that
// never holds when h is nil or known to be lost; pfx is any key of h's
// range.
func (h *hold) guard(pfx string) clientv3.Cmp {
	// At the session's early deadline the key is still on the server (its
	// lease expires there a safety margin later), but the holder has been
	// told it lost the hold: a Guard taken then must not let it write.
	if h == nil || h.lostNow() {
		// No key has create revision -1 (an absent key compares as 0).
		return clientv3.Compare(clientv3.CreateRevision(pfx), "=", -1)
	}
	return clientv3.Compare(clientv3.CreateRevision(h.key), "=", h.rev)
}
