package runner

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The pace controller's constants. A quota we cannot see shows only in
// answers: throttled ones say the rate was above it, and the rate accepted
// while some were throttled is what it is. The controller is CUBIC on that
// accepted rate, as the adaptive retry mode of aws-sdk-go-v2, with three
// changes: at most one cut per window (with many calls in flight one
// overshoot comes back as many throttled answers, and cutting on each
// collapses the rate to 0.7ⁿ), a curve scaled to the last maximum (the
// SDK's absolute C = 0.4 takes 11 s to climb back to 2,000/s and 2.5 s to
// 20/s; quotas here span both), and a slow start that finds the quota
// before the first cut instead of opening at --qps.
const (
	// paceWindow is how long the controller gathers answers before it
	// judges them. A second holds 20 answers at the lowest quota the
	// controller is built for (20/s), enough to tell a share from noise,
	// and is short enough that an overshoot lasts one window at most.
	paceWindow = time.Second

	// paceBeta is the share of the measured accepted rate a cut keeps
	// (CUBIC's β; the AWS SDK's value). Cut from the accepted rate, not
	// from the limit: above the quota the accepted rate is the quota, so
	// one cut lands 30% under it however far the limit overshot. 0.7
	// leaves the quota's own jitter room; over one climb back the mean rate
	// is 92.5% of the maximum (1 − (1−β)/4), plus the time spent on it.
	paceBeta = 0.7

	// paceRecovery is CUBIC's K: the time a climb takes from a cut back to
	// the last maximum. The curve is wmax·(1 + c·(t−K)³) with
	// c = (1−β)/K³; it flattens near wmax (within 1% for ±1.3 s) and then
	// probes above it, slowly first: +0.5% after 1 s, +4% after 2 s, +13%
	// after 3 s, +50% after 4.8 s. 4 s keeps a steady quota's cycle near
	// 8 s (one throttled window in eight) and follows a quota that grew by
	// half within 10 s of reaching the plateau.
	paceRecovery = 4 * time.Second

	// paceCutShare is the share of a window's answers that must be
	// throttled for the window to cut; a window with fewer throttled
	// answers (but some) holds the limit, and stops the curve's clock, at
	// the quota's edge. Lower, and a stray SlowDown among thousands of
	// answers would cost 30% of the rate; higher, and each probe would
	// overshoot further before it is noticed. 2% is also far under the 5%
	// of throttled answers the pacer is meant to stay below.
	paceCutShare = 0.02

	// After a cut, the next window does not cut again (unless nothing at
	// all was accepted): its throttled answers are the last of the
	// overshoot (a quota counted per second stays spent until the second
	// ends, whatever the rate now; calls were in flight), and a second cut
	// would be from an accepted rate that says nothing of the quota.

	// paceCutMin is the fewest throttled answers that cut: one alone, at
	// the quota's edge, only holds the limit where it is (see answer).
	// Without it a quota of 50/s would cut on each stray answer that a
	// window boundary pushes over, every few seconds.
	paceCutMin = 2

	// paceStartRate is the first limit of a run (or --qps when lower):
	// the lowest quota the controller is built for, so that the first
	// window overshoots no quota.
	paceStartRate = 20

	// paceSlowStart is the factor the limit grows by each window until the
	// first cut (slow start): from 20/s it reaches 200/s in 6 s and
	// 2,000/s in 12 s, and the window that finds the quota sends at most
	// 1.5 times it. Doubling would get there in 7 s but send up to twice
	// the quota, and a quota that lets a burst through first hides the
	// overshoot for a window or two, so the first cut is the run's
	// largest share of throttled answers.
	paceSlowStart = 1.5

	// paceGrowthCap bounds the limit to this many times the answered rate
	// of the last window: when workers, not the limit, set the pace, the
	// limit does not climb far above what is sent, to burst when they
	// free up.
	paceGrowthCap = 2

	// paceRestartShare: a cut whose accepted rate is under this share of
	// the limit it cut (an outage, or a quota that fell tenfold) keeps the
	// last maximum as the memory of the quota instead of taking almost
	// nothing for it (CUBIC around that would take minutes to climb): at
	// the first window with nothing throttled the limit goes to β times
	// the memory and climbs as after a cut from it, so the rate finds the
	// quota again within seconds of an outage's end.
	paceRestartShare = 0.1
)

// paceCubicC is CUBIC's c, in the relative form: (1−β)/K³ per s³.
var paceCubicC = (1 - paceBeta) / math.Pow(paceRecovery.Seconds(), 3)

// controller is the adaptive policy: it turns answers into a limit. It is
// not safe for concurrent use (the pacer holds its lock) and reads no
// clock: every call says what time it is.
type controller struct {
	ceiling, floor float64

	limit     float64
	slowStart bool
	resume    float64   // after an outage in slow start: the limit to go back to
	wmax      float64   // the accepted rate at the last cut
	lastCut   time.Time // zero before the first cut
	plateau   bool      // the climb since the last cut reached wmax, or the quota's edge
	justCut   bool      // the window that ended last was a cut

	winStart           time.Time
	answers, throttled int
}

// paceEvent is what the controller did at the end of a window, for the log.
type paceEvent struct {
	kind      string  // "cut", "plateau", "ceiling"
	limit     float64 // the new limit
	accepted  float64 // accepted calls a second in the window
	throttled float64 // share of the window's answers that were throttled
	lastMax   float64
}

func newController(ceiling, floor float64, now time.Time) *controller {
	c := &controller{ceiling: ceiling, floor: floor, slowStart: true, winStart: now}
	c.limit = c.clamp(paceStartRate)
	return c
}

func (c *controller) clamp(r float64) float64 {
	return math.Max(c.floor, math.Min(c.ceiling, r))
}

// answer counts one answer at now and returns the limit to use, and an
// event when the window that ended changed phase.
func (c *controller) answer(now time.Time, throttled bool) (float64, *paceEvent) {
	c.answers++
	if throttled {
		c.throttled++
	}
	elapsed := now.Sub(c.winStart)
	if elapsed < paceWindow {
		return c.limit, nil
	}
	secs := elapsed.Seconds()
	answered := float64(c.answers) / secs
	accepted := float64(c.answers-c.throttled) / secs
	share := float64(c.throttled) / float64(c.answers)
	throttledN := c.throttled
	c.winStart, c.answers, c.throttled = now, 0, 0

	justCut := c.justCut
	c.justCut = false
	switch {
	case throttledN >= paceCutMin && share >= paceCutShare && (!justCut || accepted == 0):
		c.justCut = true
		prev := c.limit
		c.lastCut, c.plateau = now, false
		if accepted < paceRestartShare*prev {
			// Next to nothing got through: keep the last maximum as the
			// memory of the quota (before any, the limit that was in
			// force), and go back to it once answers do.
			c.slowStart = true
			if c.wmax == 0 {
				c.resume = max(c.resume, prev)
			}
		} else {
			c.wmax, c.slowStart, c.resume = accepted, false, 0
		}
		c.limit = c.clamp(paceBeta * accepted)
		return c.limit, &paceEvent{kind: "cut", limit: c.limit, accepted: accepted, throttled: share, lastMax: c.wmax}
	case throttledN > 0:
		// At the quota's edge: hold the limit, and the curve's clock.
		if !c.lastCut.IsZero() {
			c.lastCut = c.lastCut.Add(elapsed)
		}
		if !c.slowStart && !c.plateau {
			c.plateau = true
			return c.limit, &paceEvent{kind: "plateau", limit: c.limit, accepted: accepted, throttled: share, lastMax: c.wmax}
		}
		return c.limit, nil
	}

	was := c.limit
	var target float64
	switch {
	case c.slowStart && c.resume > 0:
		// Answers came back after an outage before any quota was found:
		// go back to where slow start was, and go on from there.
		c.limit = c.clamp(math.Max(c.limit, paceBeta*c.resume))
		c.resume = 0
		return c.limit, nil
	case c.slowStart && c.wmax > 0:
		// Answers came back after an outage: climb to the memory of the
		// quota as after a cut from it.
		c.slowStart, c.lastCut = false, now
		c.limit = c.clamp(math.Max(c.limit, paceBeta*c.wmax))
		return c.limit, nil
	case c.slowStart:
		target = paceSlowStart * c.limit
	default:
		t := now.Sub(c.lastCut).Seconds() - paceRecovery.Seconds()
		target = c.wmax * (1 + paceCubicC*t*t*t)
	}
	if target > c.limit {
		target = math.Min(target, math.Max(c.limit, paceGrowthCap*answered))
	}
	c.limit = c.clamp(math.Max(target, c.limit))
	var ev *paceEvent
	switch {
	case c.limit == c.ceiling && was < c.ceiling:
		ev = &paceEvent{kind: "ceiling", limit: c.limit, accepted: accepted, throttled: share, lastMax: c.wmax}
	case !c.slowStart && !c.plateau && c.limit >= c.wmax:
		c.plateau = true
		ev = &paceEvent{kind: "plateau", limit: c.limit, accepted: accepted, throttled: share, lastMax: c.wmax}
	}
	return c.limit, ev
}

// pacer is the one rate limiter shared by every worker: x/time/rate is the
// actuator, the controller (when adaptive) sets its limit from the answers.
// It also tracks how long every answer has been throttled, for the run's
// give-up rule.
type pacer struct {
	lim    *rate.Limiter // nil: no ceiling
	ctl    *controller   // nil: not adaptive
	now    func() time.Time
	logger *slog.Logger
	// turn lets one caller at a time wait on lim. Each waiter of
	// rate.Limiter.Wait holds a reservation made at the limit of the time:
	// with 32 workers at 50 calls a second, a cut would take 0.6 s to
	// take effect, and a raise would come as a burst.
	turn chan struct{}

	mu           sync.Mutex
	lastAccepted time.Time // the last answer that was not throttled, or the start
}

func newPacer(qps, minQPS float64, adaptive bool, now func() time.Time, logger *slog.Logger) *pacer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	start := now()
	p := &pacer{now: now, logger: logger, lastAccepted: start, turn: make(chan struct{}, 1)}
	if qps <= 0 {
		return p
	}
	limit := qps
	if adaptive {
		if minQPS <= 0 {
			minQPS = DefaultMinQPS
		}
		p.ctl = newController(qps, math.Min(minQPS, qps), start)
		limit = p.ctl.limit
	}
	p.lim = rate.NewLimiter(rate.Limit(limit), burstFor(limit))
	p.lim.SetLimitAt(start, rate.Limit(limit))
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
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	defer func() { <-p.turn }()
	return p.lim.Wait(ctx)
}

// Limit is the current rate, 0 when there is no ceiling.
func (p *pacer) Limit() float64 {
	if p.lim == nil {
		return 0
	}
	return float64(p.lim.Limit())
}

// Adaptive reports whether the pacer sets its own limit from the answers.
func (p *pacer) Adaptive() bool { return p.ctl != nil }

// Answered counts one answer of the service, throttled or not, and returns
// how long every answer has been throttled (0 after an accepted one).
func (p *pacer) Answered(throttled bool) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if !throttled {
		p.lastAccepted = now
	}
	if p.ctl != nil {
		was := p.ctl.limit
		limit, ev := p.ctl.answer(now, throttled)
		if limit != was {
			p.lim.SetLimitAt(now, rate.Limit(limit))
			p.lim.SetBurstAt(now, burstFor(limit))
		}
		if ev != nil {
			p.log(ev)
		}
	}
	if !throttled {
		return 0
	}
	return now.Sub(p.lastAccepted)
}

func (p *pacer) log(ev *paceEvent) {
	msg := map[string]string{
		"cut":     "pace: throttled, rate cut",
		"plateau": "pace: at the quota, holding",
		"ceiling": "pace: at --qps",
	}[ev.kind]
	p.logger.Info(msg, "event", ev.kind, "limit", round2(ev.limit), "accepted", round2(ev.accepted),
		"throttledShare", round2(ev.throttled), "lastMax", round2(ev.lastMax))
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
