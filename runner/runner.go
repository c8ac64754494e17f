// Package runner triggers the workflow for every object of a source: one
// shared rate limiter that finds and holds the service's quota, a bounded
// number of calls in flight, retries with full-jitter backoff (throttled
// answers use up no attempt), objects whose answer was lost parked and
// looked up in batches before any second call, and the rules that end a
// run early. It also looks up the executions of a report's instances
// (Status). It knows nothing of the wire: it declares what it needs of the
// service (Service, Describer) and what an answer means (Outcome, Failure)
// in its own terms.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
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
	// Record appends e and returns once it is kept: a Dispatched entry
	// durably (fsynced), for the call it announces is sent after Record
	// returns.
	Record(e report.Entry) error
	// RecordAll records every entry of es as Record does, at the cost of
	// one (one write, one fsync): the journal stage announces a batch of
	// objects with it.
	RecordAll(es []report.Entry) error
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
	// call (and, for the window listing, after the last one), for clock
	// skew between this machine and the service; default DefaultLookback.
	Lookback time.Duration
	// LookupDelay is the least time between a call whose outcome is unknown
	// and the look-up of its object in the execution list, for a list that
	// may lag behind the triggers; default DefaultLookupDelay.
	LookupDelay time.Duration
	// MinQPS is the adaptive pacer's floor, the rate it never cuts below;
	// default DefaultMinQPS (or QPS, when lower).
	MinQPS float64
	// GiveUpThrottled ends the run (an *AbortError, reason "throttled")
	// once every answer has been throttled for this long; default 5 min.
	GiveUpThrottled time.Duration
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
	Throttled  atomic.Int64 // throttled answers (each retried; none uses up --max-attempts)
	Parked     atomic.Int64 // objects waiting for a look-up after an answer was lost
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
	Reason string // "fatal", "max-failures", "same-error", "throttled", "source", "journal"
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
	r := &run{cfg: cfg, api: api, ledger: ledger, c: c, flow: newFlow(),
		pace:  newPacer(cfg.QPS, cfg.MinQPS, cfg.Adaptive, time.Now, cfg.Logger),
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
	gctx, halt := context.WithCancel(gctx)
	defer halt()
	r.stop, r.halt = gctx, halt
	r.judge.halt = halt
	var cancelCalls context.CancelFunc
	r.calls, cancelCalls = context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	// Once the run stops, calls in flight get cfg.Grace to finish.
	defer context.AfterFunc(gctx, func() { time.AfterFunc(cfg.Grace, cancelCalls) })()

	// The dispatcher hands objects to the journal stage (announce), which
	// makes their Dispatched records durable a batch at a time, with one
	// fsync, and passes them on to Concurrency long-lived workers (a
	// goroutine per object would grow a fresh stack through net/http for
	// every call). While the workers call for one batch, the stage
	// journals the next: a call waits for an fsync only when the workers
	// outrun the disk. An object in ahead has no record yet; one in
	// objects is announced and not yet called: a crash leaves it
	// Dispatched (the next run looks it up, finds nothing, triggers it).
	ahead := make(chan *task, announceBatch(cfg.Concurrency))
	objects := make(chan *task, cfg.Concurrency)
	g.Go(func() error { return r.announce(ahead, objects) })
	var workers sync.WaitGroup
	for range cfg.Concurrency {
		workers.Add(1)
		g.Go(func() error {
			defer workers.Done()
			w := r.newWorker()
			defer w.close()
			return w.work(objects)
		})
	}
	quit := make(chan struct{})
	g.Go(func() error { return r.resolver(quit) })
	srcErr := r.dispatchAll(gctx, src, ahead)
	close(ahead)
	workers.Wait()
	// Workers that all ended early leave objects behind them.
	for t := range objects {
		r.unsent(t)
	}
	close(quit)
	err := g.Wait()
	// A stop leaves parked objects unresolved: each is recorded as it
	// stands (uncertain), for the next run to look up.
	for _, t := range r.flow.leftovers() {
		if !t.since.IsZero() {
			r.c.Parked.Add(-1)
		}
		if rerr := r.interrupted(t.e, t.lastErr); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		return err
	}
	if srcErr != nil {
		return srcErr
	}
	return ctx.Err()
}

// dispatchAll reads the source to its end (or until the run stops) and
// hands each object to a worker, and each object the resolver hands back,
// until no object is left anywhere.
func (r *run) dispatchAll(ctx context.Context, src manifest.Source, objects chan<- *task) error {
	handed := 0
	reading := true
	for {
		t := r.flow.takeRetry()
		if t == nil && reading && !r.flow.full() {
			if r.cfg.Limit > 0 && handed >= r.cfg.Limit {
				reading = false
				continue
			}
			row, err := src.Next(ctx)
			if err == io.EOF {
				r.c.Exhausted.Store(true)
				reading = false
				continue
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
			handed++
			t = r.newTask(obj)
			r.flow.handed()
		}
		if t == nil {
			if !reading && r.flow.idle() {
				return nil
			}
			select {
			case <-r.flow.dispatch:
			case <-ctx.Done():
				return nil
			}
			continue
		}
		select {
		case objects <- t:
		case <-ctx.Done():
			r.unsent(t)
			return nil
		}
	}
}

// announceBatch is how many objects the journal stage announces with one
// fsync at most: 4 × concurrency, and at least 256 (256 at the default
// 16). An fsync costs ~100 µs of CPU and ~0.1 ms of latency on this
// project's machine: at 64 a batch, fsyncs and their hand-offs were about
// 5% of the run's CPU; at 256, under 2% (scripts/bench.sh).
// It also bounds what a crash leaves announced and never sent (this plus
// the workers' queue, Concurrency): objects the next run looks up, finds
// nowhere, and triggers.
func announceBatch(concurrency int) int { return max(4*concurrency, minAnnounceBatch) }

// minAnnounceBatch is announceBatch's floor.
const minAnnounceBatch = 256

// announce is the journal stage between the dispatcher and the workers: it
// takes the objects waiting in in (up to announceBatch), makes the
// Dispatched record of each one that has none yet durable with one
// RecordAll, and only then hands them to the workers. It reads in to its
// end; after a stop or a journal error it hands nothing on.
func (r *run) announce(in <-chan *task, out chan<- *task) error {
	defer close(out)
	var (
		batch   []*task
		entries []report.Entry
		err     error
	)
	for t := range in {
		batch = append(batch[:0], t)
	drain:
		for len(batch) < cap(in) {
			select {
			case t, ok := <-in:
				if !ok {
					break drain
				}
				batch = append(batch, t)
			default:
				break drain
			}
		}
		if err == nil && r.stop.Err() == nil {
			// The journal learns of the calls before CI does, so that a
			// crash after a send leaves the object uncertain, not new.
			now := time.Now().UTC()
			entries = entries[:0]
			for _, t := range batch {
				if t.fresh && t.dispatchedAt.IsZero() {
					t.dispatchedAt, t.announced = now, true
					e := &t.e
					entries = append(entries, report.Entry{Key: e.Key, WorkflowID: e.WorkflowID, Name: e.Name, Status: report.Dispatched, DispatchedAt: &t.dispatchedAt})
				}
			}
			if rerr := r.ledger.RecordAll(entries); rerr != nil {
				err = &AbortError{Reason: "journal", Key: entries[0].Key, Err: rerr}
				r.halt()
			}
		}
		for i, t := range batch {
			if err != nil {
				r.unsent(t)
				continue
			}
			select {
			case out <- t:
			case <-r.stop.Done():
				r.unsent(t)
			}
			batch[i] = nil
		}
	}
	return err
}

// unsent takes back an object the run stopped before handing to a worker:
// a retry goes back to be recorded as it stands; an object never called
// is left as it was (withdrawn, if announced).
func (r *run) unsent(t *task) {
	r.flow.finished()
	if t.e.Attempts > 0 {
		r.flow.resolved(0, nil, []*task{t})
		return
	}
	r.withdraw(t)
}

// withdraw takes back the announcement of an object never called, so that
// the next run triggers it without a look-up. Only objects the ledger knew
// nothing of are announced, so nothing else is lost. If the record cannot
// be written, the Dispatched one stands: a look-up, never a second call.
func (r *run) withdraw(t *task) {
	if !t.announced || t.e.Attempts > 0 {
		return
	}
	t.announced = false
	e := &t.e
	_ = r.ledger.Record(report.Entry{Key: e.Key, WorkflowID: e.WorkflowID, Name: e.Name, Status: report.Withdrawn})
}

// newTask starts the way of one admitted object through the run.
func (r *run) newTask(obj object) *task {
	t := &task{
		e:     report.Entry{Key: obj.row.Key, WorkflowID: obj.row.WorkflowID, Name: obj.row.Name},
		in:    TriggerInput{WorkflowID: obj.workflow, Key: obj.row.Key, Name: obj.row.Name},
		fresh: obj.prior.State == report.New,
	}
	if obj.prior.State == report.Uncertain {
		t.since, t.lastCall = obj.prior.DispatchedAt, obj.prior.DispatchedAt
		t.e.Uncertain, t.e.DispatchedAt = true, &t.since
	}
	return t
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
	if cfg.GiveUpThrottled <= 0 {
		cfg.GiveUpThrottled = DefaultGiveUpThrottled
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
	flow   *flow
	judge  judge
	stop   context.Context // done: dispatch no more calls
	halt   func()          // ends stop (a journal error in the stage)
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

// process brings one object to a final state, or parks it for a look-up:
// it calls TriggerWorkflow until the call succeeds, fails for good, the run
// stops, or an answer is lost (then the object may have been triggered,
// and is looked up before any other call). Throttled answers are retried
// after the pacer's wait (and a Retry-After) and use up no attempt.
func (r *run) process(w *worker, t *task) error {
	for {
		if !t.since.IsZero() {
			r.c.Parked.Add(1)
			r.flow.park(t)
			return nil
		}
		err := r.attempt(w, t)
		if err == nil {
			r.flow.finished()
			return nil
		}
		if err != errAgain {
			r.flow.finished()
			// The run ends now, not once this worker's goroutine has
			// returned: the other workers call no more meanwhile.
			r.halt()
			return err
		}
	}
}

// errAgain is attempt's "call again" (or park, when t.since is set).
var errAgain = errors.New("again")

// attempt makes one call for t and acts on its answer: nil when the object
// reached a final state (recorded), errAgain when it is to be called again
// (or looked up first), another error when the run must end.
func (r *run) attempt(w *worker, t *task) error {
	e := &t.e
	if t.tries >= r.cfg.Policy.MaxAttempts {
		return r.fail(*e, t.lastErr)
	}
	if err := r.pace.Wait(r.stop); err != nil {
		r.withdraw(t)
		return r.interrupted(*e, t.lastErr)
	}
	if t.dispatchedAt.IsZero() {
		// Not announced by the stage (an object looked up first, then
		// handed back): the journal learns of the call before CI does.
		t.dispatchedAt = time.Now().UTC()
		if err := r.record(report.Entry{Key: e.Key, WorkflowID: e.WorkflowID, Name: e.Name, Status: report.Dispatched, DispatchedAt: &t.dispatchedAt}); err != nil {
			return err
		}
	}
	e.Attempts++
	t.announced = false
	r.c.Calls.Add(1)
	if e.Attempts > 1 {
		r.c.Retries.Add(1)
	}
	callAt := time.Now()
	res, err := w.call(t.in)
	if err == nil {
		e.Status, e.InstanceID, e.RequestID = report.Succeeded, res.InstanceID, res.RequestID
		e.Uncertain, e.DispatchedAt = false, nil
		r.c.Succeeded.Add(1)
		r.pace.Answered(false)
		if err := w.succeeded(*e); err != nil {
			return err
		}
		return r.finish(nil, e.Key)
	}
	t.lastErr = err
	outcome := OutcomeOf(err)
	if outcome == Uncertain {
		if t.since.IsZero() {
			t.since = t.dispatchedAt
		}
		t.lastCall = callAt
		e.Uncertain, e.DispatchedAt = true, &t.dispatchedAt
	}
	if r.calls.Err() != nil {
		return r.interrupted(*e, err)
	}
	switch outcome {
	case Fatal:
		if ferr := r.fail(*e, err); ferr != nil && !isAbort(ferr, "same-error", "max-failures") {
			return ferr
		}
		return &AbortError{Reason: "fatal", Key: e.Key, Err: err}
	case Permanent:
		return r.fail(*e, err)
	case Throttled:
		r.c.Throttled.Add(1)
		t.throttled++
		if all := r.pace.Answered(true); all >= r.cfg.GiveUpThrottled {
			if ierr := r.interrupted(*e, err); ierr != nil {
				return ierr
			}
			return &AbortError{Reason: "throttled", Key: e.Key, Err: fmt.Errorf("every answer for %v has been throttled, at %.3g calls a second: %w", all.Round(time.Second), r.pace.Limit(), err)}
		}
		if err := sleep(r.stop, r.throttleWait(t, err)); err != nil {
			return r.interrupted(*e, t.lastErr)
		}
		return errAgain
	}
	t.throttled = 0
	r.pace.Answered(false)
	t.tries++
	if outcome == Uncertain {
		return errAgain // looked up first; a lost answer's call counts as a try
	}
	if t.tries >= r.cfg.Policy.MaxAttempts {
		return r.fail(*e, err)
	}
	if err := sleep(r.stop, r.cfg.Policy.Backoff(t.tries, err)); err != nil {
		return r.interrupted(*e, t.lastErr)
	}
	return errAgain
}

// throttleWait is the pause before calling again after a throttled
// answer. A Retry-After is honoured, with up to half of it again as
// jitter so that the objects told the same thing at once do not all come
// back at the same instant. Without one, the adaptive pacer's wait is the
// pause (it has cut the rate); a fixed or absent limit gets full-jitter
// backoff instead, so that throttled calls do not come straight back.
func (r *run) throttleWait(t *task, err error) time.Duration {
	if ra := retryAfter(err); ra > 0 {
		ra = min(ra, r.cfg.Policy.Cap)
		return ra + time.Duration(rand.Int64N(int64(ra)/2+1))
	}
	if r.pace.Adaptive() {
		return 0
	}
	return r.cfg.Policy.Backoff(t.throttled, nil)
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

// entryError is the report's error for err (see errorOf).
func (r *run) entryError(err error) *report.Error { return errorOf(err, r.cfg.Redact) }

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

// sameErrorWindow is how many first answers, all failed with one permanent
// error, end the run (first finished objects) or a status pass (first
// look-ups).
const sameErrorWindow = 20

// sameError is the rule "the first sameErrorWindow answers all failed with
// one permanent error": the others would too. The run's judge and the
// status pass both ask it.
type sameError struct {
	n      int
	first  *report.Error // the first failure, while every answer failed like it
	broken bool          // some answer did not fail like the first
}

// add counts one answer, permanent its error when it failed for good (nil
// for any other answer: a success, a failure worth a retry), and reports
// whether the rule trips.
func (s *sameError) add(permanent *report.Error) bool {
	switch {
	case s.broken:
		return false
	case permanent == nil:
		s.broken = true
		return false
	case s.first == nil:
		s.first = permanent
	case permanent.Code != s.first.Code || permanent.HTTPStatus != s.first.HTTPStatus:
		s.broken = true
		return false
	}
	s.n++
	if s.n == sameErrorWindow {
		s.broken = true
		return true
	}
	return false
}

// failed is a failure as the judge sees it: the report's error and the
// outcome recorded at failure time.
type failed struct {
	err     *report.Error
	outcome Outcome
}

// judge decides whether failures end the run.
type judge struct {
	threshold Threshold
	halt      func() // ends the run's dispatching: called as the judge trips

	mu               sync.Mutex
	finished, failed int
	same             sameError
	tripped          bool
}

// trip ends the run's dispatching while j.mu is held: a worker whose
// object finishes after the trip finds the run stopped, and calls no more.
func (j *judge) trip() {
	j.tripped = true
	if j.halt != nil {
		j.halt()
	}
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
	var permanent *report.Error
	if f != nil {
		j.failed++
		if f.outcome == Permanent {
			permanent = f.err
		}
	}
	if j.same.add(permanent) {
		j.trip()
		first := j.same.first
		return "same-error", fmt.Errorf("the first %d objects all failed with %d %s: %s", sameErrorWindow, first.HTTPStatus, first.Code, first.Message)
	}
	if j.threshold.exceeded(j.failed, j.finished) {
		j.trip()
		return "max-failures", fmt.Errorf("%d of %d finished objects failed, more than --max-failures %s", j.failed, j.finished, j.threshold)
	}
	return "", nil
}
