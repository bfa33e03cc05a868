package coord

// ReentrantMutex is implemented in its own change; this placeholder lets
// ownership.go compile.
type ReentrantMutex struct{}
