package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/runner"
)

// dayAfter runs a backfill whose report holds every kind of entry: odd
// keys succeeded, denied/ keys failed with AccessDenied, invalid rows. It
// returns the emulator, its URL, the report and the manifest.
func dayAfter(t *testing.T) (srv *emulator.Server, emu, reportPath, manifestPath string) {
	t.Helper()
	srv, emu = testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	var lines []string
	for i, k := range oddKeys(60) {
		lines = append(lines, k)
		if i%10 == 5 {
			lines = append(lines, fmt.Sprintf("denied/%d, odd+key %d%%.mp4", i, i))
		}
	}
	lines = append(lines, "/leading-slash.mp4", "bad\xffutf8.mp4")
	manifestPath = filepath.Join(dir, "objects.txt")
	writeLines(t, manifestPath, lines)
	reportPath = filepath.Join(dir, "report.json")
	code, stdout, stderr := wftrigger(t, runArgs(emu, reportPath, "--manifest", manifestPath)...)
	if code != exitFailures {
		t.Fatalf("run: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	if s := readReport(t, reportPath).Summary; s.Succeeded != 60 || s.Failed != 6 || s.Invalid != 2 {
		t.Fatalf("report summary %+v, want 60 succeeded, 6 failed, 2 invalid", s)
	}
	return srv, emu, reportPath, manifestPath
}

func TestReportCSV(t *testing.T) {
	_, _, reportPath, _ := dayAfter(t)
	code, stdout, stderr := wftrigger(t, "report", "--report", reportPath, "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv: %v\n%s", err, stdout)
	}
	if got := strings.Join(recs[0], ","); got != "key,status,workflowId,name,instanceId,attempts,errorCode,httpStatus,message,executionState" {
		t.Errorf("header %s", got)
	}
	objects := readReport(t, reportPath).Objects
	if len(recs)-1 != len(objects) {
		t.Fatalf("%d records, the report has %d entries", len(recs)-1, len(objects))
	}
	for i, e := range objects {
		r := recs[i+1]
		code, status := "", ""
		if e.Error != nil {
			code = e.Error.Code
		}
		if e.Error != nil && e.Error.HTTPStatus != 0 {
			status = fmt.Sprint(e.Error.HTTPStatus)
		}
		if r[0] != e.Key || r[1] != string(e.Status) || r[4] != e.InstanceID || r[5] != fmt.Sprint(e.Attempts) || r[6] != code || r[7] != status {
			t.Errorf("record %d = %q, entry %+v", i+1, r, e)
		}
	}
}

func TestReportS3Batch(t *testing.T) {
	_, _, reportPath, _ := dayAfter(t)
	code, stdout, stderr := wftrigger(t, "report", "--report", reportPath, "--format", "s3batch", "--status", "succeeded,failed")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var want []report.Entry
	for _, e := range readReport(t, reportPath).Objects {
		if e.Status != report.Invalid {
			want = append(want, e)
		}
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		e := want[i]
		key, err := url.QueryUnescape(r[1])
		if err != nil || key != e.Key || r[0] != emulatorBucket {
			t.Errorf("record %d: bucket %q key %q decodes to %q (%v), want %q", i, r[0], r[1], key, err, e.Key)
		}
		switch e.Status {
		case report.Succeeded:
			if r[3] != "succeeded" || r[5] != "200" || r[6] != e.InstanceID {
				t.Errorf("record %d = %q, want succeeded 200 %s", i, r, e.InstanceID)
			}
		default:
			if r[3] != "failed" || r[4] != "AccessDenied" || r[5] != "403" || r[6] != e.Error.Message {
				t.Errorf("record %d = %q, want failed AccessDenied 403", i, r)
			}
		}
	}
}

// TestReportJSONLFedBack feeds the exported manifest back to the run: the
// failed objects are tried again, nothing that succeeded is triggered a
// second time (counted at the emulator), and the whole export is a valid
// manifest too.
func TestReportJSONLFedBack(t *testing.T) {
	srv, emu, reportPath, _ := dayAfter(t)
	dir := filepath.Dir(reportPath)
	before := srv.Stats().Requests

	// The whole report, exported before anything else changes it.
	code, stdout, _ := wftrigger(t, "report", "--report", reportPath)
	all := filepath.Join(dir, "all.jsonl")
	if err := os.WriteFile(all, []byte(stdout), 0o644); err != nil || code != 0 {
		t.Fatal(code, err)
	}

	code, stdout, stderr := wftrigger(t, "report", "--report", reportPath, "--status", "failed")
	if code != 0 {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	failed := filepath.Join(dir, "failed.jsonl")
	if err := os.WriteFile(failed, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(stdout, "\n"); n != 6 {
		t.Fatalf("--status failed printed %d lines, want 6:\n%s", n, stdout)
	}
	code, out, errs := wftrigger(t, runArgs(emu, reportPath, "--manifest", failed)...)
	if code != exitFailures || !strings.Contains(out, "this run: 6 calls") {
		t.Fatalf("run --manifest failed.jsonl: exit %d, want 1 with 6 calls\n%s%s", code, out, errs)
	}

	// The whole export as the manifest of a rerun: only the failed again.
	code, out, errs = wftrigger(t, runArgs(emu, reportPath, "--manifest", all)...)
	if code != exitFailures || !strings.Contains(out, "60 already succeeded") {
		t.Fatalf("run --manifest all.jsonl: exit %d\n%s%s", code, out, errs)
	}
	// The invalid rows are invalid again, the one that is not UTF-8 with
	// its exact bytes.
	r := readReport(t, reportPath)
	if r.Summary.Succeeded != 60 || r.Summary.Invalid != 2 {
		t.Errorf("summary after the reruns %+v", r.Summary)
	}
	for _, e := range r.Objects {
		if e.Error != nil && e.Error.Code == "InvalidUTF8" && e.KeyHex != fmt.Sprintf("%x", "bad\xffutf8.mp4") {
			t.Errorf("invalid UTF-8 entry %+v lost its bytes", e)
		}
	}

	if got := srv.Stats().Requests - before; got != 6+6 {
		t.Errorf("the reruns sent %d requests, want 12: the 6 failed ones, twice", got)
	}
	for k, n := range srv.TriggerCounts() {
		if !strings.HasPrefix(k.Key, "denied/") && n != 1 {
			t.Errorf("%q triggered %d times", k.Key, n)
		}
	}
}

func TestReportFilters(t *testing.T) {
	_, emu, reportPath, _ := dayAfter(t)
	// Executions: look them up, then choose by state.
	if code, _, stderr := wftrigger(t, "status", "--report", reportPath, "--ci-endpoint", emu); code != 0 {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	count := func(args ...string) int {
		t.Helper()
		code, stdout, stderr := wftrigger(t, append([]string{"report", "--report", reportPath}, args...)...)
		if code != 0 {
			t.Fatalf("report %q: exit %d\n%s", args, code, stderr)
		}
		for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
			var e report.Entry
			if line != "" && json.Unmarshal([]byte(line), &e) != nil {
				t.Fatalf("report %q: line %q is not JSON", args, line)
			}
		}
		return strings.Count(stdout, "\n")
	}
	tests := []struct {
		args []string
		want int
	}{
		{nil, 68},
		{[]string{"--status", "succeeded"}, 60},
		{[]string{"--status", "failed"}, 6},
		{[]string{"--status", "invalid"}, 2},
		{[]string{"--status", "failed,invalid"}, 8},
		{[]string{"--status", "uncertain"}, 0},
		{[]string{"--execution", "Success"}, 60},
		{[]string{"--execution", "Failed,Cancel"}, 0},
		{[]string{"--status", "failed", "--execution", "Success"}, 0},
	}
	for _, tc := range tests {
		if got := count(tc.args...); got != tc.want {
			t.Errorf("report %q: %d entries, want %d", tc.args, got, tc.want)
		}
	}
	for _, args := range [][]string{{"--status", "done"}, {"--format", "xml"}, {"extra"}} {
		if code, _, stderr := wftrigger(t, append([]string{"report", "--report", reportPath}, args...)...); code != exitUsage || !strings.Contains(stderr, "hint:") {
			t.Errorf("report %q: exit %d, want 2 with a hint\n%s", args, code, stderr)
		}
	}
	if code, _, stderr := wftrigger(t, "report", "--report", filepath.Join(t.TempDir(), "nosuch.json")); code != exitUsage || !strings.Contains(stderr, "nosuch.json") {
		t.Errorf("report of a missing file: exit %d\n%s", code, stderr)
	}
}

// TestReportDuringRun reads a report whose run holds its lock and has
// journaled entries since its last rewrite: report takes no lock, prints
// the entries as of that rewrite and says that the journal holds more.
func TestReportDuringRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	rep, err := report.Open(report.Options{Path: path, Meta: report.Meta{Bucket: emulatorBucket, WorkflowID: emulatorWorkflow, Source: "manifest a.txt", StartedAt: time.Now().UTC()}})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close(time.Now().UTC(), false)
	for i := range 3 {
		if err := rep.Record(report.Entry{Key: fmt.Sprintf("a/%d.mp4", i), Status: report.Succeeded, InstanceID: fmt.Sprint("i", i), Attempts: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rep.Compact(); err != nil {
		t.Fatal(err)
	}
	if err := rep.Record(report.Entry{Key: "b.mp4", Status: report.Failed, Attempts: 1, Error: &report.Error{Code: "InternalError", Message: "x"}}); err != nil {
		t.Fatal(err)
	}
	// The lock is held: a run on this report exits 4, report does not.
	code, stdout, stderr := wftrigger(t, "report", "--report", path, "--format", "csv")
	if code != 0 {
		t.Fatalf("report during a run: exit %d\n%s", code, stderr)
	}
	if n := strings.Count(stdout, "\n"); n < 1+3 || !strings.Contains(stdout, "a/2.mp4,succeeded,,,i2,1") {
		t.Errorf("report during a run printed\n%s", stdout)
	}
	// What the journal holds since the last rewrite is read too.
	if !strings.Contains(stdout, "b.mp4,failed,") {
		t.Errorf("report during a run does not show the journal's failed b.mp4:\n%s", stdout)
	}
	// The reading function itself: every entry of the last rewrite and journal.
	var keys []string
	h, err := scanReport(path, func(e report.Entry) error { keys = append(keys, e.Key); return nil })
	if err != nil || h.Bucket != emulatorBucket || !slices.Contains(keys, "a/0.mp4") || !slices.Contains(keys, "b.mp4") {
		t.Errorf("scanReport = %v, %v, %q", h, err, keys)
	}
}

func TestManifestThatIsAReportIsRefused(t *testing.T) {
	srv, emu, reportPath, _ := dayAfter(t)
	before := len(srv.Triggers())
	for _, format := range []string{"", "jsonl", "csv", "txt"} {
		args := runArgs(emu, filepath.Join(t.TempDir(), "r.json"), "--manifest", reportPath)
		if format != "" {
			args = append(args, "--format", format)
		}
		code, _, stderr := wftrigger(t, args...)
		if code != exitUsage || !strings.Contains(stderr, "a wftrigger report, not a manifest") ||
			!strings.Contains(stderr, "hint: ") || !strings.Contains(stderr, "wftrigger report --report "+reportPath+" --status failed > failed.jsonl") {
			t.Errorf("--manifest report.json --format %q: exit %d, want 2 with the hint\n%s", format, code, stderr)
		}
	}
	code, _, stderr := wftrigger(t, runArgs(emu, filepath.Join(t.TempDir(), "r.json"), "--manifest", reportPath+".journal", "--format", "jsonl")...)
	if _, err := os.Stat(reportPath + ".journal"); err == nil && code != exitUsage {
		t.Errorf("--manifest of a journal: exit %d\n%s", code, stderr)
	}
	if n := len(srv.Triggers()); n != before {
		t.Errorf("%d triggers after a refused manifest", n-before)
	}
}

// TestDryRunList writes the plan of a run that resumes, filters and
// limits, then runs it: the emulator gets exactly the planned objects.
func TestDryRunList(t *testing.T) {
	srv, emu := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	keys := oddKeys(40)
	manifestPath := filepath.Join(dir, "objects.csv")
	writeCSV(t, manifestPath, append(slices.Clone(keys), "media/other.mov", keys[3], "/bad.mp4"))
	reportPath := filepath.Join(dir, "report.json")
	// The first 10 succeed in a first run.
	if code, _, stderr := wftrigger(t, runArgs(emu, reportPath, "--manifest", manifestPath, "--limit", "10", "--suffix", ".mp4")...); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	plan := filepath.Join(dir, "plan.jsonl")
	args := runArgs(emu, reportPath, "--manifest", manifestPath, "--suffix", ".mp4", "--limit", "25")
	code, stdout, stderr := wftrigger(t, append(args, "--dry-run", "--list", plan)...)
	if code != 0 || !strings.Contains(stdout, "listed in "+plan+": 25") {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	var planned []string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var row struct{ Key string }
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("plan line %q: %v", line, err)
		}
		planned = append(planned, row.Key)
	}
	if want := keys[10:35]; !slices.Equal(planned, want) {
		t.Fatalf("plan = %q,\nwant %q", planned, want)
	}
	if ents, _ := filepath.Glob(filepath.Join(filepath.Dir(plan), "."+filepath.Base(plan)+".tmp-*")); len(ents) > 0 {
		t.Errorf("temporary files left: %q", ents)
	}
	before := srv.TriggerCounts()
	if code, out, errs := wftrigger(t, runArgs(emu, reportPath, "--manifest", plan)...); code != 0 {
		t.Fatalf("run --manifest plan.jsonl: exit %d\n%s%s", code, out, errs)
	}
	after := srv.TriggerCounts()
	var got []string
	for k, n := range after {
		if n != 1 {
			t.Errorf("%q triggered %d times", k.Key, n)
		}
		if before[k] == 0 {
			got = append(got, k.Key)
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(planned))
	if !slices.Equal(got, want) {
		t.Errorf("the run of the plan triggered %q, want %q", got, want)
	}

	// --list is for dry runs, in a folder that exists.
	for _, bad := range [][]string{{"--list", plan}, {"--dry-run", "--list", filepath.Join(dir, "no", "plan.jsonl")}, {"--dry-run", "--list", "-"},
		{"--dry-run", "--list", manifestPath}, {"--dry-run", "--list", reportPath}} {
		if code, _, stderr := wftrigger(t, append(slices.Clone(args), bad...)...); code != exitUsage || !strings.Contains(stderr, "hint:") {
			t.Errorf("%q: exit %d, want 2 with a hint\n%s", bad, code, stderr)
		}
	}
}

func TestDryRunETAInSeconds(t *testing.T) {
	_, emu := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "k.txt"), oddKeys(7))
	for qps, want := range map[string]string{"2": "at least 4s", "0.5": "at least 14s", "1000": "under 1s"} {
		args := runArgs(emu, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "k.txt"), "--dry-run")
		args[slices.Index(args, "--qps")+1] = qps
		code, stdout, stderr := wftrigger(t, args...)
		if code != 0 || !strings.Contains(stdout, "time at --qps "+qps+":  "+want+"\n") {
			t.Errorf("--qps %s: exit %d, want %q in\n%s%s", qps, code, want, stdout, stderr)
		}
	}
}

func TestMetricsFileFolderMissing(t *testing.T) {
	srv, emu := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "k.txt"), oddKeys(3))
	code, _, stderr := wftrigger(t, runArgs(emu, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "k.txt"), "--metrics-file", filepath.Join(dir, "nodir", "m.prom"))...)
	if code != exitUsage || !strings.Contains(stderr, "does not exist") || !strings.Contains(stderr, "mkdir -p") {
		t.Errorf("exit %d, want 2 at the start\n%s", code, stderr)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests before the error", n)
	}
}

func TestBlankLinesAreNotInvalid(t *testing.T) {
	_, emu := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	for name, content := range map[string]string{
		"k.txt": "\na.mp4\n\nb c.mp4\r\n\r\n",
		"k.csv": "key\n\na.mp4\n\n\"b c.mp4\"\n\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		reportPath := filepath.Join(dir, name+".json")
		code, _, stderr := wftrigger(t, runArgs(emu, reportPath, "--manifest", path)...)
		if s := readReport(t, reportPath).Summary; code != 0 || s.Total != 2 || s.Invalid != 0 {
			t.Errorf("%s: exit %d, summary %+v, want 0 and 2 objects\n%s", name, code, s, stderr)
		}
	}
}

func TestVersionOf(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "11e2884c1a2b3c4d5e6f"}, {Key: "vcs.time", Value: "2026-12-01T08:00:00Z"}}
	modified := append(slices.Clone(rev), debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	tests := []struct {
		version  string
		settings []debug.BuildSetting
		want     string
	}{
		{"(devel)", nil, "devel"},
		{"(devel)", rev, "devel 11e2884c1a2b (2026-12-01T08:00:00Z)"},
		{"(devel)", modified, "devel 11e2884c1a2b (2026-12-01T08:00:00Z, modified)"},
		{"", modified, "devel 11e2884c1a2b (2026-12-01T08:00:00Z, modified)"},
		{"v1.2.0", nil, "v1.2.0"},
		{"v0.0.0-20261201080000-11e2884c1a2b", rev, "v0.0.0-20261201080000-11e2884c1a2b"},
		{"v0.0.0-20261201080000-11e2884c1a2b+dirty", modified, "v0.0.0-20261201080000-11e2884c1a2b+dirty"},
		{"v1.2.0", modified, "v1.2.0 11e2884c1a2b (modified)"},
	}
	for _, tc := range tests {
		info := &debug.BuildInfo{Main: debug.Module{Version: tc.version}, Settings: tc.settings}
		if got := versionOf(info); got != tc.want {
			t.Errorf("versionOf(%q, %v) = %q, want %q", tc.version, tc.settings, got, tc.want)
		}
	}
}

func TestBarDescription(t *testing.T) {
	var c runner.Counters
	const pace = "triggering · limit none · 12.5/s accepted"
	if got := barDescription(&c, 0, 12.5); got != pace {
		t.Errorf("no failure: %q, want %q", got, pace)
	}
	c.Failed.Add(3)
	c.Retries.Add(1)
	if got, want := barDescription(&c, 0, 12.5), pace+" (3 failed, 1 retry)"; got != want {
		t.Errorf("3 failed, 1 retry: %q, want %q", got, want)
	}
	c.Invalid.Add(2)
	c.Retries.Add(11)
	c.Throttled.Add(7)
	if got, want := barDescription(&c, 0, 12.5), pace+" (7 throttled, 3 failed, 2 invalid, 12 retries)"; got != want {
		t.Errorf("7 throttled, 3 failed, 2 invalid, 12 retries: %q, want %q", got, want)
	}
	if got, want := barDescription(&c, 50, 0), "triggering · limit 0.0/s · 0.0/s accepted (7 throttled, 3 failed, 2 invalid, 12 retries)"; got != want {
		t.Errorf("--qps 50 before the pacer: %q, want %q", got, want)
	}
}

func TestDemoTwice(t *testing.T) {
	dir := t.TempDir()
	for i, want := range []string{"", "this run resumes it"} {
		code, stdout, stderr := wftrigger(t, "demo", "--objects", "60", "--dir", dir)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Fatalf("demo %d: exit %d, want 0 and %q\n%s%s", i+1, code, want, stdout, stderr)
		}
	}
}

// TestReportOfARunningAndAKilledRun reads the report of a run in another
// process that holds its lock, then of that run killed with its journal
// left: both times exit 0, valid CSV, no lock taken (the run itself would
// exit 4).
func TestReportOfARunningAndAKilledRun(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, emu := testEmulator(t, emulator.Faults{Latency: 20 * time.Millisecond})
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "keys.txt"), oddKeys(2000))
	reportPath := filepath.Join(dir, "r.json")
	cmd := startChild(t, runArgs(emu, reportPath, "--manifest", filepath.Join(dir, "keys.txt"), "--qps", "20", "--concurrency", "2")...)
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	waitFor(t, func() bool { return len(srv.Triggers()) >= 2 })
	check := func(when string) string {
		t.Helper()
		code, stdout, stderr := wftrigger(t, "report", "--report", reportPath, "--format", "csv")
		if code != 0 {
			t.Fatalf("report %s: exit %d\n%s", when, code, stderr)
		}
		if _, err := csv.NewReader(strings.NewReader(stdout)).ReadAll(); err != nil || !strings.HasPrefix(stdout, "key,status,") {
			t.Fatalf("report %s: %v\n%s", when, err, stdout)
		}
		return stdout
	}
	check("while the run goes on")
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	// The journal is read too: every trigger the emulator answered, less
	// the (at most --concurrency) answers the killed run never read.
	accepted := len(srv.Triggers())
	if got := strings.Count(check("after kill -9"), ",succeeded,"); got < accepted-2 {
		t.Errorf("report after kill -9 shows %d succeeded, the emulator accepted %d", got, accepted)
	}
}
