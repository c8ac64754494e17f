package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

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
`

func statusCommand(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {}
	var (
		path, region, endpoint string
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
	if err := fs.Parse(args); err != nil {
		return flagError(err, env.stdout, env.stderr, "status", statusUsage)
	}
	switch {
	case fs.NArg() > 0:
		return usageError("wftrigger status --report wftrigger-report.json", "unexpected argument %q", fs.Arg(0))
	case concurrency < 1 || qps <= 0 || interval <= 0:
		return usageError("--concurrency 16 --qps 50 --interval 30s", "--concurrency, --qps and --interval must be positive")
	}
	h, err := report.ReadHeader(path)
	meta := h.Meta
	if err != nil {
		return &exitError{code: exitUsage, err: err, hint: "give the --report of an earlier 'wftrigger run'"}
	}
	creds, err := tencent.CredentialsFromEnv(env.getenv)
	if err != nil {
		return usageError("export TENCENTCLOUD_SECRET_ID=… TENCENTCLOUD_SECRET_KEY=… (a sub-account with ci:DescribeMediaWorkflowExecution)", "%v", err)
	}
	region = or(region, meta.Region)
	if endpoint == "" && region == "" {
		return usageError("--region ap-guangzhou", "the report names no region: give --region or --ci-endpoint")
	}
	client, err := tencent.NewClient(tencent.Config{
		CIEndpoint:  or(endpoint, tencent.CIEndpoint(meta.Bucket, region)),
		COSEndpoint: tencent.COSEndpoint(meta.Bucket, or(region, "ap-guangzhou")),
		Credentials: creds,
		UserAgent:   "wftrigger/" + version(),
	})
	if err != nil {
		return usageError("--ci-endpoint https://media-1250000000.ci.ap-guangzhou.myqcloud.com", "%v", err)
	}
	cfg := runner.Config{Concurrency: concurrency, QPS: qps, Policy: runner.DefaultPolicy()}
	for {
		t, err := runner.Status(ctx, cfg, path, service{client})
		if err != nil {
			var locked *report.LockedError
			if errors.As(err, &locked) {
				return &exitError{code: exitLocked, err: err, hint: "a run is writing this report; run status when it has finished"}
			}
			return err
		}
		fmt.Fprintf(env.stdout, "%s: %d instances: %d Success, %d Failed, %d Cancel, %d running, %d not found or not looked up\n",
			path, t.Total(), t.Success, t.Failed, t.Cancel, t.Running, t.Unknown)
		if !wait || t.Running == 0 {
			if t.Failed+t.Cancel+t.Running+t.Unknown > 0 {
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
