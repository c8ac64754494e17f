package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// metadataCreds is the metadata service's answer.
type metadataCreds struct {
	TmpSecretId, TmpSecretKey, Token, Expiration, Code string
	ExpiredTime                                        int64
}

func fetchMetadata(t *testing.T, s *Server, path string) *httptest.ResponseRecorder {
	t.Helper()
	return serve(s, httptest.NewRequest(http.MethodGet, "http://metadata.tencentyun.com"+path, nil))
}

// signedTemp is a trigger signed with temporary credentials.
func signedTemp(c metadataCreds, key string, now time.Time) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://"+testHost+triggerTarget(testWorkflow, key), nil)
	r.Header.Set("X-Cos-Security-Token", c.Token)
	testSign(r, c.TmpSecretId, c.TmpSecretKey, now.Add(-time.Minute), now.Add(time.Hour), "X-Cos-Security-Token")
	return r
}

func TestMetadataRotatesAndExpires(t *testing.T) {
	s, clock := newTestServer(t, func(c *Config) { c.Issuer = IssuerConfig{Role: "wfrole", Life: 3 * time.Second} })
	if w := fetchMetadata(t, s, metadataCredentialsPath); w.Code != 200 || w.Body.String() != "wfrole" {
		t.Fatalf("role list = %d %q, want 200 wfrole", w.Code, w.Body)
	}
	if w := fetchMetadata(t, s, metadataCredentialsPath+"other"); w.Code != 404 {
		t.Errorf("unknown role = %d, want 404", w.Code)
	}
	var first, second metadataCreds
	json.Unmarshal(fetchMetadata(t, s, metadataCredentialsPath+"wfrole").Body.Bytes(), &first)
	if first.Code != "Success" || first.TmpSecretId == "" || first.Token == "" || first.ExpiredTime != clock.Now().Add(3*time.Second).Unix() {
		t.Fatalf("credentials = %+v", first)
	}
	clock.Advance(2 * time.Second)
	json.Unmarshal(fetchMetadata(t, s, metadataCredentialsPath+"wfrole").Body.Bytes(), &second)
	if second.TmpSecretId == first.TmpSecretId || second.Token == first.Token {
		t.Fatal("the second answer repeats the first credentials")
	}
	now := clock.Now()
	for _, c := range []metadataCreds{first, second} {
		if w := serve(s, signedTemp(c, "a-"+c.TmpSecretId, now)); w.Code != 200 {
			t.Errorf("trigger with live credentials %s = %d %s", c.TmpSecretId, w.Code, w.Body)
		}
	}
	bad := first
	bad.Token = second.Token
	if w := serve(s, signedTemp(bad, "bad", now)); w.Code != 403 {
		t.Errorf("another credential's token = %d, want 403", w.Code)
	}
	clock.Advance(1500 * time.Millisecond) // first expired, second not
	w := serve(s, signedTemp(first, "late", clock.Now()))
	if e := decodeError(t, w.Body.Bytes()); w.Code != 400 || e.Code != "ExpiredToken" {
		t.Errorf("expired credentials = %d %s, want 400 ExpiredToken", w.Code, e.Code)
	}
	if w := serve(s, signedTemp(second, "b", clock.Now())); w.Code != 200 {
		t.Errorf("live credentials after another expired = %d", w.Code)
	}
	if st := s.IssuerStats(); st.Minted != 2 || st.Expired != 1 {
		t.Errorf("IssuerStats = %+v, want 2 minted, 1 expired", st)
	}
	if n := len(s.Triggers()); n != 3 {
		t.Errorf("%d triggers accepted, want 3", n)
	}
}

func TestSTS(t *testing.T) {
	const arn = "qcs::cam::uin/100000000001:roleName/wftrigger"
	s, _ := newTestServer(t, func(c *Config) { c.Issuer = IssuerConfig{RoleARN: arn, WebIdentityToken: "jwt-1"} })
	call := func(body string, edit func(http.Header)) (out struct {
		Response struct {
			Credentials struct{ Token, TmpSecretId, TmpSecretKey string }
			ExpiredTime int64
			Error       *struct{ Code, Message string }
		}
	}) {
		r := httptest.NewRequest(http.MethodPost, "http://sts.tencentcloudapi.com/", strings.NewReader(body))
		for k, v := range map[string]string{"Authorization": "SKIP", "X-TC-Action": "AssumeRoleWithWebIdentity", "X-TC-Version": "2018-08-13",
			"X-TC-Region": "ap-guangzhou", "X-TC-Timestamp": "1700000000", "Content-Type": "application/json; charset=utf-8"} {
			r.Header.Set(k, v)
		}
		if edit != nil {
			edit(r.Header)
		}
		w := serve(s, r)
		if w.Code != 200 {
			t.Fatalf("STS answered HTTP %d", w.Code)
		}
		json.Unmarshal(w.Body.Bytes(), &out)
		return out
	}
	good := `{"ProviderId":"p","WebIdentityToken":"jwt-1","RoleArn":"` + arn + `","RoleSessionName":"s","DurationSeconds":7200}`
	out := call(good, nil)
	if out.Response.Error != nil || out.Response.Credentials.TmpSecretId == "" || out.Response.ExpiredTime == 0 {
		t.Fatalf("AssumeRoleWithWebIdentity = %+v", out.Response)
	}
	tests := []struct {
		name, body string
		edit       func(http.Header)
		code       string
	}{
		{"wrong token", strings.Replace(good, "jwt-1", "jwt-2", 1), nil, "InvalidParameter.WebIdentityTokenError"},
		{"wrong role", strings.Replace(good, "wftrigger", "other", 1), nil, "InvalidParameter.RoleNotExist"},
		{"signed", good, func(h http.Header) { h.Set("Authorization", "TC3-HMAC-SHA256 x") }, "AuthFailure.InvalidAuthorization"},
		{"wrong version", good, func(h http.Header) { h.Set("X-TC-Version", "2019-01-01") }, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		if out := call(tt.body, tt.edit); out.Response.Error == nil || out.Response.Error.Code != tt.code {
			t.Errorf("%s: answer %+v, want error %s", tt.name, out.Response, tt.code)
		}
	}
}
