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

// Summary counts the entries of a report.
type Summary struct {
	Total      int `json:"total"`
	Succeeded  int `json:"succeeded"`
	Failed     int `json:"failed"`
	Invalid    int `json:"invalid"`
	Duplicates int `json:"duplicates"`
	// Complete says that the run that wrote the report read its source to
	// its end (false after --limit, --max-duration or an abort, and in the
	// rewrites while a run goes on).
	Complete bool `json:"complete"`
}

// Meta is what a report says about the run that wrote it.
type Meta struct {
	Version    int       `json:"version"`
	Bucket     string    `json:"bucket"`
	Region     string    `json:"region,omitempty"`
	WorkflowID string    `json:"workflowId,omitempty"`
	Source     string    `json:"source"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	// CIEndpoint and COSEndpoint are the --ci-endpoint and --cos-endpoint
	// the run was given ("" when it used the default hosts): status,
	// report and cancel use them.
	CIEndpoint  string `json:"ciEndpoint,omitempty"`
	COSEndpoint string `json:"cosEndpoint,omitempty"`
}

// Job is the server-side job of a --server-side run (a CI inventory
// trigger job), kept in the journal and in the report so that a rerun
// finds it: in the report, the top-level field
//
//	"job": {"name": "wftrigger-…", "id": "…", "state": "Running", "submittedAt": "2026-11-27T01:00:00Z"}
//
// before "objects". A Job without ID is an intent: the run was about to
// submit it (and may have); the rerun looks it up by name before
// submitting again.
type Job struct {
	Name        string    `json:"name"`                 // the job's name, derived from the report
	ID          string    `json:"id,omitempty"`         // CI's JobId, once CI answered
	State       string    `json:"state,omitempty"`      // the last known state: Submitted, Running, Success, Failed, Pause, Cancel
	SubmittedAt time.Time `json:"submittedAt,omitzero"` // when the create call was (about to be) sent
	Message     string    `json:"message,omitempty"`    // what the last look-up or cancel said, if anything
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
