// Package serverside delegates a run to CI's own inventory trigger job
// (POST /inventorytriggerjob) and builds the same per-object report as a
// client-side run from the job's executions.
//
// A run goes through four steps, each safe to interrupt:
//
//  1. Attach: the job recorded in the ledger is found again (by id, or by
//     name when only the intent was journaled), or a new one is submitted:
//     its name is journaled (fsynced) before the create call and its id
//     after, so that a rerun, even after kill -9 between the two, finds it
//     in the job list by name and never submits a second one.
//  2. Source: every object of the source (the listing or the inventory the
//     job reads) is admitted to the ledger once. One that has not succeeded
//     before is recorded `failed` with code NotInJob, marked uncertain with
//     the job's submission time: until an execution of the job is seen for
//     it, a run without --server-side looks it up in the execution list
//     before triggering it, so nothing is triggered twice.
//  3. Executions: while the job runs (and once more after it ended), its
//     executions are paged oldest first and each is recorded `succeeded`
//     with instanceId = RunId and the execution's state, replacing the
//     NotInJob record of its object. The cursor moves on page by page; only
//     the run ids of the last, incomplete page are kept, so memory does not
//     grow with the job.
//  4. Outcome: the objects still NotInJob once the job ended are those it
//     did not trigger.
//
// The source is read before the executions are recorded because a ledger
// counts a key admitted after it was recorded in the same run as a
// duplicate.
//
// Assumptions where CI is not documented (reference §9): the job list is
// consistent with creates (a job is listed by name once its create was
// answered); the execution list of a job is complete once the job says it
// ended and stays readable for as long as a rerun may need it; the oldest-
// first order and its nextToken are a stable cursor (new executions come
// after it); TimeInterval bounds are inclusive and honour the offset they
// are written with.
package serverside

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wftrigger/wftrigger/manifest"
	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/tencent"
)

// Service is what a server-side run needs of CI; *tencent.Client
// satisfies it.
type Service interface {
	CreateInventoryTriggerJob(ctx context.Context, in tencent.JobRequest) (tencent.InventoryJob, error)
	DescribeInventoryTriggerJob(ctx context.Context, jobID string) (tencent.InventoryJob, error)
	ListInventoryTriggerJobs(ctx context.Context, q tencent.JobQuery) (tencent.JobPage, error)
	CancelInventoryTriggerJob(ctx context.Context, jobID string) error
	ListExecutions(ctx context.Context, q tencent.ExecutionQuery) (tencent.ExecutionPage, error)
}

var _ Service = (*tencent.Client)(nil)

// Job is the inventory trigger job of a report, as its ledger records it:
// its name (journaled before the create call), its id (after it; "" in
// between), its last known state and when it was submitted.
type Job = report.Job

// Ledger is where a server-side run learns what earlier runs did and
// records what this one finds; a *report.Report satisfies it. RecordJob
// returns once the job is durable (fsynced).
type Ledger interface {
	Admit(workflowID, key string) report.Prior
	Record(e report.Entry) error
	Summary() report.Summary
	Job() (Job, bool)
	RecordJob(j Job) error
}

var _ Ledger = (*report.Report)(nil)

// CodeNotInJob is the error code of an object for which the job has no
// execution.
const CodeNotInJob = "NotInJob"

// Defaults of Config.
const (
	DefaultPollInterval = 10 * time.Second
	// executionPageSize is the largest page DescribeWorkflowExecutions
	// gives.
	executionPageSize = 100
	// maxJobListPages bounds the pages read to find a job by name.
	maxJobListPages = 1000
	// MaxPollFailure is how long the looks at a job may fail in a row
	// (retryable errors: network, 5xx, throttling) before the run gives up;
	// the job goes on, and a rerun reattaches.
	MaxPollFailure = 5 * time.Minute
)

// Config says which job a run submits and how it waits for it.
type Config struct {
	Bucket   string // NAME-APPID: inventory rows naming another bucket are invalid
	Workflow string
	// Report is the report's absolute path: with the bucket, the workflow
	// and the submission time it makes the job's name.
	Report string
	// Manifest, when set, is the URL of the COS inventory manifest.json the
	// job reads; otherwise the job lists Prefix ("" is the whole bucket).
	Manifest string
	Prefix   string
	// ModifiedAfter (Prefix only) becomes the job's TimeInterval.Start.
	ModifiedAfter time.Time
	// PollInterval is the time between two looks at the job; default 10 s.
	PollInterval time.Duration
	// MaxDuration, if > 0, stops waiting that long after the start: the job
	// goes on server-side.
	MaxDuration time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done; nil means a timer.
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
}

// Counters are the live numbers of a server-side run, read by progress
// output and metrics.
type Counters struct {
	Read       atomic.Int64 // rows read from the source
	NotInJob   atomic.Int64 // objects recorded NotInJob while the source was read
	Skipped    atomic.Int64 // already succeeded in an earlier run
	Uncertain  atomic.Int64 // left to be looked up (an earlier run's uncertain call)
	Invalid    atomic.Int64
	Duplicates atomic.Int64
	Executions atomic.Int64 // executions of the job recorded
	Polls      atomic.Int64 // looks at the job
	Exhausted  atomic.Bool  // the source was read to its end
	mu         sync.Mutex
	state      string
	progress   string
}

// JobState returns the job's last known state and progress (as CI writes
// it).
func (c *Counters) JobState() (state, progress string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.progress
}

func (c *Counters) setState(state, progress string) {
	c.mu.Lock()
	c.state, c.progress = state, progress
	c.mu.Unlock()
}

// Outcome is how a server-side run ended.
type Outcome int

// The outcomes of Run, and the exit status of the contract each maps to.
const (
	// Complete: the job ended Success and every object of the source has
	// succeeded (exit 0).
	Complete Outcome = iota + 1
	// Incomplete: the job ended Success, and some objects failed (NotInJob)
	// or were invalid (exit 1). A run without --server-side triggers them.
	Incomplete
	// JobEnded: the job ended Failed or Cancel (exit 3).
	JobEnded
	// Stopped: the run was cancelled or reached MaxDuration before the job
	// ended; the job goes on server-side and a rerun reattaches (exit 3).
	Stopped
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case Complete:
		return "complete"
	case Incomplete:
		return "incomplete"
	case JobEnded:
		return "job ended"
	case Stopped:
		return "stopped"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Result is what a server-side run found.
type Result struct {
	Outcome  Outcome
	Job      Job    // with its last known state
	Progress string // the job's Progress as CI last wrote it
	// Reattached is true when the job was submitted by an earlier run.
	Reattached bool
	// Summary is the ledger's count of entries at the end.
	Summary report.Summary
}

// ErrNoJob is returned by Cancel when the ledger records no job.
var ErrNoJob = errors.New("the report records no server-side job")

// Error is a server-side run that could not go on: a call CI refused, or a
// ledger or source that failed. Step says where ("attach", "source",
// "executions", "journal").
type Error struct {
	Step string
	Err  error
}

// Error says at which step the run failed and why.
func (e *Error) Error() string { return "server-side run (" + e.Step + "): " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func (cfg Config) withDefaults() Config {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// JobName returns the name of the job a report submits at a time:
// "wftrigger-", the report's base name reduced to CI's charset (at most 40
// characters), "-" and 16 hex digits of a hash of the report's path, the
// bucket, the workflow and the time. It is journaled before the job is
// submitted, so every rerun reads it back instead of deriving it again.
func JobName(reportPath, bucket, workflow string, at time.Time) string {
	sum := sha256.Sum256([]byte(reportPath + "\x00" + bucket + "\x00" + workflow + "\x00" + strconv.FormatInt(at.UnixNano(), 10)))
	base := strings.TrimSuffix(filepath.Base(reportPath), ".json")
	b := make([]byte, 0, 80)
	b = append(b, "wftrigger-"...)
	for i := 0; i < len(base) && i < 40; i++ {
		c := base[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			c = '_'
		}
		b = append(b, c)
	}
	b = append(b, '-')
	b = hex.AppendEncode(b, sum[:8])
	return string(b)
}

// Request returns the job request cfg makes under name: the manifest, or
// the prefix with ModifiedAfter as TimeInterval.Start, rounded up to the
// second (the interval's format has no fractions, and rounding down would
// let the job trigger objects the filter leaves out).
func Request(cfg Config, name string) tencent.JobRequest {
	in := tencent.JobRequest{Name: name, WorkflowID: cfg.Workflow, Manifest: cfg.Manifest, Prefix: cfg.Prefix}
	if cfg.Manifest == "" && !cfg.ModifiedAfter.IsZero() {
		start := cfg.ModifiedAfter.UTC()
		if t := start.Truncate(time.Second); !t.Equal(start) {
			start = t.Add(time.Second)
		}
		in.Start = start
	}
	return in
}

// Run submits the job of cfg (or reattaches to the one the ledger
// records), reads src so that every object gets an entry, waits for the
// job and records its executions. It returns an *Error when it cannot go
// on; otherwise Result.Outcome says how it ended.
func Run(ctx context.Context, cfg Config, src manifest.Source, svc Service, ledger Ledger, c *Counters) (Result, error) {
	cfg = cfg.withDefaults()
	if cfg.MaxDuration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.MaxDuration)
		defer cancel()
	}
	r := &run{cfg: cfg, svc: svc, ledger: ledger, c: c, src: src}
	res, err := r.run(ctx)
	res.Summary = ledger.Summary()
	if err != nil && ctx.Err() != nil {
		// A stop is not a failure: the job goes on, a rerun reattaches.
		res.Outcome = Stopped
		return res, nil
	}
	return res, err
}

type run struct {
	cfg    Config
	svc    Service
	ledger Ledger
	c      *Counters
	job    Job
	src    manifest.Source
}

func (r *run) run(ctx context.Context) (Result, error) {
	var res Result
	job, reattached, err := r.attach(ctx)
	res.Job, res.Reattached = job, reattached
	if err != nil {
		return res, err
	}
	r.job = job
	log := r.cfg.Logger.With("job", job.ID, "name", job.Name)
	if reattached {
		log.Info("reattached to the server-side job", "state", job.State, "submittedAt", job.SubmittedAt)
	} else {
		log.Info("submitted the server-side job", "state", job.State)
	}
	if err := r.admitSource(ctx); err != nil {
		return res, err
	}
	return r.wait(ctx, log, res)
}
