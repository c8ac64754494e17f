package emulator

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wftrigger/wftrigger/internal/textlist"
)

// Quota is a service quota on triggers that can move during a run: a rate
// that follows Steps (counted per second, or a token bucket: see Burst),
// and Outages during which every trigger is throttled. Times are offsets from the first trigger the Server gets
// (so a schedule lines up with the run that sends them, however long the
// emulator was up before). Throttled triggers are answered 503 SlowDown,
// before any other fault.
type Quota struct {
	// Steps are the quota's rates: each holds from its At until the next
	// step's. Before the first step there is no quota. Rate 0 throttles
	// everything, like an outage.
	Steps []QuotaStep
	// Outages are spans during which every trigger is throttled.
	Outages []Outage
	// Burst, when > 0, makes the quota a token bucket that holds Burst of
	// the rate (calls that may come at once after a quiet spell; one
	// second's worth is Faults.QPS). 0 counts calls per second, from the
	// first trigger: at most Rate accepted in each ("N requests a second",
	// read literally), with nothing carried over from a quiet second.
	Burst time.Duration
}

// QuotaStep is the quota's rate from At on.
type QuotaStep struct {
	At   time.Duration
	Rate float64 // calls a second
}

// Outage is a span of At to At+For during which every trigger is throttled.
type Outage struct {
	At, For time.Duration
}

// QuotaSecond is one second of a Quota's record.
type QuotaSecond struct {
	Quota     float64 // the rate then (0 during an outage)
	Accepted  int64   // triggers let through by the quota
	Throttled int64   // triggers throttled by the quota
}

// ParseQuotaSchedule reads "RATE" or "T:RATE,T:RATE,…" (T a Go duration
// from the first trigger, RATE calls a second), such as "0s:200,20s:100".
func ParseQuotaSchedule(s string) ([]QuotaStep, error) {
	var steps []QuotaStep
	for _, item := range textlist.Split(s) {
		at, rateStr, ok := strings.Cut(item, ":")
		if !ok {
			at, rateStr = "0s", item
		}
		d, err := time.ParseDuration(at)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("quota schedule %q: step %q: want T:RATE with T a duration such as 20s", s, item)
		}
		r, err := strconv.ParseFloat(rateStr, 64)
		if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, fmt.Errorf("quota schedule %q: step %q: want a rate of calls a second, 0 or more", s, item)
		}
		steps = append(steps, QuotaStep{At: d, Rate: r})
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At < steps[j].At })
	return steps, nil
}

// ParseOutage reads "AT+FOR", such as "10s+20s": every trigger throttled
// for FOR, from AT after the first trigger.
func ParseOutage(s string) (Outage, error) {
	at, dur, ok := strings.Cut(s, "+")
	a, err1 := time.ParseDuration(strings.TrimSpace(at))
	d, err2 := time.ParseDuration(strings.TrimSpace(dur))
	if !ok || err1 != nil || err2 != nil || a < 0 || d <= 0 {
		return Outage{}, fmt.Errorf("outage %q: want AT+FOR, such as 10s+20s", s)
	}
	return Outage{At: a, For: d}, nil
}

// quotaState is a Quota at work.
type quotaState struct {
	on      atomic.Bool // the quota limits anything: read without mu
	mu      sync.Mutex
	q       Quota
	started bool
	start   time.Time
	tokens  float64
	last    time.Time
	seconds []QuotaSecond
}

func newQuotaState(q Quota) *quotaState {
	qs := &quotaState{q: sortedSteps(q)}
	qs.on.Store(qs.active())
	return qs
}

// sortedSteps is q with its own copy of its steps, in time order.
func sortedSteps(q Quota) Quota {
	q.Steps = append([]QuotaStep(nil), q.Steps...)
	sort.SliceStable(q.Steps, func(i, j int) bool { return q.Steps[i].At < q.Steps[j].At })
	return q
}

// active reports whether the quota limits anything at all.
func (qs *quotaState) active() bool {
	return len(qs.q.Steps) > 0 || len(qs.q.Outages) > 0
}

// rateAt is the quota's rate at offset t, and whether there is one.
func (qs *quotaState) rateAt(t time.Duration) (float64, bool) {
	for _, o := range qs.q.Outages {
		if t >= o.At && t < o.At+o.For {
			return 0, true
		}
	}
	r, ok := 0.0, false
	for _, s := range qs.q.Steps {
		if s.At > t {
			break
		}
		r, ok = s.Rate, true
	}
	return r, ok
}

// allow takes one call from the bucket at the clock's time, and reports
// whether the quota let it through; a quota that limits nothing lets every
// call through without reading the clock or keeping a record.
func (qs *quotaState) allow(clock func() time.Time) bool {
	if !qs.on.Load() {
		return true // no lock taken on every trigger
	}
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if !qs.active() {
		return true
	}
	now := clock()
	if !qs.started {
		qs.started, qs.start, qs.last = true, now, now
		if r, ok := qs.rateAt(0); ok {
			qs.tokens = qs.capacity(r)
		}
	}
	t := now.Sub(qs.start)
	r, limited := qs.rateAt(t)
	if dt := now.Sub(qs.last).Seconds(); dt > 0 {
		qs.tokens = math.Min(qs.capacity(r), qs.tokens+dt*r)
		qs.last = now
	}
	sec := int(max(0, t) / time.Second)
	for len(qs.seconds) <= sec {
		qr, _ := qs.rateAt(time.Duration(len(qs.seconds)) * time.Second)
		qs.seconds = append(qs.seconds, QuotaSecond{Quota: qr})
	}
	var ok bool
	switch {
	case !limited:
		ok = true
	case qs.q.Burst <= 0:
		ok = float64(qs.seconds[sec].Accepted)+1 <= r
	default:
		ok = r > 0 && qs.tokens >= 1
		if ok {
			qs.tokens--
		}
	}
	if ok {
		qs.seconds[sec].Accepted++
	} else {
		qs.seconds[sec].Throttled++
	}
	return ok
}

func (qs *quotaState) capacity(r float64) float64 {
	return math.Max(1, r*qs.q.Burst.Seconds())
}

// SetQuota replaces the quota; a schedule's times stay offsets from the
// first trigger the Server got.
func (s *Server) SetQuota(q Quota) {
	s.quota.mu.Lock()
	s.quota.q = sortedSteps(q)
	s.quota.on.Store(s.quota.active())
	s.quota.mu.Unlock()
}

// QuotaSeconds returns the quota's record, one item a second from the
// first trigger: the rate, and the triggers it let through and throttled.
func (s *Server) QuotaSeconds() []QuotaSecond {
	qs := s.quota
	qs.mu.Lock()
	defer qs.mu.Unlock()
	return append([]QuotaSecond(nil), qs.seconds...)
}

// throttledByQuota answers a trigger 503 SlowDown when the quota is spent,
// and reports whether it did.
func (s *Server) throttledByQuota(w http.ResponseWriter, r *http.Request, rid string) bool {
	if s.quota.allow(s.now) {
		return false
	}
	s.stats.faults.Add(1)
	s.writeError(w, r, serviceCI, rid, errSlowDown())
	return true
}
