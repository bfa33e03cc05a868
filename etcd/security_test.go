package etcd_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coordkit/coord/etcd"
	"github.com/coordkit/coord/etcd/embedded"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// certPair is a certificate and its key, in PEM files and parsed.
type certPair struct {
	certFile, keyFile string
	cert              *x509.Certificate
	key               *ecdsa.PrivateKey
}

// issue makes a certificate for cn signed by ca (self-signed when ca is
// nil), valid for 127.0.0.1, and writes it to dir.
func issue(t *testing.T, dir, cn string, ca *certPair, isCA bool) *certPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := &certPair{certFile: filepath.Join(dir, cn+".crt"), keyFile: filepath.Join(dir, cn+".key"), cert: cert, key: key}
	if err := os.WriteFile(p.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func startServer(t *testing.T, cfg embedded.Config) *embedded.Server {
	t.Helper()
	cfg.DataDir = t.TempDir()
	cfg.ClientAddr = "127.0.0.1:0"
	cfg.UnsafeNoFsync = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := embedded.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func TestTLSClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca := issue(t, dir, "ca", nil, true)
	server := issue(t, dir, "server", ca, false)
	client := issue(t, dir, "client", ca, false)
	srv := startServer(t, embedded.Config{
		CertFile: server.certFile, KeyFile: server.keyFile,
		TrustedCAFile: ca.certFile, ClientCertAuth: true,
	})
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Fatalf("URL %q of a TLS server", srv.URL())
	}
	cli, err := etcd.NewClient(etcd.ClientConfig{
		Endpoints: []string{srv.Endpoint()},
		CACert:    ca.certFile, Cert: client.certFile, Key: client.keyFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	m := etcd.NewMutex(newSession(t, cli, "/tls/"), "jobs")
	if err := m.Lock(bg(t)); err != nil {
		t.Fatal(err)
	}
	entries, err := etcd.List(bg(t), cli, "/tls/")
	if err != nil || len(entries) != 1 || entries[0].State != "holder" {
		t.Fatalf("List over TLS = %+v, %v", entries, err)
	}
	m.Unlock()

	// Without a client certificate the server refuses the connection.
	nocert, err := etcd.NewClient(etcd.ClientConfig{Endpoints: []string{srv.Endpoint()}, CACert: ca.certFile})
	if err != nil {
		t.Fatal(err)
	}
	defer nocert.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := etcd.NewSession(ctx, nocert); err == nil {
		t.Fatal("session without a client certificate")
	}
}

func TestAuthUserPassword(t *testing.T) {
	srv := startServer(t, embedded.Config{BcryptCost: 4})
	root := newClient(t, srv.Endpoint())
	ctx := bg(t)
	steps := []func() error{
		func() error { _, err := root.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := root.RoleAdd(ctx, "coord"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "coord", "/coord/", clientv3.GetPrefixRangeEnd("/coord/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := root.UserAdd(ctx, "alice", "alicepw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "alice", "coord"); return err },
		func() error { _, err := root.UserAdd(ctx, "bob", "bobpw"); return err },
		func() error { _, err := root.AuthEnable(ctx); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	user := func(name, pw string) *clientv3.Client {
		cli, err := etcd.NewClient(etcd.ClientConfig{
			Endpoints: []string{srv.Endpoint()}, Username: name, Password: pw,
			DialTimeout: 20 * time.Second, // authenticates while dialing: slow under -race and load
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cli.Close() })
		return cli
	}
	alice := user("alice", "alicepw")
	a := etcd.NewMutex(newSession(t, alice, "/coord/"), "jobs")
	if err := a.Lock(ctx); err != nil {
		t.Fatalf("Lock as a user with access: %v", err)
	}
	a.Unlock()

	bob := user("bob", "bobpw")
	b := etcd.NewMutex(newSession(t, bob, "/coord/"), "jobs")
	err := b.Lock(ctx)
	if !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Fatalf("Lock as a user without access = %v, want ErrPermissionDenied", err)
	}
	if !strings.HasPrefix(err.Error(), `coord/etcd: lock "jobs": `) {
		t.Fatalf("error %q does not name the operation and the lock", err)
	}
	if _, err := etcd.List(ctx, bob, "/coord/"); !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Fatalf("List as a user without access = %v", err)
	}
}
