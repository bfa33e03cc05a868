package coord

// noCopy may be embedded in structs that must not be copied after first use;
// go vet's copylocks check reports copies of any struct holding one.
// See https://golang.org/issues/8005#issuecomment-190753527.
type noCopy struct{}

// Lock is a no-op used by go vet's copylocks check.
func (*noCopy) Lock() {}

// Unlock is a no-op used by go vet's copylocks check.
func (*noCopy) Unlock() {}
