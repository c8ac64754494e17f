package runner

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Service is what the runner needs of the workflow service, in its own
// terms. A failed call returns a *Failure that says what the answer means;
// the wiring outside the runner adapts the real client to this interface.
type Service interface {
	// Trigger starts the workflow on one object.
	Trigger(ctx context.Context, in TriggerInput) (TriggerResult, error)
	// FindExecution looks for an instance of workflowID on the object key
	// created at or after since; found is false when there is none.
	FindExecution(ctx context.Context, workflowID, key string, since time.Time) (x Execution, found bool, err error)
	// ListExecutions reads one page of the workflow's executions created
	// in [start, end] (a time window, no name filter); next is the token of
	// the next page, "" after the last.
	ListExecutions(ctx context.Context, workflowID string, start, end time.Time, token string) (page []Execution, next string, err error)
}

// TriggerInput names one trigger call.
type TriggerInput struct {
	WorkflowID string
	Key        string // the object key, exact bytes
	Name       string // optional task name
}

// TriggerResult is the service's answer to an accepted trigger call.
type TriggerResult struct {
	InstanceID string
	RequestID  string
}

// Execution is what the service says of one workflow instance.
type Execution struct {
	RunID      string
	WorkflowID string
	State      string // see the State constants (StateSuccess, …)
	Object     string
	CreateTime time.Time
	Tasks      []Task
}

// Task is one node of an execution.
type Task struct {
	Type, State, JobID, Code, Message string
}

// Outcome is what an answer of the service means for the object and the run.
type Outcome int

const (
	// Accepted: the call succeeded (a trigger has its instance id).
	Accepted Outcome = iota + 1
	// Throttled: the service said "not now"; retried after the pacer's
	// wait, and the pacer lowers the rate.
	Throttled
	// Retryable: the call failed and may succeed when tried again.
	Retryable
	// Uncertain: the request was sent and no answer was read; the service
	// may have acted on it, so the object is looked up before a retry.
	Uncertain
	// Permanent: the call will fail again for this object; other objects
	// may still succeed.
	Permanent
	// Fatal: the answer makes the whole run meaningless (rejected
	// credentials, unknown workflow, unreachable endpoint).
	Fatal
)

// String returns the outcome's name in lower case.
func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Throttled:
		return "throttled"
	case Retryable:
		return "retryable"
	case Uncertain:
		return "uncertain"
	case Permanent:
		return "permanent"
	case Fatal:
		return "fatal"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// retry reports whether a call with this outcome may be tried again.
func (o Outcome) retry() bool { return o == Throttled || o == Retryable || o == Uncertain }

// Failure is a call of the service that did not succeed: what it means, and
// the fields the report records of it.
type Failure struct {
	Outcome    Outcome
	RetryAfter time.Duration // the wait the service asked for, 0 if none
	HTTPStatus int           // 0 when no answer was read
	Code       string        // the service's code, or NetworkError, Timeout, Interrupted
	Message    string
	RequestID  string
	Err        error // the underlying error; the Failure reads as it
}

// Error is the underlying error's text, or the status, code and message.
func (f *Failure) Error() string {
	if f.Err != nil {
		return f.Err.Error()
	}
	return fmt.Sprintf("%d %s: %s", f.HTTPStatus, f.Code, f.Message)
}

// Unwrap returns the underlying error.
func (f *Failure) Unwrap() error { return f.Err }

// OutcomeOf classifies an error of a Service: nil is Accepted, a *Failure
// has its own Outcome, a cancelled context is Fatal (the run is stopping),
// and any other error is Retryable.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return Accepted
	}
	var f *Failure
	if errors.As(err, &f) && f.Outcome != 0 {
		return f.Outcome
	}
	if errors.Is(err, context.Canceled) {
		return Fatal
	}
	return Retryable
}

// retryAfter is the Retry-After of a failure, or 0.
func retryAfter(err error) time.Duration {
	var f *Failure
	if errors.As(err, &f) {
		return f.RetryAfter
	}
	return 0
}

// Execution states as the service names them (reference §5) and the report
// records them. Success, Failed and Cancel are final; any other state
// (Running, Submitted, …) is still in progress.
const (
	StateSuccess = "Success"
	StateFailed  = "Failed"
	StateCancel  = "Cancel"
	StateRunning = "Running"
)

// Final reports whether an execution in state has ended.
func Final(state string) bool {
	return state == StateSuccess || state == StateFailed || state == StateCancel
}
