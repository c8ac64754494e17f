// Package runner triggers the workflow for every object of a source: one
// shared rate limiter, a bounded number of calls in flight, retries with
// full-jitter backoff, and the rules that end a run early. It also looks up
// the executions of a report's instances (Status). It knows nothing of the
// wire: it declares what it needs of the service (Service, Describer) and
// what an answer means (Outcome, Failure) in its own terms.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/wftrigger/wftrigger/manifest"
	"github.com/wftrigger/wftrigger/report"
)

// Ledger is where the runner learns what earlier runs did and records what
// this one does; *report.Report satisfies it.
type Ledger interface {
	Admitter
	Record(e report.Entry) error
}

var _ Ledger = (*report.Report)(nil)

// Config is how a run is paced and when it gives up.
type Config struct {
	Bucket      string  // NAME-APPID: a row that names another bucket is invalid
	Workflow    string  // the workflow of rows that name none
	Concurrency int     // calls in flight at most; 0: DefaultConcurrency
	QPS         float64 // ceiling on calls a second; 0: none
	Adaptive    bool    // lower the rate when throttled, raise it back after
	Policy      Policy  // zero fields: DefaultPolicy's
	MaxFailures Threshold
	// Grace is how long calls in flight may finish once the run stops
	// (signal, fatal error); default DefaultGrace.
	Grace time.Duration
	// Lookback widens the execution look-up window before the uncertain
	// call, for clock skew; default DefaultLookback.
	Lookback time.Duration
	// LookupDelay is the least time between a call whose outcome is unknown
	// and the look-up of its object in the execution list, for a list that
	// may lag behind the triggers; default DefaultLookupDelay.
	LookupDelay time.Duration
	// Limit stops the run once this many objects were handed to workers
	// (objects skipped as done, duplicate or invalid do not count, so that
	// a rerun with the same limit goes on where the last one stopped);
	// 0: no limit.
	Limit int
	// Deadline, when set, ends the window of a run (--max-duration): at
	// Deadline the run stops dispatching as if the source had ended there
	// (calls in flight finish, objects are left as a stop leaves them), Run
	// returns nil and Counters.Exhausted stays false.
	Deadline time.Time
	Redact   func(string) string // removes secrets from error messages
	Logger   *slog.Logger
	// Planned, when set, is called by Plan with every row a run would
	// trigger (or look up first), in source order; its error ends Plan.
	Planned func(manifest.Row) error
}

// Counters are the live numbers of a run, read by progress output.
type Counters struct {
	Read       atomic.Int64 // rows read from the source
	Calls      atomic.Int64 // TriggerWorkflow calls made
	Retries    atomic.Int64 // of which retries
	Succeeded  atomic.Int64 // objects that succeeded in this run
	Recovered  atomic.Int64 // of which found in the execution list instead of triggered
	Failed     atomic.Int64
	Invalid    atomic.Int64
	Duplicates atomic.Int64
	Skipped    atomic.Int64 // already succeeded in an earlier run
	InFlight   atomic.Int64
	Throttled  atomic.Int64 // throttled answers
	Exhausted  atomic.Bool  // the source was read to its end

	pace atomic.Pointer[pacer]
}

// RateLimit is the pacer's current limit in calls a second; 0 when there
// is none (--qps 0) or before the run starts.
func (c *Counters) RateLimit() float64 {
	if p := c.pace.Load(); p != nil {
		return p.Limit()
	}
	return 0
}

// AbortError is a run that ended before its source did, for a reason other
// than cancellation.
type AbortError struct {
	Reason string // "fatal", "max-failures", "same-error", "source", "journal"
	Key    string // the object whose answer ended the run, if any
	Err    error
}

// Error says why the run was aborted and at which object.
func (e *AbortError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("run aborted (%s) at object %q: %v", e.Reason, e.Key, e.Err)
	}
	return fmt.Sprintf("run aborted (%s): %v", e.Reason, e.Err)
}

// Unwrap returns the error that ended the run.
func (e *AbortError) Unwrap() error { return e.Err }

// Run triggers every object of src. It returns nil when the source was read
// to its end (objects may have failed: see the counters), an *AbortError when
// the run was ended early, or the context's error when it was cancelled.
func Run(ctx context.Context, cfg Config, src manifest.Source, api Service, ledger Ledger, c *Counters) error {
	cfg = cfg.withDefaults()
	r := &run{cfg: cfg, api: api, ledger: ledger, c: c,
		pace:  newPacer(cfg.QPS, cfg.Adaptive, time.Now),
		judge: judge{threshold: cfg.MaxFailures},
	}
	c.pace.Store(r.pace)

	// The window's end stops the run as a cancellation does, but Run
	// returns ctx's error, not the window's: nil when only the window ended.
	// A timer cancels it rather than a context deadline: x/time/rate's Wait
	// fails at once, without waiting, for a turn beyond a deadline, and
	// every object would be dropped that way until the source ran out.
	stop := ctx
	if !cfg.Deadline.IsZero() {
		var endWindow context.CancelFunc
		stop, endWindow = context.WithCancel(ctx)
		defer endWindow()
		defer time.AfterFunc(time.Until(cfg.Deadline), endWindow).Stop()
	}
	g, gctx := errgroup.WithContext(stop)
	r.stop = gctx
	var cancelCalls context.CancelFunc
	r.calls, cancelCalls = context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	// Once the run stops, calls in flight get cfg.Grace to finish.
	defer context.AfterFunc(gctx, func() { time.AfterFunc(cfg.Grace, cancelCalls) })()

	// Concurrency long-lived workers take objects from the dispatcher: a
	// goroutine per object would grow a fresh stack through net/http for
	// every call. The buffer lets the dispatcher read ahead without a
	// handoff per object; an object waiting there has no record yet, so a
	// crash or a stop leaves it as it was.
	objects := make(chan object, cfg.Concurrency)
	for range cfg.Concurrency {
		g.Go(func() error {
			for obj := range objects {
				if err := r.process(obj); err != nil {
					return err
				}
			}
			return nil
		})
	}
	srcErr := r.dispatchAll(gctx, src, objects)
	close(objects)
	if err := g.Wait(); err != nil {
		return err
	}
	if srcErr != nil {
		return srcErr
	}
	return ctx.Err()
}

// dispatchAll reads the source to its end (or until the run stops) and
// hands each object to a worker.
func (r *run) dispatchAll(ctx context.Context, src manifest.Source, objects chan<- object) error {
	handed := 0
	for {
		if r.cfg.Limit > 0 && handed >= r.cfg.Limit {
			return nil
		}
		row, err := src.Next(ctx)
		if err == io.EOF {
			r.c.Exhausted.Store(true)
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return &AbortError{Reason: "source", Err: err}
		}
		r.c.Read.Add(1)
		obj, ok, err := r.admit(row)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		select {
		case objects <- obj:
			handed++
		case <-ctx.Done():
			return nil
		}
	}
}

// withDefaults fills the zero fields of cfg with the Default constants.
func (cfg Config) withDefaults() Config {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	cfg.Policy = cfg.Policy.withDefaults()
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = DefaultLookback
	}
	if cfg.LookupDelay <= 0 {
		cfg.LookupDelay = DefaultLookupDelay
	}
	if cfg.Redact == nil {
		cfg.Redact = func(s string) string { return s }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

type run struct {
	cfg    Config
	api    Service
	ledger Ledger
	c      *Counters
	pace   *pacer
	judge  judge
	stop   context.Context // done: dispatch no more calls
	calls  context.Context // done: abandon calls in flight
}

// object is one admitted row on its way to a worker.
type object struct {
	row      manifest.Row
	workflow string
	prior    report.Prior
}

// admit records an invalid row, skips a duplicate or finished one, and
// returns the rest as an object to trigger.
func (r *run) admit(row manifest.Row) (object, bool, error) {
	obj, v := admit(r.cfg, r.ledger, row)
	switch v {
	case verdictInvalid:
		r.c.Invalid.Add(1)
		row := obj.row
		return object{}, false, r.record(report.Entry{Key: row.Key, KeyHex: row.Invalid.KeyHex, WorkflowID: row.WorkflowID, Name: row.Name,
			Status: report.Invalid, Line: row.Line, File: row.File, Error: &report.Error{Code: row.Invalid.Code, Message: row.Invalid.Message}})
	case verdictDuplicate:
		r.c.Duplicates.Add(1)
		return object{}, false, nil
	case verdictDone:
		r.c.Skipped.Add(1)
		return object{}, false, nil
	}
	return obj, true, nil
}

// verdict is what admission decides for a row.
type verdict int

const (
	verdictTrigger   verdict = iota // trigger it (or look it up first: obj.prior)
	verdictInvalid                  // report it invalid
	verdictDuplicate                // a repeat of an object already read
	verdictDone                     // it succeeded in an earlier run
)

// admit is the one admission rule of Run and Plan: the row rules of
// manifest.Check, then what the ledger remembers of the object.
func admit(cfg Config, ledger Admitter, row manifest.Row) (object, verdict) {
	row, wf := manifest.Check(row, cfg.Bucket, cfg.Workflow)
	obj := object{row: row, workflow: wf}
	if row.Invalid != nil {
		return obj, verdictInvalid
	}
	obj.prior = ledger.Admit(wf, row.Key)
	switch obj.prior.State {
	case report.Duplicate:
		return obj, verdictDuplicate
	case report.Done:
		return obj, verdictDone
	}
	return obj, verdictTrigger
}

func (r *run) record(e report.Entry) error {
	if err := r.ledger.Record(e); err != nil {
		return &AbortError{Reason: "journal", Key: e.Key, Err: err}
	}
	return nil
}

// process brings one object to a final state: it looks up an object whose
// earlier call may have been accepted, then calls TriggerWorkflow until it
// succeeds, fails for good, or the run stops.
func (r *run) process(obj object) error {
	e := report.Entry{Key: obj.row.Key, WorkflowID: obj.row.WorkflowID, Name: obj.row.Name}
	in := TriggerInput{WorkflowID: obj.workflow, Key: obj.row.Key, Name: obj.row.Name}
	var (
		uncertainSince time.Time // set while an earlier call may have been accepted
		uncertainCall  time.Time // when the last such call of this run was made
		dispatchedAt   time.Time
		lastErr        error
	)
	if obj.prior.State == report.Uncertain {
		uncertainSince = obj.prior.DispatchedAt
	}
	for {
		if !uncertainSince.IsZero() {
			if wait := time.Until(uncertainCall.Add(r.cfg.LookupDelay)); wait > 0 {
				if err := sleep(r.stop, wait); err != nil {
					return r.interrupted(e, lastErr)
				}
			}
			sum, found, err := r.lookUp(in, uncertainSince)
			switch {
			case err != nil && r.stop.Err() != nil && e.Attempts == 0:
				return nil // stopped before this object was touched
			case err != nil:
				// Not knowing is not a licence to trigger twice.
				e.Uncertain, e.DispatchedAt = true, &uncertainSince
				return r.fail(e, err)
			case found:
				e.Status, e.InstanceID, e.Recovered = report.Succeeded, sum.RunID, true
				e.Uncertain, e.DispatchedAt = false, nil
				r.c.Succeeded.Add(1)
				r.c.Recovered.Add(1)
				r.pace.Answered(false)
				if err := r.record(e); err != nil {
					return err
				}
				return r.finish(nil, e.Key)
			}
			uncertainSince = time.Time{}
		}
		if e.Attempts >= r.cfg.Policy.MaxAttempts {
			return r.fail(e, lastErr)
		}
		if err := r.pace.Wait(r.stop); err != nil {
			return r.interrupted(e, lastErr)
		}
		if dispatchedAt.IsZero() {
			// The journal learns of the call before CI does, so that a
			// crash after the send leaves the object uncertain, not new.
			dispatchedAt = time.Now().UTC()
			if err := r.record(report.Entry{Key: e.Key, WorkflowID: e.WorkflowID, Name: e.Name, Status: report.Dispatched, DispatchedAt: &dispatchedAt}); err != nil {
				return err
			}
		}
		e.Attempts++
		r.c.Calls.Add(1)
		if e.Attempts > 1 {
			r.c.Retries.Add(1)
		}
		callAt := time.Now()
		res, err := r.call(in)
		if err == nil {
			e.Status, e.InstanceID, e.RequestID = report.Succeeded, res.InstanceID, res.RequestID
			e.Uncertain, e.DispatchedAt = false, nil
			r.c.Succeeded.Add(1)
			r.pace.Answered(false)
			if err := r.record(e); err != nil {
				return err
			}
			return r.finish(nil, e.Key)
		}
		lastErr = err
		outcome := OutcomeOf(err)
		if outcome == Uncertain {
			uncertainSince, uncertainCall = dispatchedAt, callAt
			e.Uncertain, e.DispatchedAt = true, &dispatchedAt
		}
		if r.calls.Err() != nil {
			return r.interrupted(e, err)
		}
		switch outcome {
		case Fatal:
			if ferr := r.fail(e, err); ferr != nil && !isAbort(ferr, "same-error", "max-failures") {
				return ferr
			}
			return &AbortError{Reason: "fatal", Key: e.Key, Err: err}
		case Permanent:
			return r.fail(e, err)
		}
		if outcome == Throttled {
			r.c.Throttled.Add(1)
		}
		r.pace.Answered(outcome == Throttled)
		if e.Attempts >= r.cfg.Policy.MaxAttempts {
			return r.fail(e, err)
		}
		if err := sleep(r.stop, r.cfg.Policy.Backoff(e.Attempts, err)); err != nil {
			return r.interrupted(e, lastErr)
		}
	}
}

func (r *run) call(in TriggerInput) (TriggerResult, error) {
	r.c.InFlight.Add(1)
	defer r.c.InFlight.Add(-1)
	ctx, cancel := context.WithTimeout(r.calls, r.cfg.Policy.Timeout)
	defer cancel()
	return r.api.Trigger(ctx, in)
}

// lookUp searches the workflow's execution list for an instance of the
// object created since the uncertain call (less Lookback).
func (r *run) lookUp(in TriggerInput, since time.Time) (Execution, bool, error) {
	var (
		sum   Execution
		found bool
	)
	if err := r.pace.Wait(r.stop); err != nil {
		return sum, false, err
	}
	err := r.cfg.Policy.Do(r.stop, "look up execution", func(ctx context.Context) error {
		var err error
		sum, found, err = r.api.FindExecution(ctx, in.WorkflowID, in.Key, since.Add(-r.cfg.Lookback))
		return err
	})
	return sum, found, err
}

// fail records the object as failed with err.
func (r *run) fail(e report.Entry, err error) error {
	e.Status = report.Failed
	e.Error = r.entryError(err)
	r.c.Failed.Add(1)
	if err := r.record(e); err != nil {
		return err
	}
	return r.finish(&failed{err: e.Error, outcome: OutcomeOf(err)}, e.Key)
}

// interrupted records an object whose calls were cut short by a stop. An
// object never called is left as it was.
func (r *run) interrupted(e report.Entry, lastErr error) error {
	if e.Attempts == 0 {
		return nil
	}
	e.Status = report.Failed
	e.Error = &report.Error{Code: "Interrupted", Message: "the run stopped before this object finished"}
	if lastErr != nil {
		e.Error = r.entryError(lastErr)
	}
	r.c.Failed.Add(1)
	return r.record(e)
}

// finish counts a finished object and ends the run when failures pass
// --max-failures, or when the first objects all failed the same way.
func (r *run) finish(failure *failed, key string) error {
	reason, err := r.judge.finish(failure)
	if reason == "" {
		return nil
	}
	r.cfg.Logger.Error("stopping the run", "reason", reason, "error", err)
	return &AbortError{Reason: reason, Key: key, Err: err}
}

// entryError is the report's error for err: the fields of the service's
// Failure, or, for the runner's own errors (a wait cut short by the stop),
// Interrupted.
func (r *run) entryError(err error) *report.Error {
	if err == nil {
		return &report.Error{Code: "Unknown", Message: "no call was made"}
	}
	var f *Failure
	if errors.As(err, &f) {
		return &report.Error{HTTPStatus: f.HTTPStatus, Code: f.Code, Message: r.cfg.Redact(f.Message), RequestID: f.RequestID}
	}
	code := "Unknown"
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		code = "Interrupted"
	}
	return &report.Error{Code: code, Message: r.cfg.Redact(err.Error())}
}

func isAbort(err error, reasons ...string) bool {
	var ae *AbortError
	if !errors.As(err, &ae) {
		return false
	}
	for _, r := range reasons {
		if ae.Reason == r {
			return true
		}
	}
	return false
}

// sameErrorWindow is how many first finished objects, all failed with one
// permanent error, end the run.
const sameErrorWindow = 20

// failed is a failure as the judge sees it: the report's error and the
// outcome recorded at failure time.
type failed struct {
	err     *report.Error
	outcome Outcome
}

// judge decides whether failures end the run.
type judge struct {
	threshold Threshold

	mu               sync.Mutex
	finished, failed int
	same             *report.Error // the first failure, while every finished object failed like it
	sameBroken       bool          // some finished object did not fail like the first
	tripped          bool
}

// finish counts one finished object (failure nil: it succeeded) and returns
// a reason to end the run, or "".
func (j *judge) finish(f *failed) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.tripped {
		return "", nil
	}
	j.finished++
	if f != nil {
		j.failed++
	}
	if !j.sameBroken {
		switch {
		case f == nil || f.outcome != Permanent:
			j.sameBroken = true
		case j.same == nil:
			j.same = f.err
		case f.err.Code != j.same.Code || f.err.HTTPStatus != j.same.HTTPStatus:
			j.sameBroken = true
		}
		if !j.sameBroken && j.finished == sameErrorWindow {
			j.tripped = true
			return "same-error", fmt.Errorf("the first %d objects all failed with %d %s: %s", sameErrorWindow, j.same.HTTPStatus, j.same.Code, j.same.Message)
		}
	}
	if j.threshold.exceeded(j.failed, j.finished) {
		j.tripped = true
		return "max-failures", fmt.Errorf("%d of %d finished objects failed, more than --max-failures %s", j.failed, j.finished, j.threshold)
	}
	return "", nil
}
