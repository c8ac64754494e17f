package main

import (
	"go/build"
	"path"
	"slices"
	"strings"
	"testing"
)

// module is this module's import path.
const module = "github.com/wftrigger/wftrigger"

// rooms are the packages of ARCHITECTURE.md, by directory.
var rooms = []string{"manifest", "runner", "report", "tencent", "emulator", "report/export",
	"report/internal/document", "report/internal/logstore", "report/internal/index", "report/internal/offheap"}

// TestArchitecture fails when an arrow that must never exist appears (see
// ARCHITECTURE.md): runner → tencent, emulator ↔ tencent, manifest →
// runner, report → runner, report → report/export. Imports are read with go/build, tests included.
func TestArchitecture(t *testing.T) {
	imports := map[string][]string{} // room -> rooms it imports, test files included
	deps := map[string][]string{}    // room -> rooms its non-test files import
	for _, r := range rooms {
		p, err := build.ImportDir(r, 0)
		if err != nil {
			t.Fatalf("read package %s: %v", r, err)
		}
		deps[r] = internal(p.Imports)
		imports[r] = internal(slices.Concat(p.Imports, p.TestImports, p.XTestImports))
	}
	// reach is what r depends on: its direct imports, tests included, and
	// everything they depend on, tests not.
	reach := func(r string) []string {
		seen := map[string]bool{}
		var walk func(string)
		walk = func(p string) {
			for _, d := range deps[p] {
				if !seen[d] {
					seen[d] = true
					walk(d)
				}
			}
		}
		for _, d := range imports[r] {
			seen[d] = true
			walk(d)
		}
		var out []string
		for d := range seen {
			out = append(out, d)
		}
		return out
	}
	forbidden := []struct {
		from, to string
		direct   bool // only a direct import is forbidden
		why      string
	}{
		{"runner", "tencent", true, "the runner speaks its own Service interface; the adapter is service.go"},
		{"emulator", "tencent", false, "the emulator's signature check shares no code with the client's signer"},
		{"tencent", "emulator", false, "the client is tested against fakes and the SDK, not against the emulator's code"},
		{"manifest", "runner", false, "sources of keys know nothing of how they are triggered"},
		{"report", "runner", false, "the journal and report know nothing of how entries are made"},
		{"report", "report/export", false, "the report knows nothing of the formats it is exported in"},
	}
	for _, f := range forbidden {
		got := imports[f.from]
		if !f.direct {
			got = reach(f.from)
		}
		if slices.Contains(got, f.to) {
			t.Errorf("%s depends on %s: %s", f.from, f.to, f.why)
		}
	}
}

// internal keeps the rooms among import paths.
func internal(paths []string) []string {
	var out []string
	for _, p := range paths {
		if rest, ok := strings.CutPrefix(p, module+"/"); ok {
			if r := path.Clean(rest); slices.Contains(rooms, r) && !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}
