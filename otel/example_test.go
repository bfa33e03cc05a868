package coordotel_test

import (
	"context"
	"fmt"
	"log"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/coordkit/coord"
	coordotel "github.com/coordkit/coord/otel"
)

// A program publishes its registered primitives once, at start, on the
// MeterProvider its exporter reads; here, the stdout exporter every 30
// seconds.
func ExamplePublish() {
	exp, err := stdoutmetric.New(stdoutmetric.WithPrettyPrint())
	if err != nil {
		log.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
	defer mp.Shutdown(context.Background())

	if _, err := coordotel.Publish(mp); err != nil {
		log.Fatal(err)
	}

	// Register the primitives to publish, under the names to publish them
	// by; a field of a larger struct is the common case, and registering
	// keeps nothing alive.
	s := &server{pool: coord.NewSemaphore(8)}
	coord.Register("server/jobs", &s.jobs)
	coord.Register("server/pool", s.pool)
	// ... the program runs; its primitives are exported every 30s, and
	// once more by Shutdown.
}

type server struct {
	jobs coord.Mutex
	pool *coord.Semaphore
}

// backlog is a primitive of the program's own, with Stats scripted for the
// example's output: anything with a Stats method can be registered.
type backlog struct {
	mu    sync.Mutex
	stats coord.Stats
}

func (b *backlog) Stats() coord.Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// The instruments, as a reader sees them.
func ExamplePublish_instruments() {
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	if _, err := coordotel.Publish(mp); err != nil {
		log.Fatal(err)
	}
	jobs := &backlog{stats: coord.Stats{Kind: "Backlog", Holders: 1, Waiters: 2, OldestWait: 750 * time.Millisecond,
		Waits: 5, GaveUp: 1, WaitTime: 1500 * time.Millisecond}}
	coord.Register("jobs", jobs)
	defer coord.Unregister("jobs")

	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	// One line per data point: instrument, unit, attributes, value.
	var lines []string
	add := func(m metricdata.Metrics, set attribute.Set, v any) {
		var attrs []string
		for _, kv := range set.ToSlice() {
			attrs = append(attrs, string(kv.Key)+"="+kv.Value.Emit())
		}
		lines = append(lines, fmt.Sprintf("%-19s %-8s %s %v", m.Name, m.Unit, strings.Join(attrs, " "), v))
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					add(m, p.Attributes, p.Value)
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					add(m, p.Attributes, p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					add(m, p.Attributes, p.Value)
				}
			}
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// coord.holder.count  {holder} coord.kind=Backlog coord.name=jobs 1
	// coord.wait.time     s        coord.kind=Backlog coord.name=jobs 1.5
	// coord.waiter.count  {waiter} coord.kind=Backlog coord.name=jobs 2
	// coord.waiter.oldest s        coord.kind=Backlog coord.name=jobs 0.75
	// coord.waits         {wait}   coord.kind=Backlog coord.name=jobs coord.wait.outcome=done 4
	// coord.waits         {wait}   coord.kind=Backlog coord.name=jobs coord.wait.outcome=gave_up 1
}
