package serverside

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
	"github.com/wftrigger/wftrigger/internal/fakeclock"
	"github.com/wftrigger/wftrigger/manifest"
	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/runner"
	"github.com/wftrigger/wftrigger/tencent"
)

const (
	testBucket   = "media-1250000000"
	testWorkflow = "w0123456789abcdef0123456789abcdef"
)

var testCreds = tencent.Credentials{SecretID: "AKIDserversideTest0001", SecretKey: "serversideTestKey0002"}

// env is an emulator on loopback, a client for it and a report folder.
type env struct {
	t      *testing.T
	emu    *emulator.Server
	base   string
	client *tencent.Client
	clock  *fakeclock.Clock // shared by the emulator, the client and the run
	dir    string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ck := fakeclock.New(time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC))
	emu := emulator.New(emulator.Config{SecretID: testCreds.SecretID, SecretKey: testCreds.SecretKey, Bucket: testBucket,
		Workflows: []string{testWorkflow}, Seed: 7, Now: ck.Now})
	base, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	client, err := tencent.NewClient(tencent.Config{CIEndpoint: base, COSEndpoint: base, Credentials: testCreds, Now: ck.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, emu: emu, base: base, client: client, clock: ck, dir: t.TempDir()}
}

// put stores keys modified at the given offsets from the clock (one each,
// or all at the first).
func (e *env) put(keys []string, offsets ...time.Duration) {
	for i, k := range keys {
		d := time.Duration(0)
		if i < len(offsets) {
			d = offsets[i]
		} else if len(offsets) > 0 {
			d = offsets[0]
		}
		e.emu.PutObject(k, []byte(k), e.clock.Now().Add(d))
	}
}

func (e *env) open(name string) *report.Report {
	e.t.Helper()
	rep, err := report.Open(report.Options{Path: filepath.Join(e.dir, name), Meta: report.Meta{Bucket: testBucket, WorkflowID: testWorkflow, Source: "test"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

// job returns the job the report records, as a rerun finds it.
func (e *env) job() (Job, bool) {
	e.t.Helper()
	rep, err := report.Open(report.Options{Path: filepath.Join(e.dir, "r.json"), Meta: report.Meta{Bucket: testBucket, WorkflowID: testWorkflow}, ReadOnly: true})
	if err != nil {
		e.t.Fatal(err)
	}
	defer rep.Close(time.Time{}, false)
	return rep.Job()
}

// config is a run's config whose polls advance the clock instead of
// sleeping.
func (e *env) config(prefix string) Config {
	return Config{
		Bucket: testBucket, Workflow: testWorkflow, Report: filepath.Join(e.dir, "r.json"), Prefix: prefix,
		PollInterval: time.Second, Now: e.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error { e.clock.Advance(d); return ctx.Err() },
	}
}

func (e *env) listing(prefix string, after time.Time) manifest.Source {
	src := manifest.NewListing(context.Background(), e.client, prefix, manifest.ListingOptions{PageSize: 7})
	return manifest.Filter(src, manifest.FilterOptions{ModifiedAfter: after})
}

// run runs cfg with a new listing of its prefix on a report that it closes.
func (e *env) run(ctx context.Context, cfg Config, svc Service) (Result, *Counters) {
	e.t.Helper()
	l := e.open("r.json")
	src := e.listing(cfg.Prefix, cfg.ModifiedAfter)
	defer src.Close()
	var c Counters
	res, err := Run(ctx, cfg, src, svc, l, &c)
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	if err := l.Close(e.clock.Now(), c.Exhausted.Load()); err != nil {
		e.t.Fatal(err)
	}
	return res, &c
}

type entry struct {
	Key        string
	Status     string
	InstanceID string `json:"instanceId"`
	Uncertain  bool
	Error      *struct{ Code string }
	Execution  *struct{ State string }
}

type reportFile struct {
	Summary report.Summary
	Objects []entry
}

func (e *env) report() reportFile {
	e.t.Helper()
	raw, err := os.ReadFile(filepath.Join(e.dir, "r.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	var r reportFile
	if err := json.Unmarshal(raw, &r); err != nil {
		e.t.Fatalf("report: %v\n%s", err, raw)
	}
	sort.Slice(r.Objects, func(i, j int) bool { return r.Objects[i].Key < r.Objects[j].Key })
	return r
}

// checkOnce fails the test unless each key has one instance at the
// emulator and the report counts succeeded entries, none failed.
func (e *env) checkOnce(succeeded int) {
	e.t.Helper()
	for k, n := range e.emu.TriggerCounts() {
		if n != 1 {
			e.t.Errorf("%q has %d instances, want 1", k.Key, n)
		}
	}
	if s := e.report().Summary; s.Succeeded != succeeded || s.Failed != 0 {
		e.t.Errorf("summary = %+v, want %d succeeded, none failed", s, succeeded)
	}
}

// jobRuns returns the instance id of every execution created by job id,
// by key.
func (e *env) jobRuns(id string) map[string]string {
	out := map[string]string{}
	for _, tr := range e.emu.Triggers() {
		if tr.JobID == id {
			out[tr.Key] = tr.InstanceID
		}
	}
	return out
}

func keysN(prefix string, n int) []string {
	var keys []string
	for i := range n {
		keys = append(keys, fmt.Sprintf("%sclip %02d+final.mp4", prefix, i))
	}
	return keys
}

func TestPrefixJobEndToEnd(t *testing.T) {
	e := newEnv(t)
	keys := keysN("videos/", 23)
	e.put(keys, -time.Hour)
	e.put([]string{"other/a.mp4", "videos/folder/"}, -time.Hour)
	e.emu.SetJobOptions(emulator.JobOptions{Rate: 3, StartDelay: 2 * time.Second})

	res, c := e.run(context.Background(), e.config("videos/"), e.client)
	if res.Outcome != Complete || res.Reattached || res.Job.State != tencent.JobSuccess || res.Job.ID == "" {
		t.Fatalf("Run = %+v, want a complete, new, successful job", res)
	}
	if c.Polls.Load() < 5 {
		t.Errorf("%d polls: the job ran for 10 s at 3 objects a second, polled every second", c.Polls.Load())
	}
	jobs := e.emu.Jobs()
	if len(jobs) != 1 || jobs[0].Name != res.Job.Name || jobs[0].Prefix != "videos/" {
		t.Fatalf("emulator jobs = %+v", jobs)
	}
	if st := e.emu.Stats(); st.Accepted != 0 {
		t.Errorf("%d TriggerWorkflow calls, want 0", st.Accepted)
	}
	runs := e.jobRuns(res.Job.ID)
	rep := e.report()
	var got []string
	for _, o := range rep.Objects {
		got = append(got, o.Key)
		if o.Status != "succeeded" || o.InstanceID != runs[o.Key] || o.InstanceID == "" || o.Execution == nil || o.Execution.State == "" || o.Uncertain {
			t.Errorf("entry %+v, want succeeded with instance %s", o, runs[o.Key])
		}
	}
	if !slices.Equal(got, keys) {
		t.Errorf("report keys = %q\nwant %q", got, keys)
	}
	if s := rep.Summary; s.Total != 23 || s.Succeeded != 23 || s.Duplicates != 0 {
		t.Errorf("summary = %+v, want 23 succeeded, no duplicates", s)
	}
	if j, _ := e.job(); j.State != tencent.JobSuccess || j.ID != res.Job.ID || j.Name != res.Job.Name {
		t.Errorf("report job = %+v", j)
	}

	// A rerun reattaches, submits nothing and finds the same.
	res2, _ := e.run(context.Background(), e.config("videos/"), e.client)
	if res2.Outcome != Complete || !res2.Reattached || res2.Job.ID != res.Job.ID || len(e.emu.Jobs()) != 1 {
		t.Errorf("rerun = %+v with %d jobs, want the same job reattached", res2, len(e.emu.Jobs()))
	}
	if s := e.report().Summary; s.Total != 23 || s.Succeeded != 23 || s.Duplicates != 0 {
		t.Errorf("rerun summary = %+v", s)
	}
}

// crashAfterCreate is a Service whose create reaches CI and whose process
// then "dies" before it hears the answer: the run's context ends.
type crashAfterCreate struct {
	Service
	cancel  context.CancelFunc
	reaches bool // false: dies before the call is sent
}

func (s crashAfterCreate) CreateInventoryTriggerJob(ctx context.Context, in tencent.JobRequest) (tencent.InventoryJob, error) {
	if s.reaches {
		if _, err := s.Service.CreateInventoryTriggerJob(ctx, in); err != nil {
			return tencent.InventoryJob{}, err
		}
	}
	s.cancel()
	return tencent.InventoryJob{}, context.Canceled
}

func TestCrashBetweenIntentAndID(t *testing.T) {
	for _, reaches := range []bool{true, false} {
		t.Run(fmt.Sprintf("create reached CI %v", reaches), func(t *testing.T) {
			e := newEnv(t)
			keys := keysN("in/", 5)
			e.put(keys, -time.Minute)
			ctx, cancel := context.WithCancel(context.Background())
			res, _ := e.run(ctx, e.config("in/"), crashAfterCreate{Service: e.client, cancel: cancel, reaches: reaches})
			if res.Outcome != Stopped {
				t.Fatalf("crashed run = %+v, want Stopped", res)
			}
			j, ok := e.job()
			if !ok || j.Name == "" || j.ID != "" || j.SubmittedAt.IsZero() {
				t.Fatalf("report job after the crash = %+v, want the intent only", j)
			}
			intent := j.Name

			res, _ = e.run(context.Background(), e.config("in/"), e.client)
			if res.Outcome != Complete || res.Job.Name != intent || res.Job.ID == "" {
				t.Fatalf("rerun = %+v, want the intent's job, complete", res)
			}
			if res.Reattached != reaches {
				t.Errorf("Reattached = %v, want %v", res.Reattached, reaches)
			}
			if jobs := e.emu.Jobs(); len(jobs) != 1 || jobs[0].Name != intent {
				t.Errorf("emulator jobs = %+v, want exactly one named %s", jobs, intent)
			}
			e.checkOnce(5)
		})
	}
}

func TestSkippedObjectsAreNotInJobThenTriggeredClientSide(t *testing.T) {
	e := newEnv(t)
	keys := keysN("s/", 10)
	e.put(keys, -time.Minute)
	e.emu.SetJobOptions(emulator.JobOptions{Rate: 4, SkipEvery: 3})

	res, c := e.run(context.Background(), e.config("s/"), e.client)
	if res.Outcome != Incomplete {
		t.Fatalf("Run = %+v, want Incomplete", res)
	}
	var missing []string
	for _, o := range e.report().Objects {
		if o.Status == "failed" {
			if o.Error == nil || o.Error.Code != CodeNotInJob || !o.Uncertain {
				t.Errorf("failed entry %+v, want NotInJob, uncertain", o)
			}
			missing = append(missing, o.Key)
		}
	}
	want := []string{keys[2], keys[5], keys[8]} // every third
	if !slices.Equal(missing, want) {
		t.Fatalf("NotInJob = %q, want %q", missing, want)
	}
	if c.Executions.Load() != 7 || res.Summary.Failed != 3 {
		t.Errorf("executions %d, summary %+v", c.Executions.Load(), res.Summary)
	}

	// The same command without --server-side triggers exactly those.
	l := e.open("r.json")
	src := e.listing("s/", time.Time{})
	var rc runner.Counters
	err := runner.Run(context.Background(), runner.Config{Bucket: testBucket, Workflow: testWorkflow, Concurrency: 2,
		Policy: runner.DefaultPolicy(), LookupDelay: time.Millisecond}, src, runnerService{e.client}, l, &rc)
	src.Close()
	if err != nil {
		t.Fatalf("client-side rerun: %v", err)
	}
	l.Close(e.clock.Now(), true)
	var triggered []string
	for _, tr := range e.emu.Triggers() {
		if tr.JobID == "" {
			triggered = append(triggered, tr.Key)
		}
	}
	sort.Strings(triggered)
	if !slices.Equal(triggered, want) {
		t.Errorf("client-side rerun triggered %q, want %q", triggered, want)
	}
	e.checkOnce(10)
}

func TestTimeWindow(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	e.put([]string{"t/old1.mp4", "t/old2.mp4", "t/new1.mp4", "t/new2.mp4"}, -3*time.Hour, -2*time.Hour, -30*time.Minute, -10*time.Minute)
	cfg := e.config("t/")
	cfg.ModifiedAfter = now.Add(-time.Hour - 500*time.Millisecond)

	res, _ := e.run(context.Background(), cfg, e.client)
	if res.Outcome != Complete {
		t.Fatalf("Run = %+v", res)
	}
	var got []string
	for _, o := range e.report().Objects {
		got = append(got, o.Key+":"+o.Status)
	}
	if want := []string{"t/new1.mp4:succeeded", "t/new2.mp4:succeeded"}; !slices.Equal(got, want) {
		t.Errorf("report = %q, want %q", got, want)
	}
	if n := len(e.jobRuns(res.Job.ID)); n != 2 {
		t.Errorf("the job made %d executions, want 2", n)
	}
}

func TestRequest(t *testing.T) {
	at := time.Date(2026, 1, 31, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))
	for _, tc := range []struct {
		name      string
		cfg       Config
		wantStart time.Time
	}{
		{"whole second", Config{Prefix: "p/", ModifiedAfter: at}, at.UTC()},
		{"fraction rounds up", Config{Prefix: "p/", ModifiedAfter: at.Add(time.Millisecond)}, at.Add(time.Second).UTC()},
		{"no filter", Config{Prefix: "p/"}, time.Time{}},
		{"manifest has no window", Config{Manifest: "https://x/m.json", ModifiedAfter: at}, time.Time{}},
	} {
		got := Request(tc.cfg, "n")
		if !got.Start.Equal(tc.wantStart) || !got.End.IsZero() || got.Prefix != tc.cfg.Prefix || got.Manifest != tc.cfg.Manifest {
			t.Errorf("%s: Request(%+v) = %+v, want Start %v", tc.name, tc.cfg, got, tc.wantStart)
		}
	}
}

func TestJobName(t *testing.T) {
	at := time.Unix(1700000000, 5)
	a := JobName("/data/reports/nightly backfill.json", testBucket, testWorkflow, at)
	if !strings.HasPrefix(a, "wftrigger-nightly_backfill-") || tencent.ValidJobName(a) != nil {
		t.Errorf("JobName = %q, want wftrigger-nightly_backfill-HASH in CI's charset", a)
	}
	if b := JobName("/data/reports/nightly backfill.json", testBucket, testWorkflow, at); b != a {
		t.Errorf("JobName is not stable: %q then %q", a, b)
	}
	if b := JobName("/data/reports/nightly backfill.json", testBucket, testWorkflow, at.Add(1)); b == a {
		t.Errorf("JobName ignores the time (a --fresh run would find the old job): %q", b)
	}
	long := JobName("/"+strings.Repeat("報告", 100)+".json", testBucket, testWorkflow, at)
	if len(long) > tencent.MaxJobNameLen || tencent.ValidJobName(long) != nil {
		t.Errorf("JobName of a long non-ASCII path = %q", long)
	}
}

func TestCancelThenRerun(t *testing.T) {
	e := newEnv(t)
	keys := keysN("c/", 20)
	e.put(keys, -time.Minute)
	e.emu.SetJobOptions(emulator.JobOptions{Rate: 1})

	cfg := e.config("c/")
	cfg.MaxDuration = time.Hour // a real-time bound that is never reached
	ctx, cancel := context.WithCancel(context.Background())
	polls := 0
	cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		e.clock.Advance(d)
		if polls++; polls == 4 {
			cancel() // a signal while the job runs
		}
		return ctx.Err()
	}
	res, c := e.run(ctx, cfg, e.client)
	if res.Outcome != Stopped || c.Executions.Load() == 0 {
		t.Fatalf("stopped run = %+v with %d executions, want Stopped after some", res, c.Executions.Load())
	}
	if jobs := e.emu.Jobs(); jobs[0].State != "Running" {
		t.Errorf("job after the stop = %+v, want it still running", jobs[0])
	}

	l := e.open("r.json")
	j, err := Cancel(context.Background(), e.config("c/"), e.client, l)
	l.Close(e.clock.Now(), false)
	if recorded, _ := e.job(); err != nil || j.State != tencent.JobCancel || recorded.State != tencent.JobCancel {
		t.Fatalf("Cancel = %+v, %v (report %+v)", j, err, recorded)
	}
	e.clock.Advance(time.Hour)

	res, _ = e.run(context.Background(), e.config("c/"), e.client)
	if res.Outcome != JobEnded || !res.Reattached || len(e.emu.Jobs()) != 1 {
		t.Fatalf("rerun after cancel = %+v, want JobEnded on the same job", res)
	}
	done := len(e.jobRuns(res.Job.ID))
	if done == 0 || done == 20 {
		t.Fatalf("the cancelled job made %d executions", done)
	}
	if s := e.report().Summary; s.Succeeded != done || s.Failed != 20-done {
		t.Errorf("summary = %+v, want %d succeeded and the rest NotInJob", s, done)
	}
	if l := e.open("r.json"); true {
		_, err := Cancel(context.Background(), e.config("c/"), e.client, l)
		l.Close(e.clock.Now(), false)
		if err != nil {
			t.Errorf("cancelling an ended job again: %v", err)
		}
	}
}

func TestFailedJob(t *testing.T) {
	e := newEnv(t)
	e.put(keysN("f/", 6), -time.Minute)
	e.emu.SetJobOptions(emulator.JobOptions{FailAfter: 4})
	res, _ := e.run(context.Background(), e.config("f/"), e.client)
	if res.Outcome != JobEnded || res.Job.State != tencent.JobFailed {
		t.Fatalf("Run = %+v, want JobEnded (Failed)", res)
	}
	if s := e.report().Summary; s.Succeeded != 4 || s.Failed != 2 {
		t.Errorf("summary = %+v", s)
	}
}

func TestManifestJob(t *testing.T) {
	e := newEnv(t)
	keys := []string{"m/a b.mp4", "m/100%.mp4", "m/视频.mp4"}
	e.put(keys, -time.Minute)
	mkey := e.emu.PutInventory("inv/1250000000/media/daily/20261127/", keys, e.clock.Now())
	cfg := e.config("")
	cfg.Manifest = e.base + "/" + mkey
	l := e.open("r.json")
	src, err := manifest.Open(context.Background(), "cos://"+testBucket+"/"+mkey, manifest.Options{Getter: e.client})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var c Counters
	res, err := Run(context.Background(), cfg, src, e.client, l, &c)
	l.Close(e.clock.Now(), true)
	if err != nil || res.Outcome != Complete {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if jobs := e.emu.Jobs(); len(jobs) != 1 || jobs[0].Manifest != cfg.Manifest || jobs[0].Executions != 3 {
		t.Errorf("emulator jobs = %+v", jobs)
	}
	if s := e.report().Summary; s.Succeeded != 3 || s.Total != 3 {
		t.Errorf("summary = %+v", s)
	}

	// Another source for the same report is refused.
	l = e.open("r.json")
	src2 := e.listing("m/", time.Time{})
	defer src2.Close()
	_, err = Run(context.Background(), e.config("m/"), src2, e.client, l, &c)
	l.Close(e.clock.Now(), false)
	var se *Error
	if !errors.As(err, &se) || se.Step != "attach" || !strings.Contains(err.Error(), "--fresh") {
		t.Errorf("a prefix run on a manifest job's report: %v, want an attach error with a --fresh hint", err)
	}
}

func TestDryRun(t *testing.T) {
	e := newEnv(t)
	e.put(keysN("d/", 4), -time.Minute)
	cfg := e.config("d/")
	cfg.ModifiedAfter = e.clock.Now().Add(-time.Hour)
	rep, err := report.Open(report.Options{Path: filepath.Join(e.dir, "r.json"), Meta: report.Meta{Bucket: testBucket, WorkflowID: testWorkflow}, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close(time.Time{}, false)
	src := e.listing("d/", cfg.ModifiedAfter)
	defer src.Close()
	p, err := DryRun(context.Background(), cfg, src, rep)
	if err != nil {
		t.Fatal(err)
	}
	body := string(p.Request)
	if p.Objects != 4 || p.HasJob || !strings.Contains(body, "<Prefix>d/</Prefix>") ||
		!strings.Contains(body, "<Start>2026-11-27T00:00:00+0000</Start>") || !strings.Contains(body, "<Name>wftrigger-r-") {
		t.Errorf("DryRun = %+v\n%s", p, body)
	}
	if _, ok := rep.Job(); len(e.emu.Jobs()) != 0 || ok {
		t.Errorf("the dry run submitted or journaled a job")
	}
}

// failingDescribe is a Service whose looks at a job always fail, as a
// network that is down would.
type failingDescribe struct{ Service }

func (failingDescribe) DescribeInventoryTriggerJob(context.Context, string) (tencent.InventoryJob, error) {
	return tencent.InventoryJob{}, &tencent.TransportError{Op: "describe job", Err: errors.New("connection refused")}
}

func TestPollFailuresGiveUp(t *testing.T) {
	e := newEnv(t)
	e.put(keysN("p/", 3), -time.Minute)
	res, _ := e.run(context.Background(), e.config("p/"), e.client) // the job exists
	if res.Outcome != Complete {
		t.Fatalf("first run = %+v", res)
	}
	cfg := e.config("p/")
	l := e.open("r.json")
	defer l.Close(e.clock.Now(), false)
	src := e.listing("p/", time.Time{})
	defer src.Close()
	start := e.clock.Now()
	var c Counters
	_, err := Run(context.Background(), cfg, src, failingDescribe{e.client}, l, &c)
	var se *Error
	if !errors.As(err, &se) || se.Step != "attach" {
		t.Fatalf("reattach through a failing describe: %v, want an attach error", err)
	}
	// While waiting, failing looks are retried for MaxPollFailure.
	r := &run{cfg: cfg.withDefaults(), svc: failingDescribe{e.client}, ledger: l, c: &c, job: res.Job}
	_, err = r.wait(context.Background(), slog.New(slog.DiscardHandler), Result{})
	if !errors.As(err, &se) || se.Step != "wait" || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("wait = %v, want a wait error", err)
	}
	if waited := e.clock.Now().Sub(start); waited < MaxPollFailure || waited > MaxPollFailure+2*time.Second {
		t.Errorf("gave up after %v of failing looks, want %v", waited, MaxPollFailure)
	}
}

// runnerService is the least adapter from *tencent.Client to
// runner.Service, for the client-side rerun above (the run's own is the
// root package's service.go): with no faults injected, any error is the
// test's failure.
type runnerService struct{ c *tencent.Client }

func (s runnerService) Trigger(ctx context.Context, in runner.TriggerInput) (runner.TriggerResult, error) {
	r, err := s.c.Trigger(ctx, tencent.TriggerInput{WorkflowID: in.WorkflowID, Key: in.Key, Name: in.Name})
	if err != nil {
		return runner.TriggerResult{}, &runner.Failure{Err: err, Outcome: runner.Fatal, Message: err.Error()}
	}
	return runner.TriggerResult{InstanceID: r.InstanceID, RequestID: r.RequestID}, nil
}

func (s runnerService) FindExecution(ctx context.Context, workflowID, key string, since time.Time) (runner.Execution, bool, error) {
	x, found, err := s.c.FindExecution(ctx, workflowID, key, since)
	if err != nil {
		return runner.Execution{}, false, &runner.Failure{Err: err, Outcome: runner.Fatal, Message: err.Error()}
	}
	return runner.Execution{RunID: x.RunID, WorkflowID: x.WorkflowID, State: x.State, Object: x.Object, CreateTime: x.CreateTime}, found, nil
}

func (s runnerService) ListExecutions(ctx context.Context, workflowID string, start, end time.Time, token string) ([]runner.Execution, string, error) {
	page, err := s.c.ListExecutions(ctx, tencent.ExecutionQuery{WorkflowID: workflowID, Start: start, End: end, NextToken: token})
	if err != nil {
		return nil, "", &runner.Failure{Err: err, Outcome: runner.Fatal, Message: err.Error()}
	}
	out := make([]runner.Execution, len(page.Executions))
	for i, x := range page.Executions {
		out[i] = runner.Execution{RunID: x.RunID, WorkflowID: x.WorkflowID, State: x.State, Object: x.Object, CreateTime: x.CreateTime}
	}
	return out, page.NextToken, nil
}
