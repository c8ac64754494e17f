package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/wftrigger/wftrigger/manifest"
	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/serverside"
	"github.com/wftrigger/wftrigger/tencent"
)

// checkServerSide refuses, before any call, what an inventory trigger job
// cannot honour. It is nil without --server-side.
func (o *runOptions) checkServerSide() error {
	if !o.serverSide {
		return nil
	}
	const clientSide = "; or run without --server-side, which honours it"
	switch {
	case o.suffix != "":
		return usageError("drop --suffix and filter by type in the workflow's Start node (ExtFilter)"+clientSide,
			"--server-side cannot honour --suffix: the job triggers every object of its input")
	case o.shard != "":
		return usageError("drop --shard: one job covers the whole source"+clientSide, "--server-side cannot honour --shard")
	case o.limit > 0:
		return usageError("drop --limit: the job triggers the whole source"+clientSide, "--server-side cannot honour --limit")
	case o.workflow == "":
		return usageError("wftrigger run --server-side --workflow w0123… …", "--workflow is required with --server-side (rows cannot name their own)")
	case o.pollInterval <= 0:
		return usageError("--poll-interval 10s", "--poll-interval %v: want a positive duration", o.pollInterval)
	case o.manifestSet:
		if _, _, ok := manifest.ParseCOSURL(o.manifest); !ok {
			return usageError("upload the manifest to COS and give --manifest cos://BUCKET-APPID/…/manifest.json of a COS inventory, or use --prefix"+clientSide,
				"--server-side cannot read the local manifest %s: the job reads a COS inventory manifest.json from COS", o.manifest)
		}
		if o.manifestFormat() != manifest.FormatInventory {
			return usageError("--manifest cos://BUCKET-APPID/…/manifest.json of a COS inventory, or --prefix"+clientSide,
				"--server-side reads a COS inventory manifest.json, not %s (rows naming their own workflow are client-side only)", o.manifest)
		}
	}
	return nil
}

// jobManifestURL is the URL under which the job reads the inventory's
// manifest.json: the --cos-endpoint when given (an emulator, a proxy),
// else the COS host of the bucket the cos:// URL names.
func (o *runOptions) jobManifestURL() string {
	bucket, key, ok := manifest.ParseCOSURL(o.manifest)
	if !ok {
		return ""
	}
	base := tencent.COSEndpoint(bucket, o.region)
	if o.cosEndpoint != "" {
		base = strings.TrimRight(o.cosEndpoint, "/")
	}
	return base + (&url.URL{Path: "/" + key}).EscapedPath()
}

func (o *runOptions) serverSideConfig(logger *slog.Logger) (serverside.Config, error) {
	abs, err := filepath.Abs(o.reportPath)
	if err != nil {
		return serverside.Config{}, err
	}
	cfg := serverside.Config{
		Bucket: o.bucket, Workflow: o.workflow, Report: abs, PollInterval: o.pollInterval, Logger: logger,
		ModifiedAfter: o.filters.ModifiedAfter,
	}
	if o.manifestSet {
		cfg.Manifest = o.jobManifestURL()
	} else {
		cfg.Prefix = o.prefix
	}
	return cfg, nil
}

// serverSideRun is what runCommand hands a server-side run: its logger
// and id, its metrics file, its start and the end of its window (zero:
// none).
type serverSideRun struct {
	logger   *slog.Logger
	runID    string
	metrics  *runMetrics
	started  time.Time
	deadline time.Time
}

// runServerSide is `run --server-side`: one inventory trigger job, and the
// report built from its executions.
func runServerSide(ctx context.Context, o runOptions, env environment, client *tencent.Client, src manifest.Source, meta report.Meta, sr serverSideRun) error {
	logger := sr.logger
	cfg, err := o.serverSideConfig(logger)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("report %s: %w", o.reportPath, err)}
	}
	if !sr.deadline.IsZero() {
		// The window stops the wait; the job goes on server-side.
		cfg.MaxDuration = max(time.Until(sr.deadline), time.Nanosecond)
	}
	if o.dryRun {
		return dryRunServerSide(ctx, o, cfg, src, meta, env)
	}
	rep, err := openRunReport(o, meta, logger)
	if err != nil {
		return err
	}
	var (
		c      serverside.Counters
		totals serverSideTotals
	)
	sr.metrics.start(ctx, serverSideNumbers(&c, &totals))
	stopProgress := serverSideProgress(ctx, o.progress, logger, &c)
	stopCompaction := rep.RewriteEvery(ctx, report.DefaultRewriteInterval, logger)
	res, runErr := serverside.Run(ctx, cfg, src, client, rep, &c)
	stopCompaction()
	stopProgress()
	// A stop (a signal, the window's end) is not the end of the source:
	// the job goes on, and the next run reattaches to it.
	complete := runErr == nil && c.Exhausted.Load() && res.Outcome != serverside.Stopped
	sr.metrics.setComplete(complete)
	if err := rep.Close(time.Now().UTC(), complete); err != nil {
		return &exitError{code: exitAborted, err: fmt.Errorf("write report: %w", err)}
	}
	sum := rep.Summary()
	// This run's objects: the report's successes but those of earlier
	// runs; failed (NotInJob) only once the job ended, since until then
	// the job may still trigger them.
	totals.succeeded.Store(max(0, int64(sum.Succeeded)-c.Skipped.Load()))
	if res.Outcome != serverside.Stopped {
		totals.failed.Store(int64(sum.Failed))
	}
	totals.ended.Store(true)
	windowEnded := runErr == nil && res.Outcome == serverside.Stopped && ctx.Err() == nil && !sr.deadline.IsZero()
	if windowEnded {
		logger.Info("the --max-duration window ended: the server-side job goes on; the same command reattaches to it",
			"maxDuration", o.maxDuration.String(), "job", res.Job.ID)
	}
	exit := serverSideExit(res, runErr, windowEnded, o)
	code := exitCodeOf(exit)
	elapsed := time.Since(sr.started)
	if o.logFormat == "json" {
		slog.New(slog.NewJSONHandler(env.stdout, nil)).Info("summary", "run", sr.runID,
			slog.Group("job", "name", res.Job.Name, "id", res.Job.ID, "state", res.Job.State),
			reportAttr(o.reportPath, sum, complete),
			slog.Group("thisRun", "executions", c.Executions.Load(), "read", c.Read.Load(), "skipped", c.Skipped.Load(),
				"duplicates", c.Duplicates.Load(), "durationSeconds", durationSeconds(elapsed)),
			"exitCode", code)
	} else {
		fmt.Fprintf(env.stdout, "%s: server-side job %s (%s) %s: %d objects in the report: %d succeeded, %d failed, %d invalid; this run: %d executions recorded, %d rows read, %d already succeeded, %d duplicates, %s\n",
			o.reportPath, res.Job.Name, or(res.Job.ID, "never submitted"), or(res.Job.State, "unknown"), sum.Total, sum.Succeeded, sum.Failed, sum.Invalid,
			c.Executions.Load(), c.Read.Load(), c.Skipped.Load(), c.Duplicates.Load(), elapsed.Round(time.Millisecond))
	}
	return exit
}

// serverSideExit maps a server-side run's end to the contract's exit
// status and message; windowEnded says that --max-duration stopped it.
func serverSideExit(res serverside.Result, runErr error, windowEnded bool, o runOptions) error {
	again := "rerun the same command: it reattaches to the job"
	if runErr != nil {
		var se *serverside.Error
		if errors.As(runErr, &se) && se.Step == "submit" && tencent.ClassOf(runErr) == tencent.Permanent {
			// CI refused the job: nothing was triggered.
			return &exitError{code: exitUsage, err: runErr, hint: "check --prefix or --manifest, --workflow and the CAM permission ci:CreateInventoryTriggerJob; or run without --server-side"}
		}
		if errors.Is(runErr, tencent.ErrNoSuchJob) {
			return &exitError{code: exitAborted, err: runErr, hint: "CI no longer knows the report's job: run the same command without --server-side to finish client-side, or add --fresh to submit a new job (it triggers every object again)"}
		}
		return &exitError{code: exitAborted, err: runErr, hint: "fix the cause, then " + again}
	}
	switch res.Outcome {
	case serverside.Complete:
		return nil
	case serverside.Incomplete:
		return &exitError{code: exitFailures,
			err:  fmt.Errorf("the server-side job ended without an execution for %d objects (NotInJob) or some rows were invalid; see %s", res.Summary.Failed+res.Summary.Invalid, o.reportPath),
			hint: "run the same command without --server-side: it looks each NotInJob object up, then triggers the ones the job missed"}
	case serverside.JobEnded:
		return &exitError{code: exitAborted,
			err:  fmt.Errorf("the server-side job %s ended %s; the report has its executions, the other objects are NotInJob", or(res.Job.ID, res.Job.Name), or(res.Job.State, tencent.JobCancel)),
			hint: "run the same command without --server-side to trigger the rest client-side, or add --fresh to submit a new job (it triggers every object again)"}
	}
	stopped := "stopped"
	if windowEnded {
		stopped = "the --max-duration window ended"
	}
	return &exitError{code: exitAborted,
		err:  fmt.Errorf("%s while the server-side job %s is %s: it goes on server-side", stopped, res.Job.ID, or(res.Job.State, "running")),
		hint: again + ", or stop it with: wftrigger cancel --report " + shellQuote(o.reportPath)}
}

// dryRunServerSide prints the job request a run would submit and the
// objects of the source, calling nothing on CI.
func dryRunServerSide(ctx context.Context, o runOptions, cfg serverside.Config, src manifest.Source, meta report.Meta, env environment) error {
	rep, err := report.Open(report.Options{Path: o.reportPath, Meta: meta, ReadOnly: true, Fresh: o.fresh})
	if err != nil {
		return reportOpenError(err, o)
	}
	defer rep.Close(time.Time{}, false)
	p, err := serverside.DryRun(ctx, cfg, src, rep)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", meta.Source, err)}
	}
	w := env.stdout
	fmt.Fprintf(w, "dry run of %s, server side: nothing was submitted\n", meta.Source)
	if p.HasJob {
		fmt.Fprintf(w, "  the report has job %s (%s, %s): a run reattaches to it and submits nothing\n", p.Job.Name, or(p.Job.ID, "id not yet known"), or(p.Job.State, "state unknown"))
	} else {
		fmt.Fprintf(w, "  would submit POST /inventorytriggerjob:\n  %s\n", p.Request)
	}
	fmt.Fprintf(w, "  rows read:          %d\n", p.Rows)
	fmt.Fprintf(w, "  objects:            %d (the job triggers each of them)\n", p.Objects)
	fmt.Fprintf(w, "  already succeeded:  %d (in %s; a new job triggers them again)\n", p.Done, o.reportPath)
	fmt.Fprintf(w, "  invalid:            %d\n", p.Invalid)
	fmt.Fprintf(w, "  duplicates:         %d\n", p.Duplicates)
	return nil
}

// serverSideProgress logs the job's state and the executions recorded
// every 10 s (unless --progress none) until the returned func is called.
func serverSideProgress(ctx context.Context, mode string, logger *slog.Logger, c *serverside.Counters) func() {
	if mode == "none" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				state, progress := c.JobState()
				logger.Info("progress", "job", state, "jobProgress", progress, "executions", c.Executions.Load(), "sourceRows", c.Read.Load(), "notInJob", c.NotInJob.Load())
			}
		}
	}()
	return func() { cancel(); <-done }
}

// cancelHead is the start of `wftrigger cancel -h`; the flags follow, from
// the FlagSet (cancelFlags).
const cancelHead = `Usage: wftrigger cancel --report PATH [flags]

Cancels the server-side job (CI inventory trigger job) of a 'run --server-side'
and records its state in the report. The objects it triggered stay in the
report; a run without --server-side triggers the others.

Examples:
  wftrigger cancel --report wftrigger-report.json

`

// cancelSections lays out the flags of `wftrigger cancel` in its help.
func cancelSections() []helpSection {
	return []helpSection{{"Flags", []string{"report PATH", "region REGION", "ci-endpoint URL", "credentials SOURCE"}}}
}

// cancelOptions are the flags of `wftrigger cancel`.
type cancelOptions struct {
	path, region, endpoint, credentials string
}

// cancelFlags defines the flags of `wftrigger cancel` into o.
func cancelFlags(o *cancelOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("cancel", flag.ContinueOnError)
	fs.StringVar(&o.path, "report", report.DefaultPath, "the report of a 'run --server-side'")
	fs.StringVar(&o.region, "region", "", "by default the report's")
	fs.StringVar(&o.endpoint, "ci-endpoint", "", "by default the report's, else https://BUCKET.ci.REGION.myqcloud.com")
	fs.StringVar(&o.credentials, "credentials", tencent.SourceAuto, "auto, env, profile, oidc or cvm-role")
	return fs
}

// cancelCommand is `wftrigger cancel`.
func cancelCommand(ctx context.Context, args []string, env environment) error {
	var o cancelOptions
	fs := cancelFlags(&o)
	if err := parseFlags(fs, args, env.stdout, env.stderr, cancelHead, cancelSections(), "wftrigger cancel --report wftrigger-report.json"); err != nil {
		return err
	}
	if err := checkCredentialsFlag(o.credentials); err != nil {
		return err
	}
	path := o.path
	h, err := report.ReadHeader(path)
	if err != nil {
		return &exitError{code: exitUsage, err: err, hint: "give the --report of an earlier 'wftrigger run --server-side'"}
	}
	meta := h.Meta
	logger := newLogger(env.stderr, "text")
	client, _, err := reportClient(ctx, meta, o.region, o.endpoint, o.credentials, env, logger)
	if err != nil {
		return err
	}
	rep, err := report.Open(report.Options{Path: path, Meta: meta})
	if err != nil {
		var locked *report.LockedError
		if errors.As(err, &locked) {
			return &exitError{code: exitLocked, err: err, hint: "a run is waiting for the job: stop it (Ctrl-C), then cancel"}
		}
		return &exitError{code: exitUsage, err: err}
	}
	j, cerr := serverside.Cancel(ctx, serverside.Config{Workflow: meta.WorkflowID, Logger: logger}, client, rep)
	if err := rep.Close(time.Now().UTC(), false); err != nil && cerr == nil {
		cerr = fmt.Errorf("write report: %w", err)
	}
	switch {
	case errors.Is(cerr, serverside.ErrNoJob):
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", path, cerr), hint: "cancel stops the job of a 'wftrigger run --server-side'; a client-side run stops with Ctrl-C"}
	case cerr != nil:
		return &exitError{code: exitAborted, err: cerr, hint: "try again: cancelling a job twice is harmless"}
	}
	fmt.Fprintf(env.stdout, "%s: server-side job %s (%s) is %s\n", path, j.Name, or(j.ID, "never submitted"), j.State)
	return nil
}
