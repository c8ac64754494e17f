package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/wftrigger/wftrigger/runner"
)

type progressConfig struct {
	mode        string // auto, bar, log, none
	total       int64  // rows expected, 0 when unknown
	out         io.Writer
	logger      *slog.Logger
	counters    *runner.Counters
	metricsFile string
}

// finished is how many rows have reached their end in this run.
func finished(c *runner.Counters) int64 {
	return c.Succeeded.Load() + c.Failed.Load() + c.Invalid.Load() + c.Duplicates.Load() + c.Skipped.Load()
}

// startProgress shows the run's progress until the returned func is called;
// that func returns how long the run took.
func startProgress(ctx context.Context, cfg progressConfig) func() time.Duration {
	start := time.Now()
	mode := cfg.mode
	if mode == "auto" {
		mode = "log"
		if isTerminal(cfg.out) {
			mode = "bar"
		}
	}
	if mode == "none" {
		return func() time.Duration { return time.Since(start) }
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var bar *progressbar.ProgressBar
	tick := 10 * time.Second
	if mode == "bar" {
		max := cfg.total
		if max <= 0 {
			max = -1
		}
		bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(cfg.out),
			progressbar.OptionSetDescription("triggering"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("obj"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionFullWidth(),
			progressbar.OptionClearOnFinish(),
		)
		tick = 200 * time.Millisecond
	}
	go func() {
		defer close(done)
		t := time.NewTicker(tick)
		defer t.Stop()
		last, lastAt := int64(0), start
		for {
			select {
			case <-ctx.Done():
				if bar != nil {
					bar.Describe(barDescription(cfg.counters))
					_ = bar.Set64(finished(cfg.counters))
					_ = bar.Finish()
				}
				return
			case now := <-t.C:
				n := finished(cfg.counters)
				if bar != nil {
					if cfg.total > 0 && n > cfg.total {
						bar.ChangeMax64(n)
					}
					bar.Describe(barDescription(cfg.counters))
					_ = bar.Set64(n)
					continue
				}
				c := cfg.counters
				rate := float64(n-last) / now.Sub(lastAt).Seconds()
				last, lastAt = n, now
				attrs := []any{"done", n, "succeeded", c.Succeeded.Load(), "failed", c.Failed.Load(), "invalid", c.Invalid.Load(),
					"skipped", c.Skipped.Load(), "calls", c.Calls.Load(), "retries", c.Retries.Load(), "inFlight", c.InFlight.Load(),
					"perSecond", fmt.Sprintf("%.1f", rate)}
				if cfg.total > 0 {
					attrs = append(attrs, "total", cfg.total)
				}
				cfg.logger.Info("progress", attrs...)
			}
		}
	}()
	var once sync.Once
	var elapsed time.Duration
	return func() time.Duration {
		once.Do(func() {
			cancel()
			<-done
			elapsed = time.Since(start)
		})
		return elapsed
	}
}

// barDescription is the text before the bar: what is going on, and the
// failures and retries so far, so that a run that fails is seen failing.
func barDescription(c *runner.Counters) string {
	d := "triggering"
	var parts []string
	if n := c.Failed.Load(); n > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", n))
	}
	if n := c.Invalid.Load(); n > 0 {
		parts = append(parts, fmt.Sprintf("%d invalid", n))
	}
	if n := c.Retries.Load(); n > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", n, plural(n, "retry", "retries")))
	}
	if len(parts) > 0 {
		d += " (" + strings.Join(parts, ", ") + ")"
	}
	return d
}

func isTerminal(w io.Writer) bool {
	if rw, ok := w.(*redactingWriter); ok {
		w = rw.w
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// redactingWriter removes secrets from everything written through it: the
// last guard between a server's echo of a secret and the terminal.
type redactingWriter struct {
	w      io.Writer
	redact func(string) string
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	clean := r.redact(string(p))
	if len(clean) == len(p) && bytes.Equal([]byte(clean), p) {
		return r.w.Write(p)
	}
	if _, err := io.WriteString(r.w, clean); err != nil {
		return 0, err
	}
	return len(p), nil
}
