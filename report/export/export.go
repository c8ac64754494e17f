// Package export writes the entries of a wftrigger report for other tools:
// JSON Lines that `wftrigger run --manifest` reads back, CSV for a
// spreadsheet, and the CSV layout of an S3 Batch Operations completion
// report. It chooses entries by their status and execution state, and
// writes one entry at a time: memory does not grow with the report.
package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wftrigger/wftrigger/internal/textlist"
	"github.com/wftrigger/wftrigger/manifest"
	"github.com/wftrigger/wftrigger/report"
)

// Formats a Writer writes.
const (
	JSONL   = "jsonl"   // one object a line: key, workflowId, name, then the entry's other fields
	CSV     = "csv"     // a header, then one entry a record
	S3Batch = "s3batch" // Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage; no header
)

// CSVHeader is the header of the CSV format.
var CSVHeader = []string{"key", "status", "workflowId", "name", "instanceId", "attempts", "errorCode", "httpStatus", "message", "executionState"}

// Uncertain is the status a Filter knows beside the report's own: a failed
// entry whose last call may have reached CI (report.Entry's Uncertain).
const Uncertain = "uncertain"

// statuses are the names a Filter accepts.
var statuses = []string{string(report.Succeeded), string(report.Failed), string(report.Invalid), Uncertain}

// Filter chooses entries. The zero Filter chooses every entry.
type Filter struct {
	// Statuses are the statuses chosen: succeeded, failed, invalid,
	// uncertain. "failed" chooses every failed entry, uncertain or not;
	// "uncertain" only those whose outcome is unknown. Empty: all.
	Statuses []string
	// Executions are the execution states chosen (Success, Failed, Cancel,
	// Running…, compared without regard to case); an entry without a
	// recorded execution is then left out. Empty: any, or none.
	Executions []string
}

// ParseFilter parses the comma-separated lists of --status and --execution.
func ParseFilter(statusList, executionList string) (Filter, error) {
	var f Filter
	for _, s := range textlist.Split(statusList) {
		s = strings.ToLower(s)
		if !slices.Contains(statuses, s) {
			return f, fmt.Errorf("status %q: want %s", s, strings.Join(statuses, ", "))
		}
		f.Statuses = append(f.Statuses, s)
	}
	f.Executions = textlist.Split(executionList)
	return f, nil
}

// uncertain reports whether the outcome of e is unknown: a failed entry
// whose last call may have reached CI, or a journal's dispatched record.
func uncertain(e *report.Entry) bool {
	return e.Status == report.Dispatched || e.Status == report.Failed && e.Uncertain
}

// Match reports whether f chooses e.
func (f Filter) Match(e *report.Entry) bool {
	if len(f.Statuses) > 0 {
		ok := false
		for _, s := range f.Statuses {
			switch {
			case s == Uncertain:
				ok = uncertain(e)
			case s == string(report.Failed):
				ok = e.Status == report.Failed || e.Status == report.Dispatched
			default:
				ok = string(e.Status) == s
			}
			if ok {
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(f.Executions) > 0 {
		if e.Execution == nil {
			return false
		}
		return slices.ContainsFunc(f.Executions, func(s string) bool { return strings.EqualFold(s, e.Execution.State) })
	}
	return true
}

// Writer writes entries in one format. Close flushes it.
type Writer struct {
	format string
	bucket string
	w      io.Writer
	csv    *csv.Writer
	buf    bytes.Buffer
	enc    *json.Encoder
	line   []byte
	rec    []string
	n      int
}

// NewWriter returns a Writer of format (JSONL, CSV or S3Batch) to w.
// bucket is the report's bucket, the first column of S3Batch.
func NewWriter(w io.Writer, format, bucket string) (*Writer, error) {
	x := &Writer{format: format, bucket: bucket, w: w}
	switch format {
	case JSONL:
		x.enc = json.NewEncoder(&x.buf)
		x.enc.SetEscapeHTML(false)
	case CSV, S3Batch:
		x.csv = csv.NewWriter(w)
	default:
		return nil, fmt.Errorf("format %q: want %s, %s or %s", format, JSONL, CSV, S3Batch)
	}
	return x, nil
}

// Write writes e.
func (x *Writer) Write(e *report.Entry) error {
	x.n++
	switch x.format {
	case JSONL:
		line, err := x.jsonl(e)
		if err != nil {
			return fmt.Errorf("entry %q: %w", e.Key, err)
		}
		_, err = x.w.Write(line)
		return err
	case CSV:
		if x.n == 1 {
			if err := x.csv.Write(CSVHeader); err != nil {
				return err
			}
		}
		return x.csv.Write(x.csvRecord(e))
	default:
		return x.csv.Write(x.s3Record(e))
	}
}

// Close writes what is buffered (and the CSV header when no entry was
// written); it does not close the underlying writer.
func (x *Writer) Close() error {
	if x.csv == nil {
		return nil
	}
	if x.format == CSV && x.n == 0 {
		if err := x.csv.Write(CSVHeader); err != nil {
			return err
		}
	}
	x.csv.Flush()
	return x.csv.Error()
}

// jsonl is the line of e: the manifest fields (key, workflowId, name) as
// manifest.AppendJSONL writes them, then every other field of the entry as
// the report holds it (keyHex, the exact bytes of a key that is not valid
// UTF-8, among them: the JSONL reader takes the key from it).
func (x *Writer) jsonl(e *report.Entry) ([]byte, error) {
	rest := *e
	rest.Key, rest.WorkflowID, rest.Name = "", "", ""
	x.buf.Reset()
	if err := x.enc.Encode(&rest); err != nil {
		return nil, err
	}
	// {"key":"",…}\n: cut the empty key off, keep the other fields.
	other, ok := bytes.CutPrefix(x.buf.Bytes(), []byte(`{"key":""`))
	if !ok {
		return nil, errors.New(`entry does not encode with "key" first`)
	}
	x.line = manifest.AppendJSONL(x.line[:0], e.Key, e.WorkflowID, e.Name)
	x.line = append(x.line[:len(x.line)-1], other...) // other begins with ',' or '}'
	return x.line, nil
}

// errorFields are the columns of an entry's error: its code, its HTTP status
// ("" when CI answered none) and its message; all "" without an error.
func errorFields(err *report.Error) (code, httpStatus, message string) {
	if err == nil {
		return "", "", ""
	}
	if err.HTTPStatus != 0 {
		httpStatus = strconv.Itoa(err.HTTPStatus)
	}
	return err.Code, httpStatus, err.Message
}

func (x *Writer) csvRecord(e *report.Entry) []string {
	var state string
	code, httpStatus, message := errorFields(e.Error)
	if e.Execution != nil {
		state = e.Execution.State
	}
	x.rec = append(x.rec[:0], e.Key, string(e.Status), e.WorkflowID, e.Name, e.InstanceID, strconv.Itoa(e.Attempts), code, httpStatus, message, state)
	return x.rec
}

// s3Record is e as a line of an S3 Batch Operations completion report:
// Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage.
// A succeeded entry is 200 with its instance id; any other is failed with
// its error (an HTTP status only when CI answered one).
func (x *Writer) s3Record(e *report.Entry) []string {
	status, code, httpStatus, message := "succeeded", "", "200", e.InstanceID
	if e.Status != report.Succeeded {
		status = "failed"
		code, httpStatus, message = errorFields(e.Error)
	}
	x.rec = append(x.rec[:0], x.bucket, EncodeKey(e.Key), "", status, code, httpStatus, message)
	return x.rec
}

// EncodeKey URL-encodes a key as S3 Batch Operations and COS inventory
// reports write it: every byte but letters, digits, '-', '_', '.', '~' and
// '/' as %XX (a space as %20), so that url.QueryUnescape and
// url.PathUnescape both give the key back.
func EncodeKey(key string) string {
	s := url.QueryEscape(key)
	s = strings.ReplaceAll(s, "+", "%20") // QueryEscape writes a space as '+'; '+' itself is %2B
	return strings.ReplaceAll(s, "%2F", "/")
}
