package etcd_test

// Contract tests: one test per semantics bullet of the etcd module's
// contract (and rules 1 and 2 of coord's package doc as they apply to the
// etcd primitives) that no other test pins down on its own. Each test
// quotes its bullet. They share the test server of helpers_test.go and stay
// short: the slowest waits on opTimeout
// against a cluster cut off.

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// countingClient returns a client of the shared server that counts the
// watch events it receives, on every watch it opens.
func countingClient(t *testing.T) (*clientv3.Client, *atomic.Int64) {
	t.Helper()
	n := new(atomic.Int64)
	return streamClient(t, func(cs grpc.ClientStream) grpc.ClientStream {
		return &countingStream{ClientStream: cs, n: n}
	}), n
}

// streamClient returns a client of the shared server whose streams (its
// watches) are wrapped by wrap, for a test to look at or alter what they
// receive.
func streamClient(t *testing.T, wrap func(grpc.ClientStream) grpc.ClientStream) *clientv3.Client {
	t.Helper()
	intercept := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			return nil, err
		}
		return wrap(cs), nil
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{shared.Endpoint()},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainStreamInterceptor(intercept)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

type countingStream struct {
	grpc.ClientStream
	n *atomic.Int64
}

func (s *countingStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if wr, ok := m.(*pb.WatchResponse); ok && err == nil {
		s.n.Add(int64(len(wr.Events)))
	}
	return err
}

// "Every wait on a session also ends when Done() closes, within a few
// seconds, with an error that errors.Is ErrSessionDone, so a caller whose
// ctx has no deadline never hangs on a cluster it can no longer reach;
// every call made on a session that is already done fails the same way at
// once. Where the caller's ctx has ended too, ctx.Err() wins."
func TestContractSessionDoneEndsEveryWait(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	other := newSession(t, nil, p)
	s := newSession(t, nil, p)

	// Make every kind of wait block on s, with a ctx that never ends.
	held := etcd.NewMutex(other, "m")
	if err := held.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	full := etcd.NewSemaphore(other, "s", 1)
	if err := full.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	own := etcd.NewMutex(s, "own") // held by s, and a second Lock on the value waits for its turn
	if err := own.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	hold := etcd.NewSemaphore(s, "hold", 1)
	if err := hold.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	m := etcd.NewMutex(s, "m")
	sem := etcd.NewSemaphore(s, "s", 1)
	ev := etcd.NewEvent(s, "e")
	bar := etcd.NewBarrier(s, "b", 2)
	never := context.Background()
	waits := map[string]<-chan error{
		"Mutex.Lock":        result(func() error { return m.Lock(never) }),
		"Mutex.Lock (turn)": result(func() error { return own.Lock(never) }),
		"Semaphore.Acquire": result(func() error { return sem.Acquire(never) }),
		"Event.Wait":        result(func() error { return ev.Wait(never) }),
		"Barrier.Wait":      result(func() error { _, err := bar.Wait(never); return err }),
	}
	waitKeys(t, cli, p+"lock/m/", 2)
	waitKeys(t, cli, p+"sem/s/", 2)
	waitKeys(t, cli, p+"barrier/b/", 1)
	for what, ch := range waits {
		pending(t, ch, 0, what)
	}
	time.Sleep(100 * time.Millisecond) // Event.Wait has no key to wait for

	// A wait whose ctx ended with the session returns ctx.Err().
	cctx, cancel := context.WithCancel(context.Background())
	m2 := etcd.NewMutex(s, "m")
	both := result(func() error { return m2.Lock(cctx) })
	waitKeys(t, cli, p+"lock/m/", 3)
	cancel()

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for what, ch := range waits {
		if err := wait(t, ch, 5*time.Second, what+" after Close"); !errors.Is(err, etcd.ErrSessionDone) {
			t.Errorf("%s on a closed session = %v, want ErrSessionDone", what, err)
		}
	}
	if err := wait(t, both, 5*time.Second, "Lock with its ctx cancelled"); err != context.Canceled {
		t.Errorf("Lock whose ctx ended as the session did = %v, want context.Canceled itself", err)
	}

	// Every call on the done session fails at once, the same way.
	calls := map[string]func(context.Context) error{
		"Mutex.Lock":        etcd.NewMutex(s, "m").Lock,
		"Mutex.TryLock":     etcd.NewMutex(s, "m").TryLock,
		"Semaphore.Acquire": etcd.NewSemaphore(s, "s", 1).Acquire,
		"Event.Set":         ev.Set,
		"Event.Clear":       ev.Clear,
		"Event.IsSet":       func(ctx context.Context) error { _, err := ev.IsSet(ctx); return err },
		"Event.Wait":        ev.Wait,
		"Barrier.Wait":      func(ctx context.Context) error { _, err := bar.Wait(ctx); return err },
		"Mutex.Release":     own.Release, // a hold the session had
		"Semaphore.Release": hold.Release,
	}
	for what, call := range calls {
		start := time.Now()
		if err := call(never); !errors.Is(err, etcd.ErrSessionDone) {
			t.Errorf("%s on a done session = %v, want ErrSessionDone", what, err)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("%s on a done session took %v, want at once", what, d)
		}
	}
	// ... and ctx.Err() wins over the session's error.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for what, call := range calls {
		if strings.HasSuffix(what, "Release") {
			continue // released above
		}
		if err := call(done); err != context.Canceled {
			t.Errorf("%s(done ctx) on a done session = %v, want context.Canceled itself", what, err)
		}
	}
	held.Unlock()
	if err := full.Release(bg(t)); err != nil {
		t.Fatal(err)
	}
}

// The same bullet, when the session ends because its lease was revoked
// (by an operator, or expired on the server): a waiter whose key went with
// the lease ends with ErrSessionDone too, not with some other error.
func TestContractWaiterLeaseRevoked(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	holder := etcd.NewMutex(newSession(t, nil, p), "r")
	if err := holder.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	full := etcd.NewSemaphore(newSession(t, nil, p), "s", 1)
	if err := full.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	s := newSession(t, nil, p)
	m := etcd.NewMutex(s, "r")
	sem := etcd.NewSemaphore(s, "s", 1)
	bar := etcd.NewBarrier(s, "b", 2)
	never := context.Background()
	waits := map[string]<-chan error{
		"Mutex.Lock":        result(func() error { return m.Lock(never) }),
		"Semaphore.Acquire": result(func() error { return sem.Acquire(never) }),
		"Barrier.Wait":      result(func() error { _, err := bar.Wait(never); return err }),
	}
	waitKeys(t, cli, p, 5)
	if _, err := cli.Revoke(bg(t), s.Lease()); err != nil {
		t.Fatal(err)
	}
	for what, ch := range waits {
		if err := wait(t, ch, 5*time.Second, what+" after the lease was revoked"); !errors.Is(err, etcd.ErrSessionDone) {
			t.Errorf("%s after its lease was revoked = %v, want ErrSessionDone", what, err)
		}
	}
	within(t, s.Done(), 5*time.Second, "Done after the lease was revoked")
	holder.Unlock()
	if err := full.Release(bg(t)); err != nil {
		t.Fatal(err)
	}
}

// "The TTL counted is the smaller of the one asked for and the one the
// server granted." and "A TTL below the server's minimum is raised to it."
func TestContractSessionTTL(t *testing.T) {
	cli := newClient(t)
	// The test server's minimum lease TTL is 2s (1.5 election timeouts,
	// rounded up): asking for 1s gets a 2s lease, of which the session
	// counts 1s, so that its early deadline is never late.
	for _, tc := range []struct {
		ask, counted time.Duration
		granted      int64 // at least, on the server
	}{
		{100 * time.Millisecond, time.Second, 2}, // raised to coord's 1s, then the server's 2s
		{time.Second, time.Second, 2},
		{1500 * time.Millisecond, 2 * time.Second, 2}, // rounded up to whole seconds
		{3 * time.Second, 3 * time.Second, 3},
	} {
		s := newSession(t, cli, testPrefix(t), etcd.WithTTL(tc.ask))
		if s.TTL() != tc.counted {
			t.Errorf("WithTTL(%v): TTL() = %v, want %v", tc.ask, s.TTL(), tc.counted)
		}
		resp, err := cli.TimeToLive(bg(t), s.Lease())
		if err != nil {
			t.Fatal(err)
		}
		if resp.GrantedTTL < tc.granted || time.Duration(resp.GrantedTTL)*time.Second < s.TTL() {
			t.Errorf("WithTTL(%v): the server granted %ds, want at least %ds and at least the TTL counted", tc.ask, resp.GrantedTTL, tc.granted)
		}
		if s.SafetyMargin() <= 0 || s.SafetyMargin() >= s.TTL()/2 {
			t.Errorf("WithTTL(%v): SafetyMargin() = %v", tc.ask, s.SafetyMargin())
		}
	}
	// A session on the smallest TTL stays alive past it: keepalives come
	// in time.
	s := newSession(t, cli, testPrefix(t), etcd.WithTTL(time.Second))
	stillOpen(t, s.Done(), 1500*time.Millisecond, "Done of a session with a 1s TTL")
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := etcd.NewSession(ctx, cli); err != context.Canceled {
		t.Fatalf("NewSession(done ctx) = %v, want context.Canceled", err)
	}
}

// "Mutual exclusion across processes; waiters served in arrival (revision)
// order; a contended handoff costs the next waiter no more than one watch
// event (no herd)." and "Fencing token: strictly increasing across
// successive holders of the same name".
func TestContractMutexNoHerd(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	first := etcd.NewMutex(newSession(t, nil, p), "h")
	if err := first.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	const n = 4
	var counts []*atomic.Int64
	granted := make(chan int, n)
	next := make([]chan struct{}, n)
	tokens := make([]int64, n)
	for i := range n {
		wcli, c := countingClient(t)
		counts = append(counts, c)
		m := etcd.NewMutex(newSession(t, wcli, p), "h")
		next[i] = make(chan struct{})
		ctx := bg(t)
		go func() {
			// No t.Error here: after a failure this goroutine may outlive
			// the test.
			if err := m.Lock(ctx); err != nil {
				granted <- -1
				return
			}
			tokens[i] = m.Token()
			granted <- i
			select {
			case <-next[i]:
			case <-ctx.Done():
			}
			m.Unlock()
		}()
		waitKeys(t, cli, p, int64(i+2))
	}
	total := func() (sum int64) {
		for _, c := range counts {
			sum += c.Load()
		}
		return sum
	}
	time.Sleep(50 * time.Millisecond) // every waiter's watch is open
	if got := total(); got != 0 {
		t.Fatalf("%d watch events before any handoff", got)
	}
	prevToken := first.Token()
	first.Unlock()
	for i := range n {
		select {
		case got := <-granted:
			if got != i {
				t.Fatalf("waiter %d granted in turn %d: not arrival order", got, i)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("handoff %d stalled", i)
		}
		if tokens[i] <= prevToken {
			t.Fatalf("token %d of holder %d does not exceed %d", tokens[i], i, prevToken)
		}
		prevToken = tokens[i]
		// Give a herd time to show: every other waiter's client would see
		// the deletion too.
		time.Sleep(50 * time.Millisecond)
		// (A waiter may see none at all, when its watch began after the
		// deletion and its read found the key gone.)
		if got, most := total(), int64(i+1); got > most {
			t.Fatalf("after handoff %d: %d watch events across the waiters, want at most %d (one per handoff)", i, got, most)
		}
		for j := i + 1; j < n; j++ {
			if got := counts[j].Load(); got != 0 {
				t.Fatalf("after handoff %d: waiter %d, still in line, saw %d watch events (a herd)", i, j, got)
			}
		}
		close(next[i])
	}
	waitKeys(t, cli, p, 0)
}

// "`Lost()` fires when the hold ends by anything but Unlock: the key
// deleted, the lease expired or revoked, the session's early deadline
// passed, or the cluster unreachable past that deadline." Here, when the
// holder learns of the loss only from Release, or asks for Lost only after
// the session ended: the channel must be closed all the same.
func TestContractLostWithoutAsking(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)

	// The key deleted by hand; Lost never asked before Release.
	m := etcd.NewMutex(newSession(t, nil, p), "k")
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Delete(bg(t), p, clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	if err := m.Release(bg(t)); !errors.Is(err, etcd.ErrLost) {
		t.Fatalf("Release after the key was deleted = %v, want ErrLost", err)
	}
	within(t, m.Lost(), time.Second, "Lost of a hold whose key was deleted, asked after Release")

	// The session closed (lease revoked); Lost never asked before Unlock.
	s := newSession(t, nil, p)
	m = etcd.NewMutex(s, "c")
	sem := etcd.NewSemaphore(s, "c", 1)
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := sem.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	m.Unlock() // does not panic
	within(t, m.Lost(), time.Second, "Lost of a hold whose session closed, asked after Unlock")
	if err := sem.Release(bg(t)); !errors.Is(err, etcd.ErrLost) || !errors.Is(err, etcd.ErrSessionDone) {
		t.Fatalf("Release of a hold whose session closed = %v, want ErrLost and ErrSessionDone", err)
	}
	within(t, sem.Lost(), time.Second, "Lost of a semaphore hold whose session closed, asked after Release")
}

// "`Guard() clientv3.Cmp // true in a Txn only while the hold is current`"
func TestContractGuardOnlyWhileCurrent(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	write := func(g clientv3.Cmp) bool {
		t.Helper()
		resp, err := cli.Txn(bg(t)).If(g).Then(clientv3.OpPut(p+"data", "x")).Commit()
		if err != nil {
			t.Fatal(err)
		}
		return resp.Succeeded
	}
	m := etcd.NewMutex(newSession(t, nil, p), "g")
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	g1 := m.Guard()
	if !write(g1) {
		t.Fatal("Guard of the current hold refused")
	}
	m.Unlock()
	// The value locks again (its key may have the same name): the guard of
	// the earlier hold must not hold for the new one.
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	g2 := m.Guard()
	if write(g1) {
		t.Fatal("Guard of an earlier hold held during a later hold of the same value")
	}
	if !write(g2) {
		t.Fatal("Guard of the current hold refused")
	}
	// Lost (key deleted): the guard no longer holds, even before Release.
	if _, err := cli.Delete(bg(t), p+"lock/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	if write(g2) || write(m.Guard()) {
		t.Fatal("Guard held after the hold was lost")
	}
	m.Unlock()
	if write(m.Guard()) {
		t.Fatal("Guard of an unheld mutex held")
	}
}

// "Each Mutex value holds at most one hold at a time (it can lock again
// after Unlock); two Mutex values on one session are distinct holders (no
// aliasing: a second Lock on the same name waits)." A second Lock on the
// value that holds waits too, and gives up cleanly.
func TestContractOneHoldPerValue(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	s := newSession(t, nil, p)
	m := etcd.NewMutex(s, "v")
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	tok := m.Token()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := m.Lock(ctx); err != context.DeadlineExceeded {
		t.Fatalf("second Lock on the value that holds = %v, want context.DeadlineExceeded", err)
	}
	if err := m.TryLock(bg(t)); !errors.Is(err, etcd.ErrLocked) {
		t.Fatalf("TryLock on the value that holds = %v, want ErrLocked", err)
	}
	if n := countKeys(t, cli, p); n != 1 || m.Token() != tok {
		t.Fatalf("%d keys, token %d (was %d): the second Lock changed the hold", n, m.Token(), tok)
	}
	// The same for a Semaphore value, whose limit would admit a second hold.
	sem := etcd.NewSemaphore(s, "v", 2)
	if err := sem.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := sem.Acquire(ctx); err != context.DeadlineExceeded {
		t.Fatalf("second Acquire on the Semaphore value that holds = %v, want context.DeadlineExceeded", err)
	}
	if n := countKeys(t, cli, p+"sem/"); n != 1 {
		t.Fatalf("%d semaphore keys after a second Acquire on one value, want 1", n)
	}
	res := result(func() error { return sem.Acquire(bg(t)) })
	pending(t, res, 100*time.Millisecond, "second Acquire on the value that holds")
	if err := sem.Release(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, res, 5*time.Second, "Acquire after Release"); err != nil {
		t.Fatal(err)
	}
	if err := sem.Release(bg(t)); err != nil {
		t.Fatal(err)
	}
	m.Unlock()
}

// "Release is fenced: it deletes only its own key, never a later holder's."
func TestContractReleaseFenced(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	a := etcd.NewMutex(newSession(t, nil, p), "f")
	b := etcd.NewMutex(newSession(t, nil, p), "f")
	if err := a.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	ga := a.Guard()
	if _, err := cli.Delete(bg(t), string(ga.KeyBytes())); err != nil {
		t.Fatal(err)
	}
	if err := b.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(bg(t)); !errors.Is(err, etcd.ErrLost) {
		t.Fatalf("Release of a lost hold = %v, want ErrLost", err)
	}
	resp, err := cli.Txn(bg(t)).If(b.Guard()).Commit()
	if err != nil || !resp.Succeeded {
		t.Fatalf("the later holder's hold is gone after the earlier one's Release (%v)", err)
	}
	if isClosed(b.Lost()) {
		t.Fatal("the later holder lost its hold")
	}
	// The same for a Semaphore.
	sa := etcd.NewSemaphore(newSession(t, nil, p), "f", 1)
	sb := etcd.NewSemaphore(newSession(t, nil, p), "f", 1)
	if err := sa.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	gsa := sa.Guard()
	if _, err := cli.Delete(bg(t), string(gsa.KeyBytes())); err != nil {
		t.Fatal(err)
	}
	if err := sb.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := sa.Release(bg(t)); !errors.Is(err, etcd.ErrLost) {
		t.Fatalf("Semaphore.Release of a lost hold = %v, want ErrLost", err)
	}
	if n := countKeys(t, cli, p+"sem/"); n != 1 {
		t.Fatalf("%d semaphore keys after a stale Release, want the later holder's", n)
	}
	b.Unlock()
	if err := sb.Release(bg(t)); err != nil {
		t.Fatal(err)
	}
}

// "A `Lock` that gives up (ctx done) leaves no key behind; a done ctx
// changes nothing (rules 1 and 2 of coord's package doc)." For the other primitives: an
// Acquire or Wait that gives up leaves no key, and a call with a done ctx
// writes nothing, even where it would succeed at once.
func TestContractDoneContextChangesNothing(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	s := newSession(t, nil, p)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	sem := etcd.NewSemaphore(s, "s", 1)
	ev := etcd.NewEvent(s, "e")
	bar := etcd.NewBarrier(s, "b", 1) // would trip at once
	for _, ctx := range []context.Context{cancelled, expired} {
		want := ctx.Err()
		if err := etcd.NewMutex(s, "m").Lock(ctx); err != want {
			t.Errorf("Lock(done ctx) = %v, want %v", err, want)
		}
		if err := etcd.NewMutex(s, "m").TryLock(ctx); err != want {
			t.Errorf("TryLock(done ctx) = %v, want %v", err, want)
		}
		if err := sem.Acquire(ctx); err != want {
			t.Errorf("Acquire(done ctx) = %v, want %v", err, want)
		}
		if err := ev.Set(ctx); err != want {
			t.Errorf("Set(done ctx) = %v, want %v", err, want)
		}
		if i, err := bar.Wait(ctx); i != -1 || err != want {
			t.Errorf("Barrier.Wait(done ctx) = %d, %v, want -1, %v", i, err, want)
		}
		if n := countKeys(t, cli, p); n != 0 {
			t.Fatalf("%d keys after calls with a done ctx", n)
		}
	}
	// A set event stays set through Clear with a done ctx; a hold stays
	// through Release with a done ctx.
	if err := ev.Set(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := ev.Clear(cancelled); err != context.Canceled {
		t.Errorf("Clear(done ctx) = %v", err)
	}
	if _, err := ev.IsSet(cancelled); err != context.Canceled {
		t.Errorf("IsSet(done ctx) = %v", err)
	}
	if set, err := ev.IsSet(bg(t)); err != nil || !set {
		t.Fatalf("IsSet after Clear(done ctx) = %v, %v: Clear changed the state", set, err)
	}
	m := etcd.NewMutex(s, "m")
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	if tok := m.Token(); m.Release(cancelled) != context.Canceled || m.Token() != tok || countKeys(t, cli, p+"lock/") != 1 {
		t.Fatal("Mutex.Release with a done ctx did not return context.Canceled and leave the hold")
	}
	if err := m.Release(bg(t)); err != nil || countKeys(t, cli, p+"lock/") != 0 {
		t.Fatalf("Release = %v, or left a key", err)
	}
	if err := sem.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	tok := sem.Token()
	if err := sem.Release(cancelled); err != context.Canceled {
		t.Errorf("Semaphore.Release(done ctx) = %v", err)
	}
	if sem.Token() != tok || countKeys(t, cli, p+"sem/") != 1 {
		t.Fatal("Semaphore.Release with a done ctx changed the hold")
	}

	// Waits that give up leave no key (rule 1): a Semaphore waiter and a
	// Barrier party, by deadline.
	w := etcd.NewSemaphore(newSession(t, nil, p), "s", 1)
	ctx, cancel3 := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel3()
	if err := w.Acquire(ctx); err != context.DeadlineExceeded {
		t.Errorf("Acquire past its deadline = %v", err)
	}
	b2 := etcd.NewBarrier(s, "b2", 2)
	ctx, cancel4 := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel4()
	if i, err := b2.Wait(ctx); i != -1 || err != context.DeadlineExceeded {
		t.Errorf("Barrier.Wait past its deadline = %d, %v", i, err)
	}
	if n := countKeys(t, cli, p+"sem/"); n != 1 {
		t.Errorf("%d semaphore keys after a waiter gave up, want the holder's", n)
	}
	if n := countKeys(t, cli, p+"barrier/"); n != 0 {
		t.Errorf("%d barrier keys after a party gave up", n)
	}
	if err := sem.Release(bg(t)); err != nil {
		t.Fatal(err)
	}
}

// "`Unlock`, `Release` and `Session.Close` return within a few seconds even
// when the cluster cannot be reached." Here with holds still current (the
// session's deadline far off), so each must give up on its own timeout.
func TestContractReleaseBoundedUnreachable(t *testing.T) {
	p := testPrefix(t)
	px := newProxy(t, shared.Endpoint())
	s := newSession(t, newClient(t, px.addr()), p, etcd.WithTTL(30*time.Second))
	m := etcd.NewMutex(s, "u")
	sem := etcd.NewSemaphore(s, "u", 1)
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := sem.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	px.cutOff()
	start := time.Now()
	unlocked := make(chan struct{})
	go func() { m.Unlock(); close(unlocked) }()
	rel := result(func() error { return sem.Release(context.Background()) })
	within(t, unlocked, 5*time.Second, "Unlock with the cluster unreachable")
	if err := wait(t, rel, 5*time.Second, "Release with the cluster unreachable"); err == nil {
		t.Error("Release reported success with the cluster unreachable")
	} else if !strings.HasPrefix(err.Error(), `coord/etcd: release semaphore "u": `) {
		t.Errorf("Release error %q does not name the operation and the semaphore", err)
	}
	closed := result(s.Close)
	wait(t, closed, 5*time.Second, "Close with the cluster unreachable")
	if d := time.Since(start); d > 6*time.Second {
		t.Fatalf("Unlock, Release and Close took %v with the cluster unreachable", d)
	}
}

// "`limit` or `parties` below 1 panics, as in-process." (with a message
// beginning "coord: " that names the call, rule 6 of coord's package doc).
func TestContractBelowOnePanics(t *testing.T) {
	s := newSession(t, nil, testPrefix(t))
	for _, tc := range []struct {
		call string
		f    func()
	}{
		{"NewSemaphore", func() { etcd.NewSemaphore(s, "x", 0) }},
		{"NewSemaphore", func() { etcd.NewSemaphore(s, "x", -1) }},
		{"NewBarrier", func() { etcd.NewBarrier(s, "x", 0) }},
		{"NewBarrier", func() { etcd.NewBarrier(s, "x", -3) }},
	} {
		func() {
			defer func() {
				r, _ := recover().(string)
				if !strings.HasPrefix(r, "coord: ") || !strings.Contains(r, tc.call) {
					t.Errorf("recovered %q, want a coord: panic naming %s", r, tc.call)
				}
			}()
			tc.f()
		}()
	}
}

// "An Event's state lives in the cluster, not on a lease ... `Set` wakes
// every process waiting at that moment." and "Wait ... no set between read
// and watch is missed": a Set racing the start of a Wait is never missed.
func TestContractEventSetRacesWait(t *testing.T) {
	p := testPrefix(t)
	setter := etcd.NewEvent(newSession(t, nil, p), "race")
	waiter := etcd.NewEvent(newSession(t, nil, p), "race")
	for i := range 15 {
		res := result(func() error { return waiter.Wait(bg(t)) })
		if i%3 != 0 {
			time.Sleep(time.Duration(i) * time.Millisecond)
		}
		if err := setter.Set(bg(t)); err != nil {
			t.Fatal(err)
		}
		if err := wait(t, res, 5*time.Second, "Wait racing Set"); err != nil {
			t.Fatal(err)
		}
		if err := setter.Clear(bg(t)); err != nil {
			t.Fatal(err)
		}
	}
}

// "Errors from the cluster come back wrapped with the operation and name
// (`coord/etcd: lock "jobs": ...`), `errors.Is`-comparable to the client's
// errors; a ctx that ends returns `ctx.Err()` as in the in-process package."
func TestContractErrorsWrapped(t *testing.T) {
	p := testPrefix(t)
	s := newSession(t, nil, p)
	m := etcd.NewMutex(s, "jobs")
	sem := etcd.NewSemaphore(s, "jobs", 1)
	ev := etcd.NewEvent(s, "jobs")
	bar := etcd.NewBarrier(s, "jobs", 2)
	s.Close()
	for _, tc := range []struct {
		prefix string
		err    error
	}{
		{`coord/etcd: lock "jobs": `, m.Lock(bg(t))},
		{`coord/etcd: trylock "jobs": `, m.TryLock(bg(t))},
		{`coord/etcd: acquire semaphore "jobs": `, sem.Acquire(bg(t))},
		{`coord/etcd: set event "jobs": `, ev.Set(bg(t))},
		{`coord/etcd: clear event "jobs": `, ev.Clear(bg(t))},
		{`coord/etcd: wait event "jobs": `, ev.Wait(bg(t))},
		{`coord/etcd: wait barrier "jobs": `, func() error { _, err := bar.Wait(bg(t)); return err }()},
	} {
		if tc.err == nil || !strings.HasPrefix(tc.err.Error(), tc.prefix) || !errors.Is(tc.err, etcd.ErrSessionDone) {
			t.Errorf("error %v, want one that begins %q and errors.Is ErrSessionDone", tc.err, tc.prefix)
		}
		if strings.Count(tc.err.Error(), "coord/etcd:") != 1 {
			t.Errorf("error %q repeats the package prefix", tc.err)
		}
	}
	// A cluster error (a key too large for the server: the request is
	// refused) comes back wrapped and comparable to the client's.
	s2 := newSession(t, nil, p)
	// The name is in the request six times (the key, its compare, and the
	// start and end of the writers' and the readers' ranges counted):
	// under the client's 2MB, over the server's 1.5MB a request.
	big := strings.Repeat("x", 300<<10)
	err := etcd.NewMutex(s2, big).Lock(bg(t))
	if err == nil || !strings.HasPrefix(err.Error(), `coord/etcd: lock "xxx`) {
		t.Fatalf("Lock with a name too large for the server = %.80v", err)
	}
	if !errors.Is(err, rpctypes.ErrRequestTooLarge) {
		t.Fatalf("error %.120v is not errors.Is-comparable to the client's", err)
	}
}

// "`Guard() clientv3.Cmp // true in a Txn only while the hold is current`",
// with the hold lost at the session's early deadline: the key is still on
// the server (its lease has not yet expired there), but the holder counts
// the hold as lost, and a Guard taken then must not let it write.
func TestContractGuardAfterEarlyDeadline(t *testing.T) {
	p := testPrefix(t)
	px := newProxy(t, shared.Endpoint())
	s := newSession(t, newClient(t, px.addr()), p, etcd.WithTTL(2*time.Second))
	m := etcd.NewMutex(s, "d")
	sem := etcd.NewSemaphore(s, "d", 1)
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := sem.Acquire(bg(t)); err != nil {
		t.Fatal(err)
	}
	lost := m.Lost()
	px.cutOff()
	within(t, lost, 5*time.Second, "Lost after the cut")
	cli := newClient(t)
	for what, g := range map[string]clientv3.Cmp{"Mutex": m.Guard(), "Semaphore": sem.Guard()} {
		resp, err := cli.Txn(bg(t)).If(g).Then(clientv3.OpPut(p+"data", what)).Commit()
		if err != nil {
			t.Fatal(err)
		}
		if resp.Succeeded {
			t.Errorf("%s.Guard taken after Lost let a write through", what)
		}
	}
	m.Unlock()
	if err := sem.Release(bg(t)); !errors.Is(err, etcd.ErrLost) {
		t.Errorf("Release after the early deadline = %v, want ErrLost", err)
	}
}
