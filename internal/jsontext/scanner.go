package jsontext

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"
)

// Scanner reads the tokens of one JSON value in memory.
type Scanner struct {
	b []byte
	i int
}

// NewScanner scans b from its byte i.
func NewScanner(b []byte, i int) *Scanner { return &Scanner{b: b, i: i} }

// Skip consumes one byte (one Peek returned).
func (p *Scanner) Skip() { p.i++ }

func (p *Scanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
			continue
		}
		return
	}
}

// Peek returns the next byte that is not white space, not consuming it.
func (p *Scanner) Peek() (byte, error) {
	p.ws()
	if p.i >= len(p.b) {
		return 0, io.ErrUnexpectedEOF
	}
	return p.b[p.i], nil
}

// Token returns the next value, whole (a string with its quotes).
func (p *Scanner) Token() ([]byte, error) {
	c, err := p.Peek()
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
				if _, err := p.Token(); err != nil {
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

// Unquote decodes a string token (null is "").
func Unquote(tok []byte) (string, error) {
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
