package manifest

import "testing"

func TestSameBucket(t *testing.T) {
	for pair, want := range map[[2]string]bool{
		{"media-1250000000", "media-1250000000"}: true,
		{"media", "media-1250000000"}:            true,
		{"my-media", "my-media-1250000000"}:      true,
		{"other-1250000000", "media-1250000000"}: false,
		{"media-125", "media-1250000000"}:        false,
		{"media", "media"}:                       true,
		{"x", "media"}:                           false,
	} {
		if got := SameBucket(pair[0], pair[1]); got != want {
			t.Errorf("SameBucket(%q, %q) = %v, want %v", pair[0], pair[1], got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	// check reads as "WORKFLOW" or "WORKFLOW !CODE".
	check := func(row Row, bucket, workflow string) string {
		row, wf := Check(row, bucket, workflow)
		if row.Invalid != nil {
			return wf + " !" + row.Invalid.Code
		}
		return wf
	}
	for i, c := range [][2]string{
		{check(Row{Key: "a"}, "media-1250000000", "w1"), "w1"},
		{check(Row{Key: "a", WorkflowID: "w2"}, "", "w1"), "w2"},
		{check(Row{Key: "a", Line: 4}, "", ""), " !" + CodeNoWorkflow},
		{check(Row{Key: "a", Bucket: "other-1250000000"}, "media-1250000000", "w1"), "w1 !" + CodeOtherBucket},
		{check(Row{Key: "a", Bucket: "media"}, "media-1250000000", "w1"), "w1"},
		{check(Row{Invalid: &Invalid{Code: CodeEmptyKey}}, "", ""), " !" + CodeEmptyKey},
	} {
		if c[0] != c[1] {
			t.Errorf("case %d: Check = %q, want %q", i, c[0], c[1])
		}
	}
}
