package manifest

import (
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"os"
)

// spoolBuffer is the copy buffer of a spool or a hash pass: memory per data
// file, whatever its size.
const spoolBuffer = 256 << 10

// spoolFile is a temporary copy of a fetched data file. Its name is
// unlinked as soon as it is created where the system allows it (the data
// stays readable through the open file, and nothing is left behind even by
// kill -9); elsewhere it is removed by Close.
type spoolFile struct {
	*os.File
	name    string // the path it was created at
	removed bool   // the path no longer names it
}

// Close closes the file and removes it if that has not been done.
func (f *spoolFile) Close() error {
	err := f.File.Close()
	if !f.removed {
		if rerr := os.Remove(f.name); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = rerr
		}
		f.removed = true
	}
	return err
}

// spool copies r into a new temporary file in dir (os.TempDir() when ""),
// hashing it on the way, and returns the file positioned at its start, the
// number of bytes and their md5. It copies at most limit bytes when limit
// is not negative, so that a data file larger than its manifest says costs
// no more than that (n is then limit, and the caller sees the mismatch). On
// an error nothing is left on disk.
func spool(dir string, r io.Reader, limit int64) (f *spoolFile, n int64, sum []byte, err error) {
	if dir == "" {
		dir = os.TempDir()
	}
	tmp, err := os.CreateTemp(dir, "wftrigger-inventory-*.csv.gz")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("spool to a temporary file in %s (set TMPDIR to a folder with room for the largest data file): %w", dir, err)
	}
	sf := &spoolFile{File: tmp, name: tmp.Name()}
	if os.Remove(sf.name) == nil {
		sf.removed = true
	}
	h := md5.New()
	if limit >= 0 {
		r = io.LimitReader(r, limit)
	}
	// Plain readers and writers: io.CopyBuffer must use the buffer, not
	// a ReadFrom of the file that would bypass the hash.
	n, err = io.CopyBuffer(struct{ io.Writer }{io.MultiWriter(tmp, h)}, struct{ io.Reader }{r}, make([]byte, spoolBuffer))
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		sf.Close()
		return nil, n, nil, fmt.Errorf("copy to the temporary file %s (TMPDIR needs room for the largest data file): %w", sf.name, err)
	}
	return sf, n, h.Sum(nil), nil
}

// hashFile returns the size and the md5 of f read from its start, and
// leaves it positioned at its start again.
func hashFile(f *os.File) (n int64, sum []byte, err error) {
	h := md5.New()
	n, err = io.CopyBuffer(h, struct{ io.Reader }{f}, make([]byte, spoolBuffer))
	if err != nil {
		return n, nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return n, nil, err
	}
	return n, h.Sum(nil), nil
}
