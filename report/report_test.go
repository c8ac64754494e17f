package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	t0 = time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	t1 = t0.Add(20 * time.Minute)
)

func testMeta() Meta {
	return Meta{
		Bucket:     "media-1250000000",
		Region:     "ap-guangzhou",
		WorkflowID: "w1",
		Source:     "manifest objects.csv",
		StartedAt:  t0,
	}
}

func mustOpen(t testing.TB, path string) *Report {
	t.Helper()
	r, err := Open(Options{Path: path, Meta: testMeta(), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	return r
}

func mustRecord(t testing.TB, r *Report, es ...Entry) {
	t.Helper()
	for _, e := range es {
		if err := r.Record(e); err != nil {
			t.Fatalf("Record(%+v) = %v", e, err)
		}
	}
}

func mustClose(t testing.TB, r *Report, complete bool) {
	t.Helper()
	if err := r.Close(t1, complete); err != nil {
		t.Fatalf("Close = %v", err)
	}
}

// readBack checks that the report at path is valid JSON with the
// contract's fields and returns its header and entries by key (invalid
// ones by "#line").
func readBack(t *testing.T, path string) (Header, map[string]Entry) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version    int       `json:"version"`
		Bucket     string    `json:"bucket"`
		Region     string    `json:"region"`
		WorkflowID string    `json:"workflowId"`
		Source     string    `json:"source"`
		StartedAt  time.Time `json:"startedAt"`
		Summary    *Summary  `json:"summary"`
		Objects    []Entry   `json:"objects"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	if doc.Version != 1 || doc.Summary == nil || doc.Objects == nil {
		t.Fatalf("report lacks version, summary or objects:\n%s", b)
	}
	h, err := Scan(path, nil)
	if err != nil {
		t.Fatalf("Scan = %v", err)
	}
	got := map[string]Entry{}
	var s Summary
	for _, e := range doc.Objects {
		id := e.Key
		if e.WorkflowID != "" {
			id = e.WorkflowID + "/" + e.Key
		}
		switch e.Status {
		case Invalid:
			id = fmt.Sprintf("#%d", e.Line)
			s.Invalid++
		case Succeeded:
			s.Succeeded++
		case Failed:
			s.Failed++
		default:
			t.Errorf("entry %q has status %q", e.Key, e.Status)
		}
		if _, dup := got[id]; dup {
			t.Errorf("two entries for %q", id)
		}
		got[id] = e
	}
	s.Total = len(doc.Objects)
	s.Duplicates = doc.Summary.Duplicates
	s.Complete = doc.Summary.Complete // what the run said, not a count
	if s != *doc.Summary {
		t.Errorf("summary = %+v, counted %+v", *doc.Summary, s)
	}
	return h, got
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	r := mustOpen(t, path)
	for _, k := range []string{"a.mp4", "b.mp4", "c.mp4", "e.mp4", "f \"odd\"\n+%.mp4"} {
		if p := r.Admit("", k); p.State != New {
			t.Errorf("Admit(%q) = %v, want New", k, p.State)
		}
	}
	if p := r.Admit("", "a.mp4"); p.State != Duplicate {
		t.Errorf("second Admit(%q) = %v, want Duplicate", "a.mp4", p.State)
	}
	if p := r.Admit("w1", "a.mp4"); p.State != Duplicate {
		t.Errorf("Admit(w1, %q) = %v, want Duplicate (w1 is the run's workflow)", "a.mp4", p.State)
	}
	if p := r.Admit("w2", "a.mp4"); p.State != New {
		t.Errorf("Admit(w2, %q) = %v, want New", "a.mp4", p.State)
	}
	d := t0.Add(time.Minute)
	mustRecord(t, r,
		Entry{Key: "a.mp4", Status: Dispatched, Attempts: 1},
		Entry{Key: "a.mp4", Status: Succeeded, InstanceID: "i1", RequestID: "r1", Attempts: 1},
		Entry{Key: "b.mp4", Status: Dispatched, Attempts: 1},
		Entry{Key: "b.mp4", Status: Failed, Attempts: 1, Error: &Error{HTTPStatus: 403, Code: "AccessDenied", Message: "no"}},
		Entry{Key: "c.mp4", Status: Dispatched, Attempts: 1, DispatchedAt: &d},
		Entry{Key: "e.mp4", Status: Failed, Attempts: 5, Uncertain: true, DispatchedAt: &d, Error: &Error{Code: "Timeout", Message: "timeout"}},
		Entry{Key: "a.mp4", WorkflowID: "w2", Status: Succeeded, InstanceID: "i2", Attempts: 1},
		Entry{Key: "f \"odd\"\n+%.mp4", Status: Succeeded, InstanceID: "i3", Attempts: 2},
		Entry{Key: "", Status: Invalid, Line: 4, Error: &Error{Code: "EmptyKey", Message: "empty key"}},
	)
	mustClose(t, r, true)

	h, got := readBack(t, path)
	wantSummary := Summary{Total: 7, Succeeded: 3, Failed: 3, Invalid: 1, Duplicates: 2, Complete: true}
	if h.Summary != wantSummary {
		t.Errorf("summary = %+v, want %+v", h.Summary, wantSummary)
	}
	wantMeta := testMeta()
	wantMeta.Version = 1
	wantMeta.FinishedAt = t1
	if h.Meta != wantMeta {
		t.Errorf("meta = %+v, want %+v", h.Meta, wantMeta)
	}
	if e := got["a.mp4"]; e.Status != Succeeded || e.InstanceID != "i1" {
		t.Errorf("a.mp4 = %+v, want succeeded i1", e)
	}
	if e := got["w2/a.mp4"]; e.Status != Succeeded || e.InstanceID != "i2" {
		t.Errorf("w2/a.mp4 = %+v, want succeeded i2", e)
	}
	if e := got["b.mp4"]; e.Status != Failed || e.Error == nil || e.Error.Code != "AccessDenied" {
		t.Errorf("b.mp4 = %+v, want failed AccessDenied", e)
	}
	if e := got["c.mp4"]; e.Status != Failed || !e.Uncertain || e.Error == nil || e.Error.Code != "Uncertain" || e.DispatchedAt == nil || !e.DispatchedAt.Equal(d) {
		t.Errorf("c.mp4 = %+v, want failed, uncertain, dispatched at %v", e, d)
	}
	if e := got["#4"]; e.Error == nil || e.Error.Code != "EmptyKey" {
		t.Errorf("line 4 = %+v, want invalid EmptyKey", e)
	}
	if _, ok := got["f \"odd\"\n+%.mp4"]; !ok {
		t.Errorf("the odd key is missing")
	}
	if _, err := os.Stat(path + ".journal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal still there after Close: %v", err)
	}
	// One object a line.
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "\n    {"); n != 7 {
		t.Errorf("report has %d object lines, want 7:\n%s", n, b)
	}
}

// setUpRun writes a report as a first run would leave it.
func setUpRun(t *testing.T, path string) {
	t.Helper()
	r := mustOpen(t, path)
	d := t0.Add(time.Minute)
	d2 := t0.Add(2 * time.Minute)
	mustRecord(t, r,
		Entry{Key: "done", Status: Succeeded, InstanceID: "i1", Attempts: 1},
		Entry{Key: "failed", Status: Failed, Attempts: 1, Error: &Error{Code: "InternalError", Message: "x"}},
		Entry{Key: "uncertain", Status: Failed, Uncertain: true, DispatchedAt: &d, Error: &Error{Code: "Timeout", Message: "x"}},
		Entry{Key: "dispatched", Status: Dispatched, DispatchedAt: &d2},
		Entry{Key: "", Status: Invalid, Line: 4, Error: &Error{Code: "EmptyKey", Message: "old"}},
		Entry{Key: "/x", Status: Invalid, Line: 7, Error: &Error{Code: "LeadingSlash", Message: "old"}},
	)
	mustClose(t, r, true)
}

func TestResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	setUpRun(t, path)

	r := mustOpen(t, path)
	if done, retry, unc := r.Loaded(); done != 1 || retry != 1 || unc != 2 {
		t.Errorf("Loaded() = %d, %d, %d, want 1, 1, 2", done, retry, unc)
	}
	tests := []struct {
		key  string
		want Prior
	}{
		{"done", Prior{State: Done}},
		{"failed", Prior{State: Retry}},
		{"uncertain", Prior{State: Uncertain, DispatchedAt: t0.Add(time.Minute)}},
		{"dispatched", Prior{State: Uncertain, DispatchedAt: t0.Add(2 * time.Minute)}},
		{"unknown", Prior{State: New}},
		{"done", Prior{State: Duplicate}},
		{"unknown", Prior{State: Duplicate}},
	}
	for _, tt := range tests {
		if got := r.Admit("", tt.key); got.State != tt.want.State || !got.DispatchedAt.Equal(tt.want.DispatchedAt) {
			t.Errorf("Admit(%q) = %+v, want %+v", tt.key, got, tt.want)
		}
	}
	mustRecord(t, r,
		Entry{Key: "failed", Status: Succeeded, InstanceID: "i2", Attempts: 1},
		Entry{Key: "", Status: Invalid, Line: 4, Error: &Error{Code: "EmptyKey", Message: "new"}},
	)
	mustClose(t, r, false) // the source was not read to its end: line 7 stays

	_, got := readBack(t, path)
	if e := got["failed"]; e.Status != Succeeded {
		t.Errorf("failed after retry = %+v, want succeeded", e)
	}
	if e := got["#4"]; e.Error.Message != "new" {
		t.Errorf("line 4 = %+v, want the new invalid entry", e)
	}
	if _, ok := got["#7"]; !ok {
		t.Errorf("line 7 dropped by an incomplete run")
	}
	if e := got["dispatched"]; !e.Uncertain || e.Status != Failed {
		t.Errorf("dispatched = %+v, want failed uncertain", e)
	}

	// A complete run that does not see line 7 again drops it.
	r = mustOpen(t, path)
	mustRecord(t, r, Entry{Key: "", Status: Invalid, Line: 4, Error: &Error{Code: "EmptyKey", Message: "newer"}})
	mustClose(t, r, true)
	h, got := readBack(t, path)
	if _, ok := got["#7"]; ok {
		t.Errorf("line 7 kept by a complete run that did not see it")
	}
	if e := got["#4"]; e.Error.Message != "newer" {
		t.Errorf("line 4 = %+v, want the newer entry", e)
	}
	if h.Summary.Invalid != 1 || h.Summary.Total != 5 {
		t.Errorf("summary = %+v, want 1 invalid of 5", h.Summary)
	}
}

func TestCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	setUpRun(t, path)

	r := mustOpen(t, path)
	mustRecord(t, r,
		Entry{Key: "failed", Status: Dispatched},
		Entry{Key: "new", Status: Dispatched},
		Entry{Key: "new", Status: Succeeded, InstanceID: "i9"},
		Entry{Key: "new2", Status: Dispatched},
	)
	r.abandon()
	f, err := os.OpenFile(path+".journal", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"key":"done","status":"fail`)
	f.Close()

	r = mustOpen(t, path)
	for key, want := range map[string]PriorState{"done": Done, "failed": Uncertain, "new": Done, "new2": Uncertain, "uncertain": Uncertain} {
		if got := r.Admit("", key); got.State != want {
			t.Errorf("Admit(%q) after crash = %v, want %v", key, got.State, want)
		}
	}
	mustRecord(t, r, Entry{Key: "new2", Status: Succeeded, InstanceID: "i10"})
	r.abandon()

	// A second crash: the journal holds both runs' records, whole.
	r = mustOpen(t, path)
	if got := r.Admit("", "new2"); got.State != Done {
		t.Errorf("Admit(new2) after second crash = %v, want Done", got.State)
	}
	mustClose(t, r, false)
	_, got := readBack(t, path)
	if e := got["new"]; e.InstanceID != "i9" {
		t.Errorf("new = %+v, want i9", e)
	}
	if e := got["failed"]; !e.Uncertain {
		t.Errorf("failed = %+v, want uncertain", e)
	}
}

func TestCompactMidRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	setUpRun(t, path)

	r := mustOpen(t, path)
	mustRecord(t, r,
		Entry{Key: "failed", Status: Succeeded, InstanceID: "i2"},
		Entry{Key: "a", Status: Failed, Error: &Error{Code: "X", Message: "x"}},
		Entry{Key: "b", Status: Dispatched},
	)
	if err := r.Compact(); err != nil {
		t.Fatalf("Compact = %v", err)
	}
	h, got := readBack(t, path)
	if h.Summary.Total != 8 || got["failed"].Status != Succeeded || !got["b"].Uncertain {
		t.Errorf("after Compact: summary %+v, failed %+v, b %+v", h.Summary, got["failed"], got["b"])
	}
	if !h.FinishedAt.IsZero() {
		t.Errorf("finishedAt = %v during the run, want none", h.FinishedAt)
	}
	mustRecord(t, r,
		Entry{Key: "a", Status: Succeeded, InstanceID: "ia"},
		Entry{Key: "b", Status: Succeeded, InstanceID: "ib"},
		Entry{Key: "done", Status: Failed, Error: &Error{Code: "Y", Message: "y"}},
	)
	if err := r.Compact(); err != nil {
		t.Fatalf("Compact = %v", err)
	}
	mustRecord(t, r, Entry{Key: "c", Status: Succeeded, InstanceID: "ic"})
	r.abandon()

	r = mustOpen(t, path)
	// A success is final: the later failed record of "done" does not undo it.
	for key, want := range map[string]PriorState{"a": Done, "b": Done, "c": Done, "done": Done, "failed": Done, "dispatched": Uncertain} {
		if got := r.Admit("", key); got.State != want {
			t.Errorf("Admit(%q) = %v, want %v", key, got.State, want)
		}
	}
	mustClose(t, r, false)
	h, got = readBack(t, path)
	if h.Summary.Total != 9 || got["c"].InstanceID != "ic" || got["b"].InstanceID != "ib" {
		t.Errorf("final: summary %+v, c %+v, b %+v", h.Summary, got["c"], got["b"])
	}
}

// TestCompactConcurrent compacts while workers record: every compaction
// writes as many entries as its summary says.
func TestCompactConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	r := mustOpen(t, path)
	const workers, perWorker = 8, 300
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				key := fmt.Sprintf("k%d", (w*perWorker+i)%500)
				st := Succeeded
				if i%3 == 0 {
					st = Dispatched
				}
				if err := r.Record(Entry{Key: key, Status: st}); err != nil {
					t.Errorf("Record = %v", err)
					return
				}
			}
		})
	}
	for range 10 {
		if err := r.Compact(); err != nil {
			t.Fatalf("Compact = %v", err)
		}
		h, _ := readBack(t, path)
		r.mu.Lock()
		emitted := r.emitted
		r.mu.Unlock()
		if emitted != h.Summary.Total {
			t.Fatalf("compaction wrote %d entries, summary says %d", emitted, h.Summary.Total)
		}
	}
	wg.Wait()
	mustClose(t, r, true)
	h, _ := readBack(t, path)
	if h.Summary.Total != 500 {
		t.Errorf("total = %d, want 500", h.Summary.Total)
	}
}

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	r := mustOpen(t, path)
	_, err := Open(Options{Path: path, Meta: testMeta()})
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Open = %v, want *LockedError", err)
	}
	if le.PID != os.Getpid() || !le.Started.Equal(t0) {
		t.Errorf("LockedError = %+v, want pid %d started %v", le, os.Getpid(), t0)
	}
	if err := Rewrite(path, func(*Entry) error { return nil }); !errors.As(err, &le) {
		t.Errorf("Rewrite while locked = %v, want *LockedError", err)
	}
	ro, err := Open(Options{Path: path, Meta: testMeta(), ReadOnly: true})
	if err != nil {
		t.Errorf("read-only Open while locked = %v", err)
	} else {
		ro.Close(t1, true)
	}
	mustClose(t, r, true)
	r = mustOpen(t, path)
	mustClose(t, r, true)
}

func TestMismatch(t *testing.T) {
	tests := []struct {
		name    string
		crash   bool // leave a journal, no report
		change  func(*Meta)
		field   string
		wantErr bool
	}{
		{"bucket", false, func(m *Meta) { m.Bucket = "other-1250000000" }, "bucket", true},
		{"workflow", false, func(m *Meta) { m.WorkflowID = "w2" }, "workflowId", true},
		{"no workflow", false, func(m *Meta) { m.WorkflowID = "" }, "workflowId", true},
		{"journal bucket", true, func(m *Meta) { m.Bucket = "other-1250000000" }, "bucket", true},
		{"journal workflow", true, func(m *Meta) { m.WorkflowID = "w2" }, "workflowId", true},
		{"other source", false, func(m *Meta) { m.Source = "prefix videos/" }, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.json")
			r := mustOpen(t, path)
			mustRecord(t, r, Entry{Key: "a", Status: Succeeded})
			if tt.crash {
				r.abandon()
			} else {
				mustClose(t, r, true)
			}
			m := testMeta()
			tt.change(&m)
			r, err := Open(Options{Path: path, Meta: m})
			var me *MismatchError
			if tt.wantErr {
				if !errors.As(err, &me) || me.Field != tt.field {
					t.Fatalf("Open = %v, want *MismatchError on %s", err, tt.field)
				}
			} else if err != nil {
				t.Fatalf("Open = %v", err)
			} else {
				mustClose(t, r, true)
			}

			// --fresh sets both files aside and starts empty.
			now := t0.Add(time.Hour)
			r, err = Open(Options{Path: path, Meta: m, Fresh: true, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatalf("Open(Fresh) = %v", err)
			}
			for _, name := range r.SetAside() {
				if _, err := os.Stat(name); err != nil {
					t.Errorf("set aside %s: %v", name, err)
				}
				if !strings.Contains(name, "20261127T020000Z") {
					t.Errorf("set aside as %s, want the time in the name", name)
				}
			}
			if len(r.SetAside()) == 0 {
				t.Errorf("SetAside() = none")
			}
			if got := r.Admit("", "a"); got.State != New {
				t.Errorf("Admit(a) after Fresh = %v, want New", got.State)
			}
			mustClose(t, r, true)
		})
	}
}

func TestRewriteScan(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	setUpRun(t, path)
	// A crashed run left a journal: Rewrite folds it in first.
	r := mustOpen(t, path)
	mustRecord(t, r, Entry{Key: "late", Status: Succeeded, InstanceID: "il"})
	r.abandon()

	checked := t1.Add(time.Hour)
	err := Rewrite(path, func(e *Entry) error {
		if e.InstanceID != "" {
			e.Execution = &Execution{State: "Success", CheckedAt: checked, Tasks: []Task{{Type: "Transcode", State: "Success", JobID: "j1"}}}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Rewrite = %v", err)
	}
	if _, err := os.Stat(path + ".journal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal not folded: %v", err)
	}
	var keys []string
	h, err := Scan(path, func(e Entry) error {
		if e.InstanceID != "" && (e.Execution == nil || e.Execution.State != "Success" || len(e.Execution.Tasks) != 1) {
			t.Errorf("entry %q has execution %+v", e.Key, e.Execution)
		}
		keys = append(keys, e.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan = %v", err)
	}
	if h.Summary.Total != 7 || len(keys) != 7 {
		t.Errorf("Scan: summary %+v, %d entries, want 7", h.Summary, len(keys))
	}
	readBack(t, path)

	// The next run keeps the executions of entries it does not touch.
	r = mustOpen(t, path)
	mustClose(t, r, true)
	_, got := readBack(t, path)
	if got["done"].Execution == nil {
		t.Errorf("execution lost by the next run")
	}
}

func TestNotAReport(t *testing.T) {
	tests := []struct {
		name, content string
	}{
		{"csv", "key\na.mp4\n"},
		{"other json", `{"objects":[{"key":"a","status":"succeeded"}]}`},
		{"no version", `{"bucket":"media-1250000000","objects":[]}`},
		{"version 2", `{"version":2,"bucket":"media-1250000000","objects":[]}`},
		{"bad object", `{"version":1,"bucket":"media-1250000000","objects":[{"key":"a"}]}`},
		{"truncated", `{"version":1,"bucket":"media-1250000000","objects":[{"key":"a","status":"succeeded"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.json")
			os.WriteFile(path, []byte(tt.content), 0o666)
			r, err := Open(Options{Path: path, Meta: testMeta()})
			if err == nil {
				r.Close(t1, true)
				t.Fatalf("Open(%q) = nil error, want one", tt.content)
			}
			if !strings.HasPrefix(err.Error(), "report "+path+": ") {
				t.Errorf("Open(%q) = %q, want a report error", tt.content, err)
			}
			if b, _ := os.ReadFile(path); string(b) != tt.content {
				t.Errorf("file changed to %q", b)
			}
			// The lock is released.
			r, err = Open(Options{Path: path, Meta: testMeta(), Fresh: true})
			if err != nil {
				t.Fatalf("Open(Fresh) = %v", err)
			}
			mustClose(t, r, true)
		})
	}
}

// TestHandEdited reads a report whose objects span lines and whose fields
// are in another order.
func TestHandEdited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	os.WriteFile(path, []byte(`{
  "version": 1, "bucket": "media-1250000000", "workflowId": "w1",
  "summary": {"total": 2},
  "extra": [1, {"x": 2}],
  "objects": [
    {
      "status": "succeeded",
      "key": "a"
    },
    {"key": "b", "status": "failed", "error": {"code": "X", "message": "m"}}
  ],
  "source": "late"
}`), 0o666)
	r := mustOpen(t, path)
	if got := r.Admit("", "a"); got.State != Done {
		t.Errorf("Admit(a) = %v, want Done", got.State)
	}
	if got := r.Admit("", "b"); got.State != Retry {
		t.Errorf("Admit(b) = %v, want Retry", got.State)
	}
	mustClose(t, r, true)
	h, got := readBack(t, path)
	if len(got) != 2 || h.Summary.Total != 2 {
		t.Errorf("rewritten: %d entries, summary %+v", len(got), h.Summary)
	}
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	setUpRun(t, path)
	before, _ := os.ReadFile(path)
	r, err := Open(Options{Path: path, Meta: testMeta(), ReadOnly: true})
	if err != nil {
		t.Fatalf("Open(ReadOnly) = %v", err)
	}
	if got := r.Admit("", "done"); got.State != Done {
		t.Errorf("Admit(done) = %v, want Done", got.State)
	}
	if err := r.Record(Entry{Key: "x", Status: Succeeded}); err != nil {
		t.Errorf("Record = %v", err)
	}
	if err := r.Close(t1, true); err != nil {
		t.Errorf("Close = %v", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Errorf("read-only run changed the report")
	}
	if _, err := os.Stat(path + ".journal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only run wrote a journal")
	}
}

func TestInvalidUTF8Key(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	r := mustOpen(t, path)
	key := "bad\xff\xfekey"
	r.Admit("", key)
	mustRecord(t, r, Entry{Key: key, Status: Succeeded})
	mustClose(t, r, true)
	r = mustOpen(t, path)
	if got := r.Admit("", key); got.State != Done {
		t.Errorf("Admit(%q) = %v, want Done", key, got.State)
	}
	mustClose(t, r, true)
}

func TestRecordAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	r := mustOpen(t, path)
	mustClose(t, r, true)
	if err := r.Record(Entry{Key: "a", Status: Succeeded}); !errors.Is(err, ErrClosed) {
		t.Errorf("Record after Close = %v, want ErrClosed", err)
	}
	if err := r.Compact(); !errors.Is(err, ErrClosed) {
		t.Errorf("Compact after Close = %v, want ErrClosed", err)
	}
	if err := r.Record(Entry{Key: "a", Status: "weird"}); err == nil {
		t.Errorf("Record(status weird) = nil, want an error")
	}
}

func TestEmptyReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	r := mustOpen(t, path)
	mustClose(t, r, true)
	h, got := readBack(t, path)
	if len(got) != 0 || !reflect.DeepEqual(h.Summary, Summary{Complete: true}) {
		t.Errorf("empty run: %d entries, summary %+v", len(got), h.Summary)
	}
}

// TestSummaryComplete: summary.complete is what Close was told, and false
// in the rewrites while a run goes on.
func TestSummaryComplete(t *testing.T) {
	for _, complete := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "r.json")
		r, err := Open(Options{Path: path, Meta: Meta{Version: 1, Bucket: "b-1", WorkflowID: "w1"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Record(Entry{Key: "a", Status: Succeeded, InstanceID: "i1"}); err != nil {
			t.Fatal(err)
		}
		if err := r.Compact(); err != nil {
			t.Fatal(err)
		}
		if h, err := ReadHeader(path); err != nil || h.Summary.Complete {
			t.Errorf("a rewrite while the run goes on: complete = %v (%v), want false", h.Summary.Complete, err)
		}
		if err := r.Close(time.Now(), complete); err != nil {
			t.Fatal(err)
		}
		h, err := ReadHeader(path)
		if err != nil {
			t.Fatal(err)
		}
		if h.Summary.Complete != complete {
			t.Errorf("Close(…, %v): summary.complete = %v", complete, h.Summary.Complete)
		}
	}
}
