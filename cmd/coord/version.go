package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// cmdVersion runs `coord version`.
func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version")
	pos, rest, err := parseArgs(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		writeHelp(stdout, usageVersion, fs, nil)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "coord version: %s; %s\n", flagError(err), usageVersion)
		return exitUsage
	case len(pos) > 0 || rest != nil:
		fmt.Fprintf(stderr, "coord version: unexpected arguments; %s\n", usageVersion)
		return exitUsage
	}
	bi, ok := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(bi, ok))
	return exitOK
}

// versionLine says which coord this is: the main module's version ("(devel)"
// when built from a checkout without a tag), the Go release that built it,
// and the revision of the repository it was built from, when the build
// recorded one ("modified" when the work tree had uncommitted changes).
func versionLine(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return "coord (unknown version: the binary carries no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	parts := []string{"coord " + v, bi.GoVersion}
	var rev string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		r := "revision " + rev
		if modified {
			r += " (modified)"
		}
		parts = append(parts, r)
	}
	return strings.Join(parts, ", ")
}
