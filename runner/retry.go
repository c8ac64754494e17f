package runner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Policy is how calls are retried: up to MaxAttempts tries, full-jitter
// exponential backoff from Base up to Cap, never sooner than a Retry-After
// the service asked for, Timeout per call.
type Policy struct {
	MaxAttempts int
	Base, Cap   time.Duration
	Timeout     time.Duration
}

// DefaultPolicy is the contract's default: DefaultMaxAttempts attempts,
// backoff from DefaultBackoffBase to DefaultBackoffCap, DefaultTimeout a call.
func DefaultPolicy() Policy {
	return Policy{MaxAttempts: DefaultMaxAttempts, Base: DefaultBackoffBase, Cap: DefaultBackoffCap, Timeout: DefaultTimeout}
}

// withDefaults fills the zero fields of p from DefaultPolicy.
func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.Base <= 0 {
		p.Base = d.Base
	}
	if p.Cap <= 0 {
		p.Cap = d.Cap
	}
	if p.Timeout <= 0 {
		p.Timeout = d.Timeout
	}
	return p
}

// Backoff is the pause before attempt n+1 after attempt n (n ≥ 1) failed with err.
func (p Policy) Backoff(n int, err error) time.Duration {
	ceil := p.Cap
	if shift := n - 1; shift < 30 {
		if d := p.Base << shift; d > 0 && d < ceil {
			ceil = d
		}
	}
	d := time.Duration(rand.Int64N(int64(ceil) + 1))
	if ra := retryAfter(err); ra > d {
		d = min(ra, p.Cap)
	}
	return d
}

// Do calls call until it succeeds, fails with an error whose outcome
// (OutcomeOf) is not worth a retry, or MaxAttempts calls were made. Each call gets its own Timeout.
// op names the operation when a wait between calls is cut short (the
// calls' own errors name it already).
func (p Policy) Do(ctx context.Context, op string, call func(ctx context.Context) error) error {
	for n := 1; ; n++ {
		err := p.call(ctx, call)
		if err == nil {
			return nil
		}
		if !OutcomeOf(err).retry() || n >= p.MaxAttempts || ctx.Err() != nil {
			if n == 1 {
				return err
			}
			return fmt.Errorf("%w (after %d attempts)", err, n)
		}
		if err := sleep(ctx, p.Backoff(n, err)); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
}

// doPaced is Do with every call, retries included, waiting for its turn
// of pace and telling it whether the answer was throttled: look-ups share
// the run's quota with the triggers.
func (p Policy) doPaced(ctx context.Context, pace *pacer, op string, call func(ctx context.Context) error) error {
	return p.Do(ctx, op, func(ctx context.Context) error {
		if err := pace.Wait(ctx); err != nil {
			return err
		}
		err := call(ctx)
		pace.Answered(OutcomeOf(err) == Throttled)
		return err
	})
}

func (p Policy) call(ctx context.Context, call func(ctx context.Context) error) error {
	if p.Timeout <= 0 {
		return call(ctx)
	}
	cctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	return call(cctx)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// Threshold is --max-failures: a count of failed objects, or a percentage of
// the finished ones.
type Threshold struct {
	Count   int     // used when Percent is 0
	Percent float64 // 0 < Percent ≤ 100
}

// ParseThreshold reads "N" or "P%".
func ParseThreshold(s string) (Threshold, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v <= 0 || v > 100 {
			return Threshold{}, fmt.Errorf("max failures %q: want a percentage in (0, 100]", s)
		}
		return Threshold{Percent: v}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return Threshold{}, fmt.Errorf("max failures %q: want a count (10) or a percentage (5%%)", s)
	}
	return Threshold{Count: n}, nil
}

// String prints the threshold as it is parsed.
func (t Threshold) String() string {
	if t.Percent > 0 {
		return strconv.FormatFloat(t.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(t.Count)
}

// exceeded reports whether failed out of finished passes the threshold. A
// percentage is judged only once 100 objects have finished.
func (t Threshold) exceeded(failed, finished int) bool {
	if t.Percent > 0 {
		return finished >= 100 && float64(failed) > t.Percent/100*float64(finished)
	}
	return failed > t.Count
}
