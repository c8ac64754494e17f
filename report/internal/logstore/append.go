package logstore

import (
	"fmt"
	"io"
	"io/fs"
)

// File is the journal as a run holds it open (O_RDWR|O_APPEND): the run
// appends to it and fsyncs it, and its compactions read it. Tests put a
// file behind it that keeps only what was synced, as a power loss does.
type File interface {
	io.ReaderAt
	io.Writer
	Sync() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Close() error
}

// PrepareJournal readies the journal f at path for appending, whose first
// good bytes are whole lines (0: none, not even the header): what follows
// them (a torn last line) is cut off, the header line hdr is written if
// the journal holds nothing, and f is fsynced. It returns the length of
// the whole lines, the header's included. The caller fsyncs the folder.
func PrepareJournal(f File, path string, good int64, hdr []byte) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return good, fmt.Errorf("journal %s: %w", path, err)
	}
	if st.Size() != good {
		if err := f.Truncate(good); err != nil {
			return good, fmt.Errorf("journal %s: cut torn line: %w", path, err)
		}
	}
	if good == 0 {
		if _, err := f.Write(hdr); err != nil {
			return good, fmt.Errorf("journal %s: %w", path, err)
		}
		good = int64(len(hdr))
	}
	if err := f.Sync(); err != nil {
		return good, fmt.Errorf("journal %s: %w", path, err)
	}
	return good, nil
}
