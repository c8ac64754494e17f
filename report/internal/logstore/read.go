package logstore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

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
