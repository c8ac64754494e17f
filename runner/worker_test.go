package runner

import (
	"context"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/report"
)

// A worker keeps successes for a batch, but not while its next call
// hangs: the success of a is recorded while the call for b has no answer.
func TestSuccessRecordedWhileNextCallHangs(t *testing.T) {
	release := make(chan struct{})
	api := &fakeAPI{answer: func(key string, _ int) (TriggerResult, error) {
		if key == "b" {
			<-release
		}
		return ok, nil
	}}
	ledger := newLedger()
	cfg := testConfig()
	cfg.Concurrency = 1
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), cfg, &rows{keys: []string{"a", "b"}}, api, ledger, &Counters{})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for ledger.entry("a").Status != report.Succeeded {
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("the success of a was not recorded while the call for b hung")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := ledger.entry("b").Status; got != report.Succeeded {
		t.Errorf("b: %s, want succeeded", got)
	}
}

// Every call gets the policy's timeout (and at most an eighth more), from
// a context it shares with the worker's other calls, and one past it ends
// with the deadline's error (a timeout, not a stop of the run).
func TestCallTimeout(t *testing.T) {
	const timeout = 8 * time.Second // its slack, 1 s, is more than any pause between calls
	api := &ctxAPI{}
	w := (&run{cfg: Config{Policy: Policy{Timeout: timeout}}, calls: context.Background(), api: api, c: &Counters{}}).newWorker()
	defer w.close()
	for range 3 {
		if _, err := w.call(TriggerInput{Key: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range api.calls {
		d, ok := c.ctx.Deadline()
		if !ok {
			t.Fatalf("call %d: no deadline", i)
		}
		// A tenth of the timeout for a machine that paused the test.
		if left := d.Sub(c.at); left < timeout*9/10 || left > timeout+timeout/deadlineSlack {
			t.Errorf("call %d: %v to its deadline, want the timeout %v and at most an eighth more", i, left, timeout)
		}
	}
	if api.calls[0].ctx != api.calls[2].ctx {
		t.Error("a worker's calls within the slack should share one context")
	}

	short := (&run{cfg: Config{Policy: Policy{Timeout: 10 * time.Millisecond}}, calls: context.Background(), api: api, c: &Counters{}}).newWorker()
	defer short.close()
	if _, err := short.call(TriggerInput{Key: "k"}); err != nil {
		t.Fatal(err)
	}
	ctx := api.calls[3].ctx
	<-ctx.Done()
	if ctx.Err() != context.DeadlineExceeded {
		t.Errorf("a call past its timeout ends with %v, want context.DeadlineExceeded", ctx.Err())
	}
}

// ctxAPI keeps the context of each call and when it was made.
type ctxAPI struct {
	fakeAPI
	calls []struct {
		ctx context.Context
		at  time.Time
	}
}

func (a *ctxAPI) Trigger(ctx context.Context, _ TriggerInput) (TriggerResult, error) {
	a.calls = append(a.calls, struct {
		ctx context.Context
		at  time.Time
	}{ctx, time.Now()})
	return ok, nil
}
