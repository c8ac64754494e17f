// Package atomicfile replaces a file whole: what is written goes to a
// temporary file beside it, which Commit fsyncs and renames over the file,
// then fsyncs the folder. Readers see the old file or the new one, never a
// part, and a power loss after Commit keeps the new one. The report keeps
// its own replace (report/internal/logstore), which locks the new file
// before the rename.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// File is the new content of a file on its way to its path.
type File struct {
	path string
	tmp  *os.File
}

// Create starts the new content of path: a temporary file in path's
// folder, named .BASE.tmp-* (hidden, and not matched by BASE's pattern).
// The error of a folder that does not exist satisfies errors.Is(err,
// fs.ErrNotExist).
func Create(path string) (*File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &File{path: path, tmp: tmp}, nil
}

// Write writes p to the new content.
func (f *File) Write(p []byte) (int, error) { return f.tmp.Write(p) }

// Commit makes the new content durable with mode 0644 and puts it at its
// path. After an error the temporary file is gone and the path as it was.
func (f *File) Commit() error {
	err := f.tmp.Chmod(0o644)
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.tmp.Name())
		return err
	}
	if err := SyncDir(filepath.Dir(f.path)); err != nil {
		return fmt.Errorf("sync folder: %w", err)
	}
	return nil
}

// Abort drops the new content; the path stays as it was.
func (f *File) Abort() {
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// SyncDir fsyncs the folder dir, so that a rename or a removal in it
// survives a power loss.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
