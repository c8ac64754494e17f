// Package jsontext is the document codec's lowest layer: it cuts a stream
// into JSON values by their structure (Reader), reads the tokens of one
// value in memory (Scanner) and appends strings and times exactly as
// encoding/json writes them (AppendString, AppendTime), without
// reflection. Package report builds its report and journal formats on it:
// a rerun of ten million objects reads every one twice, and encoding/json
// takes several microseconds an object.
package jsontext

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Reader cuts a stream into JSON values by their structure only: it does
// not check them (the caller does, as it needs).
type Reader struct {
	br *bufio.Reader
}

// NewReader reads from br.
func NewReader(br *bufio.Reader) *Reader { return &Reader{br: br} }

// Buffered is the number of bytes read from the stream but not yet used.
func (v *Reader) Buffered() int { return v.br.Buffered() }

// Next returns the next byte that is not white space.
func (v *Reader) Next() (byte, error) {
	for {
		c, err := v.br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

// Value appends to dst the JSON value whose first byte c was just read.
func (v *Reader) Value(dst []byte, c byte) ([]byte, error) {
	dst = append(dst, c)
	switch c {
	case '"':
		return v.rest(dst, 0, true)
	case '{', '[':
		return v.rest(dst, 1, false)
	}
	for {
		c, err := v.br.ReadByte()
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
		switch c {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return dst, v.br.UnreadByte()
		}
		dst = append(dst, c)
	}
}

// rest appends the rest of a string (inString) or of an object or array
// nested depth deep.
func (v *Reader) rest(dst []byte, depth int, inString bool) ([]byte, error) {
	for {
		if inString {
			// Copy up to the next quote or backslash at once.
			chunk, err := v.br.ReadSlice('"')
			for err == bufio.ErrBufferFull {
				dst = append(dst, chunk...)
				chunk, err = v.br.ReadSlice('"')
			}
			if err != nil {
				return dst, UnexpectedEOF(err)
			}
			dst = append(dst, chunk...)
			if escapedQuote(dst) {
				continue
			}
			inString = false
			if depth == 0 {
				return dst, nil
			}
			continue
		}
		c, err := v.br.ReadByte()
		if err != nil {
			return dst, UnexpectedEOF(err)
		}
		dst = append(dst, c)
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return dst, nil
			}
		}
	}
}

// escapedQuote says whether the quote that ends b is escaped: preceded by
// an odd number of backslashes.
func escapedQuote(b []byte) bool {
	n := 0
	for i := len(b) - 2; i >= 0 && b[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// UnexpectedEOF turns io.EOF into io.ErrUnexpectedEOF.
func UnexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// SyntaxError describes an unexpected byte.
func SyntaxError(c byte, want string) error {
	return fmt.Errorf("invalid character %q, want %s", c, want)
}

// InvalidJSON is the error of a value json.Valid refused.
func InvalidJSON(raw []byte) error {
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		return err
	}
	return errors.New("invalid JSON")
}
