// Package manifest reads the objects a run works on: manifest files (CSV,
// JSON Lines, text, COS inventory reports, any of them gzip-compressed) and
// bucket listings, one row at a time, in order, in memory that does not grow
// with the number of rows. Rows that cannot be used are yielded as invalid
// rows with their line and reason; only a source that cannot be read at all
// is an error.
package manifest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Options says how Open reads a manifest.
type Options struct {
	// Format is csv, jsonl, txt or inventory; "" picks it by the file name:
	// .csv, .jsonl or .ndjson, .txt, or a name ending in manifest.json, each
	// optionally followed by .gz.
	Format string
	// Stdin is read for the path "-" (os.Stdin when nil).
	Stdin io.Reader
	// Getter fetches cos://BUCKET-APPID/KEY paths and the data files of an
	// inventory read from one.
	Getter Getter
}

// Getter fetches an object of the bucket; *tencent.Client satisfies it.
type Getter interface {
	GetObject(ctx context.Context, key string) (io.ReadCloser, error)
}

// Formats Open reads.
const (
	FormatCSV       = "csv"
	FormatJSONL     = "jsonl"
	FormatText      = "txt"
	FormatInventory = "inventory"
)

// sniffSize is how much of a file Open looks at to tell it is of its format.
const sniffSize = 4 << 10

// Open opens the manifest at path as a Source. path "-" reads opts.Stdin;
// a path cos://BUCKET-APPID/KEY is fetched with opts.Getter. Gzip input is
// recognised by its magic bytes. A file that is missing, unreadable or not
// of its format at all (a bad gzip header, NUL bytes in the first 4 KiB of
// a CSV, JSONL or text file, a JSONL file whose first line is neither a JSON
// object nor a JSON string, an inventory manifest without files, fileSchema
// or Key column, or whose first data file is missing or differs from the
// manifest's size or md5) is an error, returned before any row.
func Open(ctx context.Context, path string, opts Options) (Source, error) {
	label := "manifest " + path
	if path == "-" {
		label = "manifest stdin"
	}
	src, err := open(ctx, path, label, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	return src, nil
}

func open(ctx context.Context, path, label string, opts Options) (Source, error) {
	format, formatErr := FormatOf(path, opts.Format)
	bucket, key, isCOS := ParseCOSURL(path)
	if formatErr != nil && (path == "-" || isCOS) {
		return nil, formatErr
	}
	var raw io.Reader
	var closers multiCloser
	switch {
	case path == "-":
		if format == FormatInventory {
			return nil, errors.New("an inventory manifest.json cannot be read from standard input: its data files are found beside it")
		}
		raw = opts.Stdin
		if raw == nil {
			raw = os.Stdin
		}
	case isCOS:
		if opts.Getter == nil {
			return nil, fmt.Errorf("cannot fetch from bucket %s here", bucket)
		}
		body, err := opts.Getter.GetObject(ctx, key)
		if err != nil {
			return nil, err
		}
		raw, closers = body, append(closers, body)
	default:
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		raw, closers = f, append(closers, f)
	}
	src, err := openReader(raw, path, label, format, formatErr, opts)
	if err != nil {
		closers.Close()
		return nil, err
	}
	switch s := src.(type) {
	case *fileSource:
		s.closer = append(multiCloser{s.closer}, closers...)
	case *inventory:
		closers.Close() // the manifest has been read
		if err := s.start(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return src, nil
}

// openReader decompresses raw when it is gzip, checks that it is not a
// wftrigger report and that it is of format (formatErr says why the format
// is unknown), and returns its Source, with the gzip reader as the Source's
// closer.
func openReader(raw io.Reader, path, label, format string, formatErr error, opts Options) (Source, error) {
	br := bufio.NewReaderSize(raw, chunkSize)
	var closer io.Closer
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("not a valid gzip file: %w", err)
		}
		br, closer = bufio.NewReaderSize(gz, chunkSize), gz
	} else if strings.HasSuffix(strings.ToLower(path), ".gz") {
		return nil, errors.New("not a gzip file (no gzip header)")
	}
	head, err := br.Peek(chunkSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("read: %w", err)
	}
	if err := sniffReport(head); err != nil {
		return nil, err
	}
	if formatErr != nil {
		return nil, formatErr
	}
	if format == FormatInventory {
		dir := ""
		var getter Getter
		if _, _, isCOS := ParseCOSURL(path); isCOS {
			getter = opts.Getter
		} else {
			dir = filepath.Dir(path)
		}
		return parseInventory(br, label, dir, getter)
	}
	if bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}) {
		return nil, fmt.Errorf("not a %s file: UTF-16 text; save it as UTF-8", format)
	}
	if i := bytes.IndexByte(head[:min(len(head), sniffSize)], 0); i >= 0 {
		return nil, fmt.Errorf("not a %s file: binary data (a NUL byte at offset %d)", format, i)
	}
	var rd rowReader
	switch format {
	case FormatCSV:
		rd = newCSVReader(br, label)
	case FormatJSONL:
		if err := sniffJSONL(head, len(head) < chunkSize); err != nil {
			return nil, err
		}
		rd = &jsonlReader{newLines(br, label)}
	default:
		rd = &textReader{newLines(br, label)}
	}
	return newFileSource(label, rd, closer), nil
}

// sniffJSONL checks that the first non-blank line of head starts like a
// JSON object or string. A first line that starts so but is broken is only
// a bad row (reported invalid, the run goes on), not a file of another
// format.
func sniffJSONL(head []byte, _ bool) error {
	head = bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	for len(head) > 0 {
		line, rest, _ := bytes.Cut(head, []byte("\n"))
		head = rest
		line = bytes.Trim(line, " \t\r")
		if len(line) == 0 {
			continue
		}
		if line[0] != '{' && line[0] != '"' {
			return errors.New("not a JSONL file: the first line is not a JSON object or string")
		}
		return nil
	}
	return nil
}

// ErrReport is the error of a manifest that is a wftrigger report or the
// journal of one: read as rows, it would trigger again objects that
// already succeeded. `wftrigger report` writes a report's entries as a
// manifest.
var ErrReport = errors.New("a wftrigger report, not a manifest")

// ErrJournal is the error of a manifest that is the journal of a wftrigger
// report; errors.Is(err, ErrReport) holds for it too.
var ErrJournal = fmt.Errorf("the journal of %w", ErrReport)

// sniffReport returns ErrReport when head, the start of a file, is a
// wftrigger report (a JSON object whose first field is a numeric "version",
// with "bucket" and "summary" or "objects" after it) or ErrJournal when it
// is a report's journal (a first line that is a JSON object whose first
// field is a numeric "journal"). Rows of a manifest begin with "key".
func sniffReport(head []byte) error {
	head = bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return nil
	}
	switch {
	case numericField(head[1:], "journal"):
		return ErrJournal
	case numericField(head[1:], "version") && bytes.Contains(head, []byte(`"bucket"`)) &&
		(bytes.Contains(head, []byte(`"summary"`)) || bytes.Contains(head, []byte(`"objects"`))):
		return ErrReport
	}
	return nil
}

// numericField reports whether b, after white space, is the field name,
// a colon and a digit.
func numericField(b []byte, name string) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	b, ok := bytes.CutPrefix(b, []byte(`"`+name+`"`))
	if !ok {
		return false
	}
	b, ok = bytes.CutPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte(":"))
	b = bytes.TrimLeft(b, " \t\r\n")
	return ok && len(b) > 0 && '0' <= b[0] && b[0] <= '9'
}

// FormatOf returns the format named by flag, or else the one of path's
// name (an error when neither tells).
func FormatOf(path, flag string) (string, error) {
	switch f := strings.ToLower(flag); f {
	case FormatCSV, FormatJSONL, FormatText, FormatInventory:
		return f, nil
	case "ndjson":
		return FormatJSONL, nil
	case "":
	default:
		return "", fmt.Errorf("unknown format %q (want csv, jsonl, txt or inventory)", flag)
	}
	if path == "-" {
		return "", errors.New("the format of standard input is unknown; give --format csv, jsonl, txt or inventory")
	}
	name := strings.TrimSuffix(strings.ToLower(path), ".gz")
	switch {
	case strings.HasSuffix(name, ".csv"):
		return FormatCSV, nil
	case strings.HasSuffix(name, ".jsonl"), strings.HasSuffix(name, ".ndjson"):
		return FormatJSONL, nil
	case strings.HasSuffix(name, ".txt"):
		return FormatText, nil
	case strings.HasSuffix(name, "manifest.json"):
		return FormatInventory, nil
	}
	return "", errors.New("cannot tell the format from the file name; give --format csv, jsonl, txt or inventory")
}

// ParseCOSURL splits cos://BUCKET-APPID/KEY into its bucket and key; ok is
// false when s is not such a URL.
func ParseCOSURL(s string) (bucket, key string, ok bool) {
	rest, found := strings.CutPrefix(s, "cos://")
	if !found {
		return "", "", false
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" || key == "" {
		return "", "", false
	}
	return bucket, key, true
}

// multiCloser closes several closers, in order, and returns the first error.
type multiCloser []io.Closer

// Close closes every closer.
func (m multiCloser) Close() error {
	var first error
	for _, c := range m {
		if c == nil {
			continue
		}
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
