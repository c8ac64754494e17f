package manifest

import (
	"bufio"
	"io"
	"unicode/utf8"
)

// AppendJSONL appends to b one line of a JSONL manifest, without its
// newline: {"key":…} with "workflowId" and "name" when they are set. The
// strings are written as encoding/json writes them with HTML escaping off
// (a byte that is not part of valid UTF-8 becomes U+FFFD: only keys that
// are invalid anyway hold such bytes); the JSONL reader reads every valid
// key back byte for byte.
func AppendJSONL(b []byte, key, workflowID, name string) []byte {
	b = append(b, `{"key":`...)
	b = appendJSONString(b, key)
	if workflowID != "" {
		b = append(b, `,"workflowId":`...)
		b = appendJSONString(b, workflowID)
	}
	if name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, name)
	}
	return append(b, '}')
}

// JSONLWriter writes rows as a JSONL manifest, one object a line, through
// a buffer: memory does not grow with the rows. Flush writes what is
// buffered.
type JSONLWriter struct {
	w   *bufio.Writer
	buf []byte
}

// NewJSONLWriter returns a JSONLWriter writing to w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	return &JSONLWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes the line of row: its key, and its own workflowId and name
// when it has them.
func (w *JSONLWriter) Write(row Row) error {
	w.buf = append(AppendJSONL(w.buf[:0], row.Key, row.WorkflowID, row.Name), '\n')
	_, err := w.w.Write(w.buf)
	return err
}

// Flush writes the buffered lines to the underlying writer.
func (w *JSONLWriter) Flush() error { return w.w.Flush() }

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: control characters, '"',
// '\\', U+2028 and U+2029 escaped, a byte that is not part of valid UTF-8
// written as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
