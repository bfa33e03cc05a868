package etcd

import (
	"context"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Observe returns a channel that receives the current leader at once (if
// any), then each change of leader or of its value, in order, and a zero
// Leader when nobody leads any more. It never sends an older leader after a
// newer one: each state sent is that of a later revision than the one
// before, also across a broken watch, a reconnection and a member restart;
// changes made while its watch was broken may be skipped (when the
// cluster's history of them was compacted), never reordered. The channel is
// closed when ctx ends or the session is done, and for no other reason:
// cluster errors are retried. The caller must receive from it until then.
func (e *Election) Observe(ctx context.Context) <-chan Leader {
	ch := make(chan Leader)
	wctx, cancel, err := e.v.s.start(ctx, "observe", e.v.name)
	if err != nil {
		close(ch)
		return ch
	}
	o := &observer{e: e, ch: ch, keys: make(map[string]*mvccpb.KeyValue)}
	go func() {
		defer close(ch)
		defer cancel()
		o.run(wctx)
	}()
	return ch
}

// An observer is one Observe: the keys of the election's range as of a
// revision, kept from a read and the watch's events, and what it last sent.
//
// Every change, in order: the observer follows the whole range on one
// watch, which the follow resumes from the first revision not yet seen
// after a break, and works out the leader, the key with the lowest create
// revision, after each revision's events (a write of several keys, such as
// an operator's delete of the range, is never seen half done). It reads
// the range again only when that history was compacted away: the one case
// in which changes are skipped. etcd's Observe instead reads the leader
// again after each change, skipping those made meanwhile, and takes the
// first put it sees on an empty range for the new leader (issue 18163).
// The price is an event for each candidate that joins or leaves, paid by
// observers only: a candidate still watches just the key before its own.
//
// Never back in time: the observer takes an event only if it is of a later
// revision than the state it has, and sends a state only if it is of a
// revision no older than the one sent before. So a watch that delivers
// what the observer already has, as one opened on a member that lags
// behind does, changes nothing. Across revisions the leader's create
// revision never decreases (keys are created with ever higher revisions,
// and the lowest only goes when deleted), nor does one key's mod revision,
// so what is sent is ordered by (create, mod) revision too; offer checks
// that as well.
type observer struct {
	e  *Election
	ch chan<- Leader

	keys    map[string]*mvccpb.KeyValue // the range as of at
	at      int64                       // the revision of keys
	pending int64                       // the revision of events applied to keys but not yet settled

	rev         int64 // the revision of the last state offered
	create, mod int64 // the leader's key as of rev; 0 when nobody leads
	value       string
}

// run follows the range until ctx ends; a read that fails is tried again
// after a pause.
func (o *observer) run(ctx context.Context) {
	s := o.e.v.s
	pfx := o.e.v.pfx
	f := &follow{
		key:  pfx,
		opts: []clientv3.OpOption{clientv3.WithPrefix()},
		read: func(ctx context.Context) (bool, error) {
			resp, err := s.cli.Get(ctx, pfx, clientv3.WithPrefix())
			if err != nil {
				return false, err
			}
			clear(o.keys)
			for _, kv := range resp.Kvs {
				o.keys[string(kv.Key)] = kv
			}
			o.at, o.pending = resp.Header.Revision, 0
			return false, o.offer(ctx)
		},
		seen: func(ev *clientv3.Event) (bool, error) {
			rev := ev.Kv.ModRevision
			if rev <= o.at {
				return false, nil // already in keys
			}
			if o.pending != 0 && rev > o.pending {
				if err := o.settle(ctx); err != nil {
					return false, err
				}
			}
			if ev.Type == clientv3.EventTypeDelete {
				delete(o.keys, string(ev.Kv.Key))
			} else {
				o.keys[string(ev.Kv.Key)] = ev.Kv
			}
			o.pending = rev
			return false, nil
		},
		settled: func() (bool, error) { return false, o.settle(ctx) },
	}
	for s.follow(ctx, f) != nil && pause(ctx) == nil {
	}
}

// settle makes the events applied to keys the state as of their revision,
// and offers it.
func (o *observer) settle(ctx context.Context) error {
	if o.pending == 0 {
		return nil
	}
	o.at, o.pending = o.pending, 0
	return o.offer(ctx)
}

// offer sends the leader of keys as of revision at, if it is a change of
// leader or value and no older than what was sent before. It returns
// ctx.Err() if ctx ends first.
func (o *observer) offer(ctx context.Context) error {
	var lead *mvccpb.KeyValue
	for _, kv := range o.keys {
		if lead == nil || kv.CreateRevision < lead.CreateRevision {
			lead = kv
		}
	}
	if o.at < o.rev {
		return nil // (see observer) older than what was sent
	}
	var l Leader
	var create, mod int64
	if lead != nil {
		create, mod = lead.CreateRevision, lead.ModRevision
		if create < o.create || (create == o.create && mod < o.mod) {
			return nil // cannot happen while at only grows: a guard
		}
		l = leaderOf(lead.Value, create)
	}
	changed := create != o.create || l.Value != o.value
	o.rev, o.create, o.mod, o.value = o.at, create, mod, l.Value
	if !changed {
		return nil // nobody still, or a write that changed only Since
	}
	select {
	case o.ch <- l:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
