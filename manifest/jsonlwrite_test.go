package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestJSONLWriterRoundTrip(t *testing.T) {
	rows := []Row{
		{Key: "videos/a b.mp4"},
		{Key: `q"uote\back/slash`, WorkflowID: "w1", Name: "n-1"},
		{Key: "tab\there <&> +%2B 100%"},
		{Key: "视频/第 二 🎬.mp4", Name: "x_y"},
		{Key: "ctl\x01\x7f line\u2028sep\u2029"},
		{Key: "a\x1fb"},
	}
	var buf bytes.Buffer
	w := NewJSONLWriter(&buf)
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		var o struct{ Key, WorkflowID, Name string }
		if err := json.Unmarshal([]byte(line), &o); err != nil || o.Key != rows[i].Key {
			t.Errorf("line %d %q: encoding/json reads key %q (%v), want %q", i+1, line, o.Key, err, rows[i].Key)
		}
	}
	got := readAll(t, NewJSONL(&buf, "plan.jsonl"))
	if len(got) != len(rows) {
		t.Fatalf("read back %d rows, want %d: %s", len(got), len(rows), briefs(got))
	}
	for i, r := range got {
		want := rows[i]
		want.Line = i + 1
		if r.Key != want.Key || r.WorkflowID != want.WorkflowID || r.Name != want.Name || r.Line != want.Line {
			t.Errorf("row %d = %s, want %s", i, brief(r), brief(want))
		}
		// Only CAN, EM, SUB, ESC and line breaks make a key invalid: every
		// row here is usable.
		if r.Invalid != nil {
			t.Errorf("row %d %s: invalid %+v", i, brief(r), r.Invalid)
		}
	}
}

func TestJSONLKeyHex(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"exact bytes back", `{"key":"v\ufffd/a","keyHex":"76e8a72f61","status":"invalid"}`, "L1 \"v\uFFFD/a\" !InvalidUTF8"},
		{"hex of another key", `{"key":"b","keyHex":"76e8a72f61"}`, `L1 "" !BadJSON`},
		{"not hex", `{"key":"a","keyHex":"zz"}`, `L1 "" !BadJSON`},
		{"valid UTF-8 hex", `{"key":"ab","keyHex":"6162"}`, `L1 "ab"`},
		{"report fields ignored", `{"key":"a.mp4","workflowId":"w1","name":"n","status":"failed","attempts":2,"error":{"code":"X","message":"m"},"execution":{"state":"Failed"}}`, `L1 "a.mp4" wf=w1 name=n`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := readAll(t, NewJSONL(strings.NewReader(tc.in+"\n"), "r.jsonl"))
			if got := briefs(rows); got != tc.want {
				t.Errorf("read(%q) = %s, want %s", tc.in, got, tc.want)
			}
			if len(rows) == 1 && rows[0].Invalid != nil && rows[0].Invalid.Code == CodeInvalidUTF8 && rows[0].Invalid.KeyHex != "76e8a72f61" {
				t.Errorf("keyHex = %q, want the exact bytes 76e8a72f61", rows[0].Invalid.KeyHex)
			}
		})
	}
}

func TestOpenRefusesReport(t *testing.T) {
	report := "{\n  \"version\": 1,\n  \"bucket\": \"media-1250000000\",\n  \"source\": \"manifest a.csv\",\n  \"summary\": {\"total\": 1},\n  \"objects\": [\n    {\"key\":\"a.mp4\",\"status\":\"succeeded\"}\n  ]\n}\n"
	journal := `{"journal":1,"bucket":"media-1250000000","startedAt":"2026-11-27T01:00:00Z"}` + "\n" + `{"key":"a.mp4","status":"succeeded"}` + "\n"
	dir := t.TempDir()
	tests := []struct {
		name, file, content, format string
		want                        error
	}{
		{"report by its name", "report.json", report, "", ErrReport},
		{"report as jsonl", "report.json", report, "jsonl", ErrReport},
		{"report as csv", "report.json", report, "csv", ErrReport},
		{"report as txt", "report.json", report, "txt", ErrReport},
		{"report gzipped", "report.json.gz", string(gzipBytes(t, []byte(report))), "jsonl", ErrReport},
		{"compact report", "r.jsonl", `{"version":1,"bucket":"b-1","objects":[]}`, "", ErrReport},
		{"journal", "report.json.journal", journal, "jsonl", ErrJournal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, dir, tc.file, []byte(tc.content))
			_, err := Open(t.Context(), path, Options{Format: tc.format})
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrReport) {
				t.Fatalf("Open(%s, --format %q) = %v, want %v", tc.file, tc.format, err, tc.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
		})
	}
	// A manifest that `wftrigger report` wrote is no report, nor rows that
	// merely look like one.
	for i, content := range []string{
		`{"key":"version","status":"failed","bucket":"x","summary":1}`,
		`{"version":"2","bucket":"b","summary":{},"key":"a"}`,
		`{"version":1,"key":"a"}`,
		`{"journal":"j","key":"a"}`,
	} {
		path := write(t, dir, fmt.Sprintf("m%d.jsonl", i), []byte(content+"\n"))
		if _, err := Open(t.Context(), path, Options{}); err != nil {
			t.Errorf("Open(%s) = %v", content, err)
		}
	}
	// Nor is a missing file of an unknown format a report.
	if _, err := Open(t.Context(), dir+"/nosuch.json", Options{}); err == nil || errors.Is(err, ErrReport) {
		t.Errorf("Open(missing) = %v", err)
	}
}

// FuzzAppendJSONL checks that every usable key, workflow and name written
// by AppendJSONL is read back byte for byte by the JSONL reader, and that
// encoding/json reads the line as the same strings.
func FuzzAppendJSONL(f *testing.F) {
	for _, s := range []string{"a b.mp4", `q"\`, "视频\u2028", "\x00\x1f<&>", "\xff"} {
		f.Add(s, "w1", "n")
	}
	f.Fuzz(func(t *testing.T, key, wf, name string) {
		line := AppendJSONL(nil, key, wf, name)
		if !json.Valid(line) {
			t.Fatalf("AppendJSONL(%q, %q, %q) = %s: not JSON", key, wf, name, line)
		}
		var o struct {
			Key        string `json:"key"`
			WorkflowID string `json:"workflowId"`
			Name       string `json:"name"`
		}
		if err := json.Unmarshal(line, &o); err != nil {
			t.Fatal(err)
		}
		if o.Key != viaJSON(key) || o.WorkflowID != viaJSON(wf) || o.Name != viaJSON(name) {
			t.Fatalf("AppendJSONL(%q, %q, %q) = %s: encoding/json reads %q", key, wf, name, line, o)
		}
		rows := readAll(t, NewJSONL(bytes.NewReader(append(line, '\n')), "f.jsonl"))
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows", line, len(rows))
		}
		// Bytes that are not UTF-8 become U+FFFD (only invalid keys have
		// them); every other string comes back as it was.
		valid := utf8.ValidString(key) && utf8.ValidString(wf) && utf8.ValidString(name)
		if r := rows[0]; valid && r.Invalid == nil && (r.Key != key || r.WorkflowID != wf || r.Name != name) {
			t.Fatalf("%s reads back as %s, want key %q wf %q name %q", line, brief(r), key, wf, name)
		}
	})
}

// viaJSON is s as encoding/json writes and reads it: each byte that is not
// part of valid UTF-8 replaced by U+FFFD.
func viaJSON(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}
