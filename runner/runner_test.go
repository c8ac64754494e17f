package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/manifest"
	"github.com/wftrigger/wftrigger/report"
)

// fakeAPI answers each call with answer(key, attempt).
type fakeAPI struct {
	mu       sync.Mutex
	calls    map[string]int
	lookups  map[string]int
	answer   func(key string, attempt int) (TriggerResult, error)
	find     func(key string) (Execution, bool, error)
	list     func(start, end time.Time, token string) ([]Execution, string, error)
	lists    int
	total    atomic.Int64
	released chan struct{} // if non-nil, each call waits for it
}

func (f *fakeAPI) Trigger(ctx context.Context, in TriggerInput) (TriggerResult, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[in.Key]++
	n := f.calls[in.Key]
	f.mu.Unlock()
	f.total.Add(1)
	if f.released != nil {
		<-f.released
	}
	return f.answer(in.Key, n)
}

func (f *fakeAPI) FindExecution(ctx context.Context, workflowID, key string, since time.Time) (Execution, bool, error) {
	f.mu.Lock()
	if f.lookups == nil {
		f.lookups = map[string]int{}
	}
	f.lookups[key]++
	f.mu.Unlock()
	if f.find == nil {
		return Execution{}, false, nil
	}
	return f.find(key)
}

func (f *fakeAPI) ListExecutions(ctx context.Context, workflowID string, start, end time.Time, token string) ([]Execution, string, error) {
	f.mu.Lock()
	f.lists++
	f.mu.Unlock()
	if f.list == nil {
		return nil, "", nil
	}
	return f.list(start, end, token)
}

func (f *fakeAPI) callsOf(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

// fakeLedger keeps the last entry of each key in memory.
type fakeLedger struct {
	mu      sync.Mutex
	prior   map[string]report.Prior
	seen    map[string]bool
	last    map[string]report.Entry
	records []report.Entry
}

func newLedger() *fakeLedger {
	return &fakeLedger{prior: map[string]report.Prior{}, seen: map[string]bool{}, last: map[string]report.Entry{}}
}

func (l *fakeLedger) Admit(workflowID, key string) report.Prior {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[key] {
		return report.Prior{State: report.Duplicate}
	}
	l.seen[key] = true
	return l.prior[key]
}

func (l *fakeLedger) Record(e report.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, e)
	if e.Status != report.Dispatched {
		l.last[e.Key] = e
	}
	return nil
}

func (l *fakeLedger) RecordAll(es []report.Entry) error {
	for _, e := range es {
		if err := l.Record(e); err != nil {
			return err
		}
	}
	return nil
}

func (l *fakeLedger) entry(key string) report.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last[key]
}

// rows is a manifest.Source over fixed keys.
type rows struct {
	keys []string
	i    int
}

func (r *rows) Next(ctx context.Context) (manifest.Row, error) {
	if err := ctx.Err(); err != nil {
		return manifest.Row{}, err
	}
	if r.i == len(r.keys) {
		return manifest.Row{}, io.EOF
	}
	r.i++
	return manifest.Row{Key: r.keys[r.i-1], Line: r.i}, nil
}

func (r *rows) Close() error { return nil }

func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("k/%04d.mp4", i)
	}
	return out
}

func testConfig() Config {
	return Config{Workflow: "w1", Concurrency: 4, LookupDelay: time.Millisecond, Policy: Policy{MaxAttempts: 5, Base: time.Millisecond, Cap: 5 * time.Millisecond, Timeout: 10 * time.Second},
		MaxFailures: Threshold{Percent: 50}}
}

var (
	ok          = TriggerResult{InstanceID: "i1", RequestID: "r1"}
	internal    = &Failure{Outcome: Retryable, HTTPStatus: 500, Code: "InternalError"}
	slowDown    = &Failure{Outcome: Throttled, HTTPStatus: 503, Code: "SlowDown", RetryAfter: 2 * time.Millisecond}
	denied      = &Failure{Outcome: Permanent, HTTPStatus: 403, Code: "AccessDenied", Message: "denied"}
	badSig      = &Failure{Outcome: Fatal, HTTPStatus: 403, Code: "SignatureDoesNotMatch"}
	lostAnswer  = &Failure{Outcome: Uncertain, Code: "NetworkError", Err: io.ErrUnexpectedEOF}
	neverSent   = &Failure{Outcome: Retryable, Code: "NetworkError", Err: errors.New("connection refused")}
	lookupError = &Failure{Outcome: Permanent, HTTPStatus: 403, Code: "AccessDenied"}
)

func TestRunOutcomes(t *testing.T) {
	tests := []struct {
		name         string
		answer       func(attempt int) (TriggerResult, error)
		find         func() (Execution, bool, error)
		wantStatus   report.Status
		wantAttempts int
		wantCode     string
		wantLookups  int
		recovered    bool
	}{
		{"first call succeeds", func(int) (TriggerResult, error) { return ok, nil }, nil, report.Succeeded, 1, "", 0, false},
		{"5xx retried until success", func(n int) (TriggerResult, error) {
			if n < 3 {
				return TriggerResult{}, internal
			}
			return ok, nil
		}, nil, report.Succeeded, 3, "", 0, false},
		{"throttled retried", func(n int) (TriggerResult, error) {
			if n < 2 {
				return TriggerResult{}, slowDown
			}
			return ok, nil
		}, nil, report.Succeeded, 2, "", 0, false},
		{"retries exhausted", func(int) (TriggerResult, error) { return TriggerResult{}, internal }, nil, report.Failed, 5, "InternalError", 0, false},
		{"permanent error not retried", func(int) (TriggerResult, error) { return TriggerResult{}, denied }, nil, report.Failed, 1, "AccessDenied", 0, false},
		{"network error before sending retried without look-up", func(n int) (TriggerResult, error) {
			if n < 2 {
				return TriggerResult{}, neverSent
			}
			return ok, nil
		}, nil, report.Succeeded, 2, "", 0, false},
		{"lost answer found in the execution list", func(int) (TriggerResult, error) { return TriggerResult{}, lostAnswer },
			func() (Execution, bool, error) {
				return Execution{RunID: "i-found"}, true, nil
			}, report.Succeeded, 1, "", 1, true},
		{"lost answer not in the list is triggered again", func(n int) (TriggerResult, error) {
			if n < 2 {
				return TriggerResult{}, lostAnswer
			}
			return ok, nil
		}, nil, report.Succeeded, 2, "", 1, false},
		{"look-up failure is not a licence to trigger again", func(int) (TriggerResult, error) { return TriggerResult{}, lostAnswer },
			func() (Execution, bool, error) { return Execution{}, false, lookupError },
			report.Failed, 1, "AccessDenied", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{answer: func(_ string, n int) (TriggerResult, error) { return tt.answer(n) }}
			if tt.find != nil {
				api.find = func(string) (Execution, bool, error) { return tt.find() }
			}
			l := newLedger()
			var c Counters
			err := Run(context.Background(), testConfig(), &rows{keys: []string{"a.mp4"}}, api, l, &c)
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
			e := l.entry("a.mp4")
			if e.Status != tt.wantStatus || e.Attempts != tt.wantAttempts {
				t.Errorf("entry = %s after %d attempts, want %s after %d (%+v)", e.Status, e.Attempts, tt.wantStatus, tt.wantAttempts, e.Error)
			}
			if tt.wantCode != "" && (e.Error == nil || e.Error.Code != tt.wantCode) {
				t.Errorf("entry error = %+v, want code %s", e.Error, tt.wantCode)
			}
			if got := api.lookups["a.mp4"]; got != tt.wantLookups {
				t.Errorf("look-ups = %d, want %d", got, tt.wantLookups)
			}
			if e.Recovered != tt.recovered {
				t.Errorf("recovered = %v, want %v", e.Recovered, tt.recovered)
			}
			if e.Status == report.Failed && tt.wantLookups > 0 && !e.Uncertain {
				t.Error("a failed object whose call may have been accepted must stay uncertain")
			}
			if l.records[0].Status != report.Dispatched {
				t.Errorf("first record = %s, want dispatched before the call", l.records[0].Status)
			}
		})
	}
}

func TestRunPriorStates(t *testing.T) {
	api := &fakeAPI{answer: func(string, int) (TriggerResult, error) { return ok, nil },
		find: func(key string) (Execution, bool, error) {
			return Execution{RunID: "i-earlier"}, key == "uncertain-found", nil
		}}
	l := newLedger()
	at := time.Now().Add(-time.Hour)
	l.prior["done"] = report.Prior{State: report.Done}
	l.prior["failed"] = report.Prior{State: report.Retry}
	l.prior["uncertain-found"] = report.Prior{State: report.Uncertain, DispatchedAt: at}
	l.prior["uncertain-lost"] = report.Prior{State: report.Uncertain, DispatchedAt: at}
	var c Counters
	src := &rows{keys: []string{"done", "failed", "uncertain-found", "uncertain-lost", "new", "new"}}
	if err := Run(context.Background(), testConfig(), src, api, l, &c); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{"done": 0, "failed": 1, "uncertain-found": 0, "uncertain-lost": 1, "new": 1} {
		if got := api.callsOf(key); got != want {
			t.Errorf("calls of %q = %d, want %d", key, got, want)
		}
	}
	if e := l.entry("uncertain-found"); e.InstanceID != "i-earlier" || !e.Recovered {
		t.Errorf("uncertain-found = %+v, want the earlier instance, recovered", e)
	}
	if c.Skipped.Load() != 1 || c.Duplicates.Load() != 1 || c.Recovered.Load() != 1 {
		t.Errorf("skipped %d duplicates %d recovered %d, want 1 1 1", c.Skipped.Load(), c.Duplicates.Load(), c.Recovered.Load())
	}
}

func TestRunFatalStopsWithinTwiceConcurrency(t *testing.T) {
	api := &fakeAPI{answer: func(string, int) (TriggerResult, error) { return TriggerResult{}, badSig }}
	cfg := testConfig()
	cfg.Concurrency = 8
	err := Run(context.Background(), cfg, &rows{keys: keys(1000)}, api, newLedger(), &Counters{})
	var ae *AbortError
	if !errors.As(err, &ae) || ae.Reason != "fatal" {
		t.Fatalf("Run = %v, want a fatal abort", err)
	}
	if n := api.total.Load(); n > 16 {
		t.Errorf("%d calls before the run stopped, want at most 16", n)
	}
}

func TestRunSameErrorAborts(t *testing.T) {
	api := &fakeAPI{answer: func(string, int) (TriggerResult, error) { return TriggerResult{}, denied }}
	err := Run(context.Background(), testConfig(), &rows{keys: keys(1000)}, api, newLedger(), &Counters{})
	var ae *AbortError
	if !errors.As(err, &ae) || ae.Reason != "same-error" {
		t.Fatalf("Run = %v, want a same-error abort", err)
	}
	if n := api.total.Load(); n > 20+4 {
		t.Errorf("%d calls, want at most 24", n)
	}
}

func TestRunMaxFailures(t *testing.T) {
	// Two different permanent errors (no same-error abort), 60% failing.
	api := &fakeAPI{answer: func(key string, _ int) (TriggerResult, error) {
		var i int
		fmt.Sscanf(key, "k/%d.mp4", &i)
		switch i % 5 {
		case 0:
			return TriggerResult{}, denied
		case 1, 2:
			return TriggerResult{}, &Failure{Outcome: Permanent, HTTPStatus: 400, Code: "InvalidArgument"}
		}
		return ok, nil
	}}
	var c Counters
	err := Run(context.Background(), testConfig(), &rows{keys: keys(1000)}, api, newLedger(), &c)
	var ae *AbortError
	if !errors.As(err, &ae) || ae.Reason != "max-failures" {
		t.Fatalf("Run = %v, want a max-failures abort", err)
	}
	if done := c.Succeeded.Load() + c.Failed.Load(); done < 100 || done > 200 {
		t.Errorf("%d objects finished before the abort, want just over 100", done)
	}
}

func TestRunStopLetsCallsInFlightFinish(t *testing.T) {
	release := make(chan struct{})
	api := &fakeAPI{answer: func(string, int) (TriggerResult, error) { return ok, nil }, released: release}
	ctx, cancel := context.WithCancel(context.Background())
	l := newLedger()
	var c Counters
	done := make(chan error, 1)
	go func() { done <- Run(ctx, testConfig(), &rows{keys: keys(100)}, api, l, &c) }()
	for c.InFlight.Load() < 4 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	close(release)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if got := api.total.Load(); got != 4 {
		t.Errorf("%d calls, want the 4 in flight and no more", got)
	}
	if got := c.Succeeded.Load(); got != 4 {
		t.Errorf("%d succeeded, want the 4 calls in flight recorded", got)
	}
}

func TestRunInvalidRowsAndMissingWorkflow(t *testing.T) {
	src := &sliceSource{rows: []manifest.Row{
		{Key: "", Line: 2, Invalid: &manifest.Invalid{Code: "EmptyKey", Message: "line 2: empty key"}},
		{Key: "own.mp4", Line: 3, WorkflowID: "w2", Bucket: "media"},
		{Key: "none.mp4", Line: 4},
		{Key: "elsewhere.mp4", Line: 5, WorkflowID: "w2", Bucket: "other-1250000000"},
	}}
	api := &fakeAPI{answer: func(string, int) (TriggerResult, error) { return ok, nil }}
	l := newLedger()
	cfg := testConfig()
	cfg.Workflow, cfg.Bucket = "", "media-1250000000"
	var c Counters
	if err := Run(context.Background(), cfg, src, api, l, &c); err != nil {
		t.Fatal(err)
	}
	if c.Invalid.Load() != 3 || api.total.Load() != 1 {
		t.Errorf("invalid %d calls %d, want 3 invalid and 1 call", c.Invalid.Load(), api.total.Load())
	}
	if e := l.entry("elsewhere.mp4"); e.Status != report.Invalid || e.Error.Code != "OtherBucket" {
		t.Errorf("elsewhere.mp4 = %+v, want invalid OtherBucket", e)
	}
	if e := l.entry("none.mp4"); e.Status != report.Invalid || e.Error.Code != "NoWorkflow" || e.Line != 4 {
		t.Errorf("none.mp4 = %+v, want invalid NoWorkflow at line 4", e)
	}
	if e := l.entry("own.mp4"); e.WorkflowID != "w2" || e.Status != report.Succeeded {
		t.Errorf("own.mp4 = %+v, want succeeded with its own workflow", e)
	}
}

type sliceSource struct{ rows []manifest.Row }

func (s *sliceSource) Next(context.Context) (manifest.Row, error) {
	if len(s.rows) == 0 {
		return manifest.Row{}, io.EOF
	}
	r := s.rows[0]
	s.rows = s.rows[1:]
	return r, nil
}
func (s *sliceSource) Close() error { return nil }

func TestRunSourceErrorAborts(t *testing.T) {
	api := &fakeAPI{answer: func(string, int) (TriggerResult, error) { return ok, nil }}
	err := Run(context.Background(), testConfig(), errSource{}, api, newLedger(), &Counters{})
	var ae *AbortError
	if !errors.As(err, &ae) || ae.Reason != "source" {
		t.Fatalf("Run = %v, want a source abort", err)
	}
}

type errSource struct{}

func (errSource) Next(context.Context) (manifest.Row, error) {
	return manifest.Row{}, errors.New("inventory file a.csv.gz: md5 mismatch")
}
func (errSource) Close() error { return nil }

func TestPlan(t *testing.T) {
	l := newLedger()
	l.prior["done"] = report.Prior{State: report.Done}
	l.prior["unsure"] = report.Prior{State: report.Uncertain}
	src := &sliceSource{rows: []manifest.Row{{Key: "a"}, {Key: "done"}, {Key: "unsure"}, {Key: "a"}, {Key: "", Invalid: &manifest.Invalid{Code: "EmptyKey"}}}}
	s, err := Plan(context.Background(), Config{Workflow: "w1"}, src, l)
	if err != nil {
		t.Fatal(err)
	}
	want := Survey{Rows: 5, WouldTrigger: 2, Uncertain: 1, Invalid: 1, Duplicates: 1, Done: 1, First: []string{"a", "unsure"}}
	if fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("Plan = %+v, want %+v", s, want)
	}
}

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in      string
		want    Threshold
		wantErr bool
	}{
		{"50%", Threshold{Percent: 50}, false},
		{"0.5%", Threshold{Percent: 0.5}, false},
		{"10", Threshold{Count: 10}, false},
		{"0", Threshold{Count: 0}, false},
		{"0%", Threshold{}, true},
		{"101%", Threshold{}, true},
		{"-1", Threshold{}, true},
		{"lots", Threshold{}, true},
	}
	for _, tt := range tests {
		got, err := ParseThreshold(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseThreshold(%q) = %v, %v, want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestThresholdExceeded(t *testing.T) {
	tests := []struct {
		t                Threshold
		failed, finished int
		want             bool
	}{
		{Threshold{Percent: 50}, 99, 99, false}, // judged only after 100
		{Threshold{Percent: 50}, 51, 100, true},
		{Threshold{Percent: 50}, 50, 100, false},
		{Threshold{Count: 3}, 4, 10, true},
		{Threshold{Count: 3}, 3, 10, false},
	}
	for _, tt := range tests {
		if got := tt.t.exceeded(tt.failed, tt.finished); got != tt.want {
			t.Errorf("%v.exceeded(%d, %d) = %v, want %v", tt.t, tt.failed, tt.finished, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := Policy{MaxAttempts: 10, Base: 100 * time.Millisecond, Cap: 20 * time.Second}
	for n := 1; n <= 12; n++ {
		ceil := min(p.Cap, p.Base<<(n-1))
		for range 50 {
			if d := p.Backoff(n, internal); d < 0 || d > ceil {
				t.Fatalf("Backoff(%d) = %v, want within [0, %v]", n, d, ceil)
			}
		}
	}
	ra := &Failure{Outcome: Throttled, HTTPStatus: 429, RetryAfter: 3 * time.Second}
	if d := p.Backoff(1, ra); d < 3*time.Second {
		t.Errorf("Backoff with Retry-After 3s = %v, want at least 3s", d)
	}
	ra.RetryAfter = time.Hour
	if d := p.Backoff(1, ra); d != p.Cap {
		t.Errorf("Backoff with Retry-After 1h = %v, want the cap %v", d, p.Cap)
	}
}
