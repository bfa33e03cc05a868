package etcd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	defaultTTL    = 10 * time.Second
	minTTL        = time.Second
	defaultPrefix = "/coord/"
)

// opTimeout bounds every call that must return even when the cluster cannot
// be reached: Unlock, Release (on top of its ctx), Session.Close, and the
// deletion of the key of a wait that was given up.
const opTimeout = 2 * time.Second

// An Option configures NewSession.
type Option func(*options)

type options struct {
	ttl    time.Duration
	prefix string
}

// WithTTL sets the TTL of the session's lease: how long after its last
// keepalive the cluster keeps the session's keys, and so how long the others
// wait for a holder that died without Close. The default is 10s. It is
// rounded up to whole seconds and raised to 1s; a TTL below the server's
// minimum is raised to it by the server, but the session counts the one it
// asked for (the smaller of the two), so its early deadline is never late.
func WithTTL(d time.Duration) Option {
	return func(o *options) { o.ttl = d }
}

// WithPrefix sets the key namespace under which the session's primitives
// keep their keys; the default is "/coord/". Processes that share a
// primitive must use the same prefix. A "/" is appended when missing.
func WithPrefix(p string) Option {
	return func(o *options) {
		if p != "" && p[len(p)-1] != '/' {
			p += "/"
		}
		o.prefix = p
	}
}

// A Session is one process's presence in the cluster: one lease, kept alive
// by the session, to which every key its primitives write is attached, so
// that all of them go when the process dies or calls Close.
//
// The session counts its lease as lost early: at the send time of the last
// acknowledged keepalive plus the TTL (the smaller of the one asked for and
// the one granted), minus a safety margin. The server cannot expire the lease
// before then, since it restarts the TTL only when it receives a keepalive,
// after it was sent; so when Done closes on that deadline every hold of the
// session's primitives reports Lost before any other process can be granted
// what it held, even when the cluster cannot be reached. The session runs
// its own keepalive loop (not the client's KeepAlive) to know those send
// times.
//
// Every wait on a session's primitives ends within a few seconds of Done
// closing, with an error errors.Is ErrSessionDone (or with ctx.Err() when the
// caller's ctx ended too), and every call made on a done session fails so at
// once. A done session stays done: make a new one.
//
// A Session is made by NewSession (there is no useful zero value) and must
// not be copied. It is safe for use by any number of goroutines. Close it
// when done: its keepalive loop runs until then, and a process that exits
// without Close leaves its keys until the TTL runs out.
type Session struct {
	cli    *clientv3.Client
	lease  clientv3.LeaseID
	prefix string
	who    string
	ttl    time.Duration // the TTL counted: min(asked, granted)
	margin time.Duration

	// ctx models the session's lifetime: it is cancelled, with a cause that
	// is ErrSessionDone, when the session is done. Done returns its channel.
	ctx    context.Context
	cancel context.CancelCauseFunc

	seq      atomic.Uint64
	loopDone chan struct{}
	cleaning atomic.Bool // a cleanOrphans goroutine runs

	mu       sync.Mutex
	closed   bool
	deadline time.Time
	orphans  map[string]int64 // keys to delete that a bounded delete failed to
}

// NewSession grants a lease on cli and starts keeping it alive. cli stays
// the caller's: Close does not close it. The returned session's primitives
// keep their keys under the prefix set by WithPrefix.
func NewSession(ctx context.Context, cli *clientv3.Client, opts ...Option) (*Session, error) {
	if cli == nil {
		panic("coord: etcd.NewSession with a nil client")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := options{ttl: defaultTTL, prefix: defaultPrefix}
	for _, opt := range opts {
		opt(&o)
	}
	ttl := max(o.ttl, minTTL)
	secs := int64((ttl + time.Second - 1) / time.Second)
	ttl = time.Duration(secs) * time.Second

	sent := time.Now()
	resp, err := cli.Grant(ctx, secs)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, wrapErr("new session", "", err)
	}
	counted := min(ttl, time.Duration(resp.TTL)*time.Second)
	s := &Session{
		cli:      cli,
		lease:    resp.ID,
		prefix:   o.prefix,
		who:      whoAmI(),
		ttl:      counted,
		margin:   safetyMargin(counted),
		loopDone: make(chan struct{}),
		orphans:  make(map[string]int64),
	}
	s.deadline = sent.Add(s.ttl - s.margin)
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	go s.keepAlive()
	return s, nil
}

// safetyMargin is how much earlier than the server the session counts its
// lease as lost: a fifth of the TTL, at least 200ms and at most 5s. It
// covers the time a holder needs to act on Lost (the CLI kills its command
// within it) and the drift between the local and the server's clocks.
func safetyMargin(ttl time.Duration) time.Duration {
	return min(max(ttl/5, 200*time.Millisecond), 5*time.Second)
}

func whoAmI() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// nextID returns the holder part of a fresh key: the lease in hex and a
// sequence number unique within the session.
func (s *Session) nextID() string {
	return fmt.Sprintf("%016x-%d", int64(s.lease), s.seq.Add(1))
}

// Lease returns the ID of the session's lease.
func (s *Session) Lease() clientv3.LeaseID { return s.lease }

// Client returns the client the session was made with.
func (s *Session) Client() *clientv3.Client { return s.cli }

// Prefix returns the key namespace of the session's primitives.
func (s *Session) Prefix() string { return s.prefix }

// TTL returns the lease TTL the session counts: the smaller of the one asked
// for and the one the server granted.
func (s *Session) TTL() time.Duration { return s.ttl }

// SafetyMargin returns how long before the server can expire the lease the
// session counts it as lost. A holder that acts on Lost within this margin
// stops before any other process can be granted what it held.
func (s *Session) SafetyMargin() time.Duration { return s.margin }

// Who returns the host and pid stored in the value of every key the
// session writes, as List reports them.
func (s *Session) Who() string { return s.who }

// Done returns a channel that is closed when the session is done: Close was
// called, or the lease was lost (expired or revoked, or not renewed by the
// session's early deadline).
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }

// Err returns nil while the session is live, and afterwards an error
// errors.Is ErrSessionDone that says why it ended.
func (s *Session) Err() error {
	if s.ctx.Err() == nil {
		return nil
	}
	return context.Cause(s.ctx)
}

func (s *Session) end(reason string) {
	s.cancel(fmt.Errorf("%w: %s", ErrSessionDone, reason))
}

// Close ends the session and revokes its lease, which deletes every key of
// its primitives: every hold is released (and reports Lost) and every wait
// ends with ErrSessionDone. It returns within a few seconds even when the
// cluster cannot be reached; the lease then expires on its own. Closing a
// session whose lease has already expired is not an error; a second Close
// returns nil.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.end("closed")
	<-s.loopDone

	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_, err := s.cli.Revoke(ctx, s.lease)
	if err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return wrapErr("close session", "", timedOut(ctx, err))
	}
	return nil
}

// keepAlive renews the lease every third of its TTL (sooner after a
// failure), moves the early deadline forward on every acknowledgement, and
// ends the session when the deadline passes or the server says the lease is
// gone. Each keepalive is bounded by the deadline, so the loop notices the
// deadline on time even when the cluster does not answer.
func (s *Session) keepAlive() {
	defer close(s.loopDone)
	interval := s.ttl / 3
	retry := max(s.ttl/10, 50*time.Millisecond)
	kaTimer := time.NewTimer(interval)
	defer kaTimer.Stop()
	s.mu.Lock()
	deadline := s.deadline
	s.mu.Unlock()
	dlTimer := time.NewTimer(time.Until(deadline))
	defer dlTimer.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-dlTimer.C:
			s.end("lease not renewed in time")
			return
		case <-kaTimer.C:
		}
		sent := time.Now()
		kctx, cancel := context.WithDeadline(s.ctx, deadline)
		resp, err := s.cli.KeepAliveOnce(kctx, s.lease)
		cancel()
		switch {
		case errors.Is(err, rpctypes.ErrLeaseNotFound):
			s.end("lease expired or revoked")
			return
		case err == nil:
			ttl := min(s.ttl, time.Duration(resp.TTL)*time.Second)
			if d := sent.Add(ttl - s.margin); d.After(deadline) {
				deadline = d
				s.mu.Lock()
				s.deadline = d
				s.mu.Unlock()
				dlTimer.Reset(time.Until(deadline))
			}
			kaTimer.Reset(interval)
		default:
			if s.ctx.Err() != nil {
				return
			}
			if !time.Now().Before(deadline) {
				s.end("lease not renewed in time: " + err.Error())
				return
			}
			kaTimer.Reset(retry)
		}
	}
}

// start is the common prologue of every call on a session: a ctx that is
// already done returns ctx.Err() and changes nothing (rule 2 of package
// coord's doc), a session that is done fails at once. It returns a ctx for the
// call's cluster requests that also ends when the session does, so that no
// wait outlives its session.
func (s *Session) start(ctx context.Context, op, name string) (context.Context, context.CancelFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if s.ctx.Err() != nil {
		return nil, nil, wrapErr(op, name, context.Cause(s.ctx))
	}
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	return wctx, func() { stop(); cancel() }, nil
}

// fail turns the error of a cluster call made on behalf of a caller into what
// the caller gets: ctx.Err() itself when the caller's ctx ended (rule 1 of
// package coord's doc; it wins over everything), the session's error when the
// session is done, and the cluster's error wrapped with op and name
// otherwise.
func (s *Session) fail(ctx context.Context, op, name string, err error) error {
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		// A write on the session's lease found it gone (revoked by hand,
		// or expired): the session is done, without waiting for the next
		// keepalive to say so.
		s.end("lease expired or revoked")
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, errKeyGone) && s.ctx.Err() == nil {
		// A waiter's own key is gone, most often with the lease (revoked,
		// or expired on the server). Ask, so that the wait ends with
		// ErrSessionDone, as every wait of a done session does, rather
		// than with an error of its own while the keepalive loop has yet
		// to learn of it (up to a third of the TTL later).
		s.checkLease()
	}
	if s.ctx.Err() != nil {
		return wrapErr(op, name, context.Cause(s.ctx))
	}
	return wrapErr(op, name, err)
}

// checkLease ends the session if the server no longer knows its lease.
// Bounded by opTimeout; an error leaves the verdict to the keepalive loop.
func (s *Session) checkLease() {
	ctx, cancel := context.WithTimeout(s.ctx, opTimeout)
	defer cancel()
	resp, err := s.cli.TimeToLive(ctx, s.lease)
	if errors.Is(err, rpctypes.ErrLeaseNotFound) || (err == nil && resp.TTL < 0) {
		s.end("lease expired or revoked")
	}
}
