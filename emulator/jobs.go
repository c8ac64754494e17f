package emulator

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The emulator's inventory trigger jobs (POST /inventorytriggerjob and its
// follow-ups, reference §9). A job's objects are fixed when it is created;
// it then processes them in order at JobOptions.Rate, each processed object
// becoming a workflow execution that carries the job's id (listed by
// GET /workflowexecution?jobId=…), until all are done (Success), FailAfter
// is reached (Failed) or it is cancelled (Cancel). Progress is computed
// from the clock whenever a request arrives: there is no background work,
// and with an injected clock jobs are deterministic.
//
// Choices where the real service is not documented:
//   - a Prefix input skips folder placeholders (keys ending in '/');
//   - TimeInterval bounds are inclusive, compared with the object's
//     LastModified to the nanosecond; Start and End may carry any offset;
//   - a Manifest input is the URL of a manifest.json stored in this
//     emulator (any host: the emulator serves one bucket); its data files
//     are read at creation, delete markers and non-latest versions skipped;
//   - a bad Input (none, two, an unreadable manifest) is 400 InvalidArgument;
//   - names need not be unique;
//   - Progress is "done/total";
//   - an execution list with an unknown jobId is empty;
//   - cancelling an ended job changes nothing and answers 200.

// JobOptions shape the inventory trigger jobs created after they are set.
type JobOptions struct {
	// Rate is how many objects a running job processes a second; 0
	// processes all of them as soon as the job runs.
	Rate float64
	// StartDelay is how long a job stays Submitted before it runs.
	StartDelay time.Duration
	// SkipEvery, if > 0, leaves every n-th object of a job (the n-th, the
	// 2n-th, …) without an execution.
	SkipEvery int
	// SkipPrefixes: objects whose keys start with one of these get no
	// execution.
	SkipPrefixes []string
	// FailAfter, if > 0, ends a job Failed once it has processed this many
	// objects.
	FailAfter int
}

// JobInfo is a snapshot of one emulated inventory trigger job.
type JobInfo struct {
	ID, Name, WorkflowID, State string
	Prefix, Manifest            string
	Objects                     int // objects the job's input selected
	Done                        int // objects processed so far
	Executions                  int // executions it created
	CreatedAt                   time.Time
}

// job is one inventory trigger job. Its fields after mu are guarded by
// jobStore.mu.
type job struct {
	seq                   uint64
	id, name, workflowID  string
	prefix                *string
	manifest              string
	start, end            string // TimeInterval as sent
	keys                  []string
	opts                  JobOptions
	created               time.Time
	state                 string
	done                  int
	executions            []*instance
	startTime, endTime    time.Time
	failedCode, failedMsg string
}

// jobStore holds the jobs of a Server.
type jobStore struct {
	mu      sync.Mutex
	opts    JobOptions
	all     []*job
	byID    map[string]*job
	running atomic.Int64 // jobs not ended: advance has work only then
}

// SetJobOptions sets the options of the inventory trigger jobs created
// from now on.
func (s *Server) SetJobOptions(o JobOptions) {
	s.jobs.mu.Lock()
	s.jobs.opts = o
	s.jobs.mu.Unlock()
}

// Jobs returns every inventory trigger job created, in creation order, as
// of now.
func (s *Server) Jobs() []JobInfo {
	s.advanceJobs()
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	out := make([]JobInfo, len(s.jobs.all))
	for i, j := range s.jobs.all {
		out[i] = JobInfo{ID: j.id, Name: j.name, WorkflowID: j.workflowID, State: j.state, Manifest: j.manifest,
			Objects: len(j.keys), Done: j.done, Executions: len(j.executions), CreatedAt: j.created}
		if j.prefix != nil {
			out[i].Prefix = *j.prefix
		}
	}
	return out
}

// advanceJobs brings every job that has not ended up to now: it creates
// the executions of the objects a job has processed by then. With no job
// running it does not even read the clock: it runs on every request.
func (s *Server) advanceJobs() {
	if s.jobs.running.Load() == 0 {
		return
	}
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	now := s.now()
	for _, j := range s.jobs.all {
		s.advanceJob(j, now)
	}
}

// advanceJob brings j up to now; jobs.mu is held.
func (s *Server) advanceJob(j *job, now time.Time) {
	switch j.state {
	case "Success", "Failed", "Cancel":
		return
	}
	run := j.created.Add(j.opts.StartDelay)
	if now.Before(run) {
		return
	}
	if j.state == "Submitted" {
		j.state, j.startTime = "Running", run
	}
	// at is when the i-th object (0-based) is processed.
	at := func(i int) time.Time {
		if j.opts.Rate <= 0 {
			return run
		}
		return run.Add(time.Duration(float64(i+1) / j.opts.Rate * float64(time.Second)))
	}
	target := len(j.keys)
	if j.opts.Rate > 0 {
		n := now.Sub(run).Seconds() * j.opts.Rate
		if n < float64(target) {
			target = int(math.Floor(n))
		}
	}
	fail := j.opts.FailAfter > 0 && target >= j.opts.FailAfter && j.opts.FailAfter < len(j.keys)
	if fail {
		target = j.opts.FailAfter
	}
	for i := j.done; i < target; i++ {
		key := j.keys[i]
		if s.jobSkips(j, i, key) {
			continue
		}
		in := s.exec.recordAt(j.workflowID, key, j.id, at(i))
		j.executions = append(j.executions, in)
	}
	if target > j.done {
		j.done = target
	}
	switch {
	case fail:
		j.state, j.endTime = "Failed", at(target-1)
		j.failedCode, j.failedMsg = "InternalError", "the job failed after "+strconv.Itoa(target)+" objects"
		s.jobs.running.Add(-1)
	case j.done == len(j.keys):
		j.state = "Success"
		j.endTime = run
		if len(j.keys) > 0 {
			j.endTime = at(len(j.keys) - 1)
		}
		s.jobs.running.Add(-1)
	}
}

func (s *Server) jobSkips(j *job, i int, key string) bool {
	if n := j.opts.SkipEvery; n > 0 && (i+1)%n == 0 {
		return true
	}
	return hasAnyPrefix(key, j.opts.SkipPrefixes)
}

// recordAt stores an instance created by job jobID at a given time. It
// does not count as an accepted trigger.
func (e *execStore) recordAt(workflowID, key, jobID string, at time.Time) *instance {
	return e.add(&instance{workflowID: workflowID, key: key, jobID: jobID}, func() time.Time { return at })
}

// jobExecutions returns the executions of job jobID for workflow wf (and
// the name filter, when name is not empty), in creation order.
func (s *Server) jobExecutions(jobID, wf, name string) []*instance {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	j := s.jobs.byID[jobID]
	if j == nil || j.workflowID != wf {
		return nil
	}
	if name == "" {
		return j.executions[:len(j.executions):len(j.executions)]
	}
	var out []*instance
	for _, in := range j.executions {
		if s.nameMatches(in.key, name) {
			out = append(out, in)
		}
	}
	return out
}

// jobRequest is the body of CreateInventoryTriggerJob.
type jobRequest struct {
	Name  string `xml:"Name"`
	Type  string `xml:"Type"`
	Input struct {
		Prefix   []string `xml:"Prefix"`
		Manifest []string `xml:"Manifest"`
		Object   []string `xml:"Object"`
		UrlFile  []string `xml:"UrlFile"`
	} `xml:"Input"`
	Operation struct {
		WorkflowIDs  string `xml:"WorkflowIds"`
		TimeInterval struct {
			Start string `xml:"Start"`
			End   string `xml:"End"`
		} `xml:"TimeInterval"`
	} `xml:"Operation"`
}

// serveJobs answers the job API: POST and GET /inventorytriggerjob, GET
// and PUT (?cancel) /inventorytriggerjob/<id>.
func (s *Server) serveJobs(w http.ResponseWriter, r *http.Request, rid string, pairs []pair, auth authFields) {
	id, one := strings.CutPrefix(r.URL.Path, "/inventorytriggerjob/")
	var err *apiError
	switch {
	case !one && r.Method == http.MethodPost:
		err = s.createJob(w, r, rid, auth)
	case !one && r.Method == http.MethodGet:
		err = s.listJobs(w, rid, pairs)
	case one && r.Method == http.MethodGet:
		s.writeJobs(w, rid, []string{id}, "")
	case one && r.Method == http.MethodPut:
		if _, ok := queryGet(pairs, "cancel"); !ok {
			err = errInvalidArgument("PUT /inventorytriggerjob/<jobId> needs ?cancel")
			break
		}
		err = s.cancelJob(w, rid, id)
	default:
		err = errMethod(r.Method)
	}
	if err != nil {
		s.writeError(w, r, serviceCI, rid, err)
	}
}

func (s *Server) createJob(w http.ResponseWriter, r *http.Request, rid string, auth authFields) *apiError {
	body, rerr := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if rerr != nil {
		return errInvalidArgument("read body: " + rerr.Error())
	}
	if md := r.Header.Get("Content-Md5"); md != "" {
		sum := md5.Sum(body)
		if md != base64.StdEncoding.EncodeToString(sum[:]) {
			return &apiError{http.StatusBadRequest, "BadDigest", "the Content-MD5 you specified did not match what we received"}
		}
		if !listHas(auth.headerList, "content-md5") {
			return errAccessDenied("content-md5 must be signed")
		}
	}
	var req jobRequest
	if err := xml.Unmarshal(body, &req); err != nil {
		return &apiError{http.StatusBadRequest, "MalformedXML", "the XML you provided was not well-formed: " + err.Error()}
	}
	if msg := checkJobName(req.Name); msg != "" {
		return errInvalidArgument(msg)
	}
	if req.Type != "" && req.Type != "Workflow" {
		return errInvalidArgument("Type " + strconv.Quote(req.Type) + " is not supported here (want Workflow)")
	}
	wf := req.Operation.WorkflowIDs
	switch {
	case wf == "":
		return errInvalidArgument("Operation.WorkflowIds is required")
	case !s.knownWorkflow(wf):
		return errInvalidArgument("workflow " + wf + " does not exist")
	}
	in := &req.Input
	if n := len(in.Prefix) + len(in.Manifest) + len(in.Object) + len(in.UrlFile); n != 1 {
		return errInvalidArgument("Input must hold exactly one of Prefix, Manifest, Object, UrlFile, got " + strconv.Itoa(n))
	}
	if len(in.Object) > 0 || len(in.UrlFile) > 0 {
		return errInvalidArgument("the emulator supports Prefix and Manifest inputs only")
	}
	ti := req.Operation.TimeInterval
	j := &job{name: req.Name, workflowID: wf, start: ti.Start, end: ti.End, state: "Submitted", created: s.now()}
	var keys []string
	var aerr *apiError
	if len(in.Prefix) == 1 {
		p := in.Prefix[0]
		j.prefix = &p
		var start, end time.Time
		if ti.Start != "" {
			t, ok := parseExecutionTime(ti.Start)
			if !ok {
				return errInvalidArgument("invalid TimeInterval.Start " + strconv.Quote(ti.Start))
			}
			start = t
		}
		if ti.End != "" {
			t, ok := parseExecutionTime(ti.End)
			if !ok {
				return errInvalidArgument("invalid TimeInterval.End " + strconv.Quote(ti.End))
			}
			end = t
		}
		keys = s.objects.keysUnder(p, start, end)
	} else {
		if ti.Start != "" || ti.End != "" {
			return errInvalidArgument("TimeInterval applies to a Prefix input only")
		}
		j.manifest = in.Manifest[0]
		if keys, aerr = s.inventoryKeys(j.manifest); aerr != nil {
			return aerr
		}
	}
	j.keys = keys

	s.jobs.mu.Lock()
	j.opts = s.jobs.opts
	j.opts.SkipPrefixes = append([]string(nil), j.opts.SkipPrefixes...)
	j.seq = uint64(len(s.jobs.all)) + 1
	j.id = s.serialID('b', j.seq)
	if s.jobs.byID == nil {
		s.jobs.byID = make(map[string]*job)
	}
	s.jobs.all = append(s.jobs.all, j)
	s.jobs.byID[j.id] = j
	s.jobs.running.Add(1)
	s.advanceJob(j, s.now())
	s.jobs.mu.Unlock()

	s.writeJobs(w, rid, []string{j.id}, "")
	return nil
}

// checkJobName says what is wrong with a job name, or "".
func checkJobName(name string) string {
	if name == "" {
		return "Name is required"
	}
	if len(name) > 128 {
		return "Name is longer than 128 characters"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "Name may hold letters, digits, '-' and '_' only"
		}
	}
	return ""
}

// keysUnder returns the keys under prefix, folder placeholders left out,
// whose LastModified is within [start, end] (zero bounds are open).
func (o *objectStore) keysUnder(prefix string, start, end time.Time) []string {
	var keys []string
	marker := ""
	for {
		items, truncated := o.listPage(prefix, "", marker, 1000)
		for _, it := range items {
			marker = it.key
			if strings.HasSuffix(it.key, "/") {
				continue
			}
			lm := it.obj.lastModified
			if !start.IsZero() && lm.Before(start) || !end.IsZero() && lm.After(end) {
				continue
			}
			keys = append(keys, it.key)
		}
		if !truncated {
			return keys
		}
	}
}

// inventoryManifest is the part of a COS inventory manifest.json the
// emulator reads.
type inventoryManifest struct {
	FileSchema string `json:"fileSchema"`
	Files      []struct {
		Key string `json:"key"`
	} `json:"files"`
}

// inventoryKeys reads the inventory whose manifest.json is at rawURL (its
// path names the object in this emulator) and returns its keys.
func (s *Server) inventoryKeys(rawURL string) ([]string, *apiError) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Path == "" || u.Path == "/" {
		return nil, errInvalidArgument("Manifest " + strconv.Quote(rawURL) + " is not the URL of an object")
	}
	get := func(key string) ([]byte, *apiError) {
		s.objects.mu.RLock()
		obj := s.objects.byKey[key]
		s.objects.mu.RUnlock()
		if obj == nil {
			return nil, errInvalidArgument("inventory object " + strconv.Quote(key) + " does not exist")
		}
		return obj.body, nil
	}
	raw, aerr := get(strings.TrimPrefix(u.Path, "/"))
	if aerr != nil {
		return nil, aerr
	}
	var m inventoryManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errInvalidArgument("Manifest is not an inventory manifest.json: " + err.Error())
	}
	keyCol, delCol, latestCol := -1, -1, -1
	for i, name := range strings.Split(m.FileSchema, ",") {
		switch strings.TrimSpace(name) {
		case "Key":
			keyCol = i
		case "IsDeleteMarker":
			delCol = i
		case "IsLatest":
			latestCol = i
		}
	}
	if keyCol < 0 {
		return nil, errInvalidArgument("inventory fileSchema has no Key column")
	}
	var keys []string
	for _, f := range m.Files {
		data, aerr := get(f.Key)
		if aerr != nil {
			return nil, aerr
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, errInvalidArgument("inventory file " + f.Key + ": " + err.Error())
		}
		cr := csv.NewReader(zr)
		cr.FieldsPerRecord = -1
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, errInvalidArgument("inventory file " + f.Key + ": " + err.Error())
			}
			if keyCol >= len(rec) || delCol >= 0 && delCol < len(rec) && strings.EqualFold(rec[delCol], "true") ||
				latestCol >= 0 && latestCol < len(rec) && strings.EqualFold(rec[latestCol], "false") {
				continue
			}
			key, err := url.QueryUnescape(rec[keyCol])
			if err != nil || key == "" {
				continue
			}
			keys = append(keys, key)
		}
	}
	return keys, nil
}

// PutInventory stores a COS inventory of the given objects: one gzip CSV
// data file and dir+"manifest.json" listing it (schema Appid, Bucket, Key,
// Size, LastModifiedDate, ETag, StorageClass; keys URL-encoded). It
// returns the manifest's key.
func (s *Server) PutInventory(dir string, keys []string, lastModified time.Time) string {
	var raw bytes.Buffer
	zw := gzip.NewWriter(&raw)
	cw := csv.NewWriter(zw)
	for _, k := range keys {
		cw.Write([]string{"1250000000", s.cfg.Bucket, string(appendEncode(nil, k)), "1", //nolint:errcheck // a bytes.Buffer does not fail
			lastModified.UTC().Format("2006-01-02T15:04:05.000Z"), `"d41d8cd98f00b204e9800998ecf8427e"`, "STANDARD"})
	}
	cw.Flush()
	zw.Close() //nolint:errcheck // a bytes.Buffer does not fail
	dataKey := dir + "data/0.csv.gz"
	s.PutObject(dataKey, raw.Bytes(), lastModified)
	sum := md5.Sum(raw.Bytes())
	m, _ := json.Marshal(map[string]any{
		"sourceBucket": s.cfg.Bucket, "fileFormat": "CSV", "listObjectCount": strconv.Itoa(len(keys)),
		"fileSchema": "Appid, Bucket, Key, Size, LastModifiedDate, ETag, StorageClass",
		"files":      []map[string]string{{"key": dataKey, "size": strconv.Itoa(raw.Len()), "md5Checksum": hex.EncodeToString(sum[:])}},
	})
	s.PutObject(dir+"manifest.json", m, lastModified)
	return dir + "manifest.json"
}

func (s *Server) listJobs(w http.ResponseWriter, rid string, pairs []pair) *apiError {
	size, e := querySize(pairs)
	if e != nil {
		return e
	}
	if v, _ := queryGet(pairs, "type"); v != "" && v != "Workflow" && v != "Job" {
		return errInvalidArgument("invalid type " + strconv.Quote(v))
	}
	name, _ := queryGet(pairs, "name")
	wf, _ := queryGet(pairs, "workflowId")
	jobID, _ := queryGet(pairs, "jobId")
	states, _ := queryGet(pairs, "states")
	asc, e := queryAscending(pairs)
	if e != nil {
		return e
	}
	s.jobs.mu.Lock()
	all := s.jobs.all[:len(s.jobs.all):len(s.jobs.all)]
	s.jobs.mu.Unlock()
	pos, step, e := queryScan(pairs, len(all), asc)
	if e != nil {
		return e
	}
	var ids []string
	next := ""
	s.jobs.mu.Lock()
	for ; pos >= 0 && pos < len(all); pos += step {
		j := all[pos]
		if name != "" && j.name != name || wf != "" && j.workflowID != wf || jobID != "" && j.id != jobID ||
			states != "" && !stateListed(states, j.state) {
			continue
		}
		if len(ids) == size {
			next = strconv.Itoa(pos)
			break
		}
		ids = append(ids, j.id)
	}
	s.jobs.mu.Unlock()
	s.writeJobs(w, rid, ids, next)
	return nil
}

func stateListed(list, state string) bool {
	for _, v := range strings.Split(list, ",") {
		if v = strings.TrimSpace(v); v == state || v == "All" {
			return true
		}
	}
	return false
}

func (s *Server) cancelJob(w http.ResponseWriter, rid, id string) *apiError {
	s.jobs.mu.Lock()
	j := s.jobs.byID[id]
	if j != nil {
		s.advanceJob(j, s.now())
		switch j.state {
		case "Submitted", "Running", "Pause":
			j.state, j.endTime = "Cancel", s.now()
			s.jobs.running.Add(-1)
		}
	}
	s.jobs.mu.Unlock()
	if j == nil {
		return &apiError{http.StatusNotFound, "ResourceNotFound", "inventory trigger job " + id + " does not exist"}
	}
	buf := append([]byte(xmlHeader), "<Response><RequestId>"...)
	buf = append(buf, rid...)
	buf = append(buf, "</RequestId></Response>"...)
	writeXML(w, serviceCI, rid, http.StatusOK, buf)
	return nil
}

// writeJobs answers with the JobsDetail of each id (NonExistJobIds for
// those that do not exist) and NextToken when not empty.
func (s *Server) writeJobs(w http.ResponseWriter, rid string, ids []string, next string) {
	buf := make([]byte, 0, 512+len(ids)*512)
	buf = append(buf, xmlHeader...)
	buf = append(buf, "<Response><RequestId>"...)
	buf = append(buf, rid...)
	buf = append(buf, "</RequestId>"...)
	var missing []string
	s.jobs.mu.Lock()
	for _, id := range ids {
		j := s.jobs.byID[id]
		if j == nil {
			missing = append(missing, id)
			continue
		}
		buf = s.appendJob(buf, j)
	}
	s.jobs.mu.Unlock()
	for _, id := range missing {
		buf = append(buf, "<NonExistJobIds>"...)
		buf = appendEscaped(buf, id)
		buf = append(buf, "</NonExistJobIds>"...)
	}
	if next != "" {
		buf = append(buf, "<NextToken>"...)
		buf = append(buf, next...)
		buf = append(buf, "</NextToken>"...)
	}
	buf = append(buf, "</Response>"...)
	writeXML(w, serviceCI, rid, http.StatusOK, buf)
}

// appendJob appends one JobsDetail; jobs.mu is held.
func (s *Server) appendJob(buf []byte, j *job) []byte {
	tm := func(buf []byte, t time.Time) []byte {
		if t.IsZero() {
			return append(buf, '-')
		}
		return t.In(s.zone).AppendFormat(buf, executionTimeLayout)
	}
	code, msg := "Success", ""
	if j.state == "Failed" {
		code, msg = j.failedCode, j.failedMsg
	}
	buf = append(buf, "<JobsDetail><Code>"...)
	buf = append(buf, code...)
	buf = append(buf, "</Code><Message>"...)
	buf = appendEscaped(buf, msg)
	buf = append(buf, "</Message><Type>Workflow</Type><Name>"...)
	buf = appendEscaped(buf, j.name)
	buf = append(buf, "</Name><JobId>"...)
	buf = append(buf, j.id...)
	buf = append(buf, "</JobId><State>"...)
	buf = append(buf, j.state...)
	buf = append(buf, "</State><Progress>"...)
	buf = append(buf, fmt.Sprintf("%d/%d", j.done, len(j.keys))...)
	buf = append(buf, "</Progress><CreationTime>"...)
	buf = tm(buf, j.created)
	buf = append(buf, "</CreationTime><StartTime>"...)
	buf = tm(buf, j.startTime)
	buf = append(buf, "</StartTime><EndTime>"...)
	buf = tm(buf, j.endTime)
	buf = append(buf, "</EndTime><Input>"...)
	if j.prefix != nil {
		buf = append(buf, "<Prefix>"...)
		buf = appendEscaped(buf, *j.prefix)
		buf = append(buf, "</Prefix>"...)
	} else {
		buf = append(buf, "<Manifest>"...)
		buf = appendEscaped(buf, j.manifest)
		buf = append(buf, "</Manifest>"...)
	}
	buf = append(buf, "</Input><Operation><WorkflowIds>"...)
	buf = appendEscaped(buf, j.workflowID)
	buf = append(buf, "</WorkflowIds>"...)
	if j.start != "" || j.end != "" {
		buf = append(buf, "<TimeInterval><Start>"...)
		buf = appendEscaped(buf, j.start)
		buf = append(buf, "</Start><End>"...)
		buf = appendEscaped(buf, j.end)
		buf = append(buf, "</End></TimeInterval>"...)
	}
	buf = append(buf, "</Operation></JobsDetail>"...)
	return buf
}
