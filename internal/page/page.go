// Package page is the live page of coord's "Seeing inside": one design
// served both by coord.Handler, over the primitives registered in a process,
// and by the CLI's coord ui, over the names of a cluster, so that a user
// learns it once.
//
// A Page is an http.Handler. It serves
//
//   - the HTML page (no query), which fetches ?format=view twice a second
//     and redraws its table in place, keeping a few minutes of samples in the
//     browser for each row's chart of wait times;
//   - ?format=view, the page's own model: a View, as JSON;
//   - ?format=json, the owner's public JSON (coord.Handler: a JSON array of
//     coord.Stats; coord ui: the rows of coord ls --json).
//
// It reads no request body and changes no state: it answers GET and HEAD
// only, and calls nothing but its Rows and JSON functions.
//
// The model fits both sources. An in-process primitive knows its counts
// (Holders, Waiters, OldestWait) and its counters since creation (Counters),
// but not who holds it; a cluster's name knows who holds it and who waits,
// with fencing tokens and ages (Holding, Queue), but has no counters, which
// are left nil. The page shows what a row has and a dash for the rest.
package page

import (
	"context"
	_ "embed"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"strings"
	"time"
)

// A View is what the page fetches on each refresh.
type View struct {
	Title  string `json:"title"`
	Source string `json:"source,omitempty"` // what the rows are about: a process, a cluster
	Empty  string `json:"empty,omitempty"`  // what to say when there are no rows
	Rows   []Row  `json:"rows"`
	Error  string `json:"error,omitempty"` // why the rows could not be read this time
}

// A Row is one primitive (in process) or one name (in a cluster).
type Row struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// State is a short word for a state that counts do not show, such as
	// "set" for a set Event; empty otherwise.
	State      string        `json:"state,omitempty"`
	Holders    int           `json:"holders"`
	Waiters    int           `json:"waiters"`
	OldestWait time.Duration `json:"oldestWait"` // nanoseconds in JSON
	// Holding and Queue list who holds and who waits, where that is known
	// (a cluster); the oldest waiter first.
	Holding []Party `json:"holding,omitempty"`
	Queue   []Party `json:"queue,omitempty"`
	// Counters are counts since the primitive was made, where known (in
	// process); nil otherwise.
	Counters *Counters `json:"counters,omitempty"`
}

// A Party is one holder or waiter of a name.
type Party struct {
	Role  string        `json:"role"`            // "holder", "reader", "leader", "waiter", "candidate", ...
	Who   string        `json:"who,omitempty"`   // host and pid of its session
	Token int64         `json:"token,omitempty"` // fencing token, 0 if none
	Age   time.Duration `json:"age"`             // held or waited for so long (nanoseconds in JSON)
}

// Counters are the counts a row has kept since it was made.
type Counters struct {
	Waits    uint64        `json:"waits"`
	GaveUp   uint64        `json:"gaveUp"`
	WaitTime time.Duration `json:"waitTime"` // nanoseconds in JSON
}

// A Page serves the live page over Rows. Its fields are read on every
// request and must not change once it serves.
type Page struct {
	Title  string // the page's title
	Source string // a line under the title saying what the rows are about
	Empty  string // what the page says when Rows returns none
	// Rows returns the rows to show now, sorted as they should be shown.
	Rows func(ctx context.Context) ([]Row, error)
	// JSON returns the value served as ?format=json; if nil, the rows.
	JSON func(ctx context.Context) (any, error)
}

//go:embed page.html
var pageHTML string

// render fills in the page's three texts, escaped. (A replacer rather than
// html/template keeps that package out of every program that imports
// coord.)
func (p *Page) render(w io.Writer) {
	strings.NewReplacer(
		"{{.Title}}", html.EscapeString(p.Title),
		"{{.Source}}", html.EscapeString(p.Source),
		"{{.Empty}}", html.EscapeString(p.Empty),
	).WriteString(w, pageHTML)
}

// ServeHTTP serves the page, ?format=view or ?format=json.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: this page only reads", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	switch f := r.URL.Query().Get("format"); f {
	case "":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		p.render(w)
	case "view":
		v := View{Title: p.Title, Source: p.Source, Empty: p.Empty, Rows: []Row{}}
		rows, err := p.Rows(r.Context())
		status := http.StatusOK
		if err != nil {
			v.Error = err.Error()
			status = http.StatusServiceUnavailable
		} else if rows != nil {
			v.Rows = rows
		}
		writeJSON(w, status, v)
	case "json":
		var v any
		var err error
		if p.JSON != nil {
			v, err = p.JSON(r.Context())
		} else {
			var rows []Row
			rows, err = p.Rows(r.Context())
			if rows == nil {
				rows = []Row{}
			}
			v = rows
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, http.StatusOK, v)
	default:
		http.Error(w, "unknown format "+f+": use format=json, format=view or none for the page", http.StatusBadRequest)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
