package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// parseFlags parses a command's arguments with fs, which names the command.
// -h prints the command's help (head, then fs's flags laid out by sections)
// to stdout; a bad flag, which the flag package names on stderr, exits 2.
// With example set, an argument that is not a flag is a usage error with
// example as its hint; without, the caller judges them.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer, head string, sections []helpSection, example string) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		return flagError(err, stdout, stderr, fs.Name(), commandHelp(head, fs, sections))
	}
	if example != "" && fs.NArg() > 0 {
		return usageError(example, "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// helpSection is a titled group of a command's flags in its help. Each flag
// is named with its argument, as the help shows it ("manifest PATH"; a bool
// flag has none).
type helpSection struct {
	title string
	flags []string
}

// commandHelp is a command's help: head (usage line, what it does,
// examples), then its flags, section by section, each with its usage string
// and its default as the FlagSet has them, so that help and flags cannot
// drift. A flag of fs missing from the sections, or a section naming a flag
// fs lacks, is a bug that TestHelpMatchesFlags catches.
func commandHelp(head string, fs *flag.FlagSet, sections []helpSection) string {
	width := 20
	for _, s := range sections {
		for _, spec := range s.flags {
			width = max(width, len(spec)+4)
		}
	}
	var b strings.Builder
	b.WriteString(head)
	for _, s := range sections {
		fmt.Fprintf(&b, "\n%s:\n", s.title)
		for _, spec := range s.flags {
			name, _, _ := strings.Cut(spec, " ")
			text := "(no such flag)"
			if f := fs.Lookup(name); f != nil {
				text = f.Usage
				if shownDefault(f.DefValue) {
					text += " (default " + f.DefValue + ")"
				}
			}
			for i, line := range strings.Split(text, "\n") {
				left := ""
				if i == 0 {
					left = "--" + spec
				}
				fmt.Fprintf(&b, "  %-*s %s\n", width, left, line)
			}
		}
	}
	return b.String()
}

// shownDefault reports whether a flag's default is worth showing: not the
// zero value of its type.
func shownDefault(v string) bool {
	return v != "" && v != "0" && v != "false" && v != "0s"
}
