package metrics

import (
	"path/filepath"
	"testing"
	"time"
)

// TestWriteExecutions: status's executions replace the earlier ones and
// keep every series of the run; the file still parses.
func TestWriteExecutions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.prom")
	run := Snapshot{Bucket: "media-1250000000", Workflow: "w1", Report: "/r/report.json", Version: "v1",
		Objects: Objects{Succeeded: 7}, Calls: 7, ExitCode: 0, Complete: true}
	if err := Write(path, run, time.Unix(1000, 0)); err != nil {
		t.Fatal(err)
	}
	for _, states := range []map[string]int64{{"Running": 7}, {"Success": 6, "Failed": 1}} {
		s := Snapshot{Bucket: run.Bucket, Workflow: run.Workflow, Report: run.Report, Executions: states}
		if err := WriteExecutions(path, s); err != nil {
			t.Fatal(err)
		}
	}
	fams := parseFile(t, path)
	if got := fams[NameCalls].GetMetric()[0].GetGauge().GetValue(); got != 7 {
		t.Errorf("%s = %v after status, want the run's 7", NameCalls, got)
	}
	if _, ok := fams[NameLastSuccess]; !ok {
		t.Errorf("%s gone after status", NameLastSuccess)
	}
	got := map[string]float64{}
	for _, m := range fams[NameExecutions].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "state" {
				got[l.GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	if len(got) != 2 || got["Success"] != 6 || got["Failed"] != 1 {
		t.Errorf("executions = %v, want the last status's: Success 6, Failed 1", got)
	}

	// Without a run's file, the executions alone.
	alone := filepath.Join(t.TempDir(), "m.prom")
	if err := WriteExecutions(alone, Snapshot{Bucket: "b-1", Workflow: "w", Report: "r.json", Executions: map[string]int64{"Success": 1}}); err != nil {
		t.Fatal(err)
	}
	if fams := parseFile(t, alone); len(fams) != 1 || fams[NameExecutions] == nil {
		t.Errorf("a status without a run's file: families %v, want %s alone", fams, NameExecutions)
	}
}
