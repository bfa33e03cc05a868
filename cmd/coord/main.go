// Command coord runs the seed's scenarios in-process, and coord's primitives
// across processes on etcd.
//
// Usage:
//
//	coord demo [race|rlock|event|condition|ratelimit|timeout] [--list] [--seed]
//	coord serve [--data-dir DIR] [--addr 127.0.0.1:2379] [--peer-addr 127.0.0.1:0]
//	coord lock NAME [--read] [--timeout D] [--ttl D] -- CMD ARGS...
//	coord elect NAME [--value V] [--timeout D] [--ttl D] -- CMD ARGS...
//	coord leader NAME [--watch]
//	coord sem NAME --limit N [--timeout D] [--ttl D] -- CMD ARGS...
//	coord event set|clear|wait NAME [--timeout D]
//	coord barrier NAME --parties N [--timeout D] [--ttl D]
//	coord ls [PREFIX] [--json] [--watch]
//	coord ui [--listen 127.0.0.1:8080]
//	coord version
//
// `coord demo` with no scenario runs them all, in order; `--list` lists them.
//
// The cluster commands take the global flags --endpoints (env
// COORD_ENDPOINTS, default 127.0.0.1:2379), --prefix, --cacert, --cert,
// --key and --user (password from env COORD_PASSWORD), before or after the
// command's own arguments (serve takes only --cert, --key and --cacert of
// them). Flags may stand before or after NAME; "--" ends coord's arguments
// and is required before CMD. A duration D is written as 30s, 5m or 1h30m;
// --ttl is at least 1s (default 10s).
//
// lock and sem run CMD with COORD_FENCING_TOKEN in its environment (a number
// that grows with every new holder, for storage that refuses stale writers),
// pass its exit code through, and forward SIGINT, SIGTERM and SIGHUP to it.
// If the hold is lost while CMD runs, CMD's process group gets SIGTERM, then
// SIGKILL within the session's safety margin, and coord exits 4. If coord
// itself is killed, CMD gets SIGKILL (Linux's parent-death signal).
//
// lock takes NAME as a writer, alone; lock --read takes it as one of its
// readers, who hold it together while no writer does. Waiters are served in
// arrival order, so a waiting writer holds back the readers that come after
// it (never those before it), and neither side starves. A reader's token is
// its own; the writers' tokens grow from writer to writer.
//
// elect campaigns in the election NAME with --value (default: this process's
// host:pid, as WHO in ls); candidates lead in arrival order. Once it leads it
// runs CMD exactly as lock does, with the leader's token (growing from leader
// to leader) in COORD_FENCING_TOKEN, and exits 4 if the leadership is lost;
// when CMD exits it resigns, and the next candidate leads at once.
//
// leader prints the value of NAME's leader, or says on stderr that nobody
// leads and exits 3. With --watch it prints a line "VALUE TOKEN WHO" for the
// leader now and one for every change of leader or of its value, in order,
// and "- 0 -" (TOKEN 0) while nobody leads, until interrupted; VALUE is
// quoted, as a Go string, if it is empty or holds a space, so that every
// line has three fields. Stopped by SIGINT, SIGTERM or SIGHUP it exits 0, as
// ls --watch, serve and ui do: a watch waits for nothing, so stopping it is
// its normal end; losing the cluster ends it with exit 1.
//
// sem and barrier exit 2 at once, writing nothing, when their --limit or
// --parties differs from the one the processes already using NAME passed;
// the line on stderr names both numbers.
//
// CMD runs in a process group of its own, so that a lost hold reaches its
// children too. When coord's standard input is its terminal and coord is in
// the terminal's foreground, CMD's group becomes the foreground while it
// runs, so that an interactive CMD (`-- vim notes.txt`, `-- bash -i`) reads
// the terminal and gets its Ctrl-C; coord takes the foreground back when CMD
// exits. Otherwise coord receives the terminal's Ctrl-C and forwards it.
// Either way Ctrl-Z does nothing while CMD runs: coord ignores SIGTSTP,
// SIGTTIN and SIGTTOU (stopped, it would renew no lease, and CMD would run on
// after another process had been granted the hold), and continues a CMD that
// stops at once (stopped, CMD would hold NAME with no shell to resume it).
//
// serve runs a single-node etcd for local use and tests, with its data in
// the user's cache directory (coord/etcd under os.UserCacheDir) unless
// --data-dir says otherwise. It prints its client endpoint as its first line
// on stdout.
//
// ls prints one row per live holder, reader, waiter, leader or candidate,
// event and barrier waiters included, and per set event, or one line saying
// there is none. With --watch it prints the rows again on every change until
// interrupted, and exits 0 then: on a terminal it redraws the screen; to a
// pipe or file it appends each change as a time line and the table, after a
// blank line (with --json, one JSON array per line).
//
// ui serves a live web page of what ls shows, on 127.0.0.1:8080 unless
// --listen says otherwise (an address other than loopback serves, with a
// warning), and prints its URL as its first line on stdout. It only reads
// the cluster, from one watch whatever the number of pages open, and stops
// with exit 0 on SIGINT or SIGTERM.
//
// version prints the module's version from the build information, "(devel)"
// for a build from a checkout, with the Go version and the VCS revision it was
// built from, when known.
//
// Exit codes: 0 success (lock, sem and elect: CMD's code); 1 a cluster error
// or an unreachable cluster; 2 a usage error (also a --limit or --parties
// that differs from the one in use); 3 gave up waiting (--timeout), or
// nobody leads (leader); 4 the hold or the leadership was lost; 128+N
// interrupted by signal N while connecting or waiting (demo: while running).
// The commands that run until stopped (serve, ui, ls --watch, leader
// --watch) exit 0 when a signal stops them. Every failure is one line on stderr.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/coordkit/coord/etcd"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitFailure = 1 // the command failed (a cluster error, a demo that went wrong)
	exitUsage   = 2 // the command line is wrong
)

// The usage line of each command, printed with its --help and its usage
// errors. Each names every flag of the command but the global ones (a test
// holds them to that).
const (
	usageDemo    = "usage: coord demo [race|rlock|event|condition|ratelimit|timeout] [--list] [--seed]"
	usageServe   = "usage: coord serve [--data-dir DIR] [--addr 127.0.0.1:2379] [--peer-addr 127.0.0.1:0] [--cert FILE --key FILE [--cacert FILE]]"
	usageLock    = "usage: coord lock NAME [--read] [--timeout D] [--ttl D] -- CMD ARGS..."
	usageSem     = "usage: coord sem NAME --limit N [--timeout D] [--ttl D] -- CMD ARGS..."
	usageEvent   = "usage: coord event set|clear|wait NAME [--timeout D]"
	usageBarrier = "usage: coord barrier NAME --parties N [--timeout D] [--ttl D]"
	usageLs      = "usage: coord ls [PREFIX] [--json] [--watch]"
	usageUI      = "usage: coord ui [--listen 127.0.0.1:8080]"
	usageVersion = "usage: coord version"
)

// usageLine is usageMain's first line, the usage line a usage error prints.
const usageLine = "usage: coord [global flags] <command> [arguments]"

const usageMain = usageLine + `

commands:
  demo [NAME] [--list] [--seed]              the seed's scenarios, in-process (all without NAME)
  serve [--data-dir DIR] [--addr HOST:PORT]  a local single-node etcd; prints its endpoint
  lock NAME [--timeout D] [--ttl D] -- CMD   run CMD while holding NAME
  lock NAME --read [...] -- CMD              the same, as one of NAME's readers
  elect NAME [--value V] [...] -- CMD        campaign; run CMD while leader, then resign
  leader NAME [--watch]                      print the leader's value (--watch: every change)
  sem NAME --limit N [...] -- CMD            run CMD while holding one of N permits of NAME
  event set|clear|wait NAME [--timeout D]    a flag in the cluster
  barrier NAME --parties N [...]             wait for N processes; prints this one's index
  ls [PREFIX] [--json] [--watch]             live holders, waiters and set events (--watch: on every change)
  ui [--listen 127.0.0.1:8080]               a live web page of what ls shows; prints its URL
  version                                    coord's version, and the Go and revision it was built with

global flags: --endpoints (env COORD_ENDPOINTS, default 127.0.0.1:2379), --prefix,
  --cacert/--cert/--key, --user (password from env COORD_PASSWORD)
durations: 30s, 5m, 1h30m; --ttl at least 1s (default 10s)
exit codes: 0 ok (lock, sem, elect: CMD's), 1 cluster error, 2 usage, 3 timeout
  (leader: nobody leads), 4 hold or leadership lost

Run "coord <command> --help" for a command's flags.`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	// Global flags may also stand before the command.
	g := defaultGlobals()
	gfs := newFlagSet("coord")
	g.registerClient(gfs)
	if err := gfs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, usageMain)
			return exitOK
		}
		fmt.Fprintf(stderr, "coord: %s; %s (run \"coord --help\" for more)\n", flagError(err), usageLine)
		return exitUsage
	}
	gfs.Visit(func(f *flag.Flag) { g.before = append(g.before, f.Name) })
	args = gfs.Args()
	if len(args) == 0 {
		fmt.Fprintf(stderr, "coord: missing command; %s (run \"coord --help\" for more)\n", usageLine)
		return exitUsage
	}
	cmd, args := args[0], args[1:]
	if cmd == "demo" || cmd == "version" || cmd == "help" {
		if len(g.before) > 0 {
			fmt.Fprintf(stderr, "coord: --%s does not apply to %s; %s (run \"coord --help\" for more)\n", g.before[0], cmd, usageLine)
			return exitUsage
		}
	}
	switch cmd {
	case "demo":
		return cmdDemo(args, stdout, stderr)
	case "version":
		return cmdVersion(args, stdout, stderr)
	case "help":
		fmt.Fprintln(stdout, usageMain)
		return exitOK
	}
	clusterCmd, ok := map[string]func(globalFlags, []string, io.Writer, io.Writer) int{
		"serve": cmdServe, "lock": cmdLock, "sem": cmdSem, "event": cmdEvent, "barrier": cmdBarrier, "ls": cmdLs, "ui": cmdUI,
		"elect": cmdElect, "leader": cmdLeader,
	}[cmd]
	if !ok {
		fmt.Fprintf(stderr, "coord: unknown command %q; %s (run \"coord --help\" for more)\n", cmd, usageLine)
		return exitUsage
	}
	// The gRPC library logs through a global logger; coord's only output
	// on failure is its own one line.
	etcd.DiscardGRPCLogs()
	return clusterCmd(g, args, stdout, stderr)
}
