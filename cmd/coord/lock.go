package main

import (
	"fmt"
	"io"

	"github.com/coordkit/coord/etcd"
)

// cmdLock runs `coord lock NAME [--read] -- CMD`: CMD runs while NAME is
// held, by a writer (alone) or, with --read, by one of its readers (with the
// other readers). NAME is one lock either way: a writer is an etcd Mutex of
// NAME, which is a writer of the RWMutex NAME whose readers --read takes.
func cmdLock(g globalFlags, args []string, stdout, stderr io.Writer) int {
	c := newCommand("lock", usageLock, g, stderr)
	read := c.fs.Bool("read", false, "hold NAME as one of its readers, who hold it together; a writer (without --read) holds it alone")
	c.waitFlags(true)
	if code, ok := c.parse(args, stdout); !ok {
		return code
	}
	return c.holdAndRun(func(s *etcd.Session, name string) holding {
		if *read {
			m := etcd.NewRWMutex(s, name)
			return holding{what: fmt.Sprintf("lock %q as a reader", name), hold: m, acquire: m.RLock, release: m.Release}
		}
		m := etcd.NewMutex(s, name)
		return holding{what: fmt.Sprintf("lock %q", name), hold: m, acquire: m.Lock, release: m.Release}
	})
}
