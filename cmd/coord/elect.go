package main

import (
	"context"
	"fmt"
	"io"

	"github.com/coordkit/coord/etcd"
)

// usageElect is elect's usage line, as main.go's usage block has the others.
const usageElect = "usage: coord elect NAME [--value V] [--timeout D] [--ttl D] -- CMD ARGS..."

// cmdElect runs `coord elect NAME [--value V] -- CMD`: it campaigns in the
// election NAME, runs CMD once it leads, exactly as lock runs CMD while it
// holds (the leader's token in COORD_FENCING_TOKEN, signals forwarded, CMD's
// group killed and exit 4 when the leadership is lost), and resigns when CMD
// exits, handing the leadership to the next candidate at once.
func cmdElect(g globalFlags, args []string, stdout, stderr io.Writer) int {
	c := newCommand("elect", usageElect, g, stderr)
	value := c.fs.String("value", "", "the `value` to lead with, which coord leader prints (default: this process's host:pid, as WHO in ls)")
	c.waitFlags(true)
	if code, ok := c.parse(args, stdout); !ok {
		return code
	}
	return c.holdAndRun(func(s *etcd.Session, name string) holding {
		e := etcd.NewElection(s, name)
		v := *value
		if !flagSet(c.fs, "value") {
			v = s.Who()
		}
		return holding{
			what:    fmt.Sprintf("leadership of election %q", name),
			held:    fmt.Sprintf("the leadership of election %q", name),
			hold:    e,
			acquire: func(ctx context.Context) error { return e.Campaign(ctx, v) },
			release: e.Resign,
		}
	})
}
