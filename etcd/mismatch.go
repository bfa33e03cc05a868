package etcd

import (
	"context"
	"errors"
	"strconv"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrMismatch is returned (wrapped, so compare with errors.Is) by
// Semaphore.Acquire and Barrier.Wait when the name is in use with another
// limit (parties) than the one the value was made with. Such a call fails at
// once and writes nothing; errors.As with a *MismatchError gives both
// numbers.
var ErrMismatch = errors.New("coord/etcd: limit or parties differ from the ones in use")

// A MismatchError is the error behind ErrMismatch: a Semaphore's limit or a
// Barrier's parties that differs from the one the holders, waiters or parties
// already under the name were made with. Printed, as returned (wrapped with
// the operation and the name), it is one line:
//
//	coord/etcd: acquire semaphore "jobs": limit 3 differs from limit 5 in use by 2 holders/waiters
type MismatchError struct {
	What  string // "limit" (Semaphore) or "parties" (Barrier)
	Asked int    // the number this call was made with
	InUse int    // the number in use on the name
	Users int    // how many holders and waiters (parties) were using it
}

func (e *MismatchError) Error() string {
	users := "holders/waiters"
	switch {
	case e.What == "parties" && e.Users == 1:
		users = "waiting party"
	case e.What == "parties":
		users = "waiting parties"
	case e.Users == 1:
		users = "holder/waiter"
	}
	return "coord/etcd: " + e.What + " " + strconv.Itoa(e.Asked) + " differs from " + e.What + " " +
		strconv.Itoa(e.InUse) + " in use by " + strconv.Itoa(e.Users) + " " + users
}

// Is makes a *MismatchError errors.Is ErrMismatch.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

// number returns the number a key's meta carries, limit or parties, and its
// name; 0 for a key that carries none (a Mutex's).
func (m keyMeta) number() (what string, n int) {
	switch {
	case m.Limit > 0:
		return "limit", m.Limit
	case m.Parties > 0:
		return "parties", m.Parties
	}
	return "", 0
}

// sameNumber returns the comparisons that hold when every key under pfx
// carries meta's number, and fail when the range is empty (a Value
// comparison on no key fails). Every such value begins with the same bytes
// (`{"limit":3,`, see keyMeta), and the values that begin with them are
// exactly those between them and the same bytes with the last one, the
// comma, incremented: two comparisons over the range check it in the server.
func sameNumber(pfx string, meta keyMeta) []clientv3.Cmp {
	enc := keyMeta{Limit: meta.Limit, Parties: meta.Parties}.encode()
	lo := enc[:strings.IndexByte(enc, ',')+1]
	hi := strings.TrimSuffix(lo, ",") + "-" // '-' is ',' + 1
	return []clientv3.Cmp{
		clientv3.Compare(clientv3.Value(pfx), ">", lo).WithPrefix(),
		clientv3.Compare(clientv3.Value(pfx), "<", hi).WithPrefix(),
	}
}

// joinSame is enqueue's transaction for a key whose meta carries a number
// (a Semaphore's limit, a Barrier's parties): it runs ops, which write key
// under pfx and count, only if no key under pfx carries another number. The
// check and the write are one transaction, so of two processes arriving at
// once with different numbers on an empty name, one joins and the other
// fails; the number is in use for as long as one key under pfx is left, and
// a name whose keys are all gone takes any number. On a mismatch nothing is
// written and the error is a *MismatchError. It returns the responses of ops
// and the revision of the write.
func (s *Session) joinSame(ctx context.Context, pfx, key string, meta keyMeta, ops []clientv3.Op) ([]*pb.ResponseOp, int64, error) {
	what, n := meta.number()
	empty := clientv3.Compare(clientv3.CreateRevision(pfx), "=", 0).WithPrefix()
	absent := clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
	look := clientv3.OpGet(pfx, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	for {
		// An empty name takes any number; otherwise every key must carry
		// ours. One round trip either way.
		resp, err := s.cli.Txn(ctx).
			If(empty).
			Then(ops...).
			Else(clientv3.OpTxn(append(sameNumber(pfx, meta), absent), ops, []clientv3.Op{look})).
			Commit()
		if err != nil {
			return nil, 0, timedOut(ctx, err)
		}
		if resp.Succeeded {
			return resp.Responses, resp.Header.Revision, nil
		}
		inner := resp.Responses[0].GetResponseTxn()
		if inner.Succeeded {
			return inner.Responses, resp.Header.Revision, nil
		}
		users := 0
		inUse := 0
		for _, kv := range inner.Responses[0].GetResponseRange().Kvs {
			if string(kv.Key) == key { // cannot happen: a name is used by one attempt at a time
				return nil, 0, errors.New("holder key already exists")
			}
			if _, m := decodeMeta(kv.Value).number(); m > 0 && m != n && (inUse == 0 || m == inUse) {
				inUse = m
				users++
			}
		}
		if inUse > 0 {
			return nil, 0, &MismatchError{What: what, Asked: n, InUse: inUse, Users: users}
		}
		// Every key there carries our number but in a value of another
		// shape (written by another version of coord, or by hand), so the
		// comparison of values could not say so. Join if no key was
		// written since that read; look again otherwise.
		resp, err = s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(pfx), "<", resp.Header.Revision+1).WithPrefix(), absent).
			Then(ops...).
			Commit()
		if err != nil {
			return nil, 0, timedOut(ctx, err)
		}
		if resp.Succeeded {
			return resp.Responses, resp.Header.Revision, nil
		}
	}
}
