package coord_test

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/coordkit/coord"
)

// An operator's view of a process: its registered primitives on a page, as
// net/http/pprof serves profiles, and a warning for any wait stuck longer
// than ten seconds.
func ExampleHandler() {
	http.Handle("/debug/coord", coord.Handler()) // ?format=json for the rows as JSON
	coord.SetSlowWait(10*time.Second, slog.Default())
	// go http.ListenAndServe("127.0.0.1:6060", nil)
}
