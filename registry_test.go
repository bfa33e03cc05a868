package coord_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/internal/inspect"
)

// fakePrim is a primitive as the page sees one: anything with a Stats
// method. Its Stats fills Name the way the real primitives do. It holds a
// pointer, so it is never batched with other objects in one tiny
// allocation, which would keep it alive with them.
type fakePrim struct {
	stats coord.Stats
	_     *int
}

func (f *fakePrim) Stats() coord.Stats {
	s := f.stats
	s.Name = inspect.NameOf(unsafe.Pointer(f))
	return s
}

// owner is a larger struct with a primitive inside, the common case of
// Register(name, &s.mu).
type owner struct {
	buf [256]byte
	mu  fakePrim
}

// registered returns the rows of Snapshot whose names have prefix.
func registered(prefix string) []coord.Stats {
	var out []coord.Stats
	for _, s := range coord.Snapshot() {
		if strings.HasPrefix(s.Name, prefix) {
			out = append(out, s)
		}
	}
	return out
}

func names(stats []coord.Stats) []string {
	var out []string
	for _, s := range stats {
		out = append(out, s.Name)
	}
	return out
}

// collect runs the collector until wp's object is gone, or fails.
func collect[T any](t *testing.T, wp weak.Pointer[T]) {
	t.Helper()
	for range 10 {
		runtime.GC()
		if wp.Value() == nil {
			return
		}
	}
	t.Fatal("the registered primitive was kept alive")
}

func TestRegisterKeepsNothingAlive(t *testing.T) {
	o := &owner{mu: fakePrim{stats: coord.Stats{Kind: "Fake", Waiters: 2}}}
	kept := &fakePrim{stats: coord.Stats{Kind: "Fake"}}
	coord.Register("gc/field", &o.mu)
	coord.Register("gc/kept", kept)
	defer coord.Unregister("gc/kept")
	wp := weak.Make(o)

	if got := names(registered("gc/")); !slices.Equal(got, []string{"gc/field", "gc/kept"}) {
		t.Fatalf("registered before GC: %v", got)
	}
	if got := o.mu.Stats(); got.Name != "gc/field" || got.Waiters != 2 {
		t.Fatalf("the field's own Stats = %+v, want Name gc/field, Waiters 2", got)
	}
	o = nil
	collect(t, wp)
	if got := names(registered("gc/")); !slices.Equal(got, []string{"gc/kept"}) {
		t.Fatalf("registered after the owner was collected: %v, want only gc/kept", got)
	}
	runtime.KeepAlive(kept)
}

// TestRegisterGlobal: a package-level primitive, never collected, can be
// registered too.
var globalPrim = fakePrim{stats: coord.Stats{Kind: "Fake"}}

func TestRegisterGlobal(t *testing.T) {
	coord.Register("global/prim", &globalPrim)
	defer coord.Unregister("global/prim")
	runtime.GC()
	if got := names(registered("global/")); !slices.Equal(got, []string{"global/prim"}) {
		t.Fatalf("registered: %v", got)
	}
	if got := globalPrim.Stats().Name; got != "global/prim" {
		t.Fatalf("own Stats Name = %q", got)
	}
}

func TestRegisterReplacesByName(t *testing.T) {
	a := &fakePrim{stats: coord.Stats{Kind: "A"}}
	b := &fakePrim{stats: coord.Stats{Kind: "B"}}
	coord.Register("replace/x", a)
	coord.Register("replace/x", b)
	defer coord.Unregister("replace/x")
	got := registered("replace/")
	if len(got) != 1 || got[0].Kind != "B" {
		t.Fatalf("after a second Register of the name: %+v, want one row of kind B", got)
	}
	if name := a.Stats().Name; name != "" {
		t.Errorf("replaced primitive's own Stats Name = %q, want empty", name)
	}
	if name := b.Stats().Name; name != "replace/x" {
		t.Errorf("replacing primitive's own Stats Name = %q, want replace/x", name)
	}
}

func TestUnregister(t *testing.T) {
	p := &fakePrim{stats: coord.Stats{Kind: "Fake"}}
	coord.Register("unreg/a", p)
	coord.Register("unreg/b", p) // one primitive under two names
	coord.Unregister("unreg/nobody")
	if got := names(registered("unreg/")); !slices.Equal(got, []string{"unreg/a", "unreg/b"}) {
		t.Fatalf("registered: %v", got)
	}
	coord.Unregister("unreg/b")
	if got := names(registered("unreg/")); !slices.Equal(got, []string{"unreg/a"}) {
		t.Fatalf("after Unregister(b): %v", got)
	}
	if got := p.Stats().Name; got != "unreg/a" {
		t.Fatalf("own Stats Name after its other name went = %q, want unreg/a", got)
	}
	coord.Unregister("unreg/a")
	if got := registered("unreg/"); len(got) != 0 {
		t.Fatalf("after Unregister(a): %v", names(got))
	}
	if got := p.Stats().Name; got != "" {
		t.Fatalf("own Stats Name once unregistered = %q", got)
	}
}

type valuePrim struct{ _ *int }

func (valuePrim) Stats() coord.Stats { return coord.Stats{} }

func TestRegisterPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    interface{ Stats() coord.Stats }
		msg  string
	}{
		{"", &fakePrim{}, "empty name"},
		{"x", nil, "nil"},
		{"x", (*fakePrim)(nil), "nil"},
		{"x", valuePrim{}, "not a pointer"},
	} {
		func() {
			defer func() {
				r := recover()
				s, _ := r.(string)
				if !strings.HasPrefix(s, "coord: Register") || !strings.Contains(s, tc.msg) {
					t.Errorf("Register(%q, %T): panic %v, want coord: Register ... %s", tc.name, tc.p, r, tc.msg)
				}
			}()
			coord.Register(tc.name, tc.p)
		}()
	}
}

// TestSnapshotSortedAndNamed: Snapshot sorts by name and fills in the name
// each row is registered under, whatever the primitive's own Stats says.
func TestSnapshotSortedAndNamed(t *testing.T) {
	p := &valueNamed{}
	for _, n := range []string{"sort/c", "sort/a", "sort/b"} {
		coord.Register(n, p)
		defer coord.Unregister(n)
	}
	if got := names(registered("sort/")); !slices.Equal(got, []string{"sort/a", "sort/b", "sort/c"}) {
		t.Fatalf("Snapshot order: %v", got)
	}
}

type valueNamed struct{ _ *int }

func (*valueNamed) Stats() coord.Stats { return coord.Stats{Name: "ignored", Kind: "Fake"} }

func TestHandlerJSON(t *testing.T) {
	p := &fakePrim{stats: coord.Stats{Kind: "Mutex", Holders: 1, Waiters: 3, OldestWait: 1500 * time.Millisecond,
		Waits: 7, GaveUp: 2, WaitTime: 4 * time.Second}}
	coord.Register("json/m", p)
	defer coord.Unregister("json/m")
	srv := httptest.NewServer(coord.Handler())
	defer srv.Close()

	res, err := http.Get(srv.URL + "?format=json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var rows []map[string]any
	if err := json.NewDecoder(res.Body).Decode(&rows); err != nil {
		t.Fatal(err)
	}
	var row map[string]any
	for _, r := range rows {
		if r["Name"] == "json/m" {
			row = r
		}
	}
	want := map[string]any{"Name": "json/m", "Kind": "Mutex", "Holders": 1.0, "Waiters": 3.0,
		"OldestWait": 1.5e9, "Waits": 7.0, "GaveUp": 2.0, "WaitTime": 4e9}
	if !reflect.DeepEqual(row, want) {
		t.Fatalf("row = %v\nwant  %v", row, want)
	}
	// Every field of Stats, by its Go name, and nothing else.
	var fields []string
	for f := range reflect.TypeFor[coord.Stats]().Fields() {
		fields = append(fields, f.Name)
	}
	var keys []string
	for k := range row {
		keys = append(keys, k)
	}
	slices.Sort(fields)
	slices.Sort(keys)
	if !slices.Equal(keys, fields) {
		t.Fatalf("JSON keys %v, want the fields of Stats %v", keys, fields)
	}
}

func TestHandlerPageAndMethods(t *testing.T) {
	srv := httptest.NewServer(coord.Handler())
	defer srv.Close()

	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, s := range []string{"<table", "format=view", "Oldest wait", "Gave up"} {
		if !strings.Contains(string(body), s) {
			t.Errorf("page lacks %q", s)
		}
	}

	res, err = http.Post(srv.URL+"?format=json", "application/json", strings.NewReader("[]"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", res.StatusCode)
	}
	res, err = http.Get(srv.URL + "?format=xml")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("format=xml: status %d, want 400", res.StatusCode)
	}
}

func TestHandlerView(t *testing.T) {
	p := &fakePrim{stats: coord.Stats{Kind: "Semaphore", Holders: 2, Waits: 5, WaitTime: time.Second}}
	coord.Register("view/s", p)
	defer coord.Unregister("view/s")
	srv := httptest.NewServer(coord.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/any/mount?format=view")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v struct {
		Title string
		Rows  []struct {
			Name     string
			Kind     string
			Holders  int
			Counters *struct{ Waits, GaveUp, WaitTime int64 }
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v.Title, "coord: ") {
		t.Errorf("title %q", v.Title)
	}
	for _, r := range v.Rows {
		if r.Name == "view/s" {
			if r.Kind != "Semaphore" || r.Holders != 2 || r.Counters == nil || r.Counters.Waits != 5 || r.Counters.WaitTime != 1e9 {
				t.Fatalf("view row = %+v, counters %+v", r, r.Counters)
			}
			return
		}
	}
	t.Fatalf("no row view/s in %+v", v.Rows)
}
