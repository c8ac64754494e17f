package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// IssuerConfig makes a Server hand out temporary credentials as well, the
// way a CVM instance's metadata service and STS do, and accept them (until
// they expire: then 400 ExpiredToken) besides Config's own credentials.
//
//	GET  /latest/meta-data/cam/security-credentials/        the role name (Role)
//	GET  /latest/meta-data/cam/security-credentials/<Role>  {TmpSecretId, TmpSecretKey, Token, ExpiredTime, Expiration, Code}
//	POST / with X-TC-Action: AssumeRoleWithWebIdentity       STS (API 3.0 JSON, unsigned) for RoleARN
//
// Every answer mints new credentials, valid for Life from then; earlier ones
// stay valid until their own expiry. These paths need no signature; while
// Role is set, objects under latest/meta-data/cam/ cannot be fetched.
type IssuerConfig struct {
	// Role, when set, is the CVM role the metadata paths serve.
	Role string
	// RoleARN, when set, is the role STS AssumeRoleWithWebIdentity accepts.
	RoleARN string
	// WebIdentityToken, when set, is the only web identity token STS accepts.
	WebIdentityToken string
	// Life is how long minted credentials are valid; 0 means an hour.
	Life time.Duration
	// Overstate is added to the expiry announced (ExpiredTime,
	// Expiration), not to the real one: clients then use credentials past
	// their end and must renew them on ExpiredToken.
	Overstate time.Duration
}

// IssuerStats are the counters of the credential issuer.
type IssuerStats struct {
	Minted  int64 // credentials handed out (metadata and STS)
	Expired int64 // requests answered 400 ExpiredToken
}

// IssuerStats returns a snapshot of the issuer's counters.
func (s *Server) IssuerStats() IssuerStats {
	return IssuerStats{Minted: s.temp.minted.Load(), Expired: s.temp.expired.Load()}
}

const metadataCredentialsPath = "/latest/meta-data/cam/security-credentials/"

// tempCred is one set of minted credentials.
type tempCred struct {
	key, token string
	expires    time.Time
}

// tempStore holds the minted credentials by SecretId.
type tempStore struct {
	mu      sync.Mutex
	creds   map[string]tempCred
	minted  atomic.Int64
	expired atomic.Int64
}

// keep is how long expired credentials are remembered, so that they are
// answered ExpiredToken and not InvalidAccessKeyId.
const keep = 10 * time.Minute

// mint makes new credentials valid until expires.
func (t *tempStore) mint(tag string, now, expires time.Time) (id string, c tempCred) {
	n := uint64(t.minted.Add(1))
	var b []byte
	b = appendHex64(b, mix64(n^0x7fb5d329728ea185))
	h := string(b)
	id = "AKIDtmp" + tag[:8] + strconv.FormatUint(n, 10)
	c = tempCred{key: "tmpKey" + h + strconv.FormatUint(n, 10), token: "tmpToken" + h + tag + strconv.FormatUint(n, 10), expires: expires}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.creds == nil {
		t.creds = map[string]tempCred{}
	}
	for k, v := range t.creds {
		if now.Sub(v.expires) > keep {
			delete(t.creds, k)
		}
	}
	t.creds[id] = c
	return id, c
}

// lookup returns the minted credentials of id; a nil store has none.
func (t *tempStore) lookup(id string) (tempCred, bool) {
	if t == nil {
		return tempCred{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.creds[id]
	return c, ok
}

// serveIssuer answers the metadata and STS requests; it reports whether r
// was one.
func (s *Server) serveIssuer(w http.ResponseWriter, r *http.Request) bool {
	ic := s.cfg.Issuer
	switch {
	case ic.Role != "" && strings.HasPrefix(r.URL.Path, metadataCredentialsPath):
		s.serveMetadata(w, r)
		return true
	case ic.RoleARN != "" && r.Method == http.MethodPost && r.URL.Path == "/" && r.Header.Get("X-TC-Action") != "":
		s.serveSTS(w, r)
		return true
	}
	return false
}

func (s *Server) life() time.Duration {
	if l := s.cfg.Issuer.Life; l > 0 {
		return l
	}
	return time.Hour
}

func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	role := strings.TrimPrefix(r.URL.Path, metadataCredentialsPath)
	w.Header().Set("Content-Type", "text/plain")
	switch role {
	case "":
		io.WriteString(w, s.cfg.Issuer.Role) //nolint:errcheck // the client went away
		return
	case s.cfg.Issuer.Role:
	default:
		http.NotFound(w, r)
		return
	}
	id, c, exp := s.mintTemp()
	writeJSON(w, map[string]any{
		"TmpSecretId": id, "TmpSecretKey": c.key, "Token": c.token,
		"ExpiredTime": exp.Unix(), "Expiration": exp.UTC().Format(time.RFC3339), "Code": "Success",
	})
}

// mintTemp mints credentials valid for the issuer's Life from now, and
// returns them with the expiry to announce (Overstate added).
func (s *Server) mintTemp() (id string, c tempCred, announced time.Time) {
	now := s.now()
	exp := now.Add(s.life())
	id, c = s.temp.mint(s.reqTag, now, exp)
	return id, c, exp.Add(s.cfg.Issuer.Overstate)
}

// serveSTS answers AssumeRoleWithWebIdentity as API 3.0 does: HTTP 200
// with {"Response": {…}} or {"Response": {"Error": {Code, Message}}}.
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request) {
	rid := s.newRequestID()
	fail := func(code, msg string) {
		writeJSON(w, map[string]any{"Response": map[string]any{"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": rid}})
	}
	h := r.Header
	switch {
	case h.Get("X-TC-Action") != "AssumeRoleWithWebIdentity":
		fail("InvalidAction", "the action "+h.Get("X-TC-Action")+" is not served by this emulator")
		return
	case h.Get("X-TC-Version") != "2018-08-13":
		fail("InvalidParameterValue", "X-TC-Version must be 2018-08-13")
		return
	case h.Get("Authorization") != "SKIP":
		fail("AuthFailure.InvalidAuthorization", "AssumeRoleWithWebIdentity is sent unsigned (Authorization: SKIP)")
		return
	case h.Get("X-TC-Region") == "" || h.Get("X-TC-Timestamp") == "":
		fail("MissingParameter", "X-TC-Region and X-TC-Timestamp are required")
		return
	case !strings.HasPrefix(h.Get("Content-Type"), "application/json"):
		fail("InvalidParameter", "the body must be JSON")
		return
	}
	var in struct {
		ProviderID       string `json:"ProviderId"`
		WebIdentityToken string
		RoleArn          string
		RoleSessionName  string
		DurationSeconds  int64
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		fail("InvalidParameter", "the body is not JSON: "+err.Error())
		return
	}
	switch {
	case in.ProviderID == "" || in.WebIdentityToken == "" || in.RoleSessionName == "":
		fail("MissingParameter", "ProviderId, WebIdentityToken and RoleSessionName are required")
		return
	case in.RoleArn != s.cfg.Issuer.RoleARN:
		fail("InvalidParameter.RoleNotExist", "role "+in.RoleArn+" does not exist")
		return
	case s.cfg.Issuer.WebIdentityToken != "" && in.WebIdentityToken != s.cfg.Issuer.WebIdentityToken:
		fail("InvalidParameter.WebIdentityTokenError", "the web identity token is not valid")
		return
	case in.DurationSeconds < 0 || in.DurationSeconds > 43200:
		fail("InvalidParameter.DurationSecondsError", "DurationSeconds must be 0 to 43200")
		return
	}
	id, c, exp := s.mintTemp()
	writeJSON(w, map[string]any{"Response": map[string]any{
		"Credentials": map[string]string{"Token": c.token, "TmpSecretId": id, "TmpSecretKey": c.key},
		"ExpiredTime": exp.Unix(), "Expiration": exp.UTC().Format(time.RFC3339), "RequestId": rid,
	}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}

// MintedSecrets returns every SecretId, SecretKey and token the issuer has
// handed out and still remembers (expired ones for 10 minutes): for tests
// that check no output shows one.
func (s *Server) MintedSecrets() []string {
	t := &s.temp
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, 3*len(t.creds))
	for id, c := range t.creds {
		out = append(out, id, c.key, c.token)
	}
	return out
}
