package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wftrigger/wftrigger/metrics"
	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/runner"
	"github.com/wftrigger/wftrigger/serverside"
)

// runMetrics is the metrics file of one `wftrigger run` (--metrics-file):
// armed as soon as the flags parsed, rewritten every 15 s once the run goes
// on (live), and written once more when runCommand returns, with the exit
// status it returns — 2 and 4 included.
type runMetrics struct {
	path    string
	labels  metrics.Snapshot // bucket, workflow, report, version
	started time.Time
	logger  *slog.Logger

	mu   sync.Mutex
	live func() metrics.Snapshot // the run's numbers; nil before the run starts
	w    *metrics.Writer
	// complete and executions are set by the command once the run ended.
	complete   bool
	executions map[string]int64
}

// newRunMetrics arms the metrics file of o, or returns nil when there is
// none or for a dry run (it triggers nothing: its exit 0 is not a success
// of the backfill, and its file would hide the last real run's). A path
// that cannot be written (metrics.CheckPath says what a metrics file
// needs) is not armed, and is the usage error (exit 2) that the run
// returns once the flags are found good: there is no file to write then.
func newRunMetrics(o runOptions, started time.Time, logger *slog.Logger) (*runMetrics, error) {
	if o.metricsFile == "" {
		return nil, nil
	}
	if err := metrics.CheckPath(o.metricsFile); err != nil {
		return nil, usageError("give --metrics-file a path in a folder that exists and can be written (mkdir -p "+quoteArgs([]string{filepath.Dir(o.metricsFile)})[0]+")", "--metrics-file: %v", err)
	}
	if o.dryRun {
		return nil, nil
	}
	return &runMetrics{
		path:    o.metricsFile,
		labels:  metrics.Snapshot{Bucket: o.bucket, Workflow: o.workflow, Report: o.reportPath, Version: version()},
		started: started,
		logger:  logger,
	}, nil
}

// start begins the periodic writes, with live giving the run's numbers.
func (m *runMetrics) start(ctx context.Context, live func() metrics.Snapshot) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.live = live
	m.w = metrics.Start(ctx, m.path, metrics.DefaultInterval, m.snapshot, func(err error) {
		m.logger.Warn("metrics file", "error", err)
	})
}

// snapshot is the file's content now: the labels, the run's numbers (none
// before it started) and its duration so far.
func (m *runMetrics) snapshot() metrics.Snapshot {
	var s metrics.Snapshot
	if m.live != nil {
		s = m.live()
	}
	s.Bucket, s.Workflow, s.Report, s.Version = m.labels.Bucket, m.labels.Workflow, m.labels.Report, m.labels.Version
	s.Duration = time.Since(m.started)
	return s
}

// finish writes the file's last word: the run ended with exit status code.
func (m *runMetrics) finish(code int) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.snapshot()
	s.ExitCode, s.Complete, s.Executions = code, m.complete, m.executions
	var err error
	if m.w != nil {
		err = m.w.Stop(s)
	} else {
		err = metrics.Write(m.path, s, time.Now())
	}
	if err != nil {
		m.logger.Warn("metrics file", "error", err)
	}
}

// clientSideNumbers are the metrics of a client-side run, read from its
// counters (atomics: safe while the run goes on).
func clientSideNumbers(c *runner.Counters, qps float64) func() metrics.Snapshot {
	return func() metrics.Snapshot {
		return metrics.Snapshot{
			Objects: metrics.Objects{
				Succeeded: c.Succeeded.Load(), Failed: c.Failed.Load(), Invalid: c.Invalid.Load(),
				Duplicate: c.Duplicates.Load(), Skipped: c.Skipped.Load(), Recovered: c.Recovered.Load(),
			},
			Calls: c.Calls.Load(), Retries: c.Retries.Load(), Throttled: c.Throttled.Load(),
			RateLimit: rateLimit(c, qps),
		}
	}
}

// rateLimit is the pacer's current limit for the metrics file: +Inf with
// no ceiling (--qps 0).
func rateLimit(c *runner.Counters, qps float64) float64 {
	if qps == 0 {
		return math.Inf(1)
	}
	return c.RateLimit()
}

// serverSideTotals are a server-side run's object counts once the job
// ended (or the run stopped), read from the report: while the run goes on
// only the executions recorded are known.
type serverSideTotals struct {
	ended             atomic.Bool
	succeeded, failed atomic.Int64
}

// serverSideNumbers are the metrics of a server-side run: while it goes on,
// the executions recorded stand for the objects that succeeded; once it
// ended, t says which objects succeeded in this run and which the job left
// without an execution (NotInJob, failed). The job makes no TriggerWorkflow
// call of ours.
func serverSideNumbers(c *serverside.Counters, t *serverSideTotals) func() metrics.Snapshot {
	return func() metrics.Snapshot {
		o := metrics.Objects{Succeeded: c.Executions.Load(), Invalid: c.Invalid.Load(), Duplicate: c.Duplicates.Load(), Skipped: c.Skipped.Load()}
		if t.ended.Load() {
			o.Succeeded, o.Failed = t.succeeded.Load(), t.failed.Load()
		}
		return metrics.Snapshot{Objects: o}
	}
}

// setComplete records whether the run read its source to its end.
func (m *runMetrics) setComplete(complete bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.complete = complete
	m.mu.Unlock()
}

// recordExecutions, after run --wait, gives the file the report's
// instances by execution state.
func (m *runMetrics) recordExecutions(o runOptions) {
	if m == nil || !o.wait {
		return
	}
	_, states, err := executionStates(o.reportPath)
	if err != nil {
		m.logger.Warn("metrics file: execution states", "error", err)
		return
	}
	m.mu.Lock()
	m.executions = states
	m.mu.Unlock()
}

// checkStatusMetrics refuses, before any look-up, a --metrics-file of
// status that cannot be written.
func checkStatusMetrics(path string) error {
	if err := metrics.CheckPath(path); err != nil {
		return usageError("give --metrics-file the run's metrics file, in a folder that exists", "--metrics-file: %v", err)
	}
	return nil
}

// writeStatusMetrics records, after `wftrigger status` ended with exit
// status code, the report's instances by execution state in the run's
// metrics file (metrics.WriteExecutions keeps the run's series). A status
// that looked nothing up (exit 2, or 4: a run holds the report and owns
// the file) writes nothing.
func writeStatusMetrics(path, reportPath string, code int, stderr io.Writer) {
	if code == exitUsage || code == exitLocked {
		return
	}
	h, states, err := executionStates(reportPath)
	if err == nil {
		err = metrics.WriteExecutions(path, metrics.Snapshot{Bucket: h.Meta.Bucket, Workflow: h.Meta.WorkflowID, Report: reportPath, Executions: states})
	}
	if err != nil {
		newLogger(stderr, "text").Warn("metrics file", "error", err)
	}
}

// executionStates counts the instances of the report at path by their
// recorded execution state; an instance never looked up, or whose state
// could not be learnt, counts as Unknown. For status and --wait.
func executionStates(path string) (report.Header, map[string]int64, error) {
	states := map[string]int64{}
	h, err := report.Scan(path, func(e report.Entry) error {
		if e.Status != report.Succeeded || e.InstanceID == "" {
			return nil
		}
		st := "Unknown"
		if e.Execution != nil && e.Execution.State != "" {
			st = e.Execution.State
		}
		states[st]++
		return nil
	})
	return h, states, err
}
