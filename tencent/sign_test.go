package tencent

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	cos "github.com/tencentyun/cos-go-sdk-v5"
)

// Credentials of the reference vectors (the doc's published example keys).
var docCreds = Credentials{
	SecretID:  "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q",
	SecretKey: "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz",
}

const (
	ciHost  = "examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com"
	cosHost = "examplebucket-1250000000.cos.ap-beijing.myqcloud.com"
	wfID    = "w0123456789abcdef0123456789abcdef"
)

func mustRequest(t testing.TB, method, rawURL string, headers ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatalf("NewRequest(%q): %v", rawURL, err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

func unix(s int64) time.Time { return time.Unix(s, 0) }

// TestSignVectors checks the reference vectors of tencent-ci-api.md §1.1
// and §1.2, Authorization strings in full.
func TestSignVectors(t *testing.T) {
	docHeaders := []string{
		"Date", "Thu, 16 May 2019 06:45:51 GMT",
		"Content-Type", "text/plain",
		"Content-Length", "13",
		"Content-MD5", "mQ/fVh815F3k6TAUm8m0eg==",
		"x-cos-acl", "private",
		"x-cos-grant-read", `uin="100000000011"`,
	}
	const (
		docPrefix1 = "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1557989151;1557996351&q-key-time=1557989151;1557996351"
		ciPrefix   = "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1700000000;1700003600&q-key-time=1700000000;1700003600"
		ciURL      = "https://" + ciHost + "/triggerworkflow?"
	)
	type vector struct {
		name       string
		req        *http.Request
		creds      Credentials
		start, end int64
		extra      []string
		want       string
	}
	// trigger is a §1.2 vector: POST /triggerworkflow?QUERY&workflowId=wfID
	// with its Content-Length of 0, signed by creds over
	// 1700000000;1700003600; want is the Authorization from q-header-list on.
	trigger := func(name, query string, creds Credentials, want string) vector {
		return vector{name: name, req: mustRequest(t, "POST", ciURL+query+"&workflowId="+wfID, "Content-Length", "0"),
			creds: creds, start: 1700000000, end: 1700003600, want: ciPrefix + want}
	}
	tests := []vector{
		{
			name:  "1.1 doc example 1, date signed",
			req:   mustRequest(t, "PUT", "http://"+cosHost+"/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)", docHeaders...),
			creds: docCreds, start: 1557989151, end: 1557996351, extra: []string{"date"},
			want: docPrefix1 + "&q-header-list=content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read&q-url-param-list=&q-signature=3b8851a11a569213c17ba8fa7dcf2abec6935172",
		},
		{
			name:  "1.1 doc example 1, date not signed (SDK default)",
			req:   mustRequest(t, "PUT", "http://"+cosHost+"/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)", docHeaders...),
			creds: docCreds, start: 1557989151, end: 1557996351,
			want: docPrefix1 + "&q-header-list=content-length;content-md5;content-type;host;x-cos-acl;x-cos-grant-read&q-url-param-list=&q-signature=fc4e4717b501da12715d5fc84a4880a87ad2b7ab",
		},
		{
			name: "1.1 doc example 2, query parameters",
			req: mustRequest(t, "GET", "http://"+cosHost+"/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)?response-content-type=application%2Foctet-stream&response-cache-control=max-age%3D600",
				"Date", "Thu, 16 May 2019 06:55:53 GMT"),
			creds: docCreds, start: 1557989753, end: 1557996953, extra: []string{"date"},
			want: "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1557989753;1557996953&q-key-time=1557989753;1557996953&q-header-list=date;host&q-url-param-list=response-cache-control;response-content-type&q-signature=01681b8c9d798a678e43b685a9f1bba0f6c0e012",
		},
		trigger("1.2 A SDK-style trigger", "name=&object=input%2Fvideo.mp4", docCreds,
			"&q-header-list=content-length;host&q-url-param-list=name;object;workflowid&q-signature=d13bd0c05b2752e872954068a872755f4d47b21a"),
		trigger("1.2 B form-style wire (+ for space)", "name=&object=media%2Fmy+video%2Bfinal+100%25%2F%E8%A7%86%E9%A2%91+1.mp4", docCreds,
			"&q-header-list=content-length;host&q-url-param-list=name;object;workflowid&q-signature=1448bb16c5505b4215d7bd783f4dca6181e8f460"),
		trigger("1.2 B RFC 3986 wire (%20 for space)", "name=&object=media%2Fmy%20video%2Bfinal%20100%25%2F%E8%A7%86%E9%A2%91%201.mp4", docCreds,
			"&q-header-list=content-length;host&q-url-param-list=name;object;workflowid&q-signature=1448bb16c5505b4215d7bd783f4dca6181e8f460"),
		trigger("1.2 C STS token", "name=&object=input%2Fvideo.mp4", Credentials{SecretID: docCreds.SecretID, SecretKey: docCreds.SecretKey, SessionToken: "EXAMPLE-STS-TOKEN"},
			"&q-header-list=content-length;host;x-cos-security-token&q-url-param-list=name;object;workflowid&q-signature=4aa7b4f13a04161f0da4cf8de385415ff6c70712"),
		{
			name:  "1.2 D minimal",
			req:   mustRequest(t, "POST", ciURL+"object=input%2Fvideo.mp4&workflowId="+wfID),
			creds: docCreds, start: 1700000000, end: 1700003600,
			want: ciPrefix + "&q-header-list=host&q-url-param-list=object;workflowid&q-signature=8c5d5519d3cd0f480694235e53288ee45aa54e33",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signExtra(tt.req, tt.creds, unix(tt.start), unix(tt.end), tt.extra)
			if got := tt.req.Header.Get("Authorization"); got != tt.want {
				t.Errorf("Sign(%s %s) =\n%s\nwant\n%s", tt.req.Method, tt.req.URL, got, tt.want)
			}
			if tok := tt.req.Header.Get("X-Cos-Security-Token"); tok != tt.creds.SessionToken {
				t.Errorf("x-cos-security-token = %q, want %q", tok, tt.creds.SessionToken)
			}
		})
	}
}

func TestSignKey(t *testing.T) {
	tests := []struct {
		name       string
		start, end int64
		want       string
	}{
		{"doc example 1", 1557989151, 1557996351, "eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f"},
		{"doc example 2", 1557989753, 1557996953, "937914bf490e9e8c189836aad2052e4feeb35eaf"},
		{"trigger vectors", 1700000000, 1700003600, "552178a693a0d230b84a4f15c143bc3c2cb3d9c0"},
	}
	for _, tt := range tests {
		k := newSignKey(docCreds.SecretKey, tt.start, tt.end)
		if got := string(k.key[:]); got != tt.want {
			t.Errorf("newSignKey(%d;%d) = %s, want %s", tt.start, tt.end, got, tt.want)
		}
	}
}

func TestEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"AZaz09-_.~", "AZaz09-_.~"},
		{"a b", "a%20b"},
		{"a+b", "a%2Bb"},
		{"a/b", "a%2Fb"},
		{"100%", "100%25"},
		{"!'()*", "%21%27%28%29%2A"},
		{"视频", "%E8%A7%86%E9%A2%91"},
		{"\x00\xff", "%00%FF"},
	}
	for _, tt := range tests {
		if got := Encode(tt.in); got != tt.want {
			t.Errorf("Encode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// sdkAuthorization signs req with the SDK for the window [start, end].
func sdkAuthorization(req *http.Request, creds Credentials, start, end time.Time) string {
	cos.AddAuthorizationHeader(creds.SecretID, creds.SecretKey, creds.SessionToken, req, &cos.AuthTime{
		SignStartTime: start, SignEndTime: end, KeyStartTime: start, KeyEndTime: end,
	})
	return req.Header.Get("Authorization")
}

// reqSpec describes a request built twice, once for each signer.
type reqSpec struct {
	method, host, reqHost, path, rawQuery string
	headers                               [][2]string // added in order; keys used as given
}

func (s reqSpec) build(t testing.TB) *http.Request {
	t.Helper()
	u := &url.URL{Scheme: "http", Host: s.host, Path: s.path, RawQuery: s.rawQuery}
	req, err := http.NewRequest(s.method, u.String(), nil)
	if err != nil {
		t.Fatalf("NewRequest(%q): %v", u, err)
	}
	if s.reqHost != "" {
		req.Host = s.reqHost
	}
	for _, h := range s.headers {
		req.Header[h[0]] = append(req.Header[h[0]], h[1])
	}
	return req
}

func compareWithSDK(t *testing.T, name string, s reqSpec, creds Credentials, start, end time.Time) {
	t.Helper()
	ours := s.build(t)
	Sign(ours, creds, start, end)
	theirs := s.build(t)
	want := sdkAuthorization(theirs, creds, start, end)
	if got := ours.Header.Get("Authorization"); got != want {
		t.Errorf("%s: Sign(%s %q ?%s %q) =\n%s\nSDK:\n%s", name, s.method, s.path, s.rawQuery, s.headers, got, want)
	}
}

func TestSignMatchesSDKTable(t *testing.T) {
	creds := Credentials{SecretID: "AKIDexample", SecretKey: "secretexample"}
	sts := Credentials{SecretID: "AKIDtmp", SecretKey: "tmpkey", SessionToken: "tok+en/with=chars"}
	start, end := unix(1700000000), unix(1700003600)
	tests := []struct {
		name  string
		spec  reqSpec
		creds Credentials
	}{
		{"plain get", reqSpec{method: "GET", host: cosHost, path: "/a.mp4"}, creds},
		{"root listing", reqSpec{method: "GET", host: cosHost, path: "/", rawQuery: "encoding-type=url&prefix=media%2F&max-keys=1000"}, creds},
		{"valueless param", reqSpec{method: "GET", host: cosHost, path: "/", rawQuery: "acl"}, creds},
		{"upper-case names", reqSpec{method: "POST", host: ciHost, path: "/triggerworkflow", rawQuery: "workflowId=w1&Object=a&NAME=x"}, creds},
		{"repeated names", reqSpec{method: "GET", host: cosHost, path: "/", rawQuery: "a=2&a=1&A=0&b"}, creds},
		{"odd names", reqSpec{method: "GET", host: cosHost, path: "/", rawQuery: "x%2Ay=1&%E4%BD%A0=%E5%A5%BD&sp%20ace=a+b"}, creds},
		{"dropped pairs", reqSpec{method: "GET", host: cosHost, path: "/", rawQuery: "a=1;b=2&c=%zz&d=ok&&e="}, creds},
		{"key with specials", reqSpec{method: "GET", host: cosHost, path: "/dir/my video+final 100%/视频 (1)!*'.mp4"}, creds},
		{"host with port", reqSpec{method: "GET", host: "127.0.0.1:8080", path: "/x"}, creds},
		{"host override", reqSpec{method: "GET", host: "127.0.0.1:8080", reqHost: ciHost, path: "/x"}, creds},
		{"headers", reqSpec{method: "PUT", host: cosHost, path: "/k", headers: [][2]string{
			{"Content-Type", "video/mp4"}, {"Content-Md5", "mQ/fVh815F3k6TAUm8m0eg=="}, {"Content-Length", "13"},
			{"X-Cos-Meta-Title", "你好 world"}, {"X-Cos-Meta-Title", "second value"}, {"x-cos-meta-raw", "lower key"},
			{"X-Ci-Thing", "1"}, {"Range", "bytes=0-1"}, {"If-Match", `"etag"`}, {"host", "extra-host"}, {"Host", "replaced"},
			{"Date", "Thu, 16 May 2019 06:45:51 GMT"}, {"User-Agent", "wftrigger"}, {"X-Other", "unsigned"},
		}}, creds},
		{"sts", reqSpec{method: "POST", host: ciHost, path: "/triggerworkflow", rawQuery: "object=a&workflowId=w"}, sts},
		{"anonymous", reqSpec{method: "GET", host: cosHost, path: "/a"}, Credentials{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			compareWithSDK(t, tt.name, tt.spec, tt.creds, start, end)
		})
	}
}

// oddString returns a random string drawn from bytes and runes that
// encoders get wrong.
func oddString(r *rand.Rand, max int) string {
	pieces := []string{"a", "Z", "0", "-", "_", ".", "~", " ", "+", "%", "/", "!", "'", "(", ")", "*",
		"&", "=", "?", "#", ";", ":", "@", "视", "频", "😀", "é", "%20", "%2B", "\t", "\"", ",", "[", "]", "\\"}
	n := r.IntN(max + 1)
	var b strings.Builder
	for range n {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// TestSignMatchesSDKRandom signs 500 random requests with Sign and with
// cos.AddAuthorizationHeader and compares the Authorization headers.
func TestSignMatchesSDKRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	methods := []string{"GET", "POST", "PUT", "HEAD", "DELETE"}
	encoders := []func(string) string{url.QueryEscape, Encode, url.PathEscape}
	for i := range 500 {
		s := reqSpec{
			method: methods[r.IntN(len(methods))],
			host:   ciHost,
			path:   "/" + oddString(r, 12),
		}
		if r.IntN(4) == 0 {
			s.host = "127.0.0.1:9000"
			s.reqHost = cosHost
		}
		var q []string
		for range r.IntN(6) {
			enc := encoders[r.IntN(len(encoders))]
			name := oddString(r, 4)
			if r.IntN(2) == 0 {
				name = []string{"workflowId", "object", "name", "Prefix", "max-keys"}[r.IntN(5)]
			}
			switch r.IntN(6) {
			case 0:
				q = append(q, enc(name))
			case 1:
				q = append(q, enc(name)+"=")
			default:
				q = append(q, enc(name)+"="+enc(oddString(r, 10)))
			}
		}
		s.rawQuery = strings.Join(q, "&")
		for range r.IntN(5) {
			var k string
			switch r.IntN(4) {
			case 0:
				k = "X-Cos-Meta-" + []string{"A", "Title", "B-C", "X_y"}[r.IntN(4)]
			case 1:
				k = "x-cos-meta-" + []string{"a", "title"}[r.IntN(2)]
			case 2:
				k = []string{"Content-Type", "Content-Md5", "X-Ci-Trace", "Cache-Control", "Date", "X-Other"}[r.IntN(6)]
			default:
				k = "X-Ci-" + []string{"A", "Q"}[r.IntN(2)]
			}
			s.headers = append(s.headers, [2]string{k, oddString(r, 8)})
		}
		creds := Credentials{SecretID: "AKID" + fmt.Sprint(i), SecretKey: "key" + oddString(r, 6)}
		if r.IntN(3) == 0 {
			creds.SessionToken = "token" + oddString(r, 5)
		}
		start := unix(1600000000 + r.Int64N(1e8))
		end := start.Add(time.Duration(1+r.IntN(7200)) * time.Second)
		compareWithSDK(t, fmt.Sprintf("case %d", i), s, creds, start, end)
		if t.Failed() {
			return
		}
	}
}

// FuzzSignMatchesSDK compares Sign with the SDK on fuzzed keys, queries and
// header values.
func FuzzSignMatchesSDK(f *testing.F) {
	f.Add("media/my video+final 100%/视频 1.mp4", "name=&object=a%2Fb&workflowId=w", "v")
	f.Add("a", "acl", "")
	f.Add("x", "a=1;b&c=%zz&A=2&a=+", "你好")
	f.Fuzz(func(t *testing.T, path, rawQuery, hv string) {
		s := reqSpec{method: "POST", host: ciHost, path: "/" + path, rawQuery: rawQuery,
			headers: [][2]string{{"X-Cos-Meta-F", hv}}}
		u := &url.URL{Scheme: "http", Host: s.host, Path: s.path, RawQuery: s.rawQuery}
		if _, err := http.NewRequest(s.method, u.String(), nil); err != nil {
			t.Skip()
		}
		compareWithSDK(t, "fuzz", s, Credentials{SecretID: "id", SecretKey: "key", SessionToken: "t"}, unix(1700000000), unix(1700003600))
	})
}

func TestKeyCacheWindows(t *testing.T) {
	c := keyCache{secretKey: docCreds.SecretKey}
	now := unix(1700000060)
	k1 := c.get(now)
	if k1.keyTime != "1700000000;1700003600" {
		t.Fatalf("keyTime = %q, want 1700000000;1700003600", k1.keyTime)
	}
	if string(k1.key[:]) != "552178a693a0d230b84a4f15c143bc3c2cb3d9c0" {
		t.Errorf("SignKey = %s, want the vector's", k1.key[:])
	}
	if k2 := c.get(now.Add(50 * time.Minute)); k2 != k1 {
		t.Errorf("get(+50m) made a new window %q; want the cached one", k2.keyTime)
	}
	k3 := c.get(now.Add(56 * time.Minute)) // less than 5 min left
	if k3 == k1 {
		t.Fatalf("get(+56m) kept window %q with < 5 min left", k1.keyTime)
	}
	if want := "1700003360;1700006960"; k3.keyTime != want {
		t.Errorf("new keyTime = %q, want %q", k3.keyTime, want)
	}
	if k4 := c.get(now); k4 == k3 {
		t.Errorf("get(earlier than window start) reused window %q", k3.keyTime)
	}
}
