package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Attacks on "one report, one run" and on files that cannot be trusted,
// found by scripts/attack.sh against the binary.

// openSecond opens the report at path as a second run would and returns
// Open's error; a report it opened is dropped.
func openSecond(path string) error {
	o, err := Open(Options{Path: path, Meta: testMeta()})
	if err == nil {
		o.abandon()
	}
	return err
}

// TestHardLinkedReport: a hard link is another name of the same file. A
// run holding the report refuses a second run through a hard link made
// while it runs, and does not replace the file while it has another name
// (the link would be left a stale copy): the rewrite fails, the journal
// keeps the progress, and it succeeds once the link is gone.
func TestHardLinkedReport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	r := mustOpen(t, path)
	mustRecord(t, r, Entry{Key: "a", Status: Succeeded, InstanceID: "i1"})
	if err := r.Compact(); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Link(path, link); err != nil {
		t.Fatal(err)
	}
	if err := openSecond(link); !errors.As(err, new(*LockedError)) {
		t.Errorf("Open through a hard link of the report held: %v, want *LockedError", err)
	}
	if err := Rewrite(link, func(*Entry) error { return nil }); !errors.As(err, new(*LockedError)) {
		t.Errorf("Rewrite through a hard link of the report held: %v, want *LockedError", err)
	}
	mustRecord(t, r, Entry{Key: "b", Status: Succeeded, InstanceID: "i2"})
	if err := r.Compact(); err == nil || !strings.Contains(err.Error(), "hard link") {
		t.Errorf("Compact of a report with a second name: %v, want refused", err)
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	mustClose(t, r, true)
	_, got := readBack(t, path)
	if got["b"].InstanceID != "i2" {
		t.Errorf("after the link was removed, the report lacks b: %+v", got)
	}
}

// TestHardLinkedReportRefused: a report with two names is refused before
// anything happens, and opens again once the other name is gone.
func TestHardLinkedReportRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	r := mustOpen(t, path)
	mustRecord(t, r, Entry{Key: "a", Status: Succeeded, InstanceID: "i1"})
	mustClose(t, r, true)
	link := filepath.Join(dir, "link.json")
	if err := os.Link(path, link); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, link} {
		if err := openSecond(name); err == nil || !strings.Contains(err.Error(), "hard link") {
			t.Errorf("Open(%s) of a report with two names: %v, want refused", filepath.Base(name), err)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	r = mustOpen(t, link)
	if p := r.Admit("", "a"); p.State != Done {
		t.Errorf("Admit(a) through the remaining name = %v, want Done", p.State)
	}
	mustClose(t, r, true)
}

// TestEmptiedJournal: a journal emptied (`> r.json.journal`, a restore, a
// crash of another writer) beside a report is not taken for "nothing since
// the report": its records are lost, and the objects they triggered would
// be triggered again. Open refuses it, naming the journal.
func TestEmptiedJournal(t *testing.T) {
	for _, content := range []string{"", "\n\n  \n"} {
		path := filepath.Join(t.TempDir(), "r.json")
		r := mustOpen(t, path)
		mustRecord(t, r, Entry{Key: "a", Status: Succeeded, InstanceID: "i1"})
		if err := r.Compact(); err != nil {
			t.Fatal(err)
		}
		mustRecord(t, r, Entry{Key: "b", Status: Dispatched})
		r.abandon() // kill -9
		if err := os.WriteFile(path+".journal", []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
		_, err := Open(Options{Path: path, Meta: testMeta()})
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Path != path+".journal" {
			t.Errorf("Open with the journal emptied to %q: %v, want *CorruptError naming the journal", content, err)
		}
	}
}

// TestJournalNeverEmpty: a run killed at any moment after it took its
// locks leaves a journal that holds its header, never an empty one (which
// would be refused): before the first record, with and without Fresh.
func TestJournalNeverEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	for _, fresh := range []bool{false, true, false} {
		r, err := Open(Options{Path: path, Meta: testMeta(), Fresh: fresh})
		if err != nil {
			t.Fatalf("Open (fresh %v) after a kill before any record: %v", fresh, err)
		}
		if b, err := os.ReadFile(path + ".journal"); err != nil || len(b) == 0 {
			t.Fatalf("journal right after Open (fresh %v): %q, %v; want its header", fresh, b, err)
		}
		r.abandon() // kill -9
	}
	r := mustOpen(t, path)
	mustRecord(t, r, Entry{Key: "a", Status: Succeeded, InstanceID: "i1"})
	mustClose(t, r, true)
	if _, err := os.Stat(path + ".journal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal after Close: %v, want removed", err)
	}
	if tmps, _ := filepath.Glob(path + "*.tmp-*"); len(tmps) > 0 {
		t.Errorf("temporary files left: %q", tmps)
	}
}

// TestStaleJournalTemp: the temporary file of a journal being created by a
// run that was killed is removed by the next run.
func TestStaleJournalTemp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	stale := path + ".journal.tmp-999999999"
	if err := os.WriteFile(stale, []byte(`{"journal":1}`), 0o666); err != nil {
		t.Fatal(err)
	}
	r := mustOpen(t, path)
	mustClose(t, r, true)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: %v, want removed", filepath.Base(stale), err)
	}
}

// TestNamedPipeReport: a report or journal that is a named pipe is refused
// at once; opening the pipe to read it used to block the run forever,
// deaf to its first signal.
func TestNamedPipeReport(t *testing.T) {
	for _, name := range []string{"r.json", "r.json.journal"} {
		dir := t.TempDir()
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o666); err != nil {
			t.Skip("no named pipes here:", err)
		}
		done := make(chan error, 1)
		go func() {
			r, err := Open(Options{Path: filepath.Join(dir, "r.json"), Meta: testMeta()})
			if err == nil {
				r.abandon()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("Open with %s a named pipe: %v, want refused as not a regular file", name, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("Open with %s a named pipe: still blocked after a minute", name)
		}
	}
}

// TestLockAndJournalDeleted: with both the lock file and the journal of a
// held report deleted, a second run finds neither locked; the lock of the
// report file itself still refuses it.
func TestLockAndJournalDeleted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	r := mustOpen(t, path)
	mustRecord(t, r, Entry{Key: "a", Status: Succeeded, InstanceID: "i1"})
	mustClose(t, r, true)
	r = mustOpen(t, path)
	defer r.abandon()
	for _, name := range []string{path + ".lock", path + ".journal"} {
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := openSecond(path); !errors.As(err, new(*LockedError)) {
		t.Errorf("Open with the holder's lock and journal deleted: %v, want *LockedError", err)
	}
}
