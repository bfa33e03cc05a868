package etcd

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Key layout. Every key coord writes lives under the session's prefix
// (default "/coord/"):
//
//	<prefix>lock/<name>/<holder>      one per Lock attempt, on the session's lease
//	<prefix>rlock/<name>/<holder>     one per RLock attempt of an RWMutex, on the lease
//	<prefix>sem/<name>/<holder>       one per Acquire attempt, on the lease
//	<prefix>barrier/<name>/<holder>   one per Wait, on the lease
//	<prefix>election/<name>/<holder>  one per Campaign, on the lease
//	<prefix>event/<name>              the Event's state, on no lease
//	<prefix>eventwait/<name>/<holder> one per Event.Wait that finds it clear, on the lease
//
// <name> is url.PathEscape'd, so a name containing "/" never shares a range
// with another name ("a" and "a/b" would otherwise overlap). <holder> is the
// session's lease ID in hex and a sequence number unique within the session
// (see keyName): one per Mutex or Semaphore value, which is what keeps two
// values on one session distinct holders (concurrency.Mutex keys by lease
// alone and aliases them), and one per Barrier or Event wait. The value of
// each key is a small JSON record (keyMeta) naming the session's host and
// pid, for List and `coord ls`.
//
// A Mutex and an RWMutex of one name are one lock: the writers of both (every
// Mutex holder is a writer) queue in lock/<name>/, the RWMutex's readers in
// rlock/<name>/ beside it, and both ranges are ordered by the one revision
// counter of the cluster (see RWMutex for who waits for whom).
const (
	kindLock      = "lock"
	kindRLock     = "rlock"
	kindSem       = "sem"
	kindBarrier   = "barrier"
	kindEvent     = "event"
	kindEventWait = "eventwait"
	kindElect     = "election"
)

// namePrefix returns the key range of one primitive: every holder's key of
// the lock "jobs" starts with namePrefix(p, "lock", "jobs").
func namePrefix(prefix, kind, name string) string {
	return prefix + kind + "/" + url.PathEscape(name) + "/"
}

// eventKey returns the one key of the event called name.
func eventKey(prefix, name string) string {
	return prefix + kindEvent + "/" + url.PathEscape(name)
}

// parseKey splits a key under prefix into its kind, its name (unescaped) and
// its holder part ("" for an event). ok is false for a key of no known kind
// or shape, which List passes over.
func parseKey(prefix, key string) (kind, name, holder string, ok bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return "", "", "", false
	}
	kind, esc, ok := strings.Cut(rest, "/")
	if !ok {
		return "", "", "", false
	}
	switch kind {
	case kindEvent:
	case kindLock, kindRLock, kindSem, kindBarrier, kindElect, kindEventWait:
		esc, holder, ok = strings.Cut(esc, "/")
		if !ok || holder == "" || strings.Contains(holder, "/") {
			return "", "", "", false
		}
	default:
		return "", "", "", false
	}
	name, err := url.PathUnescape(esc)
	if err != nil {
		name = esc
	}
	return kind, name, holder, true
}

// keyName names the key of one Mutex or Semaphore value, or of one Barrier
// wait: pfx, the holder part (the session's lease in hex and a sequence
// number unique within the session), and a generation.
//
// A Mutex or Semaphore value reuses its name from one attempt to the next
// (its attempts never overlap: they are serialized by the value's turn).
// With a fresh name per attempt, every lock would leave one more deleted
// key in the server's index, where it stays until compaction, and each
// range read over the name's keys (the count of keys ahead, the search for
// the predecessor) would scan all of them: uncontended Lock+Unlock slowed
// from 0.3ms to 0.6ms within a few thousand iterations. The generation
// changes only when an attempt ended with its key possibly left behind (a
// write or delete the cluster did not answer), which the session's cleaner
// then deletes: no later attempt ever meets it, and the cleaner's plain
// delete never hits a later attempt's key.
type keyName struct {
	pfx  string
	base string
	gen  int
}

func newKeyName(pfx, holder string) *keyName {
	return &keyName{pfx: pfx, base: pfx + holder}
}

func (k *keyName) String() string {
	if k.gen == 0 {
		return k.base
	}
	return k.base + "." + strconv.Itoa(k.gen)
}

// keyMeta is the value stored under every key coord writes.
//
// Limit and Parties come first: a value carrying one of them begins with
// it (`{"limit":3,`), so one Txn can compare it across the name's range,
// which is how a key with another number is kept out (see sameNumber).
type keyMeta struct {
	Limit   int       `json:"limit,omitempty"`   // semaphores: its limit, so List can tell holders from waiters
	Parties int       `json:"parties,omitempty"` // barriers
	Who     string    `json:"who"`
	Since   time.Time `json:"since"`
	Index   *int      `json:"index,omitempty"`  // barriers: set when the round tripped
	Value   string    `json:"value,omitempty"`  // elections: the candidate's value
	Leading time.Time `json:"leading,omitzero"` // elections: when the leader began to lead, written by it
}

func (m keyMeta) encode() string {
	b, _ := json.Marshal(m)
	return string(b)
}

func decodeMeta(v []byte) keyMeta {
	var m keyMeta
	if json.Unmarshal(v, &m) != nil {
		m.Who = string(v)
	}
	return m
}

// now is the time stored in keyMeta.Since.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
