package etcd

import (
	"context"
	"sort"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// An Entry is one live holder, waiter or set event, as List reports it and
// `coord ls` prints it.
type Entry struct {
	Name  string    `json:"name"`  // the primitive's name
	Kind  string    `json:"kind"`  // "lock", "sem", "barrier", "event" or "election"
	State string    `json:"state"` // "holder", "waiter", "set", or "leader" and "candidate"
	Token int64     `json:"token"` // the key's create revision: a holder's fencing token
	Who   string    `json:"who"`   // host:pid of the session that wrote the key
	Since time.Time `json:"since"` // when the key was written, or a leader began to lead (the writer's clock)
	Key   string    `json:"key"`   // the key itself
	Value string    `json:"value"` // an election candidate's value; "" for other kinds
}

// List returns every live holder and waiter of the locks, semaphores and
// barriers under the key namespace prefix (a session's WithPrefix; "" means
// the default "/coord/"), and every set event, in one consistent read. A
// lock's holder is its oldest key; a semaphore's holders are its limit
// oldest keys (the limit recorded in the keys), the others waiters; a
// barrier's parties are all waiters until their round trips; an election's
// leader is its oldest key, the others candidates. Entries are
// sorted by kind, name and token. Names nobody holds or waits on do not
// appear.
func List(ctx context.Context, cli *clientv3.Client, prefix string) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if prefix == "" {
		prefix = defaultPrefix
	} else if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, wrapErr("list", prefix, err)
	}
	var out []Entry
	held := make(map[string]int) // kind/name -> entries seen so far
	for _, kv := range resp.Kvs {
		kind, name, _, ok := parseKey(prefix, string(kv.Key))
		if !ok {
			continue
		}
		m := decodeMeta(kv.Value)
		e := Entry{Name: name, Kind: kind, Token: kv.CreateRevision, Who: m.Who, Since: m.Since, Key: string(kv.Key), Value: m.Value}
		limit := 1
		if kind == kindSem {
			limit = max(m.Limit, 1)
		}
		switch {
		case kind == kindEvent:
			e.State = "set"
		case kind == kindBarrier && m.Index != nil:
			continue // tripped and leaving
		case kind == kindBarrier:
			e.State = "waiter"
		case kind == kindElect && held[kind+"/"+name] == 0:
			e.State = "leader"
			if !m.Leading.IsZero() {
				e.Since = m.Leading
			}
		case kind == kindElect:
			e.State = "candidate"
		case held[kind+"/"+name] < limit:
			e.State = "holder"
		default:
			e.State = "waiter"
		}
		held[kind+"/"+name]++
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Token < b.Token
	})
	return out, nil
}
