package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/wftrigger/wftrigger/report"
)

// An object whose call may have been accepted (the answer was lost, timed
// out or could not be read) is parked: its worker goes on with other
// objects, and the resolver looks parked objects up in batches once
// LookupDelay has passed since their last call. Each is first looked up by
// the execution list's name filter; those it does not find are looked for
// in one listing of the workflow's executions over the batch's time window
// (the name filter's semantics are undocumented: it may match the base
// name, a substring, or nothing), compared by Object exactly. An object
// found is recorded as succeeded; one found in neither is handed back to a
// worker to be triggered again; one that cannot be looked up fails, still
// uncertain, for a later run to look up: never a second trigger on a guess.

// maxParked bounds the objects waiting for a look-up: past it the
// dispatcher reads no more of the source until the resolver catches up, so
// memory does not grow with the source.
const maxParked = 4096

// maxListPages bounds the pages of one window listing.
const maxListPages = 100000

// errTooManyPages is a window listing that did not end.
var errTooManyPages = errors.New("too many pages")

// task is one object on its way through the run, with what its calls so
// far have taught.
type task struct {
	e            report.Entry
	in           TriggerInput
	dispatchedAt time.Time // the first call of this run (or its announcement), zero before
	fresh        bool      // the ledger knew nothing of the object: the stage may announce it
	announced    bool      // the stage announced it: withdrawn if never called
	since        time.Time // set while an earlier call may have been accepted: the first such call
	lastCall     time.Time // the last call whose outcome is unknown
	lastErr      error
	tries        int // calls that count against MaxAttempts (throttled ones do not)
	throttled    int // throttled answers in a row
}

// flow is the shared state of dispatcher, workers and resolver: objects
// out with workers, parked for a look-up, being looked up, or handed back
// to be triggered again.
type flow struct {
	mu        sync.Mutex
	active    int     // tasks handed to workers, not yet finished or parked
	parked    []*task // in the order they were parked (not by last call: takeDue looks at all)
	resolving int
	retry     []*task

	dispatch chan struct{} // cap 1: something changed for the dispatcher
	resolve  chan struct{} // cap 1: something was parked
}

func newFlow() *flow {
	return &flow{dispatch: make(chan struct{}, 1), resolve: make(chan struct{}, 1)}
}

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// handed counts a task given to a worker.
func (f *flow) handed() {
	f.mu.Lock()
	f.active++
	f.mu.Unlock()
}

// finished counts a task a worker is done with (succeeded, failed or
// interrupted).
func (f *flow) finished() {
	f.mu.Lock()
	f.active--
	f.mu.Unlock()
	notify(f.dispatch)
}

// park moves a worker's task to the parked set.
func (f *flow) park(t *task) {
	f.mu.Lock()
	f.active--
	f.parked = append(f.parked, t)
	f.mu.Unlock()
	notify(f.resolve)
	notify(f.dispatch)
}

// takeRetry returns a task to trigger again, or nil.
func (f *flow) takeRetry() *task {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.retry) == 0 {
		return nil
	}
	t := f.retry[0]
	f.retry[0] = nil
	f.retry = f.retry[1:]
	f.active++
	return t
}

// full reports whether the dispatcher should wait before reading more of
// the source.
func (f *flow) full() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.parked)+f.resolving+len(f.retry) >= maxParked
}

// idle reports whether no task is anywhere but finished.
func (f *flow) idle() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.active == 0 && len(f.parked) == 0 && f.resolving == 0 && len(f.retry) == 0
}

// takeDue removes the parked tasks whose last call is at least delay
// before now, and returns them with the wait until the next one is due
// (0 when none is parked).
func (f *flow) takeDue(now time.Time, delay time.Duration) ([]*task, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var due, rest []*task
	next := time.Duration(0)
	for _, t := range f.parked {
		if w := t.lastCall.Add(delay).Sub(now); w > 0 {
			rest = append(rest, t)
			if next == 0 || w < next {
				next = w
			}
			continue
		}
		due = append(due, t)
	}
	f.parked = rest
	f.resolving += len(due)
	return due, next
}

// resolved ends the look-up of n tasks, handing back those to trigger
// again and parking again those whose look-up a stop cut short.
func (f *flow) resolved(n int, again, repark []*task) {
	f.mu.Lock()
	f.resolving -= n
	f.retry = append(f.retry, again...)
	f.parked = append(f.parked, repark...)
	f.mu.Unlock()
	notify(f.dispatch)
}

// leftovers empties the parked and retry sets, for the records of a stop.
func (f *flow) leftovers() []*task {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append(f.parked, f.retry...)
	f.parked, f.retry = nil, nil
	return out
}

// resolver looks parked tasks up until quit is closed or the run stops.
func (r *run) resolver(quit <-chan struct{}) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if r.stop.Err() != nil {
			// What is parked (or was put back by a look-up the stop cut
			// short) is recorded as it stands by Run.
			return nil
		}
		due, wait := r.flow.takeDue(time.Now(), r.cfg.LookupDelay)
		if len(due) > 0 {
			if err := r.resolveBatch(due); err != nil {
				return err
			}
			continue
		}
		if wait == 0 {
			wait = time.Hour
		}
		timer.Reset(wait)
		select {
		case <-quit:
			return nil
		case <-r.stop.Done():
			return nil
		case <-r.flow.resolve:
		case <-timer.C:
		}
	}
}

// resolveBatch looks up due tasks: by name first, then in one window
// listing per workflow for those the name filter did not find.
func (r *run) resolveBatch(batch []*task) error {
	var (
		mu            sync.Mutex
		again, repark []*task
		missed        []*task
	)
	g := new(errgroup.Group)
	g.SetLimit(r.cfg.Concurrency)
	for _, t := range batch {
		g.Go(func() error {
			x, found, err := r.lookUp(t)
			switch {
			case err != nil && r.stop.Err() != nil:
				mu.Lock()
				repark = append(repark, t)
				mu.Unlock()
				return nil
			case err != nil:
				// Not knowing is not a licence to trigger twice.
				return r.failUncertain(t, err)
			case found:
				return r.recovered(t, x)
			}
			mu.Lock()
			missed = append(missed, t)
			mu.Unlock()
			return nil
		})
	}
	err := g.Wait()
	switch {
	case err != nil:
		// The run is ending: the objects not found by name are recorded
		// as they stand (uncertain) with the rest of what is parked.
		repark = append(repark, missed...)
	case len(missed) > 0:
		var a, rp []*task
		a, rp, err = r.resolveByWindow(missed)
		again, repark = append(again, a...), append(repark, rp...)
	}
	for _, t := range again {
		t.since, t.lastCall = time.Time{}, time.Time{}
		t.e.Uncertain, t.e.DispatchedAt = false, nil
	}
	r.flow.resolved(len(batch), again, repark)
	r.c.Parked.Add(-int64(len(batch) - len(repark)))
	return err
}

// resolveByWindow lists each workflow's executions over the window of its
// tasks' uncertain calls and matches them by Object. It returns the tasks
// not found (to trigger again) and those a stop left unresolved.
func (r *run) resolveByWindow(tasks []*task) (again, repark []*task, err error) {
	byWorkflow := map[string][]*task{}
	for _, t := range tasks {
		byWorkflow[t.in.WorkflowID] = append(byWorkflow[t.in.WorkflowID], t)
	}
	for wf, ts := range byWorkflow {
		start, end := ts[0].since, ts[0].lastCall
		want := make(map[string]*task, len(ts))
		for _, t := range ts {
			if t.since.Before(start) {
				start = t.since
			}
			if t.lastCall.After(end) {
				end = t.lastCall
			}
			want[t.in.Key] = t
		}
		found, lerr := r.listWindow(wf, start.Add(-r.cfg.Lookback), end.Add(r.cfg.Lookback), want)
		if lerr != nil {
			if r.stop.Err() != nil {
				repark = append(repark, ts...)
				continue
			}
			for _, t := range ts {
				if err := r.failUncertain(t, lerr); err != nil {
					return again, repark, err
				}
			}
			continue
		}
		for key, t := range want {
			if x, ok := found[key]; ok {
				if err := r.recovered(t, x); err != nil {
					return again, repark, err
				}
				continue
			}
			again = append(again, t)
		}
	}
	return again, repark, nil
}

// listWindow pages the workflow's executions created in [start, end] and
// returns the first one of each wanted object, compared exactly.
func (r *run) listWindow(workflowID string, start, end time.Time, want map[string]*task) (map[string]Execution, error) {
	found := map[string]Execution{}
	seen := map[string]bool{}
	token := ""
	for range maxListPages {
		var (
			page []Execution
			next string
		)
		err := r.cfg.Policy.doPaced(r.stop, r.pace, "list executions", func(ctx context.Context) error {
			var err error
			page, next, err = r.api.ListExecutions(ctx, workflowID, start, end, token)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, x := range page {
			if _, ok := want[x.Object]; ok {
				if _, dup := found[x.Object]; !dup {
					found[x.Object] = x
				}
			}
		}
		if next == "" || next == token || seen[next] || len(found) == len(want) {
			return found, nil
		}
		seen[next] = true
		token = next
	}
	return nil, fmt.Errorf("list executions of workflow %s: %w (gave up after %d)", workflowID, errTooManyPages, maxListPages)
}

// lookUp searches the workflow's execution list, by the name filter, for
// an instance of the object created since its first uncertain call (less
// Lookback).
func (r *run) lookUp(t *task) (Execution, bool, error) {
	var (
		x     Execution
		found bool
	)
	err := r.cfg.Policy.doPaced(r.stop, r.pace, "look up execution", func(ctx context.Context) error {
		var err error
		x, found, err = r.api.FindExecution(ctx, t.in.WorkflowID, t.in.Key, t.since.Add(-r.cfg.Lookback))
		if err == nil && found && x.Object != "" && x.Object != t.in.Key {
			found = false // the service's filter matched more than the key
		}
		return err
	})
	return x, found, err
}

// recovered records a parked task found in the execution list.
func (r *run) recovered(t *task, x Execution) error {
	e := t.e
	e.Status, e.InstanceID, e.Recovered = report.Succeeded, x.RunID, true
	e.Uncertain, e.DispatchedAt = false, nil
	r.c.Succeeded.Add(1)
	r.c.Recovered.Add(1)
	if err := r.record(e); err != nil {
		return err
	}
	return r.finish(nil, e.Key)
}

// failUncertain records a parked task that could not be looked up as
// failed, still uncertain: a later run looks it up before any trigger.
func (r *run) failUncertain(t *task, err error) error {
	e := t.e
	since := t.since
	e.Uncertain, e.DispatchedAt = true, &since
	return r.fail(e, err)
}
