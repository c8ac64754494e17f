package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/runner"
)

func TestLabelValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"media-1250000000", "media-1250000000"},
		{`a"b`, `a\"b`},
		{`a\b`, `a\\b`},
		{"a\nb", `a\nb`},
		{"tab\there", "tab\there"}, // %q would write \t, which the text format does not undo
		{"视频", "视频"},               // %q keeps it too, but only by luck of printability
	}
	for _, tt := range tests {
		if got := labelValue(tt.in); got != tt.want {
			t.Errorf("labelValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMetricsLabelsEscaped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.prom")
	meta := report.Meta{Bucket: "media-1250000000", WorkflowID: "w\"1\\\n"}
	if err := writeMetrics(path, &runner.Counters{}, meta, time.Second, 0); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := `workflow="w\"1\\\n"`; !strings.Contains(string(b), want) {
		t.Errorf("metrics file does not hold %s:\n%s", want, b)
	}
}
