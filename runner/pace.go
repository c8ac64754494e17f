package runner

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer is the one rate limiter shared by every worker. With adaptive on, it
// lowers the rate when the service throttles and raises it back toward the
// ceiling while it does not.
type pacer struct {
	lim      *rate.Limiter // nil: no ceiling
	ceiling  float64
	floor    float64
	adaptive bool

	mu        sync.Mutex
	lastCut   time.Time
	lastRaise time.Time
	now       func() time.Time
}

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

// Throttled lowers the rate by 30%, at most once a second (one burst of
// throttled answers is one signal, not fifty).
func (p *pacer) Throttled() {
	if !p.adaptive {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.Sub(p.lastCut) < time.Second {
		return
	}
	p.lastCut, p.lastRaise = now, now
	cur := float64(p.lim.Limit())
	next := math.Max(p.floor, cur*0.7)
	p.lim.SetLimitAt(now, rate.Limit(next))
	p.lim.SetBurstAt(now, burstFor(next))
}

// Succeeded raises the rate by 5% of the ceiling, at most once a second and
// not sooner than 5 s after the last cut.
func (p *pacer) Succeeded() {
	if !p.adaptive {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	cur := float64(p.lim.Limit())
	if cur >= p.ceiling || now.Sub(p.lastCut) < 5*time.Second || now.Sub(p.lastRaise) < time.Second {
		return
	}
	p.lastRaise = now
	next := math.Min(p.ceiling, cur+p.ceiling*0.05)
	p.lim.SetLimitAt(now, rate.Limit(next))
	p.lim.SetBurstAt(now, burstFor(next))
}
