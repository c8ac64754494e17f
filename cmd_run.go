package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/wftrigger/wftrigger/internal/textlist"
	"github.com/wftrigger/wftrigger/manifest"
	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/runner"
	"github.com/wftrigger/wftrigger/serverside"
	"github.com/wftrigger/wftrigger/tencent"
)

// runHead is the start of `wftrigger run -h`; the flags follow, from the
// FlagSet (runFlags).
const runHead = `Usage: wftrigger run [flags]

Triggers the workflow for every object of a source (a manifest file, or a
listing of a bucket prefix) and keeps a JSON report. Rerunning the same
command with the same --report resumes: succeeded objects are not triggered
again. Credentials come from the first source configured (--credentials):
the environment (TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY with
TENCENTCLOUD_SESSION_TOKEN or TENCENTCLOUD_SECURITY_TOKEN; else COS_SECRETID /
COS_SECRETKEY / COS_SESSIONTOKEN), the profile TENCENTCLOUD_CREDENTIALS_FILE or
~/.tencentcloud/credentials, TKE pod identity (TKE_*), the CVM instance role;
temporary ones are refreshed before they expire.

Examples:
  # every key of a CSV manifest (column "key", or one key a line)
  wftrigger run --bucket media-1250000000 --region ap-guangzhou \
      --workflow w0123456789abcdef0123456789abcdef --manifest objects.csv

  # every .mp4 under a prefix, at most 20 calls a second
  wftrigger run --bucket media-1250000000 --region ap-guangzhou \
      --workflow w0123… --prefix videos/2024/ --suffix .mp4 --qps 20

  # a nightly window (cron): at most 6 h, then the same command goes on
  wftrigger run --bucket media-1250000000 --region ap-guangzhou --workflow w0123… \
      --prefix videos/ --max-duration 6h --log-format json \
      --metrics-file /var/lib/node_exporter/textfile_collector/wftrigger.prom

  # a COS inventory report, only objects modified after a date, check first
  wftrigger run --bucket media-1250000000 --region ap-guangzhou --workflow w0123… \
      --manifest cos://inventory-1250000000/inv/1250000000/media/daily/20261120/manifest.json \
      --modified-after 2026-01-01 --dry-run
`

// runSections lays out the flags of `wftrigger run` in its help.
func runSections() []helpSection {
	return []helpSection{
		{"Source (exactly one)", []string{"manifest PATH", "format F", "prefix PREFIX"}},
		{"Target", []string{"bucket NAME-APPID", "region REGION", "workflow ID", "ci-endpoint URL", "cos-endpoint URL"}},
		{"Filters", []string{"suffix LIST", "modified-after TIME", "limit N", "shard I/N"}},
		{"Pace", []string{"concurrency N", "qps R", "adaptive", "max-attempts N", "timeout D", "max-failures N|P%"}},
		{"Server side", []string{"server-side", "poll-interval D"}},
		{"After the triggers", []string{"wait", "wait-interval D", "retry-failed-executions"}},
		{"Report", []string{"report PATH", "fresh", "dry-run", "list FILE"}},
		{"Window", []string{"max-duration D"}},
		{"Output", []string{"progress MODE", "log-format F", "metrics-file PATH"}},
		{"Credentials", []string{"credentials SOURCE"}},
	}
}

// runOptions are the flags of `wftrigger run`.
type runOptions struct {
	manifest, format, prefix         string
	manifestSet, prefixSet           bool
	bucket, region, workflow         string
	ciEndpoint, cosEndpoint          string
	suffix, modifiedAfter, shard     string
	limit                            int
	concurrency, maxAttempts         int
	qps                              float64
	adaptive                         bool
	timeout                          time.Duration
	maxFailures                      string
	reportPath                       string
	fresh, dryRun                    bool
	list                             string
	progress, logFormat, metricsFile string
	credentials                      string
	maxDuration                      time.Duration // --max-duration: the run's window
	filters                          manifest.FilterOptions
	threshold                        runner.Threshold
	serverSide                       bool          // --server-side: see cmd_serverside.go
	pollInterval                     time.Duration // --poll-interval, server side
	wait                             bool          // --wait: see cmd_wait.go
	waitInterval                     time.Duration // --wait-interval
	retryFailedExecutions            bool          // --retry-failed-executions
}

// Output defaults of `wftrigger run`: main owns the output.
const (
	defaultProgress  = "auto"
	defaultLogFormat = "text"
)

// runFlags defines the flags of `wftrigger run` into o, once: their
// defaults are the owning packages' constants, their usage strings make the
// help.
func runFlags(o *runOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&o.manifest, "manifest", "", "manifest file (.csv .jsonl .ndjson .txt, COS inventory manifest.json,\nany of them .gz; cos://BUCKET-APPID/KEY for an inventory in a bucket;\n- for standard input)")
	fs.StringVar(&o.format, "format", "", "csv, jsonl, txt or inventory (by default: by the file name)")
	fs.StringVar(&o.prefix, "prefix", "", "list the bucket under PREFIX (\"\" lists the whole bucket)")
	fs.StringVar(&o.bucket, "bucket", "", "the bucket (required)")
	fs.StringVar(&o.region, "region", "", "e.g. ap-guangzhou (required unless both endpoints are given)")
	fs.StringVar(&o.workflow, "workflow", "", "the workflow (required unless every manifest row names its own)")
	fs.StringVar(&o.ciEndpoint, "ci-endpoint", "", "by default https://NAME-APPID.ci.REGION.myqcloud.com")
	fs.StringVar(&o.cosEndpoint, "cos-endpoint", "", "by default https://NAME-APPID.cos.REGION.myqcloud.com")
	fs.StringVar(&o.suffix, "suffix", "", "keep keys ending in one of these, case-insensitive (.mp4,.mov)")
	fs.StringVar(&o.modifiedAfter, "modified-after", "", "keep objects modified strictly after TIME: RFC 3339, or\nYYYY-MM-DD for midnight UTC of that day (listing and\ninventory sources)")
	fs.IntVar(&o.limit, "limit", 0, "trigger at most N objects (those already succeeded, duplicates\nand invalid rows do not count: a rerun goes on where it stopped)")
	fs.StringVar(&o.shard, "shard", "", "keep the keys whose hash mod N is I (FNV-1a 64, fmix64-mixed):\nevery key lands in exactly one of N shards")
	fs.IntVar(&o.concurrency, "concurrency", runner.DefaultConcurrency, "calls in flight")
	fs.Float64Var(&o.qps, "qps", runner.DefaultQPS, "ceiling on calls a second, 0 for none")
	fs.BoolVar(&o.adaptive, "adaptive", true, "find and hold the service's quota under --qps: start at 20/s,\ncut to 70% of the accepted rate after a second with ≥ 2% throttled\nanswers, climb back on a CUBIC curve (--adaptive=false: --qps is a\nfixed rate)")
	fs.IntVar(&o.maxAttempts, "max-attempts", runner.DefaultMaxAttempts, "calls per object at most")
	fs.DurationVar(&o.timeout, "timeout", runner.DefaultTimeout, "per call")
	fs.StringVar(&o.maxFailures, "max-failures", runner.DefaultMaxFailures, "abort when more objects failed (a percentage is judged after 100)")
	fs.StringVar(&o.reportPath, "report", report.DefaultPath, "the report")
	fs.BoolVar(&o.fresh, "fresh", false, "set an existing report aside and start over")
	fs.BoolVar(&o.dryRun, "dry-run", false, "read and check the whole source, trigger nothing")
	fs.StringVar(&o.progress, "progress", defaultProgress, "auto, bar, log or none")
	fs.StringVar(&o.logFormat, "log-format", defaultLogFormat, "text or json")
	fs.StringVar(&o.metricsFile, "metrics-file", "", "write Prometheus textfile metrics there")
	fs.StringVar(&o.list, "list", "", "with --dry-run: also write the objects the run would trigger\n(after filters, resume and --limit) to FILE, a JSONL manifest\nto review, diff, and then run with --manifest FILE")
	fs.BoolVar(&o.serverSide, "server-side", false, "submit one CI inventory trigger job for the --prefix (--modified-after\nis its time window) or the --manifest cos://…/manifest.json inventory,\nwait for it and build the report from its executions; objects it did\nnot trigger are failed NotInJob (a run without --server-side triggers\nthem). Refuses --suffix, --shard, --limit. A rerun reattaches.")
	fs.DurationVar(&o.pollInterval, "poll-interval", serverside.DefaultPollInterval, "how often the job is looked at")
	fs.BoolVar(&o.wait, "wait", false, "when the triggers are done, look up every instance's execution\nuntil all have ended (as wftrigger status --wait) and exit by the\nfinal states: 0 when all ended Success, 1 when some ended Failed or\nCancel or could not be looked up (or objects failed), 3 when stopped")
	fs.DurationVar(&o.waitInterval, "wait-interval", runner.DefaultStatusInterval, "with --wait: pause between look-up passes")
	fs.BoolVar(&o.retryFailedExecutions, "retry-failed-executions", false, "also trigger again the objects whose recorded execution state\nis Failed (wftrigger status records it): a new, paid instance each;\nthe earlier instance id is kept in the entry's history")
	fs.DurationVar(&o.maxDuration, "max-duration", 0, "stop dispatching D after the start (calls in flight finish), write\nthe report and exit as if the source had ended there (0 when nothing\nfailed): a nightly window; the same command goes on where it stopped.\nWith --server-side the job goes on server-side (exit 3)")
	fs.StringVar(&o.credentials, "credentials", tencent.SourceAuto, "auto, env, profile, oidc or cvm-role (auto: the first\nconfigured, in that order)")
	return fs
}

func parseRunFlags(args []string, stdout, stderr io.Writer) (runOptions, error) {
	var o runOptions
	fs := runFlags(&o)
	if err := parseFlags(fs, args, stdout, stderr, runHead, runSections(), ""); err != nil {
		// Flags that did not parse are not options: no metrics file is
		// written for them.
		return runOptions{}, err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "manifest":
			o.manifestSet = true
		case "prefix":
			o.prefixSet = true
		}
	})
	return o, o.check(fs.Args())
}

var (
	bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*-[0-9]+$`)
	regionPattern = regexp.MustCompile(`^[a-z]+(-[a-z0-9]+)+$`)
)

// check rejects bad and conflicting flags before any work.
func (o *runOptions) check(rest []string) error {
	const example = "wftrigger run --bucket media-1250000000 --region ap-guangzhou --workflow w0123… --manifest objects.csv"
	switch {
	case len(rest) > 0:
		return usageError("every input is a flag: "+example, "unexpected argument %q", rest[0])
	case o.manifestSet == o.prefixSet:
		return usageError(example+"  (or --prefix videos/ instead of --manifest)", "give exactly one source: --manifest PATH or --prefix PREFIX")
	case o.manifestSet && o.manifest == "":
		return usageError(example, "--manifest needs a path (- for standard input)")
	case o.bucket == "":
		return usageError(example, "--bucket is required")
	case !bucketPattern.MatchString(o.bucket):
		return usageError("the bucket name includes the APPID: --bucket media-1250000000", "--bucket %q is not NAME-APPID", o.bucket)
	case o.region == "" && (o.ciEndpoint == "" || o.cosEndpoint == ""):
		return usageError(example, "--region is required (or both --ci-endpoint and --cos-endpoint)")
	case o.region != "" && !regionPattern.MatchString(o.region):
		return usageError("--region ap-guangzhou", "--region %q is not a COS region", o.region)
	case o.prefixSet && o.workflow == "":
		return usageError("wftrigger run --prefix "+shellQuote(o.prefix)+" --workflow w0123… …", "--workflow is required with --prefix")
	case o.concurrency < 1 || o.concurrency > 1024:
		return usageError("--concurrency 16", "--concurrency %d: want 1 to 1024", o.concurrency)
	case o.qps < 0:
		return usageError("--qps 50 (0 for no ceiling)", "--qps %g: want a rate ≥ 0", o.qps)
	case o.maxAttempts < 1:
		return usageError("--max-attempts 5", "--max-attempts %d: want at least 1", o.maxAttempts)
	case o.timeout <= 0:
		return usageError("--timeout 30s", "--timeout %v: want a positive duration", o.timeout)
	case o.maxDuration < 0:
		return usageError("--max-duration 6h (0 for no window)", "--max-duration %v: want a duration ≥ 0", o.maxDuration)
	}
	switch o.progress {
	case "auto", "bar", "log", "none":
	default:
		return usageError("--progress auto|bar|log|none", "--progress %q is not a mode", o.progress)
	}
	switch o.logFormat {
	case "text", "json":
	default:
		return usageError("--log-format text|json", "--log-format %q is not a format", o.logFormat)
	}
	if err := checkCredentialsFlag(o.credentials); err != nil {
		return err
	}
	var err error
	if o.threshold, err = runner.ParseThreshold(o.maxFailures); err != nil {
		return usageError("--max-failures 100 or --max-failures 5%", "%v", err)
	}
	if o.shard != "" {
		if o.filters.Shard, err = manifest.ParseShard(o.shard); err != nil {
			return usageError("--shard 0/4 … --shard 3/4 splits the source in four", "--shard: %v", err)
		}
	}
	o.filters.Suffixes = textlist.Split(o.suffix)
	if o.modifiedAfter != "" {
		if o.manifestSet && o.manifestFormat() != manifest.FormatInventory {
			return usageError("--modified-after works with --prefix and COS inventory manifests, whose rows carry a date", "--modified-after needs a source that knows modification times")
		}
		if o.filters.ModifiedAfter, err = parseTime(o.modifiedAfter); err != nil {
			return usageError("--modified-after 2026-01-31 or --modified-after 2026-01-31T12:00:00+08:00", "--modified-after %q: not RFC 3339 nor YYYY-MM-DD", o.modifiedAfter)
		}
	}
	if o.limit < 0 {
		return usageError("--limit 1000", "--limit %d: want a count ≥ 0", o.limit)
	}
	switch {
	case o.wait && o.dryRun:
		return usageError("wftrigger run … --dry-run, then wftrigger run … --wait", "--wait goes with a run that triggers: a dry run starts no execution")
	case o.waitInterval <= 0:
		return usageError("--wait-interval 30s", "--wait-interval %v: want a positive duration", o.waitInterval)
	case o.retryFailedExecutions && o.serverSide:
		return usageError("wftrigger run … --retry-failed-executions (without --server-side)", "--retry-failed-executions triggers chosen objects one by one: a server-side job cannot")
	}
	if o.list != "" && (!o.dryRun || o.list == "-") {
		return usageError("wftrigger run … --dry-run --list plan.jsonl, then wftrigger run … --manifest plan.jsonl", "--list FILE goes with --dry-run and names a file")
	}
	// Only CSV and JSONL rows can name their own workflow (a file of no
	// known format is refused by manifest.Open, which says why).
	if f := o.manifestFormat(); o.workflow == "" && o.manifestSet && f != "" && !manifest.NamesWorkflow(f) {
		return usageError(example, "--workflow is required: rows of %s cannot name their own", o.manifest)
	}
	return o.checkServerSide()
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

// manifestFormat is the format of the manifest, "" when neither --format
// nor its name tells (manifest.Open then says so).
func (o *runOptions) manifestFormat() string {
	f, err := manifest.FormatOf(o.manifest, o.format)
	if err != nil {
		return ""
	}
	return f
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runGCPercent and runMemoryLimit are the garbage collector's GOGC and
// GOMEMLIMIT during a run, unless either is set in the environment. A
// run's live heap stays near 2 MB whatever the size of its source (the
// resume index is off the Go heap), so at the default GOGC of 100 the heap
// goal is the runtime's 4 MB floor and, at 20,000 triggers a second (6 KB
// allocated by net/http and the client each), the collector ran about 70
// times a second: 5 µs of a trigger's ~50 µs of CPU. At 400 the goal is
// 16 MB, and the collector's part is 1 µs (scripts/bench.sh). The soft
// limit keeps phases with a larger live heap (the final rewrite, the read
// of a large report) from growing to five times it: peak RSS of a
// 1,000,000-row run 57 MB, against 45 MB at the defaults and 98 MB at 400
// without a limit (scripts/scale.sh).
const (
	runGCPercent   = 400
	runMemoryLimit = 40 << 20
)

// tuneGCForRun sets the process's collector for `wftrigger run`
// (runGCPercent, runMemoryLimit) unless getenv has GOGC or GOMEMLIMIT, and
// returns what puts the earlier settings back. run calls it around the
// command, not runCommand itself: the demo's runs share their process, and
// its heap, with an emulator, and its getenv is the emulator's alone.
func tuneGCForRun(getenv func(string) string) (restore func()) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gcPercent := debug.SetGCPercent(runGCPercent)
	memoryLimit := debug.SetMemoryLimit(runMemoryLimit)
	return func() {
		debug.SetMemoryLimit(memoryLimit)
		debug.SetGCPercent(gcPercent)
	}
}

func runCommand(ctx context.Context, args []string, env environment) (err error) {
	started := time.Now()
	o, err := parseRunFlags(args, env.stdout, env.stderr)
	runID := newRunID()
	logger := newLogger(env.stderr, o.logFormat).With("run", runID)
	// Once the flags parsed, the metrics file is written whatever the exit
	// status (2 and 4 included), here, with the status the run returns.
	m, metricsErr := newRunMetrics(o, started, logger)
	defer func() {
		m.finish(exitCodeOf(err))
		if o.logFormat == "json" {
			err = logExit(logger, err)
		}
	}()
	if err != nil {
		return err
	}
	if err := checkOutputFolders(o); err != nil {
		return err
	}
	if metricsErr != nil {
		return metricsErr
	}
	var deadline time.Time // the end of the --max-duration window
	if o.maxDuration > 0 {
		deadline = started.Add(o.maxDuration)
	}
	creds := tencent.StaticSource(tencent.Credentials{}) // a dry run of a local manifest calls nothing
	credsUsed := "none (a dry run of a local manifest calls nothing)"
	if needCreds := !o.dryRun || o.prefixSet || strings.HasPrefix(o.manifest, "cos://"); needCreds {
		refresher, err := openCredentials(ctx, o.credentials, env, logger)
		if err != nil {
			return err
		}
		creds, credsUsed = refresher, refresher.Describe()
	}

	ciEndpoint, cosEndpoint := or(o.ciEndpoint, tencent.CIEndpoint(o.bucket, o.region)), or(o.cosEndpoint, tencent.COSEndpoint(o.bucket, o.region))
	client, err := tencent.NewClient(tencent.Config{
		CIEndpoint:  ciEndpoint,
		COSEndpoint: cosEndpoint,
		Source:      creds,
		UserAgent:   userAgent(),
	})
	if err != nil {
		return usageError("--ci-endpoint https://media-1250000000.ci.ap-guangzhou.myqcloud.com", "%v", err)
	}
	policy := runner.DefaultPolicy()
	policy.MaxAttempts, policy.Timeout = o.maxAttempts, o.timeout

	src, err := openSource(ctx, o, env, client, creds, policy)
	if err != nil {
		return &exitError{code: exitUsage, err: err, hint: manifestHint(err, o.manifest)}
	}
	defer src.Close()

	meta := report.Meta{Version: 1, Bucket: o.bucket, Region: o.region, WorkflowID: o.workflow, Source: manifest.Name(src),
		CIEndpoint: o.ciEndpoint, COSEndpoint: o.cosEndpoint, StartedAt: started.UTC()}
	logStart(logger, o, meta.Source, ciEndpoint, cosEndpoint, credsUsed)
	// The run's config; --wait's passes use its pace, retries and logger.
	cfg := runner.Config{
		Bucket:      o.bucket,
		Workflow:    o.workflow,
		Concurrency: o.concurrency,
		QPS:         o.qps,
		Adaptive:    o.adaptive,
		Policy:      policy,
		MaxFailures: o.threshold,
		Limit:       o.limit,
		Deadline:    deadline,
		Redact:      creds.Redact,
		Logger:      logger,
	}
	if o.serverSide {
		err := runServerSide(ctx, o, env, client, src, meta, serverSideRun{logger: logger, runID: runID, metrics: m, deadline: deadline, started: started})
		if code := exitCodeOf(err); o.dryRun || code != exitOK && code != exitFailures {
			return err
		}
		err = worseExit(err, waitAfterRun(ctx, o, cfg, service{client}, env, logger))
		m.recordExecutions(o)
		return err
	}
	if o.dryRun {
		return dryRun(ctx, o, src, meta, env)
	}

	rep, err := openRunReport(o, meta, logger)
	if err != nil {
		return err
	}
	if done, retry, uncertain := rep.Loaded(); done+retry+uncertain > 0 {
		logger.Info("resuming", "report", o.reportPath, "succeeded", done, "toRetry", retry, "toLookUp", uncertain)
	}
	logRetryFailedExecutions(o, rep, logger)

	var c runner.Counters
	m.start(ctx, clientSideNumbers(&c, o.qps))
	stopProgress := startProgress(ctx, progressConfig{mode: o.progress, total: progressTotal(o), out: env.stderr, logger: logger, counters: &c, qps: o.qps})
	stopCompaction := rep.RewriteEvery(ctx, report.DefaultRewriteInterval, logger)
	runErr := runner.Run(ctx, cfg, src, service{client}, rep, &c)
	stopCompaction()
	elapsed := stopProgress()
	complete := runErr == nil && c.Exhausted.Load()
	m.setComplete(complete)
	if err := rep.Close(time.Now().UTC(), complete); err != nil {
		return &exitError{code: exitAborted, err: fmt.Errorf("write report: %w", err)}
	}
	windowEnded := !deadline.IsZero() && !time.Now().Before(deadline)
	switch {
	case runErr != nil || complete:
		if c.Read.Load() == 0 && runErr == nil {
			logger.Warn("the source has no objects: nothing to trigger", "source", meta.Source)
		}
	case windowEnded:
		logger.Info("the --max-duration window ended: the rest of the source was not read; the same command goes on from here",
			"maxDuration", o.maxDuration.String(), "read", c.Read.Load())
	default:
		logger.Info("--limit reached: the rest of the source was not read; the same command goes on from here", "limit", o.limit)
	}
	var triggerErr error
	switch {
	case runErr != nil && errors.Is(runErr, context.Canceled):
		triggerErr = &exitError{code: exitAborted, err: context.Canceled}
	case runErr != nil:
		triggerErr = &exitError{code: exitAborted, err: runErr, hint: "fix the cause, then rerun the same command: it resumes from " + o.reportPath +
			" (if the fix is another --workflow or --bucket, add --fresh: the report belongs to this one)"}
	case c.Failed.Load() > 0 || c.Invalid.Load() > 0:
		triggerErr = failuresError(c.Failed.Load(), c.Invalid.Load(), o.reportPath)
	}
	printRunSummary(env.stdout, o, runID, rep.Summary(), &c, complete, exitCodeOf(triggerErr), elapsed)
	if runErr != nil {
		return triggerErr
	}
	waitErr := waitAfterRun(ctx, o, cfg, service{client}, env, logger)
	m.recordExecutions(o)
	return worseExit(triggerErr, waitErr)
}

// failuresError is exit 1's message: what failed, and what to do about it.
func failuresError(failed, invalid int64, path string) error {
	var what, hint []string
	if failed > 0 {
		what = append(what, fmt.Sprintf("%d %s failed", failed, plural(failed, "object", "objects")))
		hint = append(hint, "rerun the same command to retry the failed ones")
	}
	if invalid > 0 {
		what = append(what, fmt.Sprintf("%d %s invalid", invalid, plural(invalid, "row was", "rows were")))
		hint = append(hint, "fix the invalid rows of the source")
	}
	return &exitError{code: exitFailures, err: fmt.Errorf("%s in this run; see %s", strings.Join(what, " and "), path),
		hint: strings.Join(hint, "; ") + "; jq -c '.objects[] | select(.status != \"succeeded\")' " + path}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// openRunReport opens (locks and loads) the report of a run, says what it
// set aside or recovered, and makes sure the file exists from the start
// (empty until the first rewrite): jq and `wftrigger status` find it even
// before the run ends.
func openRunReport(o runOptions, meta report.Meta, logger *slog.Logger) (*report.Report, error) {
	rep, err := report.Open(report.Options{Path: o.reportPath, Meta: meta, Fresh: o.fresh, RetryFailedExecutions: o.retryFailedExecutions})
	if err != nil {
		return nil, reportOpenError(err, o)
	}
	for _, p := range rep.SetAside() {
		logger.Info("set the earlier report aside", "path", p)
	}
	for _, w := range rep.Warnings() {
		logger.Warn(w, "report", rep.Path())
	}
	if _, err := os.Stat(o.reportPath); errors.Is(err, os.ErrNotExist) {
		if err := rep.Compact(); err != nil {
			rep.Close(time.Now().UTC(), false)
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("write report: %w", err)}
		}
	}
	return rep, nil
}

func reportOpenError(err error, o runOptions) error {
	var locked *report.LockedError
	if errors.As(err, &locked) {
		return &exitError{code: exitLocked, err: err, hint: "another wftrigger run is working on this report; wait for it, or use another --report"}
	}
	var mismatch *report.MismatchError
	if errors.As(err, &mismatch) {
		return &exitError{code: exitUsage, err: err, hint: "use --fresh to set the old report aside, or --report " + shellQuote(filepath.Base(o.reportPath)+".new")}
	}
	var corrupt *report.CorruptError
	if errors.As(err, &corrupt) {
		where := corrupt.Path
		if corrupt.Line > 0 {
			where = fmt.Sprintf("%s line %d", corrupt.Path, corrupt.Line)
		}
		hint := "nothing was triggered: " + where + " cannot be trusted, and a fresh start could trigger objects a second time; restore it from a backup if you have one, "
		if strings.HasSuffix(corrupt.Path, ".journal") {
			hint += "remove it if the run that wrote it triggered nothing (the report keeps what was rewritten before), "
		}
		hint += "or add --fresh to set the report and its journal aside and start a new report (objects that the old one counted as triggered are then triggered again)"
		return &exitError{code: exitUsage, err: err, hint: hint}
	}
	return &exitError{code: exitUsage, err: err}
}

// openSource opens the manifest or the listing, with the filters on top.
func openSource(ctx context.Context, o runOptions, env environment, client *tencent.Client, creds tencent.CredentialSource, policy runner.Policy) (*manifest.Filtered, error) {
	var (
		src manifest.Source
		err error
	)
	if o.prefixSet {
		src = manifest.NewListing(ctx, client, o.prefix, manifest.ListingOptions{Retry: retryFailures(policy)})
	} else {
		getter := manifest.Getter(client)
		if bucket, _, ok := manifest.ParseCOSURL(o.manifest); ok && bucket != o.bucket && o.cosEndpoint == "" {
			// An inventory is often delivered to another bucket of the
			// same account and region.
			if getter, err = tencent.NewClient(tencent.Config{COSEndpoint: tencent.COSEndpoint(bucket, o.region), Source: creds, UserAgent: userAgent()}); err != nil {
				return nil, err
			}
		}
		src, err = manifest.Open(ctx, o.manifest, manifest.Options{Format: o.format, Stdin: env.stdin, Getter: getter})
		if err != nil {
			return nil, err
		}
	}
	return manifest.Filter(src, o.filters), nil
}

// manifestHint is the hint for a manifest that manifest.Open refused: for a
// report (or its journal), the command that makes a manifest of it.
func manifestHint(err error, path string) string {
	if !errors.Is(err, manifest.ErrReport) {
		return ""
	}
	if errors.Is(err, manifest.ErrJournal) {
		path = strings.TrimSuffix(path, ".journal")
	}
	return "read as a manifest, a report would trigger again what succeeded; make a manifest of the entries to run again: wftrigger report --report " +
		quoteArgs([]string{path})[0] + " --status failed > failed.jsonl"
}

// dryRun reads the whole source and prints what a run would do.
func dryRun(ctx context.Context, o runOptions, src *manifest.Filtered, meta report.Meta, env environment) error {
	rep, err := report.Open(report.Options{Path: o.reportPath, Meta: meta, ReadOnly: true, Fresh: o.fresh, RetryFailedExecutions: o.retryFailedExecutions})
	if err != nil {
		return reportOpenError(err, o)
	}
	defer rep.Close(time.Time{}, false)
	cfg := runner.Config{Bucket: o.bucket, Workflow: o.workflow, Limit: o.limit}
	var list *planList
	if o.list != "" {
		if list, err = createPlanList(o.list); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		defer list.abort()
		cfg.Planned = list.add
	}
	s, err := runner.Plan(ctx, cfg, src, rep)
	if err == nil && list != nil {
		err = list.commit()
	}
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", meta.Source, err)}
	}
	w := env.stdout
	fmt.Fprintf(w, "dry run of %s: nothing was triggered\n", meta.Source)
	fmt.Fprintf(w, "  rows read:          %d\n", s.Rows+src.FilteredOut())
	fmt.Fprintf(w, "  would trigger:      %d", s.WouldTrigger)
	if s.Uncertain > 0 {
		fmt.Fprintf(w, " (%d looked up in the execution list first)", s.Uncertain)
	}
	fmt.Fprintln(w)
	if o.retryFailedExecutions {
		fmt.Fprintf(w, "  failed executions:  %d (in %s: triggered again, --retry-failed-executions)\n", rep.FailedExecutions(), o.reportPath)
	}
	if o.fresh {
		fmt.Fprintf(w, "  already succeeded:  0 (--fresh sets %s aside)\n", o.reportPath)
	} else {
		fmt.Fprintf(w, "  already succeeded:  %d (in %s)\n", s.Done, o.reportPath)
	}
	fmt.Fprintf(w, "  invalid:            %d\n", s.Invalid)
	fmt.Fprintf(w, "  duplicates:         %d\n", s.Duplicates)
	fmt.Fprintf(w, "  filtered out:       %d\n", src.FilteredOut())
	if s.BeyondLimit > 0 {
		fmt.Fprintf(w, "  beyond --limit %d:  %d (left for the next runs)\n", o.limit, s.BeyondLimit)
	}
	if o.qps > 0 && s.WouldTrigger > 0 {
		d := time.Duration(float64(s.WouldTrigger) / o.qps * float64(time.Second))
		eta := "under 1s"
		if d >= time.Second {
			eta = "at least " + d.Round(time.Second).String()
		}
		fmt.Fprintf(w, "  time at --qps %g:  %s\n", o.qps, eta)
	}
	if list != nil {
		fmt.Fprintf(w, "  listed in %s: %d (a JSONL manifest: review it, then run with --manifest %s)\n", o.list, list.n, quoteArgs([]string{o.list})[0])
	}
	if len(s.First) > 0 {
		fmt.Fprintf(w, "first %d keys:\n", len(s.First))
		for _, k := range s.First {
			fmt.Fprintf(w, "  %s\n", k)
		}
	}
	return nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// progressTotal is the progress output's total: the rows of a plain local
// manifest, 0 when unknown or when filters make it meaningless.
func progressTotal(o runOptions) int64 {
	if o.progress == "none" || !o.manifestSet || o.limit > 0 || o.shard != "" || o.suffix != "" {
		return 0
	}
	return manifest.EstimateRows(o.manifest, o.format)
}
