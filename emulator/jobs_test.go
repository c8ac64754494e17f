package emulator

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

type xmlJobs struct {
	RequestId  string
	JobsDetail []struct {
		Code, Message, Type, Name, JobId, State, Progress string
		CreationTime, StartTime, EndTime                  string
	}
	NonExistJobIds []string
	NextToken      string
}

type xmlJobExecutions struct {
	WorkflowExecutionList []struct{ RunId, WorkflowId, State, CreateTime, Object string }
	NextToken             string
}

// createJob posts a job body, signed with its body headers.
func createJob(t *testing.T, s *Server, now time.Time, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://"+testHost+"/inventorytriggerjob", strings.NewReader(body))
	sum := md5.Sum([]byte(body))
	r.Header.Set("Content-Type", "application/xml")
	r.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(sum[:]))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	testSign(r, testID, testKey, now.Add(-time.Minute), now.Add(time.Hour), "Content-Type", "Content-Md5", "Content-Length")
	return serve(s, r)
}

func jobBody(name, input, interval string) string {
	return "<Request><Name>" + name + "</Name><Type>Workflow</Type><Input>" + input + "</Input><Operation><WorkflowIds>" +
		testWorkflow + "</WorkflowIds>" + interval + "</Operation></Request>"
}

func decodeJobs(t *testing.T, w *httptest.ResponseRecorder) xmlJobs {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var r xmlJobs
	if err := xml.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
	return r
}

// jobKeys lists every execution of job id, oldest first, page by page.
func jobKeys(t *testing.T, s *Server, now time.Time, id string) []string {
	t.Helper()
	var keys []string
	token := ""
	for {
		target := "/workflowexecution?workflowId=" + testWorkflow + "&jobId=" + id + "&size=3&orderByTime=Asc"
		if token != "" {
			target += "&nextToken=" + token
		}
		w := serve(s, signed(http.MethodGet, target, now))
		if w.Code != http.StatusOK {
			t.Fatalf("executions: %d %s", w.Code, w.Body)
		}
		var r xmlJobExecutions
		if err := xml.Unmarshal(w.Body.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		for _, x := range r.WorkflowExecutionList {
			keys = append(keys, x.Object)
		}
		if r.NextToken == "" {
			return keys
		}
		token = r.NextToken
	}
}

func putObjects(s *Server, at time.Time, keys ...string) {
	for i, k := range keys {
		s.PutObject(k, []byte(k), at.Add(time.Duration(i)*time.Minute))
	}
}

func TestJobPrefixRunsAtRate(t *testing.T) {
	s, clock := newTestServer(t, nil)
	t0 := clock.Now()
	putObjects(s, t0.Add(-time.Hour), "v/a.mp4", "v/b.mp4", "v/c.mp4", "v/d/", "v/e.mp4", "w/x.mp4")
	s.SetJobOptions(JobOptions{Rate: 1, StartDelay: time.Second})

	created := decodeJobs(t, createJob(t, s, t0, jobBody("n1", "<Prefix>v/</Prefix>", "")))
	if len(created.JobsDetail) != 1 || created.JobsDetail[0].State != "Submitted" {
		t.Fatalf("create = %+v", created)
	}
	id := created.JobsDetail[0].JobId

	clock.Advance(3 * time.Second) // running for 2 s: 2 objects
	got := decodeJobs(t, serve(s, signed(http.MethodGet, "/inventorytriggerjob/"+id, clock.Now())))
	if st := got.JobsDetail[0]; st.State != "Running" || st.Progress != "2/4" {
		t.Errorf("after 3 s: %+v, want Running 2/4", st)
	}
	if keys := jobKeys(t, s, clock.Now(), id); !slices.Equal(keys, []string{"v/a.mp4", "v/b.mp4"}) {
		t.Errorf("executions after 3 s = %q", keys)
	}
	clock.Advance(time.Minute)
	got = decodeJobs(t, serve(s, signed(http.MethodGet, "/inventorytriggerjob/"+id, clock.Now())))
	if st := got.JobsDetail[0]; st.State != "Success" || st.EndTime == "-" {
		t.Errorf("after a minute: %+v, want Success", st)
	}
	if keys := jobKeys(t, s, clock.Now(), id); !slices.Equal(keys, []string{"v/a.mp4", "v/b.mp4", "v/c.mp4", "v/e.mp4"}) {
		t.Errorf("executions = %q", keys)
	}
	st := s.Stats()
	if st.Accepted != 0 {
		t.Errorf("Accepted = %d, want 0 (a job is no TriggerWorkflow call)", st.Accepted)
	}
	jobs := s.Jobs()
	if len(jobs) != 1 || jobs[0].Executions != 4 || jobs[0].Name != "n1" || jobs[0].Prefix != "v/" {
		t.Errorf("Jobs() = %+v", jobs)
	}
	var fromJob int
	for _, tr := range s.Triggers() {
		if tr.JobID == id {
			fromJob++
		}
	}
	if fromJob != 4 {
		t.Errorf("Triggers() with JobID = %d, want 4", fromJob)
	}
	// The executions are found by object name too, as a client-side rerun
	// looks them up.
	w := serve(s, signed(http.MethodGet, "/workflowexecution?workflowId="+testWorkflow+"&name=v%2Fc.mp4", clock.Now()))
	if !strings.Contains(w.Body.String(), "<Object>v/c.mp4</Object>") {
		t.Errorf("name look-up: %s", w.Body)
	}
}

func TestJobTimeIntervalSkipAndFail(t *testing.T) {
	s, clock := newTestServer(t, nil)
	t0 := clock.Now()
	putObjects(s, t0.Add(-time.Hour), "a", "b", "c", "d", "e", "f") // a at -60 min, b -59, …
	start := t0.Add(-59 * time.Minute).In(time.FixedZone("CST", 8*3600)).Format(executionTimeLayout)
	end := t0.Add(-56 * time.Minute).UTC().Format(executionTimeLayout)
	interval := "<TimeInterval><Start>" + start + "</Start><End>" + end + "</End></TimeInterval>"

	id := decodeJobs(t, createJob(t, s, t0, jobBody("win", "<Prefix></Prefix>", interval))).JobsDetail[0].JobId
	if keys := jobKeys(t, s, t0, id); !slices.Equal(keys, []string{"b", "c", "d", "e"}) {
		t.Errorf("window [%s, %s]: executions = %q, want b..e (bounds inclusive)", start, end, keys)
	}

	s.SetJobOptions(JobOptions{SkipEvery: 2, SkipPrefixes: []string{"e"}})
	id = decodeJobs(t, createJob(t, s, t0, jobBody("skip", "<Prefix></Prefix>", ""))).JobsDetail[0].JobId
	if keys := jobKeys(t, s, t0, id); !slices.Equal(keys, []string{"a", "c"}) {
		t.Errorf("skipping: executions = %q, want a c", keys)
	}

	s.SetJobOptions(JobOptions{FailAfter: 3})
	id = decodeJobs(t, createJob(t, s, t0, jobBody("fail", "<Prefix></Prefix>", ""))).JobsDetail[0].JobId
	got := decodeJobs(t, serve(s, signed(http.MethodGet, "/inventorytriggerjob/"+id, t0)))
	if st := got.JobsDetail[0]; st.State != "Failed" || st.Code == "Success" {
		t.Errorf("failing job: %+v", st)
	}
	if keys := jobKeys(t, s, t0, id); len(keys) != 3 {
		t.Errorf("failing job: executions = %q, want 3", keys)
	}
}

func TestJobManifestInput(t *testing.T) {
	s, clock := newTestServer(t, nil)
	keys := []string{"media/my video+final 100%/视频 1.mp4", "a&b.mp4", "plain.mp4"}
	mkey := s.PutInventory("inv/1250000000/examplebucket/d/20261127/", keys, clock.Now())
	body := jobBody("m", "<Manifest>https://inv-1250000000.cos.ap-guangzhou.myqcloud.com/"+mkey+"</Manifest>", "")
	id := decodeJobs(t, createJob(t, s, clock.Now(), body)).JobsDetail[0].JobId
	if got := jobKeys(t, s, clock.Now(), id); !slices.Equal(got, keys) {
		t.Errorf("manifest job executions = %q, want %q", got, keys)
	}
	w := createJob(t, s, clock.Now(), jobBody("m", "<Manifest>https://x/missing/manifest.json</Manifest>", ""))
	if e := decodeError(t, w.Body.Bytes()); w.Code != http.StatusBadRequest || e.Code != "InvalidArgument" {
		t.Errorf("missing manifest: %d %+v", w.Code, e)
	}
}

func TestJobCancelListAndErrors(t *testing.T) {
	s, clock := newTestServer(t, nil)
	putObjects(s, clock.Now(), "a", "b", "c")
	s.SetJobOptions(JobOptions{Rate: 1})
	now := clock.Now()
	id1 := decodeJobs(t, createJob(t, s, now, jobBody("one", "<Prefix></Prefix>", ""))).JobsDetail[0].JobId
	id2 := decodeJobs(t, createJob(t, s, now, jobBody("two", "<Prefix></Prefix>", ""))).JobsDetail[0].JobId
	clock.Advance(1500 * time.Millisecond)

	if w := serve(s, signed(http.MethodPut, "/inventorytriggerjob/"+id1, clock.Now())); w.Code != http.StatusBadRequest {
		t.Errorf("PUT without ?cancel: %d", w.Code)
	}
	if w := serve(s, signed(http.MethodPut, "/inventorytriggerjob/"+id1+"?cancel", clock.Now())); w.Code != http.StatusOK {
		t.Fatalf("cancel: %d %s", w.Code, w.Body)
	}
	clock.Advance(time.Minute)
	got := decodeJobs(t, serve(s, signed(http.MethodGet, "/inventorytriggerjob/"+id1, clock.Now())))
	if st := got.JobsDetail[0]; st.State != "Cancel" || st.Progress != "1/3" {
		t.Errorf("cancelled job: %+v, want Cancel 1/3", st)
	}

	list := decodeJobs(t, serve(s, signed(http.MethodGet, "/inventorytriggerjob?name=two&size=100", clock.Now())))
	if len(list.JobsDetail) != 1 || list.JobsDetail[0].JobId != id2 || list.JobsDetail[0].State != "Success" {
		t.Errorf("list name=two: %+v", list)
	}
	list = decodeJobs(t, serve(s, signed(http.MethodGet, "/inventorytriggerjob?size=1", clock.Now())))
	if len(list.JobsDetail) != 1 || list.JobsDetail[0].JobId != id2 || list.NextToken == "" {
		t.Errorf("list size=1 (newest first): %+v", list)
	}
	list = decodeJobs(t, serve(s, signed(http.MethodGet, "/inventorytriggerjob?size=1&nextToken="+list.NextToken, clock.Now())))
	if len(list.JobsDetail) != 1 || list.JobsDetail[0].JobId != id1 || list.NextToken != "" {
		t.Errorf("list page 2: %+v", list)
	}
	missing := decodeJobs(t, serve(s, signed(http.MethodGet, "/inventorytriggerjob/bnope", clock.Now())))
	if len(missing.JobsDetail) != 0 || !slices.Equal(missing.NonExistJobIds, []string{"bnope"}) {
		t.Errorf("unknown job: %+v", missing)
	}

	for _, tc := range []struct{ name, body, code string }{
		{"two inputs", jobBody("x", "<Prefix>a</Prefix><Manifest>m</Manifest>", ""), "InvalidArgument"},
		{"no input", jobBody("x", "", ""), "InvalidArgument"},
		{"bad name", jobBody("a b", "<Prefix/>", ""), "InvalidArgument"},
		{"window on manifest", jobBody("x", "<Manifest>m</Manifest>", "<TimeInterval><Start>2026-01-01T00:00:00+0800</Start></TimeInterval>"), "InvalidArgument"},
		{"not XML", "<Request>", "MalformedXML"},
	} {
		w := createJob(t, s, clock.Now(), tc.body)
		if e := decodeError(t, w.Body.Bytes()); w.Code != http.StatusBadRequest || e.Code != tc.code {
			t.Errorf("%s: %d %+v, want 400 %s", tc.name, w.Code, e, tc.code)
		}
	}
	// Unsigned, and a body that is not the one signed.
	r := httptest.NewRequest(http.MethodPost, "http://"+testHost+"/inventorytriggerjob", strings.NewReader(jobBody("x", "<Prefix/>", "")))
	if w := serve(s, r); w.Code != http.StatusForbidden {
		t.Errorf("unsigned create: %d", w.Code)
	}
	body := jobBody("x", "<Prefix/>", "")
	r = httptest.NewRequest(http.MethodPost, "http://"+testHost+"/inventorytriggerjob", bytes.NewReader([]byte(body)))
	r.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(make([]byte, 16)))
	testSign(r, testID, testKey, clock.Now().Add(-time.Minute), clock.Now().Add(time.Hour), "Content-Md5")
	if w := serve(s, r); w.Code != http.StatusBadRequest || decodeError(t, w.Body.Bytes()).Code != "BadDigest" {
		t.Errorf("wrong Content-MD5: %d %s", w.Code, w.Body)
	}
	if n := len(s.Jobs()); n != 2 {
		t.Errorf("%d jobs, want 2", n)
	}
}
