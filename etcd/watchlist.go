package etcd

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// coalesce is how long WatchList lets changes gather after one arrives
// before it takes the rows to send: a burst of changes (a line of waiters
// moving up, a round of a barrier tripping) makes one send, and a page or
// table that redraws on each send stays within a second of the cluster.
const coalesce = 50 * time.Millisecond

// WatchList follows what List returns under prefix ("" means the default
// "/coord/"), for a table or page that redraws on each change (`coord ls
// --watch`, `coord ui`) without reading the cluster on every refresh: it
// sends the rows at once, then the rows again after each change that
// alters them, until ctx ends, when it closes the channel. The rows are
// those List would return (never nil: no rows is an empty slice).
//
// Changes that come in a burst are sent together, and a receiver that
// falls behind gets the latest rows when it next receives, never a queue
// of stale ones. It reads the prefix once and then follows one watch on
// it; a broken watch (no leader, a member restart, a reconnection) is
// resumed from the first revision not yet seen, and the prefix is read
// again only when that history was compacted away, so the rows sent are
// always those of one revision of the cluster, in order. While the cluster
// cannot be reached nothing is sent, and it keeps trying until ctx ends.
// The caller must receive from the channel until it is closed, or end ctx.
func WatchList(ctx context.Context, cli *clientv3.Client, prefix string) <-chan []Entry {
	if cli == nil {
		panic("coord: etcd.WatchList with a nil client")
	}
	ch := make(chan []Entry)
	l := &lister{prefix: listPrefix(prefix), keys: make(map[string]*mvccpb.KeyValue), fresh: make(chan struct{}, 1)}
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		l.run(ctx, cli)
	}()
	go func() {
		l.send(ctx, ch)
		<-followed // so that nothing of it runs once ch is closed
		close(ch)
	}()
	return ch
}

// A lister is one WatchList: the prefix's keys as of a revision, kept from
// a read and the watch's events as an observer keeps an election's (see
// observer), and the latest rows made of them, for the sender.
type lister struct {
	prefix string

	keys    map[string]*mvccpb.KeyValue // the prefix as of at; used by run only
	at      int64
	pending int64 // the revision of events applied to keys but not yet published

	mu     sync.Mutex
	latest []Entry       // the rows of keys as of at
	fresh  chan struct{} // signalled when latest changes
}

// run follows the prefix until ctx ends; a read that fails is tried again
// after a pause.
func (l *lister) run(ctx context.Context, cli *clientv3.Client) {
	f := &follow{
		key:  l.prefix,
		opts: []clientv3.OpOption{clientv3.WithPrefix()},
		read: func(ctx context.Context) (bool, error) {
			resp, err := cli.Get(ctx, l.prefix, clientv3.WithPrefix())
			if err != nil {
				return false, err
			}
			clear(l.keys)
			for _, kv := range resp.Kvs {
				l.keys[string(kv.Key)] = kv
			}
			l.at, l.pending = resp.Header.Revision, 0
			l.publish()
			return false, nil
		},
		seen: func(ev *clientv3.Event) (bool, error) {
			if ev.Kv.ModRevision <= l.at {
				return false, nil // already in keys
			}
			if ev.Type == clientv3.EventTypeDelete {
				delete(l.keys, string(ev.Kv.Key))
			} else {
				l.keys[string(ev.Kv.Key)] = ev.Kv
			}
			l.pending = ev.Kv.ModRevision
			return false, nil
		},
		// A response's events are whole revisions: publish after them.
		settled: func() (bool, error) {
			if l.pending != 0 {
				l.at, l.pending = l.pending, 0
				l.publish()
			}
			return false, nil
		},
	}
	for followOn(ctx, cli, f) != nil && pause(ctx) == nil {
	}
}

// publish makes the rows of keys the latest and tells the sender.
func (l *lister) publish() {
	kvs := make([]*mvccpb.KeyValue, 0, len(l.keys))
	for _, kv := range l.keys {
		kvs = append(kvs, kv)
	}
	slices.SortFunc(kvs, func(a, b *mvccpb.KeyValue) int { return cmp.Compare(a.CreateRevision, b.CreateRevision) })
	r := rows(l.prefix, kvs)
	if r == nil {
		r = []Entry{}
	}
	l.mu.Lock()
	l.latest = r
	l.mu.Unlock()
	select {
	case l.fresh <- struct{}{}:
	default:
	}
}

// send delivers the latest rows on ch until ctx ends: the first at once,
// each later one coalesce after the change that made it, and only rows that
// differ from those delivered before. Rows not yet taken by the receiver
// are replaced by newer ones.
func (l *lister) send(ctx context.Context, ch chan<- []Entry) {
	var sent, next []Entry
	started, have := false, false
	for {
		var out chan<- []Entry
		if have {
			out = ch
		}
		select {
		case <-ctx.Done():
			return
		case out <- next:
			sent, next, started, have = next, nil, true, false
		case <-l.fresh:
			if started && !sleep(ctx, coalesce) {
				return
			}
			l.mu.Lock()
			r := l.latest
			l.mu.Unlock()
			if started && sameRows(r, sent) {
				next, have = nil, false // back to what the receiver has
			} else {
				next, have = r, true
			}
		}
	}
}

// sameRows reports whether a and b are the same rows.
func sameRows(a, b []Entry) bool {
	return slices.EqualFunc(a, b, func(x, y Entry) bool {
		return x.Since.Equal(y.Since) &&
			x.Name == y.Name && x.Kind == y.Kind && x.State == y.State && x.Token == y.Token &&
			x.Who == y.Who && x.Key == y.Key && x.Value == y.Value
	})
}
