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
	"github.com/wftrigger/wftrigger/internal/textlist"
)

// The emulator's default credentials and names: not secrets, they open
// nothing but a local emulator.
const (
	emulatorSecretID  = "AKIDwftriggerEMULATOR0000000000000000"
	emulatorSecretKey = "wftriggerEmulatorSecretKey000000"
	emulatorBucket    = "demo-1250000000"
	emulatorWorkflow  = "w0123456789abcdef0123456789abcdef"
)

// emulatorHead is the start of `wftrigger emulator -h`; the flags follow,
// from the FlagSet (emulatorFlags).
const emulatorHead = `Usage: wftrigger emulator [flags]

Serves a local Tencent CI + COS emulator on one address: TriggerWorkflow,
DescribeWorkflowExecution(s), inventory trigger jobs, GET Bucket and GET Object, each checking the
request's COS signature, with optional fault injection. For trying wftrigger
without an account, and for tests.

Examples:
  wftrigger emulator --listen 127.0.0.1:9000 --objects 10000
  wftrigger emulator --error-rate 0.05 --slowdown-rate 0.05 --reset-rate 0.02 --qps 500
`

// emulatorSections lays out the flags of `wftrigger emulator` in its help.
func emulatorSections() []helpSection {
	return []helpSection{
		{"Flags", []string{"listen ADDR", "secret-id ID", "secret-key KEY", "session-token T", "bucket NAME-APPID",
			"workflow LIST", "deny-prefix LIST", "objects N", "objects-file PATH", "error-rate F", "slowdown-rate F",
			"reset-rate F", "qps R", "latency D", "list-error-rate F", "execution-delay D", "fail-prefix LIST", "auth-style S"}},
		{"A quota that moves", []string{"qps-schedule LIST", "quota-burst D", "outage AT+FOR", "quota-log PATH"}},
		{"Inventory trigger jobs", []string{"job-rate R", "job-skip-every N", "job-fail-after N"}},
		{"Temporary credentials", []string{"cvm-role NAME", "sts-role-arn ARN", "credential-life D"}},
	}
}

// emulatorOptions are the flags of `wftrigger emulator`.
type emulatorOptions struct {
	cfg       emulator.Config
	listen    string
	workflows string
	deny      string
	fail      string
	objects   int
	objFile   string
	authStyle string
	schedule  string // --qps-schedule
	outage    string
	quotaLog  string
	jobs      emulator.JobOptions
}

// emulatorFlags defines the flags of `wftrigger emulator` into o.
func emulatorFlags(o *emulatorOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", emulator.DefaultListen, "address to serve (:0 picks a port)")
	fs.StringVar(&o.cfg.SecretID, "secret-id", emulatorSecretID, "the accepted SecretId")
	fs.StringVar(&o.cfg.SecretKey, "secret-key", emulatorSecretKey, "the accepted SecretKey")
	fs.StringVar(&o.cfg.SessionToken, "session-token", "", "require this x-cos-security-token")
	fs.StringVar(&o.cfg.Bucket, "bucket", emulatorBucket, "the bucket it pretends to be")
	fs.StringVar(&o.workflows, "workflow", emulatorWorkflow, "known workflow ids, comma-separated")
	fs.StringVar(&o.deny, "deny-prefix", "", "keys under these prefixes get 403 AccessDenied")
	fs.IntVar(&o.objects, "objects", 0, "store N generated sample objects for listing")
	fs.StringVar(&o.objFile, "objects-file", "", "store the objects listed in PATH: one key a line, optionally\nfollowed by a tab and its RFC 3339 modification time")
	fs.Float64Var(&o.cfg.Trigger.ErrorRate, "error-rate", 0, "fraction of triggers answered 500 InternalError")
	fs.Float64Var(&o.cfg.Trigger.SlowDownRate, "slowdown-rate", 0, "fraction of triggers answered 503 SlowDown")
	fs.Float64Var(&o.cfg.Trigger.ResetRate, "reset-rate", 0, "fraction of triggers whose connection is reset")
	fs.Float64Var(&o.cfg.Trigger.QPS, "qps", 0, "throttle triggers above R a second with 503 SlowDown")
	fs.StringVar(&o.schedule, "qps-schedule", "", "a quota that moves: T:RATE steps from the first trigger,\nsuch as 0s:200,20s:100,40s:300 (503 SlowDown above it)")
	fs.DurationVar(&o.cfg.Quota.Burst, "quota-burst", 0, "make --qps-schedule a token bucket holding D of the rate\n(0: calls counted per second, none carried over)")
	fs.StringVar(&o.outage, "outage", "", "throttle every trigger for FOR from AT after the first, such as 10s+20s")
	fs.StringVar(&o.quotaLog, "quota-log", "", "at exit, write the quota's record: a line a second with\nthe quota, triggers it let through and triggers it throttled")
	fs.DurationVar(&o.cfg.Trigger.Latency, "latency", 0, "added to every trigger answer")
	fs.Float64Var(&o.cfg.List.ErrorRate, "list-error-rate", 0, "fraction of listing and GET Object requests answered 500")
	fs.DurationVar(&o.cfg.ExecutionDelay, "execution-delay", emulator.DefaultExecutionDelay, "how long an instance stays Running")
	fs.StringVar(&o.fail, "fail-prefix", "", "the first execution of a key under these prefixes ends Failed\n(a second trigger of the key ends Success)")
	fs.StringVar(&o.authStyle, "auth-style", "cos", "answer CI requests that fail authentication as cos (403\nInvalidAccessKeyId, SignatureDoesNotMatch) or ci (401 SecretidNotExist,\nInvalidAuthorization, MissingAuthorization, SignatureExpired)")
	fs.Float64Var(&o.jobs.Rate, "job-rate", 100, "objects an inventory trigger job processes a second")
	fs.IntVar(&o.jobs.SkipEvery, "job-skip-every", 0, "a job leaves every N-th object without an execution (NotInJob)")
	fs.IntVar(&o.jobs.FailAfter, "job-fail-after", 0, "a job ends Failed after N objects")
	fs.StringVar(&o.cfg.Issuer.Role, "cvm-role", "", "serve a CVM metadata service for role NAME (temporary credentials,\naccepted until they expire, then 400 ExpiredToken)")
	fs.StringVar(&o.cfg.Issuer.RoleARN, "sts-role-arn", "", "serve STS AssumeRoleWithWebIdentity for role ARN")
	fs.DurationVar(&o.cfg.Issuer.Life, "credential-life", time.Hour, "life of the temporary credentials handed out")
	return fs
}

func emulatorCommand(ctx context.Context, args []string, env environment) error {
	o := emulatorOptions{cfg: emulator.Config{Seed: time.Now().UnixNano()}}
	fs := emulatorFlags(&o)
	if err := parseFlags(fs, args, env.stdout, env.stderr, emulatorHead, emulatorSections(), "wftrigger emulator --listen 127.0.0.1:9000"); err != nil {
		return err
	}
	var ok bool
	if o.cfg.Auth, ok = emulator.ParseAuthStyle(o.authStyle); !ok {
		return usageError("--auth-style ci answers as CI does (401 SecretidNotExist, …), --auth-style cos as COS does", "--auth-style %q is not cos or ci", o.authStyle)
	}
	o.cfg.Workflows = textlist.Split(o.workflows)
	o.cfg.DenyPrefixes = textlist.Split(o.deny)
	o.cfg.FailPrefixes = textlist.Split(o.fail)
	for _, r := range []float64{o.cfg.Trigger.ErrorRate, o.cfg.Trigger.SlowDownRate, o.cfg.Trigger.ResetRate, o.cfg.List.ErrorRate} {
		if r < 0 || r > 1 {
			return usageError("--error-rate 0.05", "fault rates are fractions from 0 to 1, not %g", r)
		}
	}
	if err := parseQuota(&o.cfg.Quota, o.schedule, o.outage); err != nil {
		return usageError("--qps-schedule 0s:200,20s:100 --outage 30s+20s", "%v", err)
	}
	srv := emulator.New(o.cfg)
	srv.SetJobOptions(o.jobs)
	if o.objects > 0 {
		srv.PutSample(emulator.SampleKeys(o.objects, o.cfg.Seed), time.Now().Add(-365*24*time.Hour))
	}
	if o.objFile != "" {
		n, err := loadObjects(srv, o.objFile)
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		fmt.Fprintf(env.stdout, "wftrigger emulator: %d objects from %s\n", n, o.objFile)
	}
	url, err := srv.Start(o.listen)
	if err != nil {
		return usageError("--listen 127.0.0.1:0 picks a free port", "listen %s: %w", o.listen, err)
	}
	defer srv.Close()
	fmt.Fprintf(env.stdout, "wftrigger emulator: CI + COS for bucket %s on %s (workflows %s)\n", o.cfg.Bucket, url, strings.Join(o.cfg.Workflows, ","))
	if o.cfg.SecretID == emulatorSecretID && o.cfg.SecretKey == emulatorSecretKey {
		fmt.Fprintf(env.stdout, "\n  export TENCENTCLOUD_SECRET_ID=%s TENCENTCLOUD_SECRET_KEY=%s\n", emulatorSecretID, emulatorSecretKey)
	}
	if o.cfg.Issuer.Role != "" {
		fmt.Fprintf(env.stdout, "  export WFTRIGGER_METADATA_ENDPOINT=%s  # --credentials cvm-role: role %s, credentials living %s\n", url, o.cfg.Issuer.Role, o.cfg.Issuer.Life)
	}
	if o.cfg.Issuer.RoleARN != "" {
		fmt.Fprintf(env.stdout, "  export WFTRIGGER_STS_ENDPOINT=%s TKE_ROLE_ARN=%s TKE_REGION=ap-guangzhou TKE_PROVIDER_ID=… TKE_WEB_IDENTITY_TOKEN_FILE=…  # --credentials oidc\n", url, o.cfg.Issuer.RoleARN)
	}
	fmt.Fprintf(env.stdout, "  wftrigger run --bucket %s --ci-endpoint %s --cos-endpoint %s --workflow %s --prefix \"\"\n\nStop it with Ctrl-C.\n",
		o.cfg.Bucket, url, url, o.cfg.Workflows[0])
	<-ctx.Done()
	s := srv.Stats()
	twice := 0
	counts := srv.TriggerCounts()
	for _, n := range counts {
		if n > 1 {
			twice++
		}
	}
	fmt.Fprintf(env.stdout, "wftrigger emulator: %d requests, %d triggers accepted (%d distinct objects, %d triggered more than once), %d rejected, %d faults injected\n",
		s.Requests, s.Accepted, len(counts), twice, s.Rejected, s.Faults)
	if o.quotaLog != "" {
		return writeQuotaLog(o.quotaLog, srv.QuotaSeconds())
	}
	return nil
}

// parseQuota reads --qps-schedule and --outage into q.
func parseQuota(q *emulator.Quota, schedule, outage string) error {
	var err error
	if q.Steps, err = emulator.ParseQuotaSchedule(schedule); err != nil {
		return err
	}
	if outage != "" {
		o, err := emulator.ParseOutage(outage)
		if err != nil {
			return err
		}
		q.Outages = append(q.Outages, o)
	}
	return nil
}

// writeQuotaLog writes the quota's record: "second quota accepted
// throttled", tab-separated, a line a second from the first trigger.
func writeQuotaLog(path string, secs []emulator.QuotaSecond) error {
	var b strings.Builder
	b.WriteString("second\tquota\taccepted\tthrottled\n")
	for i, s := range secs {
		fmt.Fprintf(&b, "%d\t%g\t%d\t%d\n", i, s.Quota, s.Accepted, s.Throttled)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("quota log: %w", err)
	}
	return nil
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
