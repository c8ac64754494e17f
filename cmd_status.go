package main

import (
	"context"
	"flag"
	"time"

	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/runner"
	"github.com/wftrigger/wftrigger/tencent"
)

// statusHead is the start of `wftrigger status -h`; the flags follow, from
// the FlagSet (statusFlags).
const statusHead = `Usage: wftrigger status --report PATH [flags]

Looks up the execution state of every instance a run triggered (Running,
Success, Failed, Cancel) and records it in the report as "execution"; a
look-up that fails is recorded with its reason as "execution.error". The
look-ups go to the endpoint the run used (recorded in the report) unless
--ci-endpoint says otherwise. With --wait it repeats, --interval apart,
until no instance is running. Exit status 0 when every instance ended
Success; 1 when some ended Failed or Cancel, could not be looked up, or
(without --wait) still run; 3 when stopped; 4 when a run holds the report.

Examples:
  wftrigger status --report wftrigger-report.json
  wftrigger status --report wftrigger-report.json --wait --interval 1m
  jq '.objects[] | select(.execution.state == "Failed")' wftrigger-report.json
  # the look-ups that failed, and why
  jq -c '.objects[] | select(.execution.error) | {key, error: .execution.error}' wftrigger-report.json
`

// statusSections lays out the flags of `wftrigger status` in its help.
func statusSections() []helpSection {
	return []helpSection{
		{"Flags", []string{"report PATH", "wait", "interval D", "concurrency N", "qps R", "region REGION", "ci-endpoint URL", "credentials SOURCE", "metrics-file PATH"}},
	}
}

// statusOptions are the flags of `wftrigger status`.
type statusOptions struct {
	path, region, endpoint string
	wait                   bool
	interval               time.Duration
	concurrency            int
	qps                    float64
	credentials            string
	metricsFile            string // --metrics-file: see writeStatusMetrics
}

// statusFlags defines the flags of `wftrigger status` into o.
func statusFlags(o *statusOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.StringVar(&o.path, "report", report.DefaultPath, "the report of a run")
	fs.BoolVar(&o.wait, "wait", false, "repeat until no instance is running (as run --wait does)")
	fs.DurationVar(&o.interval, "interval", runner.DefaultStatusInterval, "pause between passes with --wait")
	fs.IntVar(&o.concurrency, "concurrency", runner.DefaultConcurrency, "look-ups in flight")
	fs.Float64Var(&o.qps, "qps", runner.DefaultQPS, "ceiling on look-ups a second")
	fs.StringVar(&o.region, "region", "", "by default the report's region")
	fs.StringVar(&o.endpoint, "ci-endpoint", "", "by default the report's, else https://BUCKET.ci.REGION.myqcloud.com")
	fs.StringVar(&o.credentials, "credentials", tencent.SourceAuto, "auto, env, profile, oidc or cvm-role")
	fs.StringVar(&o.metricsFile, "metrics-file", "", "the run's metrics file: record wftrigger_executions{state} there")
	return fs
}

func statusCommand(ctx context.Context, args []string, env environment) (err error) {
	var o statusOptions
	fs := statusFlags(&o)
	if err := parseFlags(fs, args, env.stdout, env.stderr, statusHead, statusSections(), "wftrigger status --report wftrigger-report.json"); err != nil {
		return err
	}
	if o.metricsFile != "" {
		if err := checkStatusMetrics(o.metricsFile); err != nil {
			return err
		}
		defer func() { writeStatusMetrics(o.metricsFile, o.path, exitCodeOf(err), env.stderr) }()
	}
	if o.concurrency < 1 || o.qps <= 0 || o.interval <= 0 {
		return usageError("--concurrency 16 --qps 50 --interval 30s", "--concurrency, --qps and --interval must be positive")
	}
	if err := checkCredentialsFlag(o.credentials); err != nil {
		return err
	}
	h, err := report.ReadHeader(o.path)
	meta := h.Meta
	if err != nil {
		return &exitError{code: exitUsage, err: err, hint: "give the --report of an earlier 'wftrigger run'"}
	}
	logger := newLogger(env.stderr, "text")
	client, creds, err := reportClient(ctx, meta, o.region, o.endpoint, o.credentials, env, logger)
	if err != nil {
		return err
	}
	cfg := runner.Config{Concurrency: o.concurrency, QPS: o.qps, Policy: runner.DefaultPolicy(), Redact: creds.Redact}
	return lookUpExecutions(ctx, cfg, o.path, service{client}, o.wait, o.interval, env, logger)
}
