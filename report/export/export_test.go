package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/manifest"
	"github.com/wftrigger/wftrigger/report"
)

// entries are one of each kind, with keys that need quoting and encoding.
func entries() []report.Entry {
	at := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	return []report.Entry{
		{Key: "videos/a b.mp4", Status: report.Succeeded, InstanceID: "i1", RequestID: "r1", Attempts: 1,
			Execution: &report.Execution{State: "Success", CheckedAt: at}},
		{Key: `media/q"uote, com+ma 100%/视频.mp4`, WorkflowID: "w2", Name: "n-2", Status: report.Succeeded, InstanceID: "i2", Attempts: 2,
			Execution: &report.Execution{State: "Failed", CheckedAt: at, Tasks: []report.Task{{Type: "Transcode", State: "Failed", Code: "E", Message: "bad\nsource"}}}},
		{Key: "denied/x <&>.mp4", Status: report.Failed, Attempts: 1,
			Error: &report.Error{HTTPStatus: 403, Code: "AccessDenied", Message: "access denied, \"really\"", RequestID: "r3"}},
		{Key: "lost.mp4", Status: report.Failed, Attempts: 1, Uncertain: true, DispatchedAt: &at,
			Error: &report.Error{Code: "Timeout", Message: "in flight"}},
		{Key: "", Status: report.Invalid, Line: 4, Error: &report.Error{Code: "EmptyKey", Message: "manifest a.csv line 4: empty key"}},
		{Key: "v\uFFFD/a", KeyHex: "76e8a72f61", Status: report.Invalid, Line: 5, Error: &report.Error{Code: "InvalidUTF8", Message: "not UTF-8"}},
	}
}

func write(t *testing.T, format string, es []report.Entry) string {
	t.Helper()
	var b bytes.Buffer
	w, err := NewWriter(&b, format, "media-1250000000")
	if err != nil {
		t.Fatal(err)
	}
	for i := range es {
		if err := w.Write(&es[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestJSONL(t *testing.T) {
	es := entries()
	out := write(t, JSONL, es)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(es) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(es), out)
	}
	for i, line := range lines {
		// Every field of the entry, as the report holds it.
		var got report.Entry
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		want, _ := json.Marshal(es[i])
		if g, _ := json.Marshal(got); !bytes.Equal(g, want) {
			t.Errorf("line %d = %s, want %s", i+1, g, want)
		}
		// key, then workflowId and name when set.
		prefix := `{"key":`
		if !strings.HasPrefix(line, prefix) {
			t.Errorf("line %d %q does not begin with the key", i+1, line)
		}
		if es[i].WorkflowID != "" && !strings.HasPrefix(line, `{"key":"media/q\"uote, com+ma 100%/视频.mp4","workflowId":"w2","name":"n-2","status"`) {
			t.Errorf("line %d %q: want key, workflowId, name first", i+1, line)
		}
	}
	if strings.Contains(out, `\u003c`) {
		t.Errorf("HTML escaping in %s", out)
	}
	// A valid manifest: the same keys (the invalid ones invalid again,
	// with their exact bytes), workflows and names.
	rows := readRows(t, manifest.NewJSONL(strings.NewReader(out), "export.jsonl"))
	if len(rows) != len(es) {
		t.Fatalf("the manifest reads %d rows, want %d", len(rows), len(es))
	}
	for i, r := range rows {
		e := es[i]
		switch {
		case e.Status == report.Invalid:
			if r.Invalid == nil || r.Invalid.Code != e.Error.Code || r.Invalid.KeyHex != e.KeyHex {
				t.Errorf("row %d = %+v %+v, want invalid %s keyHex %q", i, r, r.Invalid, e.Error.Code, e.KeyHex)
			}
		case r.Invalid != nil || r.Key != e.Key || r.WorkflowID != e.WorkflowID || r.Name != e.Name:
			t.Errorf("row %d = %q wf %q name %q (%+v), want %q %q %q", i, r.Key, r.WorkflowID, r.Name, r.Invalid, e.Key, e.WorkflowID, e.Name)
		}
	}
}

func readRows(t *testing.T, src manifest.Source) []manifest.Row {
	t.Helper()
	var rows []manifest.Row
	for {
		r, err := src.Next(t.Context())
		if err != nil {
			return rows
		}
		rows = append(rows, r)
	}
}

func TestCSV(t *testing.T) {
	es := entries()
	recs, err := csv.NewReader(strings.NewReader(write(t, CSV, es))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(recs[0], ","), "key,status,workflowId,name,instanceId,attempts,errorCode,httpStatus,message,executionState"; got != want {
		t.Errorf("header %s, want %s", got, want)
	}
	want := [][]string{
		{"videos/a b.mp4", "succeeded", "", "", "i1", "1", "", "", "", "Success"},
		{`media/q"uote, com+ma 100%/视频.mp4`, "succeeded", "w2", "n-2", "i2", "2", "", "", "", "Failed"},
		{"denied/x <&>.mp4", "failed", "", "", "", "1", "AccessDenied", "403", `access denied, "really"`, ""},
		{"lost.mp4", "failed", "", "", "", "1", "Timeout", "", "in flight", ""},
		{"", "invalid", "", "", "", "0", "EmptyKey", "", "manifest a.csv line 4: empty key", ""},
		{"v\uFFFD/a", "invalid", "", "", "", "0", "InvalidUTF8", "", "not UTF-8", ""},
	}
	if len(recs)-1 != len(want) {
		t.Fatalf("%d records, want %d", len(recs)-1, len(want))
	}
	for i, w := range want {
		if got := recs[i+1]; strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("record %d = %q, want %q", i+1, got, w)
		}
	}
	// No entry: the header alone.
	if got := write(t, CSV, nil); got != strings.Join(CSVHeader, ",")+"\n" {
		t.Errorf("empty CSV = %q", got)
	}
}

func TestS3Batch(t *testing.T) {
	es := entries()
	out := write(t, S3Batch, es)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(es) {
		t.Fatalf("%d records (no header), want %d:\n%s", len(recs), len(es), out)
	}
	for i, r := range recs {
		e := es[i]
		if len(r) != 7 || r[0] != "media-1250000000" || r[2] != "" {
			t.Fatalf("record %d = %q: want Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage", i, r)
		}
		for _, unescape := range []func(string) (string, error){url.QueryUnescape, url.PathUnescape} {
			if k, err := unescape(r[1]); err != nil || k != e.Key {
				t.Errorf("record %d key %q decodes to %q (%v), want %q", i, r[1], k, err, e.Key)
			}
		}
		wantStatus, wantMsg := "failed", ""
		if e.Error != nil {
			wantMsg = e.Error.Message
		}
		if e.Status == report.Succeeded {
			wantStatus, wantMsg = "succeeded", e.InstanceID
		}
		if r[3] != wantStatus || r[6] != wantMsg {
			t.Errorf("record %d = %q, want TaskStatus %s ResultMessage %q", i, r, wantStatus, wantMsg)
		}
	}
	if got := strings.SplitN(out, "\n", 2)[0]; got != "media-1250000000,videos/a%20b.mp4,,succeeded,,200,i1" {
		t.Errorf("first line %q", got)
	}
	if !strings.Contains(out, ",denied/x%20%3C%26%3E.mp4,,failed,AccessDenied,403,") {
		t.Errorf("no failed line for denied/x <&>.mp4 in\n%s", out)
	}
	// Our own manifest reader takes a completion report as bucket,key rows.
	rows := readRows(t, manifest.NewCSV(strings.NewReader(out), "completion.csv"))
	for i, r := range rows {
		if es[i].Status != report.Invalid && (r.Key != es[i].Key || r.Bucket != "media-1250000000") {
			t.Errorf("manifest row %d = %q in %q, want %q", i, r.Key, r.Bucket, es[i].Key)
		}
	}
}

func TestFilter(t *testing.T) {
	es := entries()
	tests := []struct {
		status, execution string
		want              string // indexes of the chosen entries
	}{
		{"", "", "012345"},
		{"succeeded", "", "01"},
		{"failed", "", "23"},
		{"uncertain", "", "3"},
		{"invalid", "", "45"},
		{"failed,invalid", "", "2345"},
		{" Succeeded , uncertain ", "", "013"},
		{"", "Failed", "1"},
		{"", "success,failed", "01"},
		{"succeeded", "Success", "0"},
		{"failed", "Success", ""},
		{"", "Running", ""},
	}
	for _, tc := range tests {
		f, err := ParseFilter(tc.status, tc.execution)
		if err != nil {
			t.Fatalf("ParseFilter(%q, %q): %v", tc.status, tc.execution, err)
		}
		var got strings.Builder
		for i := range es {
			if f.Match(&es[i]) {
				got.WriteByte(byte('0' + i))
			}
		}
		if got.String() != tc.want {
			t.Errorf("--status %q --execution %q chooses %q, want %q", tc.status, tc.execution, got.String(), tc.want)
		}
	}
	if _, err := ParseFilter("done", ""); err == nil || !strings.Contains(err.Error(), "succeeded, failed, invalid, uncertain") {
		t.Errorf("ParseFilter(done) = %v", err)
	}
	if _, err := NewWriter(nil, "xml", ""); err == nil {
		t.Error("NewWriter(xml) succeeded")
	}
}

func TestEncodeKey(t *testing.T) {
	for _, k := range []string{"a b", "a+b", "100%", "a/b/c", "视频", "~x-y_z.", "?&=#", "\t"} {
		enc := EncodeKey(k)
		if strings.ContainsAny(enc, " +,\"") {
			t.Errorf("EncodeKey(%q) = %q holds a byte a CSV reader or decoder may mangle", k, enc)
		}
		if d, err := url.QueryUnescape(enc); err != nil || d != k {
			t.Errorf("QueryUnescape(EncodeKey(%q) = %q) = %q, %v", k, enc, d, err)
		}
	}
	if got := EncodeKey("a b/c+d"); got != "a%20b/c%2Bd" {
		t.Errorf("EncodeKey(a b/c+d) = %q", got)
	}
}
