package serverside

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/wftrigger/wftrigger/manifest"
	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/tencent"
)

// admitSource admits every object of the source once and records NotInJob
// for those that have not succeeded before (see the package comment).
func (r *run) admitSource(ctx context.Context) error {
	submitted := r.job.SubmittedAt
	msg := "inventory trigger job " + r.job.ID + " has no execution for this object; a run without --server-side looks it up in the execution list, then triggers it"
	if r.job.ID == "" {
		msg = "inventory trigger job " + r.job.Name + " was cancelled before it was submitted; a run without --server-side triggers this object"
	}
	for {
		row, err := r.src.Next(ctx)
		if err == io.EOF {
			r.c.Exhausted.Store(true)
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &Error{Step: "source", Err: err}
		}
		r.c.Read.Add(1)
		if inv := r.check(row); inv != nil {
			r.c.Invalid.Add(1)
			if err := r.record(report.Entry{Key: row.Key, KeyHex: inv.KeyHex, WorkflowID: row.WorkflowID, Name: row.Name,
				Status: report.Invalid, Line: row.Line, File: row.File, Error: &report.Error{Code: inv.Code, Message: inv.Message}}); err != nil {
				return err
			}
			continue
		}
		switch r.ledger.Admit(r.cfg.Workflow, row.Key).State {
		case report.Duplicate:
			r.c.Duplicates.Add(1)
		case report.Done:
			r.c.Skipped.Add(1)
		case report.Uncertain:
			// An earlier run's call, or this job's earlier NotInJob: it
			// stays to be looked up unless an execution turns up.
			r.c.Uncertain.Add(1)
		default:
			t := submitted
			if err := r.record(report.Entry{Key: row.Key, Status: report.Failed, Uncertain: true, DispatchedAt: &t,
				Error: &report.Error{Code: CodeNotInJob, Message: msg}}); err != nil {
				return err
			}
			r.c.NotInJob.Add(1)
		}
	}
}

// check returns why a row cannot be part of the job, or nil: the rules of
// every run (manifest.Check), and a row naming another workflow than the
// job's.
func (r *run) check(row manifest.Row) *manifest.Invalid {
	row, wf := manifest.Check(row, r.cfg.Bucket, r.cfg.Workflow)
	if row.Invalid == nil && wf != r.cfg.Workflow {
		return &manifest.Invalid{Code: "OtherWorkflow", Message: fmt.Sprintf("line %d: the row names workflow %q; a server-side job triggers %q only", row.Line, row.WorkflowID, r.cfg.Workflow)}
	}
	return row.Invalid
}

func (r *run) record(e report.Entry) error {
	if err := r.ledger.Record(e); err != nil {
		return &Error{Step: "journal", Err: fmt.Errorf("record %q: %w", e.Key, err)}
	}
	return nil
}

// cursor is where the reading of a job's executions stands: the token of
// the page to read next and the run ids already recorded from that page
// (at most a page of them).
type cursor struct {
	token string
	seen  []string
}

// wait looks at the job every PollInterval, records its new executions,
// and returns once it has ended (and its executions are all recorded) or
// the run stops.
func (r *run) wait(ctx context.Context, log *slog.Logger, res Result) (Result, error) {
	if r.job.ID == "" {
		res.Outcome = JobEnded
		return res, nil
	}
	var (
		cur          cursor
		failingSince time.Time // the first of the polls that have failed in a row
	)
	for {
		r.c.Polls.Add(1)
		info, err := r.svc.DescribeInventoryTriggerJob(ctx, r.job.ID)
		if err == nil {
			res.Progress = info.Progress
			r.c.setState(info.State, info.Progress)
			if info.State != r.job.State {
				log.Info("server-side job", "state", info.State, "progress", info.Progress, "executions", r.c.Executions.Load())
				r.job.State = info.State
				if err := r.ledger.RecordJob(r.job); err != nil {
					return res, &Error{Step: "journal", Err: err}
				}
			}
			res.Job = r.job
			// The executions are read after the state: once it says
			// ended, the pages read now hold them all.
			err = r.drain(ctx, &cur)
		}
		if err == nil {
			failingSince = time.Time{}
		} else if failingSince.IsZero() {
			failingSince = r.cfg.Now()
		}
		switch {
		case err == nil && tencent.JobEnded(r.job.State):
			res.Outcome = r.outcome()
			log.Info("server-side job ended", "state", r.job.State, "executions", r.c.Executions.Load(), "outcome", res.Outcome.String())
			return res, nil
		case err != nil && ctx.Err() != nil:
			return res, ctx.Err()
		case err != nil && tencent.ClassOf(err) != tencent.Retryable:
			return res, &Error{Step: "wait", Err: err}
		case err != nil && r.cfg.Now().Sub(failingSince) >= MaxPollFailure:
			return res, &Error{Step: "wait", Err: fmt.Errorf("every look at the job failed for %v: %w", MaxPollFailure, err)}
		case err != nil:
			log.Warn("look at the server-side job: trying again at the next poll", "error", err)
		}
		if err := r.cfg.Sleep(ctx, r.cfg.PollInterval); err != nil {
			return res, err
		}
	}
}

// outcome is the result of a job that ended.
func (r *run) outcome() Outcome {
	if r.job.State != tencent.JobSuccess {
		return JobEnded
	}
	if s := r.ledger.Summary(); s.Failed+s.Invalid > 0 {
		return Incomplete
	}
	return Complete
}

// drain records the executions listed after cur, oldest first, and leaves
// cur on the last page (where new executions will appear).
func (r *run) drain(ctx context.Context, cur *cursor) error {
	for {
		page, err := r.svc.ListExecutions(ctx, tencent.ExecutionQuery{
			WorkflowID: r.cfg.Workflow, JobID: r.job.ID, Size: executionPageSize, Ascending: true, NextToken: cur.token,
		})
		if err != nil {
			return err
		}
		now := r.cfg.Now().UTC()
		for _, x := range page.Executions {
			if x.Object == "" || slices.Contains(cur.seen, x.RunID) {
				continue
			}
			if err := r.record(report.Entry{Key: x.Object, Status: report.Succeeded, InstanceID: x.RunID, RequestID: page.RequestID,
				Execution: &report.Execution{State: x.State, CheckedAt: now}}); err != nil {
				return err
			}
			cur.seen = append(cur.seen, x.RunID)
			r.c.Executions.Add(1)
		}
		if page.NextToken == "" || page.NextToken == cur.token {
			return nil
		}
		cur.token, cur.seen = page.NextToken, cur.seen[:0]
	}
}

// Plan is what a server-side run of a source would do.
type Plan struct {
	// Request is the XML body the run would submit; nil when the ledger
	// records a job, which the run reattaches to instead.
	Request []byte
	Job     Job  // the ledger's job
	HasJob  bool // whether there is one
	Rows    int64
	// Objects are the distinct valid objects of the source: the job
	// triggers each of them, whatever earlier runs did.
	Objects    int64
	Done       int64 // of which succeeded in an earlier run (triggered again by a new job)
	Invalid    int64
	Duplicates int64
}

// DryRun reads the whole source and returns what a run would submit,
// without any call to CI. The name in Request is one the run could take:
// a run derives its own from its start time.
func DryRun(ctx context.Context, cfg Config, src manifest.Source, ledger Ledger) (Plan, error) {
	cfg = cfg.withDefaults()
	var p Plan
	p.Job, p.HasJob = ledger.Job()
	if !p.HasJob {
		body, err := tencent.JobRequestXML(Request(cfg, JobName(cfg.Report, cfg.Bucket, cfg.Workflow, cfg.Now())))
		if err != nil {
			return p, err
		}
		p.Request = body
	}
	r := &run{cfg: cfg}
	for {
		row, err := src.Next(ctx)
		if err == io.EOF {
			return p, nil
		}
		if err != nil {
			return p, err
		}
		p.Rows++
		if r.check(row) != nil {
			p.Invalid++
			continue
		}
		switch ledger.Admit(cfg.Workflow, row.Key).State {
		case report.Duplicate:
			p.Duplicates++
			continue
		case report.Done:
			p.Done++
		}
		p.Objects++
	}
}
