package report

import (
	"fmt"
	"strings"
)

// CorruptError is returned by Open (and Rewrite, ScanLive) when the report
// or its journal cannot be trusted: an empty file, a file that is not a
// report, a journal with garbage before its last line. Nothing is taken for
// a new start: the run stops, and --fresh (Options.Fresh) sets the files
// aside.
type CorruptError struct {
	Path   string // the report or the journal
	Line   int    // the 1-based line where it goes wrong; 0 for the whole file
	Reason string // what is wrong
}

func (e *CorruptError) Error() string {
	kind := "report"
	if strings.HasSuffix(e.Path, ".journal") {
		kind = "journal"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s %s: line %d: %s", kind, e.Path, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s %s: %s", kind, e.Path, e.Reason)
}
