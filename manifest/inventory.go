package manifest

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxInventoryManifest caps the size of a manifest.json (it lists data
// files, not objects).
const maxInventoryManifest = 64 << 20

// inventoryManifest is the manifest.json of a COS inventory report
// (reference §8). Numbers in it are JSON strings; only the data files'
// sizes are used.
type inventoryManifest struct {
	FileFormat string           `json:"fileFormat"`
	FileSchema *string          `json:"fileSchema"`
	Files      *[]inventoryFile `json:"files"`
}

// inventoryFile is one entry of a manifest's files: a data file, the size
// and md5 it must have, and where it is found.
type inventoryFile struct {
	Key         string          `json:"key"`
	Size        json.RawMessage `json:"size"`
	MD5Checksum string          `json:"md5Checksum"`

	size int64  // Size in bytes, -1 when the manifest does not say
	md5  string // MD5Checksum in lower-case hex, "" when the manifest does not say
	path string // local file to read, "" when fetched with a Getter
}

// inventory is the Source of a COS inventory report: the gzip CSV data files
// listed by its manifest.json, read one after the other.
//
// Each data file is checked against the manifest's size and md5Checksum
// before any of its rows is handed out: a fetched one is first copied to a
// temporary file in os.TempDir() ($TMPDIR), hashed on the way, then parsed
// from that copy; a local one is hashed, then parsed. A file that fails the
// check ends the source with an error that names it, before its first row.
// The first data file is checked by Open, so that a bad one stops the run
// before anything is triggered; a later one stops it where it comes, after
// the rows of the good files before it (a run is resumable, and those rows
// were as the manifest says). Memory does not grow with a file's size; the
// temporary copy of the file being read is the only disk space used.
type inventory struct {
	label  string
	files  []inventoryFile
	getter Getter // nil: files are local

	keyCol, modCol, deleteCol, latestCol, bucketCol int

	bucket string // the last row's bucket, reused while it repeats

	idx       int           // the data file being read
	fileLabel string        // prefixes the messages of its rows
	file      io.ReadCloser // its bytes as stored: a local file or a temporary copy
	gz        *gzip.Reader
	p         *csvParser
	err       error // sticky: the source is broken
}

// parseInventory reads an inventory manifest.json from r. dir is the local
// directory of the manifest, "" when getter fetches the data files.
func parseInventory(r io.Reader, label, dir string, getter Getter) (*inventory, error) {
	var m inventoryManifest
	dec := json.NewDecoder(io.LimitReader(r, maxInventoryManifest))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a COS inventory manifest.json: %w", err)
	}
	if m.Files == nil {
		return nil, errors.New(`not a COS inventory manifest.json: no "files"`)
	}
	if m.FileSchema == nil {
		return nil, errors.New(`not a COS inventory manifest.json: no "fileSchema"`)
	}
	if m.FileFormat != "" && !strings.EqualFold(m.FileFormat, "CSV") {
		return nil, fmt.Errorf("inventory fileFormat %q is not supported (want CSV)", m.FileFormat)
	}
	inv := &inventory{label: label, files: *m.Files, getter: getter, keyCol: -1, modCol: -1, deleteCol: -1, latestCol: -1, bucketCol: -1}
	for i, name := range strings.Split(*m.FileSchema, ",") {
		switch strings.TrimSpace(name) {
		case "Key":
			inv.keyCol = i
		case "LastModifiedDate":
			inv.modCol = i
		case "IsDeleteMarker":
			inv.deleteCol = i
		case "IsLatest":
			inv.latestCol = i
		case "Bucket":
			inv.bucketCol = i
		}
	}
	if inv.keyCol < 0 {
		return nil, fmt.Errorf("inventory fileSchema %q has no Key column", *m.FileSchema)
	}
	for i := range inv.files {
		if err := inv.files[i].parseChecks(); err != nil {
			return nil, err
		}
	}
	if getter != nil {
		return inv, nil
	}
	for i := range inv.files {
		p, err := findDataFile(dir, inv.files[i].Key)
		if err != nil {
			return nil, err
		}
		inv.files[i].path = p
	}
	return inv, nil
}

// parseChecks reads the size and md5Checksum of a data file's entry.
func (f *inventoryFile) parseChecks() error {
	if f.Key == "" {
		return errors.New(`inventory file with an empty "key"`)
	}
	f.size = -1
	if raw := strings.TrimSpace(string(f.Size)); raw != "" && raw != "null" {
		if s, err := strconv.Unquote(raw); err == nil {
			raw = strings.TrimSpace(s)
		}
		if raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("inventory file %s: size %s is not a number of bytes", f.Key, f.Size)
			}
			f.size = n
		}
	}
	if sum := strings.ToLower(strings.Trim(f.MD5Checksum, "\" \t")); sum != "" {
		if b, err := hex.DecodeString(sum); err != nil || len(b) != md5.Size {
			return fmt.Errorf("inventory file %s: md5Checksum %q is not an md5 (32 hex digits)", f.Key, f.MD5Checksum)
		}
		f.md5 = sum
	}
	return nil
}

// verify checks a data file's n bytes and their md5 against the manifest;
// more is true when the file is longer than the manifest's size (and was
// not read beyond it).
func (f *inventoryFile) verify(n int64, more bool, sum []byte) error {
	if f.size >= 0 && (n != f.size || more) {
		has := fmt.Sprintf("%d bytes", n)
		if more {
			has = fmt.Sprintf("more than %d bytes", f.size)
		}
		return fmt.Errorf("size mismatch: the manifest says %d bytes, the file has %s (a damaged or different copy: none of its rows was read)", f.size, has)
	}
	if got := hex.EncodeToString(sum); f.md5 != "" && got != f.md5 {
		return fmt.Errorf("md5 mismatch: the manifest says %s, the file's md5 is %s (a damaged or different copy: none of its rows was read)", f.md5, got)
	}
	return nil
}

// findDataFile finds a data file of a local inventory. It tries, in order:
// the key as a path relative to the manifest's folder; the key's base name
// in that folder; the key's tail after the inventory id (the name of the
// DATE folder's parent) under that parent, which is where a sync of the
// inventory's COS prefix puts it (DATE/manifest.json beside data/); the
// key relative to each ancestor folder, nearest first.
func findDataFile(dir, key string) (string, error) {
	if key == "" {
		return "", errors.New(`inventory file with an empty "key"`)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	rel := filepath.FromSlash(key)
	base := path.Base(key)
	parent := filepath.Dir(dir)
	tried := []string{filepath.Join(dir, rel), filepath.Join(dir, base)}
	if id := filepath.Base(parent); parent != dir {
		segs := strings.Split(key, "/")
		for i := len(segs) - 2; i >= 0; i-- {
			if segs[i] == id {
				tried = append(tried, filepath.Join(parent, filepath.FromSlash(strings.Join(segs[i+1:], "/"))))
				break
			}
		}
		tried = append(tried, filepath.Join(parent, "data", base))
	}
	for a := parent; ; a = filepath.Dir(a) {
		tried = append(tried, filepath.Join(a, rel))
		if filepath.Dir(a) == a {
			break
		}
	}
	seen := map[string]bool{}
	var looked []string
	for _, p := range tried {
		if seen[p] {
			continue
		}
		seen[p] = true
		looked = append(looked, p)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("inventory file %s: not found (looked for %s)", key, strings.Join(looked, ", "))
}

// Name is the source's name for the report.
func (s *inventory) Name() string { return s.label }

// Next returns the next object of the inventory. Delete markers and
// non-latest versions are skipped. A data file that is not as the manifest
// says ends the source with an error before any of its rows.
func (s *inventory) Next(ctx context.Context) (Row, error) {
	for {
		if s.err != nil {
			return Row{}, s.err
		}
		if err := ctx.Err(); err != nil {
			return Row{}, err
		}
		if s.p == nil {
			if s.idx == len(s.files) {
				return Row{}, io.EOF
			}
			if err := s.open(ctx); err != nil {
				s.err = fmt.Errorf("%s: %w", s.label, err)
				continue
			}
		}
		if !s.p.next() {
			if err := s.finishFile(); err != nil {
				s.err = fmt.Errorf("%s: inventory file %s: %w", s.label, s.files[s.idx].Key, err)
				continue
			}
			s.idx++
			continue
		}
		if row, ok := s.row(); ok {
			return row, nil
		}
	}
}

// start opens and checks the first data file, so that Open fails on it.
func (s *inventory) start(ctx context.Context) error {
	if len(s.files) == 0 {
		return nil
	}
	if err := s.open(ctx); err != nil {
		s.err = fmt.Errorf("%s: %w", s.label, err)
		return err
	}
	return nil
}

// open checks the data file s.idx against the manifest and starts parsing
// it; its error names the file.
func (s *inventory) open(ctx context.Context) error {
	f := &s.files[s.idx]
	file, err := s.fetch(ctx, f)
	if err != nil {
		return fmt.Errorf("inventory file %s: %w", f.Key, err)
	}
	s.file = file
	s.gz, err = gzip.NewReader(bufio.NewReaderSize(file, chunkSize))
	if err != nil {
		s.closeFile()
		return fmt.Errorf("inventory file %s: not a gzip file: %w", f.Key, err)
	}
	s.p = newCSVParser(s.gz)
	s.fileLabel = s.label + ": inventory file " + f.Key
	return nil
}

// fetch returns the bytes of data file f, checked, positioned at the start.
func (s *inventory) fetch(ctx context.Context, f *inventoryFile) (io.ReadCloser, error) {
	if s.getter != nil {
		body, err := s.getter.GetObject(ctx, f.Key)
		if err != nil {
			return nil, err
		}
		limit := int64(-1)
		if f.size >= 0 {
			limit = f.size + 1 // one byte more tells a larger file
		}
		sp, n, sum, err := spool("", body, limit)
		body.Close()
		if err != nil {
			return nil, err
		}
		if err := f.verify(n, f.size >= 0 && n > f.size, sum); err != nil {
			sp.Close()
			return nil, err
		}
		return sp, nil
	}
	lf, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	if st, err := lf.Stat(); err == nil && f.size >= 0 && st.Size() != f.size {
		lf.Close()
		return nil, f.verify(st.Size(), false, nil)
	}
	n, sum, err := hashFile(lf)
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("read %s: %w", f.path, err)
	}
	if err := f.verify(n, false, sum); err != nil {
		lf.Close()
		return nil, err
	}
	return lf, nil
}

// finishFile checks the data file just read to its end.
func (s *inventory) finishFile() error {
	defer s.closeFile()
	if err := s.p.c.readErr(); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}

// closeFile closes the data file being read; a temporary copy is removed.
func (s *inventory) closeFile() error {
	var err error
	if s.gz != nil {
		s.gz.Close()
	}
	if s.file != nil {
		err = s.file.Close()
	}
	s.file, s.gz, s.p = nil, nil, nil
	return err
}

// row turns the current record into a row; ok is false for a record that
// is skipped (a delete marker or an old version).
func (s *inventory) row() (Row, bool) {
	row, ok := s.rowIn(s.fileLabel, s.p)
	row.File = s.files[s.idx].Key
	return row, ok
}

func (s *inventory) rowIn(label string, p *csvParser) (Row, bool) {
	if p.code != "" {
		return invalidRow(label, p.start, p.code, p.problem), true
	}
	if strings.EqualFold(string(p.field(s.deleteCol)), "true") || strings.EqualFold(string(p.field(s.latestCol)), "false") {
		return Row{}, false
	}
	if s.keyCol >= len(p.ends) {
		return invalidRow(label, p.start, CodeEmptyKey, fmt.Sprintf("empty key (the row has %d fields, Key is column %d)", len(p.ends), s.keyCol+1)), true
	}
	// Inventory keys are URL-encoded like a query string: '+' and %20 are spaces.
	raw := string(p.field(s.keyCol))
	key, err := url.QueryUnescape(raw)
	if err != nil {
		return badEncoding(label, p.start, raw), true
	}
	row := rowFor(label, p.start, key, "", "")
	row.Bucket = reuse(&s.bucket, p.field(s.bucketCol))
	if f := p.field(s.modCol); len(f) > 0 {
		if t, err := time.Parse(time.RFC3339Nano, string(f)); err == nil {
			row.LastModified = t
		}
	}
	return row, true
}

// Close releases the data file being read and removes its temporary copy.
func (s *inventory) Close() error {
	err := s.closeFile()
	s.idx = len(s.files)
	return err
}
