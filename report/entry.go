package report

import "time"

// Status is the state of one object in a report.
type Status string

// The statuses of the contract, plus the journal-only Dispatched.
const (
	Succeeded  Status = "succeeded"
	Failed     Status = "failed"
	Invalid    Status = "invalid"
	Dispatched Status = "dispatched" // journal only: a call is about to be sent
	// Withdrawn (journal only) takes back the Dispatched record of an
	// object that had no record before it and whose call was never sent
	// (the run stopped first): the object is as if never seen, so the
	// next run triggers it without a look-up. Lost to a power loss, it
	// leaves the Dispatched record: a look-up, never a second trigger.
	Withdrawn Status = "withdrawn"
)

// Entry is one object of the report (and one line of the journal).
type Entry struct {
	Key          string     `json:"key"`
	KeyHex       string     `json:"keyHex,omitempty"`
	WorkflowID   string     `json:"workflowId,omitempty"`
	Name         string     `json:"name,omitempty"`
	Status       Status     `json:"status"`
	InstanceID   string     `json:"instanceId,omitempty"`
	RequestID    string     `json:"requestId,omitempty"`
	Attempts     int        `json:"attempts,omitempty"`
	Line         int        `json:"line,omitempty"`
	File         string     `json:"file,omitempty"` // the inventory data file of an invalid row
	Error        *Error     `json:"error,omitempty"`
	Uncertain    bool       `json:"uncertain,omitempty"`    // the last call may have reached CI: look it up before triggering again
	DispatchedAt *time.Time `json:"dispatchedAt,omitempty"` // when the first uncertain call was sent
	Recovered    bool       `json:"recovered,omitempty"`    // succeeded: found in the execution list, not triggered again
	Execution    *Execution `json:"execution,omitempty"`
	History      []Instance `json:"history,omitempty"` // the earlier instances of an object triggered again (RetryFailedExecutions)
}

// Instance is an earlier workflow instance of an object that was triggered
// again because its execution failed: the entry's history, oldest first.
// In JSON: {"instanceId": "...", "requestId": "...", "execution": {...}}.
type Instance struct {
	InstanceID string     `json:"instanceId"`
	RequestID  string     `json:"requestId,omitempty"`
	Execution  *Execution `json:"execution,omitempty"`
}

// ExecutionFailed is the execution state of a workflow instance that
// failed: the state RetryFailedExecutions triggers again.
const ExecutionFailed = "Failed"

// Error is why an object failed or is invalid.
type Error struct {
	HTTPStatus int    `json:"httpStatus,omitempty"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	RequestID  string `json:"requestId,omitempty"`
}

// Execution is the state of a workflow instance, added by `wftrigger status`
// (and `run --wait`). CheckedAt is when it was last looked up. When that
// look-up failed, Error says why (a 404 ResourceNotFound: the service does
// not know the instance) and State and Tasks, if set, are those of the last
// look-up that succeeded:
//
//	"execution": {"checkedAt": "…", "error": {"httpStatus": 403, "code": "AccessDenied", "message": "…"}}
type Execution struct {
	State     string    `json:"state,omitempty"`
	CheckedAt time.Time `json:"checkedAt"`
	Tasks     []Task    `json:"tasks,omitempty"`
	Error     *Error    `json:"error,omitempty"`
}

// Task is one node of an execution, as `wftrigger status` records it.
type Task struct {
	Type    string `json:"type"`
	State   string `json:"state"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	JobID   string `json:"jobId,omitempty"`
}

// PriorState is what earlier runs (and this one) know of an object.
type PriorState int

// The prior states Admit returns.
const (
	New       PriorState = iota // never seen: trigger it
	Done                        // succeeded in an earlier run: skip it
	Retry                       // failed in an earlier run: trigger again
	Uncertain                   // a call may have reached CI: look it up first
	Duplicate                   // already seen in this run: skip, count
)

// Prior is Admit's answer.
type Prior struct {
	State        PriorState
	DispatchedAt time.Time // for Uncertain: when the uncertain call was sent
}
