package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"golang.org/x/time/rate"

	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/runner"
	"github.com/wftrigger/wftrigger/tencent"
)

const statusUsage = `Usage: wftrigger status --report PATH [flags]

Looks up the execution state of every instance a run triggered (Running,
Success, Failed, Cancel) and records it in the report as "execution". With
--wait it repeats until every instance has ended. Exit status 0 when every
instance succeeded, 1 when some failed, were cancelled or still run.

Examples:
  wftrigger status --report wftrigger-report.json
  wftrigger status --report wftrigger-report.json --wait --interval 1m
  jq '.objects[] | select(.execution.state == "Failed")' wftrigger-report.json

Flags:
  --report PATH        the report of a run (default wftrigger-report.json)
  --wait               repeat until no instance is running
  --interval D         pause between passes with --wait (default 30s)
  --concurrency N      look-ups in flight (default 16)
  --qps R              ceiling on look-ups a second (default 50)
  --region REGION      default: the report's region
  --ci-endpoint URL    default: https://BUCKET.ci.REGION.myqcloud.com from the report
  --credentials SOURCE auto, env, profile, oidc or cvm-role (default auto)
`

func statusCommand(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {}
	var (
		path, region, endpoint string
		credentials            string
		wait                   bool
		interval               time.Duration
		concurrency            int
		qps                    float64
	)
	fs.StringVar(&path, "report", "wftrigger-report.json", "")
	fs.BoolVar(&wait, "wait", false, "")
	fs.DurationVar(&interval, "interval", 30*time.Second, "")
	fs.IntVar(&concurrency, "concurrency", 16, "")
	fs.Float64Var(&qps, "qps", 50, "")
	fs.StringVar(&region, "region", "", "")
	fs.StringVar(&endpoint, "ci-endpoint", "", "")
	fs.StringVar(&credentials, "credentials", tencent.SourceAuto, "")
	if err := fs.Parse(args); err != nil {
		return flagError(err, env.stdout, env.stderr, "status", statusUsage)
	}
	switch {
	case fs.NArg() > 0:
		return usageError("wftrigger status --report wftrigger-report.json", "unexpected argument %q", fs.Arg(0))
	case concurrency < 1 || qps <= 0 || interval <= 0:
		return usageError("--concurrency 16 --qps 50 --interval 30s", "--concurrency, --qps and --interval must be positive")
	}
	if err := checkCredentialsFlag(credentials); err != nil {
		return err
	}
	meta, err := readMeta(path)
	if err != nil {
		return &exitError{code: exitUsage, err: err, hint: "give the --report of an earlier 'wftrigger run'"}
	}
	creds, err := openCredentials(ctx, credentials, env, newLogger(env.stderr, "text"))
	if err != nil {
		return err
	}
	region = or(region, meta.Region)
	if endpoint == "" && region == "" {
		return usageError("--region ap-guangzhou", "the report names no region: give --region or --ci-endpoint")
	}
	client, err := tencent.NewClient(tencent.Config{
		CIEndpoint:  or(endpoint, tencent.CIEndpoint(meta.Bucket, region)),
		COSEndpoint: tencent.COSEndpoint(meta.Bucket, or(region, "ap-guangzhou")),
		Source:      creds,
		UserAgent:   "wftrigger/" + version(),
	})
	if err != nil {
		return usageError("--ci-endpoint https://media-1250000000.ci.ap-guangzhou.myqcloud.com", "%v", err)
	}
	limiter := rate.NewLimiter(rate.Limit(qps), max(1, int(qps/20)))
	for {
		t, err := statusPass(ctx, path, client, limiter, concurrency)
		if err != nil {
			var locked *report.LockedError
			if errors.As(err, &locked) {
				return &exitError{code: exitLocked, err: err, hint: "a run is writing this report; run status when it has finished"}
			}
			return err
		}
		fmt.Fprintf(env.stdout, "%s: %d instances: %d Success, %d Failed, %d Cancel, %d running, %d not found or not looked up\n",
			path, t.total(), t.success, t.failed, t.cancel, t.running, t.unknown)
		if !wait || t.running == 0 {
			if t.failed+t.cancel+t.running+t.unknown > 0 {
				return &exitError{code: exitFailures, err: fmt.Errorf("not every instance succeeded"),
					hint: "jq '.objects[] | select(.execution.state != \"Success\")' " + path}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return &exitError{code: exitAborted, err: context.Canceled}
		case <-time.After(interval):
		}
	}
}

type tally struct{ success, failed, cancel, running, unknown int }

func (t tally) total() int { return t.success + t.failed + t.cancel + t.running + t.unknown }

func finalState(s string) bool { return s == "Success" || s == "Failed" || s == "Cancel" }

func needsLookUp(e *report.Entry) bool {
	return e.Status == report.Succeeded && e.InstanceID != "" && (e.Execution == nil || !finalState(e.Execution.State))
}

type lookUp struct {
	runID string
	exec  tencent.Execution
	err   error
}

var errStop = errors.New("stop")

// readMeta reads what a report says of its run, without its objects.
func readMeta(path string) (report.Meta, error) {
	h, err := report.Scan(path, func(report.Entry) error { return errStop })
	if err != nil && !errors.Is(err, errStop) {
		return report.Meta{}, err
	}
	return h.Meta, nil
}

// statusPass looks up every instance whose state is not final and rewrites
// the report. Look-ups run concurrently ahead of the rewrite, in report
// order, through a bounded window: memory does not grow with the report.
func statusPass(ctx context.Context, path string, client *tencent.Client, limiter *rate.Limiter, concurrency int) (tally, error) {
	if _, err := os.Stat(path + ".journal"); err == nil {
		// A run stopped without writing its report: fold its journal in
		// first, so that the look-ahead and the rewrite read the same file.
		if err := report.Rewrite(path, func(*report.Entry) error { return nil }); err != nil {
			return tally{}, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	window := make(chan chan lookUp, 4*concurrency)
	sem := make(chan struct{}, concurrency)
	scanErr := make(chan error, 1)
	go func() {
		defer close(window)
		_, err := report.Scan(path, func(e report.Entry) error {
			if !needsLookUp(&e) {
				return nil
			}
			res := make(chan lookUp, 1)
			select {
			case window <- res:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			go func(runID string) {
				defer func() { <-sem }()
				var exec tencent.Execution
				err := runner.DefaultPolicy().Do(ctx, "look up execution "+runID, func(ctx context.Context) error {
					if err := limiter.Wait(ctx); err != nil {
						return err
					}
					var err error
					exec, err = client.DescribeExecution(ctx, runID)
					return err
				})
				res <- lookUp{runID: runID, exec: exec, err: err}
			}(e.InstanceID)
			return nil
		})
		scanErr <- err
	}()
	var t tally
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
				e.Execution = &report.Execution{State: r.exec.State, CheckedAt: now, Tasks: tasksOf(r.exec)}
			case tencent.ClassOf(r.err) == tencent.Fatal:
				return fmt.Errorf("look up execution %s of %q: %w", e.InstanceID, e.Key, r.err)
			default:
				// Not found, not allowed, or still failing after retries:
				// counted as unknown, looked up again by the next pass.
			}
		}
		switch {
		case e.Execution == nil:
			t.unknown++
		case e.Execution.State == "Success":
			t.success++
		case e.Execution.State == "Failed":
			t.failed++
		case e.Execution.State == "Cancel":
			t.cancel++
		default:
			t.running++
		}
		return nil
	})
	cancel()
	if serr := <-scanErr; err == nil && serr != nil && !errors.Is(serr, context.Canceled) {
		err = serr
	}
	return t, err
}

func tasksOf(x tencent.Execution) []report.Task {
	var out []report.Task
	for _, t := range x.Tasks {
		out = append(out, report.Task{Type: t.Type, State: t.State, Code: t.Code, Message: t.Message, JobID: t.JobID})
	}
	return out
}
