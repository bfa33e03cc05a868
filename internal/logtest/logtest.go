// Package logtest has the one slog.Handler coord's tests log to: it keeps
// every record it is given, so that a test can check what a slow-wait
// report said and how many there were.
package logtest

import (
	"context"
	"log/slog"
	"sync"
)

// Records is a slog.Handler that keeps the records it handles. The zero
// value is ready to use; it is safe for concurrent use.
type Records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *Records) Enabled(context.Context, slog.Level) bool { return true }

func (h *Records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

func (h *Records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *Records) WithGroup(string) slog.Handler      { return h }

// All returns a copy of the records handled so far, oldest first.
func (h *Records) All() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Record(nil), h.recs...)
}

// Len returns how many records have been handled.
func (h *Records) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.recs)
}

// Attrs returns r's attributes by key.
func Attrs(r slog.Record) map[string]slog.Value {
	m := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value
		return true
	})
	return m
}
