// Package coord provides synchronization primitives whose every wait can be
// given up through a context.Context: asyncio's toolkit, done right for Go.
package coord
