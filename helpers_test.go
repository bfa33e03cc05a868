package coord_test

import (
	"strings"
	"testing"
)

// mustPanic calls f and fails the test unless f panics with a string that
// begins "coord: " and contains every one of want.
func mustPanic(t *testing.T, f func(), want ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("did not panic; want a panic mentioning %q", want)
		}
		msg, ok := r.(string)
		if !ok {
			if e, isErr := r.(error); isErr {
				msg = e.Error()
			} else {
				t.Fatalf("panicked with %T %v; want a string", r, r)
			}
		}
		if !strings.HasPrefix(msg, "coord: ") {
			t.Errorf("panic %q does not begin with %q", msg, "coord: ")
		}
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("panic %q does not mention %q", msg, w)
			}
		}
	}()
	f()
}
