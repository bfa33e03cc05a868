package etcd_test

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd/embedded"
)

// cluster is a multi-member embedded etcd for fault tests.
type cluster struct {
	t       testing.TB
	members []*member
}

type member struct {
	cfg    embedded.Config
	srv    *embedded.Server // nil while stopped
	closed chan struct{}    // closed when a killed member has released its ports
}

// startCluster starts n members on free loopback ports and waits until they
// have a leader. Raft timing is etcd's default (100ms heartbeat, 1s
// election): shorter timeouts make a loaded 2-core machine hold needless
// elections, and the tests measure nothing that depends on it.
func startCluster(t testing.TB, n int) *cluster {
	t.Helper()
	c := &cluster{t: t}
	var initial []string
	for i := range n {
		peer, err := embedded.FreePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		client, err := embedded.FreePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("m%d", i)
		c.members = append(c.members, &member{cfg: embedded.Config{
			Name:          name,
			DataDir:       t.TempDir(),
			ClientAddr:    client,
			PeerAddr:      peer,
			UnsafeNoFsync: true,
		}})
		initial = append(initial, name+"=http://"+peer)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, m := range c.members {
		m.cfg.InitialCluster = strings.Join(initial, ",")
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			m.srv, errs[i] = embedded.Start(ctx, m.cfg)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			c.stopAll()
			t.Fatal(err)
		}
	}
	t.Cleanup(c.stopAll)
	return c
}

func (c *cluster) stopAll() {
	for i, m := range c.members {
		if m.srv != nil {
			c.kill(i)
		}
	}
	for _, m := range c.members {
		if m.closed != nil {
			<-m.closed
		}
	}
}

func (c *cluster) endpoints() []string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.cfg.ClientAddr)
	}
	return eps
}

// leader returns the index of the member that leads, waiting for one.
func (c *cluster) leader() int {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for i, m := range c.members {
			if m.srv == nil {
				continue
			}
			s := m.srv.Etcd().Server
			if uint64(s.MemberID()) == uint64(s.Leader()) {
				return i
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatal("no leader")
	return -1
}

// kill stops member i as a crash would: raft stops at once, with no
// leadership transfer. Closing the listeners waits for open streams to
// drain (several seconds), so that happens in the background; clients see
// a member that no longer answers.
func (c *cluster) kill(i int) {
	m := c.members[i]
	srv := m.srv
	m.srv = nil
	srv.Etcd().Server.HardStop()
	m.closed = make(chan struct{})
	go func() { srv.Close(); close(m.closed) }()
}

// restart starts member i again on its data directory.
func (c *cluster) restart(i int) {
	c.t.Helper()
	<-c.members[i].closed // its ports are free again
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := embedded.Start(ctx, c.members[i].cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.members[i].srv = srv
}

// proxy is a TCP proxy that can cut its client off from the server: once
// cut, it forwards nothing more in either direction and leaves connections
// hanging (a partition, not a refusal: nothing tells the client).
type proxy struct {
	l      net.Listener
	target string

	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
	cutc   chan struct{} // closed by cutOff
	closed chan struct{} // closed by close
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target, cutc: make(chan struct{}), closed: make(chan struct{})}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.conns = append(p.conns, c) // hold it open, forward nothing
			p.mu.Unlock()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, s)
		cutc := p.cutc
		p.mu.Unlock()
		go p.pipe(s, c, cutc)
		go p.pipe(c, s, cutc)
	}
}

// pipe copies src to dst until the proxy is cut; then it stops reading, so
// the bytes in flight stay in the kernel's buffers and nothing arrives.
func (p *proxy) pipe(dst, src net.Conn, cutc <-chan struct{}) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-cutc:
			<-p.closed
			return
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) cutOff() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cut {
		p.cut = true
		close(p.cutc)
	}
}

// heal forwards new connections again and resets those open at the cut
// (as a peer does for a connection it no longer knows), so the client
// redials at once instead of after gRPC's keepalive, at least 10s.
func (p *proxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		p.cut = false
		p.cutc = make(chan struct{})
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

func (p *proxy) close() {
	p.cutOff()
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.closed:
	default:
		close(p.closed)
	}
	for _, c := range p.conns {
		c.Close()
	}
}

// holds records every hold of a lock with its token and the time its holder
// started and stopped acting on it (at Unlock, or when Lost closed), and
// checks that no two overlap and that tokens increase in hold order.
type holds struct {
	mu   sync.Mutex
	list []holdRecord
}

type holdRecord struct {
	who        string
	token      int64
	start, end time.Time
	lost       bool
}

func (h *holds) add(r holdRecord) {
	h.mu.Lock()
	h.list = append(h.list, r)
	h.mu.Unlock()
}

func (h *holds) check(t *testing.T) (n, lost int) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	l := append([]holdRecord(nil), h.list...)
	sort.Slice(l, func(i, j int) bool { return l[i].start.Before(l[j].start) })
	for i := 1; i < len(l); i++ {
		prev, cur := l[i-1], l[i]
		if cur.start.Before(prev.end) {
			t.Errorf("holds overlap: %s token %d [%v, lost=%v] still acting when %s token %d started",
				prev.who, prev.token, prev.end.Sub(cur.start), prev.lost, cur.who, cur.token)
		}
		if cur.token <= prev.token {
			t.Errorf("token %d of %s follows token %d of %s: not increasing", cur.token, cur.who, prev.token, prev.who)
		}
	}
	for _, r := range l {
		if r.lost {
			lost++
		}
	}
	return len(l), lost
}
