package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wftrigger/wftrigger/emulator"
	"github.com/wftrigger/wftrigger/report"
)

// TestWindowEndsLikeTheSource: a run with --max-duration that the window
// cuts (2,000 keys at 20 calls a second, a window of 1 s) exits 0 with
// summary.complete false; the same command goes on where it stopped, and a
// run without the window finishes the source, each key triggered once at
// the emulator.
func TestWindowEndsLikeTheSource(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	keys := oddKeys(2000)
	manifest, path := filepath.Join(dir, "keys.csv"), filepath.Join(dir, "r.json")
	writeCSV(t, manifest, keys)
	windowed := runArgs(url, path, "--manifest", manifest, "--qps", "20", "--max-duration", "1s")

	succeeded := 0
	for i := range 2 {
		out, err := childProcess(t, windowed...).CombinedOutput()
		if err != nil {
			t.Fatalf("windowed run %d: %v, want exit 0\n%s", i+1, err, out)
		}
		if !strings.Contains(string(out), "window ended") || !strings.Contains(string(out), "the same command goes on") {
			t.Errorf("windowed run %d: the log does not say that the window ended and the same command goes on:\n%s", i+1, out)
		}
		r := readReport(t, path)
		if r.Summary.Complete {
			t.Errorf("windowed run %d: summary.complete = true, want false", i+1)
		}
		if r.Summary.Succeeded < succeeded || r.Summary.Succeeded >= len(keys) || r.Summary.Failed != 0 {
			t.Errorf("windowed run %d: summary %+v after %d succeeded; want more, not all, none failed", i+1, r.Summary, succeeded)
		}
		succeeded = r.Summary.Succeeded
	}
	code, stdout, stderr := wftrigger(t, runArgs(url, path, "--manifest", manifest)...)
	if code != 0 {
		t.Fatalf("the run without a window: exit %d\n%s%s", code, stdout, stderr)
	}
	if r := readReport(t, path); !r.Summary.Complete {
		t.Errorf("the run to the end: summary.complete = false, want true")
	}
	checkExactlyOnce(t, srv, keys, path)
}

// TestServerSideWindow: --max-duration stops waiting for the job, which
// goes on server-side (exit 3); a rerun reattaches and no object has two
// instances.
func TestServerSideWindow(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	keys := prefixedKeys("win/", 10)
	putKeys(srv, keys)
	srv.SetJobOptions(emulator.JobOptions{Rate: 2}) // 5 s: beyond the window
	dir := t.TempDir()
	path, prom := filepath.Join(dir, "r.json"), filepath.Join(dir, "m.prom")
	code, stdout, stderr := wftrigger(t, serverArgs(url, path, "--prefix", "win/", "--max-duration", "1s", "--metrics-file", prom)...)
	if code != 3 || !strings.Contains(stderr, "window ended") || !strings.Contains(stderr, "goes on server-side") {
		t.Fatalf("windowed server-side run: exit %d, want 3 and the window's message\n%s%s", code, stdout, stderr)
	}
	if jobs := srv.Jobs(); len(jobs) != 1 || jobs[0].State != "Running" {
		t.Fatalf("jobs after the window: %+v, want one, Running", jobs)
	}
	if r := readReport(t, path); r.Summary.Complete {
		t.Error("summary.complete = true after the window, want false")
	}
	m := readMetrics(t, prom, path)
	if m["wftrigger_last_run_exit_code"] != 3 || m["wftrigger_complete"] != 0 || m["wftrigger_objects{status=failed}"] != 0 {
		t.Errorf("windowed run's metrics: exit code %v, complete %v, failed %v; want 3, 0, 0", m["wftrigger_last_run_exit_code"], m["wftrigger_complete"], m["wftrigger_objects{status=failed}"])
	}
	first := m["wftrigger_objects{status=succeeded}"]
	code, stdout, stderr = wftrigger(t, serverArgs(url, path, "--prefix", "win/", "--metrics-file", prom)...)
	if code != 0 || len(srv.Jobs()) != 1 {
		t.Fatalf("rerun: exit %d with %d jobs, want 0 and the one job\n%s%s", code, len(srv.Jobs()), stdout, stderr)
	}
	if byJob, byCall := jobTriggers(t, srv); byJob != len(keys) || byCall != 0 {
		t.Errorf("%d instances by the job, %d by calls, want %d by the job", byJob, byCall, len(keys))
	}
	m = readMetrics(t, prom, path)
	if m["wftrigger_last_run_exit_code"] != 0 || m["wftrigger_complete"] != 1 || first+m["wftrigger_objects{status=succeeded}"] != float64(len(keys)) {
		t.Errorf("rerun's metrics: exit code %v, complete %v, succeeded %v after %v; want 0, 1, %d in all", m["wftrigger_last_run_exit_code"], m["wftrigger_complete"],
			m["wftrigger_objects{status=succeeded}"], first, len(keys))
	}
}

// readMetrics parses a metrics file as Prometheus does and returns every
// sample as "name" or "name{label=value}" (the label beyond bucket,
// workflow and report), checking that those three are on every sample.
func readMetrics(t *testing.T, path, reportPath string) map[string]float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("metrics file: %v", err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("metrics file does not parse: %v\n%s", err, b)
	}
	out := map[string]float64{}
	for name, f := range fams {
		if f.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s is a %s, want a gauge", name, f.GetType())
		}
		for _, m := range f.GetMetric() {
			key := name
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "bucket", "workflow", "report":
					have[l.GetName()] = l.GetValue()
				default:
					key = fmt.Sprintf("%s{%s=%s}", name, l.GetName(), l.GetValue())
				}
			}
			if want := map[string]string{"bucket": emulatorBucket, "workflow": emulatorWorkflow, "report": filepath.Base(reportPath)}; fmt.Sprint(have) != fmt.Sprint(want) {
				t.Errorf("%s labels %v, want %v", key, have, want)
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestMetricsFileMatchesReport: the metrics file of a run says what its
// report and summary say; a failing run keeps the last success of the run
// before; a run refused with exit 4 (the report is locked) and one refused
// with exit 2 after its flags parsed still write the file, with their exit
// status.
func TestMetricsFileMatchesReport(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	manifest, path, prom := filepath.Join(dir, "keys.txt"), filepath.Join(dir, "r.json"), filepath.Join(dir, "wftrigger.prom")
	good := oddKeys(300)
	writeLines(t, manifest, good)
	code, stdout, stderr := wftrigger(t, runArgs(url, path, "--manifest", manifest, "--metrics-file", prom)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	m := readMetrics(t, prom, path)
	r := readReport(t, path)
	for name, want := range map[string]float64{
		`wftrigger_objects{status=succeeded}`: float64(r.Summary.Succeeded),
		`wftrigger_objects{status=failed}`:    0,
		`wftrigger_objects{status=skipped}`:   0,
		`wftrigger_calls`:                     float64(len(srv.Triggers())),
		`wftrigger_complete`:                  1,
		`wftrigger_last_run_exit_code`:        0,
	} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("first run: %s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if !math.IsInf(m["wftrigger_rate_limit"], 1) {
		t.Errorf("wftrigger_rate_limit = %v with --qps 0, want +Inf", m["wftrigger_rate_limit"])
	}
	success := m["wftrigger_last_success_timestamp_seconds"]
	if success == 0 || success != m["wftrigger_last_run_timestamp_seconds"] {
		t.Errorf("first run: last success %v, last run %v: want both, equal", success, m["wftrigger_last_run_timestamp_seconds"])
	}

	// status records the executions in the run's file and keeps the rest.
	code, stdout, stderr = wftrigger(t, "status", "--report", path, "--ci-endpoint", url, "--metrics-file", prom, "--qps", "1000")
	if code != 0 {
		t.Fatalf("status: exit %d\n%s%s", code, stdout, stderr)
	}
	after := readMetrics(t, prom, path)
	if got := after["wftrigger_executions{state=Success}"]; got != float64(len(good)) {
		t.Errorf("after status: wftrigger_executions{state=Success} = %v, want %d", got, len(good))
	}
	for name, v := range m {
		if after[name] != v {
			t.Errorf("after status: %s = %v, want the run's %v", name, after[name], v)
		}
	}

	// The same report, three denied keys more: exit 1.
	denied := []string{"denied/a.mp4", "denied/b.mp4", "denied/c.mp4"}
	writeLines(t, manifest, append(append([]string{}, good...), denied...))
	calls := len(srv.Triggers())
	code, stdout, stderr = wftrigger(t, runArgs(url, path, "--manifest", manifest, "--metrics-file", prom)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	m = readMetrics(t, prom, path)
	for name, want := range map[string]float64{
		`wftrigger_objects{status=succeeded}`:      0,
		`wftrigger_objects{status=failed}`:         float64(len(denied)),
		`wftrigger_objects{status=skipped}`:        float64(len(good)),
		`wftrigger_calls`:                          float64(len(denied)),
		`wftrigger_complete`:                       1,
		`wftrigger_last_run_exit_code`:             1,
		`wftrigger_last_success_timestamp_seconds`: success,
	} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("failing run: %s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if got := len(srv.Triggers()); got != calls {
		t.Errorf("the emulator accepted %d more calls, want none (denied)", got-calls)
	}

	// Exit 4: another holder of the report's lock.
	held, err := report.Open(report.Options{Path: path, Meta: report.Meta{Version: 1, Bucket: emulatorBucket, WorkflowID: emulatorWorkflow}})
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr = wftrigger(t, runArgs(url, path, "--manifest", manifest, "--metrics-file", prom)...)
	held.Close(time.Now(), false)
	if code != 4 {
		t.Fatalf("locked: exit %d, want 4\n%s", code, stderr)
	}
	m = readMetrics(t, prom, path)
	if m["wftrigger_last_run_exit_code"] != 4 || m["wftrigger_last_success_timestamp_seconds"] != success || m["wftrigger_calls"] != 0 {
		t.Errorf("locked run: exit code %v, last success %v, calls %v; want 4, %v, 0", m["wftrigger_last_run_exit_code"],
			m["wftrigger_last_success_timestamp_seconds"], m["wftrigger_calls"], success)
	}

	// Exit 2: the flags parsed, their combination is refused.
	code, _, stderr = wftrigger(t, runArgs(url, path, "--manifest", manifest, "--metrics-file", prom, "--list", filepath.Join(dir, "plan.jsonl"))...)
	if code != 2 {
		t.Fatalf("--list without --dry-run: exit %d, want 2\n%s", code, stderr)
	}
	m = readMetrics(t, prom, path)
	if m["wftrigger_last_run_exit_code"] != 2 || m["wftrigger_complete"] != 0 || m["wftrigger_last_success_timestamp_seconds"] != success {
		t.Errorf("refused run: exit code %v, complete %v, last success %v; want 2, 0, %v", m["wftrigger_last_run_exit_code"], m["wftrigger_complete"],
			m["wftrigger_last_success_timestamp_seconds"], success)
	}
}

// TestLogFormatJSON: with --log-format json every line on stderr is a JSON
// object with the same run id, numbers as numbers, and the summary on
// stdout is one JSON object with the report's counts.
func TestLogFormatJSON(t *testing.T) {
	_, url := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	manifest, path := filepath.Join(dir, "keys.txt"), filepath.Join(dir, "r.json")
	keys := oddKeys(50)
	writeLines(t, manifest, append(keys, keys[0])) // a duplicate too
	code, stdout, stderr := wftrigger(t, runArgs(url, path, "--manifest", manifest, "--log-format", "json", "--progress", "log")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	runID := ""
	sc := bufio.NewScanner(strings.NewReader(stderr))
	lines := 0
	for sc.Scan() {
		lines++
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("stderr line is not JSON: %v\n%s", err, sc.Text())
			continue
		}
		id, _ := line["run"].(string)
		if runID == "" {
			runID = id
		}
		if id == "" || id != runID {
			t.Errorf("stderr line with run %q, want %q: %s", id, runID, sc.Text())
		}
		if line["msg"] == "start" {
			pace, _ := line["pace"].(map[string]any)
			if _, ok := pace["concurrency"].(float64); !ok {
				t.Errorf("start line: pace.concurrency is not a number: %s", sc.Text())
			}
			if line["credentials"] != "env (TENCENTCLOUD_SECRET_ID)" {
				t.Errorf("start line: credentials %v, want the source's name", line["credentials"])
			}
		}
	}
	if lines < 2 || runID == "" {
		t.Fatalf("stderr has %d lines (want the credentials and start lines at least), run id %q:\n%s", lines, runID, stderr)
	}
	var sum struct {
		Msg    string
		Run    string
		Report struct {
			Total, Succeeded, Failed, Invalid, Duplicates int
			Complete                                      bool
		}
		ThisRun struct {
			Calls, Throttled int
		}
		ExitCode int
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &sum); err != nil || strings.Count(strings.TrimSpace(stdout), "\n") != 0 {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	r := readReport(t, path)
	if sum.Msg != "summary" || sum.Run != runID || sum.Report.Total != r.Summary.Total || sum.Report.Succeeded != r.Summary.Succeeded ||
		sum.Report.Failed != r.Summary.Failed || sum.Report.Duplicates != r.Summary.Duplicates || sum.Report.Complete != r.Summary.Complete ||
		sum.ThisRun.Calls != 50 || sum.ExitCode != 0 {
		t.Errorf("summary %+v, report summary %+v, run %q: want the report's counts, 50 calls, exit 0", sum, r.Summary, runID)
	}
}

// TestLogFormatJSONError: with --log-format json, the error that ends a
// run and its hint are a JSON line too.
func TestLogFormatJSONError(t *testing.T) {
	_, url := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "keys.txt"), []string{"denied/a.mp4"})
	code, _, stderr := wftrigger(t, runArgs(url, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "keys.txt"), "--log-format", "json")...)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	var last map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if err := json.Unmarshal([]byte(line), &last); err != nil {
			t.Fatalf("stderr line is not JSON: %v\n%s", err, line)
		}
	}
	if last["level"] != "ERROR" || last["exitCode"] != 1.0 || last["hint"] == nil {
		t.Errorf("last line %v, want the error with its exit code and hint", last)
	}
}

// TestWaitMetrics: run --wait writes the instances by execution state in
// its metrics file, with the run's exit status.
func TestWaitMetrics(t *testing.T) {
	_, url := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	path, prom := filepath.Join(dir, "r.json"), filepath.Join(dir, "m.prom")
	writeLines(t, filepath.Join(dir, "keys.txt"), oddKeys(20))
	code, stdout, stderr := wftrigger(t, runArgs(url, path, "--manifest", filepath.Join(dir, "keys.txt"), "--wait", "--wait-interval", "20ms", "--metrics-file", prom)...)
	if code != 0 {
		t.Fatalf("run --wait: exit %d\n%s%s", code, stdout, stderr)
	}
	m := readMetrics(t, prom, path)
	if m["wftrigger_executions{state=Success}"] != 20 || m["wftrigger_last_run_exit_code"] != 0 || m["wftrigger_objects{status=succeeded}"] != 20 {
		t.Errorf("run --wait's metrics: executions Success %v, exit code %v, succeeded %v; want 20, 0, 20",
			m["wftrigger_executions{state=Success}"], m["wftrigger_last_run_exit_code"], m["wftrigger_objects{status=succeeded}"])
	}
}
