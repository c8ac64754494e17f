package runner

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer is the one rate limiter shared by every worker. With adaptive on, it
// watches the answers a second at a time: when at least 5% of a second's
// answers were throttling, it cuts the rate by 30%; once 5 s have passed
// without a cut, it raises the rate by 5% of the ceiling each second, back up
// to the ceiling. A stray throttled answer among many does not cut: what
// cuts is a share of them, which is how a quota shows.
type pacer struct {
	lim      *rate.Limiter // nil: no ceiling
	ceiling  float64
	floor    float64
	adaptive bool
	now      func() time.Time

	mu              sync.Mutex
	windowStart     time.Time
	calls, throttle int
	lastCut         time.Time
}

// The adaptive pacer's constants.
const (
	throttleShare = 0.05            // share of a second's answers, throttled, that cuts the rate
	cutFactor     = 0.7             // a cut keeps 70% of the rate
	raiseAfter    = 5 * time.Second // no raise sooner than this after a cut
	raiseShare    = 0.05            // a raise adds 5% of the ceiling a second
	paceWindow    = time.Second     // answers are judged a second at a time
)

func newPacer(qps float64, adaptive bool, now func() time.Time) *pacer {
	p := &pacer{ceiling: qps, adaptive: adaptive && qps > 0, now: now, floor: math.Min(1, qps)}
	if qps > 0 {
		p.lim = rate.NewLimiter(rate.Limit(qps), burstFor(qps))
	}
	return p
}

// burstFor allows a twentieth of a second of calls at once: smooth at low
// rates, and no limiter round trip per call at high ones.
func burstFor(qps float64) int {
	return max(1, int(qps/20))
}

// Wait blocks until the next call may start.
func (p *pacer) Wait(ctx context.Context) error {
	if p.lim == nil {
		return ctx.Err()
	}
	return p.lim.Wait(ctx)
}

// Limit is the current rate, 0 when there is no ceiling.
func (p *pacer) Limit() float64 {
	if p.lim == nil {
		return 0
	}
	return float64(p.lim.Limit())
}

// Answered counts one answer of the service, throttling or not, and adapts
// the rate at the end of each second.
func (p *pacer) Answered(throttled bool) {
	if !p.adaptive {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.windowStart.IsZero() {
		p.windowStart, p.lastCut = now, now.Add(-time.Hour)
	}
	p.calls++
	if throttled {
		p.throttle++
	}
	if now.Sub(p.windowStart) < paceWindow {
		return
	}
	cur := float64(p.lim.Limit())
	switch {
	case p.throttle > 0 && float64(p.throttle) >= throttleShare*float64(p.calls):
		p.set(now, math.Max(p.floor, cur*cutFactor))
		p.lastCut = now
	case cur < p.ceiling && now.Sub(p.lastCut) >= raiseAfter:
		p.set(now, math.Min(p.ceiling, cur+p.ceiling*raiseShare))
	}
	p.windowStart, p.calls, p.throttle = now, 0, 0
}

func (p *pacer) set(now time.Time, r float64) {
	p.lim.SetLimitAt(now, rate.Limit(r))
	p.lim.SetBurstAt(now, burstFor(r))
}
