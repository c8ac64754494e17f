package emulator

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	cos "github.com/tencentyun/cos-go-sdk-v5"
)

func TestTrigger(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		target  string
		status  int
		code    string
		message string
	}{
		{"ok", "POST", triggerTarget(testWorkflow, "input/video.mp4"), 200, "", ""},
		{"ok with name", "POST", triggerTarget(testWorkflow, "input/video.mp4") + "&name=task_1", 200, "", ""},
		{"unknown workflow", "POST", triggerTarget("wother", "a.mp4"), 400, "InvalidArgument", "workflow wother does not exist"},
		{"denied prefix", "POST", triggerTarget(testWorkflow, "private/a.mp4"), 403, "AccessDenied", ""},
		{"missing object", "POST", "/triggerworkflow?workflowId=" + testWorkflow + "&name=x", 400, "InvalidArgument", "object is required"},
		{"empty object", "POST", "/triggerworkflow?workflowId=" + testWorkflow + "&object=", 400, "InvalidArgument", "object is required"},
		{"missing workflow", "POST", "/triggerworkflow?object=a.mp4", 400, "InvalidArgument", "workflowId is required"},
		{"leading slash", "POST", triggerTarget(testWorkflow, "/a.mp4"), 400, "InvalidArgument", ""},
		{"key too long", "POST", triggerTarget(testWorkflow, strings.Repeat("k", 851)), 400, "InvalidArgument", ""},
		{"wrong method", "GET", triggerTarget(testWorkflow, "a.mp4"), 405, "MethodNotAllowed", ""},
		{"malformed query", "POST", triggerTarget(testWorkflow, "a.mp4") + "&x=%zz", 400, "InvalidArgument", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := newTestServer(t, func(c *Config) { c.DenyPrefixes = []string{"private/", "secret/"} })
			w := serve(s, signed(tt.method, tt.target, clock.Now()))
			if w.Code != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.target, w.Code, w.Body, tt.status)
			}
			rid := w.Header().Get("x-ci-request-id")
			if rid == "" {
				t.Errorf("%s %s: no x-ci-request-id", tt.method, tt.target)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/xml" {
				t.Errorf("%s %s: Content-Type = %q, want application/xml", tt.method, tt.target, ct)
			}
			if tt.status != 200 {
				e := decodeError(t, w.Body.Bytes())
				if e.Code != tt.code || tt.message != "" && e.Message != tt.message || e.RequestId != rid || e.Resource != "" {
					t.Errorf("%s %s = %+v, want code %q message %q request id %q, no Resource", tt.method, tt.target, e, tt.code, tt.message, rid)
				}
				if n := len(s.Triggers()); n != 0 {
					t.Errorf("%s %s recorded %d triggers, want 0", tt.method, tt.target, n)
				}
				if st := s.Stats(); st.Rejected != 1 || st.Accepted != 0 {
					t.Errorf("%s %s: Stats = %+v, want Rejected 1, Accepted 0", tt.method, tt.target, st)
				}
				return
			}
			var resp xmlTriggerResponse
			if err := xml.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatalf("decode %q: %v", w.Body, err)
			}
			if resp.RequestId != rid || !isInstanceID(resp.InstanceId) {
				t.Errorf("%s %s = %+v, want request id %q and InstanceId i+32 hex", tt.method, tt.target, resp, rid)
			}
			trs := s.Triggers()
			if len(trs) != 1 || trs[0].InstanceID != resp.InstanceId || trs[0].Key != "input/video.mp4" || !trs[0].At.Equal(clock.Now()) {
				t.Errorf("Triggers() = %+v, want one trigger of input/video.mp4 with %s", trs, resp.InstanceId)
			}
		})
	}
}

func isInstanceID(s string) bool {
	if len(s) != 33 || s[0] != 'i' {
		return false
	}
	for _, c := range s[1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func TestTriggerUnsignedParams(t *testing.T) {
	s, clock := newTestServer(t, nil)
	r := signed("POST", "/triggerworkflow?workflowId="+testWorkflow, clock.Now())
	r.URL.RawQuery += "&object=a.mp4" // on the wire, not signed
	w := serve(s, r)
	if e := decodeError(t, w.Body.Bytes()); w.Code != 403 || e.Code != "AccessDenied" {
		t.Errorf("trigger with unsigned object = %d %+v, want 403 AccessDenied", w.Code, e)
	}
}

func TestTriggerKeyDecoding(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		{"percent space", "object=my%20video%2Bfinal%20100%25.mp4", "my video+final 100%.mp4"},
		{"plus space", "object=my+video%2Bfinal+100%25.mp4", "my video+final 100%.mp4"},
		{"literal %20", "object=odd%2520name.mp4", "odd%20name.mp4"},
		{"chinese and slash", "object=%E5%AA%92%E4%BD%93%2F%E8%A7%86%E9%A2%91+1.mp4", "媒体/视频 1.mp4"},
		{"raw slash", "object=a/b/c.mp4", "a/b/c.mp4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := newTestServer(t, nil)
			w := serve(s, signed("POST", "/triggerworkflow?workflowId="+testWorkflow+"&"+tt.query, clock.Now()))
			if w.Code != 200 {
				t.Fatalf("trigger %s = %d %s, want 200", tt.query, w.Code, w.Body)
			}
			if trs := s.Triggers(); len(trs) != 1 || trs[0].Key != tt.want {
				t.Errorf("trigger %s recorded %+v, want key %q", tt.query, trs, tt.want)
			}
		})
	}
}

func TestTriggerCounts(t *testing.T) {
	s, clock := newTestServer(t, func(c *Config) { c.Workflows = []string{testWorkflow, "w2"} })
	calls := []TriggerKey{{testWorkflow, "a.mp4"}, {testWorkflow, "b.mp4"}, {testWorkflow, "a.mp4"}, {"w2", "a.mp4"}}
	for _, c := range calls {
		if w := serve(s, signed("POST", triggerTarget(c.WorkflowID, c.Key), clock.Now())); w.Code != 200 {
			t.Fatalf("trigger %v = %d %s", c, w.Code, w.Body)
		}
		clock.Advance(time.Second)
	}
	want := map[TriggerKey]int{{testWorkflow, "a.mp4"}: 2, {testWorkflow, "b.mp4"}: 1, {"w2", "a.mp4"}: 1}
	if got := s.TriggerCounts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("TriggerCounts() = %v, want %v", got, want)
	}
	trs := s.Triggers()
	seen := map[string]bool{}
	for i, tr := range trs {
		if tr.WorkflowID != calls[i].WorkflowID || tr.Key != calls[i].Key || seen[tr.InstanceID] {
			t.Errorf("Triggers()[%d] = %+v, want %v with a fresh instance id", i, tr, calls[i])
		}
		seen[tr.InstanceID] = true
	}
	if st := s.Stats(); st.Accepted != 4 || st.Requests != 4 {
		t.Errorf("Stats() = %+v, want Accepted 4, Requests 4", st)
	}
}

func TestAnyWorkflowWhenNoneConfigured(t *testing.T) {
	s, clock := newTestServer(t, func(c *Config) { c.Workflows = nil })
	if w := serve(s, signed("POST", triggerTarget("wanything", "a.mp4"), clock.Now())); w.Code != 200 {
		t.Errorf("trigger of any workflow = %d %s, want 200", w.Code, w.Body)
	}
}

func TestFaultRates(t *testing.T) {
	s, clock := newTestServer(t, func(c *Config) {
		c.Trigger = Faults{ErrorRate: 0.2, SlowDownRate: 0.1}
	})
	const n = 3000
	codes := map[int]int{}
	for i := range n {
		w := serve(s, signed("POST", triggerTarget(testWorkflow, fmt.Sprintf("k%d.mp4", i)), clock.Now()))
		codes[w.Code]++
		if w.Code != 200 {
			e := decodeError(t, w.Body.Bytes())
			if want := map[int]string{500: "InternalError", 503: "SlowDown"}[w.Code]; e.Code != want {
				t.Fatalf("fault answer %d %+v, want code %q", w.Code, e, want)
			}
		}
	}
	within := func(got int, rate float64) bool {
		return float64(got) > rate*n*0.7 && float64(got) < rate*n*1.3
	}
	if !within(codes[500], 0.2) || !within(codes[503], 0.1) || codes[200]+codes[500]+codes[503] != n {
		t.Errorf("answers = %v, want about %d 500s and %d 503s", codes, n/5, n/10)
	}
	st := s.Stats()
	if st.Faults != int64(codes[500]+codes[503]) || st.Accepted != int64(codes[200]) || len(s.Triggers()) != codes[200] {
		t.Errorf("Stats() = %+v with answers %v, want Faults and Accepted to match", st, codes)
	}

	// The same seed gives the same answers.
	s2, _ := newTestServer(t, func(c *Config) { c.Trigger = Faults{ErrorRate: 0.2, SlowDownRate: 0.1} })
	codes2 := map[int]int{}
	for i := range n {
		codes2[serve(s2, signed("POST", triggerTarget(testWorkflow, fmt.Sprintf("k%d.mp4", i)), clock.Now())).Code]++
	}
	if fmt.Sprint(codes) != fmt.Sprint(codes2) {
		t.Errorf("answers with the same seed = %v, then %v", codes, codes2)
	}

	// SetFaults turns them off; listings have their own.
	s.SetFaults(Faults{}, Faults{ErrorRate: 1})
	if w := serve(s, signed("POST", triggerTarget(testWorkflow, "x.mp4"), clock.Now())); w.Code != 200 {
		t.Errorf("trigger after SetFaults(none) = %d, want 200", w.Code)
	}
	if w := serve(s, signed("GET", "/?prefix=a", clock.Now())); w.Code != 500 || decodeError(t, w.Body.Bytes()).Resource == "" {
		t.Errorf("list with ErrorRate 1 = %d %s, want 500 with a Resource", w.Code, w.Body)
	}
}

func TestQPS(t *testing.T) {
	s, clock := newTestServer(t, func(c *Config) { c.Trigger = Faults{QPS: 1} })
	codes := map[int]int{}
	for i := range 200 {
		codes[serve(s, signed("POST", triggerTarget(testWorkflow, fmt.Sprintf("k%d", i)), clock.Now())).Code]++
	}
	// 200 calls cannot all fit in 1 call a second unless they took minutes.
	if codes[200] < 1 || codes[503] < 1 || codes[200]+codes[503] != 200 {
		t.Errorf("answers at QPS 1 = %v, want some 200 and some 503", codes)
	}
}

func TestLatencyHonoursCancel(t *testing.T) {
	s, clock := newTestServer(t, func(c *Config) { c.Trigger = Faults{Latency: time.Hour} })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := signed("POST", triggerTarget(testWorkflow, "a.mp4"), clock.Now()).WithContext(ctx)
	w := serve(s, r)
	if w.Body.Len() != 0 || len(s.Triggers()) != 0 {
		t.Errorf("cancelled slow trigger answered %q and recorded %d, want nothing", w.Body, len(s.Triggers()))
	}
}

// startServer serves s on loopback until the test ends.
func startServer(t *testing.T, s *Server) string {
	t.Helper()
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return base
}

// signingTransport signs requests with the test signer.
type signingTransport struct {
	now func() time.Time
}

func (st signingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	headers := []string{}
	if r.Method == "POST" {
		r.Header.Set("Content-Length", "0")
		headers = append(headers, "content-length")
	}
	testSign(r, testID, testKey, st.now().Add(-time.Minute), st.now().Add(time.Hour), headers...)
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	return tr.RoundTrip(r)
}

func TestResetOverHTTP(t *testing.T) {
	s, _ := newTestServer(t, func(c *Config) {
		c.Now = nil
		c.Trigger = Faults{ResetRate: 1}
		c.List = Faults{ResetRate: 1}
	})
	base := startServer(t, s)
	client := &http.Client{Transport: signingTransport{time.Now}}
	const n = 40
	for i := range n {
		resp, err := client.Post(base+triggerTarget(testWorkflow, fmt.Sprintf("k%d.mp4", i)), "", nil)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("trigger with ResetRate 1 = %s, want a connection error", resp.Status)
		}
	}
	if _, err := client.Get(base + "/?prefix=a"); err == nil {
		t.Errorf("list with ResetRate 1 succeeded, want a connection error")
	}
	st := s.Stats()
	if st.Accepted < 1 || st.Accepted >= n || st.Faults != n+1 {
		t.Errorf("Stats() = %+v, want about half of %d resets after acceptance and %d faults", st, n, n+1)
	}

	s.SetFaults(Faults{}, Faults{})
	resp, err := client.Post(base+triggerTarget(testWorkflow, "ok.mp4"), "", nil)
	if err != nil {
		t.Fatalf("trigger over HTTP: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("trigger over HTTP (Content-Length signed) = %s %s, want 200", resp.Status, body)
	}
}

// TestSDKClient drives the emulator with the official SDK's client: its
// signer, its request building and its XML decoding.
func TestSDKClient(t *testing.T) {
	s, _ := newTestServer(t, func(c *Config) { c.Now = nil })
	keys := SampleKeys(50, 9)
	s.PutSample(keys, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	base := startServer(t, s)
	u, _ := url.Parse(base)
	c := cos.NewClient(&cos.BaseURL{CIURL: u, BucketURL: u}, &http.Client{
		Transport: &cos.AuthorizationTransport{SecretID: testID, SecretKey: testKey},
	})
	ctx := context.Background()
	for _, key := range keys[:10] {
		res, _, err := c.CI.TriggerWorkflow(ctx, &cos.TriggerWorkflowOptions{WorkflowId: testWorkflow, Object: key, Name: "sdk"})
		if err != nil {
			t.Fatalf("SDK TriggerWorkflow(%q): %v", key, err)
		}
		if !isInstanceID(res.InstanceId) || res.RequestId == "" {
			t.Errorf("SDK TriggerWorkflow(%q) = %+v, want an instance id and a request id", key, res)
		}
	}
	for i, tr := range s.Triggers() {
		if tr.Key != keys[i] || tr.Name != "sdk" {
			t.Errorf("Triggers()[%d] = %+v, want key %q", i, tr, keys[i])
		}
	}
	var got []string
	marker := ""
	for {
		res, _, err := c.Bucket.Get(ctx, &cos.BucketGetOptions{Marker: marker, MaxKeys: 7, EncodingType: "url"})
		if err != nil {
			t.Fatalf("SDK Bucket.Get: %v", err)
		}
		for _, o := range res.Contents {
			k, err := cos.DecodeURIComponent(o.Key)
			if err != nil {
				t.Fatalf("decode %q: %v", o.Key, err)
			}
			got = append(got, k)
		}
		if !res.IsTruncated {
			break
		}
		if marker, _ = cos.DecodeURIComponent(res.NextMarker); marker == "" {
			t.Fatalf("truncated page without NextMarker")
		}
	}
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(got, want) {
		t.Errorf("SDK listing = %q, want %q", got, want)
	}
	resp, err := c.Object.Get(ctx, keys[3], nil)
	if err != nil {
		t.Fatalf("SDK Object.Get(%q): %v", keys[3], err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(body, []byte(keys[3])) {
		t.Errorf("SDK Object.Get(%q) = %q, want the sample body", keys[3], body)
	}
	_, _, err = c.CI.TriggerWorkflow(ctx, &cos.TriggerWorkflowOptions{WorkflowId: "wnope", Object: "a.mp4"})
	if e, ok := cos.IsCOSError(err); !ok || e.Code != "InvalidArgument" || e.Response.StatusCode != 400 {
		t.Errorf("SDK TriggerWorkflow(unknown workflow) = %v, want a 400 InvalidArgument COS error", err)
	}
}

type xmlList struct {
	Name           string
	EncodingType   string
	Prefix         string
	Marker         string
	MaxKeys        int
	Delimiter      string
	IsTruncated    bool
	NextMarker     *string
	CommonPrefixes []struct{ Prefix string }
	Contents       []struct {
		Key          string
		LastModified string
		ETag         string
		Size         int64
		StorageClass string
	}
}

func list(t *testing.T, s *Server, now time.Time, query string) xmlList {
	t.Helper()
	w := serve(s, signed("GET", "/?"+query, now))
	if w.Code != 200 {
		t.Fatalf("list ?%s = %d %s", query, w.Code, w.Body)
	}
	if w.Header().Get("x-cos-request-id") == "" {
		t.Errorf("list ?%s: no x-cos-request-id", query)
	}
	var l xmlList
	if err := xml.Unmarshal(w.Body.Bytes(), &l); err != nil {
		t.Fatalf("decode list: %v", err)
	}
	return l
}

func TestListPaging(t *testing.T) {
	s, clock := newTestServer(t, nil)
	var keys []string
	for i := range 2500 {
		k := fmt.Sprintf("v/%04d.mp4", (i*7919)%2500) // inserted out of order
		keys = append(keys, k)
		s.PutObject(k, []byte("x"), clock.Now())
	}
	s.PutObject("v/0001.mp4", []byte("replaced"), clock.Now()) // not a new key
	sort.Strings(keys)
	var got []string
	marker := ""
	var sizes []int
	for {
		l := list(t, s, clock.Now(), "max-keys=5000&marker="+testEncode(marker))
		if l.MaxKeys != 1000 || l.Name != "examplebucket-1250000000" {
			t.Errorf("MaxKeys = %d, Name = %q, want 1000 and the bucket", l.MaxKeys, l.Name)
		}
		sizes = append(sizes, len(l.Contents))
		for _, c := range l.Contents {
			got = append(got, c.Key)
		}
		if !l.IsTruncated {
			if l.NextMarker != nil {
				t.Errorf("last page has NextMarker %q", *l.NextMarker)
			}
			break
		}
		if l.NextMarker == nil || *l.NextMarker != got[len(got)-1] {
			t.Fatalf("truncated page NextMarker = %v, want the last key %q", l.NextMarker, got[len(got)-1])
		}
		marker = *l.NextMarker
	}
	if fmt.Sprint(sizes) != "[1000 1000 500]" || !slices.Equal(got, keys) {
		t.Errorf("pages %v of %d keys, want [1000 1000 500] of all 2500 in order", sizes, len(got))
	}
	l := list(t, s, clock.Now(), "prefix=v/0001&max-keys=1")
	if len(l.Contents) != 1 || l.Contents[0].Size != 8 || l.Contents[0].StorageClass != "STANDARD" ||
		l.Contents[0].LastModified != "2026-11-27T01:00:00.000Z" || len(l.Contents[0].ETag) != 34 || l.Contents[0].ETag[0] != '"' {
		t.Errorf("replaced object listed as %+v, want size 8, STANDARD, LastModified, quoted ETag", l.Contents)
	}
}

func TestListPrefixDelimiter(t *testing.T) {
	s, clock := newTestServer(t, nil)
	for _, k := range []string{"a.mp4", "b/1.mp4", "b/2.mp4", "b/c/3.mp4", "b/d/4.mp4", "b/d/5.mp4", "bz.mp4", "c/x.mp4", "c/y/z.mp4"} {
		s.PutObject(k, []byte(k), clock.Now())
	}
	tests := []struct {
		name, query string
		keys        []string
		prefixes    []string
		truncated   bool
		next        string
	}{
		{"all", "", []string{"a.mp4", "b/1.mp4", "b/2.mp4", "b/c/3.mp4", "b/d/4.mp4", "b/d/5.mp4", "bz.mp4", "c/x.mp4", "c/y/z.mp4"}, nil, false, ""},
		{"prefix", "prefix=b/", []string{"b/1.mp4", "b/2.mp4", "b/c/3.mp4", "b/d/4.mp4", "b/d/5.mp4"}, nil, false, ""},
		{"root delimiter", "delimiter=/", []string{"a.mp4", "bz.mp4"}, []string{"b/", "c/"}, false, ""},
		{"prefix delimiter", "prefix=b/&delimiter=/", []string{"b/1.mp4", "b/2.mp4"}, []string{"b/c/", "b/d/"}, false, ""},
		{"delimiter paged", "delimiter=/&max-keys=2", []string{"a.mp4"}, []string{"b/"}, true, "b/"},
		{"delimiter after marker", "delimiter=/&max-keys=2&marker=b/", []string{"bz.mp4"}, []string{"c/"}, false, ""},
		{"marker inside prefix", "prefix=b/&marker=b/c/3.mp4", []string{"b/d/4.mp4", "b/d/5.mp4"}, nil, false, ""},
		{"no match", "prefix=zzz", nil, nil, false, ""},
		{"max-keys 0", "max-keys=0", nil, nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := list(t, s, clock.Now(), tt.query)
			var keys, prefixes []string
			for _, c := range l.Contents {
				keys = append(keys, c.Key)
			}
			for _, p := range l.CommonPrefixes {
				prefixes = append(prefixes, p.Prefix)
			}
			next := ""
			if l.NextMarker != nil {
				next = *l.NextMarker
			}
			if !slices.Equal(keys, tt.keys) || !slices.Equal(prefixes, tt.prefixes) || l.IsTruncated != tt.truncated || next != tt.next {
				t.Errorf("list(%q) = %q %q truncated %v next %q, want %q %q %v %q",
					tt.query, keys, prefixes, l.IsTruncated, next, tt.keys, tt.prefixes, tt.truncated, tt.next)
			}
		})
	}
	for _, q := range []string{"max-keys=x", "max-keys=-1", "encoding-type=base64"} {
		if w := serve(s, signed("GET", "/?"+q, clock.Now())); w.Code != 400 {
			t.Errorf("list(%q) = %d, want 400", q, w.Code)
		}
	}
}

func TestListEncodingURL(t *testing.T) {
	s, clock := newTestServer(t, nil)
	odd := []string{"media/my video+final 100%/视频 1.mp4", "media/odd%20name.mp4", "media/q&a=1 <x>.mp4", "media/tab\there.mp4", "media/z.mp4"}
	for _, k := range odd {
		s.PutObject(k, nil, clock.Now())
	}
	var got []string
	marker := ""
	for {
		l := list(t, s, clock.Now(), "prefix=media%2F&encoding-type=url&max-keys=2&marker="+testEncode(marker))
		if l.EncodingType != "url" || l.Prefix != "media%2F" {
			t.Errorf("EncodingType %q Prefix %q, want url and media%%2F", l.EncodingType, l.Prefix)
		}
		for _, c := range l.Contents {
			k, err := url.PathUnescape(c.Key)
			if err != nil || strings.ContainsAny(c.Key, " +/<&\t") {
				t.Errorf("listed key %q is not percent-encoded", c.Key)
			}
			got = append(got, k)
		}
		if !l.IsTruncated {
			break
		}
		m, err := url.PathUnescape(*l.NextMarker)
		if err != nil || m != got[len(got)-1] {
			t.Fatalf("NextMarker %q decodes to %q, want %q", *l.NextMarker, m, got[len(got)-1])
		}
		marker = m
	}
	if !slices.Equal(got, odd) {
		t.Errorf("listed %q, want %q", got, odd)
	}
	// Without encoding-type, XML escaping alone keeps the keys (but a tab
	// survives only as a character reference).
	l := list(t, s, clock.Now(), "prefix=media%2F")
	for i, c := range l.Contents {
		if c.Key != odd[i] {
			t.Errorf("plain listing key %q, want %q", c.Key, odd[i])
		}
	}
}

func TestGetObject(t *testing.T) {
	s, clock := newTestServer(t, nil)
	mod := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	s.PutObject("dir/视频 1+2.mp4", []byte("hello"), mod)
	w := serve(s, signed("GET", "/dir/%E8%A7%86%E9%A2%91%201+2.mp4", clock.Now()))
	if w.Code != 200 || w.Body.String() != "hello" || w.Header().Get("ETag") != `"5d41402abc4b2a76b9719d911017c592"` ||
		w.Header().Get("Last-Modified") != "Tue, 04 Mar 2025 05:06:07 GMT" {
		t.Errorf("GET object = %d %q %v, want 200 hello with ETag and Last-Modified", w.Code, w.Body, w.Header())
	}
	w = serve(s, signed("HEAD", "/dir/%E8%A7%86%E9%A2%91%201+2.mp4", clock.Now()))
	if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "5" {
		t.Errorf("HEAD object = %d %q, want 200, no body, Content-Length 5", w.Code, w.Body)
	}
	w = serve(s, signed("GET", "/missing.mp4", clock.Now()))
	e := decodeError(t, w.Body.Bytes())
	if w.Code != 404 || e.Code != "NoSuchKey" || e.Resource == "" || w.Header().Get("x-cos-request-id") != e.RequestId {
		t.Errorf("GET missing = %d %+v, want 404 NoSuchKey with Resource and x-cos-request-id", w.Code, e)
	}
	w = serve(s, signed("PUT", "/x.mp4", clock.Now()))
	if w.Code != 405 {
		t.Errorf("PUT object = %d, want 405", w.Code)
	}
	if st := s.Stats(); st.Gets != 2 || st.Rejected != 2 {
		t.Errorf("Stats() = %+v, want Gets 2, Rejected 2", st)
	}
}

type xmlExecutions struct {
	RequestId             string
	WorkflowExecutionList []struct {
		RunId, WorkflowId, State, CreateTime, Object string
	}
	NextToken *string
}

func TestExecutions(t *testing.T) {
	s, clock := newTestServer(t, func(c *Config) { c.ExecutionDelay = 10 * time.Minute })
	t0 := clock.Now()
	var ids []string
	for i := range 25 {
		key := fmt.Sprintf("k%02d.mp4", i%20) // k00..k04 twice
		w := serve(s, signed("POST", triggerTarget(testWorkflow, key), clock.Now()))
		var resp xmlTriggerResponse
		if err := xml.Unmarshal(w.Body.Bytes(), &resp); err != nil || w.Code != 200 {
			t.Fatalf("trigger %s = %d %s", key, w.Code, w.Body)
		}
		ids = append(ids, resp.InstanceId)
		clock.Advance(time.Minute)
	}
	// Now t0+25m: triggers 0..15 (at t0..t0+15m) are Success, 16..24 Running.
	query := func(q string) (xmlExecutions, int) {
		w := serve(s, signed("GET", "/workflowexecution?workflowId="+testWorkflow+q, clock.Now()))
		var x xmlExecutions
		if w.Code == 200 {
			if err := xml.Unmarshal(w.Body.Bytes(), &x); err != nil {
				t.Fatalf("decode %q: %v", w.Body, err)
			}
		}
		return x, w.Code
	}
	// pages returns every run id over all pages, and the page sizes.
	pages := func(q string) ([]string, []int) {
		var runs []string
		var sizes []int
		token := ""
		for {
			x, code := query(q + "&nextToken=" + token)
			if code != 200 {
				t.Fatalf("query %s = %d", q, code)
			}
			sizes = append(sizes, len(x.WorkflowExecutionList))
			for _, e := range x.WorkflowExecutionList {
				runs = append(runs, e.RunId)
			}
			if x.NextToken == nil || *x.NextToken == "" {
				return runs, sizes
			}
			token = *x.NextToken
		}
	}
	rev := slices.Clone(ids)
	slices.Reverse(rev)
	fmtTime := func(t time.Time) string { return url.QueryEscape(t.Format("2006-01-02T15:04:05-0700")) }
	tests := []struct {
		name  string
		query string
		runs  []string
		sizes []int
	}{
		{"default desc", "", rev, []int{10, 10, 5}},
		{"asc size 7", "&orderByTime=Asc&size=7", ids, []int{7, 7, 7, 4}},
		{"size 100", "&size=100", rev, []int{25}},
		{"exact page", "&size=5&orderByTime=Asc&endCreationTime=" + fmtTime(t0.Add(4*time.Minute)), ids[:5], []int{5}},
		{"name", "&name=k03.mp4", []string{ids[23], ids[3]}, []int{2}},
		{"name asc", "&name=k03.mp4&orderByTime=Asc", []string{ids[3], ids[23]}, []int{2}},
		{"name no match", "&name=k03", nil, []int{0}},
		{"window", "&orderByTime=Asc&startCreationTime=" + fmtTime(t0.Add(5*time.Minute)) + "&endCreationTime=" + fmtTime(t0.Add(7*time.Minute)), ids[5:8], []int{3}},
		{"window rfc3339", "&orderByTime=Asc&startCreationTime=" + url.QueryEscape(t0.Add(23*time.Minute).In(time.FixedZone("", 3600)).Format(time.RFC3339)), ids[23:], []int{2}},
		{"running", "&states=Running&size=4&orderByTime=Asc", ids[16:], []int{4, 4, 1}},
		{"success", "&states=Success,Failed&size=100", slices.Clone(rev[9:]), []int{16}},
		{"failed", "&states=Failed", nil, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, sizes := pages(tt.query)
			if !slices.Equal(runs, tt.runs) || !slices.Equal(sizes, tt.sizes) {
				t.Errorf("executions %s = %v pages %v, want %v pages %v", tt.query, runs, sizes, tt.runs, tt.sizes)
			}
		})
	}

	x, _ := query("&name=k03.mp4")
	e := x.WorkflowExecutionList[1]
	if e.WorkflowId != testWorkflow || e.Object != "k03.mp4" || e.State != "Success" || e.CreateTime != t0.Add(3*time.Minute).In(time.FixedZone("", 8*3600)).Format(time.RFC3339) {
		t.Errorf("execution item = %+v, want k03.mp4 Success created at t0+3m in +08:00", e)
	}
	if !strings.HasSuffix(e.CreateTime, "+08:00") {
		t.Errorf("CreateTime %q, want a +08:00 zone", e.CreateTime)
	}

	for _, q := range []string{"&size=101", "&size=0", "&size=x", "&orderByTime=Up", "&states=Done", "&nextToken=x", "&nextToken=99", "&startCreationTime=yesterday"} {
		if _, code := query(q); code != 400 {
			t.Errorf("executions %s = %d, want 400", q, code)
		}
	}
	for _, target := range []string{"/workflowexecution", "/workflowexecution?workflowId=wnope"} {
		if w := serve(s, signed("GET", target, clock.Now())); w.Code != 400 {
			t.Errorf("GET %s = %d, want 400", target, w.Code)
		}
	}
}

type xmlExecution struct {
	RequestId         string
	WorkflowExecution struct {
		WorkflowId, Name, RunId, CreateTime, Object, State string
		Tasks                                              []struct {
			Type, State, JobId, CreateTime, StartTime, EndTime, Code, Message, Name string
		}
	}
}

func TestDescribeExecution(t *testing.T) {
	s, clock := newTestServer(t, func(c *Config) { c.ExecutionDelay = time.Minute })
	w := serve(s, signed("POST", triggerTarget(testWorkflow, "a b.mp4"), clock.Now()))
	var resp xmlTriggerResponse
	if err := xml.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("trigger: %d %s", w.Code, w.Body)
	}
	describe := func() xmlExecution {
		w := serve(s, signed("GET", "/workflowexecution/"+resp.InstanceId, clock.Now()))
		var x xmlExecution
		if err := xml.Unmarshal(w.Body.Bytes(), &x); err != nil || w.Code != 200 {
			t.Fatalf("describe = %d %s", w.Code, w.Body)
		}
		return x
	}
	x := describe().WorkflowExecution
	if x.RunId != resp.InstanceId || x.Object != "a b.mp4" || x.State != "Running" || len(x.Tasks) != 1 || x.Tasks[0].Code != "" || x.Tasks[0].EndTime != "" {
		t.Errorf("describe before the delay = %+v, want Running a b.mp4, no end", x)
	}
	clock.Advance(time.Minute)
	x = describe().WorkflowExecution
	if x.State != "Success" || x.Tasks[0].State != "Success" || x.Tasks[0].Code != "Success" || x.Tasks[0].Type != "Transcode" || x.Tasks[0].EndTime == "" {
		t.Errorf("describe after the delay = %+v, want Success with a finished Transcode task", x)
	}
	for _, id := range []string{"i" + strings.Repeat("0", 32), resp.InstanceId[:32] + "9", "nope"} {
		w := serve(s, signed("GET", "/workflowexecution/"+id, clock.Now()))
		if e := decodeError(t, w.Body.Bytes()); w.Code != 404 || e.Code != "ResourceNotFound" {
			t.Errorf("describe %s = %d %+v, want 404 ResourceNotFound", id, w.Code, e)
		}
	}
	if st := s.Stats(); st.ExecutionQueries != 2 {
		t.Errorf("Stats().ExecutionQueries = %d, want 2", st.ExecutionQueries)
	}
}

func TestExecutionsByNameScale(t *testing.T) {
	if testing.Short() {
		t.Skip("records 200k instances")
	}
	s, clock := newTestServer(t, nil)
	for i := range 200_000 {
		s.exec.record(testWorkflow, fmt.Sprintf("k%06d.mp4", i), "", clock.Now)
	}
	w := serve(s, signed("GET", "/workflowexecution?workflowId="+testWorkflow+"&name=k123456.mp4", clock.Now()))
	var x xmlExecutions
	if err := xml.Unmarshal(w.Body.Bytes(), &x); err != nil || len(x.WorkflowExecutionList) != 1 || x.NextToken != nil {
		t.Errorf("executions by name among 200k = %d %s, want exactly one", w.Code, w.Body)
	}
}

func TestUnsignedEverywhere(t *testing.T) {
	s, _ := newTestServer(t, nil)
	for _, target := range []string{"/triggerworkflow", "/workflowexecution", "/workflowexecution/i1", "/", "/a.mp4", "/x/y"} {
		for _, method := range []string{"GET", "POST"} {
			r, _ := http.NewRequest(method, "http://"+testHost+target, nil)
			w := serve(s, r)
			e := decodeError(t, w.Body.Bytes())
			if w.Code != 403 || e.Code != "AccessDenied" {
				t.Errorf("unsigned %s %s = %d %+v, want 403 AccessDenied", method, target, w.Code, e)
			}
			ci := strings.HasPrefix(target, "/triggerworkflow") || strings.HasPrefix(target, "/workflowexecution")
			if ci != (w.Header().Get("x-ci-request-id") != "") || ci == (e.Resource != "") {
				t.Errorf("unsigned %s %s: headers %v, Resource %q: wrong service shape", method, target, w.Header(), e.Resource)
			}
		}
	}
}

func TestSampleKeys(t *testing.T) {
	a, b := SampleKeys(500, 42), SampleKeys(500, 42)
	if !slices.Equal(a, b) {
		t.Fatalf("SampleKeys(500, 42) differs between calls")
	}
	if slices.Equal(a, SampleKeys(500, 43)) {
		t.Errorf("SampleKeys(500, 43) = SampleKeys(500, 42), want another set")
	}
	seen := map[string]bool{}
	for _, k := range a {
		if seen[k] || k == "" || k[0] == '/' || strings.HasSuffix(k, "/") || len(k) > 850 {
			t.Errorf("SampleKeys: bad or repeated key %q", k)
		}
		seen[k] = true
	}
	all := strings.Join(a, "\n")
	for _, want := range []string{" ", "+", "%", "/", "视频", "媒体", "/batch-"} {
		if !strings.Contains(all, want) {
			t.Errorf("SampleKeys(500, 42) has no key with %q", want)
		}
	}
}

func TestAppendEscaped(t *testing.T) {
	for _, in := range []string{"", "plain", `a&b<c>d"e'f`, "tab\tnl\ncr\r", "bad\xffutf8", "ctl\x01x", "视频", "\uFFFE"} {
		var want bytes.Buffer
		xml.EscapeText(&want, []byte(in))
		if got := string(appendEscaped(nil, in)); got != want.String() {
			t.Errorf("appendEscaped(%q) = %q, want %q", in, got, want.String())
		}
	}
}

func BenchmarkTrigger(b *testing.B) {
	s, clock := newTestServer(b, nil)
	now := clock.Now()
	reqs := make([]*http.Request, 1024)
	for i := range reqs {
		r := signed("POST", triggerTarget(testWorkflow, fmt.Sprintf("media/my video+final 100%%/视频 %d.mp4", i)), now)
		r.Header.Set("Content-Length", "0")
		testSign(r, testID, testKey, now.Add(-time.Minute), now.Add(time.Hour), "content-length")
		reqs[i] = r
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		w := serve(s, reqs[i%len(reqs)])
		if w.Code != 200 {
			b.Fatalf("trigger = %d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkTriggerHTTP measures signed triggers over loopback HTTP with
// keep-alive connections, client and server in this process.
func BenchmarkTriggerHTTP(b *testing.B) {
	s, _ := newTestServer(b, func(c *Config) { c.Now = nil })
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		b.Fatalf("Start: %v", err)
	}
	defer s.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			now := time.Now()
			r, _ := http.NewRequest("POST", base+triggerTarget(testWorkflow, fmt.Sprintf("bench/视频 %d.mp4", i)), nil)
			testSign(r, testID, testKey, now.Add(-time.Minute), now.Add(time.Hour))
			resp, err := client.Do(r)
			if err != nil {
				b.Errorf("trigger: %v", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("trigger = %s", resp.Status)
				return
			}
		}
	})
}
