package logstore

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wftrigger/wftrigger/internal/atomicfile"
)

// WriteAtomic writes the report at path with fn through a temporary file
// that is fsynced and renamed over path, and fsyncs the folder: readers see
// the old file or the new one, whole, and a power loss after WriteAtomic
// returns keeps the new one. Before the rename, keep is given the new
// file, written and fsynced: it closes it (now or later) and may refuse
// the replace with an error (package report locks the file and checks
// that the report has no other name).
func WriteAtomic(path string, keep func(f *os.File) error, fn func(w *bufio.Writer) error) error {
	tmp := fmt.Sprintf("%s.tmp-%d", path, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	err = fn(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = keep(f)
	} else {
		f.Close()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return SyncDir(path)
}

// SyncDir fsyncs the directory of path, so that a rename or removal in it
// survives a power loss.
func SyncDir(path string) error {
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("sync directory of %s: %w", path, err)
	}
	return nil
}
