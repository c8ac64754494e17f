package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"

	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/runner"
)

// newRunID is the id every log line of one run carries ("run"), so that
// the lines of two runs interleaved in one log (cron, a shared collector)
// are told apart: 8 random hex digits.
func newRunID() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on the systems Go supports; the time
		// still tells runs apart.
		return fmt.Sprintf("%08x", uint32(time.Now().UnixNano()))
	}
	return hex.EncodeToString(b[:])
}

// logStart logs what a run is about to do: its source, its target, its
// pace, its window and the credential source (a description, never a
// secret), so that a cron log says what each run was.
func logStart(logger *slog.Logger, o runOptions, source, ciEndpoint, cosEndpoint, credentials string) {
	attrs := []any{
		"version", version(),
		"source", source,
		slog.Group("target", "bucket", o.bucket, "workflow", o.workflow, "ciEndpoint", ciEndpoint, "cosEndpoint", cosEndpoint),
		slog.Group("pace", "concurrency", o.concurrency, "qps", o.qps, "adaptive", o.adaptive, "maxAttempts", o.maxAttempts),
		"report", o.reportPath,
		"credentials", credentials,
	}
	if o.maxDuration > 0 {
		attrs = append(attrs, "maxDuration", o.maxDuration.String())
	}
	mode := "client-side"
	switch {
	case o.dryRun:
		mode = "dry run"
	case o.serverSide:
		mode = "server-side"
	}
	attrs = append(attrs, "mode", mode)
	logger.Info("start", attrs...)
}

// rateText is the pacer's current limit as the progress and the summary
// show it.
func rateText(limit, qps float64) string {
	if qps == 0 {
		return "none"
	}
	return fmt.Sprintf("%.1f/s", limit)
}

// reportAttr is the "report" group of a JSON summary.
func reportAttr(path string, sum report.Summary, complete bool) slog.Attr {
	return slog.Group("report", "path", path, "total", sum.Total, "succeeded", sum.Succeeded, "failed", sum.Failed,
		"invalid", sum.Invalid, "duplicates", sum.Duplicates, "complete", complete)
}

// durationSeconds is d in seconds, to the millisecond, for a JSON summary.
func durationSeconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// printRunSummary prints the run's last word to stdout: a line of text, or
// with --log-format json one JSON object (numbers as numbers) with the
// run's id.
func printRunSummary(w io.Writer, o runOptions, runID string, sum report.Summary, c *runner.Counters, complete bool, code int, elapsed time.Duration) {
	limit := c.RateLimit()
	if o.logFormat == "json" {
		rate := any(limit)
		if o.qps == 0 {
			rate = nil // no ceiling: JSON has no +Inf
		}
		slog.New(slog.NewJSONHandler(w, nil)).Info("summary", "run", runID,
			reportAttr(o.reportPath, sum, complete),
			slog.Group("thisRun", "calls", c.Calls.Load(), "retries", c.Retries.Load(), "throttled", c.Throttled.Load(),
				"succeeded", c.Succeeded.Load(), "failed", c.Failed.Load(), "invalid", c.Invalid.Load(),
				"skipped", c.Skipped.Load(), "duplicates", c.Duplicates.Load(), "recovered", c.Recovered.Load(),
				"rateLimit", rate, "durationSeconds", durationSeconds(elapsed)),
			exitAttr(o, code))
		return
	}
	fmt.Fprintf(w, "%s: %d objects in the report: %d succeeded, %d failed, %d invalid; this run: %d calls, %d retries, %d already succeeded, %d duplicates, %d found in the execution list, %d throttled answers, rate limit %s at the end, %s",
		o.reportPath, sum.Total, sum.Succeeded, sum.Failed, sum.Invalid, c.Calls.Load(), c.Retries.Load(),
		c.Skipped.Load(), c.Duplicates.Load(), c.Recovered.Load(), c.Throttled.Load(), rateText(limit, o.qps), elapsed.Round(time.Millisecond))
	if !complete {
		fmt.Fprint(w, "; the source was not read to its end")
	}
	fmt.Fprintln(w)
}

// logExit logs a run's error (and its hint) as the last line of a JSON
// log, so that every line on stderr is a JSON object, and returns the exit
// status alone for main to print nothing more.
func logExit(logger *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	code := exitCodeOf(err)
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return err // nothing to say: -h, or already said
	}
	switch {
	case errors.Is(err, context.Canceled):
		logger.Info("stopped; rerun the same command to resume", "exitCode", code)
	default:
		attrs := []any{"error", err.Error(), "exitCode", code}
		if ee != nil && ee.hint != "" {
			attrs = append(attrs, "hint", ee.hint)
		}
		logger.Error("run ended", attrs...)
	}
	return &exitError{code: code}
}

// exitAttr is the exit status of the triggers in the JSON summary; with
// --wait the run's status is only known once the executions have ended, so
// the summary leaves it out.
func exitAttr(o runOptions, code int) slog.Attr {
	if o.wait {
		return slog.Attr{}
	}
	return slog.Int("exitCode", code)
}
