package tencent

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// executionTimeLayout is the time format of startCreationTime and
// endCreationTime.
const executionTimeLayout = "2006-01-02T15:04:05-0700"

// executionsResponse is the XML answer of DescribeWorkflowExecutions. Items
// carry CreateTime (cos-go-sdk-v5 v0.7.70 wrongly maps CreationTime, kept
// here as a fallback).
type executionsResponse struct {
	XMLName    xml.Name `xml:"Response"`
	RequestID  string   `xml:"RequestId"`
	NextToken  string   `xml:"NextToken"`
	Executions []struct {
		RunID        string `xml:"RunId"`
		WorkflowID   string `xml:"WorkflowId"`
		State        string `xml:"State"`
		CreateTime   string `xml:"CreateTime"`
		CreationTime string `xml:"CreationTime"`
		Object       string `xml:"Object"`
	} `xml:"WorkflowExecutionList"`
}

// executionResponse is the XML answer of DescribeWorkflowExecution, with
// the Tasks the SDK lacks; the workflow's name comes as WorkflowName or Name.
type executionResponse struct {
	XMLName    xml.Name `xml:"Response"`
	RequestID  string   `xml:"RequestId"`
	Executions []struct {
		RunID        string `xml:"RunId"`
		WorkflowID   string `xml:"WorkflowId"`
		WorkflowName string `xml:"WorkflowName"`
		Name         string `xml:"Name"`
		State        string `xml:"State"`
		CreateTime   string `xml:"CreateTime"`
		Object       string `xml:"Object"`
		Tasks        []struct {
			Type       string `xml:"Type"`
			State      string `xml:"State"`
			JobID      string `xml:"JobId"`
			Code       string `xml:"Code"`
			Message    string `xml:"Message"`
			Name       string `xml:"Name"`
			CreateTime string `xml:"CreateTime"`
			StartTime  string `xml:"StartTime"`
			EndTime    string `xml:"EndTime"`
		} `xml:"Tasks"`
	} `xml:"WorkflowExecution"`
}

// ListExecutions reads one page of DescribeWorkflowExecutions
// (GET /workflowexecution on CI). Creation times are sent as
// 2006-01-02T15:04:05-0700; a CreateTime that cannot be parsed is left zero.
func (c *Client) ListExecutions(ctx context.Context, q ExecutionQuery) (ExecutionPage, error) {
	const op = "executions"
	var b query
	add := b.add
	b.addSet("workflowId", q.WorkflowID)
	b.addSet("jobId", q.JobID)
	b.addSet("name", q.Name)
	if q.Ascending {
		add("orderByTime", "Asc")
	}
	if !q.Start.IsZero() {
		add("startCreationTime", q.Start.Format(executionTimeLayout))
	}
	if !q.End.IsZero() {
		add("endCreationTime", q.End.Format(executionTimeLayout))
	}
	b.addSet("states", q.States)
	b.addSet("nextToken", q.NextToken)
	size := q.Size
	if size <= 0 {
		size = 100
	}
	add("size", strconv.Itoa(size))

	var r executionsResponse
	h, err := c.getXML(ctx, op, c.ci, c.ci.under("/workflowexecution"), "", string(b), &r)
	if err != nil {
		return ExecutionPage{}, err
	}
	page := ExecutionPage{NextToken: r.NextToken, RequestID: r.RequestID}
	if page.RequestID == "" {
		page.RequestID = requestID(h)
	}
	page.Executions = make([]ExecutionSummary, 0, len(r.Executions))
	for _, x := range r.Executions {
		ct := x.CreateTime
		if ct == "" {
			ct = x.CreationTime
		}
		t, _ := parseTime(ct)
		page.Executions = append(page.Executions, ExecutionSummary{
			RunID:      x.RunID,
			WorkflowID: x.WorkflowID,
			State:      x.State,
			Object:     x.Object,
			CreateTime: t,
		})
	}
	return page, nil
}

// DescribeExecution reads one workflow run with its tasks
// (GET /workflowexecution/RUNID on CI).
func (c *Client) DescribeExecution(ctx context.Context, runID string) (Execution, error) {
	const op = "execution"
	if runID == "" {
		return Execution{}, &inputError{op + ": empty run id"}
	}
	path := c.ci.under("/workflowexecution/" + runID)
	var r executionResponse
	h, err := c.getXML(ctx, op, c.ci, path, string(appendPathEncode(nil, path)), "", &r)
	if err != nil {
		return Execution{}, err
	}
	if len(r.Executions) == 0 {
		return Execution{}, fmt.Errorf("%s %q: answer has no WorkflowExecution", op, runID)
	}
	x := r.Executions[0]
	ex := Execution{
		RunID:        x.RunID,
		WorkflowID:   x.WorkflowID,
		WorkflowName: x.WorkflowName,
		State:        x.State,
		Object:       x.Object,
		RequestID:    r.RequestID,
	}
	if ex.WorkflowName == "" {
		ex.WorkflowName = x.Name
	}
	if ex.RequestID == "" {
		ex.RequestID = requestID(h)
	}
	ex.CreateTime, _ = parseTime(x.CreateTime)
	for _, t := range x.Tasks {
		ex.Tasks = append(ex.Tasks, Task{
			Type: t.Type, State: t.State, JobID: t.JobID, Code: t.Code,
			Message: c.creds.Redact(t.Message), Name: t.Name,
			CreateTime: t.CreateTime, StartTime: t.StartTime, EndTime: t.EndTime,
		})
	}
	return ex, nil
}

// maxFindPages bounds the pages FindExecution reads.
const maxFindPages = 1000

// errTooManyPages is returned when FindExecution gives up.
var errTooManyPages = errors.New("too many pages")

// FindExecution looks for a run of workflowID on the object key created at
// or after since: it pages DescribeWorkflowExecutions filtered by name=key
// and returns the first item whose Object is exactly key (the service's name
// filter may match more than the key). found is false when no page has one.
func (c *Client) FindExecution(ctx context.Context, workflowID, key string, since time.Time) (ExecutionSummary, bool, error) {
	q := ExecutionQuery{WorkflowID: workflowID, Name: key, Start: since, Size: 100}
	for range maxFindPages {
		page, err := c.ListExecutions(ctx, q)
		if err != nil {
			return ExecutionSummary{}, false, err
		}
		for _, x := range page.Executions {
			if x.Object == key {
				return x, true, nil
			}
		}
		if page.NextToken == "" || page.NextToken == q.NextToken {
			return ExecutionSummary{}, false, nil
		}
		q.NextToken = page.NextToken
	}
	return ExecutionSummary{}, false, fmt.Errorf("find execution of %q: %w (gave up after %d)", key, errTooManyPages, maxFindPages)
}
