package main

import (
	"flag"
	"regexp"
	"strings"
	"testing"
)

// commandHelps are the commands with flags: their FlagSet, help layout and
// the help as users see it.
func commandHelps() map[string]struct {
	fs       *flag.FlagSet
	sections []helpSection
	help     string
} {
	var (
		ro      runOptions
		so      statusOptions
		eo      emulatorOptions
		rpo     reportOptions
		co      cancelOptions
		objects int
		dir     string
	)
	out := map[string]struct {
		fs       *flag.FlagSet
		sections []helpSection
		help     string
	}{}
	add := func(name, head string, fs *flag.FlagSet, sections []helpSection) {
		out[name] = struct {
			fs       *flag.FlagSet
			sections []helpSection
			help     string
		}{fs, sections, commandHelp(head, fs, sections)}
	}
	add("run", runHead, runFlags(&ro), runSections())
	add("status", statusHead, statusFlags(&so), statusSections())
	add("emulator", emulatorHead, emulatorFlags(&eo), emulatorSections())
	add("demo", demoHead, demoFlags(&objects, &dir), demoSections())
	add("report", reportHead, reportFlags(&rpo), reportSections())
	add("cancel", cancelHead, cancelFlags(&co), cancelSections())
	return out
}

var flagWord = regexp.MustCompile(`(?:^|\s)--([a-z][a-z0-9-]*)`)

// TestHelpMatchesFlags: every flag of every command has a usage string and
// appears exactly once in its help; the help names no flag that does not
// exist, neither in its flag lines nor in its examples.
func TestHelpMatchesFlags(t *testing.T) {
	cmds := commandHelps()
	for name, c := range cmds {
		t.Run(name, func(t *testing.T) {
			listed := map[string]int{}
			for _, s := range c.sections {
				for _, spec := range s.flags {
					n, _, _ := strings.Cut(spec, " ")
					listed[n]++
					if c.fs.Lookup(n) == nil {
						t.Errorf("the help lists --%s, which %s does not have", n, name)
					}
				}
			}
			c.fs.VisitAll(func(f *flag.Flag) {
				if strings.TrimSpace(f.Usage) == "" {
					t.Errorf("--%s has no usage string", f.Name)
				}
				if listed[f.Name] != 1 {
					t.Errorf("--%s is listed %d times in the help, want once", f.Name, listed[f.Name])
				}
			})
			if strings.Contains(c.help, "(no such flag)") {
				t.Errorf("help names a flag that does not exist:\n%s", c.help)
			}
		})
	}
	// Every example command line, in every help, names only its command's flags.
	examples := regexp.MustCompile(`(?m)^[ \t]+wftrigger (run|status|emulator|demo|report|cancel)\b((?:[^\n]*\\\n)*[^\n]*)`)
	for name, c := range cmds {
		for _, help := range []string{c.help, mainUsage} {
			for _, m := range examples.FindAllStringSubmatch(help, -1) {
				for _, w := range flagWord.FindAllStringSubmatch(m[2], -1) {
					if cmds[m[1]].fs.Lookup(w[1]) == nil {
						t.Errorf("%s help: the example %q names --%s, which %s does not have", name, strings.TrimSpace(m[0]), w[1], m[1])
					}
				}
			}
		}
	}
}

// TestHelpShowsFlagDefaults: the default a help line shows is the flag's.
func TestHelpShowsFlagDefaults(t *testing.T) {
	for name, c := range commandHelps() {
		c.fs.VisitAll(func(f *flag.Flag) {
			if shownDefault(f.DefValue) && !strings.Contains(c.help, "(default "+f.DefValue+")") {
				t.Errorf("%s help does not show the default %q of --%s", name, f.DefValue, f.Name)
			}
		})
	}
}
