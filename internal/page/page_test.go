package page

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func serve(p *Page, method, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

// TestClusterRows: the model carries what a cluster knows, holders and
// queues with tokens, who and ages, and no counters.
func TestClusterRows(t *testing.T) {
	p := &Page{Title: "coord ui", Source: "etcd 127.0.0.1:2379", Empty: "nobody holds or waits",
		Rows: func(context.Context) ([]Row, error) {
			return []Row{{Name: "jobs", Kind: "Mutex", Holders: 1, Waiters: 1, OldestWait: 2 * time.Second,
				Holding: []Party{{Role: "holder", Who: "web1:4242", Token: 17, Age: 5 * time.Second}},
				Queue:   []Party{{Role: "waiter", Who: "web2:99", Age: 2 * time.Second}}}}, nil
		}}
	w := serve(p, "GET", "/ui?format=view")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("view: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	want := `{"title":"coord ui","source":"etcd 127.0.0.1:2379","empty":"nobody holds or waits","rows":[` +
		`{"name":"jobs","kind":"Mutex","holders":1,"waiters":1,"oldestWait":2000000000,` +
		`"holding":[{"role":"holder","who":"web1:4242","token":17,"age":5000000000}],` +
		`"queue":[{"role":"waiter","who":"web2:99","age":2000000000}]}]}`
	if got := strings.TrimSpace(w.Body.String()); got != want {
		t.Fatalf("view:\n got %s\nwant %s", got, want)
	}
	// Without a JSON function, ?format=json serves the rows.
	w = serve(p, "GET", "/ui?format=json")
	var rows []Row
	if err := json.Unmarshal(w.Body.Bytes(), &rows); err != nil || len(rows) != 1 || rows[0].Holding[0].Token != 17 {
		t.Fatalf("json: %v %s", err, w.Body)
	}
}

// TestRowsError: when the rows cannot be read (a cluster out of reach), the
// view says why, with an empty list, and json fails.
func TestRowsError(t *testing.T) {
	p := &Page{Title: "t", Rows: func(context.Context) ([]Row, error) { return nil, errors.New("cluster unreachable") }}
	w := serve(p, "GET", "/?format=view")
	var v View
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusServiceUnavailable || v.Error != "cluster unreachable" || v.Rows == nil || len(v.Rows) != 0 {
		t.Fatalf("view: %d %+v", w.Code, v)
	}
	if w = serve(p, "GET", "/?format=json"); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("json: %d", w.Code)
	}
}

// TestOnlyReads: the page answers GET and HEAD, and nothing that could
// change state; it escapes what it is given.
func TestOnlyReads(t *testing.T) {
	called := 0
	p := &Page{Title: `<script>alert(1)</script>`, Rows: func(context.Context) ([]Row, error) { called++; return nil, nil }}
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		if w := serve(p, m, "/?format=json"); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q", m, w.Code, w.Header().Get("Allow"))
		}
	}
	if called != 0 {
		t.Fatalf("Rows called %d times by refused requests", called)
	}
	w := serve(p, "HEAD", "/")
	if w.Code != 200 {
		t.Fatalf("HEAD: %d", w.Code)
	}
	w = serve(p, "GET", "/")
	if strings.Contains(w.Body.String(), "<script>alert(1)") {
		t.Fatal("the title was not escaped")
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", w.Header().Get("Cache-Control"))
	}
	if w = serve(p, "GET", "/?format=json"); strings.TrimSpace(w.Body.String()) != "[]" {
		t.Errorf("no rows as json: %q, want []", w.Body)
	}
}
