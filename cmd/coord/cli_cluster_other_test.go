//go:build !unix

package main

// The cluster commands' black-box tests drive processes with Unix signals
// and sh; elsewhere no shared server is started.
func stopSharedServer() error { return nil }
