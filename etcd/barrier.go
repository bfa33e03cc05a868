package etcd

import (
	"context"
	"strconv"
	"unsafe"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// A Barrier makes a fixed number of parties across processes wait for each
// other, round after round (cyclic), as coord.Barrier in one process.
//
// Each Wait writes a key on the session's lease. The parties keys that have
// not yet tripped, taken in create-revision (arrival) order, make up a round
// as soon as there are that many: whichever of them sees it first trips the
// round with one transaction that writes each member's index (its arrival
// position, 0..parties-1) into the member's key, on condition that none of
// those keys changed since it read them, so a round trips once, with the
// members it was read with. Each member learns its index from its own key,
// deletes the key and returns; later arrivals form the next round.
//
// A party that gives up (ctx done) deletes its key unless its round has
// already tripped, and so leaves its round without a trace: the round then
// waits for another arrival. A party whose process dies leaves when its lease
// expires. Every waiting member re-reads the range when it changes, so a
// round completes even when the party that would have tripped it dies first;
// parties are few, and those reads are the price of that.
//
// Processes sharing a name must pass the same parties: a Wait whose parties
// differ from the ones in use on the name (by any party's key left under
// it, waiting or leaving a tripped round) fails at once, writing nothing,
// with an error errors.Is ErrMismatch that names both numbers
// (*MismatchError); once no key of the name is left, any parties may start
// over. The check and the write of the key are one transaction, so of two
// processes arriving at once with different parties, one fails and the
// other is not released early.
//
// A Barrier is safe for use by any number of goroutines (each Wait is a
// party of its own) and must be made with NewBarrier (there is no useful
// zero value). It keeps no state of its own but its Stats, so a copy is
// another handle on the same barrier, sharing them.
type Barrier struct {
	s       *Session
	name    string
	pfx     string
	parties int
	rec     *inspect.Recorder // shared by copies
}

var barrierKind = &inspect.Kind{Name: "Barrier"}

// Stats returns this process's view of b (see coord.Stats): Waiters is the
// parties of this process waiting in b's Wait now (on any copy of b),
// Holders is 0, and Waits, GaveUp and WaitTime count the Waits that found
// their round short (the party that trips a round does not wait). Name is
// what b is registered under with coord.Register.
func (b *Barrier) Stats() coord.Stats { return statsOf(unsafe.Pointer(b), barrierKind, 0, b.rec) }

// NewBarrier returns the barrier called name on s's prefix, for parties
// parties a round. parties below 1 panics.
func NewBarrier(s *Session, name string, parties int) *Barrier {
	if s == nil {
		panic("coord: etcd.NewBarrier with a nil session")
	}
	if parties < 1 {
		panic("coord: etcd.NewBarrier with parties " + strconv.Itoa(parties) + " < 1")
	}
	return &Barrier{s: s, name: name, pfx: namePrefix(s.prefix, kindBarrier, name), parties: parties, rec: new(inspect.Recorder)}
}

// Name returns the name the barrier was made with.
func (b *Barrier) Name() string { return b.name }

// Parties returns the number of parties a round needs.
func (b *Barrier) Parties() int { return b.parties }

// Wait waits until parties parties (this one included) have arrived, and
// returns this party's index in the round, distinct among them, in 0..parties-1
// by arrival order. If ctx ends first it leaves the round and returns -1 and
// ctx.Err(), unless the round tripped meanwhile: a tripped round is not
// handed on, so Wait then returns the index and nil. A ctx that is already
// done returns -1 and ctx.Err() and changes nothing, even for what would be
// the last party. A done session makes Wait return an error errors.Is
// ErrSessionDone, and parties that differ from the ones in use on the name
// one errors.Is ErrMismatch, at once and having written nothing.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	const op = "wait barrier"
	s := b.s
	wctx, cancel, err := s.start(ctx, op, b.name)
	if err != nil {
		return -1, err
	}
	defer cancel()
	kn := newKeyName(b.pfx, s.nextID()) // one per Wait: waits on one value may overlap
	key, rev, _, err := s.enqueue(wctx, kn, keyMeta{Parties: b.parties})
	if err != nil {
		return -1, s.fail(ctx, op, b.name, err)
	}
	var w waiting
	idx, err := b.wait(wctx, key, &w)
	if err == nil {
		s.remove(kn, key, 0)
	} else if i, ok := b.leave(kn, key, rev); ok {
		idx, err = i, nil // the round tripped with this party in it
	} else {
		idx, err = -1, s.fail(ctx, op, b.name, err)
	}
	w.end(b.rec, ctx, err)
	return idx, err
}

// wait returns this party's index once its round has tripped. It reads
// the range, trips the round if it can, and otherwise reads again on every
// change under the range. The wait w begins when a look finds that this
// party must wait for others.
func (b *Barrier) wait(ctx context.Context, key string, w *waiting) (int, error) {
	s := b.s
	idx := -1
	err := s.follow(ctx, &follow{
		key:  b.pfx,
		opts: []clientv3.OpOption{clientv3.WithPrefix()},
		read: func(ctx context.Context) (bool, error) {
			var err error
			idx, err = b.look(ctx, key, w)
			return idx >= 0, err
		},
		seen: func(*clientv3.Event) (bool, error) { return false, errLookAgain },
	})
	return idx, err
}

// look reads the range and returns this party's index if its round has
// tripped or it trips it now, and -1 otherwise. It begins w when the round
// is short or this party is not in it: a round found whole (tripped by
// another member first) is no wait.
func (b *Barrier) look(ctx context.Context, key string, w *waiting) (int, error) {
	resp, err := b.s.cli.Get(ctx, b.pfx, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		return -1, err
	}
	var round []*mvccpb.KeyValue // untripped keys in arrival order
	found := false
	for _, kv := range resp.Kvs {
		m := decodeMeta(kv.Value)
		if string(kv.Key) == key {
			found = true
			if m.Index != nil {
				return *m.Index, nil
			}
		}
		if m.Index == nil {
			round = append(round, kv)
		}
	}
	if !found {
		return -1, errKeyGone
	}
	i := -1
	if len(round) >= b.parties {
		round = round[:b.parties]
		i = position(round, key)
	}
	if i < 0 {
		w.begin(b.rec, unsafe.Pointer(b), barrierKind)
		return -1, nil
	}
	ok, err := b.trip(ctx, round)
	if err != nil || !ok {
		// A round that changed under us shows on the watch: look again
		// then.
		return -1, err
	}
	return i, nil
}

func position(round []*mvccpb.KeyValue, key string) int {
	for i, kv := range round {
		if string(kv.Key) == key {
			return i
		}
	}
	return -1
}

// trip writes each member's index into its key, if none of them changed
// since they were read (none left, none tripped by someone else).
func (b *Barrier) trip(ctx context.Context, round []*mvccpb.KeyValue) (bool, error) {
	cmps := make([]clientv3.Cmp, len(round))
	ops := make([]clientv3.Op, len(round))
	for i, kv := range round {
		cmps[i] = clientv3.Compare(clientv3.ModRevision(string(kv.Key)), "=", kv.ModRevision)
		m := decodeMeta(kv.Value)
		idx := i
		m.Index = &idx
		ops[i] = clientv3.OpPut(string(kv.Key), m.encode(), clientv3.WithIgnoreLease())
	}
	resp, err := b.s.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// leave deletes the key of a party that gives up, unless its round tripped
// (the key then carries an index, and ModRevision moved past rev): it then
// reports the index and true, and deletes the key anyway. Bounded like every
// cleanup; when the session is done the key goes with the lease.
func (b *Barrier) leave(kn *keyName, key string, rev int64) (int, bool) {
	s := b.s
	if s.ctx.Err() != nil {
		return -1, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(clientv3.OpDelete(key)).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		s.orphan(kn, key, 0)
		return -1, false
	}
	if resp.Succeeded {
		return -1, false
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return -1, false
	}
	s.remove(kn, key, 0)
	if m := decodeMeta(kvs[0].Value); m.Index != nil {
		return *m.Index, true
	}
	return -1, false
}
