#!/bin/sh
# instructions.sh BIN BENCH N: the instructions one op of BENCH takes in the
# test binary BIN (from `go test -c ./bench`), counted by valgrind's
# cachegrind with GOMAXPROCS=1: Ir at 2N ops less Ir at N, over N, so that
# start-up and the benchmark's warm-up run cancel out. BENCH is a
# -test.bench pattern naming one sub-benchmark, e.g.
# '^BenchmarkMutexUncontended$/^coord$'. Unlike time on a shared machine,
# the count is the same from run to run for the rows one goroutine runs; for
# the rows whose goroutines hand off, it depends on scheduling, so take the
# least of a few runs.
set -eu
if [ $# -ne 3 ]; then
	echo "usage: $0 BIN BENCH N" >&2
	exit 2
fi
bin=$1 bench=$2 n=$3
command -v valgrind >/dev/null || { echo "$0: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
ir() {
	valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
		"$bin" -test.run '^$' -test.bench "$bench" -test.benchtime "${1}x" -test.cpu 1 2>&1 |
		awk '/I *refs:/ { gsub(",", "", $4); print $4 }'
}
a=$(ir "$n")
b=$(ir $((2 * n)))
[ -n "$a" ] && [ -n "$b" ] || { echo "$0: no instruction count for $bench" >&2; exit 1; }
awk -v a="$a" -v b="$b" -v n="$n" -v bench="$bench" 'BEGIN { printf "%s\t%.1f instructions/op\n", bench, (b - a) / n }'
