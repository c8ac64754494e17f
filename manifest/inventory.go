package manifest

import (
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// maxInventoryManifest caps the size of a manifest.json (it lists data
// files, not objects).
const maxInventoryManifest = 64 << 20

// inventoryManifest is the manifest.json of a COS inventory report
// (reference §8). Numbers in it are JSON strings and are not needed.
type inventoryManifest struct {
	FileFormat string           `json:"fileFormat"`
	FileSchema *string          `json:"fileSchema"`
	Files      *[]inventoryFile `json:"files"`
}

type inventoryFile struct {
	Key         string `json:"key"`
	MD5Checksum string `json:"md5Checksum"`
	path        string // local file to read, "" when fetched with a Getter
}

// inventory is the Source of a COS inventory report: the gzip CSV data files
// listed by its manifest.json, read one after the other, each file's md5
// checked as it streams by.
type inventory struct {
	label  string
	files  []inventoryFile
	getter Getter // nil: files are local

	keyCol, modCol, deleteCol, latestCol, bucketCol int

	idx  int // the data file being read
	body io.ReadCloser
	gz   *gzip.Reader
	raw  io.Reader // the data file's bytes as stored, through the hash
	hash hash.Hash
	p    *csvParser
	err  error // sticky: the source is broken
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

// findDataFile finds a data file of a local inventory: at its key's path
// relative to the manifest's directory, or by its base name there.
func findDataFile(dir, key string) (string, error) {
	if key == "" {
		return "", errors.New(`inventory file with an empty "key"`)
	}
	full := filepath.Join(dir, filepath.FromSlash(key))
	base := filepath.Join(dir, path.Base(key))
	for _, p := range []string{full, base} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("inventory file %s: not found (looked for %s and %s)", key, full, base)
}

// Name is the source's name for the report.
func (s *inventory) Name() string { return s.label }

// Next returns the next object of the inventory. Delete markers and
// non-latest versions are skipped. A data file whose md5 differs from the
// manifest's ends the source with an error once the file has been read.
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
				s.err = fmt.Errorf("%s: inventory file %s: %w", s.label, s.files[s.idx].Key, err)
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

func (s *inventory) open(ctx context.Context) error {
	f := s.files[s.idx]
	var err error
	if s.getter != nil {
		s.body, err = s.getter.GetObject(ctx, f.Key)
	} else {
		s.body, err = os.Open(f.path)
	}
	if err != nil {
		return err
	}
	s.hash = md5.New()
	s.raw = io.TeeReader(s.body, s.hash)
	s.gz, err = gzip.NewReader(s.raw)
	if err != nil {
		s.closeFile()
		return fmt.Errorf("not a gzip file: %w", err)
	}
	s.p = newCSVParser(s.gz)
	return nil
}

// finishFile checks the data file just read to its end.
func (s *inventory) finishFile() error {
	defer s.closeFile()
	if err := s.p.c.readErr(); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if _, err := io.Copy(io.Discard, s.raw); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	want := s.files[s.idx].MD5Checksum
	if got := hex.EncodeToString(s.hash.Sum(nil)); want != "" && !strings.EqualFold(got, want) {
		return fmt.Errorf("md5 mismatch: the file's md5 is %s, the manifest says %s", got, want)
	}
	return nil
}

func (s *inventory) closeFile() {
	if s.gz != nil {
		s.gz.Close()
	}
	if s.body != nil {
		s.body.Close()
	}
	s.body, s.gz, s.raw, s.hash, s.p = nil, nil, nil, nil, nil
}

// row turns the current record into a row; ok is false for a record that
// is skipped (a delete marker or an old version).
func (s *inventory) row() (Row, bool) {
	p := s.p
	file := s.files[s.idx].Key
	label := s.label + ": inventory file " + file
	row, ok := s.rowIn(label, p)
	row.File = file
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
	row.Bucket = string(p.field(s.bucketCol))
	if f := p.field(s.modCol); len(f) > 0 {
		if t, err := time.Parse(time.RFC3339Nano, string(f)); err == nil {
			row.LastModified = t
		}
	}
	return row, true
}

// Close releases the data file being read.
func (s *inventory) Close() error {
	s.closeFile()
	s.idx = len(s.files)
	return nil
}
