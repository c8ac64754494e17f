package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Attacks of scripts/attack.sh that found a bug, as tests of the binary
// against the emulator, counting triggers there.

// TestHardLinkedReportWhileHeld: a second run through a hard link of the
// report a run holds exits 4 (it used to take locks of its own, named
// after the link, and trigger everything a second time); while the report
// has two names no run takes it (exit 2: a rewrite would leave the other
// name a stale copy); once the link is gone the same command finishes the
// job, each object triggered once.
func TestHardLinkedReportWhileHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url, dir, keys, manifestPath, reportPath := manifestSetup(t, 2000)
	if code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath, "--limit", "5")...); code != 0 {
		t.Fatalf("first run: exit %d\n%s%s", code, stdout, stderr)
	}
	cmd := slowRun(t, url, reportPath, manifestPath)
	waitFor(t, func() bool { return len(srv.Triggers()) >= 6 })
	link := filepath.Join(dir, "hard.json")
	if err := os.Link(reportPath, link); err != nil {
		t.Fatal(err)
	}
	triggered := len(srv.Triggers())
	code, _, stderr := wftrigger(t, runArgs(url, link, "--manifest", manifestPath)...)
	if code != 4 || !strings.Contains(stderr, "hard link") {
		t.Fatalf("second run through a hard link: exit %d, want 4 saying why\n%s", code, stderr)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if n := len(srv.Triggers()) - triggered; n > 2 { // the slow run's calls in flight
		t.Errorf("%d triggers while the refused run ran", n)
	}
	for _, name := range []string{link, reportPath} {
		if code, _, stderr := wftrigger(t, runArgs(url, name, "--manifest", manifestPath)...); code != 2 || !strings.Contains(stderr, "hard link") {
			t.Errorf("run through %s of a report with two names: exit %d, want 2 saying why\n%s", filepath.Base(name), code, stderr)
		}
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	finalRun(t, srv, url, reportPath, manifestPath, keys)
}

// TestEmptiedJournalExits2: a journal emptied after a crash (its records
// since the last rewrite lost) is refused with exit 2 naming it; it used
// to be taken for "nothing since the report", and everything it recorded
// was triggered again.
func TestEmptiedJournalExits2(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url, _, _, manifestPath, reportPath := manifestSetup(t, 2000)
	crashedRun(t, srv, url, reportPath, manifestPath)
	if err := os.WriteFile(reportPath+".journal", nil, 0o666); err != nil {
		t.Fatal(err)
	}
	before := srv.Stats().Requests
	code, _, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath)...)
	if code != 2 || !strings.Contains(stderr, reportPath+".journal") || !strings.Contains(stderr, "--fresh") {
		t.Errorf("run over an emptied journal: exit %d, want 2 naming the journal and --fresh\n%s", code, stderr)
	}
	if n := srv.Stats().Requests - before; n != 0 {
		t.Errorf("the emulator got %d requests, want 0", n)
	}
}
