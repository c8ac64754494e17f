package emulator

import (
	"fmt"
	"testing"
	"time"
)

func TestQuotaMovesAndOutage(t *testing.T) {
	s, clock := newTestServer(t, func(c *Config) {
		c.Quota = Quota{
			Steps:   []QuotaStep{{At: 10 * time.Second, Rate: 5}, {At: 0, Rate: 10}},
			Outages: []Outage{{At: 20 * time.Second, For: 5 * time.Second}},
			Burst:   time.Second,
		}
	})
	n := 0
	burst := func(calls int) (ok, throttled int) {
		for range calls {
			n++
			switch code := serve(s, signed("POST", triggerTarget(testWorkflow, fmt.Sprintf("k%d", n)), clock.Now())).Code; code {
			case 200:
				ok++
			case 503:
				throttled++
			default:
				t.Fatalf("trigger answered %d, want 200 or 503", code)
			}
		}
		return ok, throttled
	}
	check := func(what string, calls, wantOK int) {
		t.Helper()
		if ok, thr := burst(calls); ok != wantOK || thr != calls-wantOK {
			t.Errorf("%s: %d accepted, %d throttled of %d; want %d accepted", what, ok, thr, calls, wantOK)
		}
	}
	check("first second at 10/s (a second's burst)", 15, 10)
	clock.Advance(time.Second)
	check("one second later", 15, 10)
	clock.Advance(10 * time.Second) // 11 s: 5/s
	check("after the step down to 5/s", 15, 5)
	clock.Advance(10 * time.Second) // 21 s: outage
	check("during the outage", 15, 0)
	clock.Advance(5 * time.Second) // 26 s: 5/s again
	check("after the outage", 15, 5)
	if got := len(s.Triggers()); got != 30 {
		t.Errorf("%d triggers recorded, want 30 (throttled ones are not)", got)
	}
	secs := s.QuotaSeconds()
	if len(secs) != 27 || secs[0].Accepted != 10 || secs[0].Throttled != 5 || secs[21].Quota != 0 || secs[21].Throttled != 15 || secs[11].Quota != 5 {
		t.Errorf("QuotaSeconds = %+v", secs)
	}
	s.SetQuota(Quota{})
	check("no quota", 15, 15)
}

func TestParseQuotaSchedule(t *testing.T) {
	got, err := ParseQuotaSchedule("20s:100, 0s:200,40s:0")
	want := []QuotaStep{{0, 200}, {20 * time.Second, 100}, {40 * time.Second, 0}}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ParseQuotaSchedule = %v, %v; want %v", got, err, want)
	}
	if got, err := ParseQuotaSchedule("200"); err != nil || len(got) != 1 || got[0].Rate != 200 {
		t.Errorf("ParseQuotaSchedule(200) = %v, %v", got, err)
	}
	for _, bad := range []string{"x:1", "1s:-1", "1s:abc", "-1s:5"} {
		if _, err := ParseQuotaSchedule(bad); err == nil {
			t.Errorf("ParseQuotaSchedule(%q) = nil error", bad)
		}
	}
	if o, err := ParseOutage("10s+20s"); err != nil || o != (Outage{10 * time.Second, 20 * time.Second}) {
		t.Errorf("ParseOutage = %v, %v", o, err)
	}
	if _, err := ParseOutage("10s"); err == nil {
		t.Error("ParseOutage(10s) = nil error")
	}
}

func TestNameFilter(t *testing.T) {
	for _, tt := range []struct {
		mode NameFilter
		name string
		want int // instances of the three below that the filter matches
	}{
		{NameKey, "dir/a.mp4", 1},
		{NameBase, "dir/a.mp4", 0},
		{NameBase, "a.mp4", 2},
		{NameSubstring, "a.mp4", 2},
		{NameIgnored, "nothing", 3},
	} {
		s, _ := newTestServer(t, func(c *Config) { c.NameFilter = tt.mode })
		for _, k := range []string{"dir/a.mp4", "other/a.mp4", "b.mp4"} {
			s.exec.record(testWorkflow, k, "", time.Now)
		}
		s.exec.mu.Lock()
		got := len(s.byName(testWorkflow, tt.name))
		s.exec.mu.Unlock()
		if got != tt.want {
			t.Errorf("NameFilter %q, name %q: %d matches, want %d", tt.mode, tt.name, got, tt.want)
		}
	}
}

func TestQuotaPerSecond(t *testing.T) {
	s, clock := newTestServer(t, func(c *Config) { c.Quota = Quota{Steps: []QuotaStep{{0, 10}}} })
	n := 0
	accepted := func(calls int) int {
		ok := 0
		for range calls {
			n++
			if serve(s, signed("POST", triggerTarget(testWorkflow, fmt.Sprintf("k%d", n)), clock.Now())).Code == 200 {
				ok++
			}
		}
		return ok
	}
	if got := accepted(15); got != 10 {
		t.Errorf("first second: %d accepted of 15, want 10", got)
	}
	clock.Advance(500 * time.Millisecond)
	if got := accepted(5); got != 0 {
		t.Errorf("same second: %d accepted, want 0", got)
	}
	clock.Advance(10 * time.Second) // a quiet spell carries nothing over
	if got := accepted(15); got != 10 {
		t.Errorf("after a quiet spell: %d accepted of 15, want 10", got)
	}
}
