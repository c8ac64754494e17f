package document

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/wftrigger/wftrigger/internal/jsontext"
)

// OffsetError is an error of Read at a byte offset of the report.
type OffsetError struct {
	Off int64
	Err error
}

func (e *OffsetError) Error() string { return e.Err.Error() }
func (e *OffsetError) Unwrap() error { return e.Err }

// headerError is an error of Read's onHeader, given back as it is.
type headerError struct{ err error }

func (e *headerError) Error() string { return e.err.Error() }

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

// errNotReport says that a file is not a report of ours.
var errNotReport = errors.New("not a wftrigger report")

// Read reads the report r streaming. The header is made of the fields
// before "objects" (a report is always written that way): it is checked
// and given to onHeader (if not nil) when "objects" begins, or at the end
// when there are none. Then fn is called with every object, in order, cut
// out by its structure only: fn checks it as it needs. The returned header
// also holds any field after the objects. The slice given to fn is reused
// after fn returns. An error of onHeader is returned as it is; any other
// (fn's included) is an *OffsetError at the byte where reading stopped.
func Read(r io.Reader, onHeader func(Header) error, fn func(raw []byte) error) (Header, error) {
	cr := &countingReader{r: r}
	v := jsontext.NewReader(bufio.NewReaderSize(cr, 256<<10))
	h, err := read(v, onHeader, fn)
	if err != nil {
		if he, ok := err.(*headerError); ok {
			err = he.err
		} else {
			err = &OffsetError{Off: cr.n - int64(v.Buffered()), Err: err}
		}
	}
	return h, err
}

func read(v *jsontext.Reader, onHeader func(Header) error, fn func(raw []byte) error) (Header, error) {
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
			if err := onHeader(h); err != nil {
				return &headerError{err}
			}
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
