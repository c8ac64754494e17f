package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// LockedError is returned by Open and Rewrite when another process holds the
// lock of the report (the file PATH.lock beside it).
type LockedError struct {
	Path    string    // the report
	PID     int       // the process holding the lock; 0 if it did not say
	Started time.Time // when it took the lock; zero if it did not say
}

func (e *LockedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "report %s: locked by another run", e.Path)
	if e.PID > 0 {
		fmt.Fprintf(&b, " (pid %d", e.PID)
		if !e.Started.IsZero() {
			fmt.Fprintf(&b, ", started %s", e.Started.Format(time.RFC3339))
		}
		b.WriteString(")")
	}
	return b.String()
}

// MismatchError is returned by Open when the existing report or journal was
// written for another bucket or workflow.
type MismatchError struct {
	Path  string // the report or journal that does not match
	Field string // "bucket" or "workflowId"
	Have  string // what the file says
	Want  string // what this run asks for
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("report %s: written for %s %q, not %q", e.Path, e.Field, e.Have, e.Want)
}

// lockFile takes the exclusive lock of the report at path and writes who
// holds it into the lock file. The operating system releases the lock when
// the process ends, however it ends.
func lockFile(path string, now time.Time) (*os.File, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock report %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			le := &LockedError{Path: path}
			b, _ := io.ReadAll(io.LimitReader(f, 256))
			var pid int
			var started string
			if n, _ := fmt.Sscanf(string(b), "pid %d started %s", &pid, &started); n >= 1 {
				le.PID = pid
				le.Started, _ = time.Parse(time.RFC3339, started)
			}
			return nil, le
		}
		return nil, fmt.Errorf("lock report %s: %w", path, err)
	}
	msg := fmt.Sprintf("pid %d started %s\n", os.Getpid(), now.UTC().Format(time.RFC3339))
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(msg), 0)
	}
	if err != nil {
		unlockFile(f)
		return nil, fmt.Errorf("lock report %s: %w", path, err)
	}
	return f, nil
}

// unlockFile releases the lock. The lock file stays: removing it would race
// with a run that is opening it.
func unlockFile(f *os.File) error {
	if f == nil {
		return nil
	}
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
