package runner

import (
	"context"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/manifest"
)

// windowSource yields its rows, then waits in Next for the run to stop and
// closes stopped: the test learns when the window ended without a clock.
type windowSource struct {
	rows    rows
	stopped chan struct{}
}

func (s *windowSource) Next(ctx context.Context) (manifest.Row, error) {
	if s.rows.i < len(s.rows.keys) {
		return s.rows.Next(ctx)
	}
	<-ctx.Done()
	close(s.stopped)
	return manifest.Row{}, ctx.Err()
}

func (s *windowSource) Close() error { return nil }

// TestRunDeadlineEndsLikeTheSource: at Config.Deadline the run stops
// dispatching, the calls in flight finish and are recorded, and Run returns
// nil with the source not exhausted (a window, not an abort).
func TestRunDeadlineEndsLikeTheSource(t *testing.T) {
	release := make(chan struct{})
	api := &fakeAPI{answer: func(string, int) (TriggerResult, error) { return ok, nil }, released: release}
	cfg := testConfig()
	cfg.Deadline = time.Now().Add(20 * time.Millisecond)
	src := &windowSource{rows: rows{keys: keys(4)}, stopped: make(chan struct{})}
	var c Counters
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), cfg, src, api, newLedger(), &c) }()
	<-src.stopped
	close(release) // the calls in flight end after the window did
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil at the end of the window", err)
	}
	if got := api.total.Load(); got != 4 {
		t.Errorf("%d calls, want the 4 in flight", got)
	}
	if got := c.Succeeded.Load(); got != 4 {
		t.Errorf("%d succeeded, want the 4 calls in flight recorded", got)
	}
	if c.Exhausted.Load() {
		t.Error("Exhausted after the window ended, want false: the source was not read to its end")
	}
	if c.RateLimit() != 0 {
		t.Errorf("RateLimit() = %g with no --qps, want 0", c.RateLimit())
	}
}

// TestRunCountsThrottled: every throttled answer is counted.
func TestRunCountsThrottled(t *testing.T) {
	api := &fakeAPI{answer: func(_ string, n int) (TriggerResult, error) {
		if n == 1 {
			return TriggerResult{}, slowDown
		}
		return ok, nil
	}}
	cfg := testConfig()
	cfg.QPS = 1000
	var c Counters
	if err := Run(context.Background(), cfg, &rows{keys: keys(10)}, api, newLedger(), &c); err != nil {
		t.Fatal(err)
	}
	if got := c.Throttled.Load(); got != 10 {
		t.Errorf("Throttled = %d, want 10 (one per object)", got)
	}
	if got := c.RateLimit(); got <= 0 || got > 1000 {
		t.Errorf("RateLimit() = %g, want a limit in (0, 1000]", got)
	}
}

// TestRunDeadlineWithPace: a window shorter than the paced source leaves
// the source unread; the limiter's waits are not cut short by the window's
// end ahead of time (which would drop every object until the source ran
// out).
func TestRunDeadlineWithPace(t *testing.T) {
	api := &fakeAPI{answer: func(string, int) (TriggerResult, error) { return ok, nil }}
	cfg := testConfig()
	cfg.QPS = 20
	cfg.Deadline = time.Now().Add(200 * time.Millisecond)
	var c Counters
	if err := Run(context.Background(), cfg, &rows{keys: keys(10000)}, api, newLedger(), &c); err != nil {
		t.Fatalf("Run = %v, want nil at the end of the window", err)
	}
	if c.Exhausted.Load() || c.Read.Load() == 10000 {
		t.Errorf("read %d rows, exhausted %v: want the window to leave the source unread", c.Read.Load(), c.Exhausted.Load())
	}
	if got := api.total.Load(); got != c.Succeeded.Load() {
		t.Errorf("%d calls, %d succeeded: want every call recorded", got, c.Succeeded.Load())
	}
}
