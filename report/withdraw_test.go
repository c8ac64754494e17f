package report

import (
	"path/filepath"
	"testing"
)

// TestWithdrawn: a Dispatched record taken back (the call was never sent)
// leaves the key as if never seen — after a clean close, after a crash,
// in a live scan and mid-run compactions — and the keys beside it keep
// their entries.
func TestWithdrawn(t *testing.T) {
	for _, crash := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "r.json")
		r := mustOpen(t, path)
		for _, k := range []string{"sent", "never-sent"} {
			if p := r.Admit("", k); p.State != New {
				t.Fatalf("Admit(%s) = %v", k, p.State)
			}
		}
		if err := r.RecordAll([]Entry{{Key: "sent", Status: Dispatched}, {Key: "never-sent", Status: Dispatched}}); err != nil {
			t.Fatal(err)
		}
		if err := r.Compact(); err != nil { // a rewrite between announcement and withdrawal
			t.Fatal(err)
		}
		mustRecord(t, r, Entry{Key: "sent", Status: Succeeded, InstanceID: "i1", Attempts: 1}, Entry{Key: "never-sent", Status: Withdrawn})
		if s := r.Summary(); s.Total != 1 || s.Succeeded != 1 {
			t.Errorf("crash=%v: Summary = %+v, want one succeeded entry", crash, s)
		}
		var live []Entry
		if _, err := ScanLive(path, func(e Entry) error { live = append(live, e); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(live) != 1 || live[0].Key != "sent" {
			t.Errorf("crash=%v: ScanLive = %+v, want the entry of sent only", crash, live)
		}
		if crash {
			r.abandon()
		} else {
			mustClose(t, r, true)
			var got []Entry
			if _, err := Scan(path, func(e Entry) error { got = append(got, e); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Key != "sent" {
				t.Errorf("report = %+v, want the entry of sent only", got)
			}
		}
		r = mustOpen(t, path)
		if p := r.Admit("", "never-sent"); p.State != New {
			t.Errorf("crash=%v: after reopening, Admit(never-sent) = %v, want New (no look-up)", crash, p.State)
		}
		if p := r.Admit("", "sent"); p.State != Done {
			t.Errorf("crash=%v: Admit(sent) = %v, want Done", crash, p.State)
		}
		if _, _, u := r.Loaded(); u != 0 {
			t.Errorf("crash=%v: %d uncertain keys loaded, want 0", crash, u)
		}
		mustClose(t, r, false)
	}
}
