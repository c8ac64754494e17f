package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/wftrigger/wftrigger/internal/jsontext"
	"github.com/wftrigger/wftrigger/report/internal/document"
)

// appendEntry appends e as one line of JSON: the bytes encoding/json writes
// for it (with HTML escaping off), without reflection. The field names and
// their omission rules are those of Entry's tags; encode_test.go checks
// that the two agree.
func appendEntry(b []byte, e *Entry) []byte {
	b = append(b, `{"key":`...)
	b = jsontext.AppendString(b, e.Key)
	b = jsontext.AppendNonEmpty(b, `,"keyHex":`, e.KeyHex)
	b = jsontext.AppendNonEmpty(b, `,"workflowId":`, e.WorkflowID)
	b = jsontext.AppendNonEmpty(b, `,"name":`, e.Name)
	b = append(b, `,"status":`...)
	b = jsontext.AppendString(b, string(e.Status))
	b = jsontext.AppendNonEmpty(b, `,"instanceId":`, e.InstanceID)
	b = jsontext.AppendNonEmpty(b, `,"requestId":`, e.RequestID)
	b = appendOptInt(b, `,"attempts":`, e.Attempts)
	b = appendOptInt(b, `,"line":`, e.Line)
	b = jsontext.AppendNonEmpty(b, `,"file":`, e.File)
	if e.Error != nil {
		b = append(b, `,"error":`...)
		b = appendError(b, e.Error)
	}
	if e.Uncertain {
		b = append(b, `,"uncertain":true`...)
	}
	if e.DispatchedAt != nil {
		b = append(b, `,"dispatchedAt":`...)
		b = jsontext.AppendTime(b, *e.DispatchedAt)
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
			b = jsontext.AppendString(b, in.InstanceID)
			b = jsontext.AppendNonEmpty(b, `,"requestId":`, in.RequestID)
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
	b = append(b, '{')
	if x.State != "" {
		b = append(b, `"state":`...)
		b = jsontext.AppendString(b, x.State)
		b = append(b, ',')
	}
	b = append(b, `"checkedAt":`...)
	b = jsontext.AppendTime(b, x.CheckedAt)
	if len(x.Tasks) > 0 {
		b = append(b, `,"tasks":[`...)
		for i := range x.Tasks {
			t := &x.Tasks[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = jsontext.AppendString(b, t.Type)
			b = append(b, `,"state":`...)
			b = jsontext.AppendString(b, t.State)
			b = jsontext.AppendNonEmpty(b, `,"code":`, t.Code)
			b = jsontext.AppendNonEmpty(b, `,"message":`, t.Message)
			b = jsontext.AppendNonEmpty(b, `,"jobId":`, t.JobID)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if x.Error != nil {
		b = append(b, `,"error":`...)
		b = appendError(b, x.Error)
	}
	return append(b, '}')
}

// appendJobLine appends the journal line of j: {"job":{...}}.
func appendJobLine(b []byte, j *Job) []byte {
	b = append(b, `{"job":`...)
	b = document.AppendJob(b, j)
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
	b = jsontext.AppendString(b, e.Code)
	b = append(b, `,"message":`...)
	b = jsontext.AppendString(b, e.Message)
	b = jsontext.AppendNonEmpty(b, `,"requestId":`, e.RequestID)
	return append(b, '}')
}

func appendOptInt(b []byte, name string, n int) []byte {
	if n == 0 {
		return b
	}
	b = append(b, name...)
	return strconv.AppendInt(b, int64(n), 10)
}
