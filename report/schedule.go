package report

import (
	"context"
	"log/slog"
	"time"
)

// DefaultRewriteInterval is how often a run rewrites its report at most
// (the journal holds the progress in between).
const DefaultRewriteInterval = time.Minute

// RewriteEvery rewrites the report from its journal while a run goes on:
// every d, or ten times as long as the last rewrite took if that is longer
// (a rewrite reads the whole journal, so on a huge run it must stay a small
// share of the work). A failed rewrite is logged; the journal still holds
// the progress. The returned func stops the schedule and waits for a
// rewrite in progress.
func (r *Report) RewriteEvery(ctx context.Context, d time.Duration, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait := d
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			start := time.Now()
			if err := r.Compact(); err != nil {
				logger.Warn("rewrite report", "error", err)
			}
			wait = max(d, 10*time.Since(start))
		}
	}()
	return func() { cancel(); <-done }
}
