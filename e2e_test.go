package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
	"github.com/wftrigger/wftrigger/report"
)

// oddKeys are n distinct keys with spaces, '+', '%', '/', quotes, commas and
// Chinese: every byte must reach the service as it is.
func oddKeys(n int) []string {
	parts := []string{"a b", "c+d", "100%", "e%2Bf", "视频", "第 二", "q\"uote", "com,ma", "x'y", "~tilde", "semi;colon", "emoji🎬"}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("media/%s/%s %d.mp4", parts[i%len(parts)], parts[(i/len(parts))%len(parts)], i)
	}
	return keys
}

func writeCSV(t testing.TB, path string, keys []string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"key"})
	for _, k := range keys {
		w.Write([]string{k})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// csvKeys writes n odd keys to keys.csv in a fresh folder; it returns the
// keys, the manifest's path and the path of a report beside it.
func csvKeys(t *testing.T, n int) (keys []string, manifestPath, reportPath string) {
	t.Helper()
	dir := t.TempDir()
	keys = oddKeys(n)
	manifestPath = filepath.Join(dir, "keys.csv")
	writeCSV(t, manifestPath, keys)
	return keys, manifestPath, filepath.Join(dir, "r.json")
}

// checkExactlyOnce asserts that the emulator accepted each key exactly once
// and nothing else, and that the report's instance ids are the emulator's.
func checkExactlyOnce(t *testing.T, srv *emulator.Server, keys []string, reportPath string) {
	t.Helper()
	counts := srv.TriggerCounts()
	if len(counts) != len(keys) {
		t.Errorf("emulator saw %d distinct keys, want %d", len(counts), len(keys))
	}
	for _, k := range keys {
		if n := counts[emulator.TriggerKey{WorkflowID: emulatorWorkflow, Key: k}]; n != 1 {
			t.Errorf("key %q triggered %d times, want 1", k, n)
		}
	}
	instances := map[string]string{}
	for _, tr := range srv.Triggers() {
		instances[tr.Key] = tr.InstanceID
	}
	r := readReport(t, reportPath)
	if r.Summary.Succeeded != len(keys) || len(r.Objects) != len(keys) {
		t.Errorf("report summary %+v with %d objects, want %d succeeded", r.Summary, len(r.Objects), len(keys))
	}
	for _, e := range r.Objects {
		if e.Status != report.Succeeded {
			t.Errorf("report: %q is %s (%+v)", e.Key, e.Status, e.Error)
			continue
		}
		if want := instances[e.Key]; e.InstanceID != want {
			t.Errorf("report: %q has instance %q, the emulator gave %q", e.Key, e.InstanceID, want)
		}
	}
}

func TestBackfillOddKeys(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	keys, manifestPath, reportPath := csvKeys(t, 2000)
	code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	checkExactlyOnce(t, srv, keys, reportPath)
}

func TestBackfillRetriesFaults(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{ErrorRate: 0.05, SlowDownRate: 0.05, ResetRate: 0.02})
	keys, manifestPath, reportPath := csvKeys(t, 2000)
	code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath, "--max-attempts", "10")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	checkExactlyOnce(t, srv, keys, reportPath)
	retried, recovered := 0, 0
	for _, e := range readReport(t, reportPath).Objects {
		if e.Attempts > 1 {
			retried++
		}
		if e.Recovered {
			recovered++
		}
	}
	if retried == 0 {
		t.Error("no object records more than one attempt, with 12% faults")
	}
	t.Logf("%d objects retried, %d found in the execution list after an uncertain call", retried, recovered)
}

func TestWrongWorkflowStopsWithinTwiceConcurrency(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "keys.txt"), oddKeys(1000))
	args := runArgs(url, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "keys.txt"), "--concurrency", "16")
	for i, a := range args {
		if a == emulatorWorkflow {
			args[i] = "wnosuchworkflow"
		}
	}
	code, _, stderr := wftrigger(t, args...)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, stderr)
	}
	if n := srv.Stats().Requests; n > 32 {
		t.Errorf("the emulator got %d requests before the run stopped, want at most 2 × 16", n)
	}
}

func TestSamePermanentErrorStopsRun(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	keys := make([]string, 500)
	for i := range keys {
		keys[i] = fmt.Sprintf("denied/%d.mp4", i)
	}
	writeLines(t, filepath.Join(dir, "keys.txt"), keys)
	code, _, stderr := wftrigger(t, runArgs(url, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "keys.txt"), "--concurrency", "8")...)
	if code != 3 || !strings.Contains(stderr, "same-error") {
		t.Fatalf("exit %d, want 3 with same-error\n%s", code, stderr)
	}
	if n := srv.Stats().Requests; n > 20+8 {
		t.Errorf("the emulator got %d requests, want at most 28", n)
	}
}

// TestKill9 kills a run with SIGKILL at random points, several times, then
// lets it finish: every key succeeds and none was triggered twice.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url := testEmulator(t, emulator.Faults{Latency: time.Millisecond, ResetRate: 0.01})
	keys, manifestPath, reportPath := csvKeys(t, 6000)
	// At 2,000 calls a second the whole run takes 3 s: each kill lands in
	// the middle of some run (where exactly is up to the machine).
	args := runArgs(url, reportPath, "--manifest", manifestPath, "--concurrency", "16", "--max-attempts", "10", "--qps", "2000")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 4; i++ {
		cmd := startChild(t, args...)
		time.Sleep(time.Duration(200+rng.IntN(400)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		t.Logf("kill %d: emulator has %d triggers", i+1, len(srv.Triggers()))
	}
	cmd := childProcess(t, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	checkExactlyOnce(t, srv, keys, reportPath)
}

func TestSIGTERMIsResumable(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url := testEmulator(t, emulator.Faults{Latency: 2 * time.Millisecond})
	keys, manifestPath, reportPath := csvKeys(t, 3000)
	args := runArgs(url, reportPath, "--manifest", manifestPath, "--qps", "1000")
	cmd := startChild(t, args...)
	waitFor(t, func() bool { return len(srv.Triggers()) >= 100 })
	_ = cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Fatalf("exit %d after SIGTERM, want 3 (%v)", code, err)
	}
	before := readReport(t, reportPath)
	if before.Summary.Succeeded == 0 || before.Summary.Succeeded >= len(keys) {
		t.Fatalf("report after SIGTERM: %+v, want some succeeded", before.Summary)
	}
	t.Logf("after SIGTERM: %+v", before.Summary)
	accepted := len(srv.Triggers())
	code, stdout, stderr := wftrigger(t, args...)
	if code != 0 {
		t.Fatalf("rerun: exit %d\n%s%s", code, stdout, stderr)
	}
	if want := fmt.Sprintf("%d already succeeded", before.Summary.Succeeded); !strings.Contains(stdout, want) {
		t.Errorf("rerun said %q, want %q", stdout, want)
	}
	if got := len(srv.Triggers()) - accepted; got > len(keys)-before.Summary.Succeeded {
		t.Errorf("the rerun triggered %d, more than the %d not yet succeeded", got, len(keys)-before.Summary.Succeeded)
	}
	checkExactlyOnce(t, srv, keys, reportPath)
}

func TestLockedReportExits4(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url := testEmulator(t, emulator.Faults{Latency: 20 * time.Millisecond})
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "keys.txt"), oddKeys(2000))
	args := runArgs(url, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "keys.txt"), "--qps", "20", "--concurrency", "2")
	cmd := startChild(t, args...)
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	waitFor(t, func() bool { return len(srv.Triggers()) >= 1 })
	code, _, stderr := wftrigger(t, args...)
	if code != 4 {
		t.Fatalf("exit %d, want 4\n%s", code, stderr)
	}
	if want := fmt.Sprint(cmd.Process.Pid); !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not name the holder's pid %s", stderr, want)
	}
}

// waitFor polls cond for up to a minute: not a timing assertion, a way to
// reach a point of the run.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	waitForOrDone[struct{}](t, nil, cond) // a nil channel is never ready
}

// TestCrashBetweenSendAndRecord kills a run while the emulator has accepted
// its triggers but not yet answered: the rerun finds those instances in the
// execution list instead of triggering them again.
func TestCrashBetweenSendAndRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url := testEmulator(t, emulator.Faults{ReplyDelay: time.Minute})
	keys, manifestPath, reportPath := csvKeys(t, 40)
	args := runArgs(url, reportPath, "--manifest", manifestPath, "--concurrency", "4")
	cmd := startChild(t, args...)
	waitFor(t, func() bool { return len(srv.Triggers()) == 4 })
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()

	srv.SetFaults(emulator.Faults{}, emulator.Faults{})
	code, stdout, stderr := wftrigger(t, args...)
	if code != 0 {
		t.Fatalf("rerun: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "36 calls") || !strings.Contains(stdout, "4 found in the execution list") {
		t.Errorf("rerun said %q, want 36 calls and 4 found in the execution list", stdout)
	}
	checkExactlyOnce(t, srv, keys, reportPath)
}

// TestTimeoutAfterSendIsLookedUp: a call that times out after CI accepted it
// is looked up before it is retried, not triggered twice.
func TestTimeoutAfterSendIsLookedUp(t *testing.T) {
	// The emulator records each trigger at once and answers 3 s later; the
	// client gives up after 1 s (ample time for the emulator to record, even
	// on a loaded machine).
	srv, url := testEmulator(t, emulator.Faults{ReplyDelay: 3 * time.Second})
	keys, manifestPath, reportPath := csvKeys(t, 8)
	code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath, "--timeout", "1s")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "8 found in the execution list") {
		t.Errorf("run said %q, want 8 found in the execution list", stdout)
	}
	checkExactlyOnce(t, srv, keys, reportPath)
}

// TestStatusWait: instances run for a while; status without --wait says so
// (exit 1), with --wait it polls until every one has ended (exit 0).
func TestStatusWait(t *testing.T) {
	srv := emulator.New(emulator.Config{
		SecretID: emulatorSecretID, SecretKey: emulatorSecretKey,
		Bucket: emulatorBucket, Workflows: []string{emulatorWorkflow},
		ExecutionDelay: 2 * time.Second,
	})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	_, reportPath := ranKeys(t, url, oddKeys(20))
	code, stdout, _ := wftrigger(t, "status", "--report", reportPath, "--ci-endpoint", url)
	if code != 1 || !strings.Contains(stdout, "20 running") {
		t.Errorf("status right after the run: exit %d, %q; want 1 with 20 running", code, stdout)
	}
	code, stdout, stderr := wftrigger(t, "status", "--report", reportPath, "--ci-endpoint", url, "--wait", "--interval", "200ms")
	if code != 0 || !strings.Contains(stdout, "20 Success") {
		t.Fatalf("status --wait: exit %d, %q\n%s", code, stdout, stderr)
	}
	for _, e := range readReport(t, reportPath).Objects {
		if e.Execution == nil || e.Execution.State != "Success" || len(e.Execution.Tasks) == 0 {
			t.Errorf("%q: execution %+v, want Success with its tasks", e.Key, e.Execution)
		}
	}
}

// TestSecondSignalExitsAtOnce: the first SIGTERM waits for calls in flight
// (up to 10 s); a second one ends the process at once.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url := testEmulator(t, emulator.Faults{ReplyDelay: time.Minute})
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "keys.txt"), oddKeys(50))
	cmd := startChild(t, runArgs(url, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "keys.txt"), "--concurrency", "4")...)
	waitFor(t, func() bool { return len(srv.Triggers()) == 4 })
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("the run ended on the first signal (%v) although 4 calls were in flight", err)
	case <-time.After(500 * time.Millisecond):
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end on the second signal")
	}
	if cmd.ProcessState.Success() {
		t.Error("a run ended by a second signal exited 0")
	}
}

// TestSIGHUPStopsLikeSIGTERM: a dropped ssh session stops the run
// gracefully: exit 3, the report written, a rerun resumes.
func TestSIGHUPStopsLikeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url := testEmulator(t, emulator.Faults{Latency: 2 * time.Millisecond})
	keys, manifestPath, reportPath := csvKeys(t, 3000)
	args := runArgs(url, reportPath, "--manifest", manifestPath, "--qps", "1000")
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
