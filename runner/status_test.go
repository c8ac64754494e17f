package runner

import (
	"context"
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
		}
		return StateSuccess, nil
	}}
	cfg := Config{Concurrency: 4, Policy: Policy{MaxAttempts: 3, Base: time.Millisecond, Cap: time.Millisecond}}
	got, err := Status(context.Background(), cfg, path, svc)
	if err != nil {
		t.Fatal(err)
	}
	want := Tally{Success: 196, Failed: 1, Running: 1, Cancel: 1, Unknown: 1}
	if got != want {
		t.Errorf("Status = %+v, want %+v", got, want)
	}
	// A second pass looks up only what is not final.
	svc.calls.Store(0)
	if got, err = Status(context.Background(), cfg, path, svc); err != nil || got != want {
		t.Errorf("second Status = %+v, %v, want %+v", got, err, want)
	}
	if n := svc.calls.Load(); n != 2 {
		t.Errorf("second pass made %d look-ups, want 2 (the running and the unknown one)", n)
	}
	states := map[string]string{}
	if _, err := report.Scan(path, func(e report.Entry) error {
		if e.Execution != nil {
			states[e.Key] = e.Execution.State
			if len(e.Execution.Tasks) != 1 {
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
