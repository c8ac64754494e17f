package emulator

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// object is one stored object. It never changes once stored: PutObject
// replaces it.
type object struct {
	body         []byte
	etag         string // quoted MD5 hex
	lastModified time.Time
}

// objectStore holds objects and their keys in byte order. New keys are
// appended and sorted lazily, at the next listing.
type objectStore struct {
	mu     sync.RWMutex
	byKey  map[string]*object
	keys   []string
	sorted bool
}

func (o *objectStore) init() {
	o.byKey = make(map[string]*object)
	o.sorted = true
}

// PutObject stores (or replaces) an object for listing and GET.
func (s *Server) PutObject(key string, body []byte, lastModified time.Time) {
	sum := md5.Sum(body)
	obj := &object{
		body:         append([]byte(nil), body...),
		etag:         `"` + hex.EncodeToString(sum[:]) + `"`,
		lastModified: lastModified.UTC(),
	}
	o := &s.objects
	o.mu.Lock()
	if _, ok := o.byKey[key]; !ok {
		if n := len(o.keys); n > 0 && o.keys[n-1] >= key {
			o.sorted = false
		}
		o.keys = append(o.keys, key)
	}
	o.byKey[key] = obj
	o.mu.Unlock()
}

// listItem is one entry of a listing page: an object or a common prefix.
type listItem struct {
	key    string
	obj    *object // nil for a common prefix
	prefix bool
}

// listPage computes one page of GET Bucket. It returns the items in key
// order and whether more remain.
func (o *objectStore) listPage(prefix, delimiter, marker string, maxKeys int) (items []listItem, truncated bool) {
	if maxKeys <= 0 {
		return nil, false
	}
	o.mu.RLock()
	if !o.sorted {
		o.mu.RUnlock()
		o.mu.Lock()
		if !o.sorted {
			sort.Strings(o.keys)
			o.sorted = true
		}
		o.mu.Unlock()
		o.mu.RLock()
	}
	defer o.mu.RUnlock()

	keys := o.keys
	i := sort.SearchStrings(keys, prefix)
	if marker != "" {
		if j := sort.Search(len(keys), func(j int) bool { return keys[j] > marker }); j > i {
			i = j
		}
	}
	for i < len(keys) {
		key := keys[i]
		if !strings.HasPrefix(key, prefix) {
			break
		}
		if delimiter != "" {
			if d := strings.Index(key[len(prefix):], delimiter); d >= 0 {
				cp := key[:len(prefix)+d+len(delimiter)]
				// Skip every key under cp: they all fold into it.
				next := prefixEnd(keys, i, cp)
				if cp <= marker {
					i = next
					continue
				}
				if len(items) == maxKeys {
					return items, true
				}
				items = append(items, listItem{key: cp, prefix: true})
				i = next
				continue
			}
		}
		if len(items) == maxKeys {
			return items, true
		}
		items = append(items, listItem{key: key, obj: o.byKey[key]})
		i++
	}
	return items, false
}

// prefixEnd returns the index of the first key at or after i that does not
// start with p (keys[i] starts with p).
func prefixEnd(keys []string, i int, p string) int {
	rest := keys[i:]
	return i + sort.Search(len(rest), func(j int) bool { return !strings.HasPrefix(rest[j], p) })
}

// serveList answers GET / (List Objects v1).
func (s *Server) serveList(w http.ResponseWriter, r *http.Request, rid string, pairs []pair) {
	done, _ := s.inject(w, r, serviceCOS, rid, s.listFaults.Load())
	if done {
		return
	}
	prefix, _ := queryGet(pairs, "prefix")
	delimiter, _ := queryGet(pairs, "delimiter")
	marker, _ := queryGet(pairs, "marker")
	encoding, _ := queryGet(pairs, "encoding-type")
	if encoding != "" && encoding != "url" {
		s.writeError(w, r, serviceCOS, rid, errInvalidArgument("encoding-type must be url, got "+strconv.Quote(encoding)))
		return
	}
	maxKeys := 1000
	if v, ok := queryGet(pairs, "max-keys"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.writeError(w, r, serviceCOS, rid, errInvalidArgument("invalid max-keys "+strconv.Quote(v)))
			return
		}
		maxKeys = min(n, 1000)
	}
	items, truncated := s.objects.listPage(prefix, delimiter, marker, maxKeys)

	enc := func(buf []byte, v string) []byte {
		if encoding == "url" {
			return appendEncode(buf, v)
		}
		return appendEscaped(buf, v)
	}
	buf := make([]byte, 0, 512+len(items)*320)
	buf = append(buf, xmlHeader...)
	buf = append(buf, "<ListBucketResult><Name>"...)
	buf = appendEscaped(buf, s.cfg.Bucket)
	buf = append(buf, "</Name>"...)
	if encoding != "" {
		buf = append(buf, "<EncodingType>url</EncodingType>"...)
	}
	buf = append(buf, "<Prefix>"...)
	buf = enc(buf, prefix)
	buf = append(buf, "</Prefix><Marker>"...)
	buf = enc(buf, marker)
	buf = append(buf, "</Marker><MaxKeys>"...)
	buf = strconv.AppendInt(buf, int64(maxKeys), 10)
	buf = append(buf, "</MaxKeys>"...)
	if delimiter != "" {
		buf = append(buf, "<Delimiter>"...)
		buf = enc(buf, delimiter)
		buf = append(buf, "</Delimiter>"...)
	}
	buf = append(buf, "<IsTruncated>"...)
	buf = strconv.AppendBool(buf, truncated)
	buf = append(buf, "</IsTruncated>"...)
	if truncated && len(items) > 0 {
		buf = append(buf, "<NextMarker>"...)
		buf = enc(buf, items[len(items)-1].key)
		buf = append(buf, "</NextMarker>"...)
	}
	for _, it := range items {
		if it.prefix {
			continue
		}
		buf = append(buf, "<Contents><Key>"...)
		buf = enc(buf, it.key)
		buf = append(buf, "</Key><LastModified>"...)
		buf = it.obj.lastModified.AppendFormat(buf, "2006-01-02T15:04:05.000Z")
		buf = append(buf, "</LastModified><ETag>"...)
		buf = append(buf, it.obj.etag...)
		buf = append(buf, "</ETag><Size>"...)
		buf = strconv.AppendInt(buf, int64(len(it.obj.body)), 10)
		buf = append(buf, "</Size><Owner><ID>1250000000</ID><DisplayName>1250000000</DisplayName></Owner>"...)
		buf = append(buf, "<StorageClass>STANDARD</StorageClass></Contents>"...)
	}
	for _, it := range items {
		if !it.prefix {
			continue
		}
		buf = append(buf, "<CommonPrefixes><Prefix>"...)
		buf = enc(buf, it.key)
		buf = append(buf, "</Prefix></CommonPrefixes>"...)
	}
	buf = append(buf, "</ListBucketResult>"...)
	s.stats.lists.Add(1)
	writeXML(w, serviceCOS, rid, http.StatusOK, buf)
}

// serveObject answers GET and HEAD /<key>.
func (s *Server) serveObject(w http.ResponseWriter, r *http.Request, rid string) {
	done, _ := s.inject(w, r, serviceCOS, rid, s.listFaults.Load())
	if done {
		return
	}
	key := r.URL.Path[1:]
	s.objects.mu.RLock()
	obj := s.objects.byKey[key]
	s.objects.mu.RUnlock()
	if obj == nil {
		s.writeError(w, r, serviceCOS, rid, &apiError{http.StatusNotFound, "NoSuchKey", "The specified key does not exist."})
		return
	}
	s.stats.gets.Add(1)
	h := w.Header()
	h["X-Cos-Request-Id"] = []string{rid}
	h["Server"] = []string{"tencent-cos"}
	h["Content-Type"] = []string{"application/octet-stream"}
	h["Content-Length"] = []string{strconv.Itoa(len(obj.body))}
	h["Etag"] = []string{obj.etag}
	h["Last-Modified"] = []string{obj.lastModified.Format(http.TimeFormat)}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(obj.body) //nolint:errcheck // the client went away; nothing to do.
	}
}

// appendEscaped appends s as XML character data, as xml.EscapeText does:
// markup characters become references and bytes that XML cannot carry
// (invalid UTF-8, most control characters) become U+FFFD.
func appendEscaped(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		width := 1
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				esc = "&#34;"
			case '\'':
				esc = "&#39;"
			case '&':
				esc = "&amp;"
			case '<':
				esc = "&lt;"
			case '>':
				esc = "&gt;"
			case '\t':
				esc = "&#x9;"
			case '\n':
				esc = "&#xA;"
			case '\r':
				esc = "&#xD;"
			default:
				if c < 0x20 {
					esc = "\uFFFD"
				}
			}
		} else {
			var r rune
			r, width = utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && width == 1 || r == 0xFFFE || r == 0xFFFF {
				esc = "\uFFFD"
			}
		}
		if esc != "" {
			dst = append(dst, s[last:i]...)
			dst = append(dst, esc...)
			last = i + width
		}
		i += width
	}
	return append(dst, s[last:]...)
}
