package etcd_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
)

// nextLeader returns the next Leader from ch, failing t if none comes within d or
// ch is closed.
func nextLeader(t testing.TB, ch <-chan etcd.Leader, d time.Duration, what string) etcd.Leader {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatalf("%s: Observe's channel closed", what)
		}
		return l
	case <-time.After(d):
		t.Fatalf("%s: nothing observed within %v", what, d)
		return etcd.Leader{}
	}
}

// quietLeader fails t if ch yields within d.
func quietLeader(t testing.TB, ch <-chan etcd.Leader, d time.Duration, what string) {
	t.Helper()
	select {
	case l, ok := <-ch:
		t.Fatalf("%s: observed %+v (open %v), want nothing", what, l, ok)
	case <-time.After(d):
	}
}

// observeClosed fails t unless ch is closed within d (values before the
// close are drained).
func observeClosed(t testing.TB, ch <-chan etcd.Leader, d time.Duration, what string) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("%s: Observe's channel still open after %v", what, d)
		}
	}
}

// sameLeader reports whether a and b are the same Leader.
func sameLeader(a, b etcd.Leader) bool {
	return a.Value == b.Value && a.Token == b.Token && a.Who == b.Who && a.Since.Equal(b.Since)
}

// leaderNow returns the current leader, failing t when nobody leads.
func leaderNow(t testing.TB, e *etcd.Election) etcd.Leader {
	t.Helper()
	l, ok, err := e.Leader(bg(t))
	if err != nil || !ok {
		t.Fatalf("Leader = %+v, %v, %v; want a leader", l, ok, err)
	}
	return l
}

// One leader at a time, candidates in arrival order, and a Resign hands
// over at once: Token increases, Who names the session, Since is when the
// leadership began (after the predecessor resigned), and List shows the
// leader and the candidates.
func TestElectionArrivalOrderAndHandover(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	var es []*etcd.Election
	var who []string
	for range 3 {
		s := newSession(t, nil, p)
		es = append(es, etcd.NewElection(s, "e"))
		who = append(who, s.Who())
	}
	obs := etcd.NewElection(newSession(t, nil, p), "e")
	if _, ok, err := obs.Leader(bg(t)); ok || err != nil {
		t.Fatalf("Leader with no candidate: ok=%v err=%v", ok, err)
	}
	before := time.Now().Truncate(time.Millisecond)
	if err := es[0].Campaign(bg(t), "a"); err != nil {
		t.Fatal(err)
	}
	l := leaderNow(t, obs)
	if l.Value != "a" || l.Token != es[0].Token() || l.Token == 0 || l.Who != who[0] || l.Since.Before(before) || l.Since.After(time.Now()) {
		t.Fatalf("Leader = %+v; want value a, token %d, since in [%v, now]", l, es[0].Token(), before)
	}
	res := []<-chan error{nil,
		result(func() error { return es[1].Campaign(bg(t), "b") }),
	}
	waitKeys(t, cli, p, 2)
	res = append(res, result(func() error { return es[2].Campaign(bg(t), "c") }))
	waitKeys(t, cli, p, 3)
	pending(t, res[1], 200*time.Millisecond, "Campaign of the second candidate")
	if es[1].Token() != 0 {
		t.Fatalf("Token of a candidate = %d, want 0", es[1].Token())
	}

	entries, err := etcd.List(bg(t), cli, p)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for i, e := range entries {
		if e.Kind != "election" || e.Name != "e" || e.Who != who[i] || e.Token == 0 {
			t.Fatalf("List entry %+v", e)
		}
		states = append(states, e.State+":"+e.Value)
	}
	if got := strings.Join(states, " "); got != "leader:a candidate:b candidate:c" {
		t.Fatalf("List states = %q", got)
	}
	if !entries[0].Since.Equal(l.Since) {
		t.Fatalf("List's leader since %v, Leader's %v", entries[0].Since, l.Since)
	}

	prev := es[0].Token()
	for i := 1; i < 3; i++ {
		resigned := time.Now().Truncate(time.Millisecond)
		if err := es[i-1].Resign(bg(t)); err != nil {
			t.Fatal(err)
		}
		if err := wait(t, res[i], 5*time.Second, "Campaign after the leader resigned"); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			pending(t, res[2], 100*time.Millisecond, "Campaign of the third candidate")
		}
		l := leaderNow(t, obs)
		if l.Token != es[i].Token() || l.Token <= prev || l.Value != string(rune('a'+i)) {
			t.Fatalf("leader %d = %+v, token %d; previous token %d", i, l, es[i].Token(), prev)
		}
		if l.Since.Before(resigned) {
			t.Fatalf("leader %d since %v, before its predecessor resigned at %v", i, l.Since, resigned)
		}
		prev = l.Token
	}
	if err := es[2].Resign(bg(t)); err != nil {
		t.Fatal(err)
	}
	waitKeys(t, cli, p, 0)
	if _, ok, _ := obs.Leader(bg(t)); ok {
		t.Fatal("a leader after every candidate resigned")
	}
}

// "A candidate that gives up leaves no key", also with a ctx already done,
// and the candidates behind it move up; a Resign of a value that does not
// lead is nil.
func TestElectionCandidateGivesUp(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	a := etcd.NewElection(newSession(t, nil, p), "g")
	b := etcd.NewElection(newSession(t, nil, p), "g")
	c := etcd.NewElection(newSession(t, nil, p), "g")
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Campaign(done, "a"); err != context.Canceled {
		t.Fatalf("Campaign with a done ctx = %v", err)
	}
	if n := countKeys(t, cli, p); n != 0 {
		t.Fatalf("%d keys after a Campaign with a done ctx", n)
	}
	if err := a.Resign(bg(t)); err != nil {
		t.Fatalf("Resign of a value that never led = %v", err)
	}
	if err := a.Campaign(bg(t), "a"); err != nil {
		t.Fatal(err)
	}
	ctx, cancelB := context.WithCancel(bg(t))
	bres := result(func() error { return b.Campaign(ctx, "b") })
	waitKeys(t, cli, p, 2)
	cres := result(func() error { return c.Campaign(bg(t), "c") })
	waitKeys(t, cli, p, 3)
	cancelB()
	if err := wait(t, bres, 5*time.Second, "Campaign given up"); err != context.Canceled {
		t.Fatalf("Campaign given up = %v", err)
	}
	waitKeys(t, cli, p, 2)
	if err := a.Resign(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, cres, 5*time.Second, "Campaign behind one that gave up"); err != nil {
		t.Fatal(err)
	}
	if err := a.Resign(bg(t)); err != nil {
		t.Fatalf("second Resign = %v", err)
	}
	if err := c.Resign(done); err != context.Canceled {
		t.Fatalf("Resign with a done ctx = %v", err)
	}
	if leaderNow(t, a).Value != "c" {
		t.Fatal("Resign with a done ctx changed something")
	}
	c.Resign(bg(t))
}

// Proclaim changes the leader's value, only while it leads: a candidate, a
// resigned leader, and a leader whose key was deleted get ErrNotLeader (the
// last also sees Lost close and its Context end with ErrLost).
func TestElectionProclaimFenced(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	a := etcd.NewElection(newSession(t, nil, p), "p")
	b := etcd.NewElection(newSession(t, nil, p), "p")
	if err := a.Proclaim(bg(t), "x"); !errors.Is(err, etcd.ErrNotLeader) {
		t.Fatalf("Proclaim before Campaign = %v", err)
	}
	if err := a.Campaign(bg(t), "a1"); err != nil {
		t.Fatal(err)
	}
	since := leaderNow(t, b).Since
	if err := a.Proclaim(bg(t), "a2"); err != nil {
		t.Fatal(err)
	}
	if l := leaderNow(t, b); l.Value != "a2" || l.Token != a.Token() || !l.Since.Equal(since) {
		t.Fatalf("after Proclaim: %+v, want value a2, token %d, since %v", l, a.Token(), since)
	}
	bres := result(func() error { return b.Campaign(bg(t), "b") })
	waitKeys(t, cli, p, 2)
	if err := b.Proclaim(bg(t), "x"); !errors.Is(err, etcd.ErrNotLeader) {
		t.Fatalf("Proclaim of a candidate = %v", err)
	}
	if err := a.Resign(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := a.Proclaim(bg(t), "stale"); !errors.Is(err, etcd.ErrNotLeader) {
		t.Fatalf("Proclaim after Resign = %v", err)
	}
	if err := wait(t, bres, 5*time.Second, "Campaign"); err != nil {
		t.Fatal(err)
	}
	ctx := b.Context(bg(t))
	if _, err := cli.Delete(bg(t), p, clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	if err := b.Proclaim(bg(t), "gone"); !errors.Is(err, etcd.ErrNotLeader) {
		t.Fatalf("Proclaim after the key was deleted = %v", err)
	}
	within(t, b.Lost(), time.Second, "Lost after a Proclaim found the key gone")
	within(t, ctx.Done(), time.Second, "Context after the key was deleted")
	if !errors.Is(context.Cause(ctx), etcd.ErrLost) {
		t.Fatalf("Context's cause = %v, want ErrLost", context.Cause(ctx))
	}
	if n := countKeys(t, cli, p); n != 0 {
		t.Fatalf("a fenced Proclaim wrote a key back: %d keys", n)
	}
	if err := b.Resign(bg(t)); !errors.Is(err, etcd.ErrLost) {
		t.Fatalf("Resign of a lost leadership = %v, want ErrLost", err)
	}
}

// Observe sends the leader at once, then each change of value or leader in
// order, a zero Leader when nobody leads, and nothing for a change of
// candidates or a Proclaim of the same value; it closes with its ctx and
// with its session.
func TestElectionObserve(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	a := etcd.NewElection(newSession(t, nil, p), "o")
	b := etcd.NewElection(newSession(t, nil, p), "o")
	s := newSession(t, nil, p)
	obs := etcd.NewElection(s, "o")
	empty := obs.Observe(bg(t))
	quietLeader(t, empty, 100*time.Millisecond, "Observe with nobody leading")

	if err := a.Campaign(bg(t), "a1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg(t))
	ch := obs.Observe(ctx)
	first := nextLeader(t, ch, 5*time.Second, "the leader at once")
	if want := leaderNow(t, obs); !sameLeader(first, want) || first.Value != "a1" {
		t.Fatalf("first observed %+v, want %+v", first, want)
	}
	// An observer that sees the leader before it has recorded when it
	// began reports when it learned of it: about the same time.
	got := nextLeader(t, empty, 5*time.Second, "a leader after nobody")
	if d := got.Since.Sub(first.Since).Abs(); got.Value != first.Value || got.Token != first.Token || got.Who != first.Who || d > time.Second {
		t.Fatalf("observed %+v after nobody led, want %+v", got, first)
	}

	bres := result(func() error { return b.Campaign(bg(t), "b1") })
	waitKeys(t, cli, p, 2)
	if err := a.Proclaim(bg(t), "a1"); err != nil {
		t.Fatal(err)
	}
	quietLeader(t, ch, 200*time.Millisecond, "a new candidate and a Proclaim of the same value")
	for _, v := range []string{"a2", "a3"} {
		if err := a.Proclaim(bg(t), v); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{"a2", "a3"} {
		if got := nextLeader(t, ch, 5*time.Second, "Proclaim"); got.Value != v || got.Token != a.Token() || !got.Since.Equal(first.Since) {
			t.Fatalf("observed %+v, want %s of token %d since %v", got, v, a.Token(), first.Since)
		}
	}
	if err := a.Resign(bg(t)); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, bres, 5*time.Second, "Campaign"); err != nil {
		t.Fatal(err)
	}
	if got := nextLeader(t, ch, 5*time.Second, "the next leader"); got.Value != "b1" || got.Token != b.Token() || got.Token <= first.Token {
		t.Fatalf("observed %+v after the handover, want b1 of token %d", got, b.Token())
	}
	quietLeader(t, ch, 200*time.Millisecond, "the new leader recording when it began")
	if err := b.Resign(bg(t)); err != nil {
		t.Fatal(err)
	}
	if got := nextLeader(t, ch, 5*time.Second, "nobody leads"); !sameLeader(got, etcd.Leader{}) {
		t.Fatalf("observed %+v, want a zero Leader", got)
	}
	cancel()
	observeClosed(t, ch, 5*time.Second, "after its ctx ended")
	s.Close()
	observeClosed(t, empty, 5*time.Second, "after its session closed")
	if _, ok := <-obs.Observe(bg(t)); ok {
		t.Fatal("Observe on a closed session sent a leader")
	}
}

// "A contended handoff costs the next waiter no more than one watch event
// (no herd)", for candidates: a candidate watches only the key before its
// own.
func TestElectionNoHerd(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	lead := etcd.NewElection(newSession(t, nil, p), "h")
	if err := lead.Campaign(bg(t), "0"); err != nil {
		t.Fatal(err)
	}
	const n = 3
	var counts []*atomic.Int64
	var es []*etcd.Election
	var res []<-chan error
	for i := range n {
		wcli, c := countingClient(t)
		counts = append(counts, c)
		e := etcd.NewElection(newSession(t, wcli, p), "h")
		es = append(es, e)
		res = append(res, result(func() error { return e.Campaign(bg(t), "") }))
		waitKeys(t, cli, p, int64(i+2))
	}
	time.Sleep(50 * time.Millisecond) // every candidate's watch is open
	prev := lead
	for i := range n {
		if err := prev.Resign(bg(t)); err != nil {
			t.Fatal(err)
		}
		if err := wait(t, res[i], 5*time.Second, "Campaign"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // a herd would show by now
		if got := counts[i].Load(); got > 1 {
			t.Fatalf("candidate %d saw %d watch events to lead, want at most 1", i, got)
		}
		for j := i + 1; j < n; j++ {
			if got := counts[j].Load(); got != 0 {
				t.Fatalf("after handover %d: candidate %d, still waiting, saw %d watch events (a herd)", i, j, got)
			}
		}
		prev = es[i]
	}
	prev.Resign(bg(t))
}

// Observe's goroutine ends with its ctx, and Campaign's waits with theirs:
// nothing of package etcd is left once the sessions are closed.
func TestElectionNoGoroutineLeak(t *testing.T) {
	p := testPrefix(t)
	s1, s2 := newSession(t, nil, p), newSession(t, nil, p)
	a, b := etcd.NewElection(s1, "l"), etcd.NewElection(s2, "l")
	if err := a.Campaign(bg(t), "a"); err != nil {
		t.Fatal(err)
	}
	_ = a.Lost()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := b.Campaign(ctx, "b"); err != context.DeadlineExceeded {
		t.Fatalf("Campaign given up = %v", err)
	}
	octx, ocancel := context.WithCancel(context.Background())
	ch := b.Observe(octx)
	nextLeader(t, ch, 5*time.Second, "the leader")
	ocancel()
	observeClosed(t, ch, 5*time.Second, "after its ctx ended")
	a.Resign(bg(t))
	s1.Close() // before the check; the cleanup's Close is then a no-op
	s2.Close()
	noGoroutinesLeft(t)
}

// replayer makes a client's watch streams deliver, once when armed, the
// first response with events they delivered, again, before the next one:
// what a watch resumed from too early, or opened on a member that lags
// behind, delivers.
type replayer struct {
	mu    sync.Mutex
	first *pb.WatchResponse // the first response with events
	armed bool
	stash *pb.WatchResponse // the response held back behind the replay
}

func (r *replayer) arm() {
	r.mu.Lock()
	r.armed = true
	r.mu.Unlock()
}

// replayClient returns a client of the shared server whose watches r can
// replay.
func replayClient(t *testing.T) (*clientv3.Client, *replayer) {
	t.Helper()
	r := &replayer{}
	return streamClient(t, func(cs grpc.ClientStream) grpc.ClientStream {
		return &replayStream{ClientStream: cs, r: r}
	}), r
}

type replayStream struct {
	grpc.ClientStream
	r *replayer
}

func (s *replayStream) RecvMsg(m any) error {
	w, ok := m.(*pb.WatchResponse)
	if !ok {
		return s.ClientStream.RecvMsg(m)
	}
	r := s.r
	r.mu.Lock()
	if st := r.stash; st != nil {
		r.stash = nil
		r.mu.Unlock()
		setWatchResponse(w, st)
		return nil
	}
	r.mu.Unlock()
	if err := s.ClientStream.RecvMsg(m); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(w.Events) > 0 {
		switch {
		case r.first == nil:
			r.first = &pb.WatchResponse{}
			setWatchResponse(r.first, w)
		case r.armed:
			r.armed = false
			r.stash = &pb.WatchResponse{}
			setWatchResponse(r.stash, w)
			setWatchResponse(w, r.first)
		}
	}
	return nil
}

// setWatchResponse makes dst a copy of src, field by field (a proto message
// must not be copied whole).
func setWatchResponse(dst, src *pb.WatchResponse) {
	dst.Header, dst.WatchId, dst.Events = src.Header, src.WatchId, src.Events
	dst.Created, dst.Canceled, dst.CompactRevision = src.Created, src.Canceled, src.CompactRevision
	dst.CancelReason, dst.Fragment = src.CancelReason, src.Fragment
}

// A watch that delivers an old event again (as one resumed too early, or
// opened on a member that lags behind, does) does not make Observe send an
// older value after a newer one.
func TestElectionObserveIgnoresReplay(t *testing.T) {
	p := testPrefix(t)
	a := etcd.NewElection(newSession(t, nil, p), "r")
	if err := a.Campaign(bg(t), "1"); err != nil {
		t.Fatal(err)
	}
	cli, r := replayClient(t)
	ch := etcd.NewElection(newSession(t, cli, p), "r").Observe(bg(t))
	if got := nextLeader(t, ch, 5*time.Second, "the leader"); got.Value != "1" {
		t.Fatalf("observed %+v, want 1", got)
	}
	for _, v := range []string{"2", "3", "4"} {
		if v == "4" {
			r.arm() // the watch delivers "2" again before "4"
		}
		if err := a.Proclaim(bg(t), v); err != nil {
			t.Fatal(err)
		}
		if got := nextLeader(t, ch, 5*time.Second, "Proclaim "+v); got.Value != v {
			t.Fatalf("observed %q after Proclaim %s", got.Value, v)
		}
	}
	r.mu.Lock()
	replayed := r.stash == nil && !r.armed
	r.mu.Unlock()
	if !replayed {
		t.Fatal("the watch did not replay")
	}
	quietLeader(t, ch, 100*time.Millisecond, "after the replay")
	a.Resign(bg(t))
}

// "then each change of leader or value in order": with no broken watch,
// none is skipped, however short (a leader that resigns as soon as it
// leads, values proclaimed back to back), and a write of several keys at
// once is seen whole (an operator's delete of the range goes from a leader
// straight to nobody, never through a candidate deleted with it).
func TestElectionObserveEveryChange(t *testing.T) {
	p := testPrefix(t)
	cli := newClient(t)
	var es []*etcd.Election
	for range 3 {
		es = append(es, etcd.NewElection(newSession(t, nil, p), "every"))
	}
	if err := es[0].Campaign(bg(t), "a"); err != nil {
		t.Fatal(err)
	}
	ch := etcd.NewElection(newSession(t, nil, p), "every").Observe(bg(t))
	nextLeader(t, ch, 5*time.Second, "the leader")
	res := []<-chan error{nil,
		result(func() error { return es[1].Campaign(bg(t), "b") }),
	}
	waitKeys(t, cli, p, 2)
	res = append(res, result(func() error { return es[2].Campaign(bg(t), "c") }))
	waitKeys(t, cli, p, 3)
	for _, v := range []string{"a1", "a2", "a3"} {
		if err := es[0].Proclaim(bg(t), v); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if err := es[i].Resign(bg(t)); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			if err := wait(t, res[i+1], 5*time.Second, "Campaign"); err != nil {
				t.Fatal(err)
			}
		}
	}
	var got []string
	for range 6 {
		got = append(got, nextLeader(t, ch, 5*time.Second, "a change").Value)
	}
	if g := strings.Join(got, " "); g != "a1 a2 a3 b c " {
		t.Fatalf("observed %q, want every change: %q", g, "a1 a2 a3 b c ")
	}

	// A delete of the whole range at one revision.
	if err := es[0].Campaign(bg(t), "a"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 3; i++ {
		res[i] = result(func() error { return es[i].Campaign(bg(t), "") })
		waitKeys(t, cli, p, int64(i+1))
	}
	if got := nextLeader(t, ch, 5*time.Second, "the new leader"); got.Value != "a" {
		t.Fatalf("observed %+v, want a", got)
	}
	if _, err := cli.Delete(bg(t), p, clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	if got := nextLeader(t, ch, 5*time.Second, "the range deleted"); !sameLeader(got, etcd.Leader{}) {
		t.Fatalf("observed %+v after the range was deleted, want a zero Leader", got)
	}
	for i := 1; i < 3; i++ {
		if err := wait(t, res[i], 5*time.Second, "Campaign whose key was deleted"); err == nil {
			t.Fatalf("Campaign %d whose key was deleted returned nil", i)
		}
	}
	quietLeader(t, ch, 100*time.Millisecond, "after the range was deleted")
}
