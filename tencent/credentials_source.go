package tencent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// CredentialSource hands out the credentials that sign each request. One
// source is shared by every request of a run (triggers, listing, inventory,
// look-ups), so that a refresh is seen by all of them at once.
type CredentialSource interface {
	// Credentials returns the credentials to sign a request with now.
	Credentials(ctx context.Context) (Credentials, error)
	// Refresh is called after an answer said that stale have expired
	// (ExpiredToken). It returns newer credentials, or stale itself when the
	// source has none newer to give.
	Refresh(ctx context.Context, stale Credentials) (Credentials, error)
	// Redact replaces, in s, every secret the source has ever handed out.
	Redact(s string) string
}

// Provider fetches credentials from one place (the environment, a profile
// file, STS, the metadata service). A Refresher calls it; it does not cache.
type Provider interface {
	// Retrieve fetches credentials and the time they expire (zero when
	// they do not).
	Retrieve(ctx context.Context) (Credentials, time.Time, error)
	// Describe names the source for a log line, with no secret: "env
	// (TENCENTCLOUD_SECRET_ID)", "cvm-role (role wftrigger)".
	Describe() string
}

// Refresh timing of a Refresher: temporary credentials are renewed
// refreshAhead before they expire, or half their life before when that is
// shorter; a failed renewal ahead of time is tried again after
// retryAfterFailure (or a quarter of the remaining life when that is
// shorter), serving the current credentials meanwhile.
const (
	refreshAhead      = 5 * time.Minute
	retryAfterFailure = 10 * time.Second
	retrieveTimeout   = 30 * time.Second
)

// Refresher is a CredentialSource that caches a Provider's credentials and
// renews temporary ones ahead of expiry, in the background: calls in flight
// keep the current credentials while a renewal runs, and a renewal is never
// run twice at once. Once credentials have expired, callers wait for the
// renewal. It is safe for concurrent use.
type Refresher struct {
	p       Provider
	now     func() time.Time
	secrets *Secrets
	cur     atomic.Pointer[cached]
	flight  singleflight.Group
	mu      sync.Mutex
	retryAt time.Time // no background renewal before this (after a failure)
}

// cached is one set of credentials with its timing.
type cached struct {
	creds     Credentials
	expires   time.Time // zero: never
	refreshAt time.Time // zero: never
}

// RefresherOptions configures a Refresher.
type RefresherOptions struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Secrets remembers every secret handed out; nil means a new Secrets.
	Secrets *Secrets
}

// NewRefresher returns a Refresher over p. It fetches nothing until the
// first call.
func NewRefresher(p Provider, opts RefresherOptions) *Refresher {
	r := &Refresher{p: p, now: opts.Now, secrets: opts.Secrets}
	if r.now == nil {
		r.now = time.Now
	}
	if r.secrets == nil {
		r.secrets = NewSecrets()
	}
	return r
}

// Describe names the provider, with no secret.
func (r *Refresher) Describe() string { return r.p.Describe() }

// Expires returns when the current credentials expire: zero when they do
// not, or before any were fetched.
func (r *Refresher) Expires() time.Time {
	if c := r.cur.Load(); c != nil {
		return c.expires
	}
	return time.Time{}
}

// Credentials returns the current credentials, fetching them on the first
// call and after they expired, and starting a background renewal when they
// are due for one.
func (r *Refresher) Credentials(ctx context.Context) (Credentials, error) {
	c := r.cur.Load()
	if c == nil {
		return r.wait(ctx, nil)
	}
	now := r.now()
	if c.refreshAt.IsZero() || now.Before(c.refreshAt) {
		return c.creds, nil
	}
	if now.Before(c.expires) {
		r.mu.Lock()
		due := !now.Before(r.retryAt)
		r.mu.Unlock()
		if due {
			r.flight.DoChan("retrieve", r.renew(c)) // in the background: nobody waits
		}
		return c.creds, nil
	}
	return r.wait(ctx, c)
}

// Refresh renews the credentials after an answer said that stale have
// expired. When they were already renewed since stale was handed out, it
// returns the newer ones without a new fetch; when the provider gives stale
// back (a source without temporary credentials), it returns stale.
func (r *Refresher) Refresh(ctx context.Context, stale Credentials) (Credentials, error) {
	c := r.cur.Load()
	if c != nil && c.creds != stale {
		return c.creds, nil
	}
	return r.wait(ctx, c)
}

// wait joins (or starts) a renewal of seen, the credentials the caller
// found wanting, and waits for its outcome or for ctx.
func (r *Refresher) wait(ctx context.Context, seen *cached) (Credentials, error) {
	ch := r.flight.DoChan("retrieve", r.renew(seen))
	select {
	case res := <-ch:
		if res.Err != nil {
			return Credentials{}, res.Err
		}
		return res.Val.(Credentials), nil
	case <-ctx.Done():
		return Credentials{}, fmt.Errorf("credentials from %s: %w", r.p.Describe(), ctx.Err())
	}
}

// renew returns the renewal of seen: a fetch, unless another renewal has
// replaced seen since the caller looked (then its credentials, if they have
// not expired). Without this, a caller that found seen wanting just before
// a renewal ended would start a second one.
func (r *Refresher) renew(seen *cached) func() (any, error) {
	return func() (any, error) {
		if c := r.cur.Load(); c != nil && c != seen && (c.expires.IsZero() || r.now().Before(c.expires)) {
			return c.creds, nil
		}
		return r.retrieve()
	}
}

// retrieve runs one renewal. It has its own deadline: the callers that wait
// for it may give up, the renewal goes on for the others.
func (r *Refresher) retrieve() (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), retrieveTimeout)
	defer cancel()
	creds, expires, err := r.p.Retrieve(ctx)
	now := r.now()
	if err == nil && !expires.IsZero() && !now.Before(expires) {
		err = fmt.Errorf("credentials from %s expired at %s, when they were fetched", r.p.Describe(), expires.UTC().Format(time.RFC3339))
	}
	if err != nil {
		r.mu.Lock()
		wait := retryAfterFailure
		if c := r.cur.Load(); c != nil && !c.expires.IsZero() {
			wait = min(wait, c.expires.Sub(now)/4)
		}
		r.retryAt = now.Add(wait)
		r.mu.Unlock()
		return nil, &credentialsError{err: errors.New(r.secrets.Redact(err.Error())), cause: err}
	}
	r.secrets.Add(creds)
	c := &cached{creds: creds, expires: expires}
	if !expires.IsZero() {
		life := expires.Sub(now)
		c.refreshAt = expires.Add(-min(refreshAhead, life/2))
	}
	r.cur.Store(c)
	return creds, nil
}

// Redact replaces every secret the Refresher has handed out.
func (r *Refresher) Redact(s string) string { return r.secrets.Redact(s) }

// credentialsError is a failure to get credentials: the run cannot go on
// (Fatal), unless it was a per-call timeout (Retryable). Its message has
// every known secret redacted. errors.Is still sees the cause (a timeout, a
// cancellation), but the cause is not unwrapped: errors.As would hand out
// its unredacted text.
type credentialsError struct {
	err   error // the redacted message
	cause error
}

func (e *credentialsError) Error() string { return e.err.Error() }

// Is reports whether the cause is target.
func (e *credentialsError) Is(target error) bool { return errors.Is(e.cause, target) }

// Class is Fatal (requests cannot be signed), or Retryable when the wait
// ended with a per-call timeout.
func (e *credentialsError) Class() Class {
	if errors.Is(e.cause, context.DeadlineExceeded) {
		return Retryable
	}
	return Fatal
}

// StaticSource returns a CredentialSource that always hands out c.
func StaticSource(c Credentials) CredentialSource {
	s := &staticSource{creds: c, secrets: NewSecrets()}
	s.secrets.Add(c)
	return s
}

type staticSource struct {
	creds   Credentials
	secrets *Secrets
}

func (s *staticSource) Credentials(context.Context) (Credentials, error) { return s.creds, nil }
func (s *staticSource) Refresh(context.Context, Credentials) (Credentials, error) {
	return s.creds, nil
}
func (s *staticSource) Redact(v string) string { return s.secrets.Redact(v) }

// Secrets remembers secrets (every credential a source has handed out, the
// web identity token of OIDC) and redacts them from text: raw, COS-encoded
// and form-encoded, those of at least 4 bytes. It is safe for concurrent
// use; the zero value is not, use NewSecrets.
type Secrets struct {
	mu   sync.Mutex
	seen map[string]bool
	repl atomic.Pointer[strings.Replacer]
}

// NewSecrets returns an empty Secrets.
func NewSecrets() *Secrets {
	return &Secrets{seen: map[string]bool{}}
}

// Add remembers the secrets of c.
func (s *Secrets) Add(c Credentials) {
	s.AddString(c.SecretID, c.SecretKey, c.SessionToken)
}

// AddString remembers secrets given as strings.
func (s *Secrets) AddString(secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, v := range secrets {
		if len(v) < 4 || s.seen[v] {
			continue
		}
		s.seen[v] = true
		changed = true
	}
	if !changed {
		return
	}
	// Longest first: a token that contains a key is replaced whole.
	var forms []string
	for v := range s.seen {
		forms = append(forms, v)
		if e := Encode(v); e != v {
			forms = append(forms, e)
		}
		if e := url.QueryEscape(v); e != v && e != Encode(v) {
			forms = append(forms, e)
		}
	}
	sortLongestFirst(forms)
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, redacted)
	}
	s.repl.Store(strings.NewReplacer(pairs...))
}

// Redact returns v with every remembered secret replaced by "[REDACTED]".
func (s *Secrets) Redact(v string) string {
	if s == nil {
		return v
	}
	r := s.repl.Load()
	if r == nil {
		return v
	}
	return r.Replace(v)
}

func sortLongestFirst(v []string) {
	slices.SortFunc(v, func(a, b string) int {
		if c := cmp.Compare(len(b), len(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}
