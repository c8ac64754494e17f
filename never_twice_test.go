package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
)

// The report-side rows of "never twice, whatever happens to the files":
// each runs the real binary against the emulator and counts triggers there.

// slowRun starts a child run that holds its report for a while: 2,000 keys
// at 20 calls a second. The caller kills it.
func slowRun(t *testing.T, url, reportPath, manifestPath string) *exec.Cmd {
	t.Helper()
	cmd := startChild(t, runArgs(url, reportPath, "--manifest", manifestPath, "--qps", "20", "--concurrency", "2")...)
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// finish kills the child run and lets the same command finish the job:
// every key exactly once at the emulator.
func finish(t *testing.T, srv *emulator.Server, cmd *exec.Cmd, url, reportPath, manifestPath string, keys []string) {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	finalRun(t, srv, url, reportPath, manifestPath, keys)
}

// finalRun runs the command to the end: every key exactly once at the
// emulator.
func finalRun(t *testing.T, srv *emulator.Server, url, reportPath, manifestPath string, keys []string) {
	t.Helper()
	code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath)...)
	if code != 0 {
		t.Fatalf("final run: exit %d\n%s%s", code, stdout, stderr)
	}
	checkExactlyOnce(t, srv, keys, reportPath)
}

func TestSymlinkedReportWhileHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url, dir, keys, manifestPath, reportPath := manifestSetup(t, 2000)
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink("r.json", link); err != nil {
		t.Fatal(err)
	}
	cmd := slowRun(t, url, reportPath, manifestPath)
	waitFor(t, func() bool { return len(srv.Triggers()) >= 1 })
	code, _, stderr := wftrigger(t, runArgs(url, link, "--manifest", manifestPath)...)
	if code != 4 {
		t.Fatalf("second run through a symlink: exit %d, want 4\n%s", code, stderr)
	}
	finish(t, srv, cmd, url, link, manifestPath, keys)
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symlink after the runs (%v)", link, err)
	}
}

func TestDeletedLockFileWhileHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url, _, keys, manifestPath, reportPath := manifestSetup(t, 2000)
	cmd := slowRun(t, url, reportPath, manifestPath)
	waitFor(t, func() bool { return len(srv.Triggers()) >= 1 })
	if err := os.Remove(reportPath + ".lock"); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath)...)
	if code != 4 {
		t.Fatalf("second run after the lock file was deleted: exit %d, want 4\n%s", code, stderr)
	}
	finish(t, srv, cmd, url, reportPath, manifestPath, keys)
}

// finishedRun runs the keys to the end once.
func finishedRun(t *testing.T, url, reportPath, manifestPath string) {
	t.Helper()
	if code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath)...); code != 0 {
		t.Fatalf("first run: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestEmptyReportExits2(t *testing.T) {
	srv, url, _, _, manifestPath, reportPath := manifestSetup(t, 50)
	finishedRun(t, url, reportPath, manifestPath)
	if err := os.WriteFile(reportPath, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	before := srv.Stats().Requests
	code, _, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath)...)
	if code != 2 || !strings.Contains(stderr, reportPath) || !strings.Contains(stderr, "--fresh") {
		t.Errorf("run over a 0-byte report: exit %d, want 2 naming the file and --fresh\n%s", code, stderr)
	}
	if n := srv.Stats().Requests - before; n != 0 {
		t.Errorf("the emulator got %d requests, want 0", n)
	}
}

// crashedRun kills a run once it has triggered some keys, leaving its
// journal.
func crashedRun(t *testing.T, srv *emulator.Server, url, reportPath, manifestPath string) {
	t.Helper()
	cmd := slowRun(t, url, reportPath, manifestPath)
	waitFor(t, func() bool { return len(srv.Triggers()) >= 10 })
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

func TestJournalCutInsideFirstLine(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url, _, _, manifestPath, reportPath := manifestSetup(t, 2000)
	crashedRun(t, srv, url, reportPath, manifestPath)
	if err := os.Truncate(reportPath+".journal", 20); err != nil {
		t.Fatal(err)
	}
	triggered := len(srv.Triggers())
	code, _, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath)...)
	if code != 2 || !strings.Contains(stderr, reportPath+".journal") || !strings.Contains(stderr, "line 1") {
		t.Errorf("run over a journal cut inside its first line: exit %d, want 2 naming the journal and line 1\n%s", code, stderr)
	}
	if n := len(srv.Triggers()) - triggered; n != 0 {
		t.Errorf("%d keys triggered over a journal that cannot be trusted, want 0", n)
	}
}

func TestJournalTornTailRecovered(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url, _, keys, manifestPath, reportPath := manifestSetup(t, 2000)
	crashedRun(t, srv, url, reportPath, manifestPath)
	f, err := os.OpenFile(reportPath+".journal", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"key":"media/a b/a b 0.mp4","status":"succ`) // a torn last line
	f.Close()
	finalRun(t, srv, url, reportPath, manifestPath, keys)
}

func TestLaterFailureDoesNotUndoSuccess(t *testing.T) {
	srv, url, _, keys, manifestPath, reportPath := manifestSetup(t, 20)
	finishedRun(t, url, reportPath, manifestPath)
	journal := `{"journal":1,"bucket":"` + emulatorBucket + `","workflowId":"` + emulatorWorkflow + `","startedAt":"2026-11-27T01:00:00Z"}` + "\n" +
		`{"key":"` + keys[3] + `","status":"failed","attempts":1,"error":{"code":"InternalError","message":"late"}}` + "\n"
	if err := os.WriteFile(reportPath+".journal", []byte(journal), 0o666); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath)...)
	if code != 0 || !strings.Contains(stdout, "0 calls") {
		t.Errorf("rerun: exit %d, %q; want 0 with 0 calls\n%s", code, stdout, stderr)
	}
	checkExactlyOnce(t, srv, keys, reportPath)
}

func TestStaleTempFilesRemoved(t *testing.T) {
	_, url, _, _, manifestPath, reportPath := manifestSetup(t, 5)
	stale := reportPath + ".tmp-999999999"
	if err := os.WriteFile(stale, []byte(`{"version": 1, "bucket": `), 0o666); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(stale, old, old)
	finishedRun(t, url, reportPath, manifestPath)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("%s still there after a run (%v)", stale, err)
	}
}

func TestReportFolderCreated(t *testing.T) {
	srv, url, dir, keys, manifestPath, _ := manifestSetup(t, 5)
	reportPath := filepath.Join(dir, "new", "folder", "r.json")
	finishedRun(t, url, reportPath, manifestPath)
	checkExactlyOnce(t, srv, keys, reportPath)
}
