package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
	"github.com/wftrigger/wftrigger/report"
)

// execEmulator starts an emulator whose executions run for 200 ms, keys
// under bad/ failing their first execution and under denied/ refused,
// adjusted by edit.
func execEmulator(t testing.TB, edit func(*emulator.Config)) (*emulator.Server, string) {
	t.Helper()
	cfg := emulator.Config{
		SecretID: emulatorSecretID, SecretKey: emulatorSecretKey,
		Bucket: emulatorBucket, Workflows: []string{emulatorWorkflow},
		DenyPrefixes:   []string{"denied/"},
		FailPrefixes:   []string{"bad/"},
		ExecutionDelay: 200 * time.Millisecond,
		Seed:           11,
	}
	if edit != nil {
		edit(&cfg)
	}
	srv := emulator.New(cfg)
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, url
}

// executions maps each key of the report to its recorded execution.
func executions(t testing.TB, path string) map[string]*report.Execution {
	t.Helper()
	out := map[string]*report.Execution{}
	for _, e := range readReport(t, path).Objects {
		out[e.Key] = e.Execution
	}
	return out
}

// TestRunWait: run --wait looks every instance up until all have ended and
// exits by the final states; the triggers' own failures are not masked.
func TestRunWait(t *testing.T) {
	tests := []struct {
		name      string
		keys      []string
		want      int
		wantOut   string
		wantErr   string
		wantState map[string]string // key → recorded execution state
	}{
		{"success", []string{"ok/1.mp4", "ok/2 two.mp4", "ok/3+three.mp4"}, 0,
			"3 instances: 3 Success, 0 Failed", "",
			map[string]string{"ok/1.mp4": "Success", "ok/2 two.mp4": "Success", "ok/3+three.mp4": "Success"}},
		{"failed", []string{"ok/1.mp4", "bad/1.mp4", "bad/2.mp4"}, 1,
			"3 instances: 1 Success, 2 Failed", "--retry-failed-executions",
			map[string]string{"ok/1.mp4": "Success", "bad/1.mp4": "Failed", "bad/2.mp4": "Failed"}},
		{"trigger failed, executions succeeded", []string{"ok/1.mp4", "denied/1.mp4"}, 1,
			"1 instances: 1 Success", "1 object failed",
			map[string]string{"ok/1.mp4": "Success", "denied/1.mp4": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, url := execEmulator(t, nil)
			dir := t.TempDir()
			path := filepath.Join(dir, "r.json")
			writeLines(t, filepath.Join(dir, "keys.txt"), tt.keys)
			code, stdout, stderr := wftrigger(t, runArgs(url, path, "--manifest", filepath.Join(dir, "keys.txt"), "--wait", "--wait-interval", "50ms")...)
			if code != tt.want || !strings.Contains(stdout, tt.wantOut) || !strings.Contains(stderr, tt.wantErr) {
				t.Fatalf("run --wait: exit %d, want %d with %q on stdout and %q on stderr\n%s%s", code, tt.want, tt.wantOut, tt.wantErr, stdout, stderr)
			}
			got := executions(t, path)
			for k, want := range tt.wantState {
				state := ""
				if got[k] != nil {
					state = got[k].State
				}
				if state != want {
					t.Errorf("%q: execution %+v, want state %q", k, got[k], want)
				}
			}
		})
	}
}

// TestRunWaitRunningThenSuccess: the first pass finds every instance
// Running (the executions do not end until the test says so), --wait looks
// again until they have ended, then exits 0. No timing is assumed: the
// test waits for the report to say Running before it lets them end.
func TestRunWaitRunningThenSuccess(t *testing.T) {
	srv, url := execEmulator(t, func(c *emulator.Config) { c.ExecutionDelay = time.Hour })
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	keys := oddKeys(5)
	writeLines(t, filepath.Join(dir, "keys.txt"), keys)
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := wftrigger(t, runArgs(url, path, "--manifest", filepath.Join(dir, "keys.txt"), "--wait", "--wait-interval", "20ms")...)
		done <- result{code, stdout, stderr}
	}()
	waitForOrDone(t, done, func() bool { return runningNow(path) == len(keys) })
	srv.SetExecutionDelay(0)
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute):
		t.Fatal("run --wait did not end a minute after the executions did")
	}
	if r.code != 0 || !strings.Contains(r.stdout, "5 instances: 5 Success") {
		t.Fatalf("run --wait: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "executions still running") {
		t.Errorf("run --wait logged no pass with instances running:\n%s", r.stderr)
	}
	for k, x := range executions(t, path) {
		if x == nil || x.State != "Success" || x.Error != nil {
			t.Errorf("%q: execution %+v, want Success", k, x)
		}
	}
	checkExactlyOnce(t, srv, keys, path)
}

// runningNow counts the report's entries recorded Running, reading it as
// it is at this moment (0 while it is still empty, before its first
// rewrite).
func runningNow(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var r testReport
	if json.Unmarshal(b, &r) != nil {
		return 0
	}
	n := 0
	for _, e := range r.Objects {
		if e.Execution != nil && e.Execution.State == "Running" {
			n++
		}
	}
	return n
}

// waitForOrDone waits for cond, failing the test when the command that
// should get there ended first.
func waitForOrDone[T any](t *testing.T, done chan T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		select {
		case r := <-done:
			t.Fatalf("the command ended before the condition: %+v", r)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunWaitStopped: a signal while instances still run ends run --wait
// with exit 3; the report keeps the states found.
func TestRunWaitStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	_, url := execEmulator(t, func(c *emulator.Config) { c.ExecutionDelay = time.Hour })
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	writeLines(t, filepath.Join(dir, "keys.txt"), oddKeys(4))
	cmd := childProcess(t, runArgs(url, path, "--manifest", filepath.Join(dir, "keys.txt"), "--wait", "--wait-interval", "20ms")...)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return runningNow(path) == 4 })
	_ = cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err == nil || cmd.ProcessState.ExitCode() != 3 {
		t.Fatalf("run --wait stopped: %v, want exit 3\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "4 instances:") {
		t.Errorf("stopped run --wait said %q, want the last tally", stdout.String())
	}
	for k, x := range executions(t, path) {
		if x == nil || x.State != "Running" {
			t.Errorf("%q: execution %+v after the stop, want Running kept", k, x)
		}
	}
}

// TestStatusRecordedEndpoint: status after a run against --ci-endpoint
// finds that endpoint in the report, with no endpoint or region flag.
func TestStatusRecordedEndpoint(t *testing.T) {
	srv, url := execEmulator(t, func(c *emulator.Config) { c.ExecutionDelay = 0 })
	_, path := ranKeys(t, url, oddKeys(6))
	if r := readReport(t, path); r.CIEndpoint != url || r.COSEndpoint != url {
		t.Fatalf("report records endpoints %q %q, want %q", r.CIEndpoint, r.COSEndpoint, url)
	}
	before := srv.Stats().ExecutionQueries
	code, stdout, stderr := wftrigger(t, "status", "--report", path)
	if code != 0 || !strings.Contains(stdout, "6 instances: 6 Success") {
		t.Fatalf("status with the recorded endpoint: exit %d\n%s%s", code, stdout, stderr)
	}
	if n := srv.Stats().ExecutionQueries - before; n != 6 {
		t.Errorf("the emulator answered %d look-ups, want 6", n)
	}
}

// TestStatusLookupErrors: look-ups that fail are recorded with their
// reason and counted apart: not found (an emulator that never saw the
// instances), denied (403), failing (500 after the retries); exit 1.
func TestStatusLookupErrors(t *testing.T) {
	srv, url := execEmulator(t, func(c *emulator.Config) {
		c.ExecutionDelay = 0
		c.DescribeDenyPrefixes = []string{"secret/"}
	})
	dir, path := ranKeys(t, url, []string{"ok/1.mp4", "ok/2.mp4", "secret/1.mp4"})
	code, stdout, stderr := wftrigger(t, "status", "--report", path)
	if code != 1 || !strings.Contains(stdout, "3 instances: 2 Success, 0 Failed, 0 Cancel, 0 running, 0 not found, 1 look-up errors") {
		t.Fatalf("status with a denied look-up: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "execution.error") {
		t.Errorf("status's message does not say where the reason is:\n%s", stderr)
	}
	x := executions(t, path)["secret/1.mp4"]
	if x == nil || x.Error == nil || x.Error.HTTPStatus != 403 || x.Error.Code != "AccessDenied" || x.Error.Message == "" || x.State != "" {
		t.Errorf("denied look-up recorded as %+v, want a 403 AccessDenied error and no state", x)
	}

	// 500 on every look-up: the one not final is retried, then recorded.
	srv.SetDescribeFaults(emulator.Faults{ErrorRate: 1})
	code, stdout, stderr = wftrigger(t, "status", "--report", path)
	if code != 1 || !strings.Contains(stdout, "1 look-up errors") {
		t.Fatalf("status with 500s: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	if x := executions(t, path)["secret/1.mp4"]; x == nil || x.Error == nil || x.Error.HTTPStatus != 500 || x.Error.Code != "InternalError" {
		t.Errorf("failing look-up recorded as %+v, want a 500 InternalError error", x)
	}
	if x := executions(t, path)["ok/1.mp4"]; x == nil || x.State != "Success" || x.Error != nil {
		t.Errorf("a final execution was looked up again: %+v", x)
	}
	srv.SetDescribeFaults(emulator.Faults{})

	// Another emulator never saw these instances: 404, not found (the
	// denied one too: that emulator knows nothing of it).
	_, other := execEmulator(t, func(c *emulator.Config) { c.Seed = 99 })
	writeLines(t, filepath.Join(dir, "more.txt"), []string{"ok/3.mp4", "ok/4.mp4"})
	if code, stdout, stderr := wftrigger(t, runArgs(url, path, "--manifest", filepath.Join(dir, "more.txt"))...); code != 0 {
		t.Fatalf("second run: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = wftrigger(t, "status", "--report", path, "--ci-endpoint", other)
	if code != 1 || !strings.Contains(stdout, "5 instances: 2 Success, 0 Failed, 0 Cancel, 0 running, 3 not found, 0 look-up errors") {
		t.Fatalf("status against an emulator that does not know the instances: exit %d\n%s%s", code, stdout, stderr)
	}
	if x := executions(t, path)["ok/3.mp4"]; x == nil || x.Error == nil || x.Error.HTTPStatus != 404 || x.Error.Code != "ResourceNotFound" {
		t.Errorf("unknown instance recorded as %+v, want a 404 ResourceNotFound error", x)
	}
}

// TestStatusDeniedEverywhere: when every look-up is denied (no describe
// permission), status stops after the first 20 with exit 3 and a hint,
// having recorded those 20.
func TestStatusDeniedEverywhere(t *testing.T) {
	_, url := execEmulator(t, func(c *emulator.Config) {
		c.ExecutionDelay = 0
		c.DescribeDenyPrefixes = []string{""}
	})
	_, path := ranKeys(t, url, oddKeys(30))
	code, stdout, stderr := wftrigger(t, "status", "--report", path, "--concurrency", "2")
	if code != 3 || !strings.Contains(stdout, "30 instances: 0 Success, 0 Failed, 0 Cancel, 0 running, 0 not found, 20 look-up errors, 10 not looked up") ||
		!strings.Contains(stderr, "AccessDenied") || !strings.Contains(stderr, "ci:DescribeMediaWorkflowExecutions") {
		t.Fatalf("status denied everywhere: exit %d, want 3 after 20 look-ups\n%s%s", code, stdout, stderr)
	}
}

// TestRetryFailedExecutions: after status recorded two Failed executions,
// --retry-failed-executions triggers exactly those two once more (counted
// at the emulator), keeps the earlier instance in the entry's history, and
// a second one (the new executions succeeded) triggers nothing.
func TestRetryFailedExecutions(t *testing.T) {
	srv, url := execEmulator(t, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	good := []string{"ok/1.mp4", "ok/2 two.mp4", "ok/3+three.mp4"}
	bad := []string{"bad/1.mp4", "bad/2 two.mp4"}
	manifest := filepath.Join(dir, "keys.txt")
	writeLines(t, manifest, append(append([]string{}, good...), bad...))
	args := func(more ...string) []string {
		return runArgs(url, path, append([]string{"--manifest", manifest}, more...)...)
	}
	if code, stdout, stderr := wftrigger(t, args()...); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
	}
	first := map[string]string{} // key → first instance id
	for _, tr := range srv.Triggers() {
		first[tr.Key] = tr.InstanceID
	}

	// Before any status, nothing is known to have failed.
	code, stdout, stderr := wftrigger(t, args("--retry-failed-executions", "--dry-run")...)
	if code != 0 || !strings.Contains(stdout, "would trigger:      0") || !strings.Contains(stdout, "failed executions:  0") {
		t.Fatalf("dry run before status: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = wftrigger(t, "status", "--report", path, "--wait", "--interval", "50ms")
	if code != 1 || !strings.Contains(stdout, "5 instances: 3 Success, 2 Failed") {
		t.Fatalf("status --wait: exit %d, want 1 with 2 Failed\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = wftrigger(t, args("--retry-failed-executions", "--dry-run")...)
	if code != 0 || !strings.Contains(stdout, "would trigger:      2") || !strings.Contains(stdout, "failed executions:  2") {
		t.Fatalf("dry run: exit %d, want 2 to trigger again\n%s%s", code, stdout, stderr)
	}
	if n := len(srv.Triggers()); n != 5 {
		t.Fatalf("the dry run triggered: %d instances, want 5", n)
	}

	// A rerun without the flag triggers nothing: they succeeded as triggers.
	if code, stdout, stderr := wftrigger(t, args()...); code != 0 || len(srv.Triggers()) != 5 {
		t.Fatalf("rerun without the flag: exit %d, %d instances, want 0 and 5\n%s%s", code, len(srv.Triggers()), stdout, stderr)
	}
	code, stdout, stderr = wftrigger(t, args("--retry-failed-executions", "--wait", "--wait-interval", "50ms")...)
	if code != 0 || !strings.Contains(stdout, "5 instances: 5 Success") {
		t.Fatalf("run --retry-failed-executions --wait: exit %d, want 0\n%s%s", code, stdout, stderr)
	}
	counts := srv.TriggerCounts()
	for _, k := range good {
		if n := counts[emulator.TriggerKey{WorkflowID: emulatorWorkflow, Key: k}]; n != 1 {
			t.Errorf("%q triggered %d times, want 1", k, n)
		}
	}
	for _, k := range bad {
		if n := counts[emulator.TriggerKey{WorkflowID: emulatorWorkflow, Key: k}]; n != 2 {
			t.Errorf("%q triggered %d times, want 2", k, n)
		}
	}
	entries := map[string]report.Entry{}
	for _, e := range readReport(t, path).Objects {
		entries[e.Key] = e
	}
	for _, k := range bad {
		e := entries[k]
		if len(e.History) != 1 || e.History[0].InstanceID != first[k] || e.History[0].Execution == nil || e.History[0].Execution.State != "Failed" {
			t.Errorf("%q: history %+v, want the first instance %s with its Failed execution", k, e.History, first[k])
		}
		if e.InstanceID == first[k] || e.InstanceID == "" || e.Execution == nil || e.Execution.State != "Success" {
			t.Errorf("%q: instance %s execution %+v, want a new instance that ended Success", k, e.InstanceID, e.Execution)
		}
	}
	for _, k := range good {
		if e := entries[k]; len(e.History) != 0 || e.InstanceID != first[k] {
			t.Errorf("%q: instance %s history %+v, want the first instance and no history", k, e.InstanceID, e.History)
		}
	}

	// Again: the new executions succeeded, nothing is triggered.
	code, stdout, stderr = wftrigger(t, args("--retry-failed-executions")...)
	if code != 0 || len(srv.Triggers()) != 7 {
		t.Fatalf("second --retry-failed-executions: exit %d, %d instances, want 0 and 7\n%s%s", code, len(srv.Triggers()), stdout, stderr)
	}
	if !strings.Contains(stderr, "nothing to trigger again") {
		t.Errorf("second --retry-failed-executions does not say that nothing failed:\n%s", stderr)
	}
}

// TestWaitFlags: the flags that cannot go together are refused before any
// call (exit 2).
func TestWaitFlags(t *testing.T) {
	srv, url := execEmulator(t, nil)
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "keys.txt"), []string{"ok/1.mp4"})
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"wait with dry run", []string{"--wait", "--dry-run"}, "--wait goes with a run that triggers"},
		{"no interval", []string{"--wait", "--wait-interval", "0s"}, "--wait-interval"},
		{"retry server side", []string{"--retry-failed-executions", "--server-side"}, "--retry-failed-executions"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := wftrigger(t, runArgs(url, filepath.Join(dir, "r.json"), append([]string{"--manifest", filepath.Join(dir, "keys.txt")}, c.args...)...)...)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, want 2 with %q\n%s", code, c.want, stderr)
			}
		})
	}
	if n := len(srv.Triggers()); n != 0 {
		t.Errorf("%d triggers, want none", n)
	}
}

// TestServerSideWait: --wait after a server-side job looks up the
// executions the job created.
func TestServerSideWait(t *testing.T) {
	srv, url := execEmulator(t, nil)
	keys := prefixedKeys("s/", 8)
	putKeys(srv, keys)
	path := filepath.Join(t.TempDir(), "r.json")
	code, stdout, stderr := wftrigger(t, serverArgs(url, path, "--prefix", "s/", "--wait", "--wait-interval", "50ms")...)
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf("%d instances: %d Success", len(keys), len(keys))) {
		t.Fatalf("run --server-side --wait: exit %d\n%s%s", code, stdout, stderr)
	}
	for k, x := range executions(t, path) {
		if x == nil || x.State != "Success" {
			t.Errorf("%q: execution %+v, want Success", k, x)
		}
	}
}
