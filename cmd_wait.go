package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/runner"
)

// lookUpExecutions is what `status` and `run --wait` share: status passes
// over the report at path (one, or with wait until nothing runs: the
// runner's one engine), the summary line on stdout, and the exit status of
// the contract: nil when every instance ended Success; exit 1 when some
// ended Failed or Cancel, could not be looked up (the reason is in the
// entry's execution.error) or, without wait, still run; exit 3 when stopped
// (the report keeps what the passes found), when the first look-ups all
// failed the same permanent way, or on a fatal answer; exit 4 when a run
// holds the report.
func lookUpExecutions(ctx context.Context, cfg runner.Config, path string, svc runner.Describer, wait bool, interval time.Duration, env environment, logger *slog.Logger) error {
	var (
		t   runner.Tally
		err error
	)
	if wait {
		t, err = runner.Wait(ctx, cfg, path, svc, interval, func(t runner.Tally) {
			if t.Running > 0 {
				logger.Info("executions still running", "report", path, "running", t.Running, "success", t.Success,
					"failed", t.Failed, "cancel", t.Cancel, "notFound", t.NotFound, "lookupErrors", t.LookupFailed, "next", interval)
			}
		})
	} else {
		t, err = runner.Status(ctx, cfg, path, svc)
	}
	stopped := errors.Is(err, context.Canceled)
	gaveUp := errors.Is(err, runner.ErrLookupsFailing)
	if err == nil || stopped || gaveUp {
		fmt.Fprintf(env.stdout, "%s: %d instances: %d Success, %d Failed, %d Cancel, %d running, %d not found, %d look-up errors, %d not looked up\n",
			path, t.Total(), t.Success, t.Failed, t.Cancel, t.Running, t.NotFound, t.LookupFailed, t.Unknown)
	}
	var locked *report.LockedError
	switch {
	case stopped:
		return &exitError{code: exitAborted, err: context.Canceled}
	case errors.As(err, &locked):
		return &exitError{code: exitLocked, err: err, hint: "a run is writing this report; look its executions up when it has finished"}
	case gaveUp:
		return &exitError{code: exitAborted, err: err, hint: "check the sub-account's CAM permission to describe executions (ci:DescribeMediaWorkflowExecutions) and the endpoint; then run: wftrigger status --report " + shellQuote(path)}
	case err != nil:
		return &exitError{code: exitAborted, err: err, hint: "fix the cause, then run: wftrigger status --report " + shellQuote(path)}
	case !t.AllSucceeded():
		return executionsError(t, path, wait)
	}
	return nil
}

// executionsError is the exit 1 of a status pass: what did not end
// Success, and what to do about it.
func executionsError(t runner.Tally, path string, waited bool) error {
	var what, hint []string
	add := func(n int, s string) {
		if n > 0 {
			what = append(what, fmt.Sprintf("%d %s", n, s))
		}
	}
	add(t.Failed, "Failed")
	add(t.Cancel, "Cancel")
	add(t.Running, "still running")
	add(t.NotFound, "not found")
	add(t.LookupFailed, "look-up errors")
	add(t.Unknown, "not looked up")
	if t.Failed > 0 {
		hint = append(hint, "rerun the run's command with --retry-failed-executions to trigger the Failed ones again")
	}
	if t.Running > 0 && !waited {
		hint = append(hint, "add --wait to wait for the running ones")
	}
	if t.NotFound+t.LookupFailed > 0 {
		hint = append(hint, "the reason of each look-up error is the entry's execution.error; run status again to look them up again")
	}
	hint = append(hint, "jq -c '.objects[] | select(.execution != null and .execution.state != \"Success\") | {key, execution}' "+shellQuote(path))
	return &exitError{code: exitFailures, err: fmt.Errorf("%d of %d instances did not end Success: %s; see %s", t.Total()-t.Success, t.Total(), strings.Join(what, ", "), path),
		hint: strings.Join(hint, "; ")}
}

// exitCodeOf is the exit status err stands for (see exitStatus).
func exitCodeOf(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	}
	return exitAborted
}

// waitAfterRun is `run --wait`: once the triggers are done, it looks up the
// executions of the report's instances until all have ended, paced and
// retried as the run's calls were. It returns nil without --wait.
func waitAfterRun(ctx context.Context, o runOptions, cfg runner.Config, svc runner.Describer, env environment, logger *slog.Logger) error {
	if !o.wait {
		return nil
	}
	logger.Info("waiting for the executions", "report", o.reportPath, "interval", o.waitInterval)
	return lookUpExecutions(ctx, cfg, o.reportPath, svc, true, o.waitInterval, env, logger)
}

// worseExit is the exit of a run whose triggers ended with triggerErr and
// whose --wait ended with waitErr: a stop or an error of either (3, 4)
// first, then the triggers' failures (1: their message says what failed),
// then the executions' (1), then 0.
func worseExit(triggerErr, waitErr error) error {
	switch {
	case exitCodeOf(triggerErr) > exitFailures:
		return triggerErr
	case exitCodeOf(waitErr) > exitFailures:
		return waitErr
	case triggerErr != nil:
		return triggerErr
	}
	return waitErr
}

// logRetryFailedExecutions says how many objects --retry-failed-executions
// triggers again, or why none.
func logRetryFailedExecutions(o runOptions, rep *report.Report, logger *slog.Logger) {
	if !o.retryFailedExecutions {
		return
	}
	if n := rep.FailedExecutions(); n > 0 {
		logger.Info("triggering again the objects whose execution Failed", "report", o.reportPath, "objects", n)
		return
	}
	logger.Info("no object has a recorded Failed execution: nothing to trigger again (wftrigger status records the executions)", "report", o.reportPath)
}
