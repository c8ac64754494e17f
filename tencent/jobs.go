package tencent

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The states of an inventory trigger job (reference §9).
const (
	JobSubmitted = "Submitted"
	JobRunning   = "Running"
	JobSuccess   = "Success"
	JobFailed    = "Failed"
	JobPause     = "Pause"
	JobCancel    = "Cancel"
)

// JobEnded reports whether an inventory trigger job in state has ended:
// Success, Failed or Cancel. A paused job has not.
func JobEnded(state string) bool {
	return state == JobSuccess || state == JobFailed || state == JobCancel
}

// MaxJobNameLen is the longest name an inventory trigger job may have.
const MaxJobNameLen = 128

// ErrNoSuchJob is returned (wrapped) when CI says that a job id does not
// exist (its answer lists the id under NonExistJobIds).
var ErrNoSuchJob = errors.New("no such inventory trigger job")

// JobRequest is one CreateInventoryTriggerJob call: a job of Type Workflow
// over exactly one input, a prefix (optionally with an upload-time window)
// or the URL of a COS inventory manifest.json.
type JobRequest struct {
	Name       string // required: at most 128 of A-Z a-z 0-9 - _
	WorkflowID string
	// Manifest, when set, is the URL of an inventory manifest.json, and the
	// input is that manifest; otherwise the input is Prefix ("" is the
	// whole bucket).
	Manifest string
	Prefix   string
	// Start and End bound the objects' upload time (Prefix input only);
	// zero means unbounded. Sent as 2006-01-02T15:04:05-0700.
	Start, End time.Time
}

// InventoryJob is CI's description of an inventory trigger job (its
// JobsDetail). Times the service writes as "-" are zero.
type InventoryJob struct {
	JobID        string
	Name         string
	Type         string
	State        string
	Code         string
	Message      string // secrets redacted
	Progress     string // as the service writes it (format undocumented)
	CreationTime time.Time
	StartTime    time.Time
	EndTime      time.Time
	Prefix       string // the job's input, as echoed back
	Manifest     string
	WorkflowIDs  string
	RequestID    string
}

// JobQuery is one DescribeInventoryTriggerJobs (list) page request; empty
// fields are not sent.
type JobQuery struct {
	Name       string
	WorkflowID string
	JobID      string
	States     string // comma list
	NextToken  string
	Size       int // page size, at most 100; 0 means 100
}

// JobPage is one page of the job list.
type JobPage struct {
	Jobs      []InventoryJob
	NextToken string
	RequestID string
}

// jobRequestXML is the body of CreateInventoryTriggerJob.
type jobRequestXML struct {
	XMLName   xml.Name `xml:"Request"`
	Name      string   `xml:"Name"`
	Type      string   `xml:"Type"`
	Input     jobInputXML
	Operation struct {
		WorkflowIDs  string           `xml:"WorkflowIds"`
		TimeInterval *timeIntervalXML `xml:"TimeInterval,omitempty"`
	} `xml:"Operation"`
}

type jobInputXML struct {
	XMLName  xml.Name `xml:"Input"`
	Prefix   *string  `xml:"Prefix"`
	Manifest string   `xml:"Manifest,omitempty"`
}

type timeIntervalXML struct {
	Start string `xml:"Start,omitempty"`
	End   string `xml:"End,omitempty"`
}

// jobDetailXML is one JobsDetail (the documented fields, and Progress as
// the SDK maps it).
type jobDetailXML struct {
	Code         string `xml:"Code"`
	Message      string `xml:"Message"`
	Type         string `xml:"Type"`
	Name         string `xml:"Name"`
	JobID        string `xml:"JobId"`
	State        string `xml:"State"`
	Progress     string `xml:"Progress"`
	CreationTime string `xml:"CreationTime"`
	StartTime    string `xml:"StartTime"`
	EndTime      string `xml:"EndTime"`
	Input        struct {
		Prefix   string `xml:"Prefix"`
		Manifest string `xml:"Manifest"`
	} `xml:"Input"`
	Operation struct {
		WorkflowIDs string `xml:"WorkflowIds"`
	} `xml:"Operation"`
}

// jobsResponseXML is the answer of create, describe and list. The docs
// write NonExistJobIds, SDK v0.7.70 NonExistJobId: both are read.
type jobsResponseXML struct {
	XMLName        xml.Name       `xml:"Response"`
	RequestID      string         `xml:"RequestId"`
	Jobs           []jobDetailXML `xml:"JobsDetail"`
	NextToken      string         `xml:"NextToken"`
	NonExistJobIDs []string       `xml:"NonExistJobIds"`
	NonExistJobID  []string       `xml:"NonExistJobId"`
}

// ValidJobName reports why name cannot name an inventory trigger job, or
// nil: it must be 1 to 128 characters of A-Z a-z 0-9 - _.
func ValidJobName(name string) error {
	if name == "" {
		return errors.New("empty job name")
	}
	if len(name) > MaxJobNameLen {
		return fmt.Errorf("job name %q: longer than %d characters", name, MaxJobNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("job name %q: character %q at %d is not a letter, digit, '-' or '_'", name, c, i)
		}
	}
	return nil
}

// JobRequestXML returns the XML body CreateInventoryTriggerJob sends for
// in (for a dry run to show), after checking in.
func JobRequestXML(in JobRequest) ([]byte, error) {
	if err := ValidJobName(in.Name); err != nil {
		return nil, err
	}
	if in.WorkflowID == "" {
		return nil, errors.New("empty workflow id")
	}
	var r jobRequestXML
	r.Name, r.Type = in.Name, "Workflow"
	r.Operation.WorkflowIDs = in.WorkflowID
	if in.Manifest != "" {
		if !in.Start.IsZero() || !in.End.IsZero() {
			return nil, errors.New("an upload-time window applies to a prefix input only, not to a manifest")
		}
		r.Input.Manifest = in.Manifest
	} else {
		p := in.Prefix
		r.Input.Prefix = &p
		if !in.Start.IsZero() || !in.End.IsZero() {
			r.Operation.TimeInterval = &timeIntervalXML{Start: formatJobTime(in.Start), End: formatJobTime(in.End)}
		}
	}
	return xml.Marshal(&r)
}

func formatJobTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(executionTimeLayout)
}

// CreateInventoryTriggerJob submits an inventory trigger job
// (POST /inventorytriggerjob on CI, an XML body signed with its
// Content-Type, Content-Length and Content-MD5).
func (c *Client) CreateInventoryTriggerJob(ctx context.Context, in JobRequest) (InventoryJob, error) {
	const op = "create job"
	body, err := JobRequestXML(in)
	if err != nil {
		return InventoryJob{}, &inputError{op + ": " + err.Error()}
	}
	r, err := c.sendJob(ctx, op, http.MethodPost, "/inventorytriggerjob", "", body)
	if err != nil {
		return InventoryJob{}, err
	}
	if len(r.Jobs) == 0 {
		return InventoryJob{}, &TransportError{Op: op, Sent: true, Err: errors.New("answer has no JobsDetail")}
	}
	return c.job(r.Jobs[0], r.RequestID), nil
}

// DescribeInventoryTriggerJob reads one job (GET /inventorytriggerjob/ID).
// An id CI does not know gives an error wrapping ErrNoSuchJob.
func (c *Client) DescribeInventoryTriggerJob(ctx context.Context, jobID string) (InventoryJob, error) {
	const op = "describe job"
	if err := validJobID(jobID); err != nil {
		return InventoryJob{}, &inputError{op + ": " + err.Error()}
	}
	r, err := c.sendJob(ctx, op, http.MethodGet, "/inventorytriggerjob/"+jobID, "", nil)
	if err != nil {
		return InventoryJob{}, err
	}
	for _, x := range r.Jobs {
		if x.JobID == jobID {
			return c.job(x, r.RequestID), nil
		}
	}
	return InventoryJob{}, fmt.Errorf("%s %q: %w", op, jobID, ErrNoSuchJob)
}

// ListInventoryTriggerJobs reads one page of the job list
// (GET /inventorytriggerjob), newest first.
func (c *Client) ListInventoryTriggerJobs(ctx context.Context, q JobQuery) (JobPage, error) {
	const op = "list jobs"
	var b query
	add := b.add
	b.addSet("jobId", q.JobID)
	b.addSet("name", q.Name)
	b.addSet("nextToken", q.NextToken)
	size := q.Size
	if size <= 0 || size > 100 {
		size = 100
	}
	add("size", strconv.Itoa(size))
	b.addSet("states", q.States)
	add("type", "Workflow")
	b.addSet("workflowId", q.WorkflowID)
	r, err := c.sendJob(ctx, op, http.MethodGet, "/inventorytriggerjob", string(b), nil)
	if err != nil {
		return JobPage{}, err
	}
	page := JobPage{NextToken: r.NextToken, RequestID: r.RequestID, Jobs: make([]InventoryJob, 0, len(r.Jobs))}
	for _, x := range r.Jobs {
		page.Jobs = append(page.Jobs, c.job(x, r.RequestID))
	}
	return page, nil
}

// CancelInventoryTriggerJob cancels a job (PUT /inventorytriggerjob/ID?cancel,
// the documented form; SDK v0.7.70 leaves out ?cancel).
func (c *Client) CancelInventoryTriggerJob(ctx context.Context, jobID string) error {
	const op = "cancel job"
	if err := validJobID(jobID); err != nil {
		return &inputError{op + ": " + err.Error()}
	}
	_, err := c.sendJob(ctx, op, http.MethodPut, "/inventorytriggerjob/"+jobID, "cancel", nil)
	return err
}

// validJobID refuses ids that would change the request's path.
func validJobID(id string) error {
	if id == "" {
		return errors.New("empty job id")
	}
	if strings.ContainsAny(id, "/?#%") || strings.TrimSpace(id) != id {
		return fmt.Errorf("job id %q: not a job id", id)
	}
	return nil
}

// job converts one JobsDetail.
func (c *Client) job(x jobDetailXML, requestID string) InventoryJob {
	j := InventoryJob{
		JobID: strings.TrimSpace(x.JobID), Name: x.Name, Type: x.Type, State: strings.TrimSpace(x.State),
		Code: x.Code, Message: c.creds.Redact(x.Message), Progress: strings.TrimSpace(x.Progress),
		Prefix: x.Input.Prefix, Manifest: x.Input.Manifest, WorkflowIDs: x.Operation.WorkflowIDs,
		RequestID: requestID,
	}
	j.CreationTime, _ = parseTime(x.CreationTime)
	j.StartTime, _ = parseTime(x.StartTime)
	j.EndTime, _ = parseTime(x.EndTime)
	return j
}

// sendJob sends one signed call of the job API to CI and decodes its
// answer. path is below the endpoint's base; a non-2xx answer is an
// *APIError.
func (c *Client) sendJob(ctx context.Context, op, method, path, rawQuery string, body []byte) (jobsResponseXML, error) {
	if c.ci == nil {
		return jobsResponseXML{}, &inputError{op + ": no CI endpoint configured"}
	}
	return call(ctx, c, op, func(s *signer, fresh bool) (jobsResponseXML, error) {
		return c.sendJob1(ctx, op, method, path, rawQuery, body, s, fresh)
	})
}

// sendJob1 sends one job API call signed by s.
func (c *Client) sendJob1(ctx context.Context, op, method, path, rawQuery string, body []byte, s *signer, fresh bool) (jobsResponseXML, error) {
	var r jobsResponseXML
	e := c.ci
	full := e.under(path)
	req, err := c.newRequest(ctx, method, e, full, string(appendPathEncode(nil, full)), rawQuery, s)
	if err != nil {
		return r, fmt.Errorf("%s: %w", op, err)
	}
	if method != http.MethodGet {
		// net/http sends this length (0 for an empty PUT), and it is signed.
		req.Header["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		sum := md5.Sum(body)
		req.Header["Content-Type"] = []string{"application/xml"}
		req.Header["Content-Md5"] = []string{base64.StdEncoding.EncodeToString(sum[:])}
	}
	resp, err := c.send(op, e, req, s, fresh, nil)
	if err != nil {
		return r, err
	}
	raw, err := readAll(resp)
	if err != nil {
		return r, &TransportError{Op: op, Err: err, Sent: true}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return r, nil // cancel may answer without a body
	}
	if err := xml.Unmarshal(raw, &r); err != nil {
		return r, &TransportError{Op: op, Err: fmt.Errorf("decode answer: %w", err), Sent: true}
	}
	if r.RequestID == "" {
		r.RequestID = requestID(resp.Header)
	}
	return r, nil
}
