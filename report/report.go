// Package report owns a run's JSON report, its journal and its lock, and
// resumes a run from them.
//
// Beside the report PATH (resolved to the real file: see Resolve) live
// PATH.journal, the progress of a run in progress (JSON lines, appended),
// and PATH.lock, which says who holds the report. Open loads the report and
// any journal a crashed run left into an index of every key's state; Admit
// answers what to do with a key; Record appends one line to the journal;
// Compact and Close rewrite the report atomically from the old report and
// the journal, streaming, never holding more than the index in memory.
//
// One report, one run: a run holds an flock on PATH.lock and on the journal
// itself (see lock.go); a second run exits with a *LockedError whatever
// path it names the report by, and even when PATH.lock was deleted.
//
// Durability. A Dispatched record (the call is about to be sent) is fsynced
// before Record returns: the syncer goroutine fsyncs once for all the
// records waiting (group commit). Other records are fsynced every second
// and at Close; a power loss may lose them, never a Dispatched record
// before them, so the rerun looks those objects up instead of triggering
// them again. RecordAll makes a batch of Dispatched records durable with
// one write and one fsync (the runner announces objects ahead of their
// calls); a Withdrawn record takes back the announcement of a new key
// whose call was never sent. A server-side job (RecordJob) is fsynced the
// same way.
//
// Clean close. Close rewrites the report, fsyncs it and its folder, then
// removes the journal: the journal's absence is the clean-close mark. A
// journal found by Open is that of a run that stopped uncleanly (kill -9,
// a crash, a power loss); Open folds it in: its records win over the
// report's, its Dispatched records become uncertain entries (looked up
// before any new trigger), and a torn last line (a write the crash cut) is
// dropped and said in Warnings.
//
// Files that cannot be trusted are never taken for a new start: an empty
// or garbled report, a journal cut inside its header or garbled before its
// last line, give a *CorruptError naming the file and line (Options.Fresh
// sets them aside). A success is final: no later record of the key undoes
// it, except the records of a deliberate second trigger of an execution
// that failed (Options.RetryFailedExecutions), which carry the earlier
// instance in their history.
//
// Where things are. This package says what a record is and which one wins,
// and owns Open, Record, Compact, Rewrite, Scan and the lock. Below it, each
// to be read alone: report/internal/document is the report file's format
// (its header, the objects, read streaming and written), logstore the
// files at the level of lines (the journal, its torn last line, the atomic
// replace of the report), index the resume index of hashed keys, and
// offheap the hash table behind it, outside the Go heap.
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wftrigger/wftrigger/internal/jsontext"
	"github.com/wftrigger/wftrigger/report/internal/document"
	"github.com/wftrigger/wftrigger/report/internal/index"
	"github.com/wftrigger/wftrigger/report/internal/logstore"
)

// Options configure Open.
type Options struct {
	Path     string           // the report; the journal and lock are PATH.journal and PATH.lock
	Meta     Meta             // the run: bucket, workflow, source, start time, endpoints
	Fresh    bool             // set an existing report and journal aside and start over
	ReadOnly bool             // load only: no lock, no journal, no writes (--dry-run)
	Now      func() time.Time // the clock; time.Now if nil
	// RetryFailedExecutions makes Admit answer Retry for a succeeded entry
	// whose recorded execution state is Failed (and only those): the one
	// deliberate second trigger. The entry keeps the earlier instance in
	// its history.
	RetryFailedExecutions bool

	// journalFile, for tests, wraps the journal this run writes.
	journalFile func(*os.File) logstore.File
	// readEvery, for tests, makes compactions read every record again,
	// as they did before the Lines marks.
	readEvery bool
}

// ErrClosed is returned by Record and Compact after Close.
var ErrClosed = errors.New("report closed")

// uncertainMessage explains the error of an entry whose call was in flight
// when its run stopped.
const uncertainMessage = "the call was in flight when the run stopped; the next run looks it up in the workflow's execution list before triggering again"

// settleDispatched makes the dispatched record e the entry a report holds
// for it: failed, uncertain (looked up before any new trigger).
func settleDispatched(e *Entry) {
	e.Status = Failed
	e.Uncertain = true
	e.Error = &Error{Code: "Uncertain", Message: uncertainMessage}
}

// Report is an open report: the index of every known key, the journal this
// run appends to and the lock it holds. Admit is called from one goroutine;
// Record from any number at once; Compact from one other.
type Report struct {
	path        string // the report file, resolved (see Resolve)
	journalPath string
	meta        Meta
	readOnly    bool
	retryExec   bool
	now         func() time.Time
	wrap        func(*os.File) logstore.File
	readEvery   bool
	setAside    []string
	warnings    []string

	held     *held
	borrowed bool     // held is the caller's: closeFiles does not release it
	orig     *os.File // the report as it was at Open, read again by every compaction
	origSize int64
	journal  logstore.File // O_RDWR|O_APPEND: the owner appends, compactions read

	mu         sync.Mutex // guards the fields below
	idx        *index.Index
	nextSeq    uint64 // seq of the next record
	goodOff    int64  // journal bytes written whole
	dups       int
	compacting bool
	snapSeq    uint64
	superseded map[index.Key]uint64 // during a compaction: the seq a key had at its snapshot
	lines      index.Lines          // what compactions need not read again (see markLocked)
	loaded     [3]int
	syncErr    error
	final      *Summary
	emitted    int // entries the last compaction wrote (for tests)
	job        *Job
	// dispatchedAt holds, for keys loaded as uncertain only, when the first
	// uncertain call was sent.
	dispatchedAt map[index.Key]time.Time
	// hist holds the history a key's next record carries: the earlier
	// instances of the entries that have one, and of the succeeded entries
	// whose execution Failed (with RetryFailedExecutions).
	hist     map[index.Key][]Instance
	again    map[index.Key]bool // succeeded entries whose execution Failed
	nAgain   int
	admitted map[index.Key]bool // of again: admitted in this run, to trigger again

	reqs      chan *request
	quit      chan struct{}
	ownerDone chan struct{}
	syncDone  chan struct{}
	syncNow   chan struct{} // the owner has records waiting for an fsync
	pendMu    sync.Mutex
	pending   []*request // written, waiting for the syncer's fsync
	dirty     atomic.Bool
	broken    atomic.Pointer[error] // the journal is no longer the report's: no more writes
	werr      error                 // owner only: a failed journal write ends all writing
	pool      sync.Pool

	compactMu sync.Mutex // one compaction at a time; guards closed
	closed    bool
}

// Open locks the report at opts.Path and loads it, with the journal of a run
// that did not finish. It returns a *LockedError when another run holds the
// lock, a *MismatchError when the report or journal was written for
// another bucket or workflow, and a *CorruptError when the report or the
// journal cannot be trusted (Options.Fresh sets them aside). What it
// recovered from a journal torn by a crash, it says in Warnings.
func Open(opts Options) (*Report, error) {
	if opts.Path == "" {
		return nil, errors.New("open report: no path")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	path, err := resolveFor(opts.Path, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	opts.Path = path
	var h *held
	if !opts.ReadOnly {
		if h, err = acquire(path, now(), journalHeaderLine(opts.Meta)); err != nil {
			return nil, err
		}
		if err := removeStale(path); err != nil {
			h.release()
			return nil, err
		}
	}
	r, err := openLocked(opts, now, h)
	if err != nil {
		h.release()
		return nil, err
	}
	return r, nil
}

// resolveFor resolves path; a read-only open creates no folder. A report
// or journal that exists but is not a file (a named pipe, a device, a
// socket: opening some of them blocks forever) is refused.
func resolveFor(path string, readOnly bool) (string, error) {
	if readOnly {
		if _, err := os.Stat(filepath.Dir(path)); errors.Is(err, fs.ErrNotExist) {
			return filepath.Abs(path)
		}
	}
	p, err := Resolve(path)
	if err != nil {
		return "", err
	}
	for _, name := range []string{p, p + ".journal"} {
		if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
			return "", fmt.Errorf("report %s: %s is not a regular file (%v)", path, name, st.Mode().Type())
		}
	}
	return p, nil
}

// openLocked opens the report whose locks h are held (nil if read-only).
func openLocked(opts Options, now func() time.Time, h *held) (r *Report, err error) {
	meta := opts.Meta
	meta.Version = 1
	meta.FinishedAt = time.Time{}
	r = &Report{
		path:         opts.Path,
		journalPath:  opts.Path + ".journal",
		meta:         meta,
		readOnly:     opts.ReadOnly,
		retryExec:    opts.RetryFailedExecutions,
		now:          now,
		wrap:         opts.journalFile,
		readEvery:    opts.readEvery,
		held:         h,
		idx:          index.New(),
		dispatchedAt: make(map[index.Key]time.Time),
	}
	r.pool.New = func() any { return &request{done: make(chan error, 1)} }
	rep := r
	defer func() {
		if err != nil {
			rep.borrowed = true // the caller releases it
			rep.closeFiles()
		}
	}()
	if opts.Fresh {
		if !opts.ReadOnly {
			if err := r.putAside(); err != nil {
				return nil, err
			}
		}
	} else if err := r.load(); err != nil {
		return nil, err
	}
	r.loaded = [3]int{
		r.idx.Count(index.Succeeded) - r.nAgain,
		r.idx.Count(index.Failed) + r.nAgain,
		r.idx.Count(index.Uncertain) + r.idx.Count(index.Dispatched),
	}
	if opts.ReadOnly {
		return r, nil
	}
	if err := r.openJournal(); err != nil {
		return nil, err
	}
	r.reqs = make(chan *request)
	r.quit = make(chan struct{})
	r.ownerDone = make(chan struct{})
	r.syncDone = make(chan struct{})
	r.syncNow = make(chan struct{}, 1)
	go r.own()
	go r.syncer()
	return r, nil
}

// putAside renames an existing report and journal to PATH.<UTC time> and
// PATH.<UTC time>.journal.
func (r *Report) putAside() error {
	ts := r.now().UTC().Format("20060102T150405Z")
	base := r.path + "." + ts
	for i := 2; exists(base) || exists(base+".journal"); i++ {
		base = fmt.Sprintf("%s.%s-%d", r.path, ts, i)
	}
	for _, mv := range [][2]string{{r.path, base}, {r.journalPath, base + ".journal"}} {
		if !exists(mv[0]) {
			continue
		}
		if mv[0] == r.journalPath && r.held != nil && r.held.created {
			// The empty journal this run's lock created: nothing to keep.
			continue
		}
		if err := os.Rename(mv[0], mv[1]); err != nil {
			return fmt.Errorf("set report aside: %w", err)
		}
		r.setAside = append(r.setAside, mv[1])
		if mv[0] == r.journalPath && r.held != nil {
			// The lock is on the journal's path: lock the new journal.
			hdr := journalHeaderLine(r.meta)
			created, err := logstore.CreateJournal(r.journalPath, hdr)
			if err != nil {
				return fmt.Errorf("journal %s: %w", r.journalPath, err)
			}
			f, err := lockPath(r.path, r.journalPath, false)
			if err != nil {
				return err
			}
			old := r.held.journal
			r.held.journal, r.held.created = f, created
			if created {
				r.held.hdrLen = int64(len(hdr))
			}
			if old != nil {
				unlockFile(old)
			}
		}
	}
	if len(r.setAside) > 0 {
		return logstore.SyncDir(r.path)
	}
	return nil
}

func exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

// load reads the report and the journal into the index.
func (r *Report) load() error {
	f, err := os.Open(r.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("report %s: %w", r.path, err)
	default:
		r.orig = f
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("report %s: %w", r.path, err)
		}
		if st.IsDir() {
			return fmt.Errorf("report %s: is a directory", r.path)
		}
		r.origSize = st.Size()
		if r.origSize == 0 {
			return &CorruptError{Path: r.path, Reason: "the file is empty (0 bytes); wftrigger never writes an empty report, so what it held is lost"}
		}
		check := func(h Header) error {
			if h.Job != nil {
				j := *h.Job
				r.job = &j
			}
			return r.checkMeta(r.path, h.Bucket, h.WorkflowID)
		}
		if _, err := document.Read(io.NewSectionReader(f, 0, r.origSize), check, r.loadRaw); err != nil {
			return reportError(r.path, f, err)
		}
	}

	flags := os.O_RDWR | os.O_APPEND
	if r.readOnly {
		flags = os.O_RDONLY
	}
	jf, err := os.OpenFile(r.journalPath, flags, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal %s: %w", r.journalPath, err)
	}
	if r.readOnly {
		defer jf.Close()
		_, err = r.loadJournal(jf)
		return err
	}
	r.journal = r.wrapJournal(jf)
	good, err := r.loadJournal(r.journal)
	if err != nil {
		return err
	}
	r.goodOff = good
	return nil
}

// wrapJournal puts the test's journal file around f, if any.
func (r *Report) wrapJournal(f *os.File) logstore.File {
	if r.wrap != nil {
		return r.wrap(f)
	}
	return f
}

// reportError turns an error of document.Read on the report f at path into a
// *CorruptError naming the line (a *MismatchError is returned as it is).
func reportError(path string, f io.ReaderAt, err error) error {
	var me *MismatchError
	if errors.As(err, &me) {
		return err
	}
	ce := &CorruptError{Path: path, Reason: err.Error()}
	var oe *document.OffsetError
	if errors.As(err, &oe) {
		ce.Reason = oe.Err.Error()
		ce.Line = lineAt(f, oe.Off)
	}
	return ce
}

// journalError turns an error of logstore.ReadJournal on the journal at jp
// into a *CorruptError naming the line (a *MismatchError is returned as it
// is).
func journalError(jp string, err error) error {
	var me *MismatchError
	if errors.As(err, &me) {
		return err
	}
	var le *logstore.LineError
	if errors.As(err, &le) {
		return &CorruptError{Path: jp, Line: le.Line, Reason: le.Err.Error()}
	}
	return fmt.Errorf("journal %s: %w", jp, err)
}

// lineAt is the 1-based line of the byte at off.
func lineAt(f io.ReaderAt, off int64) int {
	line := 1
	buf := make([]byte, 64<<10)
	for pos := int64(0); pos < off; {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), off-pos)], pos)
		line += bytes.Count(buf[:n], []byte{'\n'})
		pos += int64(n)
		if err != nil {
			break
		}
	}
	return line
}

// loadJournal reads the journal f into the index; it returns the length of
// its whole lines.
func (r *Report) loadJournal(f io.ReaderAt) (int64, error) {
	check := func(h logstore.JournalHeader) error { return r.checkMeta(r.journalPath, h.Bucket, h.WorkflowID) }
	load := func(n int, _ int64, line []byte) error {
		err := r.loadRaw(line)
		if err != nil && err != errTooMany {
			return &logstore.LineError{Line: n, Err: err}
		}
		return err
	}
	res, err := readRecords(io.NewSectionReader(f, 0, 1<<62), check, func(j Job) { r.job = &j }, load)
	if err != nil {
		return 0, journalError(r.journalPath, err)
	}
	if res.Torn > 0 {
		r.warnings = append(r.warnings, fmt.Sprintf("journal %s: line %d was cut short by a crash (a torn last line): kept the %d records before it", r.journalPath, res.Torn, res.Records))
	}
	return res.Good, nil
}

// readRecords reads a journal as logstore.ReadJournal does, with the one
// rule of what is a record: a job line is not (Open and compaction count
// the seqs of records alike by it). Job lines go to job (skipped if nil:
// Open already read them), records to fn.
func readRecords(rd io.Reader, hdr func(logstore.JournalHeader) error, job func(Job), fn func(n int, off int64, line []byte) error) (logstore.JournalRead, error) {
	return logstore.ReadJournal(rd, hdr, func(n int, off int64, line []byte) error {
		j, ok, err := jobLine(line)
		switch {
		case !ok:
			return fn(n, off, line)
		case job == nil:
			return nil
		case err == nil:
			job(j)
		}
		return err
	})
}

// checkMeta refuses a file written for another bucket or workflow.
func (r *Report) checkMeta(path, bucket, workflowID string) error {
	if bucket != "" && r.meta.Bucket != "" && bucket != r.meta.Bucket {
		return &MismatchError{Path: path, Field: "bucket", Have: bucket, Want: r.meta.Bucket}
	}
	if workflowID != "" && workflowID != r.meta.WorkflowID {
		return &MismatchError{Path: path, Field: "workflowId", Have: workflowID, Want: r.meta.WorkflowID}
	}
	return nil
}

// errTooMany is returned when the records of a run do not fit the index.
var errTooMany = errors.New("too many records for one run")

// loadRaw indexes one record read at Open. Whatever can refuse it is done
// before it takes a seq: a record refused after (a torn last line is
// dropped) would put every later seq one off those a compaction counts.
func (r *Report) loadRaw(raw []byte) error {
	if !json.Valid(raw) {
		return jsontext.InvalidJSON(raw)
	}
	h, err := parseHead(raw)
	if err != nil {
		return err
	}
	if r.nextSeq > index.MaxSeq {
		return errTooMany
	}
	k := r.hashOf(&h)
	candidate := r.retryExec && h.Status == Succeeded && h.ExecState == ExecutionFailed
	var e *Entry
	if candidate || h.HasHistory {
		e = new(Entry)
		if err := json.Unmarshal(raw, e); err != nil {
			return err
		}
	}
	st := h.state()
	seq := r.nextSeq
	old, existed, applied := r.idx.Apply(k, st, seq, false, h.HasHistory)
	r.nextSeq++
	r.markLocked(seq, st, old, existed, applied)
	if !applied {
		return nil // a later record does not undo a success
	}
	r.loadHistory(k, candidate, e)
	if isUncertain(st) {
		var t time.Time
		if h.DispatchedAt != nil {
			t = *h.DispatchedAt
		}
		// Keep when the first uncertain call was sent.
		if old, ok := r.dispatchedAt[k]; ok && !old.IsZero() && (t.IsZero() || old.Before(t)) {
			t = old
		}
		r.dispatchedAt[k] = t
	} else if len(r.dispatchedAt) > 0 {
		delete(r.dispatchedAt, k)
	}
	return nil
}

// loadHistory keeps what the next record of k must carry in its history:
// the entry's own history, and the entry itself when it is a candidate (it
// succeeded with a Failed execution and RetryFailedExecutions asks to
// trigger it again). e is the record, decoded when it is a candidate or
// has a history (nil otherwise).
func (r *Report) loadHistory(k index.Key, candidate bool, e *Entry) {
	if r.again[k] {
		delete(r.again, k)
		r.nAgain--
	}
	if e == nil {
		if r.hist != nil {
			delete(r.hist, k)
		}
		return
	}
	hist := e.History
	if candidate {
		hist = append(hist, Instance{InstanceID: e.InstanceID, RequestID: e.RequestID, Execution: e.Execution})
		if r.again == nil {
			r.again = make(map[index.Key]bool)
		}
		r.again[k] = true
		r.nAgain++
	}
	if r.hist == nil {
		r.hist = make(map[index.Key][]Instance)
	}
	r.hist[k] = hist
}

// hashOf identifies the record h.
func (r *Report) hashOf(h *head) index.Key { return h.hash(r.idx, r.meta.WorkflowID) }

// workflow is the workflow of an entry: its own or the run's.
func (r *Report) workflow(id string) string {
	if id == "" {
		return r.meta.WorkflowID
	}
	return id
}

// openJournal opens the journal for appending (if load did not) and writes
// its header if it has none; a torn last line is cut off.
func (r *Report) openJournal() error {
	if r.journal == nil {
		f, err := os.OpenFile(r.journalPath, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o666)
		if err != nil {
			return fmt.Errorf("journal %s: %w", r.journalPath, err)
		}
		r.journal = r.wrapJournal(f)
	}
	if r.held != nil && r.held.journal != nil {
		// The journal written is the journal locked.
		fst, err1 := r.journal.Stat()
		lst, err2 := r.held.journal.Stat()
		if err1 != nil || err2 != nil || !os.SameFile(fst, lst) {
			return fmt.Errorf("journal %s: replaced while the run was opening it", r.journalPath)
		}
	}
	if r.goodOff == 0 && r.held != nil && r.held.created {
		r.goodOff = r.held.hdrLen // its header, written by acquire or putAside
	}
	good, err := logstore.PrepareJournal(r.journal, r.journalPath, r.goodOff, journalHeaderLine(r.meta))
	if err != nil {
		return err
	}
	r.goodOff = good
	return logstore.SyncDir(r.path)
}

// journalHeaderLine is the first line of the journal of a run of meta.
func journalHeaderLine(meta Meta) []byte {
	return logstore.JournalHeaderLine(meta.Bucket, meta.WorkflowID, meta.StartedAt)
}

// SetAside returns the names an existing report and journal were renamed to
// by Options.Fresh.
func (r *Report) SetAside() []string { return r.setAside }

// Loaded counts the keys Open found: succeeded, failed (to try again) and
// uncertain (to look up first). With RetryFailedExecutions, the succeeded
// entries whose execution Failed are counted as to try again, not as
// succeeded (FailedExecutions says how many they are).
func (r *Report) Loaded() (done, retry, uncertain int) {
	return r.loaded[0], r.loaded[1], r.loaded[2]
}

// FailedExecutions counts the succeeded entries whose recorded execution
// state is Failed, that Admit answers Retry for: nonzero only with
// Options.RetryFailedExecutions.
func (r *Report) FailedExecutions() int { return r.nAgain }

// Warnings says what Open recovered from files a crash left behind: a
// journal's torn last line, for instance. The caller logs them.
func (r *Report) Warnings() []string { return r.warnings }

// Path is the file the report is, its path resolved (see Resolve).
func (r *Report) Path() string { return r.path }

// Summary counts the entries the report holds now: after Close, those of
// the report it wrote. Duplicates are those Admit found in this run.
func (r *Report) Summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.final != nil {
		return *r.final
	}
	s := summaryOf(r.idx.Counts(false))
	s.Duplicates = r.dups
	return s
}

// summaryOf is the summary of the entries the index counts.
func summaryOf(c index.Counts) Summary {
	return Summary{Total: c.Total, Succeeded: c.Succeeded, Failed: c.Failed, Invalid: c.Invalid}
}

// Admit says what earlier runs, and this one, know of key for workflowID
// ("" is the run's workflow), and marks it seen in this run. A key seen
// before in this run is a Duplicate: Admit counts it in the summary.
func (r *Report) Admit(workflowID, key string) Prior {
	k := r.idx.KeyHash(r.workflow(workflowID), key)
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.idx.Get(k)
	if !ok {
		r.idx.AddNew(k)
		return Prior{State: New}
	}
	if index.SeenOf(v) {
		r.dups++
		return Prior{State: Duplicate}
	}
	r.idx.Put(k, index.WithSeen(v))
	switch index.StateOf(v) {
	case index.Succeeded:
		if r.again[k] {
			if r.admitted == nil {
				r.admitted = make(map[index.Key]bool)
			}
			r.admitted[k] = true
			return Prior{State: Retry}
		}
		return Prior{State: Done}
	case index.Failed:
		return Prior{State: Retry}
	case index.Uncertain, index.Dispatched:
		return Prior{State: Uncertain, DispatchedAt: r.dispatchedAt[k]}
	}
	return Prior{State: New}
}

// Close ends the run: it writes the report a last time (with finishedAt)
// and removes the journal once the report is safely renamed into place,
// then releases the lock. sourceComplete says that the whole source was
// read: invalid entries of earlier runs whose line was not recorded again
// are then dropped. Record must not be called during or after Close.
func (r *Report) Close(finished time.Time, sourceComplete bool) error {
	if r.readOnly {
		r.compactMu.Lock()
		defer r.compactMu.Unlock()
		if !r.closed {
			r.closed = true
			r.closeFiles()
		}
		return nil
	}
	r.compactMu.Lock()
	defer r.compactMu.Unlock()
	if r.closed {
		return ErrClosed
	}
	r.closed = true
	r.stop()
	errs := []error{r.werr}
	if err := r.journal.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("journal %s: %w", r.journalPath, err))
	}
	r.mu.Lock()
	errs = append(errs, r.syncErr)
	snap := r.snapshotLocked(sourceComplete)
	r.mu.Unlock()
	err := r.compact(snap, finished, sourceComplete)
	if err == nil {
		r.mu.Lock()
		r.final = &snap.summary
		r.mu.Unlock()
		r.journal.Close()
		r.journal = nil
		if r.held != nil {
			r.held.created = false // removed below, not by release
		}
		if err := os.Remove(r.journalPath); err != nil {
			errs = append(errs, fmt.Errorf("journal %s: %w", r.journalPath, err))
		} else if err := logstore.SyncDir(r.path); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, err)
	r.closeFiles()
	return errors.Join(errs...)
}

// abandon drops the report as kill -9 would: no compaction, the journal
// left as it is. For tests.
func (r *Report) abandon() {
	r.compactMu.Lock()
	defer r.compactMu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	if !r.readOnly {
		r.stop()
	}
	r.closeFiles()
}

// stop ends the owner and the syncer.
func (r *Report) stop() {
	close(r.quit)
	<-r.ownerDone
	<-r.syncDone
}

// closeFiles closes every file, frees the index and releases the lock.
func (r *Report) closeFiles() {
	r.mu.Lock()
	r.idx.Free()
	r.lines.Free()
	r.mu.Unlock()
	if r.journal != nil {
		r.journal.Close()
		r.journal = nil
	}
	if r.orig != nil {
		r.orig.Close()
		r.orig = nil
	}
	if r.held != nil && !r.borrowed {
		r.held.release()
	}
}
