package tencent

import (
	"time"
)

// Credentials are the secrets that sign every request. They never appear in
// an error, a log line or a report.
type Credentials struct {
	SecretID     string
	SecretKey    string
	SessionToken string // temporary (STS) credentials; sent as x-cos-security-token
}

// TriggerInput names one TriggerWorkflow call.
type TriggerInput struct {
	WorkflowID string
	Key        string // the object key, exact bytes, no leading '/'
	Name       string // optional task name
}

// TriggerResult is CI's answer to an accepted TriggerWorkflow call.
type TriggerResult struct {
	InstanceID string
	RequestID  string
}

// ListInput is one GET Bucket (List Objects v1) page request.
type ListInput struct {
	Prefix    string
	Marker    string
	Delimiter string
	MaxKeys   int // 0 means the service default (1000)
}

// ListPage is one page of a bucket listing, keys already URL-decoded.
type ListPage struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	IsTruncated    bool
	NextMarker     string
	RequestID      string
}

// ObjectInfo is one listed object.
type ObjectInfo struct {
	Key          string
	Size         int64
	LastModified time.Time
	ETag         string
	StorageClass string
}

// ExecutionQuery is one DescribeWorkflowExecutions page request.
type ExecutionQuery struct {
	WorkflowID string
	Name       string    // the service's "name" filter (an object key)
	Start, End time.Time // creation-time window; zero means unbounded
	States     string    // comma list, default All
	NextToken  string
	Size       int    // page size, 0 means 100
	JobID      string // the inventory trigger job that created the executions
	Ascending  bool   // oldest first (orderByTime=Asc); the service's default is newest first
}

// ExecutionSummary is one item of a DescribeWorkflowExecutions answer.
type ExecutionSummary struct {
	RunID      string
	WorkflowID string
	State      string
	Object     string
	CreateTime time.Time
}

// ExecutionPage is one page of DescribeWorkflowExecutions.
type ExecutionPage struct {
	Executions []ExecutionSummary
	NextToken  string
	RequestID  string
}

// Execution is the answer of DescribeWorkflowExecution for one run.
type Execution struct {
	RunID        string
	WorkflowID   string
	WorkflowName string
	State        string
	Object       string
	CreateTime   time.Time
	Tasks        []Task
	RequestID    string
}

// Task is one node of a workflow execution.
type Task struct {
	Type, State, JobID, Code, Message, Name string
	CreateTime, StartTime, EndTime          string
}

// Class says what a caller should do with a failed call.
type Class int

const (
	// Retryable failures may succeed when tried again (network errors,
	// timeouts, 429, 5xx, throttling codes).
	Retryable Class = iota + 1
	// Permanent failures will fail again for this object; other objects may
	// still succeed.
	Permanent
	// Fatal failures make the whole run meaningless (rejected credentials,
	// unknown workflow, missing bucket or CI role).
	Fatal
)

// APIError is a failed call that reached the service and got an answer.
type APIError struct {
	Op         string // "trigger", "list", "get", "executions", "execution"
	HTTPStatus int
	Code       string
	Message    string // secrets redacted
	RequestID  string
	RetryAfter time.Duration // from a Retry-After header, 0 if none
	WorkflowID string        // the workflow of a trigger call, "" for other calls
	// Clock is set when the service refused the signature's time again
	// after a fresh signature: the machine's clock is wrong, and the
	// error is Fatal.
	Clock bool
}
