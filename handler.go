package coord

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/coordkit/coord/internal/page"
)

// Handler returns the live page of the registered primitives: an HTML page
// with one row per primitive, sorted by name, the Stats fields as columns and
// a chart of recent wait times, which refreshes itself twice a second without
// reloading; and, for ?format=json, the same rows as a JSON array of Stats
// (field names as in the struct, durations in nanoseconds).
//
// Its first request is a look (see Stats): from then on, the waits shown
// are timed. Serving Handler is not a look before anyone asks.
//
// It reads no request body and changes no state; it answers GET and HEAD
// only. Mount it where operators can reach it, as with net/http/pprof:
//
//	http.Handle("/debug/coord", coord.Handler())
func Handler() http.Handler {
	host, _ := os.Hostname()
	return &page.Page{
		Title:  "coord: " + filepath.Base(os.Args[0]),
		Source: fmt.Sprintf("pid %d on %s: the primitives given to coord.Register", os.Getpid(), host),
		Empty:  "Nothing is registered: coord.Register(name, &mu) names a primitive for this page.",
		Rows:   func(context.Context) ([]page.Row, error) { return rows(Snapshot()), nil },
		JSON:   func(context.Context) (any, error) { return Snapshot(), nil },
	}
}

// rows turns Stats into the page's rows.
func rows(stats []Stats) []page.Row {
	out := make([]page.Row, len(stats))
	for i, s := range stats {
		out[i] = page.Row{
			Name:       s.Name,
			Kind:       s.Kind,
			Holders:    s.Holders,
			Waiters:    s.Waiters,
			OldestWait: s.OldestWait,
			Counters:   &page.Counters{Waits: s.Waits, GaveUp: s.GaveUp, WaitTime: s.WaitTime},
		}
	}
	return out
}
