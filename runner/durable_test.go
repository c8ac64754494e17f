package runner

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/report"
)

// orderLog numbers the events of a run: a Dispatched record made durable
// (its Record or RecordAll returned) and a call sent.
type orderLog struct {
	mu      sync.Mutex
	n       int
	durable map[string]int // key → the event at which its Dispatched record was durable
	sent    map[string]int // key → the event of its first call
	bad     []string       // keys called before their record was durable
}

func (o *orderLog) durableNow(es []report.Entry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range es {
		if e.Status != report.Dispatched {
			continue
		}
		o.n++
		if _, ok := o.durable[e.Key]; !ok {
			o.durable[e.Key] = o.n
		}
	}
}

func (o *orderLog) sentNow(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n++
	if _, ok := o.sent[key]; ok {
		return
	}
	o.sent[key] = o.n
	if d, ok := o.durable[key]; !ok || d > o.n {
		o.bad = append(o.bad, key)
	}
}

// fsyncLedger is a fakeLedger whose Dispatched records become durable only
// after a pause (an fsync), logged when Record or RecordAll returns.
type fsyncLedger struct {
	*fakeLedger
	log *orderLog
}

func (l fsyncLedger) Record(e report.Entry) error {
	return l.RecordAll([]report.Entry{e})
}

func (l fsyncLedger) RecordAll(es []report.Entry) error {
	if err := l.fakeLedger.RecordAll(es); err != nil {
		return err
	}
	for _, e := range es {
		if e.Status == report.Dispatched {
			time.Sleep(200 * time.Microsecond) // the fsync
			break
		}
	}
	l.log.durableNow(es)
	return nil
}

// orderAPI logs each call as sent before answering it.
type orderAPI struct {
	*fakeAPI
	log *orderLog
}

func (a orderAPI) Trigger(ctx context.Context, in TriggerInput) (TriggerResult, error) {
	a.log.sentNow(in.Key)
	return a.fakeAPI.Trigger(ctx, in)
}

// A call is sent only once its object's Dispatched record is durable:
// objects announced by the journal stage, objects whose answer was lost
// (looked up, then triggered again), objects an earlier run left uncertain,
// and objects of a run stopped midway.
func TestCallSentOnlyAfterDispatchedIsDurable(t *testing.T) {
	for _, stop := range []bool{false, true} {
		log := &orderLog{durable: map[string]int{}, sent: map[string]int{}}
		l := newLedger()
		ks := keys(600)
		for _, k := range ks[:20] {
			l.prior[k] = report.Prior{State: report.Uncertain, DispatchedAt: time.Now().Add(-time.Hour)}
		}
		ctx, cancel := context.WithCancel(context.Background())
		var mu sync.Mutex
		calls := 0
		api := &fakeAPI{answer: func(key string, n int) (TriggerResult, error) {
			mu.Lock()
			calls++
			c := calls
			mu.Unlock()
			if stop && c == 300 {
				cancel()
			}
			if n == 1 && c%7 == 0 {
				return TriggerResult{}, lostAnswer
			}
			return ok, nil
		}}
		cfg := testConfig()
		cfg.Concurrency = 8
		err := Run(ctx, cfg, &rows{keys: ks}, orderAPI{api, log}, fsyncLedger{l, log}, &Counters{})
		cancel()
		if !stop && err != nil {
			t.Fatal(err)
		}
		if len(log.sent) == 0 {
			t.Fatal("no call was sent")
		}
		if len(log.bad) > 0 {
			t.Errorf("stop=%v: %d objects called before their Dispatched record was durable, e.g. %q", stop, len(log.bad), log.bad[0])
		}
		if !stop && len(log.sent) != len(ks) {
			t.Errorf("%d objects called, want %d", len(log.sent), len(ks))
		}
		for _, k := range ks[:20] {
			if _, ok := log.sent[k]; ok && api.lookups[k] == 0 {
				t.Errorf("%s: an uncertain object was triggered without a look-up", k)
			}
		}
		// An object announced and never called is withdrawn (the next run
		// triggers it without a look-up); nothing else is.
		last := map[string]report.Status{}
		for _, e := range l.records {
			last[e.Key] = e.Status
		}
		withdrawn := 0
		for k, st := range last {
			_, sent := log.sent[k]
			switch {
			case st == report.Dispatched && !sent:
				t.Errorf("stop=%v: %s announced, never called, not withdrawn", stop, k)
			case st == report.Withdrawn && (sent || l.prior[k].State != report.New):
				t.Errorf("stop=%v: %s withdrawn, but called or known before", stop, k)
			case st == report.Withdrawn:
				withdrawn++
			}
		}
		if stop {
			t.Logf("stopped after %d objects called: %d withdrawn", len(log.sent), withdrawn)
		}
	}
}
