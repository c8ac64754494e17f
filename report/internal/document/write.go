package document

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/wftrigger/wftrigger/internal/jsontext"
)

// Writer writes a report: its header, then its objects, one a line.
type Writer struct {
	w       *bufio.Writer
	n       int
	compact bytes.Buffer
}

// NewWriter writes the header h to w, up to the opening of "objects", and
// returns the writer of the objects.
func NewWriter(w *bufio.Writer, h *Header) *Writer {
	writeHeader(w, h)
	return &Writer{w: w}
}

// writeHeader writes the report's fields up to the opening of "objects".
func writeHeader(w *bufio.Writer, h *Header) {
	b := make([]byte, 0, 512)
	b = append(b, "{\n  \"version\": "...)
	b = strconv.AppendInt(b, int64(h.Version), 10)
	b = append(b, ",\n  \"bucket\": "...)
	b = jsontext.AppendString(b, h.Bucket)
	b = jsontext.AppendNonEmpty(b, ",\n  \"region\": ", h.Region)
	b = jsontext.AppendNonEmpty(b, ",\n  \"workflowId\": ", h.WorkflowID)
	b = append(b, ",\n  \"source\": "...)
	b = jsontext.AppendString(b, h.Source)
	b = append(b, ",\n  \"startedAt\": "...)
	b = jsontext.AppendTime(b, h.StartedAt)
	if !h.FinishedAt.IsZero() {
		b = append(b, ",\n  \"finishedAt\": "...)
		b = jsontext.AppendTime(b, h.FinishedAt)
	}
	b = jsontext.AppendNonEmpty(b, ",\n  \"ciEndpoint\": ", h.CIEndpoint)
	b = jsontext.AppendNonEmpty(b, ",\n  \"cosEndpoint\": ", h.COSEndpoint)
	if h.Job != nil {
		b = append(b, ",\n  \"job\": "...)
		b = AppendJob(b, h.Job)
	}
	s := &h.Summary
	b = fmt.Appendf(b, ",\n  \"summary\": {\"total\": %d, \"succeeded\": %d, \"failed\": %d, \"invalid\": %d, \"duplicates\": %d, \"complete\": %t}",
		s.Total, s.Succeeded, s.Failed, s.Invalid, s.Duplicates, s.Complete)
	b = append(b, ",\n  \"objects\": ["...)
	w.Write(b)
}

// Object writes the next object, raw (an object spread over lines is
// compacted onto one).
func (o *Writer) Object(raw []byte) error {
	if o.n == 0 {
		o.w.WriteString("\n    ")
	} else {
		o.w.WriteString(",\n    ")
	}
	o.n++
	if bytes.IndexByte(raw, '\n') >= 0 || bytes.IndexByte(raw, '\r') >= 0 {
		o.compact.Reset()
		if err := json.Compact(&o.compact, raw); err != nil {
			return err
		}
		raw = o.compact.Bytes()
	}
	_, err := o.w.Write(raw)
	return err
}

// Close writes the end of the report (it does not flush w).
func (o *Writer) Close() error {
	if o.n == 0 {
		_, err := o.w.WriteString("]\n}\n")
		return err
	}
	_, err := o.w.WriteString("\n  ]\n}\n")
	return err
}

// AppendJob appends j as encoding/json writes it.
func AppendJob(b []byte, j *Job) []byte {
	b = append(b, `{"name":`...)
	b = jsontext.AppendString(b, j.Name)
	b = jsontext.AppendNonEmpty(b, `,"id":`, j.ID)
	b = jsontext.AppendNonEmpty(b, `,"state":`, j.State)
	if !j.SubmittedAt.IsZero() {
		b = append(b, `,"submittedAt":`...)
		b = jsontext.AppendTime(b, j.SubmittedAt)
	}
	b = jsontext.AppendNonEmpty(b, `,"message":`, j.Message)
	return append(b, '}')
}
