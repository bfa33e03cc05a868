package main

import (
	"fmt"
	"io"

	"github.com/coordkit/coord/etcd"
)

// cmdSem runs `coord sem NAME --limit N -- CMD`: CMD runs while holding one
// of NAME's N permits.
func cmdSem(g globalFlags, args []string, stdout, stderr io.Writer) int {
	c := newCommand("sem", usageSem, g, stderr)
	c.waitFlags(true)
	limit := c.count("limit", "how many may hold NAME at once")
	if code, ok := c.parse(args, stdout); !ok {
		return code
	}
	return c.holdAndRun(func(s *etcd.Session, name string) holding {
		m := etcd.NewSemaphore(s, name, *limit)
		return holding{what: fmt.Sprintf("semaphore %q", name), hold: m, acquire: m.Acquire, release: m.Release}
	})
}
