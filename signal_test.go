package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
)

// TestSIGHUPStopsLikeSIGTERM: a dropped ssh session stops the run
// gracefully: exit 3, the report written, a rerun resumes.
func TestSIGHUPStopsLikeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url := testEmulator(t, emulator.Faults{Latency: 2 * time.Millisecond})
	dir := t.TempDir()
	keys := oddKeys(3000)
	writeCSV(t, filepath.Join(dir, "keys.csv"), keys)
	reportPath := filepath.Join(dir, "r.json")
	args := runArgs(url, reportPath, "--manifest", filepath.Join(dir, "keys.csv"), "--qps", "1000")
	cmd := childProcess(t, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(srv.Triggers()) >= 100 })
	_ = cmd.Process.Signal(syscall.SIGHUP)
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Fatalf("exit %d after SIGHUP, want 3\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "rerun the same command to resume") {
		t.Errorf("stderr after SIGHUP: %q, want the resume line", stderr.String())
	}
	if r := readReport(t, reportPath); r.Summary.Succeeded == 0 || r.Summary.Succeeded >= len(keys) {
		t.Errorf("report after SIGHUP: %+v, want some succeeded", r.Summary)
	}
	if code, stdout, stderr := wftrigger(t, args...); code != 0 {
		t.Fatalf("rerun: exit %d\n%s%s", code, stdout, stderr)
	}
	checkExactlyOnce(t, srv, keys, reportPath)
}

// TestSecondSignalExits3WithOneLine: while calls are in flight, a second
// signal (of any of the three) ends the process at once with exit 3 and one
// line saying that the journal keeps what was done.
func TestSecondSignalExits3WithOneLine(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for _, second := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(second.String(), func(t *testing.T) {
			srv, url := testEmulator(t, emulator.Faults{ReplyDelay: time.Minute})
			dir := t.TempDir()
			writeLines(t, filepath.Join(dir, "keys.txt"), oddKeys(50))
			cmd := childProcess(t, runArgs(url, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "keys.txt"), "--concurrency", "4")...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return len(srv.Triggers()) == 4 })
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// The first signal waits for the 4 calls in flight (their
			// answers are a minute away); the second comes while it waits.
			// (The pause keeps two SIGTERMs from merging into one pending
			// signal; it asserts nothing.)
			time.Sleep(200 * time.Millisecond)
			_ = cmd.Process.Signal(second)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("the run did not end on the second signal")
			}
			if code := cmd.ProcessState.ExitCode(); code != 3 {
				t.Errorf("exit %d after a second signal, want 3\n%s", code, stderr.String())
			}
			if n := strings.Count(stderr.String(), "journal keeps what was done"); n != 1 {
				t.Errorf("stderr %q: the journal line %d times, want once", stderr.String(), n)
			}
		})
	}
}
