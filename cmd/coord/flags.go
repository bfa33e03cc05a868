package main

import (
	"errors"
	"flag"
	"io"
	"strconv"
	"strings"
	"time"
)

// newFlagSet returns a FlagSet that reports errors to its caller instead of
// printing them, so that every failure is one line on stderr.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses args with fs, allowing flags before and after positional
// arguments (the standard flag package stops at the first positional one).
// It returns the positional arguments and, when args contain "--", the
// arguments after it (non-nil, possibly empty); flags are not parsed after "--".
func parseArgs(fs *flag.FlagSet, args []string) (pos, rest []string, err error) {
	for {
		if err := fs.Parse(args); err != nil {
			return pos, nil, err
		}
		left := fs.Args()
		if consumed := len(args) - len(left); consumed > 0 && args[consumed-1] == "--" {
			return pos, append([]string{}, left...), nil
		}
		if len(left) == 0 {
			return pos, nil, nil
		}
		pos = append(pos, left[0])
		args = left[1:]
	}
}

// printFlags prints the flags of fs for which keep is true, as
// flag.PrintDefaults does, but spelled with two dashes, as coord's usage
// lines and documentation spell them (the flag package takes both).
func printFlags(w io.Writer, fs *flag.FlagSet, keep func(name string) bool) {
	sub := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	fs.VisitAll(func(f *flag.Flag) {
		if keep(f.Name) {
			sub.Var(f.Value, f.Name, f.Usage)
			sub.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	var b strings.Builder
	sub.SetOutput(&b)
	sub.PrintDefaults()
	io.WriteString(w, strings.ReplaceAll("\n"+b.String(), "\n  -", "\n  --")[1:])
}

// all keeps every flag, for printFlags.
func all(string) bool { return true }

// flagError is the flag package's parse error with the flag spelled as the
// user spells it, "--timeout" rather than "-timeout".
func flagError(err error) string {
	return strings.NewReplacer(
		"not defined: -", "not defined: --", // flag provided but not defined: -x
		"needs an argument: -", "needs an argument: --", // flag needs an argument: -x
		"for flag -", "for flag --", // invalid value "v" for flag -x: ...
		"\" for -", "\" for --", // invalid boolean value "v" for -x: ...
	).Replace(err.Error())
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// durationValue is a flag.Value for a time.Duration whose parse error says
// what a duration looks like: the flag package's own says only "parse
// error", and "--timeout 5" is what a new user types first.
type durationValue time.Duration

func (d *durationValue) String() string { return time.Duration(*d).String() }

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err == nil {
		*d = durationValue(v)
		return nil
	}
	if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
		return errors.New("no unit; want a duration such as 30s or 5m")
	}
	return errors.New("want a duration such as 30s or 5m")
}

// durationFlag defines a duration flag on fs with the parse error of
// durationValue.
func durationFlag(fs *flag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	*p = value
	fs.Var((*durationValue)(p), name, usage)
	return p
}
