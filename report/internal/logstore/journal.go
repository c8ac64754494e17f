// Package logstore owns a report's two files at the level of bytes and
// lines: the journal, a log of JSON lines that a run appends to, and the
// report, the compacted state that every rewrite replaces whole.
//
// The journal begins with a header line naming its run (JournalHeader),
// written with the file: CreateJournal links a journal into place already
// holding it, so an empty journal is one whose records were lost, never one
// a crash cut before its header. The run appends whole lines to it (its
// owner writes each batch of lines with one write(2) and fsyncs once for
// all the records waiting); PrepareJournal cuts a torn tail off before the
// first append; ReadJournal reads it back line by line, telling a torn last
// line (a write a crash cut) from garbage before it. WriteAtomic replaces
// the report through a temporary file, fsynced, renamed into place, its
// folder fsynced (SyncDir).
//
// The package knows lines, not what they hold: package report says what a
// record is, which one wins and how a journal is folded into the report.
package logstore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// JournalHeader is the first line of a journal: the run it belongs to.
type JournalHeader struct {
	Journal    int       `json:"journal"` // the format's version: 1
	Bucket     string    `json:"bucket"`
	WorkflowID string    `json:"workflowId,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
}

// JournalHeaderLine is the header line, with its newline, of the journal
// of a run of bucket and workflowID started at startedAt.
func JournalHeaderLine(bucket, workflowID string, startedAt time.Time) []byte {
	b, _ := json.Marshal(JournalHeader{Journal: 1, Bucket: bucket, WorkflowID: workflowID, StartedAt: startedAt})
	return append(b, '\n')
}

// File is the journal as a run holds it open (O_RDWR|O_APPEND): the run
// appends to it and fsyncs it, and its compactions read it. Tests put a
// file behind it that keeps only what was synced, as a power loss does.
type File interface {
	io.ReaderAt
	io.Writer
	Sync() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Close() error
}

// CreateJournal makes the journal jp, holding its header line hdr from the
// moment it appears under its name: a temporary file is written, fsynced
// and linked to jp (which fails if jp exists meanwhile: then another run
// made it, and created is false). So a journal is never empty: an empty one
// is a journal whose records were lost, not one a crash cut before its
// header.
func CreateJournal(jp string, hdr []byte) (created bool, err error) {
	tmp := fmt.Sprintf("%s.tmp-%d", jp, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	_, err = f.Write(hdr)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}
	if err := os.Link(tmp, jp); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, SyncDir(jp)
}

// PrepareJournal readies the journal f at path for appending, whose first
// good bytes are whole lines (0: none, not even the header): what follows
// them (a torn last line) is cut off, the header line hdr is written if
// the journal holds nothing, and f is fsynced. It returns the length of
// the whole lines, the header's included. The caller fsyncs the folder.
func PrepareJournal(f File, path string, good int64, hdr []byte) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return good, fmt.Errorf("journal %s: %w", path, err)
	}
	if st.Size() != good {
		if err := f.Truncate(good); err != nil {
			return good, fmt.Errorf("journal %s: cut torn line: %w", path, err)
		}
	}
	if good == 0 {
		if _, err := f.Write(hdr); err != nil {
			return good, fmt.Errorf("journal %s: %w", path, err)
		}
		good = int64(len(hdr))
	}
	if err := f.Sync(); err != nil {
		return good, fmt.Errorf("journal %s: %w", path, err)
	}
	return good, nil
}

// LineError is an error of one journal line.
type LineError struct {
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// JournalRead is what ReadJournal found.
type JournalRead struct {
	Good    int64 // the offset just after the last line used
	Records int   // record lines used
	Torn    int   // the line number of a torn last line; 0 if none
}

// errEmptyJournal says that a journal holds nothing, not even its header.
var errEmptyJournal = errors.New("the journal is empty (or white space only); wftrigger creates a journal holding its header line, so the records it held are lost")

// ReadJournal reads a journal: its header line, given to hdr, then every
// record line, given to fn with its 1-based line number and its offset. A
// journal that is empty (or white space) is a *LineError. A last record
// line that is torn (no newline, or not JSON: the writer was stopped
// mid-write) is left out and counted in Torn: fn says a line is not a
// record by returning a *LineError, which ends the read unless the line
// is the last. Anything else that cannot be read is an error: a
// *LineError for a line (the header included) that is not what it should
// be, with lines after it. The slice given to fn is reused after fn
// returns.
func ReadJournal(r io.Reader, hdr func(JournalHeader) error, fn func(lineNo int, off int64, line []byte) error) (JournalRead, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var (
		res     JournalRead
		lineNo  int
		long    []byte
		started bool
	)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err == io.EOF {
			if len(bytes.TrimSpace(line)) == 0 {
				if !started {
					// A journal is created holding its header (see
					// CreateJournal): an empty one lost its records.
					return res, &LineError{1, errEmptyJournal}
				}
				return res, nil
			}
			// A last line without its newline: torn.
			if !started {
				return res, &LineError{lineNo + 1, errors.New("the journal's header line is cut short: the records after it, if there were any, are lost")}
			}
			res.Torn = lineNo + 1
			return res, nil
		}
		if err != nil {
			return res, err
		}
		lineNo++
		body := bytes.TrimSpace(line)
		if len(body) > 0 {
			var ferr error
			if !started {
				var jh JournalHeader
				if ferr = json.Unmarshal(body, &jh); ferr == nil && jh.Journal != 1 {
					ferr = errors.New("not a journal header")
				}
				if ferr != nil {
					ferr = &LineError{lineNo, ferr}
				} else {
					started = true
					ferr = hdr(jh)
				}
			} else {
				ferr = fn(lineNo, res.Good, body)
				if ferr == nil {
					res.Records++
				}
			}
			if ferr != nil {
				var le *LineError
				if errors.As(ferr, &le) && started {
					if rest, perr := br.Peek(1); perr == io.EOF && len(rest) == 0 {
						res.Torn = lineNo
						return res, nil // a torn last line
					}
				}
				return res, ferr
			}
		}
		res.Good += int64(len(line))
	}
}
