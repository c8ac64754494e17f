package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wftrigger/wftrigger/internal/jsontext"
	"github.com/wftrigger/wftrigger/report/internal/document"
	"github.com/wftrigger/wftrigger/report/internal/index"
	"github.com/wftrigger/wftrigger/report/internal/logstore"
)

// ScanLive calls fn with every entry of the report at path as it is now:
// the report as of its last rewrite with the journal of a run that holds
// it (or of one that crashed) on top, each key's latest record winning (a
// success stays final, as in Open). It takes no lock and writes nothing, so
// it may run while a run appends to the journal; it streams: memory holds
// an off-heap index of the journal's keys (about 20 bytes a key), never the
// entries. The entries of the report come in its order, each as the
// journal last says it; then the keys that only the journal knows, in the
// journal's order. A dispatched record is given as Open would rewrite it:
// failed, uncertain. The returned header is the report's (or, before its
// first rewrite, the journal's) with the summary of the entries given to
// fn.
func ScanLive(path string, fn func(Entry) error) (Header, error) {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	s := &liveScan{path: path, fn: fn}
	defer s.close()
	if err := s.open(); err != nil {
		return Header{}, err
	}
	if err := s.indexJournal(); err != nil {
		return s.hdr, err
	}
	if err := s.scanReport(); err != nil {
		return s.hdr, err
	}
	if err := s.journalOnly(); err != nil {
		return s.hdr, err
	}
	s.hdr.Summary.Total = s.hdr.Summary.Succeeded + s.hdr.Summary.Failed + s.hdr.Summary.Invalid
	return s.hdr, nil
}

// The live index maps a key to its latest journal record: the record's
// offset (33 bits), three flags, and h2 in the top 28 bits where index.Get
// expects it.
const (
	liveOffBits  = 33
	liveOffMask  = 1<<liveOffBits - 1
	liveSeen     = 1 << 33 // the report has an entry for the key
	liveSuccess  = 1 << 34 // the latest record is a success
	liveReplaces = 1 << 35 // a record would replace a success (index.Keeps): the report's success is not final
)

type liveScan struct {
	path   string
	fn     func(Entry) error
	rep    *os.File // nil: no report yet
	jf     *os.File // nil: no journal
	jsize  int64
	idx    *index.Index
	hdr    Header
	hasHdr bool
	line   *bufio.Reader
	wf     string // the run's workflow: an entry's default
}

// open opens the report, then the journal, and checks that the report was
// not replaced meanwhile (a rewrite between the two would be newer than the
// journal read): so the journal read holds every record the report has.
func (s *liveScan) open() error {
	for range 20 {
		s.close()
		rep, err := os.Open(s.path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("report %s: %w", s.path, err)
		}
		s.rep = rep
		jf, err := os.Open(s.path + ".journal")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("journal %s.journal: %w", s.path, err)
		}
		s.jf = jf
		if jf != nil {
			st, err := jf.Stat()
			if err != nil {
				return fmt.Errorf("journal %s.journal: %w", s.path, err)
			}
			s.jsize = st.Size()
		}
		if rep == nil {
			if jf == nil {
				return fmt.Errorf("report %s: %w", s.path, fs.ErrNotExist)
			}
			if !exists(s.path) {
				return nil
			}
			continue // the first rewrite came meanwhile
		}
		if same, err := names(s.path, rep); err == nil && same {
			return nil
		}
	}
	return fmt.Errorf("report %s: rewritten too often to be read", s.path)
}

func (s *liveScan) close() {
	if s.rep != nil {
		s.rep.Close()
		s.rep = nil
	}
	if s.jf != nil {
		s.jf.Close()
		s.jf = nil
	}
	if s.idx != nil {
		s.idx.Free()
		s.idx = nil
	}
}

// hash identifies the record h, with the run's workflow as the default.
func (s *liveScan) hash(h *head) index.Key { return h.hash(s.idx, s.wf) }

// readHeader reads the report's header (and the run's workflow), first.
func (s *liveScan) readHeader() error {
	if s.rep == nil {
		return nil
	}
	h, err := readHeaderOf(s.path, s.rep)
	if err != nil {
		return err
	}
	s.hdr, s.hasHdr = h, true
	s.wf = s.hdr.WorkflowID
	s.hdr.Summary = Summary{Duplicates: s.hdr.Summary.Duplicates} // counted again as the entries come
	return nil
}

// indexJournal indexes every key's latest record of the journal.
func (s *liveScan) indexJournal() error {
	s.idx = index.New()
	if err := s.readHeader(); err != nil {
		return err
	}
	if s.jf == nil {
		return nil
	}
	if s.jsize > liveOffMask {
		return fmt.Errorf("journal %s.journal: %d bytes, too large to be read live", s.path, s.jsize)
	}
	onHeader := func(jh logstore.JournalHeader) error {
		if !s.hasHdr {
			s.hdr = Header{Meta: Meta{Version: 1, Bucket: jh.Bucket, WorkflowID: jh.WorkflowID, StartedAt: jh.StartedAt}}
			s.wf = jh.WorkflowID
		}
		return nil
	}
	_, err := readRecords(io.NewSectionReader(s.jf, 0, s.jsize), onHeader, func(j Job) { s.hdr.Job = &j }, func(n int, off int64, line []byte) error {
		if !json.Valid(line) {
			return &logstore.LineError{Line: n, Err: jsontext.InvalidJSON(line)}
		}
		h, err := parseHead(line)
		if err != nil {
			return &logstore.LineError{Line: n, Err: err}
		}
		k := s.hash(&h)
		st := h.state()
		old, ok := s.idx.Get(k)
		latest := index.None // any state but a success
		if old&liveSuccess != 0 {
			latest = index.Succeeded
		}
		if ok && index.Keeps(latest, st, h.HasHistory) {
			return nil // a success is final
		}
		v := k.Packed(uint64(off) | old&liveReplaces)
		if st == index.Succeeded {
			v |= liveSuccess
		}
		if !index.Keeps(index.Succeeded, st, h.HasHistory) {
			v |= liveReplaces
		}
		s.idx.Put(k, v)
		return nil
	})
	if err != nil {
		return journalError(s.path+".journal", err)
	}
	return nil
}

// scanReport gives every entry of the report, or the journal's version.
func (s *liveScan) scanReport() error {
	if s.rep == nil {
		return nil
	}
	_, err := document.Read(io.NewSectionReader(s.rep, 0, 1<<62), nil, func(raw []byte) error {
		h, err := parseHead(raw)
		if err != nil {
			return err
		}
		k := s.hash(&h)
		v, ok := s.idx.Get(k)
		if !ok {
			return s.emit(raw)
		}
		s.idx.Put(k, v|liveSeen)
		if h.Status == Succeeded && v&liveReplaces == 0 {
			return s.emit(raw) // a success is final: no record of the journal replaces it
		}
		line, err := s.lineAt(int64(v & liveOffMask))
		if err != nil {
			return err
		}
		return s.emit(line)
	})
	if err != nil {
		var ce *CorruptError
		if errors.As(err, &ce) || errors.Is(err, errUser) {
			return err
		}
		return reportError(s.path, s.rep, err)
	}
	return nil
}

// journalOnly gives the keys that the report does not have.
func (s *liveScan) journalOnly() error {
	if s.jf == nil {
		return nil
	}
	_, err := readRecords(io.NewSectionReader(s.jf, 0, s.jsize), func(logstore.JournalHeader) error { return nil }, nil, func(n int, off int64, line []byte) error {
		h, err := parseHead(line)
		if err != nil {
			return &logstore.LineError{Line: n, Err: err}
		}
		v, ok := s.idx.Get(s.hash(&h))
		if !ok || v&liveSeen != 0 || int64(v&liveOffMask) != off {
			return nil
		}
		return s.emit(line)
	})
	if err != nil && !errors.Is(err, errUser) {
		return fmt.Errorf("journal %s.journal: %w", s.path, err)
	}
	return err
}

// lineAt reads the journal line at off.
func (s *liveScan) lineAt(off int64) ([]byte, error) {
	sr := io.NewSectionReader(s.jf, off, s.jsize-off)
	if s.line == nil {
		s.line = bufio.NewReaderSize(sr, 4096)
	} else {
		s.line.Reset(sr)
	}
	line, err := s.line.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("journal %s.journal: %w", s.path, err)
	}
	return line, nil
}

// errUser marks an error of the caller's fn.
var errUser = errors.New("stopped by the caller")

// userError is an error of the caller's fn, given back as it is.
type userError struct{ err error }

func (e *userError) Error() string   { return e.err.Error() }
func (e *userError) Unwrap() []error { return []error{e.err, errUser} }

// emit decodes one record and gives it to fn, counting it.
func (s *liveScan) emit(raw []byte) error {
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return err
	}
	if e.Status == Withdrawn {
		return nil // never sent: as if never seen
	}
	if e.Status == Dispatched {
		settleDispatched(&e)
	}
	switch e.Status {
	case Succeeded:
		s.hdr.Summary.Succeeded++
	case Failed:
		s.hdr.Summary.Failed++
	case Invalid:
		s.hdr.Summary.Invalid++
	}
	if s.fn == nil {
		return nil
	}
	if err := s.fn(e); err != nil {
		return &userError{err}
	}
	return nil
}
