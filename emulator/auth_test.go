package emulator

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestAuthStyles(t *testing.T) {
	tests := []struct {
		name       string
		request    func(now time.Time) *http.Request
		cosStatus  int
		cosCode    string
		ciStatus   int
		ciCode     string
		listStatus int // the same failure on a COS request, CI style
	}{
		{"unknown SecretId", func(now time.Time) *http.Request {
			r := httptest.NewRequest("POST", "http://"+testHost+triggerTarget(testWorkflow, "a.mp4"), nil)
			testSign(r, "AKIDnobody", testKey, now.Add(-time.Minute), now.Add(time.Hour))
			return r
		}, 403, "InvalidAccessKeyId", 401, "SecretidNotExist", 403},
		{"wrong SecretKey", func(now time.Time) *http.Request {
			r := httptest.NewRequest("POST", "http://"+testHost+triggerTarget(testWorkflow, "a.mp4"), nil)
			testSign(r, testID, "wrongKey", now.Add(-time.Minute), now.Add(time.Hour))
			return r
		}, 403, "SignatureDoesNotMatch", 401, "InvalidAuthorization", 403},
		{"no Authorization", func(time.Time) *http.Request {
			return httptest.NewRequest("POST", "http://"+testHost+triggerTarget(testWorkflow, "a.mp4"), nil)
		}, 403, "AccessDenied", 401, "MissingAuthorization", 403},
		{"malformed Authorization", func(time.Time) *http.Request {
			r := httptest.NewRequest("POST", "http://"+testHost+triggerTarget(testWorkflow, "a.mp4"), nil)
			r.Header.Set("Authorization", "q-sign-algorithm=sha1")
			return r
		}, 403, "AccessDenied", 401, "InvalidAuthorization", 403},
		{"expired", func(now time.Time) *http.Request {
			r := httptest.NewRequest("POST", "http://"+testHost+triggerTarget(testWorkflow, "a.mp4"), nil)
			testSign(r, testID, testKey, now.Add(-3*time.Hour), now.Add(-2*time.Hour))
			return r
		}, 403, "AccessDenied", 401, "SignatureExpired", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cos, clock := newTestServer(t, nil)
			w := serve(cos, tt.request(clock.Now()))
			if e := decodeError(t, w.Body.Bytes()); w.Code != tt.cosStatus || e.Code != tt.cosCode {
				t.Errorf("COS style: %d %s, want %d %s", w.Code, e.Code, tt.cosStatus, tt.cosCode)
			}
			ci, clock := newTestServer(t, func(c *Config) { c.Auth = AuthCI })
			w = serve(ci, tt.request(clock.Now()))
			if e := decodeError(t, w.Body.Bytes()); w.Code != tt.ciStatus || e.Code != tt.ciCode {
				t.Errorf("CI style: %d %s, want %d %s", w.Code, e.Code, tt.ciStatus, tt.ciCode)
			}
			// A COS request (a listing) keeps COS's answers.
			r := tt.request(clock.Now())
			r.URL.Path, r.URL.RawQuery, r.Method = "/", "", "GET"
			if w := serve(ci, r); w.Code != tt.listStatus {
				t.Errorf("CI style, COS request: %d, want %d", w.Code, tt.listStatus)
			}
		})
	}
	if s, ok := ParseAuthStyle("ci"); !ok || s != AuthCI {
		t.Errorf("ParseAuthStyle(ci) = %v, %v", s, ok)
	}
	if _, ok := ParseAuthStyle("aws"); ok {
		t.Error("ParseAuthStyle(aws) accepted")
	}
}
