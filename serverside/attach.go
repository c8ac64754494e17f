package serverside

import (
	"context"
	"errors"
	"fmt"

	"github.com/wftrigger/wftrigger/tencent"
)

// attach returns the job of the run: the ledger's (by id, or found by name
// when only its intent was journaled), or a new one, journaled before and
// after the create call. reattached is true for a job an earlier run
// submitted.
func (r *run) attach(ctx context.Context) (j Job, reattached bool, err error) {
	j, ok := r.ledger.Job()
	switch {
	case ok && j.ID != "":
		info, err := r.svc.DescribeInventoryTriggerJob(ctx, j.ID)
		if err != nil {
			return j, true, &Error{Step: "attach", Err: fmt.Errorf("job %s of the report: %w", j.ID, err)}
		}
		if err := r.sameInput(info); err != nil {
			return j, true, &Error{Step: "attach", Err: err}
		}
		return r.noteJob(j, info, true)
	case ok && j.State == tencent.JobCancel:
		return j, true, nil // cancelled before it was ever submitted
	case ok:
		// The earlier create may have reached CI, and a job list may lag
		// behind a create: look a few times, a poll interval apart, before
		// taking the job for never submitted.
		for look := 1; ; look++ {
			info, found, err := findByName(ctx, r.svc, j.Name, r.cfg.Workflow)
			if err != nil {
				return j, true, &Error{Step: "attach", Err: err}
			}
			if found {
				if err := r.sameInput(info); err != nil {
					return j, true, &Error{Step: "attach", Err: err}
				}
				return r.noteJob(j, info, true)
			}
			if look == intentLooks {
				break
			}
			if err := r.cfg.Sleep(ctx, r.cfg.PollInterval); err != nil {
				return j, true, err
			}
		}
		r.cfg.Logger.Info("the journal has the intent of a job CI does not list: submitting it now", "name", j.Name, "looks", intentLooks)
	default:
		j = Job{Name: JobName(r.cfg.Report, r.cfg.Bucket, r.cfg.Workflow, r.cfg.Now()), SubmittedAt: r.cfg.Now().UTC()}
		if err := r.ledger.RecordJob(j); err != nil {
			return j, false, &Error{Step: "journal", Err: err}
		}
	}
	info, err := r.svc.CreateInventoryTriggerJob(ctx, Request(r.cfg, j.Name))
	if err != nil {
		if tencent.Uncertain(err) && ctx.Err() == nil {
			// The create may have reached CI: a job of that name is ours.
			if info, found, ferr := findByName(ctx, r.svc, j.Name, r.cfg.Workflow); ferr == nil && found {
				return r.noteJob(j, info, false)
			}
		}
		return j, false, &Error{Step: "submit", Err: fmt.Errorf("submit job %s: %w", j.Name, err)}
	}
	if info.JobID == "" {
		return j, false, &Error{Step: "submit", Err: fmt.Errorf("submit job %s: the answer has no JobId (request id %s)", j.Name, info.RequestID)}
	}
	return r.noteJob(j, info, false)
}

// intentLooks is how many times a rerun looks for the job of an intent
// without an id before it submits the job: a list that lags behind a create
// by less than two poll intervals does not get a second job.
const intentLooks = 3

// noteJob records the id and state CI gave for j.
func (r *run) noteJob(j Job, info tencent.InventoryJob, reattached bool) (Job, bool, error) {
	r.c.setState(info.State, info.Progress)
	if j.ID == info.JobID && j.State == info.State {
		return j, reattached, nil
	}
	j.ID, j.State = info.JobID, info.State
	if err := r.ledger.RecordJob(j); err != nil {
		return j, reattached, &Error{Step: "journal", Err: err}
	}
	return j, reattached, nil
}

// sameInput refuses a job whose input, as CI echoes it, is not this run's:
// the report was written for another source.
func (r *run) sameInput(info tencent.InventoryJob) error {
	cfg := r.cfg
	switch {
	case cfg.Manifest != "" && info.Manifest != "" && info.Manifest != cfg.Manifest,
		cfg.Manifest != "" && info.Manifest == "" && info.Prefix != "",
		cfg.Manifest == "" && info.Manifest != "",
		cfg.Manifest == "" && info.Prefix != "" && info.Prefix != cfg.Prefix:
		return fmt.Errorf("job %s of the report reads %s, this run %s: the report belongs to that job (use --fresh to start a new one)",
			info.JobID, describeInput(info.Prefix, info.Manifest), describeInput(cfg.Prefix, cfg.Manifest))
	}
	return nil
}

func describeInput(prefix, manifest string) string {
	if manifest != "" {
		return "manifest " + manifest
	}
	return fmt.Sprintf("prefix %q", prefix)
}

// errTooManyPages ends a search through the job list.
var errTooManyPages = errors.New("too many pages")

// findByName looks for the job called name in the job list; of several,
// the oldest.
func findByName(ctx context.Context, svc Service, name, workflow string) (tencent.InventoryJob, bool, error) {
	q := tencent.JobQuery{Name: name, WorkflowID: workflow, Size: 100}
	var (
		best  tencent.InventoryJob
		found bool
	)
	for range maxJobListPages {
		page, err := svc.ListInventoryTriggerJobs(ctx, q)
		if err != nil {
			return best, false, fmt.Errorf("find job %s: %w", name, err)
		}
		for _, j := range page.Jobs {
			if j.Name == name && j.JobID != "" && (!found || j.CreationTime.Before(best.CreationTime)) {
				best, found = j, true
			}
		}
		if page.NextToken == "" || page.NextToken == q.NextToken {
			return best, found, nil
		}
		q.NextToken = page.NextToken
	}
	return best, found, fmt.Errorf("find job %s: %w (gave up after %d)", name, errTooManyPages, maxJobListPages)
}

// Cancel cancels the job the ledger records and records its state after
// the cancel. A job whose create was journaled but that CI does not list
// is recorded cancelled, so that no later run submits it. It returns
// ErrNoJob when the ledger has no job. cfg gives the workflow (to find the
// job by name) and the logger.
func Cancel(ctx context.Context, cfg Config, svc Service, ledger Ledger) (Job, error) {
	cfg = cfg.withDefaults()
	j, ok := ledger.Job()
	if !ok {
		return j, ErrNoJob
	}
	if j.ID == "" {
		info, found, err := findByName(ctx, svc, j.Name, cfg.Workflow)
		if err != nil {
			return j, err
		}
		if !found {
			j.State = tencent.JobCancel
			if err := ledger.RecordJob(j); err != nil {
				return j, fmt.Errorf("record job %s: %w", j.Name, err)
			}
			return j, nil
		}
		j.ID = info.JobID
	}
	if err := svc.CancelInventoryTriggerJob(ctx, j.ID); err != nil {
		return j, fmt.Errorf("cancel job %s: %w", j.ID, err)
	}
	j.State = tencent.JobCancel
	if info, err := svc.DescribeInventoryTriggerJob(ctx, j.ID); err == nil && info.State != "" {
		j.State = info.State // an ended job stays as it ended
	} else if err != nil {
		cfg.Logger.Warn("look at the job after cancelling it", "job", j.ID, "error", err)
	}
	if err := ledger.RecordJob(j); err != nil {
		return j, fmt.Errorf("record job %s: %w", j.ID, err)
	}
	return j, nil
}
