package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/wftrigger/wftrigger/runner"
)

type progressConfig struct {
	mode     string // auto, bar, log, none
	total    int64  // rows expected, 0 when unknown
	out      io.Writer
	logger   *slog.Logger
	counters *runner.Counters
	qps      float64 // --qps: 0 shows the rate limit as none
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
		var accepted acceptedRate
		for {
			select {
			case <-ctx.Done():
				if bar != nil {
					bar.Describe(barDescription(cfg.counters, cfg.qps, accepted.rate))
					_ = bar.Set64(finished(cfg.counters))
					_ = bar.Finish()
				}
				return
			case now := <-t.C:
				n := finished(cfg.counters)
				accepted.sample(now, cfg.counters.Succeeded.Load())
				if bar != nil {
					if cfg.total > 0 && n > cfg.total {
						bar.ChangeMax64(n)
					}
					bar.Describe(barDescription(cfg.counters, cfg.qps, accepted.rate))
					_ = bar.Set64(n)
					continue
				}
				c := cfg.counters
				rate := float64(n-last) / now.Sub(lastAt).Seconds()
				last, lastAt = n, now
				attrs := []any{"done", n, "succeeded", c.Succeeded.Load(), "failed", c.Failed.Load(), "invalid", c.Invalid.Load(),
					"skipped", c.Skipped.Load(), "calls", c.Calls.Load(), "retries", c.Retries.Load(), "throttled", c.Throttled.Load(),
					"parked", c.Parked.Load(), "inFlight", c.InFlight.Load(), "perSecond", round1(rate), "acceptedPerSecond", round1(accepted.rate)}
				if cfg.qps > 0 {
					attrs = append(attrs, "rateLimit", round1(c.RateLimit()))
				}
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

// acceptedRate is the rate of calls CI accepted (objects succeeded), over
// the last second or more.
type acceptedRate struct {
	at   time.Time
	n    int64
	rate float64
}

// sample takes the succeeded count at now, and updates the rate once a
// second has passed since the last update.
func (a *acceptedRate) sample(now time.Time, n int64) {
	if a.at.IsZero() {
		a.at, a.n = now, n
		return
	}
	if d := now.Sub(a.at); d >= time.Second {
		a.rate = float64(n-a.n) / d.Seconds()
		a.at, a.n = now, n
	}
}

// round1 rounds v to a tenth: a number in the log, not a string.
func round1(v float64) float64 { return math.Round(v*10) / 10 }

// barDescription is the text before the bar: the pace (the current rate
// limit, the rate CI accepts, throttled answers), then the failures and
// retries so far, so that a run that fails is seen failing and a run that
// is throttled is seen slowed.
func barDescription(c *runner.Counters, qps, accepted float64) string {
	d := fmt.Sprintf("triggering · limit %s · %.1f/s accepted", rateText(c.RateLimit(), qps), accepted)
	var parts []string
	if n := c.Throttled.Load(); n > 0 {
		parts = append(parts, fmt.Sprintf("%d throttled", n))
	}
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
