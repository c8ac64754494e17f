package report

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Attacks on "one report, one run" and on files that cannot be trusted,
// found by scripts/attack.sh against the binary.

// TestHardLinkedReport: a hard link is another name of the same file. A
// run holding the report refuses a second run through a hard link made
// before it started, and through one made to a file its rewrites wrote,
// and through one made to the file a rewrite has since replaced.
func TestHardLinkedReport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	r := mustOpen(t, path)
	mustRecord(t, r, Entry{Key: "a", Status: Succeeded, InstanceID: "i1"})
	mustClose(t, r, true)

	before := filepath.Join(dir, "before.json")
	if err := os.Link(path, before); err != nil {
		t.Fatal(err)
	}
	r = mustOpen(t, path)
	defer r.Close(testMeta().StartedAt, true)
	refused := func(name string) {
		t.Helper()
		o, err := Open(Options{Path: name, Meta: testMeta()})
		if err == nil {
			o.Close(testMeta().StartedAt, true)
		}
		if !errors.As(err, new(*LockedError)) {
			t.Errorf("Open(%s), a hard link of the report held: %v, want *LockedError", filepath.Base(name), err)
		}
	}
	refused(before)

	mustRecord(t, r, Entry{Key: "b", Status: Succeeded, InstanceID: "i2"})
	if err := r.Compact(); err != nil {
		t.Fatal(err)
	}
	refused(before) // the file the rewrite replaced, still named by the link
	during := filepath.Join(dir, "during.json")
	if err := os.Link(path, during); err != nil {
		t.Fatal(err)
	}
	refused(during) // the file the rewrite wrote
	if err := Rewrite(during, func(*Entry) error { return nil }); !errors.As(err, new(*LockedError)) {
		t.Errorf("Rewrite through a hard link of the report held: %v, want *LockedError", err)
	}
}

// TestHardLinkedReportReleased: once the run ends, its report can be
// opened through any name again.
func TestHardLinkedReportReleased(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	r := mustOpen(t, path)
	mustRecord(t, r, Entry{Key: "a", Status: Succeeded, InstanceID: "i1"})
	mustClose(t, r, true)
	link := filepath.Join(dir, "link.json")
	if err := os.Link(path, link); err != nil {
		t.Fatal(err)
	}
	r = mustOpen(t, path)
	mustClose(t, r, true)
	r = mustOpen(t, link)
	if p := r.Admit("", "a"); p.State != Done {
		t.Errorf("Admit(a) through the hard link = %v, want Done", p.State)
	}
	mustClose(t, r, true)
}
