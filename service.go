package main

import (
	"context"
	"errors"
	"time"

	"github.com/wftrigger/wftrigger/runner"
	"github.com/wftrigger/wftrigger/tencent"
)

// service adapts a *tencent.Client to what the runner needs of it: the
// runner's own input and result types, and every error turned into a
// *runner.Failure that says what the answer means.
type service struct{ c *tencent.Client }

var (
	_ runner.Service   = service{}
	_ runner.Describer = service{}
)

// Trigger calls TriggerWorkflow.
func (s service) Trigger(ctx context.Context, in runner.TriggerInput) (runner.TriggerResult, error) {
	res, err := s.c.Trigger(ctx, tencent.TriggerInput{WorkflowID: in.WorkflowID, Key: in.Key, Name: in.Name})
	if err != nil {
		return runner.TriggerResult{}, failure(err)
	}
	return runner.TriggerResult{InstanceID: res.InstanceID, RequestID: res.RequestID}, nil
}

// FindExecution looks the object up in the workflow's execution list.
func (s service) FindExecution(ctx context.Context, workflowID, key string, since time.Time) (runner.Execution, bool, error) {
	x, found, err := s.c.FindExecution(ctx, workflowID, key, since)
	if err != nil {
		return runner.Execution{}, false, failure(err)
	}
	return summary(x), found, nil
}

// ListExecutions reads one page of the workflow's executions in a
// creation-time window.
func (s service) ListExecutions(ctx context.Context, workflowID string, start, end time.Time, token string) ([]runner.Execution, string, error) {
	page, err := s.c.ListExecutions(ctx, tencent.ExecutionQuery{WorkflowID: workflowID, Start: start, End: end, NextToken: token, Size: 100})
	if err != nil {
		return nil, "", failure(err)
	}
	out := make([]runner.Execution, len(page.Executions))
	for i, x := range page.Executions {
		out[i] = summary(x)
	}
	return out, page.NextToken, nil
}

// summary is an item of the execution list in the runner's terms.
func summary(x tencent.ExecutionSummary) runner.Execution {
	return runner.Execution{RunID: x.RunID, WorkflowID: x.WorkflowID, State: x.State, Object: x.Object, CreateTime: x.CreateTime}
}

// DescribeExecution looks up one instance's execution.
func (s service) DescribeExecution(ctx context.Context, runID string) (runner.Execution, error) {
	x, err := s.c.DescribeExecution(ctx, runID)
	if err != nil {
		return runner.Execution{}, failure(err)
	}
	out := runner.Execution{RunID: x.RunID, WorkflowID: x.WorkflowID, State: x.State, Object: x.Object, CreateTime: x.CreateTime}
	for _, t := range x.Tasks {
		out.Tasks = append(out.Tasks, runner.Task{Type: t.Type, State: t.State, JobID: t.JobID, Code: t.Code, Message: t.Message})
	}
	return out, nil
}

// failure turns an error of the client into a *runner.Failure: the outcome
// of the answer and the fields the report records of it.
func failure(err error) error {
	if err == nil {
		return nil
	}
	f := &runner.Failure{Err: err, Outcome: outcome(err), Message: err.Error(), Code: "NetworkError"}
	var ae *tencent.APIError
	switch {
	case errors.As(err, &ae):
		f.HTTPStatus, f.Code, f.Message, f.RequestID, f.RetryAfter = ae.HTTPStatus, ae.Code, ae.Message, ae.RequestID, ae.RetryAfter
	case errors.Is(err, context.DeadlineExceeded):
		f.Code = "Timeout"
	case errors.Is(err, context.Canceled):
		f.Code = "Interrupted"
	}
	return f
}

// outcome is the runner's name for what tencent says an error means.
func outcome(err error) runner.Outcome {
	if tencent.Uncertain(err) {
		return runner.Uncertain
	}
	switch tencent.ClassOf(err) {
	case tencent.Fatal:
		return runner.Fatal
	case tencent.Permanent:
		return runner.Permanent
	}
	if tencent.Throttled(err) {
		return runner.Throttled
	}
	return runner.Retryable
}

// retryFailures runs call under the policy, its errors classified as the
// runner's: for the listing, whose client speaks tencent's types.
func retryFailures(p runner.Policy) func(ctx context.Context, op string, call func(ctx context.Context) error) error {
	return func(ctx context.Context, op string, call func(ctx context.Context) error) error {
		return p.Do(ctx, op, func(ctx context.Context) error { return failure(call(ctx)) })
	}
}
