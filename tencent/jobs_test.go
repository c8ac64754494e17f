package tencent

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const jobAnswer = `<?xml version="1.0" encoding="UTF-8"?>
<Response><RequestId>NjJmMWQx</RequestId><JobsDetail><Code>Success</Code><Message/><Type>Workflow</Type>
<Name>wftrigger-abc</Name><JobId>b8f4e0d2a</JobId><State>Running</State><Progress>10/20</Progress>
<CreationTime>2022-06-27T15:23:10+0800</CreationTime><StartTime>-</StartTime><EndTime>-</EndTime>
<Input><Prefix>videos/</Prefix></Input><Operation><WorkflowIds>w1</WorkflowIds></Operation></JobsDetail></Response>`

func TestCreateInventoryTriggerJobWire(t *testing.T) {
	var body []byte
	f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		io.WriteString(w, jobAnswer)
	})
	c := newTestClient(t, f.URL, testCreds)
	start := time.Date(2022, 2, 1, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))
	j, err := c.CreateInventoryTriggerJob(context.Background(), JobRequest{Name: "wftrigger-abc", WorkflowID: "w1", Prefix: "videos/", Start: start})
	if err != nil {
		t.Fatalf("CreateInventoryTriggerJob: %v", err)
	}
	req := f.last(t)
	if req.method != http.MethodPost || req.path != "/inventorytriggerjob" || req.rawQuery != "" {
		t.Errorf("request = %s %s?%s, want POST /inventorytriggerjob", req.method, req.path, req.rawQuery)
	}
	want := `<Request><Name>wftrigger-abc</Name><Type>Workflow</Type><Input><Prefix>videos/</Prefix></Input>` +
		`<Operation><WorkflowIds>w1</WorkflowIds><TimeInterval><Start>2022-02-01T12:00:00+0800</Start></TimeInterval></Operation></Request>`
	if string(body) != want {
		t.Errorf("body =\n%s\nwant\n%s", body, want)
	}
	sum := md5.Sum(body)
	if got := req.header.Get("Content-Md5"); got != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("Content-MD5 = %q", got)
	}
	if got := req.header.Get("Content-Type"); got != "application/xml" {
		t.Errorf("Content-Type = %q", got)
	}
	auth := req.header.Get("Authorization")
	if !strings.Contains(auth, "q-header-list=content-length;content-md5;content-type;host") {
		t.Errorf("Authorization %q does not sign the body headers", auth)
	}
	if j.JobID != "b8f4e0d2a" || j.Name != "wftrigger-abc" || j.State != JobRunning || j.Progress != "10/20" ||
		j.Prefix != "videos/" || j.WorkflowIDs != "w1" || j.RequestID != "NjJmMWQx" || !j.StartTime.IsZero() ||
		!j.CreationTime.Equal(time.Date(2022, 6, 27, 7, 23, 10, 0, time.UTC)) {
		t.Errorf("job = %+v", j)
	}
}

func TestJobRequestXML(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   JobRequest
		want string // substring, or the error's
		err  bool
	}{
		{"manifest", JobRequest{Name: "n", WorkflowID: "w", Manifest: "https://b-1.cos.r.myqcloud.com/inv/manifest.json"},
			"<Input><Manifest>https://b-1.cos.r.myqcloud.com/inv/manifest.json</Manifest></Input><Operation><WorkflowIds>w</WorkflowIds></Operation>", false},
		{"whole bucket", JobRequest{Name: "n", WorkflowID: "w"}, "<Input><Prefix></Prefix></Input>", false},
		{"escaped prefix", JobRequest{Name: "n", WorkflowID: "w", Prefix: "a&b<c"}, "<Prefix>a&amp;b&lt;c</Prefix>", false},
		{"empty name", JobRequest{WorkflowID: "w"}, "empty job name", true},
		{"bad name", JobRequest{Name: "a b", WorkflowID: "w"}, "not a letter", true},
		{"long name", JobRequest{Name: strings.Repeat("a", 129), WorkflowID: "w"}, "longer than 128", true},
		{"no workflow", JobRequest{Name: "n"}, "empty workflow id", true},
		{"window on manifest", JobRequest{Name: "n", WorkflowID: "w", Manifest: "u", Start: time.Unix(1, 0)}, "prefix input only", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := JobRequestXML(tc.in)
			switch {
			case tc.err && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("JobRequestXML(%+v) error = %v, want %q", tc.in, err, tc.want)
			case !tc.err && (err != nil || !strings.Contains(string(b), tc.want)):
				t.Errorf("JobRequestXML(%+v) = %s, %v, want it to hold %s", tc.in, b, err, tc.want)
			}
		})
	}
	if err := ValidJobName(strings.Repeat("a_-9Z", 25) + "abc"); err != nil {
		t.Errorf("ValidJobName(128 characters) = %v", err)
	}
}

func TestDescribeListCancelJobWire(t *testing.T) {
	answer := jobAnswer
	f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, answer)
	})
	c := newTestClient(t, f.URL, testCreds)
	ctx := context.Background()

	j, err := c.DescribeInventoryTriggerJob(ctx, "b8f4e0d2a")
	if err != nil || j.JobID != "b8f4e0d2a" {
		t.Fatalf("DescribeInventoryTriggerJob = %+v, %v", j, err)
	}
	if req := f.last(t); req.method != http.MethodGet || req.path != "/inventorytriggerjob/b8f4e0d2a" || req.header.Get("Content-Length") != "" {
		t.Errorf("describe sent %s %s (Content-Length %q)", req.method, req.path, req.header.Get("Content-Length"))
	}

	answer = jobAnswer[:strings.Index(jobAnswer, "</Response>")] + "<NextToken>42</NextToken></Response>"
	page, err := c.ListInventoryTriggerJobs(ctx, JobQuery{Name: "wftrigger-abc", WorkflowID: "w1", NextToken: "7", States: "Running,Success"})
	if err != nil || len(page.Jobs) != 1 || page.NextToken != "42" {
		t.Fatalf("ListInventoryTriggerJobs = %+v, %v", page, err)
	}
	req := f.last(t)
	if want := "name=wftrigger-abc&nextToken=7&size=100&states=Running%2CSuccess&type=Workflow&workflowId=w1"; req.rawQuery != want {
		t.Errorf("list query = %s, want %s", req.rawQuery, want)
	}

	answer = `<Response><RequestId>r</RequestId></Response>`
	if err := c.CancelInventoryTriggerJob(ctx, "b8f4e0d2a"); err != nil {
		t.Fatalf("CancelInventoryTriggerJob: %v", err)
	}
	req = f.last(t)
	if req.method != http.MethodPut || req.path != "/inventorytriggerjob/b8f4e0d2a" || req.rawQuery != "cancel" || req.header.Get("Content-Length") != "0" {
		t.Errorf("cancel sent %s %s?%s (Content-Length %q), want PUT …?cancel", req.method, req.path, req.rawQuery, req.header.Get("Content-Length"))
	}
	if !strings.Contains(req.header.Get("Authorization"), "q-url-param-list=cancel&") {
		t.Errorf("cancel is not signed: %s", req.header.Get("Authorization"))
	}

	for _, missing := range []string{"NonExistJobIds", "NonExistJobId"} {
		answer = `<Response><RequestId>r</RequestId><` + missing + `>bX</` + missing + `></Response>`
		if _, err := c.DescribeInventoryTriggerJob(ctx, "bX"); !errors.Is(err, ErrNoSuchJob) {
			t.Errorf("describe with %s: error = %v, want ErrNoSuchJob", missing, err)
		}
	}
	if _, err := c.DescribeInventoryTriggerJob(ctx, "../x"); err == nil || ClassOf(err) != Permanent {
		t.Errorf("describe ../x: error = %v, want a permanent input error", err)
	}
}

func TestJobAPIError(t *testing.T) {
	f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Ci-Request-Id", "rid")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `<Error><Code>InvalidArgument</Code><Message>Input is invalid</Message><RequestId>rid</RequestId></Error>`)
	})
	c := newTestClient(t, f.URL, testCreds)
	_, err := c.CreateInventoryTriggerJob(context.Background(), JobRequest{Name: "n", WorkflowID: "w"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Op != "create job" || ae.HTTPStatus != 400 || ae.Code != "InvalidArgument" || ae.RequestID != "rid" {
		t.Fatalf("error = %#v, want an *APIError 400 InvalidArgument", err)
	}
}

func TestListExecutionsOfJob(t *testing.T) {
	f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<Response><RequestId>r</RequestId><WorkflowExecutionList><RunId>i1</RunId><WorkflowId>w</WorkflowId>`+
			`<State>Success</State><CreateTime>2022-08-09T14:54:17+08:00</CreateTime><Object>a.mp4</Object></WorkflowExecutionList></Response>`)
	})
	c := newTestClient(t, f.URL, testCreds)
	page, err := c.ListExecutions(context.Background(), ExecutionQuery{WorkflowID: "w", JobID: "bJ", Ascending: true, NextToken: "5"})
	if err != nil || len(page.Executions) != 1 || page.Executions[0].Object != "a.mp4" {
		t.Fatalf("ListExecutions = %+v, %v", page, err)
	}
	if got, want := f.last(t).rawQuery, "workflowId=w&jobId=bJ&orderByTime=Asc&nextToken=5&size=100"; got != want {
		t.Errorf("query = %s, want %s", got, want)
	}
}
