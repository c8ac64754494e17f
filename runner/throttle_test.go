package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/report"
)

// TestThrottledUsesNoAttempt: an object throttled ten times, with
// --max-attempts 2, still succeeds; every call is in its attempts.
func TestThrottledUsesNoAttempt(t *testing.T) {
	api := &fakeAPI{answer: func(_ string, n int) (TriggerResult, error) {
		if n <= 10 {
			return TriggerResult{}, &Failure{Outcome: Throttled, HTTPStatus: 503, Code: "SlowDown"}
		}
		return ok, nil
	}}
	cfg := testConfig()
	cfg.Policy.MaxAttempts = 2
	l := newLedger()
	var c Counters
	if err := Run(context.Background(), cfg, &rows{keys: []string{"a.mp4"}}, api, l, &c); err != nil {
		t.Fatal(err)
	}
	if e := l.entry("a.mp4"); e.Status != report.Succeeded || e.Attempts != 11 {
		t.Errorf("entry = %s after %d attempts, want succeeded after 11", e.Status, e.Attempts)
	}
	if got := c.Throttled.Load(); got != 10 {
		t.Errorf("Counters.Throttled = %d, want 10", got)
	}
}

// TestThrottledEverywhereGivesUp: a run whose every answer is throttled
// for GiveUpThrottled aborts, resumable, reason "throttled".
func TestThrottledEverywhereGivesUp(t *testing.T) {
	api := &fakeAPI{answer: func(string, int) (TriggerResult, error) {
		return TriggerResult{}, &Failure{Outcome: Throttled, HTTPStatus: 429, Code: "RequestLimitExceeded"}
	}}
	cfg := testConfig()
	cfg.QPS, cfg.Adaptive, cfg.MinQPS = 1000, true, 200
	cfg.GiveUpThrottled = 100 * time.Millisecond
	l := newLedger()
	err := Run(context.Background(), cfg, &rows{keys: keys(50)}, api, l, &Counters{})
	var ae *AbortError
	if !errors.As(err, &ae) || ae.Reason != "throttled" {
		t.Fatalf("Run = %v, want an abort for throttling", err)
	}
	for _, e := range l.last {
		if e.Status == report.Succeeded {
			t.Errorf("%s succeeded, with every answer throttled", e.Key)
		}
	}
}

// TestRetryAfterJitter: a Retry-After is waited, with up to half of it
// again as jitter, different from object to object.
func TestRetryAfterJitter(t *testing.T) {
	r := &run{cfg: testConfig().withDefaults(), pace: newPacer(100, 0, true, time.Now, nil)}
	r.cfg.Policy.Cap = time.Minute
	ra := &Failure{Outcome: Throttled, HTTPStatus: 503, RetryAfter: 3 * time.Second}
	seen := map[time.Duration]bool{}
	for range 100 {
		d := r.throttleWait(&task{throttled: 1}, ra)
		if d < 3*time.Second || d > 4500*time.Millisecond {
			t.Fatalf("wait after Retry-After 3s = %v, want within [3s, 4.5s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 50 {
		t.Errorf("%d distinct waits of 100: the objects would come back together", len(seen))
	}
	if d := r.throttleWait(&task{throttled: 1}, &Failure{Outcome: Throttled}); d != 0 {
		t.Errorf("adaptive pacer, no Retry-After: wait %v, want 0 (the pacer's wait)", d)
	}
}

// lossy answers the first call of every fifth key with a lost answer
// (after the service accepted it when accepted is true), and records the
// instances the fake service created.
type lossy struct {
	fakeAPI
	accepted  bool
	mu        sync.Mutex
	instances map[string]int // key -> instances created
	at        map[string]time.Time
}

func newLossy(accepted bool) *lossy {
	l := &lossy{accepted: accepted, instances: map[string]int{}, at: map[string]time.Time{}}
	l.answer = func(key string, n int) (TriggerResult, error) {
		var i int
		fmt.Sscanf(key, "k/%04d.mp4", &i)
		l.mu.Lock()
		defer l.mu.Unlock()
		if n == 1 && i%5 == 0 {
			if l.accepted {
				l.instances[key]++
				l.at[key] = time.Now()
			}
			return TriggerResult{}, lostAnswer
		}
		l.instances[key]++
		l.at[key] = time.Now()
		return ok, nil
	}
	// The name filter finds nothing (as if it matched base names only);
	// the window listing has every instance.
	l.list = func(start, end time.Time, token string) ([]Execution, string, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		var out []Execution
		for k, n := range l.instances {
			if n > 0 && !l.at[k].Before(start) && !l.at[k].After(end) {
				out = append(out, Execution{RunID: "i-" + k, Object: k})
			}
		}
		return out, "", nil
	}
	return l
}

// TestUncertainParkedNotStalling: 20% lost answers on 400 keys, look-up
// delay 300 ms, 4 workers: holding a worker per lost answer would take
// 80 × 300 ms / 4 = 6 s; parked, the run takes little more than one delay.
// The name filter finds nothing; the window listing finds the accepted
// ones, and none is triggered twice.
func TestUncertainParkedNotStalling(t *testing.T) {
	for _, accepted := range []bool{true, false} {
		t.Run(fmt.Sprintf("accepted=%v", accepted), func(t *testing.T) {
			api := newLossy(accepted)
			cfg := testConfig()
			cfg.LookupDelay = 300 * time.Millisecond
			l := newLedger()
			var c Counters
			start := time.Now()
			if err := Run(context.Background(), cfg, &rows{keys: keys(400)}, api, l, &c); err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			for _, k := range keys(400) {
				if n := api.instances[k]; n != 1 {
					t.Errorf("%s has %d instances, want 1", k, n)
				}
				if e := l.entry(k); e.Status != report.Succeeded {
					t.Errorf("%s is %s, want succeeded", k, e.Status)
				}
			}
			wantRecovered := int64(0)
			if accepted {
				wantRecovered = 80
			}
			if got := c.Recovered.Load(); got != wantRecovered {
				t.Errorf("recovered %d, want %d", got, wantRecovered)
			}
			if elapsed >= 6*time.Second {
				t.Errorf("run took %v: lost answers held the workers (held, they take at least 6 s)", elapsed)
			}
			if api.lists >= 80 {
				t.Errorf("%d window listings for 80 lost answers: not batched", api.lists)
			}
			t.Logf("%v, %d window listings, %d name look-ups", elapsed.Round(time.Millisecond), api.lists, len(api.lookups))
		})
	}
}

// TestListWindowPaging: the window listing follows NextToken, stops on a
// repeated token, and compares Object exactly.
func TestListWindowPaging(t *testing.T) {
	pages := map[string][]Execution{
		"":   {{RunID: "1", Object: "dir/a.mp4x"}, {RunID: "2", Object: "a.mp4"}},
		"t1": {{RunID: "3", Object: "dir/a.mp4"}},
		"t2": {{RunID: "4", Object: "b.mp4"}},
	}
	next := map[string]string{"": "t1", "t1": "t2", "t2": "t1"}
	calls := 0
	api := &fakeAPI{list: func(_, _ time.Time, token string) ([]Execution, string, error) {
		calls++
		return pages[token], next[token], nil
	}}
	r := &run{cfg: testConfig().withDefaults(), api: api, stop: context.Background(), pace: newPacer(0, 0, false, time.Now, nil)}
	want := map[string]*task{"dir/a.mp4": {}, "c.mp4": {}}
	found, err := r.listWindow("w1", time.Now(), time.Now(), want)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found["dir/a.mp4"].RunID != "3" {
		t.Errorf("found %v, want only dir/a.mp4 as run 3", found)
	}
	if calls != 3 {
		t.Errorf("%d pages read, want 3 (stop on the repeated token)", calls)
	}
}

// TestRateLimitCounter: Counters.RateLimit reads the pacer's limit.
func TestRateLimitCounter(t *testing.T) {
	var c Counters
	if got := c.RateLimit(); got != 0 {
		t.Errorf("RateLimit before the run = %v, want 0", got)
	}
	cfg := testConfig()
	cfg.QPS, cfg.Adaptive = 10, false
	api := &fakeAPI{answer: func(string, int) (TriggerResult, error) { return ok, nil }}
	if err := Run(context.Background(), cfg, &rows{keys: keys(3)}, api, newLedger(), &c); err != nil {
		t.Fatal(err)
	}
	if got := c.RateLimit(); got != 10 {
		t.Errorf("RateLimit = %v, want 10", got)
	}
}

// A look-up shares the triggers' pace: a throttled page of the window
// listing is retried after its turn, and the pacer hears of both answers.
func TestLookUpsArePaced(t *testing.T) {
	calls := 0
	api := &fakeAPI{list: func(_, _ time.Time, token string) ([]Execution, string, error) {
		calls++
		if calls == 1 {
			return nil, "", slowDown
		}
		return []Execution{{RunID: "1", Object: "a.mp4"}}, "", nil
	}}
	start := time.Now()
	pace := newPacer(1000, 0, true, func() time.Time { return start }, nil) // one window: its counts stay
	r := &run{cfg: testConfig().withDefaults(), api: api, stop: context.Background(), pace: pace}
	found, err := r.listWindow("w1", time.Now(), time.Now(), map[string]*task{"a.mp4": {}})
	if err != nil || found["a.mp4"].RunID != "1" {
		t.Fatalf("listWindow = %v, %v; want a.mp4 found after one throttled page", found, err)
	}
	if calls != 2 {
		t.Errorf("%d list calls, want 2 (the throttled one retried)", calls)
	}
	pace.mu.Lock()
	answers, throttled := pace.ctl.answers, pace.ctl.throttled
	pace.mu.Unlock()
	if answers != 2 || throttled != 1 {
		t.Errorf("the pacer heard %d answers, %d throttled; want 2, 1", answers, throttled)
	}
}
