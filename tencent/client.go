// Package tencent is everything that speaks to Tencent Cloud: it signs
// requests (COS "q-sign", byte-identical to cos-go-sdk-v5), triggers CI
// workflows, lists and reads COS objects, and looks up workflow executions,
// with plain net/http and its own XML types. Its errors carry the service's
// code and request id, a retry class, and never a secret.
package tencent

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Client.
type Config struct {
	// CIEndpoint is the CI base URL, such as
	// https://media-1250000000.ci.ap-guangzhou.myqcloud.com (see CIEndpoint)
	// or http://127.0.0.1:PORT. Needed by Trigger and the execution look-ups.
	CIEndpoint string
	// COSEndpoint is the COS base URL (see COSEndpoint). Needed by
	// ListObjects and GetObject.
	COSEndpoint string
	// Credentials sign every request; with an empty SecretID requests go
	// unsigned (anonymous). Ignored when Source is set.
	Credentials Credentials
	// Source, when set, hands out the credentials of each request
	// (temporary ones, refreshed); a call answered ExpiredToken is sent
	// once more with the credentials of Source.Refresh (it was not
	// accepted, so this is never a second trigger).
	Source CredentialSource
	// HTTPClient sends the requests; nil means a client tuned for many
	// concurrent calls to one host. Its redirects are never followed.
	HTTPClient *http.Client
	// Host, when set, is the Host header sent and signed instead of the
	// endpoint's host (to reach an emulator under a real-looking name).
	Host string
	// Now is the clock for signatures and Retry-After dates; nil means
	// time.Now.
	Now func() time.Time
	// UserAgent, when set, is sent as User-Agent.
	UserAgent string
}

// CIEndpoint returns the CI endpoint of a bucket: https://NAME-APPID.ci.REGION.myqcloud.com.
func CIEndpoint(bucket, region string) string {
	return "https://" + bucket + ".ci." + region + ".myqcloud.com"
}

// COSEndpoint returns the COS endpoint of a bucket: https://NAME-APPID.cos.REGION.myqcloud.com.
func COSEndpoint(bucket, region string) string {
	return "https://" + bucket + ".cos." + region + ".myqcloud.com"
}

// Client calls CI and COS for one bucket. It is safe for concurrent use.
type Client struct {
	ci, cos   *endpoint
	creds     CredentialSource
	signer    atomic.Pointer[signer] // of the credentials last handed out
	http      *http.Client
	now       func() time.Time
	userAgent []string
	zero      []string
	bufs      sync.Pool // *[]byte response buffers
}

// endpoint is a parsed base URL.
type endpoint struct {
	scheme, host string // host dialled
	hostHeader   string // host sent and signed
	base         string // path prefix without trailing '/', usually ""
	trigger      string // base + "/triggerworkflow"
	// reached is set once any answer came from the endpoint; until then,
	// refused counts the requests that failed before anything was sent.
	reached atomic.Bool
	refused atomic.Int64
}

// unreachableAfter is how many requests in a row must fail to connect, with
// no answer ever read from the endpoint, before it counts as unreachable:
// one refused connection may be a restart, two with none ever made is a
// wrong endpoint. It keeps a run within 2 × concurrency calls.
const unreachableAfter = 2

// under returns path below the endpoint's base path; path as it is for no
// endpoint (whose call then fails as not configured).
func (e *endpoint) under(path string) string {
	if e == nil {
		return path
	}
	return e.base + path
}

// answered notes that an answer came from e. The flag is written once, not
// on every call: a store on every answer would have every worker write the
// same cache line.
func (e *endpoint) answered() {
	if !e.reached.Load() {
		e.reached.Store(true)
	}
}

// transportError is the error of a request to e that got no answer.
func (e *endpoint) transportError(op string, err error) *TransportError {
	sent := mayHaveBeenSent(err)
	t := &TransportError{Op: op, Err: err, Sent: sent}
	if !sent && !e.reached.Load() && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
		e.refused.Add(1) >= unreachableAfter {
		t.Unreachable = e.scheme + "://" + e.host
	}
	return t
}

// NewClient checks cfg and returns a Client. At least one endpoint is
// needed; each must be an http or https URL without query or user info.
func NewClient(cfg Config) (*Client, error) {
	if cfg.CIEndpoint == "" && cfg.COSEndpoint == "" {
		return nil, errors.New("new client: no CI or COS endpoint")
	}
	c := &Client{creds: cfg.Source, now: cfg.Now}
	if c.creds == nil {
		c.creds = StaticSource(cfg.Credentials)
	}
	if c.now == nil {
		c.now = time.Now
	}
	var err error
	if c.ci, err = parseEndpoint("CI", cfg.CIEndpoint, cfg.Host); err != nil {
		return nil, err
	}
	if c.cos, err = parseEndpoint("COS", cfg.COSEndpoint, cfg.Host); err != nil {
		return nil, err
	}
	if cfg.HTTPClient != nil {
		hc := *cfg.HTTPClient
		c.http = &hc
	} else {
		c.http = &http.Client{Transport: newTransport()}
	}
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if cfg.UserAgent != "" {
		c.userAgent = []string{cfg.UserAgent}
	}
	c.zero = []string{"0"}
	c.bufs.New = func() any { b := make([]byte, 0, 2048); return &b }
	return c, nil
}

func parseEndpoint(what, raw, hostHeader string) (*endpoint, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("new client: %s endpoint %q: %w", what, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("new client: %s endpoint %q: want an http:// or https:// URL", what, raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("new client: %s endpoint %q: want scheme://host[:port] with no user, query or fragment", what, raw)
	}
	e := &endpoint{scheme: u.Scheme, host: u.Host, hostHeader: u.Host, base: strings.TrimRight(u.Path, "/")}
	if hostHeader != "" {
		e.hostHeader = hostHeader
	}
	e.trigger = e.base + "/triggerworkflow"
	return e, nil
}

// newTransport is a private transport for many concurrent calls to one
// host; http.DefaultTransport is left untouched.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Trigger calls TriggerWorkflow for one object:
// POST /triggerworkflow?object=KEY&workflowId=ID[&name=NAME], the key
// encoded byte for byte (space %20, '+' %2B, '/' %2F, '%' %25).
func (c *Client) Trigger(ctx context.Context, in TriggerInput) (TriggerResult, error) {
	const op = "trigger"
	e := c.ci
	if e == nil {
		return TriggerResult{}, &inputError{op + ": no CI endpoint configured"}
	}
	if in.WorkflowID == "" {
		return TriggerResult{}, &inputError{op + ": empty workflow id"}
	}
	if in.Key == "" {
		return TriggerResult{}, &inputError{op + ": empty object key"}
	}
	var qb [512]byte
	q := qb[:0]
	if in.Name != "" {
		q = append(q, "name="...)
		q = appendEncode(q, in.Name)
		q = append(q, '&')
	}
	q = append(q, "object="...)
	q = appendEncode(q, in.Key)
	q = append(q, "&workflowId="...)
	q = appendEncode(q, in.WorkflowID)
	query := string(q)
	return call(ctx, c, op, func(s *signer, fresh bool) (TriggerResult, error) { return c.trigger(ctx, e, in, query, s, fresh) })
}

// trigger sends one TriggerWorkflow call signed by s, with a fresh signing
// key when fresh is set.
func (c *Client) trigger(ctx context.Context, e *endpoint, in TriggerInput, q string, s *signer, fresh bool) (TriggerResult, error) {
	const op = "trigger"
	req, err := c.newRequest(ctx, http.MethodPost, e, e.trigger, "", q, s)
	if err != nil {
		return TriggerResult{}, fmt.Errorf("%s %q: %w", op, in.Key, err)
	}
	req.Header["Content-Length"] = c.zero // net/http sends Content-Length: 0 for an empty POST
	// The parameters as the query holds them, decoded: no need to parse
	// the query back.
	var ea [3]entry
	params := ea[:0]
	if in.Name != "" {
		params = append(params, entry{"name", in.Name})
	}
	params = append(params, entry{"object", in.Key}, entry{"workflowid", in.WorkflowID})
	resp, err := c.send(op, e, req, s, fresh, params)
	if err != nil {
		if ae, ok := err.(*APIError); ok {
			ae.WorkflowID = in.WorkflowID
		}
		return TriggerResult{}, err
	}
	bp, err := c.readBody(resp.Body)
	defer c.bufs.Put(bp)
	if err != nil {
		return TriggerResult{}, &TransportError{Op: op, Err: fmt.Errorf("read answer: %w", err), Sent: true}
	}
	id, rid, err := decodeTriggerResponse(*bp)
	if err != nil {
		return TriggerResult{}, &TransportError{Op: op, Err: fmt.Errorf("decode answer: %w", err), Sent: true}
	}
	id = bytes.TrimSpace(id)
	if len(id) == 0 {
		return TriggerResult{}, &TransportError{Op: op, Sent: true,
			Err: fmt.Errorf("%w (HTTP %d, body %q)", errNoInstanceID, resp.StatusCode, truncate(c.creds.Redact(string(*bp)), 200))}
	}
	res := TriggerResult{InstanceID: string(id)}
	if rid = bytes.TrimSpace(rid); len(rid) > 0 {
		res.RequestID = string(rid)
	} else {
		res.RequestID = requestID(resp.Header)
	}
	return res, nil
}

// call makes one call of the client: send sends its request signed by s,
// with a fresh signing key when fresh is set. It is sent with the
// credentials the source hands out now, through resigned; when the answer
// says that they have expired and the source has newer ones, once more
// with those. Neither answer was an acceptance, so neither resend can
// trigger anything twice.
func call[T any](ctx context.Context, c *Client, op string, send func(s *signer, fresh bool) (T, error)) (T, error) {
	s, err := c.signerFor(ctx, op)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := resigned(s, send)
	if s = c.renewed(ctx, err, s); s != nil {
		v, err = resigned(s, send)
	}
	return v, err
}

// resigned sends a request signed by s once and, when the answer refused
// the signature's time (SignatureExpired, RequestTimeTooSkewed), once more
// with a fresh signature. A second such answer is marked Clock: Fatal, with
// a hint about the machine's clock. A refused request was not accepted, so
// sending it again cannot trigger anything twice.
func resigned[T any](s *signer, send func(s *signer, fresh bool) (T, error)) (T, error) {
	v, err := send(s, false)
	if !refusedTime(err) {
		return v, err
	}
	v, err = send(s, true)
	var e *APIError
	if errors.As(err, &e) && refusedTime(e) {
		e.Clock = true
	}
	return v, err
}

// refusedTime reports whether err is an answer that refused the
// signature's time.
func refusedTime(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.meaning().resign
}

// mayHaveBeenSent reports whether a failed call may have reached the
// service: every transport error may, except those that happened before a
// connection existed (dial, DNS, TLS handshake). Erring on "may" costs one
// execution look-up; erring the other way could trigger an object twice.
// (An httptrace hook would tell exactly, but costs about 5% of a trigger's
// CPU, on every call, for an answer needed on a few.)
func mayHaveBeenSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return false
	}
	var tlsErr *tls.RecordHeaderError
	if errors.As(err, &tlsErr) {
		return false
	}
	var cert *tls.CertificateVerificationError
	return !errors.As(err, &cert)
}

// newRequest builds a request to e with the given decoded path, its escaped
// form (empty when it needs no escaping) and raw query, with the session
// token of s but not yet signed.
func (c *Client) newRequest(ctx context.Context, method string, e *endpoint, path, rawPath, rawQuery string, s *signer) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, "", nil)
	if err != nil {
		return nil, err
	}
	*req.URL = url.URL{Scheme: e.scheme, Host: e.host, Path: path, RawPath: rawPath, RawQuery: rawQuery}
	req.Host = e.hostHeader
	if c.userAgent != nil {
		req.Header["User-Agent"] = c.userAgent
	}
	if s.token != nil {
		req.Header["X-Cos-Security-Token"] = s.token
	}
	return req, nil
}

// get sends a signed GET and returns the response of a 2xx answer, whose
// body the caller closes. Other answers become *APIError.
func (c *Client) get(ctx context.Context, op string, e *endpoint, path, rawPath, rawQuery string) (*http.Response, error) {
	if e == nil {
		return nil, &inputError{op + ": no endpoint configured"}
	}
	return call(ctx, c, op, func(s *signer, fresh bool) (*http.Response, error) {
		req, err := c.newRequest(ctx, http.MethodGet, e, path, rawPath, rawQuery, s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return c.send(op, e, req, s, fresh, nil)
	})
}

// send signs req by s (params are its query parameters, decoded; nil: read
// from the URL), with a fresh signing key when fresh is set, and sends it
// to e. It returns the response of a 2xx answer, whose body the caller
// closes; other answers become *APIError.
func (c *Client) send(op string, e *endpoint, req *http.Request, s *signer, fresh bool, params []entry) (*http.Response, error) {
	if s.creds.SecretID != "" {
		s.key(c.now(), fresh).signRequest(req, s.creds.SecretID, params, nil)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, e.transportError(op, err)
	}
	e.answered()
	if resp.StatusCode/100 != 2 {
		bp, _ := c.readBody(resp.Body)
		defer c.bufs.Put(bp)
		return nil, newAPIError(op, resp, *bp, c.creds.Redact, c.now())
	}
	return resp, nil
}

// signer is one set of credentials with its cached signing key.
type signer struct {
	creds Credentials
	keys  keyCache
	token []string // the x-cos-security-token header value, nil for none
}

// key is the signing key of a request: the current one, or a fresh one
// after an answer that refused the signature's time.
func (s *signer) key(now time.Time, fresh bool) *signKey {
	if fresh {
		return s.keys.renew(now)
	}
	return s.keys.get(now)
}

// signerFor returns the signer of the credentials the source hands out now.
func (c *Client) signerFor(ctx context.Context, op string) (*signer, error) {
	creds, err := c.creds.Credentials(ctx)
	if err != nil {
		var ce *credentialsError
		if !errors.As(err, &ce) {
			err = &credentialsError{err: fmt.Errorf("%s: %s", op, c.creds.Redact(err.Error())), cause: err}
		}
		return nil, err
	}
	return c.signerOf(creds), nil
}

func (c *Client) signerOf(creds Credentials) *signer {
	if s := c.signer.Load(); s != nil && s.creds == creds {
		return s
	}
	s := &signer{creds: creds}
	s.keys.secretKey = creds.SecretKey
	if creds.SessionToken != "" {
		s.token = []string{creds.SessionToken}
	}
	c.signer.Store(s)
	return s
}

// renewed returns the signer to send a call again with when its answer
// err says that the credentials of s have expired and the source has newer
// ones; nil otherwise.
func (c *Client) renewed(ctx context.Context, err error, s *signer) *signer {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "ExpiredToken" {
		return nil
	}
	fresh, rerr := c.creds.Refresh(ctx, s.creds)
	if rerr != nil || fresh == s.creds {
		return nil
	}
	return c.signerOf(fresh)
}

// getXML is get that decodes the whole answer into v; it returns the
// answer's header.
func (c *Client) getXML(ctx context.Context, op string, e *endpoint, path, rawPath, rawQuery string, v any) (http.Header, error) {
	resp, err := c.get(ctx, op, e, path, rawPath, rawQuery)
	if err != nil {
		return nil, err
	}
	body, err := readAll(resp)
	if err != nil {
		return nil, &TransportError{Op: op, Err: err, Sent: true}
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return nil, &TransportError{Op: op, Err: fmt.Errorf("decode answer: %w", err), Sent: true}
	}
	return resp.Header, nil
}

// readAll reads and closes the body of resp, at most maxBody bytes.
func readAll(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("read answer: larger than %d bytes", maxBody)
	}
	return b, nil
}

// maxBody bounds the answers read whole (listings, executions).
const maxBody = 32 << 20

// readBody reads up to 64 KiB of r into a pooled buffer, drains a little
// more so the connection can be reused, and closes r. The caller puts the
// buffer back.
func (c *Client) readBody(r io.ReadCloser) (*[]byte, error) {
	const limit = 64 << 10
	bp := c.bufs.Get().(*[]byte)
	b := (*bp)[:0]
	var err error
	for {
		if len(b) == cap(b) {
			if len(b) >= limit {
				_, _ = io.Copy(io.Discard, io.LimitReader(r, limit))
				break
			}
			b = append(b, 0)[:len(b)]
		}
		var n int
		n, err = r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			break
		}
	}
	r.Close()
	*bp = b
	return bp, err
}

// GetObject reads the object key from COS. The caller closes the body.
func (c *Client) GetObject(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == "" {
		return nil, &inputError{"get: empty object key"}
	}
	path := c.cos.under("/" + key)
	resp, err := c.get(ctx, "get", c.cos, path, string(appendPathEncode(nil, path)), "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
