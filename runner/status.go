package runner

import (
	"context"
	"errors"
	"fmt"
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

// Tally counts a report's triggered instances by execution state after a
// status pass.
type Tally struct {
	Success, Failed, Cancel, Running int
	Unknown                          int // not found, or not looked up yet
}

// Total is the number of instances counted.
func (t Tally) Total() int { return t.Success + t.Failed + t.Cancel + t.Running + t.Unknown }

// Status is the runner's look-up mode: it looks up the execution of every
// instance of the report at path whose recorded state is not final, with
// cfg's pacer (QPS), retry policy and Concurrency workers, and records the
// states in the report. Look-ups run ahead of the report's rewrite, in
// report order, through a bounded window: memory does not grow with the
// report. An answer that is Fatal for the run ends the pass with an error;
// any other failed look-up leaves the instance Unknown, for the next pass.
func Status(ctx context.Context, cfg Config, path string, svc Describer) (Tally, error) {
	cfg = cfg.withDefaults()
	if _, err := os.Stat(path + ".journal"); err == nil {
		// A run stopped without writing its report: fold its journal in
		// first, so that the look-ahead and the rewrite read the same file.
		if err := report.Rewrite(path, func(*report.Entry) error { return nil }); err != nil {
			return Tally{}, err
		}
	}
	pace := newPacer(cfg.QPS, cfg.Adaptive, time.Now)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The scanner hands each look-up to the workers and its answer slot to
	// the rewrite, in report order; both channels bound what is held.
	window := make(chan chan lookUp, 4*cfg.Concurrency)
	jobs := make(chan job, cfg.Concurrency)
	g, gctx := errgroup.WithContext(ctx)
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
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})
		scanErr <- err
	}()

	var t Tally
	now := time.Now().UTC()
	err := report.Rewrite(path, func(e *report.Entry) error {
		if e.Status != report.Succeeded || e.InstanceID == "" {
			return nil
		}
		if needsLookUp(e) {
			res, ok := <-window
			if !ok {
				return fmt.Errorf("report %s changed while it was read", path)
			}
			r := <-res
			switch {
			case r.runID != e.InstanceID:
				return fmt.Errorf("report %s changed while it was read (run a status when no run writes it)", path)
			case r.err == nil:
				e.Execution = &report.Execution{State: r.exec.State, CheckedAt: now, Tasks: reportTasks(r.exec.Tasks)}
			case OutcomeOf(r.err) == Fatal:
				return fmt.Errorf("look up execution %s of %q: %w", e.InstanceID, e.Key, r.err)
			default:
				// Not found, not allowed, or still failing after retries:
				// counted as unknown, looked up again by the next pass.
			}
		}
		switch {
		case e.Execution == nil:
			t.Unknown++
		case e.Execution.State == StateSuccess:
			t.Success++
		case e.Execution.State == StateFailed:
			t.Failed++
		case e.Execution.State == StateCancel:
			t.Cancel++
		default:
			t.Running++
		}
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
	return t, err
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
}

// describe looks up one execution under the policy, each call paced.
func describe(ctx context.Context, p Policy, pace *pacer, svc Describer, runID string) lookUp {
	var exec Execution
	err := p.Do(ctx, "look up execution "+runID, func(ctx context.Context) error {
		if err := pace.Wait(ctx); err != nil {
			return err
		}
		var err error
		exec, err = svc.DescribeExecution(ctx, runID)
		pace.Answered(OutcomeOf(err) == Throttled)
		return err
	})
	return lookUp{runID: runID, exec: exec, err: err}
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
