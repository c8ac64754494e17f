package metrics

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parseText parses the text format as Prometheus does. The parser of
// prometheus/common v0.73 wants a name validation scheme (its zero value is
// unset and fails every name); LegacyValidation is the strict one, what a
// Prometheus or node exporter of any age accepts.
func parseText(t testing.TB, data []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse:\n%s\nerror: %v", data, err)
	}
	return fams
}

func parseFile(t testing.TB, path string) map[string]*dto.MetricFamily {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseText(t, data)
}

// flatten is every sample of fams as "name{l1=v1,l2=v2}" (labels sorted by
// name, values Go-quoted) → value. It checks that every family is a gauge.
func flatten(t testing.TB, fams map[string]*dto.MetricFamily) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for name, mf := range fams {
		if mf.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s: type %v, want gauge", name, mf.GetType())
		}
		if mf.GetHelp() == "" {
			t.Errorf("%s: no HELP", name)
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, lp := range m.GetLabel() {
				ls = append(ls, lp.GetName()+"="+quote(lp.GetValue()))
			}
			sort.Strings(ls)
			key := name + "{" + strings.Join(ls, ",") + "}"
			if _, dup := out[key]; dup {
				t.Errorf("%s: twice", key)
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// key builds a flatten key from the three common labels and an optional extra one.
func key(name, bucket, workflow, report string, extra ...string) string {
	ls := []string{"bucket=" + quote(bucket), "workflow=" + quote(workflow), "report=" + quote(report)}
	if len(extra) == 2 {
		ls = append(ls, extra[0]+"="+quote(extra[1]))
	}
	sort.Strings(ls)
	return name + "{" + strings.Join(ls, ",") + "}"
}

var (
	t0 = time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	t1 = t0.Add(24 * time.Hour)
	t2 = t1.Add(24*time.Hour + 1500*time.Millisecond)
	t3 = t2.Add(24 * time.Hour)
)

func fullSnapshot() Snapshot {
	return Snapshot{
		Bucket:   "media-1250000000",
		Workflow: "w123",
		Report:   "/var/lib/wftrigger/night.json",
		Version:  "v1.2.3",
		Objects: Objects{
			Succeeded: 9000, Failed: 7, Invalid: 3, Duplicate: 2, Skipped: 100, Recovered: 4,
		},
		Calls:      9050,
		Retries:    40,
		Throttled:  123,
		RateLimit:  87.5,
		Duration:   20*time.Minute + 250*time.Millisecond,
		ExitCode:   1,
		Complete:   true,
		Executions: map[string]int64{"Success": 8990, "Failed": 5, "Running": 5},
	}
}

// TestWriteEverySeries checks every name, label and value of the contract's
// "Metrics file" section, and that there is nothing else.
func TestWriteEverySeries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wftrigger.prom")
	s := fullSnapshot()
	s.ExitCode = 0
	if err := Write(path, s, t1); err != nil {
		t.Fatal(err)
	}
	got := flatten(t, parseFile(t, path))

	const b, w, r = "media-1250000000", "w123", "night.json"
	want := map[string]float64{
		key(NameObjects, b, w, r, "status", "succeeded"): 9000,
		key(NameObjects, b, w, r, "status", "failed"):    7,
		key(NameObjects, b, w, r, "status", "invalid"):   3,
		key(NameObjects, b, w, r, "status", "duplicate"): 2,
		key(NameObjects, b, w, r, "status", "skipped"):   100,
		key(NameObjects, b, w, r, "status", "recovered"): 4,
		key(NameCalls, b, w, r):                          9050,
		key(NameRetries, b, w, r):                        40,
		key(NameThrottled, b, w, r):                      123,
		key(NameRateLimit, b, w, r):                      87.5,
		key(NameRunDuration, b, w, r):                    1200.25,
		key(NameExitCode, b, w, r):                       0,
		key(NameLastRun, b, w, r):                        float64(t1.Unix()),
		key(NameLastSuccess, b, w, r):                    float64(t1.Unix()),
		key(NameComplete, b, w, r):                       1,
		key(NameBuildInfo, b, w, r, "version", "v1.2.3"): 1,
		key(NameExecutions, b, w, r, "state", "Success"): 8990,
		key(NameExecutions, b, w, r, "state", "Failed"):  5,
		key(NameExecutions, b, w, r, "state", "Running"): 5,
	}
	compare(t, got, want)

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only the metrics file (no temporary left)", len(entries))
	}
}

func compare(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("missing %s", k)
		case g != v && !(math.IsNaN(g) && math.IsNaN(v)):
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s = %v", k, v)
		}
	}
}

// TestRunning: a running run's file has no exit code (an alert on
// exit code != 0 must not fire), a heartbeat timestamp, and no
// wftrigger_executions when none were given.
func TestRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.prom")
	s := fullSnapshot()
	s.Running = true
	s.ExitCode = 3 // ignored while running
	s.Complete = false
	s.Executions = nil
	s.RateLimit = math.MaxFloat64 // x/time/rate's Inf
	if err := Write(path, s, t1); err != nil {
		t.Fatal(err)
	}
	fams := parseFile(t, path)
	for _, name := range []string{NameExitCode, NameLastSuccess, NameExecutions} {
		if _, ok := fams[name]; ok {
			t.Errorf("running, first run: %s written, want it absent", name)
		}
	}
	got := flatten(t, fams)
	const b, w, r = "media-1250000000", "w123", "night.json"
	if v := got[key(NameLastRun, b, w, r)]; v != float64(t1.Unix()) {
		t.Errorf("%s = %v, want %v (the time of the write)", NameLastRun, v, t1.Unix())
	}
	if v := got[key(NameComplete, b, w, r)]; v != 0 {
		t.Errorf("%s = %v, want 0", NameComplete, v)
	}
	if v := got[key(NameRateLimit, b, w, r)]; !math.IsInf(v, 1) {
		t.Errorf("%s = %v, want +Inf", NameRateLimit, v)
	}
}

// TestLabelEscaping: label values with quotes, backslashes, newlines,
// control characters, invalid UTF-8 and a report path parse and come back
// as they were (invalid UTF-8 as U+FFFD, the report as its base name).
func TestLabelEscaping(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		bucket, workflow, report string
		wantB, wantW, wantR      string
		version, wantVersion     string
		execState, wantExecState string
	}{
		{
			name:   "quote backslash newline",
			bucket: `a"b\c` + "\nd", workflow: `\"` + "\n\\n", report: `/tmp/x/r"e\p` + "\n.json",
			wantB: `a"b\c` + "\nd", wantW: `\"` + "\n\\n", wantR: `r"e\p` + "\n.json",
			version: `v"1\`, wantVersion: `v"1\`,
			execState: "a\nb", wantExecState: "a\nb",
		},
		{
			name:   "control characters",
			bucket: "tab\there\x01\x1b[31m\x7f\r", workflow: "\x00nul", report: "rep\x02ort.json",
			wantB: "tab\there\x01\x1b[31m\x7f\r", wantW: "\x00nul", wantR: "rep\x02ort.json",
			version: "\x03", wantVersion: "\x03",
			execState: "\t", wantExecState: "\t",
		},
		{
			name:   "invalid utf-8 and unicode",
			bucket: "视频-1250000000", workflow: "w\xff\xfe", report: "r\xc3.json",
			wantB: "视频-1250000000", wantW: "w\uFFFD", wantR: "r\uFFFD.json",
			version: "(devel)", wantVersion: "(devel)",
			execState: "\xffX", wantExecState: "\uFFFDX",
		},
		{
			name:  "empty",
			wantR: "", version: "", execState: "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.prom")
			s := fullSnapshot()
			s.Bucket, s.Workflow, s.Report, s.Version = tc.bucket, tc.workflow, tc.report, tc.version
			s.Executions = map[string]int64{tc.execState: 5}
			if err := Write(path, s, t1); err != nil {
				t.Fatal(err)
			}
			got := flatten(t, parseFile(t, path))
			for _, k := range []string{
				key(NameCalls, tc.wantB, tc.wantW, tc.wantR),
				key(NameObjects, tc.wantB, tc.wantW, tc.wantR, "status", "failed"),
				key(NameBuildInfo, tc.wantB, tc.wantW, tc.wantR, "version", tc.wantVersion),
				key(NameExecutions, tc.wantB, tc.wantW, tc.wantR, "state", tc.wantExecState),
				key(NameExitCode, tc.wantB, tc.wantW, tc.wantR),
			} {
				if _, ok := got[k]; !ok {
					t.Errorf("missing %s; have %v", k, got)
				}
			}
		})
	}
}

// TestHelpEscaping: HELP text escapes the backslash and the newline.
func TestHelpEscaping(t *testing.T) {
	if got, want := escapeHelp("a\\b\nc\"d"), `a\\b\nc"d`; got != want {
		t.Errorf("escapeHelp = %q, want %q", got, want)
	}
	text := "# HELP x " + escapeHelp("one\\two\nthree") + "\n# TYPE x gauge\nx 1\n"
	fams := parseText(t, []byte(text))
	if got := fams["x"].GetHelp(); got != "one\\two\nthree" {
		t.Errorf("HELP round trip = %q", got)
	}
}

// lastSuccess reads the last-success series of the file at path.
func lastSuccess(t *testing.T, path string) (float64, bool) {
	t.Helper()
	mf, ok := parseFile(t, path)[NameLastSuccess]
	if !ok {
		return 0, false
	}
	if n := len(mf.GetMetric()); n != 1 {
		t.Fatalf("%s: %d samples, want 1", NameLastSuccess, n)
	}
	return mf.GetMetric()[0].GetGauge().GetValue(), true
}

// TestLastSuccessKept: the last-success time is kept from the previous file
// by a failing or running run with the same labels, updated by a
// succeeding one, and not taken from a file with other labels.
func TestLastSuccessKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.prom")
	s := fullSnapshot()
	s.Bucket = "b\"\\\n\x01" // the look-up must match escaped labels too

	steps := []struct {
		name      string
		running   bool
		exit      int
		bucket    string
		at        time.Time
		want      float64
		wantFound bool
	}{
		{"first run fails: none yet", false, 1, s.Bucket, t0, 0, false},
		{"succeeds", false, 0, s.Bucket, t1, seconds(t1), true},
		{"fails: kept", false, 1, s.Bucket, t2, seconds(t1), true},
		{"runs: kept", true, 0, s.Bucket, t2.Add(time.Hour), seconds(t1), true},
		{"aborts with 4: kept", false, 4, s.Bucket, t2.Add(2 * time.Hour), seconds(t1), true},
		{"succeeds again", false, 0, s.Bucket, t2.Add(3 * time.Hour), seconds(t2.Add(3 * time.Hour)), true},
		{"other bucket fails: not its success", false, 2, "other", t3, 0, false},
	}
	for _, st := range steps {
		s.Running, s.ExitCode, s.Bucket = st.running, st.exit, st.bucket
		if err := Write(path, s, st.at); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, found := lastSuccess(t, path)
		if found != st.wantFound || got != st.want {
			t.Errorf("%s: last success = %v (found %v), want %v (found %v)", st.name, got, found, st.want, st.wantFound)
		}
		if v := flatten(t, parseFile(t, path))[key(NameLastRun, st.bucket, s.Workflow, "night.json")]; v != seconds(st.at) {
			t.Errorf("%s: last run = %v, want %v", st.name, v, seconds(st.at))
		}
	}
	if got := seconds(t2); got != float64(t2.Unix())+0.5 {
		t.Fatalf("seconds keeps milliseconds: %v", got)
	}
}

// TestLastSuccessFromOtherFiles: a previous file that is not ours (the old
// Go-quoted format without a report label, garbage, a folder) gives no
// last success and no error when it can be replaced.
func TestLastSuccessFromOtherFiles(t *testing.T) {
	for _, tc := range []struct {
		name, previous string
	}{
		{"old format", `wftrigger_last_success_timestamp_seconds{bucket="media-1250000000",workflow="w123"} 1.7e+09` + "\n"},
		{"other report", `wftrigger_last_success_timestamp_seconds{bucket="media-1250000000",workflow="w123",report="day.json"} 1.7e+09` + "\n"},
		{"extra label", `wftrigger_last_success_timestamp_seconds{bucket="media-1250000000",workflow="w123",report="night.json",x="y"} 1.7e+09` + "\n"},
		{"garbage", "wftrigger_last_success_timestamp_seconds{bucket=\"\\q\n\x00\xff{{{}}} NaN\n"},
		{"bad value", `wftrigger_last_success_timestamp_seconds{bucket="media-1250000000",workflow="w123",report="night.json"} NaN` + "\n"},
		{"long line", "wftrigger_last_success_timestamp_seconds{" + strings.Repeat("x", 2<<20) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.prom")
			if err := os.WriteFile(path, []byte(tc.previous), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := Write(path, fullSnapshot(), t1); err != nil {
				t.Fatal(err)
			}
			if v, found := lastSuccess(t, path); found {
				t.Errorf("last success = %v, want none", v)
			}
		})
	}
	t.Run("label order and spaces", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "m.prom")
		prev := `wftrigger_last_success_timestamp_seconds{ report="night.json", workflow="w123",bucket="media-1250000000",} 1700000000.25 1700000000000` + "\n"
		if err := os.WriteFile(path, []byte(prev), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Write(path, fullSnapshot(), t1); err != nil {
			t.Fatal(err)
		}
		if v, _ := lastSuccess(t, path); v != 1700000000.25 {
			t.Errorf("last success = %v, want 1700000000.25", v)
		}
	})
}

// TestFolderMissing: a metrics file whose folder does not exist is an
// error, from CheckPath (before the run) and from Write.
func TestFolderMissing(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-folder", "m.prom")
	if err := CheckPath(missing); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("CheckPath(%q) = %v, want a folder does not exist error", missing, err)
	}
	if err := Write(missing, fullSnapshot(), t1); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Write(%q) = %v, want a folder does not exist error", missing, err)
	}

	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"empty", "", "empty path"},
		{"folder is a file", filepath.Join(file, "m.prom"), "not a folder"},
		{"path is a folder", dir, "is a folder"},
	} {
		if err := CheckPath(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: CheckPath(%q) = %v, want an error with %q", tc.name, tc.path, err, tc.want)
		}
	}

	good := filepath.Join(dir, "m.prom")
	if err := CheckPath(good); err != nil {
		t.Errorf("CheckPath(%q) = %v", good, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("CheckPath left %d entries, want only %q", len(entries), "file")
	}
}

// FuzzLabelValue: any label value parses and comes back as it was, valid UTF-8.
func FuzzLabelValue(f *testing.F) {
	for _, seed := range []string{"", `"`, `\`, "\n", `\n`, "\x00\x01\x7f", "\xff", "视频", `a\"b`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		var b bytes.Buffer
		s := fullSnapshot()
		s.Bucket, s.Report = v, "r.json"
		encode(&b, s, t1, 0, false)
		mf := parseText(t, b.Bytes())[NameCalls]
		for _, lp := range mf.GetMetric()[0].GetLabel() {
			if lp.GetName() == "bucket" && lp.GetValue() != valid(v) {
				t.Errorf("bucket %q came back %q", v, lp.GetValue())
			}
		}
		got, rest, ok := parseLabels(b.String()[strings.Index(b.String(), NameCalls+"{")+len(NameCalls)+1:])
		if !ok || got["bucket"] != valid(v) || !strings.HasPrefix(rest, " ") {
			t.Errorf("parseLabels: bucket %q came back %q (ok %v)", v, got["bucket"], ok)
		}
	})
}
