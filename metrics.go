package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/runner"
)

// writeMetrics writes the run's numbers as a Prometheus textfile (for the
// node exporter's textfile collector), atomically.
func writeMetrics(path string, c *runner.Counters, meta report.Meta, elapsed time.Duration, exitCode int) error {
	var b bytes.Buffer
	labels := `bucket="` + labelValue(meta.Bucket) + `",workflow="` + labelValue(meta.WorkflowID) + `"`
	metric := func(name, help, typ string, value float64, extra string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		l := labels
		if extra != "" {
			l += "," + extra
		}
		fmt.Fprintf(&b, "%s{%s} %g\n", name, l, value)
	}
	fmt.Fprintf(&b, "# HELP wftrigger_objects Objects of the last run by outcome.\n# TYPE wftrigger_objects gauge\n")
	for _, o := range []struct {
		status string
		n      int64
	}{
		{"succeeded", c.Succeeded.Load()}, {"failed", c.Failed.Load()}, {"invalid", c.Invalid.Load()},
		{"duplicate", c.Duplicates.Load()}, {"skipped", c.Skipped.Load()}, {"recovered", c.Recovered.Load()},
	} {
		fmt.Fprintf(&b, "wftrigger_objects{%s,status=\"%s\"} %d\n", labels, labelValue(o.status), o.n)
	}
	metric("wftrigger_calls", "TriggerWorkflow calls made by the last run.", "gauge", float64(c.Calls.Load()), "")
	metric("wftrigger_retries", "Retried calls of the last run.", "gauge", float64(c.Retries.Load()), "")
	metric("wftrigger_run_duration_seconds", "How long the last run took.", "gauge", elapsed.Seconds(), "")
	metric("wftrigger_last_run_exit_code", "Exit status of the last run.", "gauge", float64(exitCode), "")
	metric("wftrigger_last_run_timestamp_seconds", "When the last run finished.", "gauge", float64(time.Now().Unix()), "")

	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("metrics %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("metrics %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("metrics %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// labelValue escapes a label value as the Prometheus text format wants it:
// backslash, double quote and line feed, and nothing else (Go's %q would
// also escape tabs and non-printable runes in ways the parser does not
// undo).
func labelValue(v string) string {
	if !strings.ContainsAny(v, "\\\"\n") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
