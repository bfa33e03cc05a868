package etcd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/grpclog"
)

// ClientConfig is what NewClient needs to reach a cluster: the settings of
// coord's command line (--endpoints, --cacert, --cert, --key, --user).
type ClientConfig struct {
	// Endpoints are the members' client addresses, "host:port" or URLs;
	// default "127.0.0.1:2379".
	Endpoints []string
	// CACert is a PEM file of the CA that signed the servers' certificates;
	// setting it (or Cert) makes the client use TLS.
	CACert string
	// Cert and Key are a PEM client certificate and its key, for
	// servers that require client certificates.
	Cert, Key string
	// Username and Password authenticate the client when set.
	Username, Password string
	// DialTimeout bounds the first connection; default 5s.
	DialTimeout time.Duration
}

// NewClient returns a client of the cluster described by cfg that logs
// nothing (the gRPC library's own logger is global; see DiscardGRPCLogs).
// The caller closes it.
func NewClient(cfg ClientConfig) (*clientv3.Client, error) {
	cc := clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: cfg.DialTimeout,
		Username:    cfg.Username,
		Password:    cfg.Password,
		Logger:      zap.NewNop(),
	}
	if len(cc.Endpoints) == 0 {
		cc.Endpoints = []string{"127.0.0.1:2379"}
	}
	if cc.DialTimeout == 0 {
		cc.DialTimeout = 5 * time.Second
	}
	if cfg.CACert != "" || cfg.Cert != "" || cfg.Key != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CACert != "" {
			pem, err := os.ReadFile(cfg.CACert)
			if err != nil {
				return nil, fmt.Errorf("coord/etcd: CA certificate: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("coord/etcd: CA certificate: no certificate in %s", cfg.CACert)
			}
			tc.RootCAs = pool
		}
		if cfg.Cert != "" || cfg.Key != "" {
			if cfg.Cert == "" || cfg.Key == "" {
				return nil, errors.New("coord/etcd: a client certificate needs both a certificate and a key file")
			}
			kp, err := tls.LoadX509KeyPair(cfg.Cert, cfg.Key)
			if err != nil {
				return nil, fmt.Errorf("coord/etcd: client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{kp}
		}
		cc.TLS = tc
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("coord/etcd: connect to %v: %w", cc.Endpoints, err)
	}
	return cli, nil
}

// DiscardGRPCLogs makes the gRPC library, which both the client and the
// server use, discard its logs instead of printing errors to stderr. Its
// logger is global to the process: call DiscardGRPCLogs once, early (from
// main or TestMain), before any client or server starts.
func DiscardGRPCLogs() {
	grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard))
}
