package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coordkit/coord/etcd"
	"github.com/coordkit/coord/internal/page"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/connectivity"
)

// cmdUI runs `coord ui`: the live page of coord.Handler, over the names of
// the cluster instead of a process's primitives, served until SIGINT or
// SIGTERM. It prints the page's URL as its first line on stdout.
//
// The page polls its server twice a second; the server answers from rows
// kept by one watch of the cluster, so that the cluster sees one watch
// however many pages are open, and the page shows a change within a second.
// It only reads the cluster.
func cmdUI(g globalFlags, args []string, stdout, stderr io.Writer) int {
	c := newCommand("ui", usageUI, g, stderr)
	listen := c.fs.String("listen", "127.0.0.1:8080",
		"serve the page on this `address` (port 0: a free port); any other than loopback shows the cluster's names and hosts to whoever reaches it")
	if code, ok := c.parse(args, stdout); !ok {
		return code
	}
	if len(c.pos) > 0 {
		return c.usageError("unexpected argument %q", c.pos[0])
	}
	if c.rest != nil {
		return c.usageError("unexpected \"--\"")
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return c.usageError("--listen %q: %v", *listen, err)
	}

	cli, err := c.g.client()
	if err != nil {
		return c.cluster("connect", err)
	}
	defer cli.Close()
	sigs, stop := signals()
	defer stop()
	rows, code, ok := c.firstRows(cli, sigs)
	if !ok {
		return code
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "%s: cannot serve on %s: %v; choose another address with --listen (port 0 picks a free one)\n", c.cmd, *listen, err)
		return exitFailure
	}
	if !isLoopback(host) {
		fmt.Fprintf(stderr, "%s: warning: serving on %s, not a loopback address: whoever reaches it sees every name, holder and host under %s\n",
			c.cmd, ln.Addr(), listPrefix(c.g.prefix))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v := newClusterView(cli, c.g.endpoints, rows)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		v.follow(etcd.WatchList(ctx, cli, c.g.prefix))
	}()
	defer func() { cancel(); <-followed }()

	mux := http.NewServeMux()
	mux.Handle("/{$}", clusterPage(c.g, v))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintln(stdout, pageURL(ln.Addr().(*net.TCPAddr)))

	select {
	case <-sigs:
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		return exitOK
	case err := <-served:
		fmt.Fprintf(stderr, "%s: serving on %s stopped: %v\n", c.cmd, ln.Addr(), err)
		return exitFailure
	}
}

// pageURL is the URL that `coord ui` prints for the address it serves on:
// for a wildcard address (":8080", "0.0.0.0:8080"), the host's name, which
// others can open, rather than an address a browser cannot.
func pageURL(a *net.TCPAddr) string {
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(a.Port)) + "/"
}

// clusterPage is the page of `coord ui` over v.
func clusterPage(g globalFlags, v *clusterView) *page.Page {
	ns := listPrefix(g.prefix)
	return &page.Page{
		Title:  "coord: etcd at " + g.endpoints,
		Source: "every name under " + ns + " that someone holds, waits on or has set, as coord ls shows it",
		Empty:  "No holders, waiters or set events under " + ns + ".",
		Rows: func(context.Context) ([]page.Row, error) {
			rows, granted, err := v.current()
			return pageRows(rows, granted, time.Now()), err
		},
		JSON: func(context.Context) (any, error) {
			rows, _, err := v.current()
			if err != nil {
				return nil, err
			}
			return rows, nil
		},
	}
}

// A clusterView keeps the latest rows of the cluster, as the watch sent
// them, for the page's requests.
type clusterView struct {
	cli       *clientv3.Client
	endpoints string

	mu   sync.Mutex
	rows []etcd.Entry // never nil: no rows is an empty slice
	// granted holds when this view saw a waiter's key become a holder's.
	// A row's Since is when its key was written, which for a holder that
	// waited is when it began to wait: the page's "held for" counts from
	// here instead.
	granted map[string]time.Time
}

func newClusterView(cli *clientv3.Client, endpoints string, rows []etcd.Entry) *clusterView {
	if rows == nil {
		rows = []etcd.Entry{}
	}
	return &clusterView{cli: cli, endpoints: endpoints, rows: rows, granted: make(map[string]time.Time)}
}

// follow keeps the rows sent on ch until it is closed.
func (v *clusterView) follow(ch <-chan []etcd.Entry) {
	for rows := range ch {
		if rows == nil {
			rows = []etcd.Entry{}
		}
		now := time.Now()
		v.mu.Lock()
		waiting := make(map[string]bool)
		for _, e := range v.rows {
			waiting[e.Key] = e.State == "waiter" || e.State == "candidate"
		}
		granted := make(map[string]time.Time)
		for _, e := range rows {
			if t, ok := v.granted[e.Key]; ok {
				granted[e.Key] = t
			} else if waiting[e.Key] && e.State != "waiter" && e.State != "candidate" {
				granted[e.Key] = now
			}
		}
		v.rows, v.granted = rows, granted
		v.mu.Unlock()
	}
}

// current returns the latest rows with the times their holders were
// granted, where seen, and an error that says so when the rows may be
// stale: the watch sends nothing while the cluster cannot be reached, so
// the client's connection tells whether the rows still follow the cluster.
func (v *clusterView) current() ([]etcd.Entry, map[string]time.Time, error) {
	v.mu.Lock()
	rows, granted := v.rows, v.granted
	v.mu.Unlock()
	if st := v.cli.ActiveConnection().GetState(); st != connectivity.Ready {
		return rows, granted, fmt.Errorf("not connected to etcd at %s (%s); showing the last rows read", v.endpoints, st)
	}
	return rows, granted, nil
}

// pageRows turns the rows of `coord ls` into the page's rows: one per name
// and kind, with its holders and its queue (oldest first), and ages as of
// now (a holder's from granted[key], when known). A lock's writers and an RWMutex's readers of one name are one line
// (kinds "lock" and "rlock"), so they make one row.
func pageRows(entries []etcd.Entry, granted map[string]time.Time, now time.Time) []page.Row {
	type key struct{ name, kind string }
	at := make(map[key]int)
	out := []page.Row{}
	for _, e := range entries {
		kind := e.Kind
		if kind == "rlock" {
			kind = "lock"
		}
		k := key{e.Name, kind}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, page.Row{Name: e.Name, Kind: kind})
		}
		r := &out[i]
		p := page.Party{Role: e.State, Who: e.Who, Token: e.Token, Age: age(e.Since, now)}
		switch e.State {
		case "set":
			// Nobody holds an event: who set it, and when, is what there
			// is to know. Its key's revision is no fencing token.
			r.State = "set"
			p.Role, p.Token = "set by", 0
			r.Holding = append(r.Holding, p)
		case "waiter", "candidate":
			r.Queue = append(r.Queue, p)
			r.Waiters++
			r.OldestWait = max(r.OldestWait, p.Age)
		default: // "holder", "reader", "leader"
			if t, ok := granted[e.Key]; ok {
				p.Age = age(t, now)
			}
			r.Holding = append(r.Holding, p)
			r.Holders++
		}
	}
	slices.SortStableFunc(out, func(a, b page.Row) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

// age is how long ago since was, as of now; 0 for an unknown time, or for
// one ahead of this host's clock (since is the writer's clock).
func age(since, now time.Time) time.Duration {
	if since.IsZero() {
		return 0
	}
	return max(now.Sub(since), 0)
}
