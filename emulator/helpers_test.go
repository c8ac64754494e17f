package emulator

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/internal/fakeclock"
)

const (
	testID       = "AKIDtestSecretId0000000000000000000"
	testKey      = "testSecretKey000000000000000000"
	testWorkflow = "w0123456789abcdef0123456789abcdef"
	testHost     = "examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com"
)

// newFakeClock returns a settable clock at the tests' start time.
func newFakeClock() *fakeclock.Clock {
	return fakeclock.New(time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC))
}

// testEncode is the §1 UrlEncode written another way than the emulator's:
// url.QueryEscape keeps the same unreserved set but writes space as '+'.
func testEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// testSign adds an Authorization header to r, signing every query
// parameter, the host, and the named headers, valid over [start, end].
func testSign(r *http.Request, id, secret string, start, end time.Time, headers ...string) {
	keyTime := fmt.Sprintf("%d;%d", start.Unix(), end.Unix())
	canon := func(kv map[string][]string) (string, string) {
		var names []string
		for k := range kv {
			names = append(names, k)
		}
		sort.Strings(names)
		var parts []string
		for _, k := range names {
			vs := append([]string(nil), kv[k]...)
			sort.Strings(vs)
			for _, v := range vs {
				parts = append(parts, k+"="+testEncode(v))
			}
		}
		return strings.Join(parts, "&"), strings.Join(names, ";")
	}
	params := map[string][]string{}
	for k, vs := range r.URL.Query() {
		n := strings.ToLower(testEncode(k))
		params[n] = append(params[n], vs...)
	}
	hdrs := map[string][]string{"host": {r.Host}}
	for _, h := range headers {
		hdrs[strings.ToLower(h)] = r.Header.Values(h)
	}
	httpParams, paramList := canon(params)
	httpHeaders, headerList := canon(hdrs)
	httpString := strings.ToLower(r.Method) + "\n" + r.URL.Path + "\n" + httpParams + "\n" + httpHeaders + "\n"
	sum := sha1.Sum([]byte(httpString))
	stringToSign := "sha1\n" + keyTime + "\n" + hex.EncodeToString(sum[:]) + "\n"
	hm := func(key, msg string) string {
		m := hmac.New(sha1.New, []byte(key))
		m.Write([]byte(msg))
		return hex.EncodeToString(m.Sum(nil))
	}
	sig := hm(hm(secret, keyTime), stringToSign)
	r.Header.Set("Authorization", "q-sign-algorithm=sha1&q-ak="+id+"&q-sign-time="+keyTime+
		"&q-key-time="+keyTime+"&q-header-list="+headerList+"&q-url-param-list="+paramList+"&q-signature="+sig)
}

// newTestServer returns a Server with test credentials, one workflow and a
// fake clock, adjusted by edit.
func newTestServer(t testing.TB, edit func(*Config)) (*Server, *fakeclock.Clock) {
	t.Helper()
	clock := newFakeClock()
	cfg := Config{
		SecretID:  testID,
		SecretKey: testKey,
		Bucket:    "examplebucket-1250000000",
		Workflows: []string{testWorkflow},
		Seed:      1,
		Now:       clock.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	return New(cfg), clock
}

// signed builds a request for target (path and raw query) signed at now.
func signed(method, target string, now time.Time) *http.Request {
	r := httptest.NewRequest(method, "http://"+testHost+target, nil)
	testSign(r, testID, testKey, now.Add(-time.Minute), now.Add(time.Hour))
	return r
}

// serve runs r through s in process.
func serve(s *Server, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// triggerTarget is the path and query of a trigger for key.
func triggerTarget(workflow, key string) string {
	return "/triggerworkflow?workflowId=" + testEncode(workflow) + "&object=" + testEncode(key)
}

type xmlError struct {
	Code      string
	Message   string
	Resource  string
	RequestId string
	TraceId   string
}

func decodeError(t testing.TB, body []byte) xmlError {
	t.Helper()
	var e xmlError
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("decode error body %q: %v", body, err)
	}
	return e
}

type xmlTriggerResponse struct {
	RequestId  string
	InstanceId string
}
