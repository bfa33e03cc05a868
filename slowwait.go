package coord

import (
	"log/slog"
	"time"

	"github.com/coordkit/coord/internal/inspect"
)

// SetSlowWait turns on reports of slow waits: a wait that has blocked longer
// than d logs one record at slog.LevelWarn on l while it still waits, with
// the primitive's name and kind, how long it has waited, and where the wait
// was called from; for a Mutex, ReentrantMutex or RWMutex also where the
// current holder took it (known when slow-wait reports were on as it took
// it). Each wait is reported at most once, and nothing else is logged.
//
// d <= 0 turns reports off (the default) and leaves no goroutine running; a
// nil l means slog.Default(). The setting is process-wide; the last call
// wins. Waits already blocked when reports are turned on are not reported.
//
// SetSlowWait with d > 0 is a look (see Stats): from then on every wait
// that blocks is timed, even after reports are turned off again.
//
// While reports are on, every wait that blocks records its call stack and
// arms a timer, and every acquisition of a lock records its caller: a cost
// meant for finding a stuck wait, not for always.
func SetSlowWait(d time.Duration, l *slog.Logger) {
	inspect.SetSlowWait(d, l)
}
