package coordotel_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/coordkit/coord"
	coordotel "github.com/coordkit/coord/otel"
)

// fakePrim stands for a primitive with the given Stats.
type fakePrim struct {
	s coord.Stats
	_ *int
}

func (f *fakePrim) Stats() coord.Stats { return f.s }

// collect returns the published metrics by name.
func collect(t *testing.T, r sdkmetric.Reader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != coordotel.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, coordotel.ScopeName)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// point returns the value of the data point of m with exactly attrs, and
// whether there is one.
func point(t *testing.T, m metricdata.Metrics, attrs ...attribute.KeyValue) (float64, bool) {
	t.Helper()
	want := attribute.NewSet(attrs...)
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if p.Attributes.Equals(&want) {
				return float64(p.Value), true
			}
		}
	case metricdata.Sum[float64]:
		for _, p := range d.DataPoints {
			if p.Attributes.Equals(&want) {
				return p.Value, true
			}
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			if p.Attributes.Equals(&want) {
				return p.Value, true
			}
		}
	default:
		t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
	}
	return 0, false
}

func TestPublish(t *testing.T) {
	jobs := &fakePrim{s: coord.Stats{Kind: "Mutex", Holders: 1, Waiters: 3, OldestWait: 1500 * time.Millisecond,
		Waits: 10, GaveUp: 4, WaitTime: 2500 * time.Millisecond}}
	coord.Register("otel/jobs", jobs)
	defer coord.Unregister("otel/jobs")

	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	defer mp.Shutdown(context.Background())
	reg, err := coordotel.Publish(mp)
	if err != nil {
		t.Fatal(err)
	}

	ms := collect(t, r)
	id := []attribute.KeyValue{coordotel.NameKey.String("otel/jobs"), coordotel.KindKey.String("Mutex")}
	with := func(kv ...attribute.KeyValue) []attribute.KeyValue {
		return append(append([]attribute.KeyValue(nil), id...), kv...)
	}
	for _, c := range []struct {
		name, unit string
		monotonic  bool // a Counter rather than an UpDownCounter, for a Sum
		attrs      []attribute.KeyValue
		want       float64
	}{
		{"coord.waits", "{wait}", true, with(coordotel.OutcomeKey.String("done")), 6},
		{"coord.waits", "{wait}", true, with(coordotel.OutcomeKey.String("gave_up")), 4},
		{"coord.wait.time", "s", true, id, 2.5},
		{"coord.holder.count", "{holder}", false, id, 1},
		{"coord.waiter.count", "{waiter}", false, id, 3},
		{"coord.waiter.oldest", "s", false, id, 1.5},
	} {
		m, ok := ms[c.name]
		if !ok {
			t.Errorf("no metric %s", c.name)
			continue
		}
		if m.Unit != c.unit {
			t.Errorf("%s: unit %q, want %q", c.name, m.Unit, c.unit)
		}
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			if d.IsMonotonic != c.monotonic || d.Temporality != metricdata.CumulativeTemporality {
				t.Errorf("%s: monotonic %v, temporality %v", c.name, d.IsMonotonic, d.Temporality)
			}
		case metricdata.Sum[float64]:
			if d.IsMonotonic != c.monotonic {
				t.Errorf("%s: monotonic %v", c.name, d.IsMonotonic)
			}
		}
		got, ok := point(t, m, c.attrs...)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.attrs, got, ok, c.want)
		}
	}

	// A primitive unregistered stops being published; a change is seen at
	// the next collection.
	jobs.s.Waiters = 0
	jobs.s.OldestWait = 0
	coord.Register("otel/other", &fakePrim{s: coord.Stats{Kind: "Event"}})
	coord.Unregister("otel/other")
	ms = collect(t, r)
	if got, _ := point(t, ms["coord.waiter.count"], id...); got != 0 {
		t.Errorf("coord.waiter.count after the change = %v, want 0", got)
	}
	if _, ok := point(t, ms["coord.waiter.count"], coordotel.NameKey.String("otel/other"), coordotel.KindKey.String("Event")); ok {
		t.Error("an unregistered primitive is still published")
	}

	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	ms = collect(t, r)
	if m, ok := ms["coord.waits"]; ok {
		if _, ok := point(t, m, with(coordotel.OutcomeKey.String("done"))...); ok {
			t.Error("still published after Unregister")
		}
	}
}

// A real Mutex, held with two goroutines queued and one that gave up, is
// published as its Stats say.
func TestPublishRealMutex(t *testing.T) {
	var mu coord.Mutex
	coord.Register("otel/real", &mu)
	defer coord.Unregister("otel/real")
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	defer mp.Shutdown(context.Background())
	if _, err := coordotel.Publish(mp); err != nil {
		t.Fatal(err)
	}

	bg := context.Background()
	mu.Lock(bg)
	short, cancel := context.WithTimeout(bg, 10*time.Millisecond)
	defer cancel()
	if err := mu.Lock(short); err != context.DeadlineExceeded {
		t.Fatalf("Lock with a short ctx on the held mutex = %v", err)
	}
	done := make(chan struct{})
	for range 2 {
		go func() {
			mu.Lock(bg)
			mu.Unlock()
			done <- struct{}{}
		}()
	}
	for mu.Stats().Waiters < 2 {
		time.Sleep(time.Millisecond)
	}
	ms := collect(t, r)
	id := []attribute.KeyValue{coordotel.NameKey.String("otel/real"), coordotel.KindKey.String("Mutex")}
	for _, c := range []struct {
		name  string
		attrs []attribute.KeyValue
		want  float64
	}{
		{"coord.holder.count", id, 1},
		{"coord.waiter.count", id, 2},
		{"coord.waits", append(id[:2:2], coordotel.OutcomeKey.String("gave_up")), 1},
		{"coord.waits", append(id[:2:2], coordotel.OutcomeKey.String("done")), 0},
	} {
		if got, ok := point(t, ms[c.name], c.attrs...); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.attrs, got, ok, c.want)
		}
	}
	if got, _ := point(t, ms["coord.wait.time"], id...); got < 0.010 {
		t.Errorf("coord.wait.time = %vs, want at least the 10ms given up", got)
	}
	mu.Unlock()
	<-done
	<-done
	if got, _ := point(t, collect(t, r)["coord.waits"], append(id[:2:2], coordotel.OutcomeKey.String("done"))...); got != 2 {
		t.Errorf("coord.waits done after both took it = %v, want 2", got)
	}
}
