// Package document is the report file's format: one JSON object whose
// fields before "objects" are the header (the run that wrote it, the
// summary of its entries, the server-side job), then "objects", the
// entries, one a line:
//
//	{
//	  "version": 1,
//	  "bucket": "media-1250000000",
//	  …
//	  "summary": {"total": 2, "succeeded": 1, "failed": 1, "invalid": 0, "duplicates": 0, "complete": true},
//	  "objects": [
//	    {"key":"a.mp4","status":"succeeded",…},
//	    {"key":"b.mp4","status":"failed",…}
//	  ]
//	}
//
// Read reads a report streaming, never holding more than one object;
// Writer writes one in that layout. The objects are given and taken as
// raw JSON: what an entry holds is package report's Entry.
package document

import "time"

// Header is what a report says before its objects: the run that wrote it
// and the summary of its entries.
type Header struct {
	Meta
	Summary Summary `json:"summary"`
	Job     *Job    `json:"job,omitempty"` // the server-side job of a --server-side run
}

// Summary counts the entries of a report.
type Summary struct {
	Total      int `json:"total"`
	Succeeded  int `json:"succeeded"`
	Failed     int `json:"failed"`
	Invalid    int `json:"invalid"`
	Duplicates int `json:"duplicates"`
	// Complete says that the run that wrote the report read its source to
	// its end (false after --limit, --max-duration or an abort, and in the
	// rewrites while a run goes on).
	Complete bool `json:"complete"`
}

// Meta is what a report says about the run that wrote it.
type Meta struct {
	Version    int       `json:"version"`
	Bucket     string    `json:"bucket"`
	Region     string    `json:"region,omitempty"`
	WorkflowID string    `json:"workflowId,omitempty"`
	Source     string    `json:"source"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	// CIEndpoint and COSEndpoint are the --ci-endpoint and --cos-endpoint
	// the run was given ("" when it used the default hosts): status,
	// report and cancel use them.
	CIEndpoint  string `json:"ciEndpoint,omitempty"`
	COSEndpoint string `json:"cosEndpoint,omitempty"`
}

// Job is the server-side job of a --server-side run (a CI inventory
// trigger job), kept in the journal and in the report so that a rerun
// finds it: in the report, the top-level field
//
//	"job": {"name": "wftrigger-…", "id": "…", "state": "Running", "submittedAt": "2026-11-27T01:00:00Z"}
//
// before "objects". A Job without ID is an intent: the run was about to
// submit it (and may have); the rerun looks it up by name before
// submitting again.
type Job struct {
	Name        string    `json:"name"`                 // the job's name, derived from the report
	ID          string    `json:"id,omitempty"`         // CI's JobId, once CI answered
	State       string    `json:"state,omitempty"`      // the last known state: Submitted, Running, Success, Failed, Pause, Cancel
	SubmittedAt time.Time `json:"submittedAt,omitzero"` // when the create call was (about to be) sent
	Message     string    `json:"message,omitempty"`    // what the last look-up or cancel said, if anything
}
