package emulator

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the emulator's own implementation of the COS "q-sign" request
// signature check (reference §1). It deliberately shares no code with the
// client's signer, so that a bug in one is caught by the other.

// apiError is an answer the emulator gives instead of doing the work.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string {
	return e.code + ": " + e.message
}

func errAccessDenied(msg string) *apiError {
	return &apiError{http.StatusForbidden, "AccessDenied", msg}
}

// errSlowDown is the answer to a throttled call (a fault or the quota).
func errSlowDown() *apiError {
	return &apiError{http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."}
}

func errInvalidArgument(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidArgument", msg}
}

// pair is one decoded query parameter.
type pair struct {
	name, value string
}

// parseQuery decodes a raw query into pairs, in wire order, the way
// url.ParseQuery does ('+' and %20 are spaces; a ';' is rejected).
func parseQuery(raw string, dst []pair) ([]pair, *apiError) {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		if strings.IndexByte(part, ';') >= 0 {
			return dst, errInvalidArgument("malformed query: invalid semicolon separator")
		}
		k, v, _ := strings.Cut(part, "=")
		k, kerr := url.QueryUnescape(k)
		if kerr != nil {
			return dst, errInvalidArgument("malformed query parameter name")
		}
		v, verr := url.QueryUnescape(v)
		if verr != nil {
			return dst, errInvalidArgument("malformed query parameter " + strconv.Quote(k))
		}
		dst = append(dst, pair{k, v})
	}
	return dst, nil
}

// queryGet returns the first value of name and whether it was present.
func queryGet(pairs []pair, name string) (string, bool) {
	for _, p := range pairs {
		if p.name == name {
			return p.value, true
		}
	}
	return "", false
}

// keepByte reports whether the §1 UrlEncode leaves c as it is.
func keepByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// appendEncode appends the §1 UrlEncode of s: unreserved bytes kept, every
// other byte as %XX with upper-case hex.
func appendEncode(dst []byte, s string) []byte {
	const upper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keepByte(c) {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upper[c>>4], upper[c&15])
	}
	return dst
}

// appendEncodeLower appends lower(UrlEncode(s)), the form of names.
func appendEncodeLower(dst []byte, s string) []byte {
	n := len(dst)
	dst = appendEncode(dst, s)
	for i := n; i < len(dst); i++ {
		if c := dst[i]; 'A' <= c && c <= 'Z' {
			dst[i] = c + 'a' - 'A'
		}
	}
	return dst
}

// urlEncode returns the §1 UrlEncode of s.
func urlEncode(s string) string {
	for i := 0; i < len(s); i++ {
		if !keepByte(s[i]) {
			return string(appendEncode(make([]byte, 0, len(s)+16), s))
		}
	}
	return s
}

// authFields are the seven fields of an Authorization value.
type authFields struct {
	algorithm  string
	ak         string
	signTime   string
	keyTime    string
	headerList string
	paramList  string
	signature  string
	signStart  int64
	signEnd    int64
}

// parseAuthorization splits an Authorization value into its fields. Every
// field must be present exactly once; the order is not checked.
func parseAuthorization(v string) (authFields, bool) {
	var f authFields
	var seen uint8
	for v != "" {
		var part string
		part, v, _ = strings.Cut(v, "&")
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return f, false
		}
		var bit uint8
		switch k {
		case "q-sign-algorithm":
			bit, f.algorithm = 1, val
		case "q-ak":
			bit, f.ak = 2, val
		case "q-sign-time":
			bit, f.signTime = 4, val
		case "q-key-time":
			bit, f.keyTime = 8, val
		case "q-header-list":
			bit, f.headerList = 16, val
		case "q-url-param-list":
			bit, f.paramList = 32, val
		case "q-signature":
			bit, f.signature = 64, val
		default:
			continue
		}
		if seen&bit != 0 {
			return f, false
		}
		seen |= bit
	}
	if seen != 127 || f.algorithm != "sha1" || f.ak == "" || len(f.signature) != 40 {
		return f, false
	}
	var ok bool
	if f.signStart, f.signEnd, ok = parseKeyTime(f.signTime); !ok {
		return f, false
	}
	if _, _, ok = parseKeyTime(f.keyTime); !ok {
		return f, false
	}
	return f, true
}

// parseKeyTime parses "start;end" in Unix seconds.
func parseKeyTime(s string) (start, end int64, ok bool) {
	a, b, found := strings.Cut(s, ";")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || end < start {
		return 0, 0, false
	}
	return start, end, true
}

// verifier checks request signatures against one set of credentials.
type verifier struct {
	secretID     string
	secretKey    string
	sessionToken string
	temp         *tempStore // temporary credentials accepted too; nil for none
	// signKey caches the SignKey of the most recent KeyTime: clients sign
	// many requests a second with the same KeyTime.
	signKey atomic.Pointer[signKeyEntry]
	bufs    sync.Pool
}

type signKeyEntry struct {
	keyTime   string
	secretKey string
	key       [40]byte
	macs      sync.Pool // of *keyedMAC
}

// keyedMAC is an HMAC-SHA1 keyed with a SignKey, with room for its sum.
type keyedMAC struct {
	h   hash.Hash
	sum [sha1.Size]byte
}

func newVerifier(secretID, secretKey, sessionToken string) *verifier {
	v := &verifier{secretID: secretID, secretKey: secretKey, sessionToken: sessionToken}
	v.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	return v
}

// verify checks the signature of r at time now, decoding its query itself.
func (v *verifier) verify(r *http.Request, now time.Time) error {
	pairs, err := parseQuery(r.URL.RawQuery, nil)
	if err != nil {
		return err
	}
	if _, e := v.check(r, pairs, now); e != nil {
		return e
	}
	return nil
}

// check verifies the signature of r, whose decoded query is pairs, and
// returns the parsed Authorization fields. A failure is an *apiError.
func (v *verifier) check(r *http.Request, pairs []pair, now time.Time) (authFields, *apiError) {
	auth := r.Header["Authorization"]
	if len(auth) != 1 {
		return authFields{}, errAccessDenied("missing or repeated Authorization header")
	}
	f, ok := parseAuthorization(auth[0])
	if !ok {
		return f, errAccessDenied("malformed Authorization header")
	}
	secretKey, sessionToken := v.secretKey, v.sessionToken
	if f.ak != v.secretID {
		t, ok := v.temp.lookup(f.ak)
		if !ok {
			return f, &apiError{http.StatusForbidden, "InvalidAccessKeyId", "the access key id in q-ak does not exist"}
		}
		if !now.Before(t.expires) {
			v.temp.expired.Add(1)
			return f, &apiError{http.StatusBadRequest, "ExpiredToken", "The provided token has expired."}
		}
		secretKey, sessionToken = t.key, t.token
	}
	if t := now.Unix(); t < f.signStart || t > f.signEnd {
		return f, errAccessDenied("Request has expired")
	}
	if !listHas(f.headerList, "host") {
		return f, errAccessDenied("the host header must be signed")
	}
	if sessionToken != "" {
		tok := r.Header["X-Cos-Security-Token"]
		if len(tok) != 1 || subtle.ConstantTimeCompare([]byte(tok[0]), []byte(sessionToken)) != 1 ||
			!listHas(f.headerList, "x-cos-security-token") {
			return f, errAccessDenied("invalid security token")
		}
	}

	bp := v.bufs.Get().(*[]byte)
	defer v.bufs.Put(bp)
	buf := (*bp)[:0]

	// HttpString.
	buf = append(buf, r.Method...)
	for i := range len(r.Method) {
		if c := buf[i]; 'A' <= c && c <= 'Z' {
			buf[i] = c + 'a' - 'A'
		}
	}
	buf = append(buf, '\n')
	buf = append(buf, r.URL.Path...)
	buf = append(buf, '\n')
	buf = appendParams(buf, pairs, f.paramList)
	buf = append(buf, '\n')
	buf = appendHeaders(buf, r, f.headerList)
	buf = append(buf, '\n')
	httpHash := sha1.Sum(buf)

	// StringToSign.
	buf = buf[:0]
	buf = append(buf, "sha1\n"...)
	buf = append(buf, f.keyTime...)
	buf = append(buf, '\n')
	buf = hex.AppendEncode(buf, httpHash[:])
	buf = append(buf, '\n')

	e := v.signKeyFor(secretKey, f.keyTime)
	mac := e.macs.Get().(*keyedMAC)
	mac.h.Reset()
	mac.h.Write(buf)
	var got [40]byte
	hex.Encode(got[:], mac.h.Sum(mac.sum[:0]))
	e.macs.Put(mac)
	*bp = buf
	if subtle.ConstantTimeCompare(got[:], []byte(f.signature)) != 1 {
		return f, &apiError{http.StatusForbidden, "SignatureDoesNotMatch",
			"the request signature we calculated does not match the signature you provided"}
	}
	return f, nil
}

// signKeyFor returns the SignKey hex(HMAC-SHA1(secretKey, keyTime)) with
// a pool of HMACs keyed by it, cached for the last secret key and keyTime
// seen.
func (v *verifier) signKeyFor(secretKey, keyTime string) *signKeyEntry {
	if e := v.signKey.Load(); e != nil && e.keyTime == keyTime && e.secretKey == secretKey {
		return e
	}
	mac := hmac.New(sha1.New, []byte(secretKey))
	mac.Write([]byte(keyTime))
	e := &signKeyEntry{keyTime: keyTime, secretKey: secretKey}
	hex.Encode(e.key[:], mac.Sum(nil))
	e.macs.New = func() any { return &keyedMAC{h: hmac.New(sha1.New, e.key[:])} }
	v.signKey.Store(e)
	return e
}

// listHas reports whether the ';'-separated list contains name.
func listHas(list, name string) bool {
	for list != "" {
		var item string
		item, list, _ = strings.Cut(list, ";")
		if item == name {
			return true
		}
	}
	return false
}

// listHasBytes is listHas for a name held in a byte slice.
func listHasBytes(list string, name []byte) bool {
	for list != "" {
		var item string
		item, list, _ = strings.Cut(list, ";")
		if item == string(name) {
			return true
		}
	}
	return false
}

// signedPair is one parameter or header that takes part in HttpString.
// Its name, lower(UrlEncode(name)), is names[start:end] of a byte arena
// (offsets, not a slice, so that the arena can stay on the stack).
type signedPair struct {
	start, end int
	value      string // raw value
}

// appendPairs appends "name=UrlEncode(value)&…" of pairs sorted by name,
// then raw value.
func appendPairs(buf []byte, ps []signedPair, names []byte) []byte {
	slices.SortFunc(ps, func(a, b signedPair) int {
		if c := bytes.Compare(names[a.start:a.end], names[b.start:b.end]); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	for i, p := range ps {
		if i > 0 {
			buf = append(buf, '&')
		}
		buf = append(buf, names[p.start:p.end]...)
		buf = append(buf, '=')
		buf = appendEncode(buf, p.value)
	}
	return buf
}

// appendParams appends HttpParameters: the wire parameters whose encoded
// name is in list, sorted by name then raw value (as the SDK does).
func appendParams(buf []byte, pairs []pair, list string) []byte {
	if list == "" {
		return buf
	}
	var arr [8]signedPair
	ps := arr[:0]
	var arena [256]byte
	names := arena[:0]
	for _, p := range pairs {
		start := len(names)
		names = appendEncodeLower(names, p.name)
		if !listHasBytes(list, names[start:]) {
			names = names[:start]
			continue
		}
		ps = append(ps, signedPair{start, len(names), p.value})
	}
	return appendPairs(buf, ps, names)
}

// appendHeaders appends HttpHeaders: every listed header name (each once)
// with all of its values. Go keeps Host in r.Host, not in r.Header.
func appendHeaders(buf []byte, r *http.Request, list string) []byte {
	var arr [8]signedPair
	ps := arr[:0]
	var seen [16]string
	listed := seen[:0]
	var arena [128]byte
	names := arena[:0]
	for list != "" {
		var name string
		name, list, _ = strings.Cut(list, ";")
		if name == "" || slices.Contains(listed, name) {
			continue
		}
		listed = append(listed, name)
		start := len(names)
		names = append(names, name...)
		if name == "host" {
			host := r.Host
			if host == "" {
				host = r.Header.Get("Host")
			}
			ps = append(ps, signedPair{start, len(names), host})
			continue
		}
		for _, val := range r.Header[textproto.CanonicalMIMEHeaderKey(name)] {
			ps = append(ps, signedPair{start, len(names), val})
		}
	}
	return appendPairs(buf, ps, names)
}
