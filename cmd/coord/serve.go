package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/coordkit/coord/etcd/embedded"
)

// defaultDataDir is where `coord serve` keeps its data unless told: the
// user's cache directory, since a local coordination server's state is
// worth keeping across restarts but not worth backing up.
func defaultDataDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "coord", "etcd")
}

// isLoopback reports whether host names the loopback interface only.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// cmdServe runs `coord serve`: a single-node etcd for local use and tests.
func cmdServe(g globalFlags, args []string, stdout, stderr io.Writer) int {
	c := newCommand("serve", usageServe, g, stderr)
	// Its TLS flags are its own, named on its usage line.
	c.globals, c.shared = c.g.registerServer, nil
	dataDir := c.fs.String("data-dir", defaultDataDir(), "where the server keeps its data")
	addr := c.fs.String("addr", "127.0.0.1:2379", "client address (port 0: a free port); non-loopback only with --cert and --key")
	peerAddr := c.fs.String("peer-addr", "127.0.0.1:0", "peer address (port 0: a free port); loopback only")
	if code, ok := c.parse(args, stdout); !ok {
		return code
	}
	if len(c.pos) > 0 || c.rest != nil {
		return c.usageError("unexpected arguments")
	}
	g = c.g
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return c.usageError("--addr %q: %v", *addr, err)
	}
	tlsOn := g.cert != "" && g.key != ""
	if (g.cert != "") != (g.key != "") {
		return c.usageError("--cert and --key go together")
	}
	if !isLoopback(host) && !tlsOn {
		return c.usageError("refusing to serve on non-loopback address %q without TLS: give --cert and --key, or listen on 127.0.0.1", *addr)
	}
	phost, _, err := net.SplitHostPort(*peerAddr)
	if err != nil {
		return c.usageError("--peer-addr %q: %v", *peerAddr, err)
	}
	if !isLoopback(phost) {
		return c.usageError("refusing non-loopback --peer-addr %q: peer traffic is not encrypted, and a single node needs no peers", *peerAddr)
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		fmt.Fprintf(stderr, "coord serve: data directory: %v; choose another with --data-dir\n", err)
		return exitFailure
	}

	// etcd waits without end for a data directory another server has open;
	// say so at once instead.
	lock, err := lockDataDir(*dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "coord serve: %v; stop the other server or choose another --data-dir\n", err)
		return exitFailure
	}
	defer lock.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A second signal ends coord at once, should stopping hang.
	context.AfterFunc(ctx, stop)
	srv, err := embedded.Start(ctx, embedded.Config{
		DataDir:        *dataDir,
		ClientAddr:     *addr,
		PeerAddr:       *peerAddr,
		CertFile:       g.cert,
		KeyFile:        g.key,
		TrustedCAFile:  g.cacert,
		ClientCertAuth: tlsOn && g.cacert != "",
	})
	if err != nil {
		if ctx.Err() != nil {
			return exitOK // stopped while starting
		}
		fmt.Fprintf(stderr, "coord serve: %v; is another server using %s or the data directory %s?\n", err, *addr, *dataDir)
		return exitFailure
	}
	fmt.Fprintln(stdout, srv.Endpoint())
	select {
	case <-ctx.Done():
		srv.Close()
		return exitOK
	case <-srv.Done():
		srv.Close()
		fmt.Fprintf(stderr, "coord serve: the server stopped on its own; check its data directory %s and restart\n", *dataDir)
		return exitFailure
	}
}
