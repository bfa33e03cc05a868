package coord

import (
	"sync"
	"unsafe"

	"github.com/coordkit/coord/internal/inspect"
	"github.com/coordkit/coord/internal/waitq"
)

// parkInLane parks a wait that cannot be cancelled (its ctx's Done is nil)
// in l's lane (see waitq.List.Park), asking for n and releasing mu, then
// also (which may be nil), as it parks, and records it for Stats: counted
// by the lane while nobody looks (start is inspect.NoStart, see
// inspect.Start), timed in rec as owner's wait of kind k otherwise. The
// caller holds mu; parkInLane returns granted, without mu and also.
func parkInLane(l *waitq.List[struct{}], mu *sync.Mutex, also waitq.Unlocker, n int64,
	rec *inspect.Recorder, owner unsafe.Pointer, k *inspect.Kind, start int64) {
	if start == inspect.NoStart {
		l.Park(mu, also, n, true)
		if inspect.Looking() {
			rec.AddUnseen(1) // someone looked while it waited
		}
		return
	}
	w := rec.BeginAt(owner, k, start)
	l.Park(mu, also, n, false)
	rec.End(w, false)
}

// laneTally returns what l's lane counted for Stats (see parkInLane), read
// under mu, the lock of l's owner.
func laneTally(l *waitq.List[struct{}], mu *sync.Mutex) inspect.Tally {
	mu.Lock()
	begun, ended := l.Counted()
	mu.Unlock()
	return inspect.Tally{Begun: begun, Ended: ended}
}
