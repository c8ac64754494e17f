package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wftrigger/wftrigger/report/internal/logstore"
)

// One report, one run. The lock belongs to the report file, whatever path
// names it: Open resolves the path (relative, symlinks, a dangling symlink
// to a report still to be written) to the real file, and the lock, the
// journal and the temporary files live beside that file.
//
// A run holds two locks (flock, released by the operating system however
// the process ends): PATH.lock, which says who holds the report, and the
// journal PATH.journal itself. The lock file looks like litter and may be
// deleted; the journal holds the progress of the run and is not taken for
// litter. A second run that finds PATH.lock deleted (and takes a new one)
// still finds the journal locked and is refused. After taking each lock, the
// holder checks that the path still names the file it locked (fstat against
// stat), so that a file removed between open and flock cannot be locked in
// vain; while the run goes on it checks again every second, re-creates a
// deleted lock file, and stops writing (the run aborts, resumable) if its
// journal was removed or replaced.
//
// A hard link is a name of the report that neither lock can see (its lock
// and journal would be HARDLINK.lock and HARDLINK.journal), so the run also
// holds an flock on the report file itself: the one it found at Open and
// every one its rewrites write. A file a rewrite replaced stays locked for
// as long as another name (a hard link) still reaches it.

// LockedError is returned by Open and Rewrite when another process holds the
// lock of the report (the file PATH.lock beside it, or its journal).
type LockedError struct {
	Path    string    // the report
	PID     int       // the process holding the lock; 0 if it did not say
	Started time.Time // when it took the lock; zero if it did not say
	Other   string    // how the other run holds it, when not by this name
}

func (e *LockedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "report %s: locked by another run", e.Path)
	if e.Other != "" {
		b.WriteString(" " + e.Other)
	}
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

// Resolve returns the real file that path names: an absolute path without
// symlinks, following a symlink even when its target does not exist yet.
// It creates the folder of the file when missing. Every function of this
// package that takes a path resolves it so.
func Resolve(path string) (string, error) {
	if path == "" {
		return "", errors.New("no path")
	}
	p, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("report %s: %w", path, err)
	}
	for range 40 {
		dir, base := filepath.Split(p)
		if err := mkdirAll(filepath.Clean(dir)); err != nil {
			return "", fmt.Errorf("report %s: create its folder: %w", path, err)
		}
		if dir, err = filepath.EvalSymlinks(dir); err != nil {
			return "", fmt.Errorf("report %s: %w", path, err)
		}
		p = filepath.Join(dir, base)
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) || err == nil && st.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		if err != nil {
			return "", fmt.Errorf("report %s: %w", path, err)
		}
		target, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("report %s: %w", path, err)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		p = filepath.Clean(target)
	}
	return "", fmt.Errorf("report %s: too many levels of symbolic links", path)
}

// mkdirAll creates dir and its missing parents, each one made durable by an
// fsync of its parent.
func mkdirAll(dir string) error {
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return fmt.Errorf("%s is not a folder", dir)
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o777); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return logstore.SyncDir(dir)
}

// held is what a run holds of a report: its lock file and its journal,
// both locked.
type held struct {
	path    string   // the report (resolved)
	lock    *os.File // PATH.lock
	journal *os.File // PATH.journal; nil when Rewrite found none
	created bool     // the journal was created by acquire
	hdrLen  int64    // the length of the header it was created with
	started time.Time

	repMu   sync.Mutex
	reports []*os.File // the report files written or found, locked (see adopt)
}

// acquire takes the locks of the report at path (resolved). With a
// journal header hdr, the journal is created when missing (a run), holding
// hdr from the moment it appears (see logstore.CreateJournal); with nil, a missing
// journal is not locked (Rewrite of a finished report).
func acquire(path string, now time.Time, hdr []byte) (*held, error) {
	h := &held{path: path, started: now}
	var err error
	if h.lock, err = lockPath(path, path+".lock", true); err != nil {
		return nil, err
	}
	if err = h.lock.Truncate(0); err == nil {
		_, err = h.lock.WriteAt(lockInfo(now), 0)
	}
	if err != nil {
		h.release()
		return nil, fmt.Errorf("lock report %s: %w", path, err)
	}
	jp := path + ".journal"
	if hdr == nil && !exists(jp) {
		if err := h.lockReport(); err != nil {
			h.release()
			return nil, err
		}
		return h, nil
	}
	if hdr != nil && !exists(jp) {
		if h.created, err = logstore.CreateJournal(jp, hdr); err != nil {
			h.release()
			return nil, fmt.Errorf("lock report %s: %w", path, err)
		}
		h.hdrLen = int64(len(hdr))
	}
	if h.journal, err = lockPath(path, jp, false); err != nil {
		var le *LockedError
		if errors.As(err, &le) {
			// The lock file was deleted and this process made a new one:
			// who holds the journal is not written anywhere.
			le.PID, le.Started = 0, time.Time{}
		}
		h.release()
		if errors.Is(err, fs.ErrNotExist) { // removed meanwhile: nothing to lock
			return acquire(path, now, hdr)
		}
		return nil, err
	}
	if err := h.lockReport(); err != nil {
		h.release()
		return nil, err
	}
	return h, nil
}

// lockReport takes the lock of the report file itself, if there is one: a
// run that holds it through another name (a hard link) refuses this one.
// A file that cannot be opened is left to the reading of the report, which
// says why.
func (h *held) lockReport() error {
	f, err := os.Open(h.path)
	if err != nil {
		return nil
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return &LockedError{Path: h.path, Other: "that holds the report file itself (under another name, a hard link, or with its .lock and .journal files deleted)"}
		}
		return fmt.Errorf("lock report %s: %w", h.path, err)
	}
	if n := links(f); n > 1 {
		unlockFile(f)
		return hardLinkError(h.path, n)
	}
	h.repMu.Lock()
	h.reports = append(h.reports, f)
	h.repMu.Unlock()
	return nil
}

// links counts the names of the open file f; 1 if it cannot tell.
func links(f *os.File) uint64 {
	if st, err := f.Stat(); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			return uint64(sys.Nlink)
		}
	}
	return 1
}

// hardLinkError refuses a report with n names. A rewrite renames a new
// file into place: the other names would keep the old file, a stale copy
// on which a run triggers again what runs on this name did.
func hardLinkError(path string, n uint64) error {
	return fmt.Errorf("report %s has %d names (hard links): a rewrite replaces the file and would leave the other names stale copies, on which a run triggers again what this one did; remove the other names (find %s -samefile %s), or break the link: cp %s %s.copy && mv %s.copy %s",
		path, n, filepath.Dir(path), path, path, path, path, path)
}

// adopt keeps the lock of f, the report file a rewrite is about to rename
// into place, and releases the files replaced before that no name reaches
// any more.
func (h *held) adopt(f *os.File) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("lock report %s: %w", h.path, err)
	}
	h.repMu.Lock()
	defer h.repMu.Unlock()
	kept := h.reports[:0]
	for _, old := range h.reports {
		if links(old) == 0 {
			unlockFile(old)
			continue
		}
		kept = append(kept, old)
	}
	h.reports = append(kept, f)
	return nil
}

// beforeRename is what a rewrite asks of the locks before it renames f,
// the new report (written and fsynced), into place: h keeps f's lock (see
// adopt), and a report that has been given another name meanwhile (a hard
// link) is not replaced: the other name would be left a stale copy (see
// hardLinkError). The journal keeps the progress.
func (h *held) beforeRename(f *os.File) error {
	if err := h.adopt(f); err != nil {
		f.Close()
		return err
	}
	if old, err := os.Open(h.path); err == nil {
		n := links(old)
		old.Close()
		if n > 1 {
			return hardLinkError(h.path, n)
		}
	}
	return nil
}

// lockPath opens name (creating it if create) and takes its exclusive lock,
// checking afterwards that name still names the file locked.
func lockPath(report, name string, create bool) (*os.File, error) {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	for range 100 {
		f, err := os.OpenFile(name, flags, 0o666)
		if err != nil {
			return nil, fmt.Errorf("lock report %s: %w", report, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			defer f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				le := &LockedError{Path: report}
				b, _ := io.ReadAll(io.LimitReader(f, 256))
				le.PID, le.Started = parseLockInfo(b)
				return nil, le
			}
			return nil, fmt.Errorf("lock report %s: %w", report, err)
		}
		if same, err := names(name, f); err != nil || !same {
			f.Close()
			if !create && (err == nil || errors.Is(err, fs.ErrNotExist)) {
				return nil, fmt.Errorf("lock report %s: %w", report, fs.ErrNotExist)
			}
			continue // removed or replaced between open and flock: again
		}
		return f, nil
	}
	return nil, fmt.Errorf("lock report %s: %s keeps being replaced", report, name)
}

// names says whether the path name is the open file f.
func names(name string, f *os.File) (bool, error) {
	fst, err := f.Stat()
	if err != nil {
		return false, err
	}
	st, err := os.Stat(name)
	if err != nil {
		return false, err
	}
	return os.SameFile(fst, st), nil
}

// lockInfo is what a lock file says of this process, which took the lock
// at started: "pid N started TIME" (see parseLockInfo).
func lockInfo(started time.Time) []byte {
	return fmt.Appendf(nil, "pid %d started %s\n", os.Getpid(), started.UTC().Format(time.RFC3339))
}

// parseLockInfo reads "pid N started TIME" from a lock file.
func parseLockInfo(b []byte) (int, time.Time) {
	var (
		pid     int
		started string
	)
	n, _ := fmt.Sscanf(string(b), "pid %d started %s", &pid, &started)
	if n < 1 {
		return 0, time.Time{}
	}
	t, _ := time.Parse(time.RFC3339, started)
	return pid, t
}

// check verifies, while the run goes on, that the locks are still those of
// the report: a deleted or replaced lock file is made again (and locked);
// a journal that is no longer at its path is an error: what the run records
// would be lost.
func (h *held) check() error {
	if h == nil {
		return nil
	}
	if h.journal != nil {
		if same, err := names(h.path+".journal", h.journal); err != nil || !same {
			return fmt.Errorf("journal %s.journal was removed or replaced while this run held it: what the run records from here would be lost", h.path)
		}
	}
	if same, err := names(h.path+".lock", h.lock); err == nil && same {
		return nil
	}
	f, err := lockPath(h.path, h.path+".lock", true)
	if err != nil {
		return nil // another process took the new lock file: it is refused by the journal's lock
	}
	f.WriteAt(lockInfo(h.started), 0)
	old := h.lock
	h.lock = f
	old.Close()
	return nil
}

// release releases the locks. The lock file stays: removing it would race
// with a run that is opening it (the check after flock makes that safe, but
// a file that comes and goes helps nobody). A journal that acquire created
// and that holds no record is removed.
func (h *held) release() error {
	if h == nil {
		return nil
	}
	var errs []error
	if h.journal != nil {
		if h.created {
			if st, err := h.journal.Stat(); err == nil && st.Size() <= h.hdrLen {
				if same, _ := names(h.path+".journal", h.journal); same {
					os.Remove(h.path + ".journal")
				}
			}
		}
		errs = append(errs, unlockFile(h.journal))
		h.journal = nil
	}
	h.repMu.Lock()
	for _, f := range h.reports {
		errs = append(errs, unlockFile(f))
	}
	h.reports = nil
	h.repMu.Unlock()
	if h.lock != nil {
		errs = append(errs, unlockFile(h.lock))
		h.lock = nil
	}
	return errors.Join(errs...)
}

func unlockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeStale removes the temporary files (PATH.tmp-PID) that a run killed
// during a rewrite left beside the report at path, whose lock is held: only
// the holder of the lock writes them, so every one but this process's own
// is a dead run's.
func removeStale(path string) error {
	names, err := filepath.Glob(globEscape(path) + ".tmp-*")
	if err != nil {
		return nil
	}
	jnames, _ := filepath.Glob(globEscape(path) + ".journal.tmp-*")
	names = append(names, jnames...)
	removed := false
	for _, name := range names {
		pid, err := strconv.Atoi(name[strings.LastIndex(name, ".tmp-")+len(".tmp-"):])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := os.Remove(name); err == nil {
			removed = true
		}
	}
	if removed {
		return logstore.SyncDir(path)
	}
	return nil
}

// globEscape escapes the metacharacters of filepath.Match in s.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '*', '?', '[', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
