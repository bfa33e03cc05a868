package coord

// noCopy may be embedded into structs which must not be copied after first
// use: go vet's copylocks check reports copies of any struct that has Lock
// and Unlock methods, as sync.Mutex and sync.WaitGroup are protected.
//
// coord's primitives hold a sync.Mutex already, which vet sees; noCopy makes
// the intent explicit and keeps the check if that field ever changes.
type noCopy struct{}

// Lock is a no-op used by go vet's copylocks checker.
func (*noCopy) Lock() {}

// Unlock is a no-op used by go vet's copylocks checker.
func (*noCopy) Unlock() {}
