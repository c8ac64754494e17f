package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
)

// The emulator's default credentials and names: not secrets, they open
// nothing but a local emulator.
const (
	emulatorSecretID  = "AKIDwftriggerEMULATOR0000000000000000"
	emulatorSecretKey = "wftriggerEmulatorSecretKey000000"
	emulatorBucket    = "demo-1250000000"
	emulatorWorkflow  = "w0123456789abcdef0123456789abcdef"
)

const emulatorUsage = `Usage: wftrigger emulator [flags]

Serves a local Tencent CI + COS emulator on one address: TriggerWorkflow,
DescribeWorkflowExecution(s), inventory trigger jobs, GET Bucket and GET Object, each checking the
request's COS signature, with optional fault injection. For trying wftrigger
without an account, and for tests.

Examples:
  wftrigger emulator --listen 127.0.0.1:9000 --objects 10000
  wftrigger emulator --error-rate 0.05 --slowdown-rate 0.05 --reset-rate 0.02 --qps 500

Flags:
  --listen ADDR          address to serve (default 127.0.0.1:9000; :0 picks a port)
  --secret-id ID         the accepted SecretId (default ` + emulatorSecretID + `)
  --secret-key KEY       the accepted SecretKey (default ` + emulatorSecretKey + `)
  --session-token T      require this x-cos-security-token
  --bucket NAME-APPID    the bucket it pretends to be (default ` + emulatorBucket + `)
  --workflow LIST        known workflow ids, comma-separated (default ` + emulatorWorkflow + `)
  --deny-prefix LIST     keys under these prefixes get 403 AccessDenied
  --objects N            store N generated sample objects for listing (default 0)
  --objects-file PATH    store the objects listed in PATH: one key a line, optionally
                         followed by a tab and its RFC 3339 modification time
  --error-rate F         fraction of triggers answered 500 InternalError
  --slowdown-rate F      fraction of triggers answered 503 SlowDown
  --reset-rate F         fraction of triggers whose connection is reset
  --qps R                throttle triggers above R a second with 503 SlowDown
  --latency D            added to every trigger answer
  --list-error-rate F    fraction of listing and GET Object requests answered 500
  --execution-delay D    how long an instance stays Running (default 2s)
  --job-rate R           objects an inventory trigger job processes a second (default 100)
  --job-skip-every N     a job leaves every N-th object without an execution (NotInJob)
  --job-fail-after N     a job ends Failed after N objects
  --cvm-role NAME        serve a CVM metadata service for role NAME (temporary credentials,
                         accepted until they expire, then 400 ExpiredToken)
  --sts-role-arn ARN     serve STS AssumeRoleWithWebIdentity for role ARN
  --credential-life D    life of the temporary credentials handed out (default 1h)
`

func emulatorCommand(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {}
	var (
		cfg       emulator.Config
		listen    string
		workflows string
		deny      string
		objects   int
		objFile   string
		jobs      emulator.JobOptions
	)
	fs.StringVar(&listen, "listen", "127.0.0.1:9000", "")
	fs.StringVar(&cfg.SecretID, "secret-id", emulatorSecretID, "")
	fs.StringVar(&cfg.SecretKey, "secret-key", emulatorSecretKey, "")
	fs.StringVar(&cfg.SessionToken, "session-token", "", "")
	fs.StringVar(&cfg.Bucket, "bucket", emulatorBucket, "")
	fs.StringVar(&workflows, "workflow", emulatorWorkflow, "")
	fs.StringVar(&deny, "deny-prefix", "", "")
	fs.IntVar(&objects, "objects", 0, "")
	fs.StringVar(&objFile, "objects-file", "", "")
	fs.Float64Var(&cfg.Trigger.ErrorRate, "error-rate", 0, "")
	fs.Float64Var(&cfg.Trigger.SlowDownRate, "slowdown-rate", 0, "")
	fs.Float64Var(&cfg.Trigger.ResetRate, "reset-rate", 0, "")
	fs.Float64Var(&cfg.Trigger.QPS, "qps", 0, "")
	fs.DurationVar(&cfg.Trigger.Latency, "latency", 0, "")
	fs.Float64Var(&cfg.List.ErrorRate, "list-error-rate", 0, "")
	fs.DurationVar(&cfg.ExecutionDelay, "execution-delay", 2*time.Second, "")
	fs.Float64Var(&jobs.Rate, "job-rate", 100, "")
	fs.IntVar(&jobs.SkipEvery, "job-skip-every", 0, "")
	fs.IntVar(&jobs.FailAfter, "job-fail-after", 0, "")
	fs.StringVar(&cfg.Issuer.Role, "cvm-role", "", "")
	fs.StringVar(&cfg.Issuer.RoleARN, "sts-role-arn", "", "")
	fs.DurationVar(&cfg.Issuer.Life, "credential-life", time.Hour, "")
	if err := fs.Parse(args); err != nil {
		return flagError(err, env.stdout, env.stderr, "emulator", emulatorUsage)
	}
	if fs.NArg() > 0 {
		return usageError("wftrigger emulator --listen 127.0.0.1:9000", "unexpected argument %q", fs.Arg(0))
	}
	cfg.Workflows = splitList(workflows)
	cfg.DenyPrefixes = splitList(deny)
	for _, r := range []float64{cfg.Trigger.ErrorRate, cfg.Trigger.SlowDownRate, cfg.Trigger.ResetRate, cfg.List.ErrorRate} {
		if r < 0 || r > 1 {
			return usageError("--error-rate 0.05", "fault rates are fractions from 0 to 1, not %g", r)
		}
	}
	cfg.Seed = time.Now().UnixNano()
	srv := emulator.New(cfg)
	srv.SetJobOptions(jobs)
	if objects > 0 {
		srv.PutSample(emulator.SampleKeys(objects, cfg.Seed), time.Now().Add(-365*24*time.Hour))
	}
	if objFile != "" {
		n, err := loadObjects(srv, objFile)
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		fmt.Fprintf(env.stdout, "wftrigger emulator: %d objects from %s\n", n, objFile)
	}
	url, err := srv.Start(listen)
	if err != nil {
		return usageError("--listen 127.0.0.1:0 picks a free port", "listen %s: %w", listen, err)
	}
	defer srv.Close()
	fmt.Fprintf(env.stdout, "wftrigger emulator: CI + COS for bucket %s on %s (workflows %s)\n", cfg.Bucket, url, strings.Join(cfg.Workflows, ","))
	if cfg.SecretID == emulatorSecretID && cfg.SecretKey == emulatorSecretKey {
		fmt.Fprintf(env.stdout, "\n  export TENCENTCLOUD_SECRET_ID=%s TENCENTCLOUD_SECRET_KEY=%s\n", emulatorSecretID, emulatorSecretKey)
	}
	if cfg.Issuer.Role != "" {
		fmt.Fprintf(env.stdout, "  export WFTRIGGER_METADATA_ENDPOINT=%s  # --credentials cvm-role: role %s, credentials living %s\n", url, cfg.Issuer.Role, cfg.Issuer.Life)
	}
	if cfg.Issuer.RoleARN != "" {
		fmt.Fprintf(env.stdout, "  export WFTRIGGER_STS_ENDPOINT=%s TKE_ROLE_ARN=%s TKE_REGION=ap-guangzhou TKE_PROVIDER_ID=… TKE_WEB_IDENTITY_TOKEN_FILE=…  # --credentials oidc\n", url, cfg.Issuer.RoleARN)
	}
	fmt.Fprintf(env.stdout, "  wftrigger run --bucket %s --ci-endpoint %s --cos-endpoint %s --workflow %s --prefix \"\"\n\nStop it with Ctrl-C.\n",
		cfg.Bucket, url, url, cfg.Workflows[0])
	<-ctx.Done()
	s := srv.Stats()
	fmt.Fprintf(env.stdout, "wftrigger emulator: %d requests, %d triggers accepted, %d rejected, %d faults injected\n", s.Requests, s.Accepted, s.Rejected, s.Faults)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// loadObjects stores the objects of a file in the emulator: one key a line,
// optionally a tab and the object's RFC 3339 modification time.
func loadObjects(srv *emulator.Server, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("objects file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n, now := 0, time.Now()
	for line := 1; sc.Scan(); line++ {
		key, date, hasDate := strings.Cut(strings.TrimSuffix(sc.Text(), "\r"), "\t")
		if key == "" {
			continue
		}
		at := now
		if hasDate {
			if at, err = time.Parse(time.RFC3339, date); err != nil {
				return n, fmt.Errorf("objects file %s line %d: modification time %q is not RFC 3339", path, line, date)
			}
		}
		srv.PutObject(key, nil, at)
		n++
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("objects file %s: %w", path, err)
	}
	return n, nil
}
