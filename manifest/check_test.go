package manifest

import "testing"

func TestSameBucket(t *testing.T) {
	tests := []struct {
		row, run string
		want     bool
	}{
		{"media-1250000000", "media-1250000000", true},
		{"media", "media-1250000000", true},
		{"my-media", "my-media-1250000000", true},
		{"other-1250000000", "media-1250000000", false},
		{"media-125", "media-1250000000", false},
		{"media", "media", true},
		{"x", "media", false},
	}
	for _, tt := range tests {
		if got := SameBucket(tt.row, tt.run); got != tt.want {
			t.Errorf("SameBucket(%q, %q) = %v, want %v", tt.row, tt.run, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		row      Row
		bucket   string
		workflow string
		wantWF   string
		wantCode string
	}{
		{"run's workflow", Row{Key: "a"}, "media-1250000000", "w1", "w1", ""},
		{"own workflow", Row{Key: "a", WorkflowID: "w2"}, "", "w1", "w2", ""},
		{"no workflow", Row{Key: "a", Line: 4}, "", "", "", CodeNoWorkflow},
		{"other bucket", Row{Key: "a", Bucket: "other-1250000000"}, "media-1250000000", "w1", "w1", CodeOtherBucket},
		{"bucket without APPID", Row{Key: "a", Bucket: "media"}, "media-1250000000", "w1", "w1", ""},
		{"invalid stays invalid", Row{Invalid: &Invalid{Code: CodeEmptyKey}}, "", "", "", CodeEmptyKey},
	}
	for _, tt := range tests {
		row, wf := Check(tt.row, tt.bucket, tt.workflow)
		code := ""
		if row.Invalid != nil {
			code = row.Invalid.Code
		}
		if wf != tt.wantWF || code != tt.wantCode {
			t.Errorf("%s: Check(%+v, %q, %q) = %q, %q, want %q, %q", tt.name, tt.row, tt.bucket, tt.workflow, wf, code, tt.wantWF, tt.wantCode)
		}
	}
}
