package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/wftrigger/wftrigger/internal/jsontext"
	"github.com/wftrigger/wftrigger/report/internal/index"
)

// This file reads what resume needs of records fast: a rerun of a million
// objects reads them twice (at Open and at the final compaction), and
// encoding/json's Decoder and Unmarshal take several microseconds an
// object. jsontext.Reader cuts a stream into JSON values by their
// structure only; Open checks each object with json.Valid before using it,
// and a compaction reads the same bytes again (the report by the
// descriptor kept open, the journal lines written or checked by this run).

// head is what resume needs of a record: the fields that identify it and
// its state.
type head struct {
	Key          string     `json:"key"`
	WorkflowID   string     `json:"workflowId"`
	Status       Status     `json:"status"`
	Line         int        `json:"line"`
	File         string     `json:"file"`
	Uncertain    bool       `json:"uncertain"`
	DispatchedAt *time.Time `json:"dispatchedAt"`
	ExecState    string     `json:"-"` // the execution's state, if recorded
	HasHistory   bool       `json:"-"` // the record carries a history: a deliberate second trigger
}

// state is the index state of the record.
func (h *head) state() index.State {
	switch h.Status {
	case Succeeded:
		return index.Succeeded
	case Invalid:
		return index.Invalid
	case Dispatched:
		return index.Dispatched
	case Withdrawn:
		return index.None
	}
	if h.Uncertain {
		return index.Uncertain
	}
	return index.Failed
}

// hash identifies the record h in idx; runWorkflow is the run's workflow,
// the default of an entry's.
func (h *head) hash(idx *index.Index, runWorkflow string) index.Key {
	if h.Status == Invalid {
		return idx.InvalidHash(h.File, h.Line, h.Key)
	}
	wf := h.WorkflowID
	if wf == "" {
		wf = runWorkflow
	}
	return idx.KeyHash(wf, h.Key)
}

// isUncertain says whether a key in state st is looked up before it is
// triggered again.
func isUncertain(st index.State) bool { return st == index.Uncertain || st == index.Dispatched }

// execState returns the state of an execution token: fast for the layout
// appendEntry writes, encoding/json for any other.
func execState(tok []byte) (string, error) {
	if string(tok) == "null" {
		return "", nil
	}
	const pre = `{"state":`
	if bytes.HasPrefix(tok, []byte(pre)) {
		p := jsontext.NewScanner(tok, len(pre))
		if s, err := p.Token(); err == nil {
			return jsontext.Unquote(s)
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

// fieldName returns the name of a field from its token, without a copy
// when it has no escape (the names appendEntry writes).
func fieldName(tok []byte) ([]byte, error) {
	if len(tok) >= 2 && tok[0] == '"' && tok[len(tok)-1] == '"' && bytes.IndexByte(tok, '\\') < 0 {
		return tok[1 : len(tok)-1], nil
	}
	name, err := jsontext.Unquote(tok)
	return []byte(name), err
}

// statusOf returns the status of a token: one of the constants without a
// copy, any other string as it is.
func statusOf(tok []byte) (Status, error) {
	if len(tok) >= 2 && tok[0] == '"' {
		switch string(tok[1 : len(tok)-1]) {
		case string(Succeeded):
			return Succeeded, nil
		case string(Failed):
			return Failed, nil
		case string(Invalid):
			return Invalid, nil
		case string(Dispatched):
			return Dispatched, nil
		case string(Withdrawn):
			return Withdrawn, nil
		}
	}
	s, err := jsontext.Unquote(tok)
	return Status(s), err
}

// parseHead decodes what resume needs of one record: a JSON object checked
// by json.Valid (at Open) or written by this package.
func parseHead(raw []byte) (head, error) {
	var h head
	p := jsontext.NewScanner(raw, 0)
	if c, err := p.Peek(); err != nil || c != '{' {
		return h, errors.New("not a JSON object")
	}
	p.Skip()
	for {
		c, err := p.Peek()
		if err != nil {
			return h, err
		}
		if c == '}' {
			break
		}
		if c == ',' {
			p.Skip()
		}
		tok, err := p.Token()
		if err != nil {
			return h, err
		}
		name, err := fieldName(tok)
		if err != nil {
			return h, err
		}
		if c, err := p.Peek(); err != nil || c != ':' {
			return h, fmt.Errorf("field %q: no colon", name)
		}
		p.Skip()
		tok, err = p.Token()
		if err != nil {
			return h, fmt.Errorf("field %q: %w", name, err)
		}
		switch string(name) {
		case "key":
			h.Key, err = jsontext.Unquote(tok)
		case "workflowId":
			h.WorkflowID, err = jsontext.Unquote(tok)
		case "status":
			h.Status, err = statusOf(tok)
		case "line":
			if string(tok) != "null" {
				h.Line, err = strconv.Atoi(string(tok))
			}
		case "file":
			h.File, err = jsontext.Unquote(tok)
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
			if s, err = jsontext.Unquote(tok); err == nil && s != "" {
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
	case Succeeded, Failed, Invalid, Dispatched, Withdrawn:
	case "":
		return h, errors.New("no status")
	default:
		return h, fmt.Errorf("unknown status %q", h.Status)
	}
	return h, nil
}
