package metrics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultInterval is how often a [Writer] rewrites the file while a run goes
// on: the contract's 15 s, the usual scrape interval (a dashboard sees each
// write), for a few KiB written each time.
const DefaultInterval = 15 * time.Second

// Writer rewrites one metrics file while a run goes on, and once at its end
// ([Writer.Stop]). Its methods may be called from any goroutine.
type Writer struct {
	path     string
	snapshot func() Snapshot
	now      func() time.Time
	onError  func(error)
	// afterTick, when set (tests), is called after every periodic write.
	afterTick func(error)

	mu      sync.Mutex // one write at a time; guards stopped
	stopped bool

	quit     chan struct{}
	stopOnce sync.Once
	done     chan struct{} // closed when the periodic loop has returned
}

// Start writes snapshot() to path at once and then once an interval of
// every (DefaultInterval when every is not positive), as a running run's file
// (Snapshot.Running is set, whatever snapshot returns), until ctx is done or
// [Writer.Stop] is called. A failed periodic write is passed to onError (when
// not nil) and the writing goes on: the next write may succeed. snapshot is
// called from the Writer's goroutine and must be safe to call concurrently
// with the run (read atomics).
func Start(ctx context.Context, path string, every time.Duration, snapshot func() Snapshot, onError func(error)) *Writer {
	if every <= 0 {
		every = DefaultInterval
	}
	t := time.NewTicker(every)
	return start(ctx, path, t.C, t.Stop, time.Now, snapshot, onError, nil)
}

// start is Start with the ticks and the clock given (tests give their own).
func start(ctx context.Context, path string, ticks <-chan time.Time, stopTicks func(), now func() time.Time,
	snapshot func() Snapshot, onError, afterTick func(error)) *Writer {
	w := &Writer{
		path:      path,
		snapshot:  snapshot,
		now:       now,
		onError:   onError,
		afterTick: afterTick,
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	go w.loop(ctx, ticks, stopTicks)
	return w
}

func (w *Writer) loop(ctx context.Context, ticks <-chan time.Time, stopTicks func()) {
	defer close(w.done)
	defer stopTicks()
	w.tick()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.quit:
			return
		case <-ticks:
			w.tick()
		}
	}
}

func (w *Writer) tick() {
	err := w.write(w.snapshot(), true)
	if err != nil && w.onError != nil {
		w.onError(err)
	}
	if w.afterTick != nil {
		w.afterTick(err)
	}
}

// errStopped is the answer of Flush and Stop once the final file was written.
var errStopped = errors.New("stopped: the final file was written")

func (w *Writer) write(s Snapshot, running bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return fmt.Errorf("metrics file %s: %w", w.path, errStopped)
	}
	s.Running = running
	err := Write(w.path, s, w.now())
	if !running && err == nil {
		w.stopped = true
	}
	return err
}

// Flush writes snapshot() now, as a running run's file, and returns the
// write's error; once Stop succeeded it writes nothing and returns an error.
func (w *Writer) Flush() error {
	return w.write(w.snapshot(), true)
}

// Stop ends the periodic writes (waiting for one under way), then writes
// final as the run's last word (Snapshot.Running is cleared: final.ExitCode
// is written) and returns that write's error. It writes even when the
// context given to Start is done, so that a cancelled run's file says how it
// ended. Once it succeeded, later calls (and Flush) write nothing and return
// an error; after a failed final write, Stop may be called again.
func (w *Writer) Stop(final Snapshot) error {
	w.stopOnce.Do(func() { close(w.quit) })
	<-w.done
	return w.write(final, false)
}
