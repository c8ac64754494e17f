package manifest

import (
	"bufio"
	"io"

	"github.com/wftrigger/wftrigger/internal/jsontext"
)

// AppendJSONL appends to b one line of a JSONL manifest, without its
// newline: {"key":…} with "workflowId" and "name" when they are set. The
// strings are written as encoding/json writes them with HTML escaping off
// (a byte that is not part of valid UTF-8 becomes U+FFFD: only keys that
// are invalid anyway hold such bytes); the JSONL reader reads every valid
// key back byte for byte.
func AppendJSONL(b []byte, key, workflowID, name string) []byte {
	b = append(b, `{"key":`...)
	b = jsontext.AppendString(b, key)
	if workflowID != "" {
		b = append(b, `,"workflowId":`...)
		b = jsontext.AppendString(b, workflowID)
	}
	if name != "" {
		b = append(b, `,"name":`...)
		b = jsontext.AppendString(b, name)
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
