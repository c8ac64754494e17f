package emulator

import (
	"encoding/xml"
	"net/http"
	"testing"
	"time"
)

// TestFailPrefixes: the first instance of a key under a fail prefix ends
// Failed, a second trigger of it ends Success, other keys end Success; the
// list filters by the Failed state.
func TestFailPrefixes(t *testing.T) {
	s, clock := newTestServer(t, func(c *Config) {
		c.ExecutionDelay = time.Minute
		c.FailPrefixes = []string{"bad/"}
	})
	trigger := func(key string) string {
		t.Helper()
		w := serve(s, signed("POST", triggerTarget(testWorkflow, key), clock.Now()))
		var resp xmlTriggerResponse
		if err := xml.Unmarshal(w.Body.Bytes(), &resp); err != nil || w.Code != 200 {
			t.Fatalf("trigger %s = %d %s", key, w.Code, w.Body)
		}
		return resp.InstanceId
	}
	state := func(id string) string {
		t.Helper()
		w := serve(s, signed("GET", "/workflowexecution/"+id, clock.Now()))
		var x struct {
			WorkflowExecution struct {
				State string
				Tasks []struct{ State, Code, Message string }
			}
		}
		if err := xml.Unmarshal(w.Body.Bytes(), &x); err != nil || w.Code != 200 {
			t.Fatalf("describe %s = %d %s", id, w.Code, w.Body)
		}
		if st := x.WorkflowExecution.State; st == "Failed" && (len(x.WorkflowExecution.Tasks) != 1 || x.WorkflowExecution.Tasks[0].Code == "") {
			t.Errorf("describe %s: a Failed execution without a failed task's code: %s", id, w.Body)
		}
		return x.WorkflowExecution.State
	}
	bad1, good := trigger("bad/1.mp4"), trigger("good/1.mp4")
	if st := state(bad1); st != "Running" {
		t.Errorf("bad/1.mp4 before the delay: %s, want Running", st)
	}
	clock.Advance(2 * time.Minute)
	bad2 := trigger("bad/1.mp4")
	clock.Advance(2 * time.Minute)
	for _, c := range []struct{ name, id, want string }{
		{"first instance under the fail prefix", bad1, "Failed"},
		{"second instance of the same key", bad2, "Success"},
		{"another key", good, "Success"},
	} {
		if got := state(c.id); got != c.want {
			t.Errorf("%s: state %s, want %s", c.name, got, c.want)
		}
	}
	w := serve(s, signed("GET", "/workflowexecution?workflowId="+testWorkflow+"&states=Failed&size=100", clock.Now()))
	var x xmlExecutions
	if err := xml.Unmarshal(w.Body.Bytes(), &x); err != nil || w.Code != 200 {
		t.Fatalf("list Failed = %d %s", w.Code, w.Body)
	}
	if len(x.WorkflowExecutionList) != 1 || x.WorkflowExecutionList[0].RunId != bad1 {
		t.Errorf("list Failed = %+v, want only %s", x.WorkflowExecutionList, bad1)
	}
}

// TestDescribeFaults: look-ups can be made to fail (500, 403 by prefix)
// without touching triggers.
func TestDescribeFaults(t *testing.T) {
	s, clock := newTestServer(t, func(c *Config) { c.DescribeDenyPrefixes = []string{"secret/"} })
	ids := map[string]string{}
	for _, key := range []string{"secret/1.mp4", "open/1.mp4"} {
		w := serve(s, signed("POST", triggerTarget(testWorkflow, key), clock.Now()))
		var resp xmlTriggerResponse
		if err := xml.Unmarshal(w.Body.Bytes(), &resp); err != nil || w.Code != 200 {
			t.Fatalf("trigger %s = %d %s", key, w.Code, w.Body)
		}
		ids[key] = resp.InstanceId
	}
	describe := func(key string) (int, string) {
		w := serve(s, signed("GET", "/workflowexecution/"+ids[key], clock.Now()))
		if w.Code == 200 {
			return w.Code, ""
		}
		return w.Code, decodeError(t, w.Body.Bytes()).Code
	}
	if code, ec := describe("secret/1.mp4"); code != http.StatusForbidden || ec != "AccessDenied" {
		t.Errorf("describe under a deny prefix = %d %s, want 403 AccessDenied", code, ec)
	}
	if code, _ := describe("open/1.mp4"); code != 200 {
		t.Errorf("describe = %d, want 200", code)
	}
	s.SetDescribeFaults(Faults{ErrorRate: 1})
	if code, ec := describe("open/1.mp4"); code != http.StatusInternalServerError || ec != "InternalError" {
		t.Errorf("describe with ErrorRate 1 = %d %s, want 500 InternalError", code, ec)
	}
	w := serve(s, signed("POST", triggerTarget(testWorkflow, "open/2.mp4"), clock.Now()))
	if w.Code != 200 {
		t.Errorf("trigger with describe faults = %d, want 200: the faults are the look-ups' only", w.Code)
	}
}
