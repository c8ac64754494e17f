package runner

import (
	"context"
	"sync"
	"time"

	"github.com/wftrigger/wftrigger/report"
)

// worker is one of a run's Concurrency long-lived workers: it brings the
// objects handed to it to an end one at a time. What it keeps across
// objects saves work on every call: the context of its calls, and the
// successes it has not recorded yet.
type worker struct {
	r *run

	// ctx is the context of the worker's calls: r.calls with a deadline
	// at most Timeout/deadlineSlack past a call's Timeout, made anew only
	// when the next call would get less than Timeout. One context per
	// worker and not one per call (context.WithTimeout costs an
	// allocation, a timer and a lock on the shared parent every call).
	ctx    context.Context
	cancel context.CancelFunc

	// successes are succeeded entries not yet recorded (see
	// successBatch); the timer records them once the first has waited
	// successDelay, and err keeps an error of its to return.
	mu        sync.Mutex
	successes []report.Entry
	timer     *time.Timer
	err       error
}

// deadlineSlack sets how much longer than Policy.Timeout a call may run
// before it is cut: up to Timeout/deadlineSlack more (an eighth: 30 s
// becomes 30–33.75 s), which is also the least time between two contexts
// of a worker.
const deadlineSlack = 8

// successBatch is how many successes a worker keeps before it records
// them with one RecordAll. It keeps them no longer than successDelay (a
// timer records them then, even while the worker waits for a long call),
// and records them at once when no object waits for it: at high rates
// the journal takes one hand-off for eight records, at low rates every
// success is recorded as it comes. A success not yet recorded when the
// process is killed leaves its object Dispatched, which the next run
// looks up (it finds the execution): never a second call.
const (
	successBatch = 8
	successDelay = 50 * time.Millisecond
)

func (r *run) newWorker() *worker {
	w := &worker{r: r, cancel: func() {}}
	w.timer = time.AfterFunc(time.Hour, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if err := w.flushLocked(); err != nil && w.err == nil {
			w.err = err
		}
	})
	w.timer.Stop()
	return w
}

// work processes the objects of the queue until it is closed or an object
// ends the run.
func (w *worker) work(objects <-chan *task) error {
	for {
		var t *task
		ok := true
		select {
		case t, ok = <-objects:
		default:
			// Nothing waits: record what succeeded before waiting.
			if err := w.flush(); err != nil {
				return err
			}
			t, ok = <-objects
		}
		if !ok {
			return w.flush()
		}
		if err := w.r.process(w, t); err != nil {
			return err
		}
	}
}

// close records what is left and releases the worker's context.
func (w *worker) close() {
	_ = w.flush()
	w.timer.Stop()
	w.cancel()
}

// call makes one call within the per-call timeout.
func (w *worker) call(in TriggerInput) (TriggerResult, error) {
	r := w.r
	now := time.Now()
	timeout := r.cfg.Policy.Timeout
	if !w.fresh(now, timeout) {
		w.cancel()
		w.ctx, w.cancel = context.WithDeadline(r.calls, now.Add(timeout+timeout/deadlineSlack))
	}
	r.c.InFlight.Add(1)
	defer r.c.InFlight.Add(-1)
	return r.api.Trigger(w.ctx, in)
}

// fresh reports whether the worker's context gives a call made at now its
// whole timeout.
func (w *worker) fresh(now time.Time, timeout time.Duration) bool {
	if w.ctx == nil || w.ctx.Err() != nil {
		return false
	}
	d, ok := w.ctx.Deadline()
	return ok && d.Sub(now) >= timeout
}

// succeeded records the succeeded entry e, or keeps it for a batch (see
// successBatch).
func (w *worker) succeeded(e report.Entry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.successes = append(w.successes, e)
	if len(w.successes) == 1 {
		w.timer.Reset(successDelay)
	}
	if len(w.successes) >= successBatch {
		return w.flushLocked()
	}
	return w.takeErr()
}

// flush records the successes kept, and returns the error of an earlier
// flush of the timer's, if any.
func (w *worker) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flushLocked(); err != nil {
		return err
	}
	return w.takeErr()
}

func (w *worker) takeErr() error {
	err := w.err
	w.err = nil
	return err
}

func (w *worker) flushLocked() error {
	if len(w.successes) == 0 {
		return nil
	}
	w.timer.Stop()
	err := w.r.ledger.RecordAll(w.successes)
	key := w.successes[0].Key
	clear(w.successes)
	w.successes = w.successes[:0]
	if err != nil {
		return &AbortError{Reason: "journal", Key: key, Err: err}
	}
	return nil
}
