package manifest

import (
	"context"
	"time"
)

// Row is one object read from a source, or one row that cannot be used.
type Row struct {
	Key          string
	WorkflowID   string    // per-row override of --workflow, "" if none
	Name         string    // per-row task name, "" if none
	Line         int       // physical 1-based line of the row's first byte; 0 for listings
	File         string    // for an inventory, the data file the line is in
	Bucket       string    // the bucket a bucket,key CSV row or an inventory row names, "" if none
	LastModified time.Time // zero when the source does not say
	Invalid      *Invalid  // non-nil: the row cannot be used and is reported as invalid
}

// Invalid says why a row cannot be used.
type Invalid struct {
	Code    string // EmptyKey, KeyTooLong, InvalidUTF8, LeadingSlash, BadCSV, BadJSON, BadEncoding, ...
	Message string
	KeyHex  string // the key's exact bytes in hex when Key is not valid UTF-8
}

// Source yields rows one at a time; Next returns io.EOF after the last row.
// A Source is used from one goroutine.
type Source interface {
	Next(ctx context.Context) (Row, error)
	Close() error
}

// reuse returns the string of b, reusing *last when it holds the same bytes
// and keeping it in *last otherwise: a bucket column repeats row after row,
// and so needs one copy, not one a row.
func reuse(last *string, b []byte) string {
	if string(b) != *last {
		*last = string(b)
	}
	return *last
}
