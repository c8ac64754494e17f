package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// This file reads reports and records fast: a rerun of a million objects
// reads them twice (at Open and at the final compaction), and
// encoding/json's Decoder and Unmarshal take several microseconds an
// object. valueReader cuts a stream into JSON values by their structure
// only; Open checks each object with json.Valid before using it, and a
// compaction reads the same bytes again (the report by the descriptor kept
// open, the journal lines written or checked by this run).

// valueReader reads the top-level structure of a report.
type valueReader struct {
	br *bufio.Reader
}

// next returns the next byte that is not white space.
func (v *valueReader) next() (byte, error) {
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

// value appends to dst the JSON value whose first byte c was just read.
func (v *valueReader) value(dst []byte, c byte) ([]byte, error) {
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
func (v *valueReader) rest(dst []byte, depth int, inString bool) ([]byte, error) {
	for {
		if inString {
			// Copy up to the next quote or backslash at once.
			chunk, err := v.br.ReadSlice('"')
			for err == bufio.ErrBufferFull {
				dst = append(dst, chunk...)
				chunk, err = v.br.ReadSlice('"')
			}
			if err != nil {
				return dst, unexpectedEOF(err)
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
			return dst, unexpectedEOF(err)
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

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// syntaxError describes an unexpected byte.
func syntaxError(c byte, want string) error {
	return fmt.Errorf("invalid character %q, want %s", c, want)
}

// invalidJSON is the error of a value json.Valid refused.
func invalidJSON(raw []byte) error {
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		return err
	}
	return errors.New("invalid JSON")
}

// headParser reads the fields of a record that resume needs.
type headParser struct {
	b []byte
	i int
}

func (p *headParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
			continue
		}
		return
	}
}

// peek returns the next byte that is not white space, not consuming it.
func (p *headParser) peek() (byte, error) {
	p.ws()
	if p.i >= len(p.b) {
		return 0, io.ErrUnexpectedEOF
	}
	return p.b[p.i], nil
}

// token returns the next value, whole (a string with its quotes).
func (p *headParser) token() ([]byte, error) {
	c, err := p.peek()
	if err != nil {
		return nil, err
	}
	start := p.i
	switch c {
	case '"':
		for p.i++; p.i < len(p.b); p.i++ {
			switch p.b[p.i] {
			case '\\':
				p.i++
			case '"':
				p.i++
				return p.b[start:p.i], nil
			}
		}
		return nil, io.ErrUnexpectedEOF
	case '{', '[':
		depth := 0
		for ; p.i < len(p.b); p.i++ {
			switch p.b[p.i] {
			case '"':
				if _, err := p.token(); err != nil {
					return nil, err
				}
				p.i--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					p.i++
					return p.b[start:p.i], nil
				}
			}
		}
		return nil, io.ErrUnexpectedEOF
	}
	for ; p.i < len(p.b); p.i++ {
		switch p.b[p.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return p.b[start:p.i], nil
		}
	}
	return p.b[start:p.i], nil
}

// str decodes a string token (null is "").
func str(tok []byte) (string, error) {
	if string(tok) == "null" {
		return "", nil
	}
	if len(tok) < 2 || tok[0] != '"' {
		return "", fmt.Errorf("%s is not a string", tok)
	}
	body := tok[1 : len(tok)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), nil
	}
	var s string
	err := json.Unmarshal(tok, &s)
	return s, err
}

// execState returns the state of an execution token: fast for the layout
// appendEntry writes, encoding/json for any other.
func execState(tok []byte) (string, error) {
	if string(tok) == "null" {
		return "", nil
	}
	const pre = `{"state":`
	if bytes.HasPrefix(tok, []byte(pre)) {
		p := headParser{b: tok, i: len(pre)}
		if s, err := p.token(); err == nil {
			return str(s)
		}
	}
	var x struct {
		State string `json:"state"`
	}
	if err := json.Unmarshal(tok, &x); err != nil {
		return "", err
	}
	return x.State, nil
}

// parseHead decodes what resume needs of one record: a JSON object checked
// by json.Valid (at Open) or written by this package.
func parseHead(raw []byte) (head, error) {
	var h head
	p := headParser{b: raw}
	if c, err := p.peek(); err != nil || c != '{' {
		return h, errors.New("not a JSON object")
	}
	p.i++
	for {
		c, err := p.peek()
		if err != nil {
			return h, err
		}
		if c == '}' {
			break
		}
		if c == ',' {
			p.i++
		}
		tok, err := p.token()
		if err != nil {
			return h, err
		}
		name, err := str(tok)
		if err != nil {
			return h, err
		}
		if c, err := p.peek(); err != nil || c != ':' {
			return h, fmt.Errorf("field %q: no colon", name)
		}
		p.i++
		tok, err = p.token()
		if err != nil {
			return h, fmt.Errorf("field %q: %w", name, err)
		}
		switch name {
		case "key":
			h.Key, err = str(tok)
		case "workflowId":
			h.WorkflowID, err = str(tok)
		case "status":
			var s string
			s, err = str(tok)
			h.Status = Status(s)
		case "line":
			if string(tok) != "null" {
				h.Line, err = strconv.Atoi(string(tok))
			}
		case "file":
			h.File, err = str(tok)
		case "uncertain":
			switch string(tok) {
			case "true":
				h.Uncertain = true
			case "false", "null":
				h.Uncertain = false
			default:
				err = fmt.Errorf("%s is not a boolean", tok)
			}
		case "execution":
			h.ExecState, err = execState(tok)
		case "history":
			h.HasHistory = len(tok) > 0 && tok[0] == '[' && len(bytes.TrimSpace(tok[1:len(tok)-1])) > 0
		case "dispatchedAt":
			var s string
			if s, err = str(tok); err == nil && s != "" {
				var t time.Time
				if t, err = time.Parse(time.RFC3339Nano, s); err == nil {
					h.DispatchedAt = &t
				}
			} else {
				h.DispatchedAt = nil
			}
		}
		if err != nil {
			return h, fmt.Errorf("field %q: %w", name, err)
		}
	}
	switch h.Status {
	case Succeeded, Failed, Invalid, Dispatched:
	case "":
		return h, errors.New("no status")
	default:
		return h, fmt.Errorf("unknown status %q", h.Status)
	}
	return h, nil
}
