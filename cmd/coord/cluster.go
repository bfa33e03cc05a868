package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/coordkit/coord/etcd"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Exit codes of the cluster commands, beyond exitOK, exitFailure (a cluster
// error or an unreachable cluster) and exitUsage.
const (
	exitTimeout = 3 // gave up waiting (--timeout)
	exitLost    = 4 // the hold was lost while CMD ran
)

// connectTimeout bounds reaching the cluster (dialing, authenticating and
// granting the session's lease), so that an unreachable endpoint fails fast
// whatever --timeout says.
const connectTimeout = 3 * time.Second

// opTimeout bounds a single call that does not wait on other processes
// (event set and clear, release, ls).
const opTimeout = 5 * time.Second

// globalFlags are the flags every cluster command takes.
type globalFlags struct {
	endpoints string
	prefix    string
	cacert    string
	cert      string
	key       string
	user      string
	before    []string // the global flags given before the command
}

func defaultGlobals() globalFlags {
	ep := os.Getenv("COORD_ENDPOINTS")
	if ep == "" {
		ep = "127.0.0.1:2379"
	}
	return globalFlags{endpoints: ep, prefix: "/coord/"}
}

// clientFlags are the global flags of the commands that reach the cluster.
var clientFlags = []string{"endpoints", "prefix", "cacert", "cert", "key", "user"}

// registerClient adds the global flags of a command that reaches the
// cluster to fs, with g's current values (which may come from flags given
// before the command) as defaults.
func (g *globalFlags) registerClient(fs *flag.FlagSet) {
	fs.StringVar(&g.endpoints, "endpoints", g.endpoints, "comma-separated etcd endpoints (env COORD_ENDPOINTS)")
	fs.StringVar(&g.prefix, "prefix", g.prefix, "key namespace shared by the processes that coordinate")
	fs.StringVar(&g.cacert, "cacert", g.cacert, "verify the server's certificate with this CA bundle")
	fs.StringVar(&g.cert, "cert", g.cert, "client certificate, for a cluster that asks for one")
	fs.StringVar(&g.key, "key", g.key, "key of --cert")
	fs.StringVar(&g.user, "user", g.user, "etcd user name (password from env COORD_PASSWORD)")
}

// registerServer adds the global flags that `coord serve` takes, its TLS
// files, to fs.
func (g *globalFlags) registerServer(fs *flag.FlagSet) {
	fs.StringVar(&g.cert, "cert", g.cert, "the server's certificate: serve TLS (with --key)")
	fs.StringVar(&g.key, "key", g.key, "key of --cert")
	fs.StringVar(&g.cacert, "cacert", g.cacert, "with --cert: require client certificates signed by this CA bundle")
}

// checkBefore returns an error naming a global flag given before the
// command that the command, whose flags fs holds, does not take: ignoring
// it would hide a mistake (`coord --endpoints H serve` does not serve on H).
func (g *globalFlags) checkBefore(fs *flag.FlagSet) error {
	for _, name := range g.before {
		if fs.Lookup(name) == nil {
			return fmt.Errorf("--%s does not apply to %s", name, fs.Name())
		}
	}
	return nil
}

func (g *globalFlags) endpointList() []string {
	var eps []string
	for _, e := range strings.Split(g.endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			eps = append(eps, e)
		}
	}
	return eps
}

// errNoEndpoints is client's error for an --endpoints with no address in it.
var errNoEndpoints = errors.New("no endpoints given")

// client returns a client of the cluster that logs nothing.
func (g *globalFlags) client() (*clientv3.Client, error) {
	eps := g.endpointList()
	if len(eps) == 0 {
		return nil, errNoEndpoints
	}
	return etcd.NewClient(etcd.ClientConfig{
		Endpoints:   eps,
		CACert:      g.cacert,
		Cert:        g.cert,
		Key:         g.key,
		Username:    g.user,
		Password:    os.Getenv("COORD_PASSWORD"),
		DialTimeout: connectTimeout,
	})
}

// conn is a connection to the cluster: a client and one session.
type conn struct {
	cli  *clientv3.Client
	sess *etcd.Session
}

// connect reaches the cluster and opens a session with the given TTL (0:
// the default), within connectTimeout.
func (g *globalFlags) connect(ctx context.Context, ttl time.Duration) (*conn, error) {
	cli, err := g.client()
	if err != nil {
		return nil, err
	}
	opts := []etcd.Option{etcd.WithPrefix(g.prefix)}
	if ttl > 0 {
		opts = append(opts, etcd.WithTTL(ttl))
	}
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	sess, err := etcd.NewSession(cctx, cli, opts...)
	if err != nil {
		cli.Close()
		return nil, err
	}
	return &conn{cli: cli, sess: sess}, nil
}

// connectOrInterrupt is connect, ended early by SIGINT or SIGTERM on sigs:
// a Ctrl-C while the cluster is slow to answer must not wait out
// connectTimeout, and counts as an interrupted wait (128 plus the signal).
// It prints the failure and returns its exit code, or the connection and
// ok = true.
func (g *globalFlags) connectOrInterrupt(sigs <-chan os.Signal, ttl time.Duration, f failer) (c *conn, code int, ok bool) {
	r := waitInterruptible(sigs, 0, func(ctx context.Context) error {
		var err error
		c, err = g.connect(ctx, ttl)
		return err
	})
	switch {
	case r.sig != nil:
		if c != nil {
			c.close()
		}
		fmt.Fprintf(f.stderr, "%s: interrupted (%v) while connecting to etcd at %s; left nothing behind\n", f.cmd, r.sig, g.endpoints)
		return nil, signalExit(r.sig), false
	case r.err != nil:
		return nil, f.cluster("connect", r.err), false
	}
	return c, 0, true
}

// close ends the session (releasing whatever it still holds) and the client;
// both are bounded, also with the cluster unreachable.
func (c *conn) close() {
	c.sess.Close()
	c.cli.Close()
}

// failer prints the one line a failed cluster command writes on stderr, and
// returns its exit code.
type failer struct {
	cmd    string // "coord lock"
	stderr io.Writer
	g      *globalFlags
}

func (f failer) usage(usage, format string, args ...any) int {
	fmt.Fprintf(f.stderr, "%s: %s; %s\n", f.cmd, fmt.Sprintf(format, args...), usage)
	return exitUsage
}

// cluster reports an error that came from reaching or using the cluster.
func (f failer) cluster(what string, err error) int {
	switch {
	case errors.Is(err, errNoEndpoints):
		fmt.Fprintf(f.stderr, "%s: %s: %v; set --endpoints or COORD_ENDPOINTS to HOST:PORT[,HOST:PORT...]\n", f.cmd, what, err)
	case errors.Is(err, etcd.ErrSessionDone):
		fmt.Fprintf(f.stderr, "%s: %s: lost the session with etcd at %s (%v); check that the cluster is up and reachable\n",
			f.cmd, what, f.g.endpoints, err)
	case errors.Is(err, rpctypes.ErrAuthFailed) || errors.Is(err, rpctypes.ErrUserEmpty) ||
		errors.Is(err, rpctypes.ErrPermissionDenied) || errors.Is(err, rpctypes.ErrInvalidAuthToken):
		fmt.Fprintf(f.stderr, "%s: %s: %v; check --user and the password in COORD_PASSWORD\n", f.cmd, what, err)
	case errors.Is(err, context.DeadlineExceeded) || isUnavailable(err):
		hint := "start one with `coord serve` or point --endpoints (env COORD_ENDPOINTS) at a running cluster"
		if f.g.cacert == "" {
			hint += ", with --cacert if it serves TLS"
		} else {
			// A failed TLS handshake looks the same from here: gRPC
			// keeps retrying and reports only the deadline.
			hint += ", and check that --cacert is the CA that signed its certificate (or that it serves TLS at all)"
		}
		fmt.Fprintf(f.stderr, "%s: %s: cannot reach etcd at %s (%v); %s\n", f.cmd, what, f.g.endpoints, err, hint)
	default:
		fmt.Fprintf(f.stderr, "%s: %s: %v; check the cluster at %s and the flags --endpoints, --user, --cacert/--cert/--key\n",
			f.cmd, what, err, f.g.endpoints)
	}
	return exitFailure
}

// isUnavailable reports whether err says the cluster could not be reached.
func isUnavailable(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Unavailable") || strings.Contains(s, "connection refused") ||
		strings.Contains(s, "no such host") || strings.Contains(s, "context deadline exceeded")
}
