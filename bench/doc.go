// Package bench measures coord against the primitives a Go user would pick instead.
package bench
