//go:build race

package waitq

// raceEnabled is whether the race detector is on: see List.grants.
const raceEnabled = true
