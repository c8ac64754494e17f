// Package logstore owns a report's two files at the level of bytes and
// lines: the journal, a log of JSON lines that a run appends to, and the
// report, the compacted state that every rewrite replaces whole.
//
// The journal begins with a header line naming its run (JournalHeader),
// written with the file: CreateJournal links a journal into place already
// holding it, so an empty journal is one whose records were lost, never one
// a crash cut before its header. The run appends whole lines to it (its
// owner writes each batch of lines with one write(2) and fsyncs once for
// all the records waiting); PrepareJournal cuts a torn tail off before the
// first append; ReadJournal reads it back line by line, telling a torn last
// line (a write a crash cut) from garbage before it. WriteAtomic replaces
// the report through a temporary file, fsynced, renamed into place, its
// folder fsynced (SyncDir).
//
// The package knows lines, not what they hold: package report says what a
// record is, which one wins and how a journal is folded into the report.
package logstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// JournalHeader is the first line of a journal: the run it belongs to.
type JournalHeader struct {
	Journal    int       `json:"journal"` // the format's version: 1
	Bucket     string    `json:"bucket"`
	WorkflowID string    `json:"workflowId,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
}

// JournalHeaderLine is the header line, with its newline, of the journal
// of a run of bucket and workflowID started at startedAt.
func JournalHeaderLine(bucket, workflowID string, startedAt time.Time) []byte {
	b, _ := json.Marshal(JournalHeader{Journal: 1, Bucket: bucket, WorkflowID: workflowID, StartedAt: startedAt})
	return append(b, '\n')
}

// CreateJournal makes the journal jp, holding its header line hdr from the
// moment it appears under its name: a temporary file is written, fsynced
// and linked to jp (which fails if jp exists meanwhile: then another run
// made it, and created is false). So a journal is never empty: an empty one
// is a journal whose records were lost, not one a crash cut before its
// header.
func CreateJournal(jp string, hdr []byte) (created bool, err error) {
	tmp := fmt.Sprintf("%s.tmp-%d", jp, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	_, err = f.Write(hdr)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}
	if err := os.Link(tmp, jp); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, SyncDir(jp)
}
