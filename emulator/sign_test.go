package emulator

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	cos "github.com/tencentyun/cos-go-sdk-v5"
)

const (
	docID  = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q"
	docKey = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz"
)

// vector is one signature test vector of the reference (§1.1, §1.2).
type vector struct {
	name    string
	method  string
	url     string // absolute, wire form
	headers [][2]string
	token   string
	auth    string
	start   int64 // inside the key time
	// mutations: a key change (path or object) that must break the signature.
	otherURL string
}

func vectors() []vector {
	const ciHost = "examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com"
	const cosHost = "examplebucket-1250000000.cos.ap-beijing.myqcloud.com"
	const trig = "q-sign-algorithm=sha1&q-ak=" + docID + "&q-sign-time=1700000000;1700003600&q-key-time=1700000000;1700003600"
	const wf = "w0123456789abcdef0123456789abcdef"
	// trigger is a §1.2 vector: POST /triggerworkflow?name=&object=OBJECT&workflowId=wf,
	// its Content-Length of 0 signed (and the STS token, when given),
	// inside the key time 1700000000;1700003600; auth is the Authorization
	// from q-header-list on, and other the object of the request it must
	// not fit.
	trigger := func(name, object, other, token, auth string) vector {
		target := func(object string) string {
			return "http://" + ciHost + "/triggerworkflow?name=&object=" + object + "&workflowId=" + wf
		}
		v := vector{name: name, method: "POST", url: target(object), headers: [][2]string{{"Content-Length", "0"}},
			token: token, auth: trig + auth, start: 1700000000, otherURL: target(other)}
		if token != "" {
			v.headers = append(v.headers, [2]string{"X-Cos-Security-Token", token})
		}
		return v
	}
	return []vector{
		{
			name:   "doc put object",
			method: "PUT",
			url:    "http://" + cosHost + "/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)",
			headers: [][2]string{
				{"Date", "Thu, 16 May 2019 06:45:51 GMT"},
				{"Content-Type", "text/plain"},
				{"Content-Length", "13"},
				{"Content-MD5", "mQ/fVh815F3k6TAUm8m0eg=="},
				{"x-cos-acl", "private"},
				{"x-cos-grant-read", `uin="100000000011"`},
			},
			auth:     "q-sign-algorithm=sha1&q-ak=" + docID + "&q-sign-time=1557989151;1557996351&q-key-time=1557989151;1557996351&q-header-list=content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read&q-url-param-list=&q-signature=3b8851a11a569213c17ba8fa7dcf2abec6935172",
			start:    1557989151,
			otherURL: "http://" + cosHost + "/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%92)",
		},
		{
			name:     "doc get object with params",
			method:   "GET",
			url:      "http://" + cosHost + "/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)?response-content-type=application%2Foctet-stream&response-cache-control=max-age%3D600",
			headers:  [][2]string{{"Date", "Thu, 16 May 2019 06:55:53 GMT"}},
			auth:     "q-sign-algorithm=sha1&q-ak=" + docID + "&q-sign-time=1557989753;1557996953&q-key-time=1557989753;1557996953&q-header-list=date;host&q-url-param-list=response-cache-control;response-content-type&q-signature=01681b8c9d798a678e43b685a9f1bba0f6c0e012",
			start:    1557989753,
			otherURL: "http://" + cosHost + "/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)?response-content-type=application%2Foctet-stream&response-cache-control=max-age%3D601",
		},
		trigger("A plain key", "input%2Fvideo.mp4", "input%2Fvideo.mp5", "",
			"&q-header-list=content-length;host&q-url-param-list=name;object;workflowid&q-signature=d13bd0c05b2752e872954068a872755f4d47b21a"),
		trigger("B odd key, plus for space", "media%2Fmy+video%2Bfinal+100%25%2F%E8%A7%86%E9%A2%91+1.mp4", "media%2Fmy+video+final+100%25%2F%E8%A7%86%E9%A2%91+1.mp4", "",
			"&q-header-list=content-length;host&q-url-param-list=name;object;workflowid&q-signature=1448bb16c5505b4215d7bd783f4dca6181e8f460"),
		trigger("B odd key, %20 for space", "media%2Fmy%20video%2Bfinal%20100%25%2F%E8%A7%86%E9%A2%91%201.mp4", "media%2Fmy%20video%2Bfinal%20100%2525%2F%E8%A7%86%E9%A2%91%201.mp4", "",
			"&q-header-list=content-length;host&q-url-param-list=name;object;workflowid&q-signature=1448bb16c5505b4215d7bd783f4dca6181e8f460"),
		trigger("C STS token", "input%2Fvideo.mp4", "input%2Fvideo.mp", "EXAMPLE-STS-TOKEN",
			"&q-header-list=content-length;host;x-cos-security-token&q-url-param-list=name;object;workflowid&q-signature=4aa7b4f13a04161f0da4cf8de385415ff6c70712"),
		{
			name:     "D minimal",
			method:   "POST",
			url:      "http://" + ciHost + "/triggerworkflow?object=input%2Fvideo.mp4&workflowId=" + wf,
			auth:     trig + "&q-header-list=host&q-url-param-list=object;workflowid&q-signature=8c5d5519d3cd0f480694235e53288ee45aa54e33",
			start:    1700000000,
			otherURL: "http://" + ciHost + "/triggerworkflow?object=input%2Fvideo.mp4&workflowId=w0123456789abcdef0123456789abcdee",
		},
	}
}

func (v vector) request(method, url string) *http.Request {
	r := httptest.NewRequest(method, url, nil)
	for _, h := range v.headers {
		r.Header.Set(h[0], h[1])
	}
	r.Header.Set("Authorization", v.auth)
	return r
}

// errCode returns the API error code of err, "" for nil.
func errCode(err error) string {
	var e *apiError
	if errors.As(err, &e) {
		return e.code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestVerifyVectors(t *testing.T) {
	for _, v := range vectors() {
		t.Run(v.name, func(t *testing.T) {
			ver := newVerifier(docID, docKey, v.token)
			now := time.Unix(v.start+60, 0)
			if err := ver.verify(v.request(v.method, v.url), now); err != nil {
				t.Fatalf("verify(%s) = %v, want nil", v.name, err)
			}
			// Again, from the SignKey cache.
			if err := ver.verify(v.request(v.method, v.url), now); err != nil {
				t.Fatalf("verify(%s) again = %v, want nil", v.name, err)
			}

			tampered := map[string]*http.Request{
				"key":    v.request(v.method, v.otherURL),
				"method": v.request("DELETE", v.url),
				"host":   v.request(v.method, strings.Replace(v.url, "examplebucket", "exampleb0cket", 1)),
			}
			if len(v.headers) > 0 {
				r := v.request(v.method, v.url)
				h := v.headers[0]
				r.Header.Set(h[0], h[1]+" ")
				tampered["header "+h[0]] = r
			}
			r := v.request(v.method, v.url)
			sig := []byte(v.auth)
			last := len(sig) - 1
			if sig[last] == '0' {
				sig[last] = '1'
			} else {
				sig[last] = '0'
			}
			r.Header.Set("Authorization", string(sig))
			tampered["signature digit"] = r
			for what, r := range tampered {
				if got := errCode(ver.verify(r, now)); got != "SignatureDoesNotMatch" {
					t.Errorf("verify(%s with changed %s) = %q, want SignatureDoesNotMatch", v.name, what, got)
				}
			}
			if got := errCode(newVerifier(docID, docKey+"x", v.token).verify(v.request(v.method, v.url), now)); got != "SignatureDoesNotMatch" {
				t.Errorf("verify(%s, other secret key) = %q, want SignatureDoesNotMatch", v.name, got)
			}

			_, end, _ := parseKeyTime(v.auth[strings.Index(v.auth, "q-sign-time=")+len("q-sign-time=") : strings.Index(v.auth, "&q-key-time")])
			for _, at := range []int64{v.start - 1, end + 1} {
				err := ver.verify(v.request(v.method, v.url), time.Unix(at, 0))
				var e *apiError
				if !errors.As(err, &e) || e.code != "AccessDenied" || e.message != "Request has expired" {
					t.Errorf("verify(%s at %d) = %v, want AccessDenied Request has expired", v.name, at, err)
				}
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	now := time.Unix(1700000100, 0)
	good := func() *http.Request {
		return signed("POST", triggerTarget(testWorkflow, "a.mp4"), now)
	}
	// tokenSigned is a request that carries token and signs it.
	tokenSigned := func(token string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest("POST", "http://"+testHost+triggerTarget(testWorkflow, "a.mp4"), nil)
			r.Header.Set("X-Cos-Security-Token", token)
			testSign(r, testID, testKey, now.Add(-time.Minute), now.Add(time.Minute), "x-cos-security-token")
			return r
		}
	}
	// authReplaced is the good request with old in its Authorization
	// replaced by new.
	authReplaced := func(old, new string) func() *http.Request {
		return func() *http.Request {
			r := good()
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
			return r
		}
	}
	tests := []struct {
		name    string
		token   string
		request func() *http.Request
		code    string
		message string
	}{
		{"valid", "", good, "", ""},
		{"no authorization", "", func() *http.Request {
			r := good()
			r.Header.Del("Authorization")
			return r
		}, "AccessDenied", ""},
		{"garbled", "", func() *http.Request {
			r := good()
			r.Header.Set("Authorization", "Bearer abc")
			return r
		}, "AccessDenied", ""},
		{"missing field", "", authReplaced("&q-url-param-list=", "&q-url-param-lost="), "AccessDenied", ""},
		{"bad sign time", "", authReplaced("q-sign-time=", "q-sign-time=x"), "AccessDenied", ""},
		{"other algorithm", "", authReplaced("=sha1&", "=sha256&"), "AccessDenied", ""},
		{"unknown access key", "", func() *http.Request {
			r := httptest.NewRequest("POST", "http://"+testHost+triggerTarget(testWorkflow, "a.mp4"), nil)
			testSign(r, "AKIDother", testKey, now.Add(-time.Minute), now.Add(time.Minute))
			return r
		}, "InvalidAccessKeyId", ""},
		{"expired", "", func() *http.Request {
			r := httptest.NewRequest("POST", "http://"+testHost+triggerTarget(testWorkflow, "a.mp4"), nil)
			testSign(r, testID, testKey, now.Add(-time.Hour), now.Add(-time.Second))
			return r
		}, "AccessDenied", "Request has expired"},
		{"host not signed", "", authReplaced("q-header-list=host", "q-header-list="), "AccessDenied", "the host header must be signed"},
		{"token missing", "tok", good, "AccessDenied", "invalid security token"},
		{"token wrong", "tok", tokenSigned("other"), "AccessDenied", "invalid security token"},
		{"token not signed", "tok", func() *http.Request {
			r := good()
			r.Header.Set("X-Cos-Security-Token", "tok")
			return r
		}, "AccessDenied", "invalid security token"},
		{"token ok", "tok", tokenSigned("tok"), "", ""},
		{"unsigned extra param is fine", "", func() *http.Request {
			r := good()
			r.URL.RawQuery += "&extra=1"
			return r
		}, "", ""},
		{"signed param dropped", "", func() *http.Request {
			r := good()
			r.URL.RawQuery = "workflowId=" + testWorkflow
			return r
		}, "SignatureDoesNotMatch", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newVerifier(testID, testKey, tt.token).verify(tt.request(), now)
			if got := errCode(err); got != tt.code {
				t.Fatalf("verify(%s) = %v, want code %q", tt.name, err, tt.code)
			}
			if tt.message != "" && err.(*apiError).message != tt.message {
				t.Errorf("verify(%s) message = %q, want %q", tt.name, err.(*apiError).message, tt.message)
			}
		})
	}
}

// TestVerifyAgreesWithSDK signs random requests with the official SDK's
// signer and checks that the emulator accepts them, and rejects them once
// a signed byte changes.
func TestVerifyAgreesWithSDK(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	keys := SampleKeys(200, 3)
	methods := []string{"GET", "POST", "PUT", "HEAD", "DELETE"}
	ver := newVerifier(testID, testKey, "")
	for i, key := range keys {
		method := methods[rng.IntN(len(methods))]
		q := "object=" + testEncode(key) + "&workflowId=" + testWorkflow
		if rng.IntN(2) == 0 {
			q = strings.ReplaceAll(q, "%20", "+")
		}
		if rng.IntN(3) == 0 {
			q += "&name=task-" + fmt.Sprint(i) + "&acl"
		}
		path := "/triggerworkflow"
		if rng.IntN(2) == 0 {
			path = "/" + strings.ReplaceAll(testEncode(key), "%2F", "/")
		}
		r := httptest.NewRequest(method, "http://"+testHost+path+"?"+q, nil)
		if rng.IntN(2) == 0 {
			r.Header.Set("Content-Type", "application/xml")
			r.Header.Set("x-cos-meta-key", key)
			r.Header.Set("Content-Length", "0")
		}
		start := time.Unix(1700000000+int64(rng.IntN(100000)), 0)
		at := &cos.AuthTime{SignStartTime: start, SignEndTime: start.Add(time.Hour), KeyStartTime: start, KeyEndTime: start.Add(time.Hour)}
		cos.AddAuthorizationHeader(testID, testKey, "", r, at)
		r.Header.Del("Host") // as a Go server hands it over: in r.Host only
		now := start.Add(time.Duration(rng.IntN(3600)) * time.Second)
		if err := ver.verify(r, now); err != nil {
			t.Fatalf("verify(SDK-signed %s %s?%s) = %v, want nil", method, path, q, err)
		}
		r.Method = methods[(slices.Index(methods, method)+1)%len(methods)]
		if got := errCode(ver.verify(r, now)); got != "SignatureDoesNotMatch" {
			t.Fatalf("verify(SDK-signed %s?%s as %s) = %q, want SignatureDoesNotMatch", path, q, r.Method, got)
		}
	}
}

func TestAppendEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"AZaz09-_.~", "AZaz09-_.~"},
		{"a b+c/d%e", "a%20b%2Bc%2Fd%25e"},
		{"!'()*", "%21%27%28%29%2A"},
		{"视频", "%E8%A7%86%E9%A2%91"},
		{"\x00\xff", "%00%FF"},
	}
	for _, tt := range tests {
		if got := urlEncode(tt.in); got != tt.want {
			t.Errorf("urlEncode(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := testEncode(tt.in); got != tt.want && tt.in != "!'()*" {
			t.Errorf("testEncode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzVerify(f *testing.F) {
	for _, v := range vectors() {
		f.Add(v.auth, v.url[strings.Index(v.url, "?")+1:])
	}
	f.Add("q-sign-algorithm=sha1&q-ak=a&q-ak=b", "a=%zz")
	f.Fuzz(func(t *testing.T, auth, query string) {
		r := httptest.NewRequest("POST", "http://"+testHost+"/triggerworkflow", nil)
		r.URL.RawQuery = query
		r.Header.Set("Authorization", auth)
		err := newVerifier(docID, docKey, "").verify(r, time.Unix(1700000100, 0))
		var e *apiError
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("verify(%q, %q) = %v, want an *apiError", auth, query, err)
		}
	})
}
