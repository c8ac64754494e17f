package tencent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/internal/fakeclock"
)

// countingProvider hands out credentials n (AKIDtempN…) that expire life
// after the clock's now; a call blocks while gate is non-nil and open.
type countingProvider struct {
	clock *fakeclock.Clock
	life  time.Duration
	calls atomic.Int64
	gate  chan struct{}
	fail  atomic.Bool
}

func (p *countingProvider) Retrieve(ctx context.Context) (Credentials, time.Time, error) {
	n := p.calls.Add(1)
	if p.gate != nil {
		select {
		case <-p.gate:
		case <-ctx.Done():
			return Credentials{}, time.Time{}, ctx.Err()
		}
	}
	if p.fail.Load() {
		return Credentials{}, time.Time{}, errors.New("metadata service down")
	}
	s := strconv.FormatInt(n, 10)
	return Credentials{SecretID: "AKIDtemp" + s, SecretKey: "tempKey" + s, SessionToken: "tempToken" + s}, p.clock.Now().Add(p.life), nil
}

func (p *countingProvider) Describe() string { return "counting" }

// countingRefresher returns a Refresher of a countingProvider whose
// credentials live life, both on one fake clock at 1700000000.
func countingRefresher(life time.Duration) (*Refresher, *countingProvider, *fakeclock.Clock) {
	clock := fakeclock.New(time.Unix(1700000000, 0))
	p := &countingProvider{clock: clock, life: life}
	return NewRefresher(p, RefresherOptions{Now: clock.Now}), p, clock
}

// eventually polls cond until it holds or 10 s have passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRefresherRenewsAheadWithoutStalling(t *testing.T) {
	r, p, clock := countingRefresher(time.Hour)
	ctx := context.Background()
	first, err := r.Credentials(ctx)
	if err != nil || first.SecretID != "AKIDtemp1" {
		t.Fatalf("first Credentials = %q, %v; want AKIDtemp1", first.SecretID, err)
	}
	clock.Advance(54 * time.Minute) // 6 min left: not yet due (5 min ahead)
	if c, _ := r.Credentials(ctx); c != first || p.calls.Load() != 1 {
		t.Fatalf("renewed %d times with 6 min left, want none", p.calls.Load()-1)
	}

	// Due: the renewal blocks in the provider, and callers keep getting the
	// current credentials meanwhile, with one renewal only.
	p.gate = make(chan struct{})
	clock.Advance(2 * time.Minute)
	for range 100 {
		if c, err := r.Credentials(ctx); c != first || err != nil {
			t.Fatalf("during the renewal Credentials = %q, %v; want the current ones", c.SecretID, err)
		}
	}
	eventually(t, "renewal started", func() bool { return p.calls.Load() == 2 })
	close(p.gate)
	eventually(t, "renewal done", func() bool { c, _ := r.Credentials(ctx); return c.SecretID == "AKIDtemp2" })
	if n := p.calls.Load(); n != 2 {
		t.Errorf("%d renewals, want 1", n-1)
	}
	for _, s := range []string{"AKIDtemp1", "tempKey1", "tempToken1", "AKIDtemp2", "tempKey2", "tempToken2"} {
		if got := r.Redact("x " + s + " y"); got != "x [REDACTED] y" {
			t.Errorf("Redact shows %q: %q", s, got)
		}
	}
}

func TestRefresherShortLife(t *testing.T) {
	r, p, clock := countingRefresher(4 * time.Second)
	ctx := context.Background()
	r.Credentials(ctx)
	clock.Advance(1900 * time.Millisecond) // before half the life
	r.Credentials(ctx)
	if p.calls.Load() != 1 {
		t.Fatal("renewed before half the life")
	}
	clock.Advance(200 * time.Millisecond)
	r.Credentials(ctx)
	eventually(t, "renewal at half the life", func() bool { return p.calls.Load() == 2 })
}

func TestRefresherExpiredWaitsOnce(t *testing.T) {
	r, p, clock := countingRefresher(time.Minute)
	ctx := context.Background()
	r.Credentials(ctx)
	p.gate = make(chan struct{})
	clock.Advance(2 * time.Minute) // expired: callers must wait
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _ := r.Credentials(ctx)
			got[i] = c.SecretID
		}()
	}
	eventually(t, "renewal started", func() bool { return p.calls.Load() == 2 })
	close(p.gate)
	wg.Wait()
	for i, id := range got {
		if id != "AKIDtemp2" {
			t.Errorf("caller %d got %q, want AKIDtemp2", i, id)
		}
	}
	if n := p.calls.Load(); n != 2 {
		t.Errorf("%d renewals for 20 waiting callers, want 1", n-1)
	}
}

func TestRefresherFailure(t *testing.T) {
	r, p, clock := countingRefresher(time.Hour)
	ctx := context.Background()
	first, _ := r.Credentials(ctx)
	p.fail.Store(true)
	clock.Advance(56 * time.Minute)
	if c, err := r.Credentials(ctx); c != first || err != nil {
		t.Fatalf("a failing renewal ahead of expiry: Credentials = %q, %v; want the current ones", c.SecretID, err)
	}
	eventually(t, "renewal tried", func() bool { return p.calls.Load() == 2 })
	for range 10 {
		r.Credentials(ctx)
	}
	time.Sleep(20 * time.Millisecond)
	if n := p.calls.Load(); n != 2 {
		t.Errorf("%d renewals right after a failure, want 1 (then a pause)", n-1)
	}
	clock.Advance(5 * time.Minute) // expired
	_, err := r.Credentials(ctx)
	if err == nil || ClassOf(err) != Fatal || !strings.Contains(err.Error(), "metadata service down") {
		t.Fatalf("expired and not renewable: err = %v (class %v), want a Fatal error saying why", err, ClassOf(err))
	}
}

func TestRefresh(t *testing.T) {
	r, p, _ := countingRefresher(time.Hour)
	ctx := context.Background()
	stale, _ := r.Credentials(ctx)
	fresh, err := r.Refresh(ctx, stale)
	if err != nil || fresh.SecretID != "AKIDtemp2" {
		t.Fatalf("Refresh = %q, %v; want AKIDtemp2", fresh.SecretID, err)
	}
	// A second caller with the same stale credentials gets the new ones
	// without another fetch.
	if again, _ := r.Refresh(ctx, stale); again != fresh || p.calls.Load() != 2 {
		t.Errorf("second Refresh of the same stale credentials fetched again (%d calls)", p.calls.Load())
	}
}

// expiringServer answers triggers signed with credentials it minted and has
// not yet expired; expired ones get 400 ExpiredToken.
type expiringServer struct {
	mu      sync.Mutex
	valid   map[string]bool
	calls   int
	expired int
}

func (s *expiringServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	ak := ""
	for _, f := range strings.Split(r.Header.Get("Authorization"), "&") {
		if v, ok := strings.CutPrefix(f, "q-ak="); ok {
			ak = v
		}
	}
	if !s.valid[ak] {
		s.expired++
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `<Error><Code>ExpiredToken</Code><Message>The provided token has expired: `+r.Header.Get("X-Cos-Security-Token")+`</Message></Error>`)
		return
	}
	okTrigger(w, r)
}

func TestClientRetriesOnceAfterExpiredToken(t *testing.T) {
	r, _, _ := countingRefresher(time.Hour)
	srv := &expiringServer{valid: map[string]bool{"AKIDtemp2": true}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c, err := NewClient(Config{CIEndpoint: hs.URL, Source: r})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Trigger(context.Background(), TriggerInput{WorkflowID: wfID, Key: "a.mp4"})
	if err != nil || res.InstanceID == "" {
		t.Fatalf("Trigger = %+v, %v; want a success after one refresh", res, err)
	}
	if srv.calls != 2 || srv.expired != 1 {
		t.Errorf("server got %d calls (%d expired), want 2 (1)", srv.calls, srv.expired)
	}

	// When the source has nothing newer, the ExpiredToken answer is the
	// result (Fatal), after one call, its echo of the token redacted.
	srv.valid = map[string]bool{}
	srv.calls, srv.expired = 0, 0
	c2, _ := NewClient(Config{CIEndpoint: hs.URL, Source: StaticSource(Credentials{SecretID: "AKIDstatic", SecretKey: "staticKey", SessionToken: "staticToken"})})
	_, err = c2.Trigger(context.Background(), TriggerInput{WorkflowID: wfID, Key: "a.mp4"})
	if ClassOf(err) != Fatal || srv.calls != 1 || strings.Contains(err.Error(), "staticToken") {
		t.Errorf("static source: err = %v (class %v) after %d calls; want Fatal ExpiredToken after 1, token redacted", err, ClassOf(err), srv.calls)
	}
}

func TestSecrets(t *testing.T) {
	s := NewSecrets()
	s.Add(Credentials{SecretID: "AKIDabcdef", SecretKey: "s3cr3t+key/==", SessionToken: "tok"})
	s.AddString("longtoken-with-AKIDabcdef-inside")
	tests := []struct{ in, want string }{
		{"id AKIDabcdef key s3cr3t+key/==", "id [REDACTED] key [REDACTED]"},
		{"encoded s3cr3t%2Bkey%2F%3D%3D", "encoded [REDACTED]"},
		{"short tok stays", "short tok stays"},
		{"whole longtoken-with-AKIDabcdef-inside", "whole [REDACTED]"},
	}
	for _, tt := range tests {
		if got := s.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// writeFile writes content to dir/name and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// closedEndpoint is a loopback URL where nothing listens.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	hs := httptest.NewServer(http.NotFoundHandler())
	u := hs.URL
	hs.Close()
	return u
}

func TestProfile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          Credentials
		wantErr       string
	}{
		{"keys", "# comment\n[other]\nsecret_id = AKIDother\nsecret_key = otherKey\n\n[default]\nsecret_id = AKIDprofile1\nsecret_key = profileKey1\n", Credentials{SecretID: "AKIDprofile1", SecretKey: "profileKey1"}, ""},
		{"token quoted crlf", "[default]\r\nsecret_id=\"AKIDprofile2\"\r\nsecret_key = profileKey2\r\ntoken = profileToken2\r\n", Credentials{SecretID: "AKIDprofile2", SecretKey: "profileKey2", SessionToken: "profileToken2"}, ""},
		{"no default", "[prod]\nsecret_id = AKIDx\nsecret_key = k\n", Credentials{}, "no [default] section"},
		{"no key", "[default]\nsecret_id = AKIDprofile3\n", Credentials{}, "no secret_key"},
		{"garbage", "[default]\nsecret_id AKIDprofile4\n", Credentials{}, "line 2: want key = value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, tt.name, tt.content)
			r, err := OpenCredentials(context.Background(), SourceConfig{Source: SourceProfile, Getenv: envOf(map[string]string{EnvCredentialsFile: p})})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "AKIDprofile") {
					t.Fatalf("OpenCredentials(%s) error = %v, want one with %q and no secret", tt.name, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := r.Credentials(context.Background()); got != tt.want {
				t.Errorf("credentials of %s = %q %q %q", tt.name, got.SecretID, got.SecretKey, got.SessionToken)
			}
			if d := r.Describe(); d != "profile ("+p+")" {
				t.Errorf("Describe = %q", d)
			}
		})
	}
}

// metadataServer is a CVM metadata service for role "wfrole" whose
// credentials live life from each call.
type metadataServer struct {
	life  time.Duration
	calls atomic.Int64
}

func (m *metadataServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case cvmCredentialsPath:
		io.WriteString(w, "wfrole\n")
	case cvmCredentialsPath + "wfrole":
		n := strconv.FormatInt(m.calls.Add(1), 10)
		exp := time.Now().Add(m.life)
		json.NewEncoder(w).Encode(map[string]any{"TmpSecretId": "AKIDcvm" + n, "TmpSecretKey": "cvmKey" + n, "Token": "cvmToken" + n,
			"ExpiredTime": exp.Unix(), "Expiration": exp.UTC().Format(time.RFC3339), "Code": "Success"})
	default:
		http.NotFound(w, r)
	}
}

func TestCVMRole(t *testing.T) {
	m := &metadataServer{life: time.Hour}
	hs := httptest.NewServer(m)
	defer hs.Close()
	clock := fakeclock.New(time.Now())
	r, err := OpenCredentials(context.Background(), SourceConfig{Source: SourceCVMRole, Now: clock.Now, Getenv: envOf(map[string]string{EnvMetadataEndpoint: hs.URL})})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Credentials(context.Background())
	if c.SecretID != "AKIDcvm1" || c.SessionToken != "cvmToken1" || r.Describe() != "cvm-role (role wfrole)" {
		t.Fatalf("credentials %q token %q from %s", c.SecretID, c.SessionToken, r.Describe())
	}
	clock.Advance(56 * time.Minute) // rotation: due 5 min before expiry
	r.Credentials(context.Background())
	eventually(t, "rotation", func() bool { c, _ := r.Credentials(context.Background()); return c.SecretID == "AKIDcvm2" })
	if !strings.Contains(r.Redact("AKIDcvm1 cvmKey2"), "[REDACTED] [REDACTED]") {
		t.Error("old or new secrets not redacted")
	}
}

func TestCVMRoleErrors(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == cvmCredentialsPath {
			io.WriteString(w, "wfrole")
			return
		}
		io.WriteString(w, `{"Code":"Failed"}`)
	}))
	defer hs.Close()
	_, err := OpenCredentials(context.Background(), SourceConfig{Source: SourceCVMRole, Getenv: envOf(map[string]string{EnvMetadataEndpoint: hs.URL})})
	if err == nil || !strings.Contains(err.Error(), `Code "Failed"`) {
		t.Errorf("Code Failed: err = %v", err)
	}
	noRole := httptest.NewServer(http.NotFoundHandler())
	defer noRole.Close()
	_, err = OpenCredentials(context.Background(), SourceConfig{Source: SourceCVMRole, Getenv: envOf(map[string]string{EnvMetadataEndpoint: noRole.URL})})
	if err == nil || !strings.Contains(err.Error(), "no CAM role") {
		t.Errorf("no role: err = %v", err)
	}
}

func TestOIDC(t *testing.T) {
	dir := t.TempDir()
	tokenFile := writeFile(t, dir, "token", "eyJwebIdentityTokenSecret\n")
	var got struct {
		header http.Header
		body   map[string]any
	}
	reject := atomic.Bool{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.header = r.Header.Clone()
		json.NewDecoder(r.Body).Decode(&got.body)
		if reject.Load() {
			fmt.Fprintf(w, `{"Response":{"Error":{"Code":"InvalidParameter.WebIdentityTokenError","Message":"bad token %s"},"RequestId":"req-1"}}`, got.body["WebIdentityToken"])
			return
		}
		fmt.Fprintf(w, `{"Response":{"Credentials":{"Token":"stsToken1","TmpSecretId":"AKIDsts1","TmpSecretKey":"stsKey1"},"ExpiredTime":%d,"Expiration":"x","RequestId":"req-2"}}`, time.Now().Add(time.Hour).Unix())
	}))
	defer hs.Close()
	env := map[string]string{EnvTKERegion: "ap-guangzhou", EnvTKEProviderID: "provider-1", EnvTKETokenFile: tokenFile,
		EnvTKERoleARN: "qcs::cam::uin/100000000001:roleName/wftrigger", EnvSTSEndpoint: hs.URL}
	r, err := OpenCredentials(context.Background(), SourceConfig{Getenv: envOf(env)}) // auto: no env keys, no profile
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Credentials(context.Background())
	if c != (Credentials{SecretID: "AKIDsts1", SecretKey: "stsKey1", SessionToken: "stsToken1"}) {
		t.Errorf("credentials %q %q %q", c.SecretID, c.SecretKey, c.SessionToken)
	}
	if d := r.Describe(); d != "oidc (role qcs::cam::uin/100000000001:roleName/wftrigger)" {
		t.Errorf("Describe = %q", d)
	}
	wantHeaders := map[string]string{"Authorization": "SKIP", "X-Tc-Action": "AssumeRoleWithWebIdentity", "X-Tc-Version": "2018-08-13",
		"X-Tc-Region": "ap-guangzhou", "Content-Type": "application/json; charset=utf-8"}
	for k, v := range wantHeaders {
		if g := got.header.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	if got.header.Get("X-Tc-Timestamp") == "" {
		t.Error("no X-TC-Timestamp")
	}
	if got.body["WebIdentityToken"] != "eyJwebIdentityTokenSecret" || got.body["ProviderId"] != "provider-1" ||
		got.body["RoleArn"] != env[EnvTKERoleARN] || got.body["DurationSeconds"] != 7200.0 ||
		!strings.HasPrefix(fmt.Sprint(got.body["RoleSessionName"]), "wftrigger-") {
		t.Errorf("body %v", got.body)
	}

	reject.Store(true)
	_, err = OpenCredentials(context.Background(), SourceConfig{Source: SourceOIDC, Getenv: envOf(env)})
	if err == nil || !strings.Contains(err.Error(), "InvalidParameter.WebIdentityTokenError") || strings.Contains(err.Error(), "eyJwebIdentityTokenSecret") {
		t.Errorf("rejected: err = %v, want the code and no token", err)
	}
	delete(env, EnvTKEProviderID)
	_, err = OpenCredentials(context.Background(), SourceConfig{Getenv: envOf(env)})
	if err == nil || !strings.Contains(err.Error(), EnvTKEProviderID+" not set") {
		t.Errorf("partial TKE_*: err = %v", err)
	}
}

func TestAuto(t *testing.T) {
	home := t.TempDir()
	m := httptest.NewServer(&metadataServer{life: time.Hour})
	defer m.Close()
	closed := closedEndpoint(t)
	profileHome := t.TempDir()
	writeFile(t, profileHome, ".tencentcloud/credentials", "[default]\nsecret_id = AKIDprofile\nsecret_key = profileKey\n")
	tests := []struct {
		name string
		env  map[string]string
		want string // Describe, or the error's text
	}{
		{"env first", map[string]string{EnvSecretID: "AKIDenv", EnvSecretKey: "k", "HOME": profileHome, EnvMetadataEndpoint: m.URL}, "env (TENCENTCLOUD_SECRET_ID)"},
		{"cos env", map[string]string{EnvCOSSecretID: "AKIDenv", EnvCOSSecretKey: "k"}, "env (COS_SECRETID)"},
		{"profile in HOME", map[string]string{"HOME": profileHome, EnvMetadataEndpoint: m.URL}, "profile (" + filepath.Join(profileHome, ".tencentcloud", "credentials") + ")"},
		{"falls through to cvm-role", map[string]string{"HOME": home, EnvMetadataEndpoint: m.URL}, "cvm-role (role wfrole)"},
		{"none", map[string]string{"HOME": home, EnvMetadataEndpoint: closed}, "no credentials: tried env (TENCENTCLOUD_SECRET_ID, COS_SECRETID: unset); profile (" +
			filepath.Join(home, ".tencentcloud", "credentials") + ": not found); oidc (TKE_ROLE_ARN and the other TKE_* variables unset); cvm-role (" + closed + ": the metadata service cannot be reached"},
		{"env half set is an error", map[string]string{EnvSecretID: "AKIDenv", "HOME": profileHome}, "credentials: TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r, err := OpenCredentials(context.Background(), SourceConfig{Source: SourceAuto, Getenv: envOf(tt.env)})
			var got string
			if err != nil {
				got = err.Error()
			} else {
				got = r.Describe()
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("auto = %q, want %q", got, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("auto took %v", d)
			}
		})
	}
}

func TestAutoUnreachableMetadataIsBounded(t *testing.T) {
	// A metadata service that accepts and never answers: auto gives up after
	// its probe timeout.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hs.Close()
	_, err := OpenCredentials(context.Background(), SourceConfig{Getenv: envOf(map[string]string{"HOME": t.TempDir(), EnvMetadataEndpoint: hs.URL}), ProbeTimeout: 100 * time.Millisecond})
	var nc *NoCredentialsError
	if !errors.As(err, &nc) || !strings.Contains(err.Error(), "did not answer in time") {
		t.Errorf("err = %v, want NoCredentialsError saying the metadata service did not answer", err)
	}
}
