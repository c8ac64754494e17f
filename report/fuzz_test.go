package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzJournal opens a report beside an arbitrary journal: Open never
// panics; it fails or gives a report that can be used and closed.
func FuzzJournal(f *testing.F) {
	hdr := `{"journal":1,"bucket":"media-1250000000","workflowId":"w1","startedAt":"2026-11-27T01:00:00Z"}` + "\n"
	f.Add([]byte(""))
	f.Add([]byte(hdr))
	f.Add([]byte(hdr[:20]))
	f.Add([]byte(hdr + `{"key":"a","status":"succeeded","instanceId":"i"}` + "\n"))
	f.Add([]byte(hdr + `{"key":"a","status":"dispatched","dispatchedAt":"2026-11-27T01:00:00Z"}` + "\n" + `{"key":"a","stat`))
	f.Add([]byte(hdr + `{"key":"","status":"invalid","line":4,"error":{"code":"EmptyKey","message":"m"}}` + "\n\n  \n" + `{"key":"b","status":"failed","uncertain":true}` + "\n"))
	f.Add([]byte(hdr + "not json\n" + `{"key":"a","status":"succeeded"}` + "\n"))
	f.Add([]byte(hdr + `{"key":"a","status":"weird"}` + "\n"))
	f.Add([]byte(`{"journal":1,"bucket":"other"}` + "\n"))
	// A last line refused after it was indexed (its history) once put
	// every later seq one off.
	f.Add([]byte(hdr + `{"key":"a","status":"succeeded","instanceId":"i"}` + "\n" + `{"key":"b","status":"dispatched","dispatchedAt":"2026-11-27T01:00:00Z"}` + "\n" + `{"key":"y","status":"succeeded","history":[1]}` + "\n"))
	f.Fuzz(func(t *testing.T, journal []byte) {
		path := filepath.Join(t.TempDir(), "out.json")
		if err := os.WriteFile(path+".journal", journal, 0o666); err != nil {
			t.Fatal(err)
		}
		r, err := Open(Options{Path: path, Meta: testMeta()})
		if err != nil {
			var le *LockedError
			if errors.As(err, &le) {
				t.Fatalf("Open = %v", err)
			}
			// A journal is refused only with a typed reason.
			var (
				ce *CorruptError
				me *MismatchError
			)
			if !errors.As(err, &ce) && !errors.As(err, &me) {
				t.Fatalf("Open = %v, want a *CorruptError or a *MismatchError", err)
			}
			return
		}
		r.Admit("", "a")
		if err := r.Record(Entry{Key: "z", Status: Succeeded}); err != nil {
			t.Fatalf("Record = %v", err)
		}
		if err := r.Close(t1, true); err != nil {
			t.Fatalf("Close = %v", err)
		}
		h, err := Scan(path, nil)
		if err != nil {
			t.Fatalf("Scan of the written report = %v", err)
		}
		r.mu.Lock()
		emitted := r.emitted
		r.mu.Unlock()
		if emitted != h.Summary.Total {
			t.Fatalf("wrote %d entries, summary says %d", emitted, h.Summary.Total)
		}
		// The same journal, every record read again: the same report.
		every := filepath.Join(t.TempDir(), "out.json")
		if err := os.WriteFile(every+".journal", journal, 0o666); err != nil {
			t.Fatal(err)
		}
		r, err = Open(Options{Path: every, Meta: testMeta(), readEvery: true})
		if err != nil {
			t.Fatalf("Open of the same journal again = %v", err)
		}
		r.Admit("", "a")
		if err := r.Record(Entry{Key: "z", Status: Succeeded}); err != nil {
			t.Fatalf("Record = %v", err)
		}
		if err := r.Close(t1, true); err != nil {
			t.Fatalf("Close = %v", err)
		}
		a, _ := os.ReadFile(path)
		b, _ := os.ReadFile(every)
		if !bytes.Equal(a, b) {
			t.Fatalf("trusting the marks wrote\n%s\nreading every record wrote\n%s", a, b)
		}
	})
}

// FuzzParseHead checks the fast record reader against encoding/json: it
// never panics and, on a valid object whose field names are exactly the
// Entry's, reads the same fields.
func FuzzParseHead(f *testing.F) {
	f.Add([]byte(`{"key":"a","status":"succeeded","instanceId":"i","attempts":1}`))
	f.Add([]byte(`{"key":"a\"b\\\u00e9\ud83d\ude00","workflowId":"w","status":"failed","uncertain":true,"dispatchedAt":"2026-11-27T01:00:00.123Z","error":{"code":"X","message":"}\"{"}}`))
	f.Add([]byte(`{"key":"","status":"invalid","line":4,"error":{"code":"EmptyKey","message":"m"},"execution":{"tasks":[{"a":[1,{"b":"]"}]}]}}`))
	f.Add([]byte(` { "key" : null , "status" : "dispatched" , "line" : null , "uncertain" : false } `))
	f.Add([]byte(`{"key":"a\xff","status":"succeeded"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := parseHead(raw)
		if !json.Valid(raw) {
			return
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil {
			return
		}
		for name := range fields {
			for _, ours := range []string{"key", "workflowId", "status", "line", "uncertain", "dispatchedAt"} {
				if name != ours && strings.EqualFold(name, ours) {
					return // encoding/json matches names without case
				}
			}
		}
		var want head
		if werr := json.Unmarshal(raw, &want); werr != nil || err != nil {
			return
		}
		if got.Key != want.Key || got.WorkflowID != want.WorkflowID || got.Status != want.Status ||
			got.Line != want.Line || got.Uncertain != want.Uncertain ||
			(got.DispatchedAt == nil) != (want.DispatchedAt == nil) ||
			got.DispatchedAt != nil && !got.DispatchedAt.Equal(*want.DispatchedAt) {
			t.Errorf("parseHead(%q) = %+v, want %+v", raw, got, want)
		}
	})
}
