package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
)

// simQuota is a service quota on a simulated clock: a token bucket that
// holds burst seconds of the rate (0: a fixed one-second window, N calls
// per calendar second). rate(t) is the quota t after the start; 0 is an
// outage (every call throttled).
type simQuota struct {
	rate  func(t time.Duration) float64
	burst float64

	tokens float64
	last   time.Duration
	second int64
	used   float64
}

func (q *simQuota) allow(t time.Duration) bool {
	r := q.rate(t)
	if q.burst == 0 {
		if s := int64(t / time.Second); s != q.second {
			q.second, q.used = s, 0
		}
		if r <= 0 || q.used+1 > r {
			return false
		}
		q.used++
		return true
	}
	q.tokens = math.Min(math.Max(1, r*q.burst), q.tokens+(t-q.last).Seconds()*r)
	q.last = t
	if r <= 0 || q.tokens < 1 {
		return false
	}
	q.tokens--
	return true
}

// simResult is a simulated run, second by second.
type simResult struct {
	accepted, throttled []int     // answers in each second
	limit               []float64 // the limit at the end of each second
	cuts                int
	maxLimit            float64
}

// simulate sends calls as fast as the pacer allows (every call waits for
// the limiter, no worker bound) for dur against q; each answer comes back
// latency after its call.
func simulate(p *pacer, clock *time.Time, start time.Time, q *simQuota, dur, latency time.Duration) simResult {
	type pending struct {
		due       time.Duration
		throttled bool
	}
	var (
		res   simResult
		queue []pending
	)
	secs := int(dur / time.Second)
	res.accepted, res.throttled, res.limit = make([]int, secs), make([]int, secs), make([]float64, secs)
	for t := time.Duration(0); t < dur; t += time.Millisecond {
		*clock = start.Add(t)
		for len(queue) > 0 && queue[0].due <= t {
			a := queue[0]
			queue = queue[1:]
			was := p.Limit()
			p.Answered(a.throttled)
			if p.Limit() < was {
				res.cuts++
			}
			s := int(t / time.Second)
			if a.throttled {
				res.throttled[s]++
			} else {
				res.accepted[s]++
			}
		}
		for p.lim.AllowN(*clock, 1) {
			queue = append(queue, pending{due: t + latency, throttled: !q.allow(t)})
		}
		res.maxLimit = math.Max(res.maxLimit, p.Limit())
		if (t+time.Millisecond)%time.Second == 0 {
			res.limit[int(t/time.Second)] = p.Limit()
		}
	}
	return res
}

// goodput is the accepted calls over [from, to) seconds against the quota
// offered then, and the throttled share of all answers over [0, to).
func (r simResult) goodput(q func(time.Duration) float64, from, to int) (good, throttled float64) {
	var acc, quota float64
	for s := from; s < to; s++ {
		acc += float64(r.accepted[s])
		for ms := 0; ms < 1000; ms += 10 {
			quota += q(time.Duration(s)*time.Second+time.Duration(ms)*time.Millisecond) / 100
		}
	}
	var thr, all float64
	for s := 0; s < to; s++ {
		thr += float64(r.throttled[s])
		all += float64(r.throttled[s] + r.accepted[s])
	}
	return acc / quota, thr / all
}

func newSimPacer(qps, minQPS float64, adaptive bool) (*pacer, *time.Time, time.Time) {
	start := time.Unix(1_700_000_000, 0)
	clock := start
	p := newPacer(qps, minQPS, adaptive, func() time.Time { return clock }, nil)
	return p, &clock, start
}

func fixedRate(r float64) func(time.Duration) float64 {
	return func(time.Duration) float64 { return r }
}

// TestPacerHoldsQuota: for quotas from 20 to 2,000 calls a second, with
// --qps far above, the steady part gets ≥ 90% of the quota with ≤ 5% of
// all answers throttled, for a quota counted per calendar second and for
// a token bucket that lets a tenth of a second of calls through at once
// (a whole second's bucket: ≤ 6%).
func TestPacerHoldsQuota(t *testing.T) {
	for _, quota := range []float64{20, 50, 200, 1000, 2000} {
		for _, burst := range []float64{0, 0.1, 1} {
			t.Run(fmt.Sprintf("quota=%g/burst=%gs", quota, burst), func(t *testing.T) {
				p, clock, start := newSimPacer(5000, 0, true)
				q := &simQuota{rate: fixedRate(quota), burst: burst}
				res := simulate(p, clock, start, q, 120*time.Second, 20*time.Millisecond)
				good, thr := res.goodput(q.rate, 20, 120)
				t.Logf("goodput %.1f%%, throttled %.2f%%, %d cuts, max limit %.0f", 100*good, 100*thr, res.cuts, res.maxLimit)
				if good < 0.90 {
					t.Errorf("goodput %.1f%% of the quota over the steady part, want ≥ 90%%", 100*good)
				}
				// A bucket that holds a whole second of calls hides an
				// overshoot until it is empty, so each probe overshoots
				// further: the share throttled is up to 6% there.
				maxThr := 0.05
				if burst >= 1 {
					maxThr = 0.06
				}
				if thr > maxThr {
					t.Errorf("throttled %.2f%% of all answers, want ≤ %g%%", 100*thr, 100*maxThr)
				}
			})
		}
	}
}

// TestPacerBelowQuota: with --qps under the quota the rate is --qps, and
// nothing is throttled.
func TestPacerBelowQuota(t *testing.T) {
	p, clock, start := newSimPacer(150, 0, true)
	q := &simQuota{rate: fixedRate(200)}
	res := simulate(p, clock, start, q, 30*time.Second, 20*time.Millisecond)
	for s := 10; s < 30; s++ {
		if res.throttled[s] != 0 || res.accepted[s] < 145 || res.accepted[s] > 155 {
			t.Fatalf("second %d: %d accepted, %d throttled; want 150 and 0", s, res.accepted[s], res.throttled[s])
		}
	}
	if res.maxLimit > 150 {
		t.Errorf("the limit reached %v, above --qps 150", res.maxLimit)
	}
}

// TestPacerNeverAboveQPS: whatever the answers, the limit stays at or under
// --qps and at or above the floor.
func TestPacerNeverAboveQPS(t *testing.T) {
	p, clock, start := newSimPacer(300, 5, true)
	// A quota that swings between nothing and far above --qps.
	q := &simQuota{rate: func(t time.Duration) float64 {
		if (t/(7*time.Second))%2 == 0 {
			return 0
		}
		return 10000
	}}
	res := simulate(p, clock, start, q, 60*time.Second, 5*time.Millisecond)
	min := math.Inf(1)
	for _, l := range res.limit {
		min = math.Min(min, l)
	}
	if res.maxLimit > 300 {
		t.Errorf("max limit %v, above --qps 300", res.maxLimit)
	}
	if min < 5 {
		t.Errorf("min limit %v, under the floor 5", min)
	}
	if min > 5 {
		t.Errorf("min limit %v: seven seconds of outage should have reached the floor 5", min)
	}
}

// TestPacerOneCutPerWindow: a window full of throttled answers cuts once,
// from the accepted rate, however many answers it holds; the window after
// a cut does not cut again.
func TestPacerOneCutPerWindow(t *testing.T) {
	p, clock, start := newSimPacer(1000, 0, true)
	// Slow start, every answer accepted: the limit grows by half each window.
	at := start
	for range 5 {
		n := int(p.Limit())
		for i := range n {
			*clock = at.Add(time.Duration(i+1) * time.Second / time.Duration(n))
			p.Answered(false)
		}
		at = at.Add(time.Second)
	}
	if got, want := p.Limit(), paceStartRate*math.Pow(paceSlowStart, 5); math.Abs(got-want) > 0.01 {
		t.Fatalf("after 5 s of slow start: %v, want %v", got, want)
	}
	// One window: 400 accepted, 600 throttled answers, then more throttled
	// answers in the same window after the cut.
	base := at
	for i := range 1000 {
		*clock = base.Add(time.Duration(i) * time.Millisecond)
		p.Answered(i%5 >= 2)
	}
	*clock = base.Add(time.Second)
	p.Answered(true) // closes the window
	want := paceBeta * 400
	if got := p.Limit(); math.Abs(got-want) > 1 {
		t.Fatalf("after a window of 60%% throttled at 400/s accepted: %v, want %v", got, want)
	}
	for i := range 500 {
		*clock = base.Add(time.Second + time.Duration(i)*time.Millisecond)
		p.Answered(true)
	}
	if got := p.Limit(); math.Abs(got-want) > 1 {
		t.Errorf("throttled answers inside the window after a cut: %v, want still %v", got, want)
	}
	// The next window, 20% throttled (the tail of the overshoot), does not
	// cut again; the one after, still throttled, does.
	window := func(from time.Time, n int) {
		for i := range n {
			*clock = from.Add(time.Duration(i+1) * time.Second / time.Duration(n))
			p.Answered(i%5 == 0)
		}
	}
	window(base.Add(time.Second), 280)
	if got := p.Limit(); math.Abs(got-want) > 1 {
		t.Errorf("the window after a cut, 20%% throttled: %v, want still %v", got, want)
	}
	window(base.Add(2*time.Second), 280)
	if got := p.Limit(); got >= want-1 {
		t.Errorf("the second window after a cut, 20%% throttled: %v, want a cut below %v", got, want)
	}
}

// TestPacerFollowsMovingQuota: a quota that halves, then grows by half, is
// followed within 10 s of each move.
func TestPacerFollowsMovingQuota(t *testing.T) {
	for _, burst := range []float64{0, 0.1} {
		t.Run(fmt.Sprintf("burst=%gs", burst), func(t *testing.T) {
			quota := func(t time.Duration) float64 {
				switch {
				case t < 40*time.Second:
					return 1000
				case t < 80*time.Second:
					return 500
				}
				return 750
			}
			p, clock, start := newSimPacer(5000, 0, true)
			q := &simQuota{rate: quota, burst: burst}
			res := simulate(p, clock, start, q, 120*time.Second, 20*time.Millisecond)
			for _, move := range []int{40, 80} {
				good, _ := res.goodput(quota, move+10, move+40)
				t.Logf("after the move at %d s: goodput %.1f%% from %d s", move, 100*good, move+10)
				if good < 0.90 {
					t.Errorf("quota moved at %d s: goodput %.1f%% of the new quota from 10 s after, want ≥ 90%%", move, 100*good)
				}
			}
			_, thr := res.goodput(quota, 0, 120)
			if thr > 0.05 {
				t.Errorf("throttled %.2f%% of all answers, want ≤ 5%%", 100*thr)
			}
		})
	}
}

// TestPacerOutageRecovery: after 20 s of every call throttled, the rate
// is at the floor, and it finds the quota again within 10 s.
func TestPacerOutageRecovery(t *testing.T) {
	quota := func(t time.Duration) float64 {
		if t >= 20*time.Second && t < 40*time.Second {
			return 0
		}
		return 200
	}
	p, clock, start := newSimPacer(1000, 0, true)
	q := &simQuota{rate: quota}
	res := simulate(p, clock, start, q, 80*time.Second, 20*time.Millisecond)
	if l := res.limit[38]; l != DefaultMinQPS {
		t.Errorf("limit %v during the outage, want the floor %v", l, DefaultMinQPS)
	}
	good, _ := res.goodput(quota, 50, 80)
	if good < 0.9 {
		t.Errorf("goodput %.1f%% from 10 s after the outage, want ≥ 90%%", 100*good)
	}
}

// TestPacerFixed: --adaptive=false holds --qps whatever the answers.
func TestPacerFixed(t *testing.T) {
	p, clock, start := newSimPacer(100, 0, false)
	for i := range 5000 {
		*clock = start.Add(time.Duration(i) * time.Millisecond)
		p.Answered(true)
	}
	if got := p.Limit(); got != 100 {
		t.Errorf("--adaptive=false: %v, want 100", got)
	}
	if got := newPacer(0, 0, true, time.Now, nil).Limit(); got != 0 {
		t.Errorf("--qps 0: limit %v, want none", got)
	}
	if err := newPacer(0, 0, true, time.Now, nil).Wait(context.Background()); err != nil {
		t.Errorf("--qps 0: Wait = %v", err)
	}
}

// TestPacerThrottledFor: Answered says how long every answer has been
// throttled.
func TestPacerThrottledFor(t *testing.T) {
	p, clock, start := newSimPacer(100, 0, true)
	*clock = start.Add(time.Minute)
	if got := p.Answered(true); got != time.Minute {
		t.Errorf("throttled since the start: %v, want 1m", got)
	}
	p.Answered(false)
	*clock = start.Add(2 * time.Minute)
	if got := p.Answered(true); got != time.Minute {
		t.Errorf("throttled since the last accepted answer: %v, want 1m", got)
	}
	if got := p.Answered(false); got != 0 {
		t.Errorf("accepted answer: %v, want 0", got)
	}
}

// TestPacerLogsCutsAndPlateaus: a cut and the climb back to the last
// maximum each log one line, with numbers as JSON numbers.
func TestPacerLogsCutsAndPlateaus(t *testing.T) {
	var buf bytes.Buffer
	start := time.Unix(1_700_000_000, 0)
	clock := start
	p := newPacer(5000, 0, true, func() time.Time { return clock }, slog.New(slog.NewJSONHandler(&buf, nil)))
	q := &simQuota{rate: fixedRate(200)}
	simulate(p, &clock, start, q, 30*time.Second, 20*time.Millisecond)
	events := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec struct {
			Event    string   `json:"event"`
			Limit    *float64 `json:"limit"`
			Accepted *float64 `json:"accepted"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Limit == nil || rec.Accepted == nil {
			t.Fatalf("log line %s: want event, limit and accepted as numbers (%v)", line, err)
		}
		events[rec.Event]++
	}
	if events["cut"] == 0 || events["plateau"] == 0 {
		t.Errorf("logged events %v, want cuts and plateaus", events)
	}
}
