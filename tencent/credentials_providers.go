package tencent

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The providers are written here rather than taken from
// github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common: its CVM
// provider hard-codes the metadata host (no WFTRIGGER_METADATA_ENDPOINT),
// calls http.Get without a timeout (auto could hang on a host without a
// metadata service) and logs with log.Println; its OIDC provider builds a
// whole API client for one unsigned JSON call. What the SDK would have
// given — an INI reader, an STS call sent with "Authorization: SKIP" — is a
// hundred lines here, with timeouts, the overrides, and no dependency.

// Names of the credential sources, as --credentials takes them. SourceAuto
// takes the first that is configured, in the order env, profile, oidc,
// cvm-role.
const (
	SourceAuto    = "auto"
	SourceEnv     = "env"
	SourceProfile = "profile"
	SourceOIDC    = "oidc"
	SourceCVMRole = "cvm-role"
)

// SourceList names the credential sources in the order SourceAuto tries
// them, for usage texts.
const SourceList = SourceEnv + ", " + SourceProfile + ", " + SourceOIDC + ", " + SourceCVMRole

// Environment variables of the profile, OIDC and CVM role sources.
const (
	EnvCredentialsFile  = "TENCENTCLOUD_CREDENTIALS_FILE"
	EnvTKERegion        = "TKE_REGION"
	EnvTKEProviderID    = "TKE_PROVIDER_ID"
	EnvTKETokenFile     = "TKE_WEB_IDENTITY_TOKEN_FILE"
	EnvTKERoleARN       = "TKE_ROLE_ARN"
	EnvSTSEndpoint      = "WFTRIGGER_STS_ENDPOINT"
	EnvMetadataEndpoint = "WFTRIGGER_METADATA_ENDPOINT"
)

// Endpoints of the temporary credential services.
const (
	DefaultSTSEndpoint      = "https://sts.tencentcloudapi.com"
	DefaultMetadataEndpoint = "http://metadata.tencentyun.com"
)

// Timeouts of the credential services: the metadata service answers from
// the host, so an instance without one is told within metadataProbeTimeout
// in auto; STS is a remote API.
const (
	metadataProbeTimeout = 2 * time.Second
	metadataTimeout      = 5 * time.Second
	stsTimeout           = 10 * time.Second
	oidcDuration         = 2 * time.Hour // DurationSeconds asked of AssumeRoleWithWebIdentity
)

// SourceConfig says where OpenCredentials looks for credentials.
type SourceConfig struct {
	// Source is one of the Source* names; "" means SourceAuto.
	Source string
	// Getenv reads the environment (os.Getenv in main).
	Getenv func(string) string
	// HTTPClient makes the STS and metadata calls; nil means private
	// clients with short timeouts (and no proxy for the metadata service).
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Secrets remembers every secret handed out (and the OIDC web identity
	// token); nil means a new Secrets.
	Secrets *Secrets
	// ProbeTimeout bounds, in auto, the wait for the metadata service
	// before "no credentials"; 0 means 2 s.
	ProbeTimeout time.Duration
}

// NoCredentialsError says that no source was configured: Tried names each
// source and why it was passed over.
type NoCredentialsError struct {
	Tried []string
}

// Error lists the sources tried.
func (e *NoCredentialsError) Error() string {
	return "no credentials: tried " + strings.Join(e.Tried, "; ")
}

// OpenCredentials picks the source of cfg.Source, fetches its credentials
// once (so that a wrong configuration fails before any work) and returns a
// Refresher that renews them. In auto, a source that is configured but
// fails is an error, not a reason to go on to the next one.
func OpenCredentials(ctx context.Context, cfg SourceConfig) (*Refresher, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = func(string) string { return "" }
	}
	if cfg.Secrets == nil {
		cfg.Secrets = NewSecrets()
	}
	var (
		p   Provider
		err error
	)
	switch cfg.Source {
	case "", SourceAuto:
		p, err = autoProvider(ctx, cfg)
	case SourceEnv:
		p = &envProvider{getenv: cfg.Getenv}
	case SourceProfile:
		p = &profileProvider{path: profilePath(cfg.Getenv)}
		if p.(*profileProvider).path == "" {
			err = errors.New("profile: set " + EnvCredentialsFile + " or HOME")
		}
	case SourceOIDC:
		p, err = newOIDCProvider(cfg)
	case SourceCVMRole:
		p = newCVMProvider(cfg)
	default:
		return nil, fmt.Errorf("credentials source %q: want auto, %s", cfg.Source, SourceList)
	}
	if err != nil {
		return nil, err
	}
	r := NewRefresher(p, RefresherOptions{Now: cfg.Now, Secrets: cfg.Secrets})
	if _, err := r.Credentials(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// autoProvider returns the first configured source.
func autoProvider(ctx context.Context, cfg SourceConfig) (Provider, error) {
	getenv := cfg.Getenv
	var tried []string
	if envConfigured(getenv) {
		return &envProvider{getenv: getenv}, nil
	}
	tried = append(tried, "env ("+EnvSecretID+", "+EnvCOSSecretID+": unset)")

	if path := getenv(EnvCredentialsFile); path != "" {
		return &profileProvider{path: path}, nil
	}
	if path := profilePath(getenv); path == "" {
		tried = append(tried, "profile ("+EnvCredentialsFile+" and HOME unset)")
	} else if _, err := os.Stat(path); err == nil {
		return &profileProvider{path: path}, nil
	} else {
		tried = append(tried, "profile ("+path+": not found)")
	}

	if oidcConfigured(getenv) {
		return newOIDCProvider(cfg)
	}
	tried = append(tried, "oidc ("+EnvTKERoleARN+" and the other TKE_* variables unset)")

	cvm := newCVMProvider(cfg)
	probe := cfg.ProbeTimeout
	if probe <= 0 {
		probe = metadataProbeTimeout
	}
	pctx, cancel := context.WithTimeout(ctx, probe)
	defer cancel()
	if _, err := cvm.roleName(pctx); err == nil {
		return cvm, nil
	} else {
		tried = append(tried, "cvm-role ("+cvm.base+": "+err.Error()+")")
	}
	return nil, &NoCredentialsError{Tried: tried}
}

// envProvider reads CredentialsFromEnv.
type envProvider struct {
	getenv func(string) string
}

func envConfigured(getenv func(string) string) bool {
	for _, v := range [...]string{EnvSecretID, EnvSecretKey, EnvCOSSecretID, EnvCOSSecretKey} {
		if getenv(v) != "" {
			return true
		}
	}
	return false
}

func (p *envProvider) Retrieve(context.Context) (Credentials, time.Time, error) {
	c, err := CredentialsFromEnv(p.getenv)
	return c, time.Time{}, err
}

func (p *envProvider) Describe() string {
	if p.getenv(EnvSecretID) == "" && p.getenv(EnvSecretKey) == "" && (p.getenv(EnvCOSSecretID) != "" || p.getenv(EnvCOSSecretKey) != "") {
		return "env (" + EnvCOSSecretID + ")"
	}
	return "env (" + EnvSecretID + ")"
}

// profilePath is TENCENTCLOUD_CREDENTIALS_FILE, else
// ~/.tencentcloud/credentials; "" when neither it nor HOME is set.
func profilePath(getenv func(string) string) string {
	if p := getenv(EnvCredentialsFile); p != "" {
		return p
	}
	home := getenv("HOME")
	if home == "" {
		home = getenv("USERPROFILE")
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".tencentcloud", "credentials")
}

// profileProvider reads the [default] section of an INI profile file, on
// every Retrieve: a file rewritten with new keys is picked up on the next
// refresh.
type profileProvider struct {
	path string
}

func (p *profileProvider) Describe() string { return "profile (" + p.path + ")" }

func (p *profileProvider) Retrieve(context.Context) (Credentials, time.Time, error) {
	b, err := os.ReadFile(p.path)
	if err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("profile: %w", err)
	}
	values, err := parseINISection(b, "default")
	if err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("profile %s: %w", p.path, err)
	}
	c := Credentials{SecretID: values["secret_id"], SecretKey: values["secret_key"], SessionToken: values["token"]}
	switch {
	case c.SecretID == "" && c.SecretKey == "":
		return Credentials{}, time.Time{}, fmt.Errorf("profile %s: [default] has no secret_id and secret_key", p.path)
	case c.SecretID == "":
		return Credentials{}, time.Time{}, fmt.Errorf("profile %s: [default] has secret_key but no secret_id: set both", p.path)
	case c.SecretKey == "":
		return Credentials{}, time.Time{}, fmt.Errorf("profile %s: [default] has secret_id but no secret_key: set both", p.path)
	}
	return c, time.Time{}, nil
}

// parseINISection returns the key = value pairs of [section], keys
// lower-cased, values with surrounding white space and quotes removed.
// Lines starting with '#' or ';' are comments.
func parseINISection(b []byte, section string) (map[string]string, error) {
	values := map[string]string{}
	found, in := false, false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: unterminated section header", n)
			}
			in = strings.TrimSpace(line[1:len(line)-1]) == section
			found = found || in
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: want key = value", n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		values[strings.ToLower(strings.TrimSpace(k))] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("no [%s] section", section)
	}
	return values, nil
}

// oidcProvider calls STS AssumeRoleWithWebIdentity with the TKE pod
// identity's web identity token (read again on every call: it rotates).
type oidcProvider struct {
	region, providerID, tokenFile, roleARN string
	url, host                              string
	http                                   *http.Client
	now                                    func() time.Time
	secrets                                *Secrets
}

func oidcConfigured(getenv func(string) string) bool {
	for _, v := range [...]string{EnvTKERegion, EnvTKEProviderID, EnvTKETokenFile, EnvTKERoleARN} {
		if getenv(v) != "" {
			return true
		}
	}
	return false
}

func newOIDCProvider(cfg SourceConfig) (*oidcProvider, error) {
	g := cfg.Getenv
	p := &oidcProvider{region: g(EnvTKERegion), providerID: g(EnvTKEProviderID), tokenFile: g(EnvTKETokenFile), roleARN: g(EnvTKERoleARN),
		http: cfg.HTTPClient, now: cfg.Now, secrets: cfg.Secrets}
	var missing []string
	for _, v := range [...][2]string{{EnvTKERegion, p.region}, {EnvTKEProviderID, p.providerID}, {EnvTKETokenFile, p.tokenFile}, {EnvTKERoleARN, p.roleARN}} {
		if v[1] == "" {
			missing = append(missing, v[0])
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("oidc: %s not set (TKE pod identity sets all four)", strings.Join(missing, ", "))
	}
	base := cmp.Or(g(EnvSTSEndpoint), DefaultSTSEndpoint)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("oidc: %s %q: want an http:// or https:// URL", EnvSTSEndpoint, base)
	}
	p.url, p.host = strings.TrimRight(base, "/")+"/", u.Host
	if p.http == nil {
		p.http = &http.Client{Timeout: stsTimeout, Transport: newTransport()}
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

func (p *oidcProvider) Describe() string { return "oidc (role " + p.roleARN + ")" }

// stsAnswer is an API 3.0 answer of AssumeRoleWithWebIdentity.
type stsAnswer struct {
	Response struct {
		Credentials struct {
			Token, TmpSecretId, TmpSecretKey string
		}
		ExpiredTime int64
		Expiration  string
		RequestID   string `json:"RequestId"`
		Error       *struct{ Code, Message string }
	}
}

// Retrieve calls STS as the official SDK does (API 3.0, JSON body,
// unsigned: "Authorization: SKIP"; the web identity token is the proof).
func (p *oidcProvider) Retrieve(ctx context.Context) (Credentials, time.Time, error) {
	const op = "oidc: AssumeRoleWithWebIdentity"
	tok, err := os.ReadFile(p.tokenFile)
	if err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("oidc: read web identity token: %w", err)
	}
	token := strings.TrimSpace(string(tok))
	if token == "" {
		return Credentials{}, time.Time{}, fmt.Errorf("oidc: web identity token file %s is empty", p.tokenFile)
	}
	p.secrets.AddString(token)
	now := p.now()
	body, err := json.Marshal(map[string]any{
		"ProviderId":       p.providerID,
		"WebIdentityToken": token,
		"RoleArn":          p.roleARN,
		"RoleSessionName":  "wftrigger-" + strconv.FormatInt(now.UnixNano()/1000, 10),
		"DurationSeconds":  int64(oidcDuration / time.Second),
	})
	if err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("%s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("%s: %w", op, err)
	}
	req.Host = p.host
	h := req.Header
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Authorization", "SKIP")
	h.Set("X-TC-Action", "AssumeRoleWithWebIdentity")
	h.Set("X-TC-Version", "2018-08-13")
	h.Set("X-TC-Timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("X-TC-Region", p.region)
	resp, err := p.http.Do(req)
	if err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("%s: read answer: %w", op, err)
	}
	var a stsAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("%s: HTTP %d, not an API 3.0 answer: %q", op, resp.StatusCode, truncate(p.secrets.Redact(string(b)), 200))
	}
	r := a.Response
	if r.Error != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("%s: %s: %s (request id %s)", op, r.Error.Code, p.secrets.Redact(r.Error.Message), r.RequestID)
	}
	c := Credentials{SecretID: r.Credentials.TmpSecretId, SecretKey: r.Credentials.TmpSecretKey, SessionToken: r.Credentials.Token}
	if c.SecretID == "" || c.SecretKey == "" || c.SessionToken == "" {
		return Credentials{}, time.Time{}, fmt.Errorf("%s: HTTP %d: the answer has no credentials (request id %s)", op, resp.StatusCode, r.RequestID)
	}
	return c, expiry(r.ExpiredTime, r.Expiration, now.Add(oidcDuration)), nil
}

// expiry reads ExpiredTime (Unix seconds), else Expiration (RFC 3339),
// else returns def.
func expiry(unix int64, rfc3339 string, def time.Time) time.Time {
	if unix > 0 {
		return time.Unix(unix, 0)
	}
	if t, err := time.Parse(time.RFC3339, rfc3339); err == nil {
		return t
	}
	return def
}

// cvmProvider reads the CVM instance role's credentials from the metadata
// service: the role name from …/security-credentials/, then its
// credentials from …/security-credentials/ROLE.
type cvmProvider struct {
	base string
	http *http.Client
	mu   sync.Mutex
	role string
}

const cvmCredentialsPath = "/latest/meta-data/cam/security-credentials/"

func newCVMProvider(cfg SourceConfig) *cvmProvider {
	p := &cvmProvider{base: strings.TrimRight(cmp.Or(cfg.Getenv(EnvMetadataEndpoint), DefaultMetadataEndpoint), "/"), http: cfg.HTTPClient}
	if p.http == nil {
		// The metadata service is on the host: never through a proxy.
		p.http = &http.Client{Timeout: metadataTimeout, Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: metadataProbeTimeout}).DialContext,
			ResponseHeaderTimeout: metadataTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		}}
	}
	return p
}

func (p *cvmProvider) Describe() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.role == "" {
		return "cvm-role"
	}
	return "cvm-role (role " + p.role + ")"
}

// roleName returns the instance's role (the first one listed), asking the
// metadata service once.
func (p *cvmProvider) roleName(ctx context.Context) (string, error) {
	p.mu.Lock()
	role := p.role
	p.mu.Unlock()
	if role != "" {
		return role, nil
	}
	b, status, err := p.fetch(ctx, cvmCredentialsPath)
	if err != nil {
		return "", err
	}
	switch {
	case status == http.StatusNotFound:
		return "", errors.New("no CAM role is bound to this instance")
	case status != http.StatusOK:
		return "", fmt.Errorf("list roles: HTTP %d", status)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if role = strings.TrimSpace(line); role != "" {
			break
		}
	}
	if role == "" {
		return "", errors.New("no CAM role is bound to this instance")
	}
	p.mu.Lock()
	p.role = role
	p.mu.Unlock()
	return role, nil
}

// cvmAnswer is the metadata service's answer for a role.
type cvmAnswer struct {
	TmpSecretId, TmpSecretKey, Token string
	ExpiredTime                      int64
	Expiration                       string
	Code                             string
}

func (p *cvmProvider) Retrieve(ctx context.Context) (Credentials, time.Time, error) {
	role, err := p.roleName(ctx)
	if err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("cvm-role: %s: %w", p.base, err)
	}
	b, status, err := p.fetch(ctx, cvmCredentialsPath+url.PathEscape(role))
	if err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("cvm-role %s: %w", role, err)
	}
	if status != http.StatusOK {
		return Credentials{}, time.Time{}, fmt.Errorf("cvm-role %s: HTTP %d", role, status)
	}
	var a cvmAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("cvm-role %s: the answer is not JSON: %w", role, err)
	}
	if a.Code != "Success" {
		return Credentials{}, time.Time{}, fmt.Errorf("cvm-role %s: the metadata service answered Code %q", role, a.Code)
	}
	c := Credentials{SecretID: a.TmpSecretId, SecretKey: a.TmpSecretKey, SessionToken: a.Token}
	if c.SecretID == "" || c.SecretKey == "" {
		return Credentials{}, time.Time{}, fmt.Errorf("cvm-role %s: the answer has no credentials", role)
	}
	exp := expiry(a.ExpiredTime, a.Expiration, time.Time{})
	if exp.IsZero() {
		return Credentials{}, time.Time{}, fmt.Errorf("cvm-role %s: the answer has no ExpiredTime", role)
	}
	return c, exp, nil
}

// fetch GETs path from the metadata service.
func (p *cvmProvider) fetch(ctx context.Context, path string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, 0, errors.New("the metadata service did not answer in time (not a CVM instance?)")
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already in the caller's message
		}
		return nil, 0, fmt.Errorf("the metadata service cannot be reached: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, 0, fmt.Errorf("read answer: %w", err)
	}
	return b, resp.StatusCode, nil
}
