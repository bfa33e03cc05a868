package etcd

import (
	"context"
	"sort"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// An Entry is one live holder, waiter or set event, as List reports it and
// `coord ls` prints it.
//
// Kind and State by key (see the package doc's key layout):
//
//	key                  Kind        State
//	lock/<name>/...      "lock"      "holder" when no key of the lock is older, else "waiter"
//	rlock/<name>/...     "rlock"     "reader" when no lock/ key of the name is older, else "waiter"
//	sem/<name>/...       "sem"       "holder" for the limit oldest keys, else "waiter"
//	election/<name>/...  "election"  "leader" for the oldest key, else "candidate"
//	barrier/<name>/...   "barrier"   "waiter" (a party of a tripped round, leaving, is left out)
//	event/<name>         "event"     "set"
//	eventwait/<name>/... "event"     "waiter" (left out while the event is set: it is leaving)
//
// A Mutex and an RWMutex of one name are one lock: their writers' keys are
// all "lock" rows (a Mutex holder and an RWMutex writer look alike), the
// RWMutex's readers are "rlock" rows of the same name, and the rows of
// both kinds make one line ordered by Token.
type Entry struct {
	Name  string    `json:"name"`  // the primitive's name
	Kind  string    `json:"kind"`  // "lock", "rlock", "sem", "barrier", "event" or "election"
	State string    `json:"state"` // "holder", "reader", "waiter", "set", or "leader" and "candidate"
	Token int64     `json:"token"` // the key's create revision: a holder's fencing token
	Who   string    `json:"who"`   // host:pid of the session that wrote the key
	Since time.Time `json:"since"` // when the key was written, or a leader began to lead (the writer's clock)
	Key   string    `json:"key"`   // the key itself
	Value string    `json:"value"` // an election candidate's value; "" for other kinds
}

// List returns every live holder and waiter of the locks, semaphores,
// elections, barriers and events under the key namespace prefix (a
// session's WithPrefix; "" means the default "/coord/"), and every set
// event, in one consistent read, as rows described at Entry. Entries are
// sorted by kind (a lock's "lock" and "rlock" rows together), name and
// token, so each name's rows are its line in arrival order. Names nobody
// holds or waits on do not appear.
func List(ctx context.Context, cli *clientv3.Client, prefix string) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prefix = listPrefix(prefix)
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, wrapErr("list", prefix, err)
	}
	return rows(prefix, resp.Kvs), nil
}

// listPrefix is the namespace List reads for the prefix it is given.
func listPrefix(prefix string) string {
	if prefix == "" {
		return defaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		return prefix + "/"
	}
	return prefix
}

// rows returns the entries of the keys kvs under prefix, which are in
// create-revision order.
func rows(prefix string, kvs []*mvccpb.KeyValue) []Entry {
	type key struct{ kind, name string }
	set := make(map[string]bool) // events set
	for _, kv := range kvs {
		if kind, name, _, ok := parseKey(prefix, string(kv.Key)); ok && kind == kindEvent {
			set[name] = true
		}
	}
	var out []Entry
	ahead := make(map[key]int)      // keys of the name's line seen so far
	writers := make(map[string]int) // a lock's writer keys seen so far
	for _, kv := range kvs {
		kind, name, _, ok := parseKey(prefix, string(kv.Key))
		if !ok {
			continue
		}
		m := decodeMeta(kv.Value)
		e := Entry{Name: name, Kind: kind, Token: kv.CreateRevision, Who: m.Who, Since: m.Since, Key: string(kv.Key), Value: m.Value}
		line := key{kind, name}
		switch kind {
		case kindEvent:
			e.State = "set"
		case kindEventWait:
			if set[name] {
				continue // released, and leaving
			}
			e.Kind, e.State = kindEvent, "waiter"
		case kindBarrier:
			if m.Index != nil {
				continue // tripped and leaving
			}
			e.State = "waiter"
		case kindElect:
			e.State = "candidate"
			if ahead[line] == 0 {
				e.State = "leader"
				if !m.Leading.IsZero() {
					e.Since = m.Leading
				}
			}
		case kindSem:
			e.State = "waiter"
			if ahead[line] < max(m.Limit, 1) {
				e.State = "holder"
			}
		case kindLock, kindRLock:
			// One line for both kinds (see RWMutex): a writer holds
			// when first in it, a reader when no writer is ahead.
			line = key{kindLock, name}
			e.State = "waiter"
			switch {
			case kind == kindLock && ahead[line] == 0:
				e.State = "holder"
			case kind == kindRLock && writers[name] == 0:
				e.State = "reader"
			}
			if kind == kindLock {
				writers[name]++
			}
		}
		ahead[line]++
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ka, kb := sortKind(a.Kind), sortKind(b.Kind); ka != kb {
			return ka < kb
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Token < b.Token
	})
	return out
}

// sortKind is the kind an entry sorts under: a lock's reader rows sort
// with its writers.
func sortKind(kind string) string {
	if kind == kindRLock {
		return kindLock
	}
	return kind
}
