// Package coordotel publishes the Stats of coord's registered primitives as
// OpenTelemetry metrics.
//
// It is a module of its own, github.com/coordkit/coord/otel, so that coord
// itself imports nothing but the standard library: only a program that
// imports this package depends on OpenTelemetry.
//
// Publish registers observable instruments on a MeterProvider. At each
// collection they read coord.Snapshot, so every primitive given to
// coord.Register is published under its name, and one that is unregistered
// or collected stops being published. The instruments follow the
// OpenTelemetry semantic conventions for naming (a "coord." namespace,
// pluralized counters of discrete things, "count" for up-down counters of
// things, "time" for accumulated time in seconds):
//
//	coord.waits            Counter        {wait}    waits that blocked, since the primitive was made,
//	                                                by coord.wait.outcome: "done" or "gave_up" (its ctx ended first)
//	coord.wait.time        Counter        s         total time spent in waits that blocked
//	coord.holder.count     UpDownCounter  {holder}  holders now (permits taken, items queued; see coord.Stats)
//	coord.waiter.count     UpDownCounter  {waiter}  goroutines blocked in the primitive now
//	coord.waiter.oldest    Gauge          s         how long the longest current waiter has waited
//
// Every data point carries coord.name (the registered name) and coord.kind
// ("Mutex", "Semaphore", ...). The mean wait over an interval is the rate of
// coord.wait.time over the rate of coord.waits; the share of waits given up
// is the rate of coord.waits{coord.wait.outcome="gave_up"} over that of
// coord.waits.
package coordotel

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/coordkit/coord"
)

// ScopeName is the instrumentation scope of the published metrics.
const ScopeName = "github.com/coordkit/coord/otel"

// Attribute keys of the published data points.
const (
	NameKey    = attribute.Key("coord.name")
	KindKey    = attribute.Key("coord.kind")
	OutcomeKey = attribute.Key("coord.wait.outcome") // on coord.waits: "done" or "gave_up"
)

var (
	outcomeDone   = OutcomeKey.String("done")
	outcomeGaveUp = OutcomeKey.String("gave_up")
)

// Publish publishes the Stats of every registered primitive on mp, or on the
// global MeterProvider (otel.GetMeterProvider) if mp is nil, until the
// returned Registration is unregistered. Each collection calls
// coord.Snapshot once.
func Publish(mp metric.MeterProvider) (metric.Registration, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(ScopeName)
	waits, err := m.Int64ObservableCounter("coord.waits",
		metric.WithUnit("{wait}"),
		metric.WithDescription("Waits that blocked, since the primitive was made, by how they ended."))
	if err != nil {
		return nil, err
	}
	waitTime, err := m.Float64ObservableCounter("coord.wait.time",
		metric.WithUnit("s"),
		metric.WithDescription("Total time spent in waits that blocked."))
	if err != nil {
		return nil, err
	}
	holders, err := m.Int64ObservableUpDownCounter("coord.holder.count",
		metric.WithUnit("{holder}"),
		metric.WithDescription("Holders now: 0 or 1 for a Mutex, readers for an RWMutex, permits taken for a Semaphore, items in a Queue."))
	if err != nil {
		return nil, err
	}
	waiters, err := m.Int64ObservableUpDownCounter("coord.waiter.count",
		metric.WithUnit("{waiter}"),
		metric.WithDescription("Goroutines blocked in the primitive now."))
	if err != nil {
		return nil, err
	}
	oldest, err := m.Float64ObservableGauge("coord.waiter.oldest",
		metric.WithUnit("s"),
		metric.WithDescription("How long the longest current waiter has waited; 0 if none waits."))
	if err != nil {
		return nil, err
	}
	return m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, s := range coord.Snapshot() {
			id := []attribute.KeyValue{NameKey.String(s.Name), KindKey.String(s.Kind)}
			attrs := metric.WithAttributes(id...)
			o.ObserveInt64(waits, int64(s.Waits-s.GaveUp), metric.WithAttributes(append(id, outcomeDone)...))
			o.ObserveInt64(waits, int64(s.GaveUp), metric.WithAttributes(append(id, outcomeGaveUp)...))
			o.ObserveFloat64(waitTime, s.WaitTime.Seconds(), attrs)
			o.ObserveInt64(holders, int64(s.Holders), attrs)
			o.ObserveInt64(waiters, int64(s.Waiters), attrs)
			o.ObserveFloat64(oldest, s.OldestWait.Seconds(), attrs)
		}
		return nil
	}, waits, waitTime, holders, waiters, oldest)
}
