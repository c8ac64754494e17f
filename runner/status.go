package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/wftrigger/wftrigger/report"
)

// Describer is what a status pass needs of the service.
type Describer interface {
	// DescribeExecution returns the execution of one instance.
	DescribeExecution(ctx context.Context, runID string) (Execution, error)
}

// Tally counts a report's triggered instances by what a status pass knows
// of their executions.
type Tally struct {
	Success, Failed, Cancel, Running int
	// NotFound counts the instances whose last look-up said the service
	// does not know them (404): the entry's execution.error says so.
	NotFound int
	// LookupFailed counts the instances whose last look-up failed for
	// another reason (denied, still failing after the retries): the
	// entry's execution.error says why.
	LookupFailed int
	// Unknown counts the instances never looked up (a pass was stopped
	// before their turn).
	Unknown int
}

// Total is the number of instances counted.
func (t Tally) Total() int {
	return t.Success + t.Failed + t.Cancel + t.Running + t.NotFound + t.LookupFailed + t.Unknown
}

// AllSucceeded reports whether every instance counted ended Success.
func (t Tally) AllSucceeded() bool { return t.Success == t.Total() }

// count adds an entry's recorded execution to t.
func (t *Tally) count(x *report.Execution) {
	switch {
	case x == nil:
		t.Unknown++
	case x.Error != nil && x.Error.HTTPStatus == http.StatusNotFound:
		t.NotFound++
	case x.Error != nil:
		t.LookupFailed++
	case x.State == StateSuccess:
		t.Success++
	case x.State == StateFailed:
		t.Failed++
	case x.State == StateCancel:
		t.Cancel++
	default:
		t.Running++
	}
}

// Status is the runner's look-up mode: it looks up the execution of every
// instance of the report at path whose recorded state is not final, with
// cfg's pacer (QPS), retry policy and Concurrency workers, and records the
// states in the report. Look-ups run ahead of the report's rewrite, in
// report order, through a bounded window: memory does not grow with the
// report. A look-up that fails (not found, denied, still failing after
// the retries) is recorded with its reason as the execution's Error, and
// the instance is looked up again by the next pass; when the first
// look-ups all fail with the same permanent error (AccessDenied for want
// of the describe permission, say; see sameError; a 404 does not count),
// the pass stops looking up, writes the report and returns an error. An
// answer that is Fatal for the run ends the pass with an error (the report is left as it
// was). When ctx is done, the pass stops looking up, still writes the
// report with what it found, and returns ctx's error with the tally.
func Status(ctx context.Context, cfg Config, path string, svc Describer) (Tally, error) {
	cfg = cfg.withDefaults()
	if err := ctx.Err(); err != nil {
		return Tally{}, err
	}
	if _, err := os.Stat(path + ".journal"); err == nil {
		// A run stopped without writing its report: fold its journal in
		// first, so that the look-ahead and the rewrite read the same file.
		if err := report.Rewrite(path, func(*report.Entry) error { return nil }); err != nil {
			return Tally{}, err
		}
	}
	pace := newPacer(cfg.QPS, cfg.MinQPS, cfg.Adaptive, time.Now, cfg.Logger)
	scan, cancel := context.WithCancel(ctx)
	defer cancel()

	// The scanner hands each look-up to the workers and its answer slot to
	// the rewrite, in report order; both channels bound what is held.
	window := make(chan chan lookUp, 4*cfg.Concurrency)
	jobs := make(chan job, cfg.Concurrency)
	g, gctx := errgroup.WithContext(scan)
	for range cfg.Concurrency {
		g.Go(func() error {
			for j := range jobs {
				j.res <- describe(gctx, cfg.Policy, pace, svc, j.runID)
			}
			return nil
		})
	}
	scanErr := make(chan error, 1)
	go func() {
		defer close(window)
		defer close(jobs)
		_, err := report.Scan(path, func(e report.Entry) error {
			if !needsLookUp(&e) {
				return nil
			}
			j := job{runID: e.InstanceID, res: make(chan lookUp, 1)}
			select {
			case window <- j.res:
			case <-scan.Done():
				return scan.Err()
			}
			select {
			case jobs <- j:
			case <-scan.Done():
				return scan.Err()
			}
			return nil
		})
		scanErr <- err
	}()

	// gaveUp ends the look-ups of the pass (the report is still written)
	// when the first ones all failed the same permanent way.
	var (
		gaveUp error
		same   sameError
	)
	// next is the answer of the next look-up in report order; ok is false
	// when the pass was stopped before it.
	next := func() (r lookUp, ok bool, err error) {
		if gaveUp != nil {
			return r, false, nil
		}
		res, open := <-window
		if !open {
			if ctx.Err() != nil {
				return r, false, nil
			}
			return r, false, fmt.Errorf("report %s changed while it was read", path)
		}
		select {
		case r = <-res:
		case <-ctx.Done():
			select {
			case r = <-res:
			default:
				return r, false, nil
			}
		}
		if r.err != nil && ctx.Err() != nil && errors.Is(r.err, context.Canceled) {
			return r, false, nil // cut short by the stop: not an answer
		}
		return r, true, nil
	}

	var t Tally
	err := report.Rewrite(path, func(e *report.Entry) error {
		if e.Status != report.Succeeded || e.InstanceID == "" {
			return nil
		}
		if needsLookUp(e) {
			r, ok, err := next()
			switch {
			case err != nil:
				return err
			case !ok:
				// Stopped: the entry keeps what it had.
			case r.runID != e.InstanceID:
				return fmt.Errorf("report %s changed while it was read (run a status when no run writes it)", path)
			case r.err == nil:
				same.add(nil)
				e.Execution = &report.Execution{State: r.exec.State, CheckedAt: r.at, Tasks: reportTasks(r.exec.Tasks)}
			case OutcomeOf(r.err) == Fatal:
				return fmt.Errorf("look up execution %s of %q: %w", e.InstanceID, e.Key, r.err)
			default:
				// Not found, not allowed, or still failing after retries:
				// recorded with its reason (and the last state known),
				// looked up again by the next pass.
				x := report.Execution{CheckedAt: r.at, Error: errorOf(r.err, cfg.Redact)}
				if e.Execution != nil {
					x.State, x.Tasks = e.Execution.State, e.Execution.Tasks
				}
				e.Execution = &x
				permanent := x.Error
				if OutcomeOf(r.err) != Permanent || x.Error.HTTPStatus == http.StatusNotFound {
					// Not found does not count: old instances may be gone
					// from CI's history while newer ones are there.
					permanent = nil
				}
				if same.add(permanent) {
					gaveUp = fmt.Errorf("the first %d look-ups all failed with %d %s (%s): %w", sameErrorWindow, x.Error.HTTPStatus, x.Error.Code, x.Error.Message, ErrLookupsFailing)
					cancel()
				}
			}
		}
		t.count(e.Execution)
		return nil
	})
	cancel()
	// Drain what the scanner had handed out, so that no worker blocks.
	for range window {
	}
	if serr := <-scanErr; err == nil && serr != nil && !errors.Is(serr, context.Canceled) {
		err = serr
	}
	_ = g.Wait()
	switch {
	case err == nil && ctx.Err() != nil:
		err = ctx.Err()
	case err == nil:
		err = gaveUp
	}
	return t, err
}

// ErrLookupsFailing is wrapped by the error of a status pass that stopped
// looking up because its first look-ups all failed the same permanent way
// (see Status); the report was written with what the pass found.
var ErrLookupsFailing = errors.New("stopped looking up")

// Wait runs status passes over the report at path, interval apart, until
// no instance is Running (the one engine of `status --wait` and
// `run --wait`); after each pass it calls pass, if not nil, with the
// pass's tally. Instances whose look-up failed are looked up again by every
// pass but do not keep the wait going. When ctx is done, it returns ctx's
// error with the last tally (the report keeps what the passes found).
func Wait(ctx context.Context, cfg Config, path string, svc Describer, interval time.Duration, pass func(Tally)) (Tally, error) {
	if interval <= 0 {
		interval = DefaultStatusInterval
	}
	for {
		t, err := Status(ctx, cfg, path, svc)
		if err != nil {
			return t, err
		}
		if pass != nil {
			pass(t)
		}
		if t.Running == 0 {
			return t, nil
		}
		if sleep(ctx, interval) != nil {
			return t, ctx.Err()
		}
	}
}

// errorOf is the report's error for a failed call: the fields of the
// service's Failure, or, for the runner's own errors (a wait cut short by
// the stop), Interrupted; messages redacted.
func errorOf(err error, redact func(string) string) *report.Error {
	if err == nil {
		return &report.Error{Code: "Unknown", Message: "no call was made"}
	}
	var f *Failure
	if errors.As(err, &f) {
		return &report.Error{HTTPStatus: f.HTTPStatus, Code: f.Code, Message: redact(f.Message), RequestID: f.RequestID}
	}
	code := "Unknown"
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		code = "Interrupted"
	}
	return &report.Error{Code: code, Message: redact(err.Error())}
}

// job is one look-up handed to a status worker.
type job struct {
	runID string
	res   chan lookUp // buffered: a worker never waits for the rewrite
}

// lookUp is the answer of one look-up.
type lookUp struct {
	runID string
	exec  Execution
	err   error
	at    time.Time // when it was answered
}

// describe looks up one execution under the policy, each call paced.
func describe(ctx context.Context, p Policy, pace *pacer, svc Describer, runID string) lookUp {
	var exec Execution
	err := p.doPaced(ctx, pace, "look up execution "+runID, func(ctx context.Context) error {
		var err error
		exec, err = svc.DescribeExecution(ctx, runID)
		return err
	})
	return lookUp{runID: runID, exec: exec, err: err, at: time.Now().UTC()}
}

// needsLookUp reports whether a status pass looks the entry's instance up:
// it was triggered, and its recorded state is not final.
func needsLookUp(e *report.Entry) bool {
	return e.Status == report.Succeeded && e.InstanceID != "" && (e.Execution == nil || !Final(e.Execution.State))
}

func reportTasks(tasks []Task) []report.Task {
	var out []report.Task
	for _, t := range tasks {
		out = append(out, report.Task{Type: t.Type, State: t.State, Code: t.Code, Message: t.Message, JobID: t.JobID})
	}
	return out
}
