package tencent

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"hash"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Signature windows of a Client: a window starts keyWindowSkew before the
// moment it is made (so that a server whose clock lags ours accepts it),
// lasts keyWindowLength, and is replaced once less than keyWindowMargin is
// left, so a signature is always valid for at least that long.
const (
	keyWindowSkew   = 60 * time.Second
	keyWindowLength = time.Hour
	keyWindowMargin = 5 * time.Minute
)

// Sign signs req with creds for the window [start, end] in the COS "q-sign"
// scheme and sets its Authorization header (and x-cos-security-token when
// creds carry a session token).
//
// It signs the query parameters, the host (req.Host, else req.URL.Host) and
// every header of req that cos-go-sdk-v5 signs: content-type,
// content-length, content-md5 and the SDK's other standard names (range,
// if-match, …) when present, and every x-cos-* and x-ci-* header. The result
// is byte-identical to cos.AddAuthorizationHeader with an AuthTime whose sign
// and key windows are both [start, end]. Like the SDK, it leaves req
// unsigned (anonymous) when creds.SecretID is empty.
func Sign(req *http.Request, creds Credentials, start, end time.Time) {
	signExtra(req, creds, start, end, nil)
}

// signExtra is Sign that also signs the headers named in extra (lower-case
// names, such as "date").
func signExtra(req *http.Request, creds Credentials, start, end time.Time, extra []string) {
	if creds.SecretID == "" {
		return
	}
	if creds.SessionToken != "" {
		req.Header.Set("X-Cos-Security-Token", creds.SessionToken)
	}
	k := newSignKey(creds.SecretKey, start.Unix(), end.Unix())
	k.signRequest(req, creds.SecretID, nil, extra)
}

// signKey is a KeyTime and the SignKey derived from it.
type signKey struct {
	keyTime string
	key     [40]byte // lower-case hex HMAC-SHA1(SecretKey, keyTime)
	start   int64    // the window, Unix seconds
	end     int64
	macs    sync.Pool // *keyedMAC: HMAC-SHA1 keyed with key, reused across requests
}

func newSignKey(secretKey string, start, end int64) *signKey {
	k := &signKey{start: start, end: end}
	kt := make([]byte, 0, 24)
	kt = strconv.AppendInt(kt, start, 10)
	kt = append(kt, ';')
	kt = strconv.AppendInt(kt, end, 10)
	k.keyTime = string(kt)
	m := hmac.New(sha1.New, []byte(secretKey))
	m.Write(kt)
	var sum [sha1.Size]byte
	hex.Encode(k.key[:], m.Sum(sum[:0]))
	return k
}

// keyCache holds the signKey of a Client's current window.
type keyCache struct {
	secretKey string
	cur       atomic.Pointer[signKey]
	mu        sync.Mutex
}

// get returns a signKey valid from now for at least keyWindowMargin.
func (c *keyCache) get(now time.Time) *signKey {
	sec := now.Unix()
	if k := c.cur.Load(); k != nil && k.fresh(sec) {
		return k
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := c.cur.Load(); k != nil && k.fresh(sec) {
		return k // made by the caller that held the lock before this one
	}
	return c.renewLocked(now)
}

// renew replaces the current signKey with one made now, whatever is left of
// it: after the service refused a signature's time.
func (c *keyCache) renew(now time.Time) *signKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.renewLocked(now)
}

// renewLocked is renew with c.mu held.
func (c *keyCache) renewLocked(now time.Time) *signKey {
	start := now.Add(-keyWindowSkew).Unix()
	k := newSignKey(c.secretKey, start, start+int64(keyWindowLength/time.Second))
	c.cur.Store(k)
	return k
}

func (k *signKey) fresh(now int64) bool {
	return now >= k.start && now < k.end-int64(keyWindowMargin/time.Second)
}

// entry is one signed query parameter or header: name already encoded and
// lower-cased, value raw (encoded when the canonical string is written).
type entry struct {
	name, value string
}

func compareEntries(a, b entry) int {
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	return strings.Compare(a.value, b.value)
}

// signRequest sets req's Authorization header: the one signing path of the
// package. It signs the query parameters (params, already decoded, or nil
// to read them from req's query), the host and the headers req carries
// that the SDK signs, plus those named in extra.
func (k *signKey) signRequest(req *http.Request, secretID string, params []entry, extra []string) {
	var pa, ha [16]entry
	if params == nil {
		params = appendQueryEntries(pa[:0], req.URL.RawQuery)
	}
	headers := appendHeaderEntries(ha[:0], req.Header, extra)
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	headers = append(headers, entry{"host", host})
	path := req.URL.Path
	if path == "" {
		path = "/"
	}
	req.Header["Authorization"] = []string{k.authorization(secretID, req.Method, path, params, headers)}
}

// authorization returns the Authorization value for a request. params and
// headers are sorted in place.
func (k *signKey) authorization(secretID, method, path string, params, headers []entry) string {
	if len(params) > 1 {
		slices.SortFunc(params, compareEntries)
	}
	if len(headers) > 1 {
		slices.SortFunc(headers, compareEntries)
	}

	// HttpString.
	var hb [512]byte
	b := hb[:0]
	for i := 0; i < len(method); i++ {
		b = append(b, lowerASCII(method[i]))
	}
	b = append(b, '\n')
	b = append(b, path...)
	b = append(b, '\n')
	b = appendCanonical(b, params)
	b = append(b, '\n')
	b = appendCanonical(b, headers)
	b = append(b, '\n')
	sum := sha1.Sum(b)

	// StringToSign.
	var sb [128]byte
	s := append(sb[:0], "sha1\n"...)
	s = append(s, k.keyTime...)
	s = append(s, '\n')
	s = hex.AppendEncode(s, sum[:])
	s = append(s, '\n')
	sig := k.mac(s)

	// Authorization.
	n := 140 + len(secretID) + 2*len(k.keyTime) // fixed parts and the signature: 138 bytes
	for _, e := range params {
		n += len(e.name) + 1
	}
	for _, e := range headers {
		n += len(e.name) + 1
	}
	var a strings.Builder
	a.Grow(n)
	a.WriteString("q-sign-algorithm=sha1&q-ak=")
	a.WriteString(secretID)
	a.WriteString("&q-sign-time=")
	a.WriteString(k.keyTime)
	a.WriteString("&q-key-time=")
	a.WriteString(k.keyTime)
	a.WriteString("&q-header-list=")
	writeNames(&a, headers)
	a.WriteString("&q-url-param-list=")
	writeNames(&a, params)
	a.WriteString("&q-signature=")
	var sigHex [2 * sha1.Size]byte
	hex.Encode(sigHex[:], sig[:])
	a.Write(sigHex[:])
	return a.String()
}

// keyedMAC is an HMAC-SHA1 keyed with a SignKey and room for its sum.
type keyedMAC struct {
	h   hash.Hash
	sum [sha1.Size]byte
}

// mac is HMAC-SHA1 of msg under the SignKey (crypto/hmac), with a pooled
// hash so that a signature allocates nothing for it.
func (k *signKey) mac(msg []byte) [sha1.Size]byte {
	m, _ := k.macs.Get().(*keyedMAC)
	if m == nil {
		m = &keyedMAC{h: hmac.New(sha1.New, k.key[:])}
	} else {
		m.h.Reset()
	}
	m.h.Write(msg)
	sum := [sha1.Size]byte(m.h.Sum(m.sum[:0]))
	k.macs.Put(m)
	return sum
}

func appendCanonical(b []byte, es []entry) []byte {
	for i, e := range es {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, e.name...)
		b = append(b, '=')
		b = appendEncode(b, e.value)
	}
	return b
}

func writeNames(b *strings.Builder, es []entry) {
	for i, e := range es {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(e.name)
	}
}

// appendQueryEntries appends the parameters of rawQuery, decoded exactly as
// url.ParseQuery decodes them (pairs with ';' or a bad escape are dropped,
// '+' means space).
func appendQueryEntries(dst []entry, rawQuery string) []entry {
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		if kv == "" || strings.Contains(kv, ";") {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			continue
		}
		dst = append(dst, entry{signName(k), v})
	}
	return dst
}

// appendHeaderEntries appends the headers of h that are signed. Host is
// left out: the caller adds the request's host.
func appendHeaderEntries(dst []entry, h http.Header, extra []string) []entry {
	for k, vs := range h {
		name, ok := signedHeader(k, extra)
		if !ok {
			continue
		}
		for _, v := range vs {
			dst = append(dst, entry{name, v})
		}
	}
	return dst
}

// signedHeader reports whether the header named k is signed, and its name
// in the canonical strings. The key "Host" is left out (the request's host
// replaces it, as in the SDK).
func signedHeader(k string, extra []string) (string, bool) {
	switch k { // common canonical names, without allocating
	case "Host", "Authorization", "User-Agent", "Accept", "Accept-Encoding":
		return "", false
	case "Content-Type":
		return "content-type", true
	case "Content-Length":
		return "content-length", true
	case "Content-Md5":
		return "content-md5", true
	case "X-Cos-Security-Token":
		return "x-cos-security-token", true
	}
	lk := k
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			lk = strings.ToLower(k) // as the SDK decides, Unicode-aware
			break
		}
	}
	if !sdkSignHeader(lk) && !slices.Contains(extra, lk) {
		return "", false
	}
	return signName(k), true
}

// sdkSignHeader reports whether cos-go-sdk-v5 v0.7.70 signs the header with
// the lower-case name lk.
func sdkSignHeader(lk string) bool {
	switch lk {
	case "host", "range", "x-cos-acl", "x-cos-grant-read", "x-cos-grant-write",
		"x-cos-grant-full-control", "cache-control", "content-disposition",
		"content-encoding", "content-type", "content-length", "content-md5",
		"transfer-encoding", "expect", "expires", "x-cos-content-sha1",
		"x-cos-storage-class", "if-match", "if-modified-since", "if-none-match",
		"if-unmodified-since", "origin", "access-control-request-method",
		"access-control-request-headers", "x-cos-object-type", "pic-operations":
		return true
	}
	return strings.HasPrefix(lk, "x-cos-") || strings.HasPrefix(lk, "x-ci-")
}

// signName is a parameter or header name as it appears in the canonical
// strings: encoded, then lower-cased (so escapes read %2a).
func signName(s string) string {
	i := 0
	for i < len(s) && unreserved(s[i]) && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(lowerASCII(c))
		} else {
			b.WriteByte('%')
			b.WriteByte(lowerHex[c>>4])
			b.WriteByte(lowerHex[c&15])
		}
	}
	return b.String()
}

const (
	upperHex = "0123456789ABCDEF"
	lowerHex = "0123456789abcdef"
)

// unreserved reports whether the §1 encoder keeps c: A-Z a-z 0-9 - _ . ~.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// appendEncode appends s encoded with the signature's encoder: unreserved
// bytes are kept, every other byte becomes %XX with upper-case hex (space is
// %20, '+' %2B, '/' %2F, '%' %25).
func appendEncode(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

// appendPathEncode is appendEncode that keeps '/' (for object paths).
func appendPathEncode(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || c == '/' {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

// Encode returns s encoded as the COS signature encodes keys and values
// (§1 step 3): A-Z a-z 0-9 - _ . ~ kept, every other byte %XX in upper-case
// hex. It is also the form Trigger sends the object key in.
func Encode(s string) string {
	return string(appendEncode(make([]byte, 0, len(s)+16), s))
}
