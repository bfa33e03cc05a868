package etcd

// The keys a session writes on its lease and deletes: a wait joins its line
// with enqueue and leaves it with remove, and a key whose write or delete
// the cluster did not answer is handed to the session's cleaner (orphan),
// which deletes it once the cluster answers again.

import (
	"context"
	"errors"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// enqueue writes a fresh key under kn's range on the session's lease and
// returns it with its create revision, which orders it among the other keys
// of the range and is the fencing token of the hold it may become, and the
// number of keys of ranges (by default kn's range) created before it.
//
// The write is not cancelled with the caller's ctx (only by opTimeout and the
// session's end): a request cancelled in flight may still be applied, and
// after a delete sent later, since the server does not order requests on
// different streams; a key written that way would stay until the session
// ended and block everyone behind it. So the caller learns the outcome and,
// if its ctx ended meanwhile, deletes the key it knows. When the cluster
// does not answer within opTimeout, enqueue tries again with a new key for
// as long as ctx and the session live. On error the key may or may not
// exist, and the session deletes it later (orphan): the caller does not
// wait on a cluster that just failed to answer. The one exception is a key
// whose meta carries a number that differs from the one in use on its
// range (see joinSame): then nothing was written, and the error is a
// *MismatchError.
func (s *Session) enqueue(ctx context.Context, kn *keyName, meta keyMeta, ranges ...string) (key string, rev int64, ahead int64, err error) {
	if len(ranges) == 0 {
		ranges = []string{kn.pfx}
	}
	for {
		key, rev, ahead, err = s.enqueueOnce(kn, meta, ranges)
		if err == nil {
			return key, rev, ahead, nil
		}
		if errors.Is(err, ErrMismatch) {
			return key, 0, 0, err // nothing was written
		}
		// The key may yet be written: leave it to the session to delete.
		s.orphan(kn, key, 0)
		if !errors.Is(err, errNoAnswer) || ctx.Err() != nil || s.ctx.Err() != nil {
			return key, 0, 0, err
		}
		// The cluster did not answer in time, but neither the caller nor
		// the session has given up: try again, under the new name. The
		// session ends at its early deadline if the cluster stays away.
	}
}

func (s *Session) enqueueOnce(kn *keyName, meta keyMeta, ranges []string) (key string, rev int64, ahead int64, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, opTimeout)
	defer cancel()
	key = kn.String()
	// The counts in the same transaction save the uncontended case a round
	// trip: a transaction reads its own writes, and every other key in the
	// ranges was created before ours.
	ops := []clientv3.Op{s.put(key, meta)}
	for _, r := range ranges {
		ops = append(ops, clientv3.OpGet(r, clientv3.WithPrefix(), clientv3.WithCountOnly()))
	}
	if _, n := meta.number(); n > 0 {
		// A Semaphore's limit, a Barrier's parties: the key joins only if
		// its range is empty or uses the same number.
		var rs []*pb.ResponseOp
		rs, rev, err = s.joinSame(ctx, kn.pfx, key, meta, ops)
		if err != nil {
			return key, 0, 0, err
		}
		return key, rev, countAhead(key, ranges, rs[1:]), nil
	}
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(ops...).
		Commit()
	if err != nil {
		return key, 0, 0, timedOut(ctx, err)
	}
	if !resp.Succeeded { // cannot happen: a name is used by one attempt at a time
		return key, 0, 0, errors.New("holder key already exists")
	}
	return key, resp.Header.Revision, countAhead(key, ranges, resp.Responses[1:]), nil
}

// countAhead sums the counts rs of ranges, less key itself.
func countAhead(key string, ranges []string, rs []*pb.ResponseOp) (ahead int64) {
	for i, r := range ranges {
		ahead += rs[i].GetResponseRange().Count
		if strings.HasPrefix(key, r) {
			ahead-- // our own
		}
	}
	return ahead
}

// put is the write of a key of the session's: on its lease, its value meta
// stamped with the session's host and pid and the time.
func (s *Session) put(key string, meta keyMeta) clientv3.Op {
	meta.Who, meta.Since = s.who, now()
	return clientv3.OpPut(key, meta.encode(), clientv3.WithLease(s.lease))
}

// remove deletes a key this session wrote, fenced by its create revision
// when rev > 0 (a plain delete is safe otherwise, the key being unique to one
// attempt). It is bounded by opTimeout and independent of any caller's ctx:
// it is how a wait that gave up leaves no key behind. When the cluster
// cannot be reached in time the key is handed to the session's cleaner,
// which retries until the key is gone or the lease is.
func (s *Session) remove(kn *keyName, key string, rev int64) {
	if s.ctx.Err() != nil {
		// A done session's keys go with its lease (Close revokes it, or it
		// has expired); nothing to do, and the cluster may be unreachable.
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if _, err := s.deleteKey(ctx, key, rev); err != nil {
		s.orphan(kn, key, rev)
	}
}

// deleteKey deletes key, fenced by its create revision when rev > 0, and
// reports whether it was there.
func (s *Session) deleteKey(ctx context.Context, key string, rev int64) (bool, error) {
	if rev == 0 {
		resp, err := s.cli.Delete(ctx, key)
		if err != nil {
			return false, err
		}
		return resp.Deleted > 0, nil
	}
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", rev)).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// orphan hands key, kn's current name, which may outlive the attempt that
// wrote it, to the session's cleaner, and moves kn to a new generation so
// that no later attempt meets it.
func (s *Session) orphan(kn *keyName, key string, rev int64) {
	s.addOrphan(key, rev)
	kn.gen++
}

// addOrphan records a key a bounded delete failed to remove, and makes
// sure a cleaner runs. The lease keeps the key alive while the session
// lives, so without a retry a Lock that gave up while the cluster was
// unreachable would block every other process until the session ended.
func (s *Session) addOrphan(key string, rev int64) {
	s.mu.Lock()
	s.orphans[key] = rev
	s.mu.Unlock()
	s.startCleaner()
}

// startCleaner starts the cleaner goroutine unless it runs. The cleaner
// retries until no orphan is left or the session is done (its keys then go
// with the lease); it runs apart from the keepalive loop, so a slow delete
// never delays a keepalive.
func (s *Session) startCleaner() {
	if s.ctx.Err() != nil || !s.cleaning.CompareAndSwap(false, true) {
		return
	}
	go func() {
		for {
			for s.cleanOrphans() && pause(s.ctx) == nil {
			}
			s.cleaning.Store(false)
			// An orphan added after the last look, while the flag was
			// still set, found the cleaner running: look once more.
			if !s.hasOrphans() || s.ctx.Err() != nil || !s.cleaning.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

func (s *Session) hasOrphans() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orphans) > 0
}

// cleanOrphans tries to delete every orphan once and reports whether any
// is left.
func (s *Session) cleanOrphans() bool {
	s.mu.Lock()
	keys := make(map[string]int64, len(s.orphans))
	for k, r := range s.orphans {
		keys[k] = r
	}
	s.mu.Unlock()
	for k, r := range keys {
		ctx, cancel := context.WithTimeout(s.ctx, opTimeout)
		_, err := s.deleteKey(ctx, k, r)
		cancel()
		// A delete refused for want of permission will always be, and
		// then the write it follows up was refused too: drop it.
		if err == nil || errors.Is(err, rpctypes.ErrPermissionDenied) {
			s.mu.Lock()
			delete(s.orphans, k)
			s.mu.Unlock()
		}
	}
	return s.hasOrphans()
}
