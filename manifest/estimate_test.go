package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEstimateRows(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, format string
		want               int64
	}{
		{"csv less its header", write("a.csv", "key\na\nb\nc\n"), "", 3},
		{"text", write("a.txt", "a\nb\n"), "", 2},
		{"jsonl by --format", write("rows", "{}\n{}\n"), "jsonl", 2},
		{"gzip", write("a.csv.gz", "x\ny\n"), "", 0},
		{"inventory", write("manifest.json", "{}\n"), "", 0},
		{"stdin", "-", "csv", 0},
		{"missing", filepath.Join(dir, "none.csv"), "", 0},
		{"unknown format", write("rows.dat", "a\n"), "", 0},
	}
	for _, tt := range tests {
		if got := EstimateRows(tt.path, tt.format); got != tt.want {
			t.Errorf("%s: EstimateRows(%q, %q) = %d, want %d", tt.name, tt.path, tt.format, got, tt.want)
		}
	}
}
