//go:build unix

package main

// Black-box tests of the cluster commands: they build coord, start `coord
// serve` on a free loopback port, and run coord processes against it.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func TestCLILockMutualExclusion(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	dir := t.TempDir()
	// Each CMD takes a directory as its "held" flag (mkdir fails if it
	// exists, so an overlap is caught), appends its fencing token, pauses,
	// and gives the flag back.
	script := `mkdir "$D/held" || exit 99; echo "$COORD_FENCING_TOKEN" >> "$D/tokens"; sleep 0.2; rmdir "$D/held"`
	const n = 4
	var ps []*proc
	for i := range n {
		// Flags before NAME, after NAME, and global flags before the command.
		args := []string{"lock", "job", "--timeout", "30s", "--", "sh", "-c", script}
		if i%2 == 1 {
			args = []string{"lock", "--ttl", "5s", "job", "--", "sh", "-c", script}
		}
		p := startCoord(t, []string{"D=" + dir}, c.args(args...)...)
		ps = append(ps, p)
	}
	for _, p := range ps {
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Errorf("coord lock: exit %d, stderr %q", code, p.stderr.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	var tokens []int64
	for _, f := range strings.Fields(string(b)) {
		tok, err := strconv.ParseInt(f, 10, 64)
		if err != nil || tok <= 0 {
			t.Fatalf("COORD_FENCING_TOKEN %q is not a positive number", f)
		}
		tokens = append(tokens, tok)
	}
	if len(tokens) != n {
		t.Fatalf("%d tokens recorded, want %d: %v", len(tokens), n, tokens)
	}
	for i := 1; i < len(tokens); i++ {
		if tokens[i] <= tokens[i-1] {
			t.Errorf("fencing tokens %v do not increase from holder to holder", tokens)
		}
	}
	c.checkEmpty(t)
}

func TestCLILockExitCodeAndEnv(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	p := c.run(t, 20*time.Second, "lock", "code", "--", "sh", "-c", "exit 7")
	if p.code != 7 {
		t.Errorf("coord lock -- sh -c 'exit 7': exit %d, want 7 (stderr %q)", p.code, p.stderr.String())
	}
	if p.stderr.Len() != 0 {
		t.Errorf("stderr %q, want nothing (CMD's own code is no failure of coord's)", p.stderr.String())
	}
	p = c.run(t, 20*time.Second, "lock", "code", "--", "sh", "-c", `echo "token=$COORD_FENCING_TOKEN"`)
	if p.code != 0 || !strings.HasPrefix(p.stdout.String(), "token=") || strings.TrimSpace(p.stdout.String()) == "token=" {
		t.Errorf("exit %d, stdout %q: want CMD's output with COORD_FENCING_TOKEN set", p.code, p.stdout.String())
	}
	// COORD_ENDPOINTS stands in for --endpoints.
	bin, _ := coordBinary()
	cmd := exec.Command(bin, "lock", "--prefix", c.prefix, "env", "--", "true")
	cmd.Env = append(os.Environ(), "COORD_ENDPOINTS="+c.s.endpoint)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("coord lock with COORD_ENDPOINTS: %v: %s", err, out)
	}
	// SIGINT to coord reaches CMD, whose own exit code coord passes on.
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	p = c.start(t, "lock", "code", "--", "sh", "-c", `trap 'echo got INT; exit 5' INT; touch "$0"; while :; do sleep 0.05; done`, ready)
	waitFile(t, ready, 20*time.Second)
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t, 10*time.Second); code != 5 || p.stdout.String() != "got INT\n" {
		t.Errorf("SIGINT to coord lock: exit %d, stdout %q; want CMD's trap to run and exit 5", code, p.stdout.String())
	}
	p = c.run(t, 20*time.Second, "lock", "code", "--", "/nonexistent/cmd")
	if p.code != 127 {
		t.Errorf("coord lock -- /nonexistent/cmd: exit %d, want 127", p.code)
	}
	oneLine(t, p, "cannot run")
	c.checkEmpty(t)
}

func TestCLILockTimeoutAndInterrupt(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	holder := startCoord(t, nil, c.args("lock", "t", "--", "sh", "-c", `touch "$0"; exec sleep 30`, ready)...)
	waitFile(t, ready, 20*time.Second)

	start := time.Now()
	p := c.run(t, 20*time.Second, "lock", "t", "--timeout", "300ms", "--", "true")
	if p.code != 3 {
		t.Errorf("coord lock --timeout 300ms on a held lock: exit %d, want 3 (stderr %q)", p.code, p.stderr.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("timed out after %v, want about 300ms", d)
	}
	oneLine(t, p, "gave up")

	// A waiter shows in ls; interrupted, it exits 128+SIGINT and leaves no key.
	w := c.start(t, "lock", "t", "--", "true")
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows := c.lsRows(t)
		states := map[string]int{}
		for _, r := range rows {
			states[fmt.Sprint(r["state"])]++
			if r["name"] != "t" {
				t.Errorf("ls row %v: want name t", r)
			}
		}
		if states["holder"] == 1 && states["waiter"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ls shows %v, want one holder and one waiter", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ls := c.run(t, 10*time.Second, "ls")
	if !strings.Contains(ls.stdout.String(), "holder") || !strings.Contains(ls.stdout.String(), "waiter") {
		t.Errorf("coord ls: %q, want a holder row and a waiter row", ls.stdout.String())
	}
	w.cmd.Process.Signal(syscall.SIGINT)
	if code := w.wait(t, 10*time.Second); code != 128+int(syscall.SIGINT) {
		t.Errorf("waiter after SIGINT: exit %d, want %d", code, 128+int(syscall.SIGINT))
	}
	oneLine(t, w, "interrupted")
	if rows := c.lsRows(t); len(rows) != 1 || rows[0]["state"] != "holder" {
		t.Errorf("after the waiter was interrupted, ls shows %v; want the holder alone", rows)
	}
	// ls PREFIX shows only the names that start with PREFIX.
	if p := c.run(t, 10*time.Second, "ls", "zz", "--json"); p.code != 0 || strings.TrimSpace(p.stdout.String()) != "[]" {
		t.Errorf("coord ls zz --json: exit %d, output %q; want []", p.code, p.stdout.String())
	}
	if p := c.run(t, 10*time.Second, "ls", "t"); p.code != 0 || strings.Count(p.stdout.String(), "\n") != 2 {
		t.Errorf("coord ls t: exit %d, output %q; want a header and one row", p.code, p.stdout.String())
	}

	// SIGTERM to coord is forwarded to CMD; coord passes on its status.
	holder.cmd.Process.Signal(syscall.SIGTERM)
	if code := holder.wait(t, 10*time.Second); code != 128+int(syscall.SIGTERM) {
		t.Errorf("holder after SIGTERM: exit %d, want %d (CMD killed by the forwarded SIGTERM); stderr %q", code, 128+int(syscall.SIGTERM), holder.stderr.String())
	}
	c.checkEmpty(t)
}

func TestCLISemaphore(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	dir := t.TempDir()
	// Each CMD takes a slot directory of its own, counts the slots taken,
	// and gives its slot back.
	script := `mkdir "$D/slot.$$"; ls -d "$D"/slot.* | wc -l >> "$D/counts"; sleep 0.3; rmdir "$D/slot.$$"`
	var ps []*proc
	for range 5 {
		ps = append(ps, startCoord(t, []string{"D=" + dir}, c.args("sem", "pool", "--limit", "2", "--", "sh", "-c", script)...))
	}
	for _, p := range ps {
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Errorf("coord sem: exit %d, stderr %q", code, p.stderr.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "counts"))
	if err != nil {
		t.Fatal(err)
	}
	counts := strings.Fields(string(b))
	if len(counts) != 5 {
		t.Fatalf("counts %q, want 5", counts)
	}
	most := 0
	for _, s := range counts {
		n, _ := strconv.Atoi(s)
		most = max(most, n)
	}
	if most > 2 {
		t.Errorf("%d CMDs held the semaphore at once, limit 2 (counts %v)", most, counts)
	}
	if most < 2 {
		t.Errorf("never 2 holders at once (counts %v): the semaphore admits one at a time", counts)
	}
	c.checkEmpty(t)
}

func TestCLIEvent(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	w := c.start(t, "event", "wait", "ev", "--timeout", "20s")
	time.Sleep(300 * time.Millisecond)
	if w.exited() {
		t.Fatalf("event wait returned before set: exit %d, stderr %q", w.code, w.stderr.String())
	}
	if p := c.run(t, 10*time.Second, "event", "set", "ev"); p.code != 0 {
		t.Fatalf("event set: exit %d, stderr %q", p.code, p.stderr.String())
	}
	if code := w.wait(t, 10*time.Second); code != 0 {
		t.Errorf("event wait after set: exit %d, stderr %q", code, w.stderr.String())
	}
	// The event stays set after its setter exited; ls shows it.
	if p := c.run(t, 10*time.Second, "event", "wait", "ev", "--timeout", "2s"); p.code != 0 {
		t.Errorf("event wait on a set event: exit %d", p.code)
	}
	rows := c.lsRows(t)
	if len(rows) != 1 || rows[0]["name"] != "ev" || rows[0]["state"] != "set" {
		t.Errorf("ls with ev set: %v, want one row, state set", rows)
	}
	if p := c.run(t, 10*time.Second, "event", "clear", "ev"); p.code != 0 {
		t.Fatalf("event clear: exit %d, stderr %q", p.code, p.stderr.String())
	}
	// Interrupted while waiting: 128+signal.
	w = c.start(t, "event", "wait", "ev")
	time.Sleep(300 * time.Millisecond)
	w.cmd.Process.Signal(syscall.SIGTERM)
	if code := w.wait(t, 10*time.Second); code != 128+int(syscall.SIGTERM) {
		t.Errorf("event wait after SIGTERM: exit %d, want %d", code, 128+int(syscall.SIGTERM))
	}
	oneLine(t, w, "interrupted")
	p := c.run(t, 10*time.Second, "event", "wait", "ev", "--timeout", "200ms")
	if p.code != 3 {
		t.Errorf("event wait on a cleared event with --timeout: exit %d, want 3", p.code)
	}
	oneLine(t, p, "gave up")
	c.checkEmpty(t)
}

func TestCLIBarrier(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	var ps []*proc
	for range 3 {
		ps = append(ps, c.start(t, "barrier", "b", "--parties", "3", "--timeout", "30s"))
		time.Sleep(50 * time.Millisecond)
	}
	var idx []int
	for _, p := range ps {
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("coord barrier: exit %d, stderr %q", code, p.stderr.String())
		}
		i, err := strconv.Atoi(strings.TrimSpace(p.stdout.String()))
		if err != nil {
			t.Fatalf("coord barrier printed %q, want an index", p.stdout.String())
		}
		idx = append(idx, i)
	}
	slices.Sort(idx)
	if !slices.Equal(idx, []int{0, 1, 2}) {
		t.Errorf("indices %v, want 0, 1 and 2", idx)
	}
	// Two parties of three: they give up, and leave nothing behind.
	p1 := c.start(t, "barrier", "b2", "--parties", "3", "--timeout", "500ms")
	p2 := c.start(t, "barrier", "b2", "--parties", "3", "--timeout", "500ms")
	for _, p := range []*proc{p1, p2} {
		if code := p.wait(t, 15*time.Second); code != 3 {
			t.Errorf("barrier short of parties: exit %d, want 3 (stderr %q)", code, p.stderr.String())
		}
	}
	c.checkEmpty(t)
}

// TestCLILostHold stops the server while coord runs CMD: the session's lease
// cannot be renewed, so coord must kill CMD and its children and exit 4
// within seconds, without waiting on the server.
func TestCLILostHold(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := newCluster(t, s)
	dir := t.TempDir()
	script := `sleep 60 & echo $! > "$D/child"; echo $$ > "$D/pid"; wait`
	p := startCoord(t, []string{"D=" + dir}, c.args("lock", "lost", "--ttl", "2s", "--", "sh", "-c", script)...)
	waitFile(t, filepath.Join(dir, "child"), 20*time.Second)
	waitFile(t, filepath.Join(dir, "pid"), 5*time.Second)
	// A waiter without --timeout: losing its session, it must not hang.
	w := c.start(t, "lock", "lost", "--ttl", "2s", "--", "true")
	c.waitRows(t, 2) // the holder and the waiter
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Signal(syscall.SIGCONT) }) // before the server's own, which stops it
	start := time.Now()
	code := p.wait(t, 15*time.Second)
	took := time.Since(start)
	wcode := w.wait(t, 15*time.Second)
	wtook := time.Since(start)
	s.cmd.Process.Signal(syscall.SIGCONT)
	if wcode != 1 || wtook > 8*time.Second {
		t.Errorf("waiter after the server stopped: exit %d after %v, want 1 within seconds; stderr %q", wcode, wtook, w.stderr.String())
	}
	oneLine(t, w, "lost the session")
	if code != 4 {
		t.Errorf("coord lock after the server stopped: exit %d, want 4; stderr %q", code, p.stderr.String())
	}
	if took > 5*time.Second {
		t.Errorf("coord noticed the lost hold after %v, want within the 2s TTL and a little", took)
	}
	oneLine(t, p, "lost the hold")
	for _, f := range []string{"pid", "child"} {
		checkGone(t, readPID(t, filepath.Join(dir, f)), 2*time.Second, "CMD's "+f+" after the lost hold")
	}
}

func TestCLIUnreachable(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1 of the loopback interface.
	for _, args := range [][]string{
		{"lock", "x", "--", "true"},
		{"sem", "x", "--limit", "1", "--", "true"},
		{"event", "wait", "x"},
		{"event", "set", "x"},
		{"barrier", "x", "--parties", "2"},
		{"ls"},
		{"ls", "--watch"},
		{"ui", "--listen", "127.0.0.1:0"},
		{"lock", "x", "--read", "--", "true"},
		{"elect", "x", "--", "true"},
		{"leader", "x"},
		{"leader", "x", "--watch"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			p := startCoord(t, nil, append([]string{"--endpoints", "127.0.0.1:1"}, args...)...)
			code := p.wait(t, 20*time.Second)
			if code != 1 {
				t.Errorf("coord %q on an unreachable endpoint: exit %d, want 1", args, code)
			}
			if d := time.Since(start); d > 8*time.Second {
				t.Errorf("coord %q took %v to fail, want a few seconds", args, d)
			}
			oneLine(t, p, "cannot reach etcd at 127.0.0.1:1")
			if p.stdout.Len() != 0 {
				t.Errorf("coord %q wrote %q on stdout", args, p.stdout.String())
			}
		})
	}
}

func TestCLIUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"lock"},
		{"lock", "x"},
		{"lock", "x", "true"},
		{"lock", "x", "--"},
		{"lock", "x", "--bogus", "--", "true"},
		{"lock", "x", "--timeout", "soon", "--", "true"},
		{"lock", "x", "--ttl", "-1s", "--", "true"},
		{"lock", "", "--", "true"},
		{"sem", "", "--limit", "1", "--", "true"},
		{"event", "set", ""},
		{"barrier", "", "--parties", "1"},
		{"barrier", "x", "--parties", "2", "--ttl", "-1s"},
		{"sem", "x", "--limit", "-1", "--", "true"},
		{"barrier", "x", "--parties", "-1"},
		{"sem", "x", "--", "true"},
		{"sem", "x", "--limit", "0", "--", "true"},
		{"event"},
		{"event", "set"},
		{"event", "toggle", "x"},
		{"barrier", "x"},
		{"barrier", "x", "--parties", "0"},
		{"barrier"},
		{"lock", "x", "--read"},
		{"lock", "x", "--read=maybe", "--", "true"},
		{"elect"},
		{"elect", "x"},
		{"elect", "x", "true"},
		{"elect", "x", "--value"},
		{"elect", "x", "--read", "--", "true"},
		{"leader"},
		{"leader", "x", "y"},
		{"leader", "x", "--", "true"},
		{"leader", "x", "--ttl", "5s"},
		{"ls", "a", "b"},
		{"serve", "--addr", "0.0.0.0:0"},
		{"--bogus", "ls"},
		{"ls", "--bogus"},
		{"event", "set", "x", "--bogus"},
		{},
		{"nosuch"},
	} {
		// An unreachable endpoint: a usage error must be found first.
		p := startCoord(t, []string{"COORD_ENDPOINTS=127.0.0.1:1"}, args...)
		if code := p.wait(t, 10*time.Second); code != 2 {
			t.Errorf("coord %q: exit %d, want 2 (stderr %q)", args, code, p.stderr.String())
			continue
		}
		// The usage line itself, not only a pointer to --help.
		oneLine(t, p, "usage: coord ")
	}
	// A flag is named as the user spells it, with two dashes.
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"lock", "x", "--bogus", "--", "true"}, "--bogus"},
		{[]string{"--bogus", "ls"}, "--bogus"},
		{[]string{"lock", "x", "--timeout"}, "--timeout"},
		{[]string{"sem", "x", "--limit", "many", "--", "true"}, "--limit"},
	} {
		p := startCoord(t, []string{"COORD_ENDPOINTS=127.0.0.1:1"}, tc.args...)
		p.wait(t, 10*time.Second)
		if !strings.Contains(p.stderr.String(), " "+tc.flag) {
			t.Errorf("coord %q: stderr %q, want the flag named %s", tc.args, p.stderr.String(), tc.flag)
		}
	}
	p := startCoord(t, nil, "lock", "--help")
	if code := p.wait(t, 10*time.Second); code != 0 || !strings.Contains(p.stdout.String(), "usage: coord lock") {
		t.Errorf("coord lock --help: exit %d, stdout %q", code, p.stdout.String())
	}
}

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its key
// into dir, and returns their paths.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "coord test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestCLITLS serves with --cert/--key and reaches the server with --cacert.
func TestCLITLS(t *testing.T) {
	t.Parallel()
	cert, key := writeSelfSigned(t, t.TempDir())
	s, err := launchServer("--cert", cert, "--key", key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.stopWith(syscall.SIGINT); err != nil {
			t.Error(err)
		}
	})
	c := newCluster(t, s)
	p := c.run(t, 20*time.Second, "lock", "tls", "--cacert", cert, "--", "true")
	if p.code != 0 {
		t.Errorf("coord lock --cacert against a TLS server: exit %d, stderr %q", p.code, p.stderr.String())
	}
	p = c.run(t, 20*time.Second, "ls", "--cacert", cert)
	if p.code != 0 || p.stdout.String() != c.emptyLine() {
		t.Errorf("coord ls --cacert: exit %d, stdout %q, stderr %q", p.code, p.stdout.String(), p.stderr.String())
	}
	// Without the CA the client cannot verify the server, and says so.
	p = c.run(t, 20*time.Second, "ls")
	if p.code != 1 {
		t.Errorf("coord ls without --cacert against a TLS server: exit %d, want 1", p.code)
	}
	oneLine(t, p, "with --cacert if it serves TLS")
	// With a CA that did not sign the server's certificate, the line
	// points at --cacert, not only at the cluster.
	otherCA, _ := writeSelfSigned(t, t.TempDir())
	p = c.run(t, 20*time.Second, "ls", "--cacert", otherCA)
	if p.code != 1 {
		t.Errorf("coord ls with the wrong --cacert: exit %d, want 1", p.code)
	}
	oneLine(t, p, "check that --cacert is the CA that signed its certificate")
}

// TestCLIServeDataDirInUse starts a second server on the shared server's
// data directory: it must fail at once, not wait on etcd's file lock.
func TestCLIServeDataDirInUse(t *testing.T) {
	t.Parallel()
	s := sharedServer(t)
	start := time.Now()
	p := startCoord(t, nil, "serve", "--addr", "127.0.0.1:0", "--data-dir", s.dataDir)
	if code := p.wait(t, 15*time.Second); code != 1 {
		t.Errorf("second coord serve on one data directory: exit %d, want 1", code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to fail", d)
	}
	oneLine(t, p, "in use")
}

// TestCLIAuth enables authentication on a server of its own and checks that
// --user with COORD_PASSWORD gets in, and that a wrong password fails with
// exit 1 and one line.
func TestCLIAuth(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{s.endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.UserAdd(ctx, "root", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, s)
	p := startCoord(t, []string{"COORD_PASSWORD=s3cret"}, c.args("lock", "auth", "--user", "root", "--", "true")...)
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Errorf("coord lock --user root with the password: exit %d, stderr %q", code, p.stderr.String())
	}
	p = startCoord(t, []string{"COORD_PASSWORD=wrong"}, c.args("lock", "auth", "--user", "root", "--", "true")...)
	if code := p.wait(t, 20*time.Second); code != 1 {
		t.Errorf("coord lock --user root with a wrong password: exit %d, want 1", code)
	}
	oneLine(t, p, "COORD_PASSWORD")
	p = startCoord(t, nil, c.args("ls")...) // no user at all
	if code := p.wait(t, 20*time.Second); code != 1 {
		t.Errorf("coord ls without --user on a server with auth: exit %d, want 1", code)
	}
	oneLine(t, p, "--user")
}

// TestCLIHolderKilled kills coord with SIGKILL while CMD runs: CMD must die
// with it (its lease will expire and another process may take the lock), and
// a closed terminal's SIGHUP to coord must reach CMD too.
func TestCLIHolderKilled(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGHUP} {
		dir := t.TempDir()
		pidFile := filepath.Join(dir, "pid")
		p := c.start(t, "lock", "killed-"+sig.String(), "--ttl", "1s", "--", "sh", "-c", `echo $$ > "$0"; exec sleep 60`, pidFile)
		pid := readPID(t, pidFile)
		p.cmd.Process.Signal(sig)
		p.wait(t, 10*time.Second)
		checkGone(t, pid, 2*time.Second, "CMD after coord got "+sig.String())
		if sig == syscall.SIGHUP && p.code != 128+int(syscall.SIGHUP) {
			t.Errorf("coord lock after SIGHUP: exit %d, want %d (CMD ended by the forwarded SIGHUP)", p.code, 128+int(syscall.SIGHUP))
		}
	}
}

// silentEndpoint listens on a free loopback port and accepts connections but
// never answers, as a hung server does: reaching it takes coord the whole of
// its connect timeout.
func silentEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestCLIInterruptWhileConnecting interrupts coord while it is still
// reaching a cluster that does not answer: like an interrupted wait, it must
// exit 128 plus the signal at once, not wait out its connect timeout and
// exit 1.
func TestCLIInterruptWhileConnecting(t *testing.T) {
	t.Parallel()
	ep := silentEndpoint(t)
	for _, tc := range []struct {
		args []string
		sig  syscall.Signal
	}{
		{[]string{"lock", "x", "--", "true"}, syscall.SIGINT},
		{[]string{"sem", "x", "--limit", "2", "--", "true"}, syscall.SIGTERM},
		{[]string{"event", "wait", "x"}, syscall.SIGINT},
		{[]string{"barrier", "x", "--parties", "2"}, syscall.SIGTERM},
		{[]string{"elect", "x", "--", "true"}, syscall.SIGINT},
		{[]string{"leader", "x", "--watch"}, syscall.SIGTERM},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			t.Parallel()
			p := startCoord(t, nil, append([]string{"--endpoints", ep}, tc.args...)...)
			time.Sleep(500 * time.Millisecond) // coord has caught signals by now
			start := time.Now()
			p.cmd.Process.Signal(tc.sig)
			code := p.wait(t, 10*time.Second)
			if want := 128 + int(tc.sig); code != want {
				t.Errorf("coord %q interrupted by %v while connecting: exit %d, want %d; stderr %q", tc.args, tc.sig, code, want, p.stderr.String())
			}
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("coord %q took %v to exit after %v, want at once", tc.args, d, tc.sig)
			}
			oneLine(t, p, "interrupted")
		})
	}
}

// TestCLIFailureHints checks that failures beyond the cluster's say what to
// do, on their one line: a CMD that cannot run (the shell's 127 and 126), a
// wait on an event nobody sets, an --endpoints with no address.
func TestCLIFailureHints(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	noexec := filepath.Join(t.TempDir(), "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{c.args("lock", "x", "--", "coord-no-such-command"), 127, "check the command's name and PATH"},
		{c.args("sem", "x", "--limit", "1", "--", noexec), 126, "check that it is an executable file"},
		{c.args("event", "wait", "x", "--timeout", "100ms"), 3, "coord event set"},
		{c.args("barrier", "x", "--parties", "2", "--timeout", "100ms"), 3, "too few parties"},
		{[]string{"--endpoints", ",", "ls"}, 1, "set --endpoints or COORD_ENDPOINTS"},
	} {
		p := startCoord(t, nil, tc.args...)
		if code := p.wait(t, 10*time.Second); code != tc.code {
			t.Errorf("coord %q: exit %d, want %d; stderr %q", tc.args, code, tc.code, p.stderr.String())
		}
		oneLine(t, p, tc.want)
	}
	c.checkEmpty(t)
}

// TestCLIHelp runs --help (and -h) on every command: exit 0, the usage on
// stdout, nothing on stderr, and the flags spelled as the usage lines spell
// them, with two dashes.
func TestCLIHelp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmd           string
		want, notWant []string
	}{
		{"", []string{"usage: coord ", "--endpoints", "COORD_PASSWORD", "version"}, nil},
		{"demo", []string{"usage: coord demo", "--list", "--seed"}, []string{"--endpoints", "--timeout"}},
		{"serve", []string{"usage: coord serve", "--data-dir", "--addr", "--peer-addr", "--cert"}, []string{"--endpoints", "--user", "--prefix", "--timeout"}},
		{"lock", []string{"usage: coord lock", "--read", "--timeout", "--ttl", "--endpoints", "--prefix", "--cacert", "--user"}, []string{"--limit", "--parties", "--value"}},
		{"sem", []string{"usage: coord sem", "--limit", "--timeout", "--endpoints"}, []string{"--parties"}},
		{"event", []string{"usage: coord event", "--timeout", "--endpoints"}, []string{"--ttl"}},
		{"barrier", []string{"usage: coord barrier", "--parties", "--timeout", "--ttl", "--endpoints"}, []string{"--limit"}},
		{"elect", []string{"usage: coord elect", "--value", "--timeout", "--ttl", "--endpoints", "host:pid"}, []string{"--read", "--watch"}},
		{"leader", []string{"usage: coord leader", "--watch", "--endpoints", "- 0 -"}, []string{"--timeout", "--ttl", "--value"}},
		{"ls", []string{"usage: coord ls", "--json", "--watch", "--endpoints"}, []string{"--timeout", "--ttl"}},
		{"ui", []string{"usage: coord ui", "--listen", "--endpoints", "--prefix"}, []string{"--timeout", "--ttl", "--json"}},
		{"version", []string{"usage: coord version"}, []string{"--endpoints"}},
	} {
		for _, h := range []string{"--help", "-h"} {
			args := []string{h}
			if tc.cmd != "" {
				args = []string{tc.cmd, h}
			}
			p := startCoord(t, []string{"COORD_ENDPOINTS=127.0.0.1:1"}, args...)
			if code := p.wait(t, 10*time.Second); code != 0 || p.stderr.Len() != 0 {
				t.Errorf("coord %q: exit %d, stderr %q; want 0 and nothing", args, code, p.stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(p.stdout.String(), w) {
					t.Errorf("coord %q lacks %q:\n%s", args, w, p.stdout.String())
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(p.stdout.String(), w) {
					t.Errorf("coord %q lists %q, which does nothing for it:\n%s", args, w, p.stdout.String())
				}
			}
			if strings.Contains(p.stdout.String(), "\n  -") && !strings.Contains(p.stdout.String(), "\n  --") {
				t.Errorf("coord %q spells its flags with one dash:\n%s", args, p.stdout.String())
			}
		}
	}
}

// TestCLILostHoldKeyDeleted deletes a semaphore holder's key behind its back
// (an operator's etcdctl del): the hold is lost with the cluster healthy, so
// coord must kill CMD's process group, a child that ignores SIGTERM included,
// and exit 4 with one line.
func TestCLILostHoldKeyDeleted(t *testing.T) {
	t.Parallel()
	s := sharedServer(t)
	c := newCluster(t, s)
	dir := t.TempDir()
	script := `trap "" TERM; sleep 60 & echo $! > "$D/child"; echo $$ > "$D/pid"; wait`
	p := startCoord(t, []string{"D=" + dir}, c.args("sem", "held", "--limit", "2", "--", "sh", "-c", script)...)
	waitFile(t, filepath.Join(dir, "child"), 20*time.Second)
	waitFile(t, filepath.Join(dir, "pid"), 5*time.Second)

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{s.endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Delete(ctx, c.prefix, clientv3.WithPrefix())
	if err != nil || resp.Deleted != 1 {
		t.Fatalf("deleting the holder's key: %v, %d deleted, want 1", err, resp.Deleted)
	}
	start := time.Now()
	if code := p.wait(t, 15*time.Second); code != 4 {
		t.Errorf("coord sem after its key was deleted: exit %d, want 4; stderr %q", code, p.stderr.String())
	}
	// SIGTERM is ignored: SIGKILL must follow within the safety margin.
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("coord exited %v after the key was deleted, want within the safety margin", d)
	}
	oneLine(t, p, "lost the hold")
	for _, f := range []string{"pid", "child"} {
		checkGone(t, readPID(t, filepath.Join(dir, f)), 2*time.Second, "CMD's "+f+" after the lost hold")
	}
}

// TestCLIInterruptWaiters interrupts a sem waiter, a barrier party and an
// event waiter while they wait: each exits 128 plus the signal with one line,
// and none leaves a key behind (the sem holder's own row stays until it ends).
func TestCLIInterruptWaiters(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sharedServer(t))
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	holder := c.start(t, "sem", "s", "--limit", "1", "--", "sh", "-c", `touch "$0"; exec sleep 30`, ready)
	waitFile(t, ready, 20*time.Second)
	waiters := []struct {
		p   *proc
		sig syscall.Signal
	}{
		{c.start(t, "sem", "s", "--limit", "1", "--", "true"), syscall.SIGTERM},
		{c.start(t, "barrier", "b", "--parties", "2"), syscall.SIGINT},
		{c.start(t, "event", "wait", "e"), syscall.SIGTERM},
	}
	// Two waiters with keys (the sem waiter, the barrier party) besides the holder.
	c.waitRows(t, 3)
	time.Sleep(200 * time.Millisecond) // the event waiter is watching by now
	for _, w := range waiters {
		w.p.cmd.Process.Signal(w.sig)
		if code := w.p.wait(t, 10*time.Second); code != 128+int(w.sig) {
			t.Errorf("coord %q after %v: exit %d, want %d; stderr %q", w.p.cmd.Args[1:], w.sig, code, 128+int(w.sig), w.p.stderr.String())
		}
		oneLine(t, w.p, "interrupted")
	}
	if rows := c.lsRows(t); len(rows) != 1 || rows[0]["state"] != "holder" {
		t.Errorf("after the waiters were interrupted, ls shows %v; want the sem holder alone", rows)
	}
	holder.cmd.Process.Signal(syscall.SIGTERM)
	holder.wait(t, 10*time.Second)
	c.checkEmpty(t)
}

// TestCLIDemoInterrupted interrupts `coord demo` while its event scenario
// waits for the setter: it exits 128 plus the signal with one line, as an
// interrupted command does, not 1 with the scenario's "context canceled".
func TestCLIDemoInterrupted(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		p := startCoord(t, nil, "demo", "event")
		time.Sleep(500 * time.Millisecond) // the setter waits 2s
		p.cmd.Process.Signal(sig)
		if code := p.wait(t, 10*time.Second); code != 128+int(sig) {
			t.Errorf("coord demo event after %v: exit %d, want %d; stderr %q", sig, code, 128+int(sig), p.stderr.String())
		}
		oneLine(t, p, "coord demo: interrupted")
	}
}

// TestCLIHolderNotStoppedByCtrlZ sends coord SIGTSTP (a terminal's Ctrl-Z)
// while CMD runs. CMD is in a group of its own and would run on while a
// stopped coord renewed no lease, so that another process would be granted
// the hold while CMD still ran: coord must not stop.
func TestCLIHolderNotStoppedByCtrlZ(t *testing.T) {
	t.Parallel()
	if procState(os.Getpid()) == 0 {
		t.Skip("no /proc to read a process's state from")
	}
	c := newCluster(t, sharedServer(t))
	dir := t.TempDir()
	ready, finish := filepath.Join(dir, "ready"), filepath.Join(dir, "finish")
	p := c.start(t, "lock", "tstp", "--", "sh", "-c", `touch "$0"; while [ ! -e "$1" ]; do sleep 0.05; done; exit 3`, ready, finish)
	waitFile(t, ready, 20*time.Second)
	for _, sig := range []syscall.Signal{syscall.SIGTSTP, syscall.SIGTTOU, syscall.SIGTTIN} {
		p.cmd.Process.Signal(sig)
	}
	time.Sleep(300 * time.Millisecond)
	st := procState(p.cmd.Process.Pid)
	p.cmd.Process.Signal(syscall.SIGCONT) // so that the test ends either way
	if st == 'T' {
		t.Errorf("coord stopped on SIGTSTP while holding the lock; its lease would expire while CMD runs")
	}
	if err := os.WriteFile(finish, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 10*time.Second); code != 3 {
		t.Errorf("coord lock: exit %d, want CMD's 3; stderr %q", code, p.stderr.String())
	}
	c.checkEmpty(t)
}
