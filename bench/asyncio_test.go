package bench_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/coordkit/coord/bench/internal/report"
)

// TestAsyncioScript runs bench/asyncio_bench.py for a moment and checks that
// it prints every workload the report compares with coord, under the names
// the report looks for, with a positive rate. The script's own asserts check
// mutual exclusion, the semaphore's bound and item order.
func TestAsyncioScript(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed; the report leaves asyncio out in that case too")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(python, "asyncio_bench.py", "--seconds", "0.005", "--repeat", "1")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("asyncio_bench.py: %v\n%s", err, stderr.Bytes())
	}
	var out report.Asyncio
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("output is not the JSON the report reads: %v\n%s", err, stdout.Bytes())
	}
	if out.Python == "" || out.Implementation == "" {
		t.Errorf("no interpreter in the output: %+v", out)
	}
	for _, w := range report.AsyncioWorkloads {
		r, ok := out.Workloads[w.Python]
		if !ok {
			t.Errorf("workload %q missing from the output", w.Python)
			continue
		}
		if !(r.OpsPerSec > 0) {
			t.Errorf("workload %q: ops_per_sec = %v", w.Python, r.OpsPerSec)
		}
	}
}
