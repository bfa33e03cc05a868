package main

import (
	"fmt"
	"io"

	"github.com/coordkit/coord/etcd"
)

// cmdLock runs `coord lock NAME -- CMD`: CMD runs while NAME is held.
func cmdLock(g globalFlags, args []string, stdout, stderr io.Writer) int {
	c := newCommand("lock", usageLock, g, stderr)
	c.waitFlags(true)
	if code, ok := c.parse(args, stdout); !ok {
		return code
	}
	return c.holdAndRun(func(s *etcd.Session, name string) holding {
		m := etcd.NewMutex(s, name)
		return holding{what: fmt.Sprintf("lock %q", name), hold: m, acquire: m.Lock, release: m.Release}
	})
}
