package report

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestAppendEntry(t *testing.T) {
	d := time.Date(2026, 11, 27, 1, 2, 3, 456789000, time.UTC)
	cst := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name string
		e    Entry
	}{
		{"minimal", Entry{Key: "a.mp4", Status: Succeeded}},
		{"empty key", Entry{Status: Invalid, Line: 4, Error: &Error{Code: "EmptyKey", Message: "empty key"}}},
		{"full", Entry{
			Key: "dir/a b+c%20.mp4", KeyHex: "ff", WorkflowID: "w1", Name: "n", Status: Failed,
			InstanceID: "i", RequestID: "r", Attempts: 5, Line: 12,
			Error:     &Error{HTTPStatus: 503, Code: "SlowDown", Message: "m", RequestID: "r2"},
			Uncertain: true, DispatchedAt: &d, Recovered: true,
			Execution: &Execution{State: "Success", CheckedAt: d.In(cst), Tasks: []Task{
				{Type: "Transcode", State: "Success", JobID: "j"},
				{Type: "Snapshot", State: "Failed", Code: "c", Message: "m"},
			}},
		}},
		{"execution without tasks", Entry{Key: "k", Status: Succeeded, Execution: &Execution{State: "Running"}}},
		{"execution look-up failed", Entry{Key: "k", Status: Succeeded, Execution: &Execution{CheckedAt: d,
			Error: &Error{HTTPStatus: 404, Code: "ResourceNotFound", Message: "m", RequestID: "r"}}}},
		{"execution look-up failed after a state", Entry{Key: "k", Status: Succeeded, Execution: &Execution{State: "Running", CheckedAt: d,
			Tasks: []Task{{Type: "Transcode", State: "Running"}}, Error: &Error{Code: "InternalError", Message: "m"}}}},
		{"escapes", Entry{Key: "q\"b\\s/\b\f\n\r\t\x00\x1f\x7f<>&\u2028\u2029é世😀", Status: Succeeded}},
		{"invalid utf-8", Entry{Key: "a\xffb\xc3\x28\xe2\x82", Status: Invalid, Error: &Error{Message: "\xed\xa0\x80"}}},
		{"history", Entry{Key: "k", Status: Succeeded, InstanceID: "i3", History: []Instance{
			{InstanceID: "i1", RequestID: "r1", Execution: &Execution{State: "Failed", CheckedAt: d}},
			{InstanceID: "i2"},
		}}},
		{"negative", Entry{Key: "k", Status: Failed, Attempts: -1, Line: -2, Error: &Error{HTTPStatus: -3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(&tt.e); err != nil {
				t.Fatal(err)
			}
			got := string(appendEntry(nil, &tt.e)) + "\n"
			if got != want.String() {
				t.Errorf("appendEntry(%+v) =\n%s want\n%s", tt.e, got, want.String())
			}
		})
	}
}

func TestAppendJob(t *testing.T) {
	d := time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC)
	for _, j := range []Job{{Name: "n"}, {Name: "n\"x", ID: "j1", State: "Running", SubmittedAt: d, Message: "m"}} {
		want, err := json.Marshal(struct {
			Job *Job `json:"job"`
		}{&j})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJobLine(nil, &j); string(got) != string(want) {
			t.Errorf("appendJobLine(%+v) = %s, want %s", j, got, want)
		}
		if back, ok, err := jobLine(want); !ok || err != nil || back != j {
			t.Errorf("jobLine(%s) = %+v, %v, %v", want, back, ok, err)
		}
	}
}

func BenchmarkAppendEntry(b *testing.B) {
	e := Entry{Key: "videos/2026/11/27/some-object-key.mp4", Status: Succeeded, InstanceID: "i6fc7a8b9c0d1e2f3", RequestID: "NjJmZTdhYTVfNDQ0NDVk", Attempts: 1}
	var buf []byte
	for b.Loop() {
		buf = appendEntry(buf[:0], &e)
	}
}

func BenchmarkMarshalEntry(b *testing.B) {
	e := Entry{Key: "videos/2026/11/27/some-object-key.mp4", Status: Succeeded, InstanceID: "i6fc7a8b9c0d1e2f3", RequestID: "NjJmZTdhYTVfNDQ0NDVk", Attempts: 1}
	for b.Loop() {
		json.Marshal(&e)
	}
}
