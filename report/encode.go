package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendEntry appends e as one line of JSON: the bytes encoding/json writes
// for it (with HTML escaping off), without reflection. The field names and
// their omission rules are those of Entry's tags; encode_test.go checks
// that the two agree.
func appendEntry(b []byte, e *Entry) []byte {
	b = append(b, `{"key":`...)
	b = appendJSONString(b, e.Key)
	b = appendOptString(b, `,"keyHex":`, e.KeyHex)
	b = appendOptString(b, `,"workflowId":`, e.WorkflowID)
	b = appendOptString(b, `,"name":`, e.Name)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(e.Status))
	b = appendOptString(b, `,"instanceId":`, e.InstanceID)
	b = appendOptString(b, `,"requestId":`, e.RequestID)
	b = appendOptInt(b, `,"attempts":`, e.Attempts)
	b = appendOptInt(b, `,"line":`, e.Line)
	b = appendOptString(b, `,"file":`, e.File)
	if e.Error != nil {
		b = append(b, `,"error":`...)
		b = appendError(b, e.Error)
	}
	if e.Uncertain {
		b = append(b, `,"uncertain":true`...)
	}
	if e.DispatchedAt != nil {
		b = append(b, `,"dispatchedAt":`...)
		b = appendTime(b, *e.DispatchedAt)
	}
	if e.Recovered {
		b = append(b, `,"recovered":true`...)
	}
	if e.Execution != nil {
		b = append(b, `,"execution":`...)
		b = appendExecution(b, e.Execution)
	}
	if len(e.History) > 0 {
		b = append(b, `,"history":[`...)
		for i := range e.History {
			if i > 0 {
				b = append(b, ',')
			}
			in := &e.History[i]
			b = append(b, `{"instanceId":`...)
			b = appendJSONString(b, in.InstanceID)
			b = appendOptString(b, `,"requestId":`, in.RequestID)
			if in.Execution != nil {
				b = append(b, `,"execution":`...)
				b = appendExecution(b, in.Execution)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendExecution appends x as encoding/json writes it.
func appendExecution(b []byte, x *Execution) []byte {
	{
		b = append(b, `{"state":`...)
		b = appendJSONString(b, x.State)
		b = append(b, `,"checkedAt":`...)
		b = appendTime(b, x.CheckedAt)
		if len(x.Tasks) > 0 {
			b = append(b, `,"tasks":[`...)
			for i := range x.Tasks {
				t := &x.Tasks[i]
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"type":`...)
				b = appendJSONString(b, t.Type)
				b = append(b, `,"state":`...)
				b = appendJSONString(b, t.State)
				b = appendOptString(b, `,"code":`, t.Code)
				b = appendOptString(b, `,"message":`, t.Message)
				b = appendOptString(b, `,"jobId":`, t.JobID)
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return b
}

// appendJob appends j as encoding/json writes it.
func appendJob(b []byte, j *Job) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, j.Name)
	b = appendOptString(b, `,"id":`, j.ID)
	b = appendOptString(b, `,"state":`, j.State)
	if !j.SubmittedAt.IsZero() {
		b = append(b, `,"submittedAt":`...)
		b = appendTime(b, j.SubmittedAt)
	}
	b = appendOptString(b, `,"message":`, j.Message)
	return append(b, '}')
}

// appendJobLine appends the journal line of j: {"job":{...}}.
func appendJobLine(b []byte, j *Job) []byte {
	b = append(b, `{"job":`...)
	b = appendJob(b, j)
	return append(b, '}')
}

// jobLine says whether a journal line is a job line, and decodes it.
func jobLine(line []byte) (Job, bool, error) {
	if !bytes.HasPrefix(line, []byte(`{"job":`)) {
		return Job{}, false, nil
	}
	var v struct {
		Job *Job `json:"job"`
	}
	if err := json.Unmarshal(line, &v); err != nil {
		return Job{}, true, err
	}
	if v.Job == nil {
		return Job{}, true, errors.New("job line without a job")
	}
	return *v.Job, true, nil
}

func appendError(b []byte, e *Error) []byte {
	b = append(b, '{')
	if e.HTTPStatus != 0 {
		b = append(b, `"httpStatus":`...)
		b = strconv.AppendInt(b, int64(e.HTTPStatus), 10)
		b = append(b, ',')
	}
	b = append(b, `"code":`...)
	b = appendJSONString(b, e.Code)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, e.Message)
	b = appendOptString(b, `,"requestId":`, e.RequestID)
	return append(b, '}')
}

func appendOptString(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, name...)
	return appendJSONString(b, s)
}

func appendOptInt(b []byte, name string, n int) []byte {
	if n == 0 {
		return b
	}
	b = append(b, name...)
	return strconv.AppendInt(b, int64(n), 10)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, as encoding/json does with
// HTML escaping off: a byte that is not part of valid UTF-8 becomes U+FFFD,
// control characters and U+2028, U+2029 are escaped.
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
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
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
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
