package report

import (
	"errors"

	"github.com/wftrigger/wftrigger/report/internal/document"
)

// Header is what a report says before its objects: the run that wrote it
// (Meta), the summary of its entries and the server-side job. The report
// file's format is package document's.
type Header = document.Header

// Meta is what a report says about the run that wrote it: version, bucket,
// region, workflow, source, times, and the endpoints the run was given
// (status, report and cancel use them).
type Meta = document.Meta

// Summary counts the entries of a report; Complete says that the run that
// wrote it read its source to its end.
type Summary = document.Summary

// Job is the server-side job of a --server-side run (a CI inventory
// trigger job), kept in the journal and in the report (its top-level "job"
// field) so that a rerun finds it. A Job without ID is an intent: the run
// was about to submit it (and may have); the rerun looks it up by name
// before submitting again.
type Job = document.Job

// ReadHeader reads what the report at path says of its run (version,
// bucket, region, workflow, endpoints, times) without reading its objects.
// It neither takes the lock nor reads the journal.
func ReadHeader(path string) (Header, error) {
	h, err := Scan(path, func(Entry) error { return errStop })
	if err != nil && !errors.Is(err, errStop) {
		return Header{}, err
	}
	return h, nil
}

// DefaultPath is the report of a run that names none.
const DefaultPath = "wftrigger-report.json"
