package metrics

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/internal/fakeclock"
)

// wait returns the next periodic write's error; it fails the test after a
// minute (a hang, not a timing assertion).
func wait(t *testing.T, written <-chan error) error {
	t.Helper()
	select {
	case err := <-written:
		return err
	case <-time.After(time.Minute):
		t.Fatal("no periodic write within a minute")
		return nil
	}
}

// value reads one series with the labels of fullSnapshot.
func value(t *testing.T, path, name string) (float64, bool) {
	t.Helper()
	v, ok := flatten(t, parseFile(t, path))[key(name, "media-1250000000", "w123", "night.json")]
	return v, ok
}

// TestWriterTicks drives the Writer with its own ticks and clock: a write at
// once, one a tick and one a Flush, each a running run's file whatever the
// snapshot says; then Stop writes the final file and nothing comes after it.
func TestWriterTicks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.prom")
	ticks := make(chan time.Time)
	clk := fakeclock.New(t0)
	var calls atomic.Int64
	snapshot := func() Snapshot {
		s := fullSnapshot()
		s.Calls = calls.Load()
		s.ExitCode = 0 // a zero-value exit code must not read as "ended well" mid-run
		return s
	}
	written := make(chan error, 1)
	tickerStopped := make(chan struct{})
	w := start(context.Background(), path, ticks, func() { close(tickerStopped) }, clk.Now, snapshot,
		func(err error) { t.Errorf("onError(%v)", err) }, func(err error) { written <- err })

	check := func(step string, wantCalls float64, at time.Time) {
		t.Helper()
		if v, _ := value(t, path, NameCalls); v != wantCalls {
			t.Errorf("%s: calls = %v, want %v", step, v, wantCalls)
		}
		if v, _ := value(t, path, NameLastRun); v != seconds(at) {
			t.Errorf("%s: last run = %v, want %v", step, v, seconds(at))
		}
		if v, ok := value(t, path, NameExitCode); ok {
			t.Errorf("%s: running, exit code %v written", step, v)
		}
		if v, ok := value(t, path, NameLastSuccess); ok {
			t.Errorf("%s: running, last success %v written", step, v)
		}
	}

	if err := wait(t, written); err != nil {
		t.Fatal(err)
	}
	check("at once", 0, t0)

	calls.Store(10)
	clk.Set(t0.Add(DefaultInterval))
	ticks <- clk.Now()
	if err := wait(t, written); err != nil {
		t.Fatal(err)
	}
	check("tick", 10, t0.Add(DefaultInterval))

	calls.Store(20)
	clk.Set(t0.Add(20 * time.Second))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	check("flush", 20, t0.Add(20*time.Second))

	final := snapshot()
	final.Calls = 25
	final.Running = true // Stop writes the last word: ended, with its exit code
	final.Complete = true
	clk.Set(t1)
	if err := w.Stop(final); err != nil {
		t.Fatal(err)
	}
	<-tickerStopped
	if v, ok := value(t, path, NameExitCode); !ok || v != 0 {
		t.Errorf("final: exit code = %v (written %v), want 0", v, ok)
	}
	if v, _ := value(t, path, NameLastSuccess); v != seconds(t1) {
		t.Errorf("final: last success = %v, want %v", v, seconds(t1))
	}
	if v, _ := value(t, path, NameCalls); v != 25 {
		t.Errorf("final: calls = %v, want 25", v)
	}
	if v, _ := value(t, path, NameComplete); v != 1 {
		t.Errorf("final: complete = %v, want 1", v)
	}

	select {
	case ticks <- t2:
		t.Error("the Writer still takes ticks after Stop")
	default:
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); !errors.Is(err, errStopped) {
		t.Errorf("Flush after Stop = %v, want %v", err, errStopped)
	}
	if err := w.Stop(final); !errors.Is(err, errStopped) {
		t.Errorf("second Stop = %v, want %v", err, errStopped)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Error("the file changed after Stop")
	}
}

// TestWriterCancelled: a done context ends the periodic writes, and Stop
// still writes how the run ended; a failing run keeps the earlier success.
func TestWriterCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.prom")
	ok := fullSnapshot()
	ok.ExitCode = 0
	if err := Write(path, ok, t0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	written := make(chan error, 1)
	clk := fakeclock.New(t1)
	w := start(ctx, path, make(chan time.Time), func() {}, clk.Now, fullSnapshot, nil, func(err error) { written <- err })
	if err := wait(t, written); err != nil {
		t.Fatal(err)
	}
	if v, _ := value(t, path, NameLastSuccess); v != seconds(t0) {
		t.Errorf("running: last success = %v, want the previous run's %v", v, seconds(t0))
	}
	cancel()
	<-w.done
	interrupted := fullSnapshot()
	interrupted.ExitCode = 130
	clk.Set(t2)
	if err := w.Stop(interrupted); err != nil {
		t.Fatal(err)
	}
	if v, _ := value(t, path, NameExitCode); v != 130 {
		t.Errorf("exit code = %v, want 130", v)
	}
	if v, _ := value(t, path, NameLastSuccess); v != seconds(t0) {
		t.Errorf("after a failed run: last success = %v, want %v", v, seconds(t0))
	}
	if v, _ := value(t, path, NameLastRun); v != seconds(t2) {
		t.Errorf("last run = %v, want %v", v, seconds(t2))
	}
}

// TestWriterErrors: a failed periodic write goes to onError and the Writer
// goes on; a failed final write can be tried again.
func TestWriterErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	path := filepath.Join(dir, "m.prom")
	var reported []error
	var mu sync.Mutex
	written := make(chan error, 1)
	ticks := make(chan time.Time)
	w := start(context.Background(), path, ticks, func() {}, func() time.Time { return t1 }, fullSnapshot,
		func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() },
		func(err error) { written <- err })
	if err := wait(t, written); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("first write = %v, want a folder does not exist error", err)
	}
	if err := w.Stop(fullSnapshot()); err == nil {
		t.Error("Stop without a folder succeeded")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := w.Stop(fullSnapshot()); err != nil {
		t.Errorf("Stop once the folder exists = %v", err)
	}
	if v, _ := value(t, path, NameExitCode); v != 1 {
		t.Errorf("exit code = %v, want 1", v)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 {
		t.Errorf("onError called %d times, want once: %v", len(reported), reported)
	}
}

// TestStart runs the real ticker (a millisecond apart) with Flush and Stop
// racing it; it asserts no timing, only that every write is whole and the
// last one is Stop's (run it with -race).
func TestStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.prom")
	var n atomic.Int64
	w := Start(context.Background(), path, time.Millisecond, func() Snapshot {
		s := fullSnapshot()
		s.Calls = n.Add(1)
		return s
	}, func(err error) { t.Errorf("periodic write: %v", err) })
	for i := 0; i < 20; i++ {
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		parseFile(t, path)
	}
	final := fullSnapshot()
	final.Calls = -1
	if err := w.Stop(final); err != nil {
		t.Fatal(err)
	}
	if v, _ := value(t, path, NameCalls); v != -1 {
		t.Errorf("calls = %v, want Stop's -1", v)
	}
}
