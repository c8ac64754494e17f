package tencent

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// listBucketResult is the XML answer of GET Bucket (List Objects v1).
type listBucketResult struct {
	XMLName        xml.Name `xml:"ListBucketResult"`
	EncodingType   string   `xml:"EncodingType"`
	IsTruncated    bool     `xml:"IsTruncated"`
	NextMarker     string   `xml:"NextMarker"`
	CommonPrefixes []struct {
		Prefix string `xml:"Prefix"`
	} `xml:"CommonPrefixes"`
	Contents []struct {
		Key          string `xml:"Key"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		Size         int64  `xml:"Size"`
		StorageClass string `xml:"StorageClass"`
	} `xml:"Contents"`
}

// ListObjects reads one page of the bucket listing (GET / on COS with
// encoding-type=url).
//
// Keys, common prefixes and NextMarker come back percent-encoded (the
// answer says EncodingType url) and are decoded once, as the SDK's
// DecodeURIComponent does. When the page is truncated and carries no
// NextMarker, NextMarker is the last key or common prefix of the page.
func (c *Client) ListObjects(ctx context.Context, in ListInput) (ListPage, error) {
	const op = "list"
	var q query
	q.addSet("delimiter", in.Delimiter)
	q.add("encoding-type", "url")
	q.addSet("marker", in.Marker)
	if in.MaxKeys > 0 {
		q.add("max-keys", strconv.Itoa(in.MaxKeys))
	}
	q.addSet("prefix", in.Prefix)
	var r listBucketResult
	h, err := c.getXML(ctx, op, c.cos, c.cos.under("/"), "", string(q), &r)
	if err != nil {
		return ListPage{}, err
	}
	// Decode as the SDK's DecodeURIComponent does (url.QueryUnescape): it
	// reads both %20 and '+' as a space, and any encoder that writes '+' for
	// a space writes a literal '+' as %2B.
	decode := func(s string) (string, error) { return s, nil }
	if strings.EqualFold(r.EncodingType, "url") {
		decode = url.QueryUnescape
	}
	page := ListPage{IsTruncated: r.IsTruncated, RequestID: requestID(h)}
	page.Objects = make([]ObjectInfo, 0, len(r.Contents))
	for _, o := range r.Contents {
		key, err := decode(o.Key)
		if err != nil {
			return ListPage{}, fmt.Errorf("%s: decode key %q: %w", op, o.Key, err)
		}
		var mod time.Time
		if o.LastModified != "" {
			if mod, err = parseTime(o.LastModified); err != nil {
				return ListPage{}, fmt.Errorf("%s: object %q: LastModified: %w", op, key, err)
			}
		}
		page.Objects = append(page.Objects, ObjectInfo{
			Key:          key,
			Size:         o.Size,
			LastModified: mod,
			ETag:         o.ETag,
			StorageClass: o.StorageClass,
		})
	}
	for _, p := range r.CommonPrefixes {
		prefix, err := decode(p.Prefix)
		if err != nil {
			return ListPage{}, fmt.Errorf("%s: decode common prefix %q: %w", op, p.Prefix, err)
		}
		page.CommonPrefixes = append(page.CommonPrefixes, prefix)
	}
	if r.NextMarker != "" {
		if page.NextMarker, err = decode(r.NextMarker); err != nil {
			return ListPage{}, fmt.Errorf("%s: decode NextMarker %q: %w", op, r.NextMarker, err)
		}
	}
	if page.IsTruncated && page.NextMarker == "" {
		if n := len(page.Objects); n > 0 {
			page.NextMarker = page.Objects[n-1].Key
		}
		if n := len(page.CommonPrefixes); n > 0 && page.CommonPrefixes[n-1] > page.NextMarker {
			page.NextMarker = page.CommonPrefixes[n-1]
		}
	}
	return page, nil
}

// parseTime reads the time formats COS and CI answer with: RFC 3339 (with
// or without fractional seconds) and 2006-01-02T15:04:05-0700.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t, nil
	}
	if t, err2 := time.Parse("2006-01-02T15:04:05.999999999-0700", s); err2 == nil {
		return t, nil
	}
	return time.Time{}, err
}

// query builds a raw query string: name=value pairs, each value encoded with
// the §1 encoder, joined by '&'.
type query []byte

func (q *query) add(name, value string) {
	if len(*q) > 0 {
		*q = append(*q, '&')
	}
	*q = append(*q, name...)
	*q = append(*q, '=')
	*q = appendEncode(*q, value)
}

// addSet adds name=value when value is not empty.
func (q *query) addSet(name, value string) {
	if value != "" {
		q.add(name, value)
	}
}
