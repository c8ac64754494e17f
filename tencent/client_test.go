package tencent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var testCreds = Credentials{SecretID: "AKIDtestSecretID0001", SecretKey: "testSecretKeyValue0002"}

// fixedNow is the clock of the test clients: its window is the one of the
// §1.2 vectors (1700000000;1700003600).
func fixedNow() time.Time { return unix(1700000060) }

// checkSDKSignature rebuilds a received request and checks that the SDK,
// signing it for the same window, produces the Authorization it carries.
func checkSDKSignature(t *testing.T, r *http.Request, creds Credentials) {
	t.Helper()
	got := r.Header.Get("Authorization")
	fields, err := url.ParseQuery(strings.ReplaceAll(got, ";", "%3B"))
	if err != nil {
		t.Errorf("Authorization %q: %v", got, err)
		return
	}
	startS, endS, _ := strings.Cut(fields.Get("q-sign-time"), ";")
	start, _ := strconv.ParseInt(startS, 10, 64)
	end, _ := strconv.ParseInt(endS, 10, 64)
	req, err := http.NewRequest(r.Method, "http://"+r.Host+r.RequestURI, nil)
	if err != nil {
		t.Errorf("rebuild %s %s: %v", r.Method, r.RequestURI, err)
		return
	}
	for k, vs := range r.Header {
		if k != "Authorization" {
			req.Header[k] = vs
		}
	}
	if want := sdkAuthorization(req, creds, unix(start), unix(end)); got != want {
		t.Errorf("%s %s: Authorization =\n%s\nSDK:\n%s", r.Method, r.RequestURI, got, want)
	}
}

type captured struct {
	method, rawQuery, path, rawPath, host string
	query                                 url.Values
	header                                http.Header
}

// fakeServer answers every request with h after checking its signature
// with the SDK and recording it.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []captured
}

func newFake(t *testing.T, creds Credentials, h http.HandlerFunc) *fakeServer {
	t.Helper()
	f := &fakeServer{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checkSDKSignature(t, r, creds)
		q, _ := url.ParseQuery(r.URL.RawQuery)
		f.mu.Lock()
		f.reqs = append(f.reqs, captured{r.Method, r.URL.RawQuery, r.URL.Path, r.URL.RawPath, r.Host, q, r.Header.Clone()})
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) last(t *testing.T) captured {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("server got no request")
	}
	return f.reqs[len(f.reqs)-1]
}

func newTestClient(t *testing.T, endpoint string, creds Credentials) *Client {
	t.Helper()
	c, err := NewClient(Config{CIEndpoint: endpoint, COSEndpoint: endpoint, Credentials: creds, Now: fixedNow})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func okTrigger(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Ci-Request-Id", "header-request-id")
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><RequestId>NjJmMWQxYjNfOTBmYTUwNjRfNWYyY18x</RequestId><InstanceId>i6fc78ca77d6011eba0ac5254008618d9=</InstanceId></Response>`)
}

func TestTriggerWireForm(t *testing.T) {
	f := newFake(t, testCreds, okTrigger)
	c := newTestClient(t, f.URL, testCreds)
	tests := []struct {
		name      string
		in        TriggerInput
		wantQuery string
	}{
		{"plain", TriggerInput{WorkflowID: wfID, Key: "input/video.mp4"},
			"object=input%2Fvideo.mp4&workflowId=" + wfID},
		{"space plus percent chinese", TriggerInput{WorkflowID: wfID, Key: "media/my video+final 100%/视频 1.mp4"},
			"object=media%2Fmy%20video%2Bfinal%20100%25%2F%E8%A7%86%E9%A2%91%201.mp4&workflowId=" + wfID},
		{"encoded-looking key", TriggerInput{WorkflowID: wfID, Key: "a%20b%2Bc+d"},
			"object=a%2520b%252Bc%2Bd&workflowId=" + wfID},
		{"reserved characters", TriggerInput{WorkflowID: wfID, Key: "x&y=z?#;!'()*~"},
			"object=x%26y%3Dz%3F%23%3B%21%27%28%29%2A~&workflowId=" + wfID},
		{"with name", TriggerInput{WorkflowID: wfID, Key: "a.mp4", Name: "backfill-1"},
			"name=backfill-1&object=a.mp4&workflowId=" + wfID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Trigger(context.Background(), tt.in)
			if err != nil {
				t.Fatalf("Trigger(%q) error: %v", tt.in.Key, err)
			}
			if want := (TriggerResult{InstanceID: "i6fc78ca77d6011eba0ac5254008618d9=", RequestID: "NjJmMWQxYjNfOTBmYTUwNjRfNWYyY18x"}); res != want {
				t.Errorf("Trigger(%q) = %+v, want %+v", tt.in.Key, res, want)
			}
			got := f.last(t)
			if got.method != "POST" || got.path != "/triggerworkflow" {
				t.Errorf("request = %s %s, want POST /triggerworkflow", got.method, got.path)
			}
			if got.rawQuery != tt.wantQuery {
				t.Errorf("Trigger(%q) query = %q, want %q", tt.in.Key, got.rawQuery, tt.wantQuery)
			}
			if k := got.query.Get("object"); k != tt.in.Key {
				t.Errorf("Trigger(%q): server decoded object %q", tt.in.Key, k)
			}
			if _, ok := got.query["name"]; ok != (tt.in.Name != "") {
				t.Errorf("Trigger(%q): name sent = %v, want %v", tt.in.Key, ok, tt.in.Name != "")
			}
			if cl := got.header.Get("Content-Length"); cl != "0" {
				t.Errorf("Content-Length = %q, want 0", cl)
			}
			wantList := "q-header-list=content-length;host&q-url-param-list=object;workflowid&"
			if tt.in.Name != "" {
				wantList = "q-header-list=content-length;host&q-url-param-list=name;object;workflowid&"
			}
			if a := got.header.Get("Authorization"); !strings.Contains(a, wantList) || !strings.Contains(a, "q-sign-time=1700000000;1700003600&") {
				t.Errorf("Authorization = %q, want %q and the fixed window", a, wantList)
			}
		})
	}
}

// TestTriggerHostOverrideAndToken checks Config.Host, the STS token header
// and User-Agent; the fake server checks the signature with the SDK.
func TestTriggerHostOverrideAndToken(t *testing.T) {
	sts := Credentials{SecretID: docCreds.SecretID, SecretKey: docCreds.SecretKey, SessionToken: "EXAMPLE-STS-TOKEN"}
	f := newFake(t, sts, okTrigger)
	c, err := NewClient(Config{CIEndpoint: f.URL, Credentials: sts, Now: fixedNow, Host: ciHost, UserAgent: "wftrigger-test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Trigger(context.Background(), TriggerInput{WorkflowID: wfID, Key: "input/video.mp4"}); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	got := f.last(t)
	if got.host != ciHost {
		t.Errorf("Host = %q, want %q", got.host, ciHost)
	}
	if tok := got.header.Get("X-Cos-Security-Token"); tok != "EXAMPLE-STS-TOKEN" {
		t.Errorf("x-cos-security-token = %q, want EXAMPLE-STS-TOKEN", tok)
	}
	if ua := got.header.Get("User-Agent"); ua != "wftrigger-test" {
		t.Errorf("User-Agent = %q, want wftrigger-test", ua)
	}
	if a := got.header.Get("Authorization"); !strings.Contains(a, "q-header-list=content-length;host;x-cos-security-token&") {
		t.Errorf("Authorization = %q, want the token signed", a)
	}
}

func TestTriggerResponses(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		header    string // x-ci-request-id
		want      TriggerResult
		uncertain bool
	}{
		{"doc sample", `<Response><RequestId>r1</RequestId><InstanceId>i1=</InstanceId></Response>`, "h", TriggerResult{"i1=", "r1"}, false},
		{"request id from header", `<Response><InstanceId>i2</InstanceId></Response>`, "h2", TriggerResult{"i2", "h2"}, false},
		{"entities via encoding/xml", `<Response><InstanceId>i&amp;3</InstanceId><!-- c --><RequestId><![CDATA[r3]]></RequestId></Response>`, "", TriggerResult{"i&3", "r3"}, false},
		{"no instance id", `<Response><RequestId>r4</RequestId></Response>`, "", TriggerResult{}, true},
		{"not xml", `OK`, "", TriggerResult{}, true},
		{"wrong root", `<Error><InstanceId>x</InstanceId></Error>`, "", TriggerResult{}, true},
		{"empty", ``, "", TriggerResult{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
				if tt.header != "" {
					w.Header().Set("X-Ci-Request-Id", tt.header)
				}
				io.WriteString(w, tt.body)
			})
			c := newTestClient(t, f.URL, testCreds)
			res, err := c.Trigger(context.Background(), TriggerInput{WorkflowID: "w", Key: "k"})
			if tt.uncertain {
				var te *TransportError
				if !errors.As(err, &te) || !Uncertain(err) || ClassOf(err) != Retryable {
					t.Fatalf("Trigger(body %q) = %+v, %v; want an uncertain *TransportError", tt.body, res, err)
				}
				return
			}
			if err != nil || res != tt.want {
				t.Errorf("Trigger(body %q) = %+v, %v; want %+v", tt.body, res, err, tt.want)
			}
		})
	}
}

func TestTriggerInputErrors(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1", testCreds)
	for _, in := range []TriggerInput{{Key: "k"}, {WorkflowID: "w"}} {
		_, err := c.Trigger(context.Background(), in)
		if err == nil || ClassOf(err) != Permanent {
			t.Errorf("Trigger(%+v) = %v (class %v), want a Permanent error", in, err, ClassOf(err))
		}
	}
	cos, err := NewClient(Config{COSEndpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cos.Trigger(context.Background(), TriggerInput{WorkflowID: "w", Key: "k"}); err == nil {
		t.Errorf("Trigger without CI endpoint: no error")
	}
}

func TestAPIErrors(t *testing.T) {
	const secretEcho = "The key testSecretKeyValue0002 and id AKIDtestSecretID0001 do not match"
	tests := []struct {
		name       string
		status     int
		headers    map[string]string
		body       string
		want       APIError
		class      Class
		retryAfter time.Duration
	}{
		{"xml access denied", 403, map[string]string{"X-Ci-Request-Id": "hdr"},
			`<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied.</Message><RequestId>body-id</RequestId><TraceId>t</TraceId></Error>`,
			APIError{Op: "trigger", HTTPStatus: 403, Code: "AccessDenied", Message: "Access Denied.", RequestID: "body-id"}, Permanent, 0},
		{"signature mismatch, secret echoed", 403, map[string]string{"X-Cos-Request-Id": "cos-id"},
			`<Error><Code>SignatureDoesNotMatch</Code><Message>` + secretEcho + `</Message></Error>`,
			APIError{Op: "trigger", HTTPStatus: 403, Code: "SignatureDoesNotMatch", Message: "The key [REDACTED] and id [REDACTED] do not match", RequestID: "cos-id"}, Fatal, 0},
		{"json error", 400, nil,
			`{"code":"InvalidArgument","message":"bad object","request_id":"json-id"}`,
			APIError{Op: "trigger", HTTPStatus: 400, Code: "InvalidArgument", Message: "bad object", RequestID: "json-id"}, Permanent, 0},
		{"unknown workflow", 400, nil,
			`<Error><Code>InvalidArgument</Code><Message>WorkflowId is invalid</Message></Error>`,
			APIError{Op: "trigger", HTTPStatus: 400, Code: "InvalidArgument", Message: "WorkflowId is invalid"}, Fatal, 0},
		{"no such workflow", 404, nil,
			`<Error><Code>NoSuchWorkflow</Code><Message>not found</Message></Error>`,
			APIError{Op: "trigger", HTTPStatus: 404, Code: "NoSuchWorkflow", Message: "not found"}, Fatal, 0},
		{"missing input object", 400, nil,
			`<Error><Code>ResourceNotFound</Code><Message>input object not found</Message></Error>`,
			APIError{Op: "trigger", HTTPStatus: 400, Code: "ResourceNotFound", Message: "input object not found"}, Permanent, 0},
		{"throttled with seconds", 429, map[string]string{"Retry-After": "7", "X-Ci-Request-Id": "r"}, `slow down`,
			APIError{Op: "trigger", HTTPStatus: 429, Message: "slow down", RequestID: "r", RetryAfter: 7 * time.Second}, Retryable, 7 * time.Second},
		{"503 with http date", 503, map[string]string{"Retry-After": fixedNow().Add(90 * time.Second).UTC().Format(http.TimeFormat)},
			`<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`,
			APIError{Op: "trigger", HTTPStatus: 503, Code: "SlowDown", Message: "Please reduce your request rate.", RetryAfter: 90 * time.Second}, Retryable, 90 * time.Second},
		{"unparsable 502", 502, nil, strings.Repeat("x", 300),
			APIError{Op: "trigger", HTTPStatus: 502, Message: strings.Repeat("x", 200)}, Retryable, 0},
		{"empty 500", 500, nil, ``, APIError{Op: "trigger", HTTPStatus: 500}, Retryable, 0},
		{"expired token", 400, nil, `<Error><Code>ExpiredToken</Code><Message>token expired</Message></Error>`,
			APIError{Op: "trigger", HTTPStatus: 400, Code: "ExpiredToken", Message: "token expired"}, Fatal, 0},
		{"request expired, re-signed once, then the clock", 403, nil, `<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`,
			APIError{Op: "trigger", HTTPStatus: 403, Code: "AccessDenied", Message: "Request has expired", Clock: true}, Fatal, 0},
		{"redirect", 301, map[string]string{"Location": "https://elsewhere/"}, `<Error><Code>PermanentRedirect</Code><Message>use the right region</Message></Error>`,
			APIError{Op: "trigger", HTTPStatus: 301, Code: "PermanentRedirect", Message: "use the right region"}, Fatal, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			c := newTestClient(t, f.URL, testCreds)
			_, err := c.Trigger(context.Background(), TriggerInput{WorkflowID: "w", Key: "k"})
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("Trigger = %v, want *APIError", err)
			}
			if ae.WorkflowID != "w" {
				t.Errorf("Trigger error WorkflowID = %q, want the call's %q", ae.WorkflowID, "w")
			}
			got := *ae
			got.WorkflowID = ""
			if got != tt.want {
				t.Errorf("Trigger error = %+v, want %+v", got, tt.want)
			}
			if got := ClassOf(err); got != tt.class {
				t.Errorf("ClassOf(%v) = %v, want %v", err, got, tt.class)
			}
			if got := RetryAfter(err); got != tt.retryAfter {
				t.Errorf("RetryAfter(%v) = %v, want %v", err, got, tt.retryAfter)
			}
			if Uncertain(err) {
				t.Errorf("Uncertain(%v) = true, want false", err)
			}
			if msg := err.Error(); strings.Contains(msg, testCreds.SecretKey) || strings.Contains(msg, testCreds.SecretID) {
				t.Errorf("error %q holds a secret", msg)
			}
		})
	}
}

func TestAPIErrorString(t *testing.T) {
	tests := []struct {
		e    APIError
		want string
	}{
		{APIError{Op: "trigger", HTTPStatus: 403, Code: "AccessDenied", Message: "message", RequestID: "X"}, "trigger: 403 AccessDenied: message (request id X)"},
		{APIError{Op: "list", HTTPStatus: 502}, "list: 502"},
		{APIError{Op: "get", HTTPStatus: 404, Code: "NoSuchKey"}, "get: 404 NoSuchKey"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestClassOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, 0},
		{"canceled", context.Canceled, Fatal},
		{"wrapped canceled transport", &TransportError{Op: "trigger", Err: &url.Error{Op: "Post", URL: "u", Err: context.Canceled}}, Fatal},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), Retryable},
		{"transport", &TransportError{Op: "trigger", Err: io.ErrUnexpectedEOF}, Retryable},
		{"api wrapped", fmt.Errorf("run: %w", &APIError{HTTPStatus: 404, Code: "NoSuchBucket"}), Fatal},
		{"unknown", errors.New("boom"), Retryable},
	}
	for _, tt := range tests {
		if got := ClassOf(tt.err); got != tt.want {
			t.Errorf("ClassOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestTransportErrorSent: a server that reads the request and hangs up
// leaves the outcome unknown; a port nobody listens on does not.
func TestTransportErrorSent(t *testing.T) {
	hangUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	}))
	defer hangUp.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name     string
		endpoint string
		sent     bool
	}{
		{"server hangs up after reading", hangUp.URL, true},
		{"nothing listens", closed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, tt.endpoint, testCreds)
			_, err := c.Trigger(context.Background(), TriggerInput{WorkflowID: "w", Key: "k"})
			var te *TransportError
			if !errors.As(err, &te) {
				t.Fatalf("Trigger = %v, want *TransportError", err)
			}
			if te.Sent != tt.sent || Uncertain(err) != tt.sent {
				t.Errorf("Trigger error %v: Sent = %v, Uncertain = %v, want %v", err, te.Sent, Uncertain(err), tt.sent)
			}
			if ClassOf(err) != Retryable {
				t.Errorf("ClassOf(%v) = %v, want retryable", err, ClassOf(err))
			}
			if strings.Contains(err.Error(), testCreds.SecretKey) {
				t.Errorf("error %q holds the secret key", err)
			}
		})
	}
}

func TestTriggerCanceled(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1", testCreds)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Trigger(ctx, TriggerInput{WorkflowID: "w", Key: "k"})
	if ClassOf(err) != Fatal || !errors.Is(err, context.Canceled) {
		t.Errorf("Trigger(canceled ctx) = %v (class %v), want context.Canceled, fatal", err, ClassOf(err))
	}
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"ci only", Config{CIEndpoint: CIEndpoint("media-1250000000", "ap-guangzhou")}, false},
		{"both loopback", Config{CIEndpoint: "http://127.0.0.1:8080", COSEndpoint: "http://127.0.0.1:8080/"}, false},
		{"none", Config{}, true},
		{"bad scheme", Config{CIEndpoint: "ftp://x"}, true},
		{"no host", Config{CIEndpoint: "http://"}, true},
		{"query", Config{COSEndpoint: "http://x/?a=b"}, true},
		{"user info", Config{COSEndpoint: "https://id:key@x/"}, true},
		{"not a url", Config{CIEndpoint: "::"}, true},
	}
	for _, tt := range tests {
		_, err := NewClient(tt.cfg)
		if (err != nil) != tt.wantErr {
			t.Errorf("NewClient(%s) error = %v, want error %v", tt.name, err, tt.wantErr)
		}
	}
	if got, want := CIEndpoint("media-1250000000", "ap-guangzhou"), "https://media-1250000000.ci.ap-guangzhou.myqcloud.com"; got != want {
		t.Errorf("CIEndpoint = %q, want %q", got, want)
	}
	if got, want := COSEndpoint("media-1250000000", "ap-guangzhou"), "https://media-1250000000.cos.ap-guangzhou.myqcloud.com"; got != want {
		t.Errorf("COSEndpoint = %q, want %q", got, want)
	}
}

func TestGetObject(t *testing.T) {
	key := "dir/my video+final 100%/视频 1.mp4"
	f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.Header().Set("X-Cos-Request-Id", "cos-req")
			w.WriteHeader(404)
			io.WriteString(w, `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
			return
		}
		io.WriteString(w, "content of "+r.URL.Path)
	})
	c := newTestClient(t, f.URL, testCreds)
	rc, err := c.GetObject(context.Background(), key)
	if err != nil {
		t.Fatalf("GetObject(%q): %v", key, err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if want := "content of /" + key; string(b) != want {
		t.Errorf("GetObject(%q) = %q, want %q", key, b, want)
	}
	got := f.last(t)
	if want := "/dir/my%20video%2Bfinal%20100%25/%E8%A7%86%E9%A2%91%201.mp4"; got.rawPath != want {
		t.Errorf("GetObject(%q) path on the wire = %q, want %q", key, got.rawPath, want)
	}
	_, err = c.GetObject(context.Background(), "missing")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Op != "get" || ae.Code != "NoSuchKey" || ae.RequestID != "cos-req" || ClassOf(err) != Permanent {
		t.Errorf("GetObject(missing) = %v, want a permanent get NoSuchKey *APIError with request id", err)
	}
}

func TestAPIErrorClass(t *testing.T) {
	tests := []struct {
		status int
		code   string
		msg    string
		want   Class
	}{
		{500, "InternalError", "", Retryable},
		{503, "ServiceUnavailable", "", Retryable},
		{503, "SlowDown", "", Retryable},
		{400, "RequestLimitExceeded", "", Retryable},
		{400, "ResourceDownloadFailed", "", Retryable},
		{403, "RequestTimeTooSkewed", "", Retryable},
		{429, "", "", Retryable},
		{502, "", "bad gateway", Retryable},
		{403, "SignatureDoesNotMatch", "", Fatal},
		{403, "InvalidAccessKeyId", "", Fatal},
		{400, "CIRoleNotExist", "", Fatal},
		{404, "NoSuchBucket", "", Fatal},
		{400, "ExpiredToken", "", Fatal},
		{400, "InvalidHost", "", Fatal},
		{307, "TemporaryRedirect", "", Fatal},
		{301, "", "", Fatal},
		{400, "InvalidArgument", "workflow w1 does not exist", Fatal},
		{400, "ResourceNotFound", "The Workflow is not found", Permanent}, // names no workflow id: a missing input
		{404, "WorkflowNotExist", "", Fatal},
		{400, "InvalidArgument", "object key is invalid", Permanent},
		{400, "ResourceNotFound", "input object not found", Permanent},
		{403, "AccessDenied", "Access Denied.", Permanent},
		{404, "NoSuchKey", "", Permanent},
		{400, "BadRequest", "", Permanent},
		{403, "InvalidObjectState", "", Permanent},
		// CI's documented answers (reference §3).
		{401, "SecretidNotExist", "", Fatal},
		{401, "InvalidAuthorization", "", Fatal},
		{401, "MissingAuthorization", "", Fatal},
		{401, "SignatureExpired", "", Retryable}, // one answer: a fresh signature may do
		{401, "AccessDenied", "", Permanent},
		{503, "", "", Retryable},
	}
	for _, tt := range tests {
		e := &APIError{Op: "trigger", HTTPStatus: tt.status, Code: tt.code, Message: tt.msg}
		if got := e.Class(); got != tt.want {
			t.Errorf("Class(%d %s %q) = %v, want %v", tt.status, tt.code, tt.msg, got, tt.want)
		}
	}
	// ResourceNotFound is fatal only when it names the call's workflow id.
	e := &APIError{Op: "trigger", HTTPStatus: 400, Code: "ResourceNotFound", Message: "workflow w0123abcd not found", WorkflowID: "w0123abcd"}
	if got := e.Class(); got != Fatal {
		t.Errorf("Class(%+v) = %v, want fatal", *e, got)
	}
}

// expiringContext is a context whose deadline the test fires by hand.
type expiringContext struct {
	context.Context
	done chan struct{}
}

func (c expiringContext) Done() <-chan struct{} { return c.done }

func (c expiringContext) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// TestTriggerCallTimeout: a per-call deadline that expires after the
// request was sent is retryable and uncertain. The deadline fires from a
// WroteRequest hook, so the test does not depend on timing.
func TestTriggerCallTimeout(t *testing.T) {
	f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answer
	})
	c := newTestClient(t, f.URL, testCreds)
	ctx := expiringContext{context.Background(), make(chan struct{})}
	var once sync.Once
	traced := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(func() { close(ctx.done) }) },
	})
	_, err := c.Trigger(traced, TriggerInput{WorkflowID: "w", Key: "k"})
	if !errors.Is(err, context.DeadlineExceeded) || ClassOf(err) != Retryable || !Uncertain(err) {
		t.Errorf("Trigger(timed out) = %v (class %v, uncertain %v), want a retryable, uncertain DeadlineExceeded", err, ClassOf(err), Uncertain(err))
	}
}

func TestThrottled(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&APIError{HTTPStatus: 503, Code: "SlowDown"}, true},
		{&APIError{HTTPStatus: 429}, true},
		{&APIError{HTTPStatus: 400, Code: "RequestLimitExceeded"}, true},
		{&APIError{HTTPStatus: 500, Code: "InternalError"}, false},
		{&APIError{HTTPStatus: 403, Code: "AccessDenied"}, false},
		{&TransportError{Op: "trigger", Err: io.EOF}, false},
		{&APIError{HTTPStatus: 503}, true},
		{&APIError{HTTPStatus: 503, Code: "ServiceUnavailable"}, true},
		{&APIError{HTTPStatus: 401, Code: "SignatureExpired"}, false},
	}
	for _, tt := range tests {
		if got := Throttled(tt.err); got != tt.want {
			t.Errorf("Throttled(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
