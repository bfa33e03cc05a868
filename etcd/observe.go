package etcd

import (
	"context"

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
	o := &observer{e: e, ch: ch}
	go func() {
		defer close(ch)
		defer cancel()
		o.run(wctx)
	}()
	return ch
}

// An observer is one Observe: what it last sent, and as of which revision.
//
// Why it never goes back: the leader is the key of the election's range
// with the lowest create revision, so across revisions the leader's create
// revision never decreases (keys are created with ever higher revisions,
// and the lowest only goes when deleted), and one key's mod revision never
// decreases. The observer learns the state from linearizable reads and
// from watch events, each of which states the leader as of a revision (the
// read's header revision, the event's mod revision); it takes only what is
// as of the revision it last took or later, so what it sends is ordered by
// revision, and so by (create, mod) revision. A watch resumed after a break
// replays events it already had (and a watch opened on a member that lags
// behind starts before what was read): those are older and dropped. etcd's
// Observe takes the first put it sees on the range for the new leader (issue
// 18163); this one takes a put on the range only as a sign to read again.
type observer struct {
	e  *Election
	ch chan<- Leader

	rev         int64 // the revision of the newest state taken
	create, mod int64 // the leader's key as of rev; 0 when nobody leads
	value       string
}

// run reads the leader, offers it, and follows its key (or, when nobody
// leads, the range) until the leader changes, then reads again; until ctx
// ends.
func (o *observer) run(ctx context.Context) {
	s := o.e.v.s
	for ctx.Err() == nil {
		resp, err := s.cli.Get(ctx, o.e.v.pfx, clientv3.WithFirstCreate()...)
		if err == nil {
			var f *follow
			if len(resp.Kvs) == 0 {
				err = o.offer(ctx, nil, resp.Header.Revision)
				f = o.followNobody(resp.Header.Revision)
			} else {
				kv := resp.Kvs[0]
				err = o.offer(ctx, kv.Value, resp.Header.Revision, kv.CreateRevision, kv.ModRevision)
				f = o.followLeader(ctx, string(kv.Key), kv.CreateRevision, resp.Header.Revision)
			}
			if err == nil {
				err = s.follow(ctx, f)
			}
		}
		if err != nil && pause(ctx) != nil {
			return
		}
	}
}

// offer takes the state "the leader's key has value and revisions
// cm = (create, mod)", or with no cm "nobody leads", as of revision rev,
// unless it is older than what was taken before; it sends it if it is a
// change of leader or value. It returns ctx.Err() if ctx ends first.
func (o *observer) offer(ctx context.Context, value []byte, rev int64, cm ...int64) error {
	if rev < o.rev {
		return nil // older than what was sent: a replay, or a lagging member
	}
	var create, mod int64
	if len(cm) == 2 {
		create, mod = cm[0], cm[1]
		if create < o.create || (create == o.create && mod <= o.mod) {
			return nil // (see observer) not newer
		}
	}
	o.rev = rev
	var l Leader
	if create != 0 {
		l = leaderOf(value, create)
	}
	changed := create != o.create || l.Value != o.value
	o.create, o.mod, o.value = create, mod, l.Value
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

// followLeader follows the leader's key, (key, create) as read at revision
// read: each put is a new value, and its deletion (or a read that finds it
// gone) ends the follow, for the range to be read again.
func (o *observer) followLeader(ctx context.Context, key string, create, read int64) *follow {
	s := o.e.v.s
	return &follow{
		key:  key,
		from: read,
		read: func(ctx context.Context) (bool, error) {
			resp, err := s.cli.Get(ctx, key)
			if err != nil {
				return false, err
			}
			if !exists(resp.Kvs, create) {
				return true, nil
			}
			kv := resp.Kvs[0]
			return false, o.offer(ctx, kv.Value, resp.Header.Revision, kv.CreateRevision, kv.ModRevision)
		},
		seen: func(ev *clientv3.Event) (bool, error) {
			if ev.Kv.ModRevision <= create {
				return false, nil // an earlier key of the same name
			}
			if ev.Type == clientv3.EventTypeDelete || ev.Kv.CreateRevision != create {
				return true, nil
			}
			return false, o.offer(ctx, ev.Kv.Value, ev.Kv.ModRevision, ev.Kv.CreateRevision, ev.Kv.ModRevision)
		},
	}
}

// followNobody follows the election's range, empty at revision read, until
// a key is put in it (or a read finds one), for the range to be read again:
// the key put is not taken for the leader, since it may be gone, and an
// older one put before it, by the time the put is seen.
func (o *observer) followNobody(read int64) *follow {
	s := o.e.v.s
	return &follow{
		key:  o.e.v.pfx,
		opts: []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithFilterDelete()},
		from: read,
		read: func(ctx context.Context) (bool, error) {
			resp, err := s.cli.Get(ctx, o.e.v.pfx, clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil {
				return false, err
			}
			return resp.Count > 0, nil
		},
		seen: func(*clientv3.Event) (bool, error) { return true, nil },
	}
}
