package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/wftrigger/wftrigger/report/internal/document"
	"github.com/wftrigger/wftrigger/report/internal/index"
	"github.com/wftrigger/wftrigger/report/internal/logstore"
)

// badRecordError is a record that cannot be read.
type badRecordError struct{ err error }

func (e *badRecordError) Error() string { return e.err.Error() }
func (e *badRecordError) Unwrap() error { return e.err }

// Compact rewrites the report from the old report and the journal, as of
// now, while the run goes on: Record is not held up. The journal is kept:
// it still holds every record of the run.
func (r *Report) Compact() error {
	if r.readOnly {
		return nil
	}
	r.compactMu.Lock()
	defer r.compactMu.Unlock()
	if r.closed {
		return ErrClosed
	}
	snap := new(snapshot)
	q := &request{snap: snap, done: make(chan error, 1)}
	select {
	case r.reqs <- q:
	case <-r.ownerDone:
		return ErrClosed
	}
	<-q.done
	defer func() {
		r.mu.Lock()
		r.endCompactionLocked()
		r.mu.Unlock()
	}()
	return r.compact(*snap, time.Time{}, false)
}

// compact writes the report of snap: for every key, its latest record
// before snap.seq, read again from the report as it was at Open and from
// the journal, in seq order.
func (r *Report) compact(snap snapshot, finished time.Time, dropUnseen bool) error {
	hdr := Header{Meta: r.meta, Summary: snap.summary}
	hdr.FinishedAt = finished
	r.mu.Lock()
	if r.job != nil {
		j := *r.job
		hdr.Job = &j
	}
	r.mu.Unlock()
	var (
		seq     uint64
		emitted int
		scratch []byte
	)
	err := logstore.WriteAtomic(r.path, r.held.beforeRename, func(w *bufio.Writer) error {
		ow := document.NewWriter(w, &hdr)
		// emit writes the record at the next seq, if it is its key's
		// entry as of snap. The seqs are counted as load counted them: an
		// object of the report each, a line of the journal each but its
		// job lines.
		emit := func(raw []byte) error {
			s := seq
			seq++
			if s >= snap.seq {
				return nil
			}
			// What the marks know needs no reading (see index.Lines).
			r.mu.Lock()
			m := r.lines.Of(s)
			r.mu.Unlock()
			switch {
			case r.readEvery:
			case m == index.Dead:
				return nil
			case m == index.Plain:
				emitted++
				return ow.Object(raw)
			}
			h, err := parseHead(raw)
			if err != nil {
				return &badRecordError{err}
			}
			k := r.hashOf(&h)
			r.mu.Lock()
			v, ok := r.idx.Get(k)
			cur := index.SeqOf(v)
			if x, sup := r.superseded[k]; sup {
				cur = x
			}
			r.mu.Unlock()
			if !ok || s != cur || dropUnseen && h.Status == Invalid && !index.SeenOf(v) {
				return nil
			}
			if h.Status == Dispatched {
				var e Entry
				if err := json.Unmarshal(raw, &e); err != nil {
					return &badRecordError{err}
				}
				settleDispatched(&e)
				scratch = appendEntry(scratch[:0], &e)
				raw = scratch
			}
			emitted++
			return ow.Object(raw)
		}
		if r.orig != nil && r.origSize > 0 {
			_, err := document.Read(io.NewSectionReader(r.orig, 0, r.origSize), nil, emit)
			if err != nil {
				return fmt.Errorf("report %s (as it was at the start of the run): %w", r.path, err)
			}
		}
		if r.journal != nil {
			_, err := readRecords(io.NewSectionReader(r.journal, 0, snap.end),
				func(logstore.JournalHeader) error { return nil }, nil, // the job is in the header
				func(n int, _ int64, line []byte) error {
					err := emit(line)
					var bad *badRecordError
					if errors.As(err, &bad) {
						return &logstore.LineError{Line: n, Err: bad.err}
					}
					return err
				})
			if err != nil {
				return fmt.Errorf("journal %s: %w", r.journalPath, err)
			}
		}
		if seq != snap.seq {
			// Fewer (or more) records than the index holds: the seqs, and so
			// the marks, may name other records. Write nothing rather than a
			// wrong report.
			return fmt.Errorf("journal %s: %d records read again, %d indexed: the report is left as it was", r.journalPath, seq, snap.seq)
		}
		return ow.Close()
	})
	r.mu.Lock()
	r.emitted = emitted
	r.mu.Unlock()
	return err
}

// errStop ends a read early.
var errStop = errors.New("stop")

// readHeaderOf reads the header of the report f at path, none of its
// objects; an error is reportError's.
func readHeaderOf(path string, f io.ReaderAt) (Header, error) {
	var h Header
	_, err := document.Read(io.NewSectionReader(f, 0, 1<<62), func(got Header) error {
		h = got
		return errStop
	}, nil)
	if err != nil && !errors.Is(err, errStop) {
		return h, reportError(path, f, err)
	}
	return h, nil
}

// Rewrite calls fn on every entry of the report at path, which may change
// it (`wftrigger status` adds the execution), and writes the report again
// atomically, its header and summary unchanged. It holds the report's lock
// meanwhile (a *LockedError if a run holds it). The journal of a run that
// did not finish is first folded into the report.
func Rewrite(path string, fn func(*Entry) error) error {
	path, err := resolveFor(path, true)
	if err != nil {
		return err
	}
	h, err := acquire(path, time.Now(), nil)
	if err != nil {
		return err
	}
	defer h.release()
	if err := removeStale(path); err != nil {
		return err
	}
	if exists(path + ".journal") {
		if err := fold(path, h); err != nil {
			return err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	defer f.Close()
	return logstore.WriteAtomic(path, h.beforeRename, func(w *bufio.Writer) error {
		var (
			ow  *document.Writer
			buf []byte
		)
		onHeader := func(h Header) error {
			ow = document.NewWriter(w, &h)
			return nil
		}
		_, err := document.Read(f, onHeader, func(raw []byte) error {
			var e Entry
			if err := json.Unmarshal(raw, &e); err != nil {
				return err
			}
			if err := fn(&e); err != nil {
				return err
			}
			buf = appendEntry(buf[:0], &e)
			return ow.Object(buf)
		})
		if err != nil {
			return reportError(path, f, err)
		}
		return ow.Close()
	})
}

// fold writes the report at path (whose locks h are held) with the journal
// a run left beside it, and removes the journal.
func fold(path string, h *held) error {
	var meta Meta
	f, err := os.Open(path)
	switch {
	case err == nil:
		hdr, err := readHeaderOf(path, f)
		f.Close()
		if err != nil {
			return err
		}
		meta = hdr.Meta
	case errors.Is(err, fs.ErrNotExist):
		jf, err := os.Open(path + ".journal")
		if err != nil {
			return fmt.Errorf("journal %s.journal: %w", path, err)
		}
		_, err = logstore.ReadJournal(jf, func(h logstore.JournalHeader) error {
			meta = Meta{Bucket: h.Bucket, WorkflowID: h.WorkflowID, StartedAt: h.StartedAt}
			return errStop
		}, nil)
		jf.Close()
		if err != nil && !errors.Is(err, errStop) {
			return journalError(path+".journal", err)
		}
		if meta.Bucket == "" && meta.StartedAt.IsZero() {
			// An empty journal and no report: nothing to fold.
			return os.Remove(path + ".journal")
		}
	default:
		return fmt.Errorf("report %s: %w", path, err)
	}
	r, err := openLocked(Options{Path: path, Meta: meta}, time.Now, h)
	if err != nil {
		return err
	}
	r.borrowed = true // the locks stay Rewrite's
	return r.Close(meta.FinishedAt, false)
}

// Scan reads the report at path, streaming, and calls fn with every entry
// in order; it returns the report's header. It neither takes the lock nor
// reads the journal (ScanLive does).
func Scan(path string, fn func(Entry) error) (Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, fmt.Errorf("report %s: %w", path, err)
	}
	defer f.Close()
	h, err := document.Read(f, nil, func(raw []byte) error {
		var e Entry
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		if fn == nil {
			return nil
		}
		return fn(e)
	})
	if err != nil {
		var oe *document.OffsetError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return h, fmt.Errorf("report %s: %w", path, err)
	}
	return h, nil
}
