// Package bench measures coord against the primitives a Go user would pick
// instead (sync.Mutex and sync.Cond, channels, golang.org/x/sync/semaphore
// and errgroup, golang.org/x/time/rate), in the same run. It holds only
// benchmarks; asyncio_bench.py runs the same workloads on CPython asyncio,
// and cmd/report runs both and writes BENCHMARKS.md at the repository root:
//
//	go run ./bench/cmd/report
//
// Benchmarks are named BenchmarkWorkload/impl, or
// BenchmarkScalingX/waiters=N/impl for the scaling curves, where impl is
// "coord" or an anchor; cmd/report relies on the scheme. Each does exactly
// b.N operations, also when b.N is 1 (CI runs them at -benchtime=1x), and
// checks what it can, so that a broken primitive fails instead of looking
// fast.
package bench
