package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/report"
)

// instantService accepts every call at once: what is measured is the
// runner's and the report's own cost per object, the service excluded.
type instantService struct{ fakeAPI }

func (*instantService) Trigger(context.Context, TriggerInput) (TriggerResult, error) {
	return TriggerResult{InstanceID: "i6fc7a3e0b2d94c1e8f", RequestID: "NjJmOWE3YjFfMjM0"}, nil
}

// BenchmarkRun is a run of b.N fresh objects at concurrency 16 with a real
// report (journal, fsyncs, the final rewrite) and a service that answers at
// once: ns/op and allocs/op are the tool's own cost per object.
//
//	go test ./runner -run '^$' -bench 'Run$' -benchmem -benchtime 100000x -count 4
func BenchmarkRun(b *testing.B) {
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench/video %08d.mp4", i)
	}
	rep, err := report.Open(report.Options{Path: filepath.Join(b.TempDir(), "report.json"),
		Meta: report.Meta{Bucket: "media-1250000000", WorkflowID: "w1", Source: "bench"}})
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{Workflow: "w1", Concurrency: 16, Policy: Policy{MaxAttempts: 5, Timeout: 30 * time.Second}}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	var c Counters
	if err := Run(context.Background(), cfg, &rows{keys: keys}, &instantService{}, rep, &c); err != nil {
		b.Fatal(err)
	}
	if err := rep.Close(time.Now(), true); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	if got := c.Succeeded.Load(); got != int64(b.N) {
		b.Fatalf("%d of %d succeeded", got, b.N)
	}
}

// cpuTime is the user+system CPU this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
