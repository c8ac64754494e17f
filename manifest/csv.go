package manifest

import (
	"fmt"
	"io"
	"net/url"
	"strings"
)

// csvParser splits RFC 4180 CSV into records without holding more than one
// record (at most maxLine bytes) in memory. Unlike encoding/csv it knows the
// physical line of every record, recovers from a broken record at the next
// line, and does not buffer the rest of the file after an unterminated quote.
// Quoted fields turn CRLF into LF; a CR before a record's LF is dropped.
type csvParser struct {
	c    *chunkReader
	line int // the physical line being read, 1-based

	// The last record read.
	rec     []byte // the fields' bytes, back to back
	ends    []int  // end offset in rec of each field
	start   int    // line of the record's first byte
	code    string // non-empty: the record is broken (BadCSV, LineTooLong)
	problem string
	quoted  bool // a quote was seen in the record
	over    bool // the record is longer than maxLine
}

func newCSVParser(r io.Reader) *csvParser {
	return &csvParser{c: newChunkReader(r), line: 1}
}

const (
	stFieldStart = iota
	stUnquoted
	stQuoted
	stQuote   // a '"' in a quoted field: its end, or the first of a pair
	stQuoteCR // a '\r' right after a closing quote
	stSkip    // a broken record: skip to the end of its line
)

// next reads the next record; it returns false at the end of the input or
// on a read error (see c.readErr).
func (p *csvParser) next() bool {
	if !p.c.fill() {
		return false
	}
	p.rec, p.ends = p.rec[:0], p.ends[:0]
	p.start, p.code, p.problem, p.quoted, p.over = p.line, "", "", false, false
	st, fieldStart, quoteLine := stFieldStart, 0, 0
	for p.c.fill() {
		buf := p.c.chunk()
		for i := 0; i < len(buf); i++ {
			b := buf[i]
			switch st {
			case stFieldStart, stUnquoted:
				if st == stFieldStart && b == '"' {
					st, quoteLine, p.quoted = stQuoted, p.line, true
					continue
				}
				j := i
				for j < len(buf) && buf[j] != ',' && buf[j] != '\n' && buf[j] != '"' {
					j++
				}
				p.add(buf[i:j])
				st = stUnquoted
				if j == len(buf) {
					i = j
					continue
				}
				i = j
				switch buf[j] {
				case ',':
					p.endField(&fieldStart)
					st = stFieldStart
				case '\n':
					p.trimCR(fieldStart)
					p.endField(&fieldStart)
					return p.endLine(i)
				case '"':
					p.quoted = true
					p.fail(CodeBadCSV, `bare " in unquoted field`)
					st = stSkip
				}
			case stQuoted:
				j := i
				for j < len(buf) && buf[j] != '"' && buf[j] != '\n' {
					j++
				}
				p.add(buf[i:j])
				i = j
				if j == len(buf) {
					continue
				}
				if buf[j] == '"' {
					st = stQuote
				} else {
					p.trimCR(fieldStart)
					p.add(buf[j : j+1])
					p.line++
				}
			case stQuote:
				switch b {
				case '"':
					p.add(buf[i : i+1])
					st = stQuoted
				case ',':
					p.endField(&fieldStart)
					st = stFieldStart
				case '\n':
					p.endField(&fieldStart)
					return p.endLine(i)
				case '\r':
					st = stQuoteCR
				default:
					p.fail(CodeBadCSV, `extraneous " in quoted field`)
					st = stSkip
				}
			case stQuoteCR:
				if b == '\n' {
					p.endField(&fieldStart)
					return p.endLine(i)
				}
				p.fail(CodeBadCSV, `extraneous " in quoted field`)
				st = stSkip
			case stSkip:
				j := i
				for j < len(buf) && buf[j] != '\n' {
					j++
				}
				i = j
				if j < len(buf) {
					return p.endLine(i)
				}
			}
		}
		p.c.consume(len(buf))
	}
	if p.c.readErr() != nil {
		return false
	}
	switch st {
	case stQuoted:
		p.start = quoteLine
		p.code, p.problem = CodeBadCSV, "quoted field opened on this line is never closed; the rest of the file is one invalid entry"
	case stSkip:
	case stUnquoted:
		p.trimCR(fieldStart)
		p.endField(&fieldStart)
	default:
		p.endField(&fieldStart)
	}
	p.finish()
	return true
}

// endLine ends the record at the '\n' at index i of the current chunk.
func (p *csvParser) endLine(i int) bool {
	p.c.consume(i + 1)
	p.line++
	p.finish()
	return true
}

func (p *csvParser) finish() {
	if p.over && p.code == "" {
		p.code, p.problem = CodeLineTooLong, "record is longer than 1 MiB"
	}
}

func (p *csvParser) add(b []byte) {
	if len(p.rec)+len(b) > maxLine {
		p.over = true
		return
	}
	p.rec = append(p.rec, b...)
}

func (p *csvParser) trimCR(fieldStart int) {
	if n := len(p.rec); n > fieldStart && p.rec[n-1] == '\r' {
		p.rec = p.rec[:n-1]
	}
}

func (p *csvParser) endField(fieldStart *int) {
	p.ends = append(p.ends, len(p.rec))
	*fieldStart = len(p.rec)
}

// fail marks the record broken with the first problem found.
func (p *csvParser) fail(code, msg string) {
	if p.code == "" {
		p.code, p.problem = code, fmt.Sprintf("%s (line %d)", msg, p.line)
		if p.line == p.start {
			p.problem = msg
		}
	}
}

// field returns field i of the record, nil when there is none.
func (p *csvParser) field(i int) []byte {
	if i < 0 || i >= len(p.ends) {
		return nil
	}
	from := 0
	if i > 0 {
		from = p.ends[i-1]
	}
	return p.rec[from:p.ends[i]]
}

// blank reports whether the record is an empty line.
func (p *csvParser) blank() bool {
	return p.code == "" && !p.quoted && len(p.ends) == 1 && p.ends[0] == 0
}

// CSV layouts, decided by the file's first records.
const (
	layoutUnknown   = iota
	layoutHeader    // a header names the key column
	layoutOne       // one column: the key as it is
	layoutBucketKey // bucket,key[,…]: the key URL-encoded
)

// csvReader turns CSV records into rows following the contract's layouts.
type csvReader struct {
	p         *csvParser
	label     string
	layout    int
	seenFirst bool
	keyCol    int
	wfCol     int
	nameCol   int
	bucket    string // the last row's bucket, reused while it repeats
}

// NewCSV returns a Source reading CSV from r. name is the file name that
// messages and the report's source field show ("objects.csv").
//
// The first record is a header when it has a column named key, Key or
// object (then optional workflowId and name columns; other columns are
// ignored); a one-column first record is a header only when it is exactly
// key, Key or object. Without a header, a one-column file holds the keys as
// they are, and a file of two or more columns holds bucket,key[,…] with the
// key URL-encoded (S3 Batch Operations, COS inventory): it is decoded once
// with query-string rules, so "+" and "%20" both become a space.
func NewCSV(r io.Reader, name string) Source {
	return newFileSource("manifest "+name, newCSVReader(r, "manifest "+name), nil)
}

func newCSVReader(r io.Reader, label string) *csvReader {
	return &csvReader{p: newCSVParser(r), label: label, keyCol: -1, wfCol: -1, nameCol: -1}
}

func (r *csvReader) readErr() error { return r.p.c.readErr() }

func (r *csvReader) read() (row Row, blank, ok bool) {
	p := r.p
	for p.next() {
		first := !r.seenFirst
		r.seenFirst = true
		if p.code != "" {
			return invalidRow(r.label, p.start, p.code, p.problem), false, true
		}
		if p.blank() {
			return Row{Line: p.start}, true, true
		}
		if r.layout == layoutUnknown {
			if first && r.header() {
				continue
			}
			r.layout = layoutOne
			if len(p.ends) > 1 {
				r.layout = layoutBucketKey
			}
		}
		return r.row(), false, true
	}
	return Row{}, false, false
}

func isKeyColumn(name string) bool {
	return name == "key" || name == "Key" || name == "object"
}

// header reports whether the first record is a header and learns its columns.
func (r *csvReader) header() bool {
	p := r.p
	if len(p.ends) == 1 {
		if !isKeyColumn(string(p.field(0))) {
			return false
		}
		r.layout, r.keyCol = layoutHeader, 0
		return true
	}
	for i := range p.ends {
		name := strings.TrimSpace(string(p.field(i)))
		switch {
		case r.keyCol < 0 && isKeyColumn(name):
			r.keyCol = i
		case r.wfCol < 0 && strings.EqualFold(name, "workflowId"):
			r.wfCol = i
		case r.nameCol < 0 && strings.EqualFold(name, "name"):
			r.nameCol = i
		}
	}
	if r.keyCol < 0 {
		r.wfCol, r.nameCol = -1, -1
		return false
	}
	r.layout = layoutHeader
	return true
}

func (r *csvReader) row() Row {
	p := r.p
	n := len(p.ends)
	switch r.layout {
	case layoutOne:
		if n != 1 {
			return invalidRow(r.label, p.start, CodeBadCSV, fmt.Sprintf("%d fields in a one-column manifest (quote keys that hold commas)", n))
		}
		return rowFor(r.label, p.start, string(p.field(0)), "", "")
	case layoutBucketKey:
		if n < 2 {
			return invalidRow(r.label, p.start, CodeBadCSV, fmt.Sprintf("%d field, want bucket,key", n))
		}
		raw := string(p.field(1))
		key, err := url.QueryUnescape(raw)
		if err != nil {
			return badEncoding(r.label, p.start, raw)
		}
		row := rowFor(r.label, p.start, key, "", "")
		row.Bucket = reuse(&r.bucket, p.field(0))
		return row
	}
	if r.keyCol >= n {
		return invalidRow(r.label, p.start, CodeEmptyKey, fmt.Sprintf("empty key (the row has %d fields, the key is column %d)", n, r.keyCol+1))
	}
	var wf, name string
	if f := p.field(r.wfCol); len(f) > 0 {
		wf = string(f)
	}
	if f := p.field(r.nameCol); len(f) > 0 {
		name = string(f)
	}
	return rowFor(r.label, p.start, string(p.field(r.keyCol)), wf, name)
}

// badEncoding is the row of a URL-encoded key that does not decode.
func badEncoding(label string, line int, raw string) Row {
	row := invalidRow(label, line, CodeBadEncoding, fmt.Sprintf("key %q is not validly URL-encoded", raw))
	row.Key = strings.ToValidUTF8(raw, "\uFFFD")
	return row
}
