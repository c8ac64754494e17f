// Package emulator is a local Tencent Cloud Infinite (CI) and COS server for
// tests, for `wftrigger emulator` and for `wftrigger demo`.
//
// One Server answers both the CI host and the COS host, routing by path:
//
//	POST /triggerworkflow            TriggerWorkflow (CI)
//	GET  /workflowexecution          DescribeWorkflowExecutions (CI)
//	GET  /workflowexecution/<runId>  DescribeWorkflowExecution (CI)
//	POST /inventorytriggerjob        CreateInventoryTriggerJob (CI); GET lists,
//	GET  /inventorytriggerjob/<id>   describes, PUT …/<id>?cancel cancels (jobs.go)
//	GET  /                           GET Bucket, List Objects v1 (COS)
//	GET  /<key>                      GET Object (COS); HEAD works too
//
// With Config.Issuer it also hands out temporary credentials, as a CVM
// metadata service and STS do (see IssuerConfig), and accepts them until
// they expire.
//
// So an object whose key is "triggerworkflow" or starts with
// "workflowexecution" or "inventorytriggerjob" cannot be fetched from the
// emulator.
//
// Every request must carry a valid q-sign Authorization header (the
// signature-in-query form is not supported), checked by
// the emulator's own implementation of the algorithm (it shares no code with
// the client's signer). Faults (errors, throttling, connection resets,
// latency) can be injected per endpoint group, deterministically per seed.
//
// Choices where the real service is not documented:
//   - an empty Config.Workflows accepts every workflow id;
//   - the DescribeWorkflowExecutions "name" filter is an exact match on the
//     object key, unless Config.NameFilter says otherwise;
//   - an unknown run id in DescribeWorkflowExecution is 404 ResourceNotFound;
//   - execution queries get no injected faults;
//   - with encoding-type=url, Prefix, Marker, Delimiter, NextMarker, every
//     Key and every CommonPrefixes/Prefix are percent-encoded (§1 encoder);
//   - InstanceId (= RunId) is "i" + 16 hex digits of a per-seed tag + 16 hex
//     digits of the acceptance sequence number.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a Server.
type Config struct {
	SecretID, SecretKey string // the only credentials accepted
	// SessionToken, if non-empty, must be sent (and signed) as the
	// x-cos-security-token header.
	SessionToken string
	// Bucket is "name-appid"; it appears as ListBucketResult/Name.
	Bucket string
	// Workflows are the known workflow ids; a trigger for another id is
	// rejected with 400 InvalidArgument. Empty accepts any id.
	Workflows []string
	// DenyPrefixes: triggers for keys starting with any of these get 403
	// AccessDenied.
	DenyPrefixes []string
	// Trigger are the faults of POST /triggerworkflow.
	Trigger Faults
	// List are the faults of GET / (listing) and GET /<key>.
	List Faults
	// Quota is a moving quota on triggers (see Quota); zero: none.
	Quota Quota
	// NameFilter is how the execution list's name filter matches.
	NameFilter NameFilter
	// ExecutionDelay is how long an instance stays Running after its
	// trigger before it is Success (0: Success at once).
	ExecutionDelay time.Duration
	// FailPrefixes: the first instance of a key under any of these ends
	// Failed instead of Success; later instances of the same key (a
	// second trigger) end Success, as after a transient failure.
	FailPrefixes []string
	// Describe are the faults of GET /workflowexecution/<runId>.
	Describe Faults
	// DescribeDenyPrefixes: looking up an instance of a key under any of
	// these gets 403 AccessDenied.
	DescribeDenyPrefixes []string
	// Seed seeds the fault randomness and the instance id tag.
	Seed int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Issuer, when its Role or RoleARN is set, serves temporary
	// credentials (metadata service, STS) and accepts them until they
	// expire.
	Issuer IssuerConfig
	// Auth is how CI requests that fail authentication are answered
	// (default AuthCOS).
	Auth AuthStyle
}

// Faults are the failures a Server injects into one group of endpoints.
// The three rates are fractions of requests and are exclusive of each other.
type Faults struct {
	// ErrorRate is the fraction answered 500 InternalError.
	ErrorRate float64
	// SlowDownRate is the fraction answered 503 SlowDown.
	SlowDownRate float64
	// ResetRate is the fraction whose connection is reset without an
	// answer. For triggers, half of them are reset after the trigger was
	// accepted and recorded (the client cannot know it succeeded).
	ResetRate float64
	// QPS, if > 0, answers requests above this rate 503 SlowDown (token
	// bucket, burst QPS).
	QPS float64
	// Latency is added before answering; a cancelled request gets no answer.
	Latency time.Duration
	// ReplyDelay (triggers only) is added after the trigger was accepted and
	// recorded, before the answer: a client that times out or dies meanwhile
	// never hears of a trigger that happened.
	ReplyDelay time.Duration
}

// Trigger is one workflow instance: an accepted TriggerWorkflow call, or
// an execution created by an inventory trigger job (JobID set).
type Trigger struct {
	WorkflowID, Key, Name, InstanceID string
	JobID                             string
	At                                time.Time
}

// TriggerKey names the (workflow, object) pair of a trigger.
type TriggerKey struct {
	WorkflowID, Key string
}

// Stats are a Server's counters.
type Stats struct {
	Requests         int64 // every request received
	Accepted         int64 // accepted triggers
	Rejected         int64 // 4xx answers
	Faults           int64 // injected 5xx answers and connection resets
	Lists            int64 // GET / answered
	Gets             int64 // GET /<key> answered
	ExecutionQueries int64 // execution list and describe calls answered
}

// Server is the emulator. It implements http.Handler; Start also serves it
// on a local port. All methods are safe for concurrent use.
type Server struct {
	cfg       Config
	now       func() time.Time
	verifier  *verifier
	workflows map[string]string // id -> the same id, shared by instances
	zone      *time.Location    // CreateTime zone (UTC+8, as the service writes it)

	tag    [16]byte // hex tag of instance ids, from the seed
	reqTag string   // request id prefix
	reqSeq atomic.Uint64
	draws  atomic.Uint64

	triggerFaults  atomic.Pointer[faultState]
	quota          *quotaState
	listFaults     atomic.Pointer[faultState]
	describeFaults atomic.Pointer[faultState]
	execDelay      atomic.Int64 // how long instances stay Running, ns

	stats struct {
		requests, accepted, rejected, faults, lists, gets, executions atomic.Int64
	}

	exec    execStore
	objects objectStore
	jobs    jobStore
	temp    tempStore // minted temporary credentials

	srvMu sync.Mutex
	srv   *http.Server
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		cfg:       cfg,
		now:       cfg.Now,
		verifier:  newVerifier(cfg.SecretID, cfg.SecretKey, cfg.SessionToken),
		workflows: make(map[string]string, len(cfg.Workflows)),
		zone:      time.FixedZone("CST", 8*3600),
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.verifier.temp = &s.temp
	for _, w := range cfg.Workflows {
		s.workflows[w] = w
	}
	seed := uint64(cfg.Seed)
	appendHex64(s.tag[:0], mix64(seed^0x5bd1e9955bd1e995))
	var rt [8]byte
	s.reqTag = string(appendHex64(rt[:0], mix64(seed^0x2545f4914f6cdd1d))[:8])
	s.exec.init()
	s.objects.init()
	s.SetFaults(cfg.Trigger, cfg.List)
	s.quota = newQuotaState(cfg.Quota)
	s.SetDescribeFaults(cfg.Describe)
	s.SetExecutionDelay(cfg.ExecutionDelay)
	return s
}

// Start listens on addr (for example "127.0.0.1:0"), serves in the
// background and returns the base URL, like "http://127.0.0.1:PORT".
func (s *Server) Start(addr string) (baseURL string, err error) {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return "", errors.New("start emulator: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("start emulator: %w", err)
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: time.Minute}
	go s.srv.Serve(ln) //nolint:errcheck // Serve ends with ErrServerClosed on Close.
	tcp := ln.Addr().(*net.TCPAddr)
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port)), nil
}

// Close stops a started Server and closes its connections.
func (s *Server) Close() error {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// SetFaults replaces the faults of triggers and of listings and gets.
func (s *Server) SetFaults(trigger, list Faults) {
	s.triggerFaults.Store(newFaultState(trigger))
	s.listFaults.Store(newFaultState(list))
}

// SetDescribeFaults replaces the faults of execution look-ups
// (GET /workflowexecution/<runId>).
func (s *Server) SetDescribeFaults(f Faults) {
	s.describeFaults.Store(newFaultState(f))
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Requests:         s.stats.requests.Load(),
		Accepted:         s.stats.accepted.Load(),
		Rejected:         s.stats.rejected.Load(),
		Faults:           s.stats.faults.Load(),
		Lists:            s.stats.lists.Load(),
		Gets:             s.stats.gets.Load(),
		ExecutionQueries: s.stats.executions.Load(),
	}
}

// service says which error shape and request id header a path uses.
type service uint8

const (
	serviceCI service = iota
	serviceCOS
)

type route uint8

const (
	routeTrigger route = iota
	routeExecList
	routeExecGet
	routeList
	routeObject
	routeJobs
	routeNotFound
)

func classify(path string) (route, service) {
	switch {
	case path == "/triggerworkflow":
		return routeTrigger, serviceCI
	case path == "/workflowexecution":
		return routeExecList, serviceCI
	case len(path) > len("/workflowexecution/") && path[:len("/workflowexecution/")] == "/workflowexecution/":
		return routeExecGet, serviceCI
	case path == "/inventorytriggerjob" || strings.HasPrefix(path, "/inventorytriggerjob/") && len(path) > len("/inventorytriggerjob/"):
		return routeJobs, serviceCI
	case path == "/":
		return routeList, serviceCOS
	case len(path) > 1 && path[0] == '/':
		return routeObject, serviceCOS
	}
	return routeNotFound, serviceCOS
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	if s.serveIssuer(w, r) {
		return
	}
	rt, svc := classify(r.URL.Path)
	rid := s.newRequestID()

	var arr [8]pair
	pairs, perr := parseQuery(r.URL.RawQuery, arr[:0])
	if perr != nil {
		s.writeError(w, r, svc, rid, perr)
		return
	}
	auth, aerr := s.verifier.check(r, pairs, s.now())
	if aerr != nil {
		s.writeError(w, r, svc, rid, s.authError(svc, aerr))
		return
	}
	s.advanceJobs()

	if !rt.allows(r.Method) {
		s.writeError(w, r, svc, rid, errMethod(r.Method))
		return
	}
	switch rt {
	case routeTrigger:
		s.serveTrigger(w, r, rid, pairs, auth)
	case routeExecList:
		s.serveExecutions(w, r, rid, pairs)
	case routeExecGet:
		s.serveExecution(w, r, rid)
	case routeList:
		s.serveList(w, r, rid, pairs)
	case routeObject:
		s.serveObject(w, r, rid)
	case routeJobs:
		s.serveJobs(w, r, rid, pairs, auth)
	default:
		s.writeError(w, r, svc, rid, &apiError{http.StatusNotFound, "ResourceNotFound", "no such resource"})
	}
}

// allows reports whether method is allowed on rt. The job routes check
// their own methods; a resource that does not exist is not found whatever
// the method.
func (rt route) allows(method string) bool {
	switch rt {
	case routeTrigger:
		return method == http.MethodPost
	case routeExecList, routeExecGet, routeList:
		return method == http.MethodGet
	case routeObject:
		return method == http.MethodGet || method == http.MethodHead
	}
	return true
}

func errMethod(m string) *apiError {
	return &apiError{http.StatusMethodNotAllowed, "MethodNotAllowed", "method " + m + " is not allowed on this resource"}
}

// newRequestID returns a unique request id: a per-seed tag and a counter.
func (s *Server) newRequestID() string {
	var b [32]byte
	buf := append(b[:0], s.reqTag...)
	buf = append(buf, '-')
	buf = appendHex64(buf, s.reqSeq.Add(1))
	return string(buf)
}

// appendHex64 appends v as 16 lower-case hex digits.
func appendHex64(dst []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		dst = append(dst, digits[(v>>uint(i))&15])
	}
	return dst
}

// mix64 is the splitmix64 finalizer.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// writeError writes the XML error of svc's shape.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, svc service, rid string, e *apiError) {
	if e.status >= 400 && e.status < 500 {
		s.stats.rejected.Add(1)
	}
	buf := make([]byte, 0, 256)
	buf = append(buf, xmlHeader...)
	buf = append(buf, "<Error><Code>"...)
	buf = appendEscaped(buf, e.code)
	buf = append(buf, "</Code><Message>"...)
	buf = appendEscaped(buf, e.message)
	buf = append(buf, "</Message>"...)
	if svc == serviceCOS {
		buf = append(buf, "<Resource>"...)
		buf = appendEscaped(buf, r.Host+r.URL.Path)
		buf = append(buf, "</Resource>"...)
	}
	buf = append(buf, "<RequestId>"...)
	buf = append(buf, rid...)
	buf = append(buf, "</RequestId><TraceId>t"...)
	buf = append(buf, rid...)
	buf = append(buf, "</TraceId></Error>"...)
	if svc == serviceCOS {
		w.Header()["X-Cos-Trace-Id"] = []string{"t" + rid}
	} else {
		w.Header()["X-Ci-Trace-Id"] = []string{"t" + rid}
	}
	writeXML(w, svc, rid, e.status, buf)
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// writeXML writes an XML body with its status and svc's headers.
func writeXML(w http.ResponseWriter, svc service, rid string, status int, body []byte) {
	h := w.Header()
	vals := make([]string, 4) // one allocation for the four header values
	vals[0], vals[1], vals[2] = rid, "application/xml", strconv.Itoa(len(body))
	if svc == serviceCOS {
		vals[3] = "tencent-cos"
		h["X-Cos-Request-Id"] = vals[0:1:1]
	} else {
		vals[3] = "tencent-ci"
		h["X-Ci-Request-Id"] = vals[0:1:1]
	}
	h["Content-Type"] = vals[1:2:2]
	h["Content-Length"] = vals[2:3:3]
	h["Server"] = vals[3:4:4]
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client went away; nothing to do.
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// faultState is one Faults with its token bucket.
type faultState struct {
	f   Faults
	lim *rate.Limiter
}

func newFaultState(f Faults) *faultState {
	fs := &faultState{f: f}
	if f.QPS > 0 {
		burst := int(f.QPS)
		if burst < 1 {
			burst = 1
		}
		fs.lim = rate.NewLimiter(rate.Limit(f.QPS), burst)
	}
	return fs
}

// fault is the outcome of fault injection for one request.
type fault uint8

const (
	faultNone fault = iota
	faultResetBefore
	faultResetAfter
	faultThrottle
	faultInternal
	faultSlowDown
)

// decide draws the fault of one request, in the order reset-before, QPS
// throttle, 500, 503 (reset-after is carried out after the work).
func (s *Server) decide(fs *faultState) fault {
	f := fs.f
	var u float64
	var x uint64
	if f.ResetRate > 0 || f.ErrorRate > 0 || f.SlowDownRate > 0 {
		x = mix64(uint64(s.cfg.Seed) + s.draws.Add(1)*0x9e3779b97f4a7c15)
		u = float64(x>>11) / (1 << 53)
	} else {
		u = 2
	}
	reset := u < f.ResetRate
	if reset && x&1 == 0 {
		return faultResetBefore
	}
	if fs.lim != nil && !fs.lim.Allow() {
		return faultThrottle
	}
	switch {
	case reset:
		return faultResetAfter
	case u < f.ResetRate+f.ErrorRate:
		return faultInternal
	case u < f.ResetRate+f.ErrorRate+f.SlowDownRate:
		return faultSlowDown
	}
	return faultNone
}

// inject applies the faults of fs that come before the work. It reports
// whether the request was answered (or dropped) and whether the connection
// must be reset after the work.
func (s *Server) inject(w http.ResponseWriter, r *http.Request, svc service, rid string, fs *faultState) (done, resetAfter bool) {
	switch s.decide(fs) {
	case faultResetBefore:
		s.stats.faults.Add(1)
		resetConn(w)
		return true, false
	case faultThrottle, faultSlowDown:
		s.stats.faults.Add(1)
		s.writeError(w, r, svc, rid, errSlowDown())
		return true, false
	case faultInternal:
		s.stats.faults.Add(1)
		s.writeError(w, r, svc, rid, &apiError{http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."})
		return true, false
	case faultResetAfter:
		resetAfter = true
	}
	if fs.f.Latency > 0 && !sleep(r.Context(), fs.f.Latency) {
		return true, false
	}
	return false, resetAfter
}

// resetConn drops the connection without an answer (TCP RST where the
// connection can be hijacked, an aborted handler otherwise).
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) //nolint:errcheck // best effort: a FIN is a reset too for the client.
	}
	conn.Close()
}
