package coord_test

import (
	"sync"
	"testing"

	"github.com/coordkit/coord"
	"github.com/coordkit/coord/coordtest"
)

// The read-write lock suite of package coordtest, run against RWMutex; the
// etcd module runs the same suite against its RWMutex. Handles of one name
// in one test share one RWMutex.
func TestConformanceRWMutex(t *testing.T) {
	var mu sync.Mutex
	locks := map[string]*coord.RWMutex{}
	coordtest.TestRWLocker(t, func(t *testing.T, name string) coordtest.RWLocker {
		mu.Lock()
		defer mu.Unlock()
		k := t.Name() + "\x00" + name
		if locks[k] == nil {
			locks[k] = new(coord.RWMutex)
		}
		return locks[k]
	})
}
