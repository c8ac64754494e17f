package runner

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/report"
)

// fakeDescriber answers each run id with state(runID).
type fakeDescriber struct {
	state func(runID string) (string, error)
	calls atomic.Int64
}

func (f *fakeDescriber) DescribeExecution(_ context.Context, runID string) (Execution, error) {
	f.calls.Add(1)
	s, err := f.state(runID)
	if err != nil {
		return Execution{}, err
	}
	return Execution{RunID: runID, State: s, Tasks: []Task{{Type: "Transcode", State: s}}}, nil
}

// writeReport writes a finished report of n succeeded objects, instance i<N>.
func writeReport(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.json")
	rep, err := report.Open(report.Options{Path: path, Meta: report.Meta{Version: 1, Bucket: "b-1250000000", WorkflowID: "w1", StartedAt: time.Now().UTC()}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		key := fmt.Sprintf("k%03d", i)
		rep.Admit("w1", key)
		if err := rep.Record(report.Entry{Key: key, Status: report.Succeeded, InstanceID: fmt.Sprintf("i%03d", i), Attempts: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rep.Close(time.Now().UTC(), true); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStatus(t *testing.T) {
	path := writeReport(t, 200)
	svc := &fakeDescriber{state: func(id string) (string, error) {
		switch id {
		case "i001":
			return StateFailed, nil
		case "i002":
			return StateRunning, nil
		case "i003":
			return "", &Failure{Outcome: Permanent, HTTPStatus: 404, Code: "ResourceNotFound"}
		case "i004":
			return StateCancel, nil
		case "i005":
			return "", &Failure{Outcome: Retryable, HTTPStatus: 500, Code: "InternalError", Message: "secret-x leaked"}
		}
		return StateSuccess, nil
	}}
	cfg := Config{Concurrency: 4, Policy: Policy{MaxAttempts: 3, Base: time.Millisecond, Cap: time.Millisecond},
		Redact: func(s string) string { return strings.ReplaceAll(s, "secret-x", "[redacted]") }}
	got, err := Status(context.Background(), cfg, path, svc)
	if err != nil {
		t.Fatal(err)
	}
	want := Tally{Success: 195, Failed: 1, Running: 1, Cancel: 1, NotFound: 1, LookupFailed: 1}
	if got != want {
		t.Errorf("Status = %+v, want %+v", got, want)
	}
	// A second pass looks up only what is not final.
	svc.calls.Store(0)
	if got, err = Status(context.Background(), cfg, path, svc); err != nil || got != want {
		t.Errorf("second Status = %+v, %v, want %+v", got, err, want)
	}
	if n := svc.calls.Load(); n != 2+3 {
		t.Errorf("second pass made %d look-ups, want 5 (the running one, the not found one, the failing one 3 times)", n)
	}
	states := map[string]string{}
	errs := map[string]*report.Error{}
	if _, err := report.Scan(path, func(e report.Entry) error {
		if e.Execution != nil {
			states[e.Key] = e.Execution.State
			errs[e.Key] = e.Execution.Error
			if len(e.Execution.Tasks) != 1 && e.Execution.Error == nil {
				t.Errorf("%s: tasks %+v, want the one task", e.Key, e.Execution.Tasks)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if states["k001"] != StateFailed || states["k000"] != StateSuccess || states["k003"] != "" {
		t.Errorf("recorded states k000 %q k001 %q k003 %q, want Success, Failed and none", states["k000"], states["k001"], states["k003"])
	}
	if e := errs["k003"]; e == nil || e.HTTPStatus != 404 || e.Code != "ResourceNotFound" {
		t.Errorf("k003's execution error = %+v, want 404 ResourceNotFound", e)
	}
	if e := errs["k005"]; e == nil || e.HTTPStatus != 500 || e.Code != "InternalError" || e.Message != "[redacted] leaked" {
		t.Errorf("k005's execution error = %+v, want 500 InternalError, its message redacted", e)
	}
	if errs["k000"] != nil {
		t.Errorf("k000's execution error = %+v, want none", errs["k000"])
	}
}

func TestStatusFatalEndsPass(t *testing.T) {
	path := writeReport(t, 50)
	svc := &fakeDescriber{state: func(string) (string, error) {
		return "", &Failure{Outcome: Fatal, HTTPStatus: 403, Code: "SignatureDoesNotMatch", Err: fmt.Errorf("executions: 403 SignatureDoesNotMatch")}
	}}
	_, err := Status(context.Background(), Config{Concurrency: 4}, path, svc)
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("Status = %v, want the fatal answer", err)
	}
	if n := svc.calls.Load(); n > 6*4 { // window 4×4, hand-off 4, in flight 4
		t.Errorf("%d look-ups after a fatal answer, want no more than the window", n)
	}
}

// TestStatusLookupErrorKeepsState: a look-up that fails after one that
// found the instance Running keeps the state and adds the reason; the
// next successful look-up clears the reason.
func TestStatusLookupErrorKeepsState(t *testing.T) {
	path := writeReport(t, 1)
	var answer atomic.Value
	answer.Store(StateRunning)
	svc := &fakeDescriber{state: func(string) (string, error) {
		if a := answer.Load().(string); a != "denied" {
			return a, nil
		}
		return "", &Failure{Outcome: Permanent, HTTPStatus: 403, Code: "AccessDenied", Message: "no"}
	}}
	cfg := Config{Concurrency: 1}
	exec := func() *report.Execution {
		var x *report.Execution
		if _, err := report.Scan(path, func(e report.Entry) error { x = e.Execution; return nil }); err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, c := range []struct {
		answer    string
		want      Tally
		wantState string
		wantCode  string
	}{
		{StateRunning, Tally{Running: 1}, StateRunning, ""},
		{"denied", Tally{LookupFailed: 1}, StateRunning, "AccessDenied"},
		{StateSuccess, Tally{Success: 1}, StateSuccess, ""},
	} {
		answer.Store(c.answer)
		got, err := Status(context.Background(), cfg, path, svc)
		if err != nil || got != c.want {
			t.Fatalf("answer %s: Status = %+v, %v, want %+v", c.answer, got, err, c.want)
		}
		x := exec()
		code := ""
		if x.Error != nil {
			code = x.Error.Code
		}
		if x.State != c.wantState || code != c.wantCode {
			t.Errorf("answer %s: recorded state %q error %q, want %q %q", c.answer, x.State, code, c.wantState, c.wantCode)
		}
	}
}

// TestStatusStopped: a pass stopped in the middle writes the report with
// what it found and returns the stop, the rest counted as before.
func TestStatusStopped(t *testing.T) {
	path := writeReport(t, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc := &fakeDescriber{state: func(id string) (string, error) {
		if id == "i010" {
			cancel()
		}
		return StateSuccess, nil
	}}
	got, err := Status(ctx, Config{Concurrency: 1}, path, svc)
	if err != context.Canceled {
		t.Fatalf("Status = %v, want context.Canceled", err)
	}
	if got.Total() != 100 || got.Success < 10 || got.Unknown == 0 || got.Success+got.Unknown != 100 {
		t.Errorf("stopped Status = %+v, want at least 10 Success, the rest Unknown", got)
	}
	recorded := 0
	if _, err := report.Scan(path, func(e report.Entry) error {
		if e.Execution != nil {
			recorded++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if recorded != got.Success {
		t.Errorf("report records %d executions, want the %d found before the stop", recorded, got.Success)
	}
}

// TestWait: passes repeat until nothing runs; each pass is reported.
func TestWait(t *testing.T) {
	path := writeReport(t, 20)
	var passes atomic.Int64
	svc := &fakeDescriber{state: func(id string) (string, error) {
		if id == "i007" && passes.Load() < 2 {
			return StateRunning, nil
		}
		return StateSuccess, nil
	}}
	got, err := Wait(context.Background(), Config{Concurrency: 2}, path, svc, time.Millisecond, func(Tally) { passes.Add(1) })
	if err != nil || got != (Tally{Success: 20}) {
		t.Fatalf("Wait = %+v, %v, want 20 Success", got, err)
	}
	if n := passes.Load(); n != 3 {
		t.Errorf("Wait made %d passes, want 3", n)
	}
	if n := svc.calls.Load(); n != 20+1+1 {
		t.Errorf("Wait made %d look-ups, want 22 (the running one again in each pass)", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Wait(ctx, Config{}, path, svc, time.Hour, nil); err != context.Canceled {
		t.Errorf("Wait after the stop = %v, want context.Canceled", err)
	}
}

// TestStatusSameLookupErrors: when the first look-ups all fail with one
// permanent error, the pass stops looking up, still records what it found
// and says why; 404s do not count.
func TestStatusSameLookupErrors(t *testing.T) {
	path := writeReport(t, 200)
	svc := &fakeDescriber{state: func(string) (string, error) {
		return "", &Failure{Outcome: Permanent, HTTPStatus: 403, Code: "AccessDenied", Message: "no describe permission"}
	}}
	got, err := Status(context.Background(), Config{Concurrency: 4}, path, svc)
	if !errors.Is(err, ErrLookupsFailing) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("Status = %v, want ErrLookupsFailing naming AccessDenied", err)
	}
	if got.LookupFailed != sameErrorWindow || got.Unknown != 200-sameErrorWindow {
		t.Errorf("Status = %+v, want %d look-up errors and the rest not looked up", got, sameErrorWindow)
	}
	if n := svc.calls.Load(); n > sameErrorWindow+6*4 {
		t.Errorf("%d look-ups, want no more than the first %d and the window", n, sameErrorWindow)
	}

	path = writeReport(t, 50)
	svc = &fakeDescriber{state: func(string) (string, error) {
		return "", &Failure{Outcome: Permanent, HTTPStatus: 404, Code: "ResourceNotFound"}
	}}
	if got, err := Status(context.Background(), Config{Concurrency: 4}, path, svc); err != nil || got.NotFound != 50 {
		t.Errorf("all not found: Status = %+v, %v, want 50 not found and no error", got, err)
	}
}
