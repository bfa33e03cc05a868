package inspect

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"
)

// The registry maps names to primitives through weak pointers, so that
// registering keeps nothing alive: a registered primitive that becomes
// unreachable is collected as if it had never been registered, and its entry
// is dropped the next time the registry is read or grows.
//
// A weak pointer, not the interface value, is kept: p's dynamic type is kept
// beside it (a reflect.Type, which keeps no object alive) and the interface
// is rebuilt from the two when p is still alive. weak.Make accepts interior
// pointers (&s.mu, a field of a larger struct, the common case) and pointers
// to package-level variables (which are never collected).
var reg struct {
	mu     sync.RWMutex
	byName map[string]*regEntry
	byAddr map[uintptr]*regEntry // the latest registration of each address
	n      atomic.Int64          // len(byName), read without mu by NameOf
	swept  int                   // len(byName) after the last sweep
}

type regEntry struct {
	name string
	wp   weak.Pointer[byte]
	typ  reflect.Type // p's type, a pointer type
	addr uintptr      // p's address; an address alone proves nothing, see NameOf
}

// Register names p, which must be a non-nil pointer, replacing whatever was
// registered under name. call names the public function for panics
// ("Register").
func Register(call, name string, p any) {
	if name == "" {
		panic("coord: " + call + " with an empty name")
	}
	if p == nil {
		panic("coord: " + call + " of a nil primitive")
	}
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer {
		panic("coord: " + call + " of a " + v.Type().String() + ", which is not a pointer: register its address")
	}
	if v.IsNil() {
		panic("coord: " + call + " of a nil " + v.Type().String())
	}
	look() // a named primitive is one someone means to look at
	ptr := v.UnsafePointer()
	e := &regEntry{name: name, wp: weak.Make((*byte)(ptr)), typ: v.Type(), addr: uintptr(ptr)}

	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.byName == nil {
		reg.byName = make(map[string]*regEntry)
		reg.byAddr = make(map[uintptr]*regEntry)
	}
	if old := reg.byName[name]; old != nil {
		removeLocked(old)
	}
	reg.byName[name] = e
	reg.byAddr[e.addr] = e
	// Sweep the collected entries whenever the registry has doubled since
	// the last sweep, so a program that registers short-lived primitives
	// and never reads the registry keeps it within twice its live size.
	if len(reg.byName) > 2*reg.swept+16 {
		for _, e := range reg.byName {
			if e.wp.Value() == nil {
				removeLocked(e)
			}
		}
		reg.swept = len(reg.byName)
	}
	reg.n.Store(int64(len(reg.byName)))
}

// Unregister removes the primitive registered under name, if any.
func Unregister(name string) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if e := reg.byName[name]; e != nil {
		removeLocked(e)
		reg.n.Store(int64(len(reg.byName)))
	}
}

// removeLocked removes e, which is registered, under reg.mu.
func removeLocked(e *regEntry) {
	delete(reg.byName, e.name)
	if reg.byAddr[e.addr] != e {
		return
	}
	delete(reg.byAddr, e.addr)
	if e.wp.Value() == nil {
		return
	}
	// The same live primitive may be registered under another name too;
	// that name becomes its name. (Rare, so a scan will do.)
	for _, o := range reg.byName {
		if o.wp == e.wp {
			reg.byAddr[o.addr] = o
			return
		}
	}
}

// An Entry is one live registered primitive.
type Entry struct {
	Name string
	P    any // the pointer given to Register
}

// Live returns the registered primitives that are still alive, sorted by
// name, and drops the collected ones from the registry.
//
// The primitives are returned, not queried: the caller calls their methods
// without the registry's lock held, so that a method that itself reads the
// registry (Stats calls NameOf) cannot deadlock against a Register.
func Live() []Entry {
	look()
	reg.mu.RLock()
	all := make([]*regEntry, 0, len(reg.byName))
	for _, e := range reg.byName {
		all = append(all, e)
	}
	reg.mu.RUnlock()

	live := make([]Entry, 0, len(all))
	var dead []*regEntry
	for _, e := range all {
		p := e.wp.Value()
		if p == nil {
			dead = append(dead, e)
			continue
		}
		live = append(live, Entry{Name: e.name, P: reflect.NewAt(e.typ.Elem(), unsafe.Pointer(p)).Interface()})
	}
	if len(dead) > 0 {
		reg.mu.Lock()
		for _, e := range dead {
			if reg.byName[e.name] == e {
				removeLocked(e)
			}
		}
		reg.swept = len(reg.byName)
		reg.n.Store(int64(len(reg.byName)))
		reg.mu.Unlock()
	}
	slices.SortFunc(live, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return live
}

// NameOf returns the name p is registered under, or "" if it is not
// registered. p is the primitive's address, the pointer a user gives to
// Register; a primitive's Stats calls NameOf(unsafe.Pointer(x)) to fill in
// Name, and so may any type outside the root package (an etcd primitive).
//
// It costs one atomic load while nothing is registered, and a map lookup
// under a read lock otherwise; it allocates nothing and does not make p
// escape.
func NameOf(p unsafe.Pointer) string {
	if reg.n.Load() == 0 {
		return ""
	}
	reg.mu.RLock()
	e := reg.byAddr[uintptr(p)]
	reg.mu.RUnlock()
	// The address may be that of a collected primitive whose memory now
	// holds another: the weak pointer of the collected one returns nil,
	// never the new one.
	if e == nil || unsafe.Pointer(e.wp.Value()) != p {
		return ""
	}
	return e.name
}
