package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wftrigger/wftrigger/internal/jsontext"
	"github.com/wftrigger/wftrigger/report/internal/index"
)

// Header is what a report says before its objects: the run that wrote it
// and the summary of its entries.
type Header struct {
	Meta
	Summary Summary `json:"summary"`
	Job     *Job    `json:"job,omitempty"` // the server-side job of a --server-side run
}

// CorruptError is returned by Open (and Rewrite, ScanLive) when the report
// or its journal cannot be trusted: an empty file, a file that is not a
// report, a journal with garbage before its last line. Nothing is taken for
// a new start: the run stops, and --fresh (Options.Fresh) sets the files
// aside.
type CorruptError struct {
	Path   string // the report or the journal
	Line   int    // the 1-based line where it goes wrong; 0 for the whole file
	Reason string // what is wrong
}

func (e *CorruptError) Error() string {
	kind := "report"
	if strings.HasSuffix(e.Path, ".journal") {
		kind = "journal"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s %s: line %d: %s", kind, e.Path, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s %s: %s", kind, e.Path, e.Reason)
}

// offsetError is an error of readReport at a byte offset of the report.
type offsetError struct {
	off int64
	err error
}

func (e *offsetError) Error() string { return e.err.Error() }
func (e *offsetError) Unwrap() error { return e.err }

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// head is what resume needs of a record: the fields that identify it and
// its state.
type head struct {
	Key          string     `json:"key"`
	WorkflowID   string     `json:"workflowId"`
	Status       Status     `json:"status"`
	Line         int        `json:"line"`
	File         string     `json:"file"`
	Uncertain    bool       `json:"uncertain"`
	DispatchedAt *time.Time `json:"dispatchedAt"`
	ExecState    string     `json:"-"` // the execution's state, if recorded
	HasHistory   bool       `json:"-"` // the record carries a history: a deliberate second trigger
}

// state is the index state of the record.
func (h *head) state() index.State {
	switch h.Status {
	case Succeeded:
		return index.Succeeded
	case Invalid:
		return index.Invalid
	case Dispatched:
		return index.Dispatched
	case Withdrawn:
		return index.None
	}
	if h.Uncertain {
		return index.Uncertain
	}
	return index.Failed
}

// isUncertain says whether a key in state st is looked up before it is
// triggered again.
func isUncertain(st index.State) bool { return st == index.Uncertain || st == index.Dispatched }

// errNotReport says that a file is not a report of ours.
var errNotReport = errors.New("not a wftrigger report")

// readReport reads the report r streaming. The header is made of the fields
// before "objects" (a report is always written that way): it is checked
// and given to onHeader (if not nil) when "objects" begins, or at the end
// when there are none. Then fn is called with every object, in order, cut
// out by its structure only: fn checks it as it needs. The returned header
// also holds any field after the objects. The slice given to fn is reused
// after fn returns.
func readReport(r io.Reader, onHeader func(Header) error, fn func(raw []byte) error) (Header, error) {
	cr := &countingReader{r: r}
	v := jsontext.NewReader(bufio.NewReaderSize(cr, 256<<10))
	h, err := readReportFrom(v, onHeader, fn)
	if err != nil {
		var me *MismatchError
		if !errors.As(err, &me) && !errors.Is(err, errStop) {
			err = &offsetError{off: cr.n - int64(v.Buffered()), err: err}
		}
	}
	return h, err
}

func readReportFrom(v *jsontext.Reader, onHeader func(Header) error, fn func(raw []byte) error) (Header, error) {
	var h Header
	c, err := v.Next()
	if err != nil {
		return h, fmt.Errorf("%w: %w", errNotReport, jsontext.UnexpectedEOF(err))
	}
	if c != '{' {
		return h, fmt.Errorf("%w: not a JSON object", errNotReport)
	}
	hdr := []byte{'{'}
	headerDone := false
	header := func() error {
		headerDone = true
		h = Header{}
		if err := json.Unmarshal(append(hdr, '}'), &h); err != nil {
			return fmt.Errorf("%w: %w", errNotReport, err)
		}
		if h.Version != 1 {
			if h.Version == 0 {
				return fmt.Errorf("%w: no version before the objects", errNotReport)
			}
			return fmt.Errorf("version %d is not supported (want 1)", h.Version)
		}
		if onHeader != nil {
			return onHeader(h)
		}
		return nil
	}
	var raw []byte
	for n := 0; ; n++ {
		c, err := v.Next()
		if err != nil {
			return h, jsontext.UnexpectedEOF(err)
		}
		if c == '}' {
			break
		}
		if n > 0 {
			if c != ',' {
				return h, jsontext.SyntaxError(c, "',' or '}'")
			}
			if c, err = v.Next(); err != nil {
				return h, jsontext.UnexpectedEOF(err)
			}
		}
		if c != '"' {
			return h, jsontext.SyntaxError(c, "a field name")
		}
		if raw, err = v.Value(raw[:0], c); err != nil {
			return h, err
		}
		name, err := jsontext.Unquote(raw)
		if err != nil {
			return h, err
		}
		if c, err = v.Next(); err != nil || c != ':' {
			return h, fmt.Errorf("field %q: no colon", name)
		}
		if c, err = v.Next(); err != nil {
			return h, jsontext.UnexpectedEOF(err)
		}
		if name == "objects" && !headerDone {
			if err := header(); err != nil {
				return h, err
			}
			if err := readObjects(v, c, fn); err != nil {
				return h, err
			}
			continue
		}
		if raw, err = v.Value(raw[:0], c); err != nil {
			return h, fmt.Errorf("field %q: %w", name, err)
		}
		if len(hdr) > 1 {
			hdr = append(hdr, ',')
		}
		hdr = jsontext.AppendString(hdr, name)
		hdr = append(hdr, ':')
		hdr = append(hdr, raw...)
	}
	if _, err := v.Next(); err != io.EOF {
		return h, errors.New("data after the report's object")
	}
	if !headerDone {
		return h, header()
	}
	// Fields after the objects: add them to what the header said.
	if err := json.Unmarshal(append(hdr, '}'), &h); err != nil {
		return h, fmt.Errorf("%w: %w", errNotReport, err)
	}
	return h, nil
}

// readObjects reads the array of objects, whose first byte c was just read.
func readObjects(v *jsontext.Reader, c byte, fn func(raw []byte) error) error {
	if c == 'n' {
		raw, err := v.Value(nil, c)
		if err == nil && string(raw) != "null" {
			err = fmt.Errorf("objects: %s is not an array", raw)
		}
		return err
	}
	if c != '[' {
		return errors.New("objects: not an array")
	}
	var (
		raw []byte
		err error
	)
	for n := 0; ; n++ {
		if c, err = v.Next(); err != nil {
			return jsontext.UnexpectedEOF(err)
		}
		if c == ']' {
			return nil
		}
		if n > 0 {
			if c != ',' {
				return fmt.Errorf("object %d: %w", n, jsontext.SyntaxError(c, "',' or ']'"))
			}
			if c, err = v.Next(); err != nil {
				return jsontext.UnexpectedEOF(err)
			}
		}
		if c != '{' {
			return fmt.Errorf("object %d: not a JSON object", n)
		}
		if raw, err = v.Value(raw[:0], c); err != nil {
			return fmt.Errorf("object %d: %w", n, err)
		}
		if err := fn(raw); err != nil {
			return fmt.Errorf("object %d: %w", n, err)
		}
	}
}
