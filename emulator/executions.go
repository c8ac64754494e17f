package emulator

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// instance is one accepted trigger. It never changes once recorded.
type instance struct {
	seq        uint64 // 1-based acceptance number
	workflowID string
	key        string
	name       string
	jobID      string // the inventory trigger job that created it, "" for a trigger
	at         time.Time
	nth        int // earlier instances of the same (workflow, key)
}

// execStore records instances, indexed for the execution queries. Its
// slices only grow, and their elements never change, so a reader may keep
// a slice taken under the lock and scan it after releasing the lock.
type execStore struct {
	mu         sync.Mutex
	all        []*instance
	byWorkflow map[string][]*instance
	byKey      map[TriggerKey][]*instance
}

func (e *execStore) init() {
	e.byWorkflow = make(map[string][]*instance)
	e.byKey = make(map[TriggerKey][]*instance)
}

// record stores a new instance created now.
func (e *execStore) record(workflowID, key, name string, now func() time.Time) *instance {
	return e.add(&instance{workflowID: workflowID, key: key, name: name}, now)
}

// add numbers in, stores it and indexes it. Its time is read from at under
// the lock, so that the times of triggers follow their numbers.
func (e *execStore) add(in *instance, at func() time.Time) *instance {
	e.mu.Lock()
	defer e.mu.Unlock()
	tk := TriggerKey{in.workflowID, in.key}
	in.seq, in.at, in.nth = uint64(len(e.all))+1, at(), len(e.byKey[tk])
	e.all = append(e.all, in)
	e.byWorkflow[in.workflowID] = append(e.byWorkflow[in.workflowID], in)
	e.byKey[tk] = append(e.byKey[tk], in)
	return in
}

// runID returns the instance id (RunId) of in.
func (s *Server) runID(in *instance) string { return s.serialID('i', in.seq) }

// serialID is the 33-character id of the seq-th thing of a kind (i for
// instances, b for jobs): the kind, the Server's tag and seq in hex.
func (s *Server) serialID(kind byte, seq uint64) string {
	var b [33]byte
	buf := append(b[:0], kind)
	buf = append(buf, s.tag[:]...)
	buf = appendHex64(buf, seq)
	return string(buf)
}

// lookupRun returns the instance of a run id, or nil.
func (s *Server) lookupRun(id string) *instance {
	if len(id) != 33 || id[0] != 'i' || id[1:17] != string(s.tag[:]) {
		return nil
	}
	seq, err := strconv.ParseUint(id[17:], 16, 64)
	if err != nil || seq == 0 {
		return nil
	}
	s.exec.mu.Lock()
	defer s.exec.mu.Unlock()
	if seq > uint64(len(s.exec.all)) {
		return nil
	}
	return s.exec.all[seq-1]
}

// Triggers returns every accepted trigger, in acceptance order.
func (s *Server) Triggers() []Trigger {
	s.exec.mu.Lock()
	all := s.exec.all
	s.exec.mu.Unlock()
	out := make([]Trigger, len(all))
	for i, in := range all {
		out[i] = Trigger{WorkflowID: in.workflowID, Key: in.key, Name: in.name, InstanceID: s.runID(in), JobID: in.jobID, At: in.at}
	}
	return out
}

// TriggerCounts returns the number of accepted triggers per (workflow, key).
func (s *Server) TriggerCounts() map[TriggerKey]int {
	s.exec.mu.Lock()
	defer s.exec.mu.Unlock()
	out := make(map[TriggerKey]int, len(s.exec.byKey))
	for k, v := range s.exec.byKey {
		out[k] = len(v)
	}
	return out
}

// knownWorkflow reports whether triggers for wf are accepted.
func (s *Server) knownWorkflow(wf string) bool {
	if len(s.workflows) == 0 {
		return true
	}
	_, ok := s.workflows[wf]
	return ok
}

// state is the execution state of in at now: Running for ExecutionDelay,
// then Failed for the first instance of a key under a FailPrefixes prefix,
// Success for any other.
func (s *Server) state(in *instance, now time.Time) string {
	if now.Before(in.at.Add(s.executionDelay())) {
		return "Running"
	}
	if in.nth == 0 && hasAnyPrefix(in.key, s.cfg.FailPrefixes) {
		return "Failed"
	}
	return "Success"
}

// executionDelay is how long instances stay Running (see SetExecutionDelay).
func (s *Server) executionDelay() time.Duration { return time.Duration(s.execDelay.Load()) }

// SetExecutionDelay replaces Config.ExecutionDelay: every instance, old
// and new, is Running until d after its trigger.
func (s *Server) SetExecutionDelay(d time.Duration) { s.execDelay.Store(int64(d)) }

func hasAnyPrefix(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

const maxKeyBytes = 850

// serveTrigger answers POST /triggerworkflow.
func (s *Server) serveTrigger(w http.ResponseWriter, r *http.Request, rid string, pairs []pair, auth authFields) {
	_, hasWorkflow := queryGet(pairs, "workflowId")
	_, hasObject := queryGet(pairs, "object")
	if hasWorkflow && !listHas(auth.paramList, "workflowid") || hasObject && !listHas(auth.paramList, "object") {
		s.writeError(w, r, serviceCI, rid, errAccessDenied("workflowId and object must be signed"))
		return
	}
	if s.throttledByQuota(w, r, rid) {
		return
	}
	done, resetAfter := s.inject(w, r, serviceCI, rid, s.triggerFaults.Load())
	if done {
		return
	}
	in, err := s.trigger(pairs)
	if d := s.triggerFaults.Load().f.ReplyDelay; err == nil && d > 0 && !sleep(r.Context(), d) {
		return
	}
	if resetAfter {
		s.stats.faults.Add(1)
		resetConn(w)
		return
	}
	if err != nil {
		s.writeError(w, r, serviceCI, rid, err)
		return
	}
	buf := make([]byte, 0, 256)
	buf = append(buf, xmlHeader...)
	buf = append(buf, "<Response><RequestId>"...)
	buf = append(buf, rid...)
	buf = append(buf, "</RequestId><InstanceId>"...)
	buf = append(buf, s.runID(in)...)
	buf = append(buf, "</InstanceId></Response>"...)
	writeXML(w, serviceCI, rid, http.StatusOK, buf)
}

// trigger validates a trigger and records it.
func (s *Server) trigger(pairs []pair) (*instance, *apiError) {
	wf, _ := queryGet(pairs, "workflowId")
	key, _ := queryGet(pairs, "object")
	name, _ := queryGet(pairs, "name")
	switch {
	case wf == "":
		return nil, errInvalidArgument("workflowId is required")
	case key == "":
		return nil, errInvalidArgument("object is required")
	case !s.knownWorkflow(wf):
		return nil, errInvalidArgument("workflow " + wf + " does not exist")
	case key[0] == '/':
		return nil, errInvalidArgument("object key must not start with '/'")
	case len(key) > maxKeyBytes:
		return nil, errInvalidArgument("object key is longer than 850 bytes")
	case utf8.RuneCountInString(name) > 128:
		return nil, errInvalidArgument("name is longer than 128 characters")
	}
	if hasAnyPrefix(key, s.cfg.DenyPrefixes) {
		return nil, errAccessDenied("access to object " + key + " is denied")
	}
	if known, ok := s.workflows[wf]; ok {
		wf = known // one shared copy of the id, not one per instance
	}
	in := s.exec.record(wf, key, name, s.now)
	s.stats.accepted.Add(1)
	return in, nil
}

// executionTimeLayout is the service's creation-time format.
const executionTimeLayout = "2006-01-02T15:04:05-0700"

func parseExecutionTime(v string) (time.Time, bool) {
	if t, err := time.Parse(executionTimeLayout, v); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// stateSet is a set of execution states to return.
type stateSet struct {
	all, running, success, failed bool
}

func parseStates(v string) (stateSet, bool) {
	var set stateSet
	if v == "" {
		set.all = true
		return set, true
	}
	for v != "" {
		var item string
		item, v, _ = strings.Cut(v, ",")
		switch strings.ToLower(strings.TrimSpace(item)) {
		case "all":
			set.all = true
		case "running":
			set.running = true
		case "success":
			set.success = true
		case "failed":
			set.failed = true
		case "cancel":
			// No instance of the emulator is ever cancelled.
		default:
			return set, false
		}
	}
	return set, true
}

func (set stateSet) has(state string) bool {
	return set.all || state == "Running" && set.running || state == "Success" && set.success || state == "Failed" && set.failed
}

// serveExecutions answers GET /workflowexecution.
func (s *Server) serveExecutions(w http.ResponseWriter, r *http.Request, rid string, pairs []pair) {
	fail := func(msg string) { s.writeError(w, r, serviceCI, rid, errInvalidArgument(msg)) }
	wf, _ := queryGet(pairs, "workflowId")
	if wf == "" {
		fail("workflowId is required")
		return
	}
	if !s.knownWorkflow(wf) {
		fail("workflow " + wf + " does not exist")
		return
	}
	var start, end time.Time
	if v, _ := queryGet(pairs, "startCreationTime"); v != "" {
		t, ok := parseExecutionTime(v)
		if !ok {
			fail("invalid startCreationTime " + strconv.Quote(v))
			return
		}
		start = t
	}
	if v, _ := queryGet(pairs, "endCreationTime"); v != "" {
		t, ok := parseExecutionTime(v)
		if !ok {
			fail("invalid endCreationTime " + strconv.Quote(v))
			return
		}
		end = t
	}
	size, e := querySize(pairs)
	if e != nil {
		s.writeError(w, r, serviceCI, rid, e)
		return
	}
	asc, e := queryAscending(pairs)
	if e != nil {
		s.writeError(w, r, serviceCI, rid, e)
		return
	}
	sv, _ := queryGet(pairs, "states")
	states, ok := parseStates(sv)
	if !ok {
		fail("invalid states " + strconv.Quote(sv))
		return
	}

	name, _ := queryGet(pairs, "name")
	var list []*instance
	if jobID, _ := queryGet(pairs, "jobId"); jobID != "" {
		list = s.jobExecutions(jobID, wf, name)
	} else {
		s.exec.mu.Lock()
		if name != "" {
			list = s.byName(wf, name)
		} else {
			list = s.exec.byWorkflow[wf]
		}
		s.exec.mu.Unlock()
	}

	pos, step, e := queryScan(pairs, len(list), asc)
	if e != nil {
		s.writeError(w, r, serviceCI, rid, e)
		return
	}

	now := s.now()
	buf := make([]byte, 0, 256+size*256)
	buf = append(buf, xmlHeader...)
	buf = append(buf, "<Response><RequestId>"...)
	buf = append(buf, rid...)
	buf = append(buf, "</RequestId>"...)
	n := 0
	next := -1
	for ; pos >= 0 && pos < len(list); pos += step {
		in := list[pos]
		if !start.IsZero() && in.at.Before(start) || !end.IsZero() && in.at.After(end) {
			continue
		}
		st := s.state(in, now)
		if !states.has(st) {
			continue
		}
		if n == size {
			next = pos
			break
		}
		n++
		buf = append(buf, "<WorkflowExecutionList><RunId>"...)
		buf = append(buf, s.runID(in)...)
		buf = append(buf, "</RunId><WorkflowId>"...)
		buf = appendEscaped(buf, in.workflowID)
		buf = append(buf, "</WorkflowId><State>"...)
		buf = append(buf, st...)
		buf = append(buf, "</State><CreateTime>"...)
		buf = in.at.In(s.zone).AppendFormat(buf, time.RFC3339)
		buf = append(buf, "</CreateTime><Object>"...)
		buf = appendEscaped(buf, in.key)
		buf = append(buf, "</Object></WorkflowExecutionList>"...)
	}
	if next >= 0 {
		buf = append(buf, "<NextToken>"...)
		buf = strconv.AppendInt(buf, int64(next), 10)
		buf = append(buf, "</NextToken>"...)
	}
	buf = append(buf, "</Response>"...)
	s.stats.executions.Add(1)
	writeXML(w, serviceCI, rid, http.StatusOK, buf)
}

// serveExecution answers GET /workflowexecution/<runId>.
func (s *Server) serveExecution(w http.ResponseWriter, r *http.Request, rid string) {
	id := strings.TrimPrefix(r.URL.Path, "/workflowexecution/")
	if done, resetAfter := s.inject(w, r, serviceCI, rid, s.describeFaults.Load()); done {
		return
	} else if resetAfter {
		// A look-up changes nothing: reset before the work or after, the
		// client sees the same.
		s.stats.faults.Add(1)
		resetConn(w)
		return
	}
	in := s.lookupRun(id)
	if in == nil {
		s.writeError(w, r, serviceCI, rid, &apiError{http.StatusNotFound, "ResourceNotFound", "workflow execution " + id + " does not exist"})
		return
	}
	if hasAnyPrefix(in.key, s.cfg.DescribeDenyPrefixes) {
		s.writeError(w, r, serviceCI, rid, errAccessDenied("not allowed to describe the execution "+id))
		return
	}
	now := s.now()
	st := s.state(in, now)
	created := in.at.In(s.zone).Format(time.RFC3339)
	runID := s.runID(in)

	buf := make([]byte, 0, 1024)
	buf = append(buf, xmlHeader...)
	buf = append(buf, "<Response><RequestId>"...)
	buf = append(buf, rid...)
	buf = append(buf, "</RequestId><WorkflowExecution><WorkflowId>"...)
	buf = appendEscaped(buf, in.workflowID)
	buf = append(buf, "</WorkflowId><Name>"...)
	buf = appendEscaped(buf, in.workflowID)
	buf = append(buf, "</Name><RunId>"...)
	buf = append(buf, runID...)
	buf = append(buf, "</RunId><CreateTime>"...)
	buf = append(buf, created...)
	buf = append(buf, "</CreateTime><Object>"...)
	buf = appendEscaped(buf, in.key)
	buf = append(buf, "</Object><State>"...)
	buf = append(buf, st...)
	buf = append(buf, "</State><Topology></Topology><Tasks><Type>Transcode</Type><State>"...)
	buf = append(buf, st...)
	buf = append(buf, "</State><JobId>j"...)
	buf = append(buf, runID[1:]...)
	buf = append(buf, "</JobId><CreateTime>"...)
	buf = append(buf, created...)
	buf = append(buf, "</CreateTime><StartTime>"...)
	buf = append(buf, created...)
	buf = append(buf, "</StartTime><EndTime>"...)
	code, msg := "", ""
	switch st {
	case "Success":
		code = "Success"
	case "Failed":
		code, msg = "InternalError", "the emulator fails the first execution of keys under its fail prefixes"
	}
	if st != "Running" {
		buf = in.at.Add(s.executionDelay()).In(s.zone).AppendFormat(buf, time.RFC3339)
	}
	buf = append(buf, "</EndTime><Code>"...)
	buf = append(buf, code...)
	buf = append(buf, "</Code><Message>"...)
	buf = append(buf, msg...)
	buf = append(buf, "</Message><Name>Transcode_1</Name></Tasks></WorkflowExecution></Response>"...)
	s.stats.executions.Add(1)
	writeXML(w, serviceCI, rid, http.StatusOK, buf)
}
