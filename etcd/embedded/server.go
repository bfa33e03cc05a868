// Package embedded runs an etcd member inside the process, as `coord serve`
// and the tests of package etcd do. It is a package of its own so that a
// program that only uses the primitives of package etcd does not link the
// etcd server (its storage, raft and metrics): only what imports embedded
// does.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Config configures Start. The zero value of each field but
// DataDir means the default given.
type Config struct {
	// DataDir is where the member keeps its data. Required.
	DataDir string
	// ClientAddr is the host:port clients connect to; default
	// "127.0.0.1:2379". Port 0 picks a free port.
	ClientAddr string
	// PeerAddr is the host:port other members connect to; default
	// "127.0.0.1:0", a free port.
	PeerAddr string
	// Name is the member's name; default "coord".
	Name string
	// InitialCluster lists the members of a new cluster as
	// "name=http://host:port,..." (their peer URLs); default this member
	// alone. Every member of a new cluster must be started with the same
	// list, and their PeerAddr set to the ports in it.
	InitialCluster string
	// CertFile and KeyFile, when set, make the client port serve TLS.
	CertFile, KeyFile string
	// TrustedCAFile is a PEM file of the CA that signs client
	// certificates; it takes effect with ClientCertAuth.
	TrustedCAFile string
	// ClientCertAuth makes the server require and verify client
	// certificates signed by the CA of TrustedCAFile.
	ClientCertAuth bool
	// HeartbeatInterval and ElectionTimeout tune raft; defaults 100ms and
	// 1s, etcd's own.
	HeartbeatInterval, ElectionTimeout time.Duration
	// CompactionRetention is how much history the member keeps: it compacts
	// away revisions older than that, periodically. Default 1h; negative
	// disables compaction (etcd's own default, under which the database
	// and the index of deleted keys grow without bound).
	CompactionRetention time.Duration
	// BcryptCost is the cost of hashing user passwords for authentication;
	// default bcrypt's 10. Tests lower it to 4, the minimum.
	BcryptCost uint
	// UnsafeNoFsync skips fsync: faster, and fit only for tests and
	// throwaway clusters.
	UnsafeNoFsync bool
	// Logger receives the server's logs; nil discards them.
	Logger *zap.Logger
}

// A Server is an embedded etcd member, as the `coord serve` command and
// tests run it.
type Server struct {
	e      *embed.Etcd
	tls    bool
	client string
}

// Start starts an embedded etcd member and returns once it serves
// clients (for a member of a new multi-member cluster, once the cluster has
// a leader), or with ctx.Err() when ctx ends first. Its logs go to
// cfg.Logger, nowhere by default. The gRPC library logs through a global
// logger of its own; etcd.DiscardGRPCLogs silences it.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		return nil, errors.New("coord/etcd/embedded: start server: no data directory")
	}
	var err error
	// A free port is picked by listening on port 0 and closing; another
	// process may take it before etcd listens, so retry a few times.
	for attempt := 0; attempt < 3; attempt++ {
		var s *Server
		s, err = start(ctx, cfg)
		if err == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !strings.Contains(err.Error(), "address already in use") ||
			!(hasPortZero(cfg.ClientAddr) || hasPortZero(cfg.PeerAddr) || cfg.PeerAddr == "") {
			break
		}
	}
	return nil, err
}

func hasPortZero(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port == "0"
}

// FreePort returns host:port with a port that was free a moment ago on
// host (for a cluster's InitialCluster, which needs its peer ports before
// the members start).
func FreePort(host string) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func resolveAddr(addr, def string) (string, error) {
	if addr == "" {
		addr = def
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port == "0" {
		return FreePort(host)
	}
	return addr, nil
}

func start(ctx context.Context, sc Config) (*Server, error) {
	clientAddr, err := resolveAddr(sc.ClientAddr, "127.0.0.1:2379")
	if err != nil {
		return nil, fmt.Errorf("coord/etcd/embedded: start server: client address: %w", err)
	}
	peerAddr, err := resolveAddr(sc.PeerAddr, "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("coord/etcd/embedded: start server: peer address: %w", err)
	}
	tlsOn := sc.CertFile != "" || sc.KeyFile != ""
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	curl := url.URL{Scheme: scheme, Host: clientAddr}
	purl := url.URL{Scheme: "http", Host: peerAddr}

	cfg := embed.NewConfig()
	cfg.Name = sc.Name
	if cfg.Name == "" {
		cfg.Name = "coord"
	}
	cfg.Dir = sc.DataDir
	cfg.ListenClientUrls = []url.URL{curl}
	cfg.AdvertiseClientUrls = []url.URL{curl}
	cfg.ListenPeerUrls = []url.URL{purl}
	cfg.AdvertisePeerUrls = []url.URL{purl}
	cfg.InitialCluster = sc.InitialCluster
	if cfg.InitialCluster == "" {
		cfg.InitialCluster = cfg.Name + "=" + purl.String()
	}
	if sc.HeartbeatInterval > 0 {
		cfg.TickMs = uint(sc.HeartbeatInterval / time.Millisecond)
	}
	if sc.ElectionTimeout > 0 {
		cfg.ElectionMs = uint(sc.ElectionTimeout / time.Millisecond)
	}
	cfg.UnsafeNoFsync = sc.UnsafeNoFsync
	switch r := sc.CompactionRetention; {
	case r == 0:
		cfg.AutoCompactionMode, cfg.AutoCompactionRetention = "periodic", "1h"
	case r > 0:
		cfg.AutoCompactionMode, cfg.AutoCompactionRetention = "periodic", r.String()
	}
	if sc.BcryptCost > 0 {
		cfg.BcryptCost = sc.BcryptCost
	}
	cfg.ClientTLSInfo.CertFile = sc.CertFile
	cfg.ClientTLSInfo.KeyFile = sc.KeyFile
	cfg.ClientTLSInfo.TrustedCAFile = sc.TrustedCAFile
	cfg.ClientTLSInfo.ClientCertAuth = sc.ClientCertAuth
	lg := sc.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	cfg.Logger = "zap"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("coord/etcd/embedded: start server: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("coord/etcd/embedded: start server: %w", err)
	case <-e.Server.StopNotify():
		e.Close()
		return nil, errors.New("coord/etcd/embedded: start server: stopped before it was ready")
	case <-ctx.Done():
		e.Server.HardStop()
		e.Close()
		return nil, ctx.Err()
	}
	return &Server{e: e, tls: tlsOn, client: e.Clients[0].Addr().String()}, nil
}

// Endpoint returns the server's client address, "127.0.0.1:PORT", as a
// clientv3.Config endpoint (with TLS, give the client a TLS config too).
func (s *Server) Endpoint() string { return s.client }

// URL returns the server's client URL, http:// or https://.
func (s *Server) URL() string {
	if s.tls {
		return "https://" + s.client
	}
	return "http://" + s.client
}

// Etcd returns the embedded member, for what the Server does not wrap.
func (s *Server) Etcd() *embed.Etcd { return s.e }

// Done returns a channel closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.e.Server.StopNotify() }

// Close stops the server: it stops serving clients, and blocks until the
// member has shut down.
func (s *Server) Close() error {
	s.e.Close()
	return nil
}
