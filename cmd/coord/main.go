// Command coord runs the seed's scenarios in-process and coord's primitives
// across processes on etcd.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "coord: not yet implemented")
	os.Exit(2)
}
