package manifest

import (
	"fmt"
	"strings"
)

// Codes of rows that a source reads well but a run cannot use.
const (
	CodeOtherBucket = "OtherBucket"
	CodeNoWorkflow  = "NoWorkflow"
)

// Check applies the run's rules to a row its source read: a row the source
// found invalid stays so; a row that names a bucket other than the run's
// (NAME-APPID; "" checks none) is invalid, and so is a row with no workflow,
// neither its own nor defaultWorkflow. It returns the row, with Invalid set
// when it cannot be used, and the workflow the row is for.
func Check(row Row, bucket, defaultWorkflow string) (Row, string) {
	wf := row.WorkflowID
	if wf == "" {
		wf = defaultWorkflow
	}
	switch {
	case row.Invalid != nil:
	case row.Bucket != "" && bucket != "" && !SameBucket(row.Bucket, bucket):
		row.Invalid = &Invalid{Code: CodeOtherBucket, Message: fmt.Sprintf("line %d: the row is for bucket %q, the run for %q", row.Line, row.Bucket, bucket)}
	case wf == "":
		row.Invalid = &Invalid{Code: CodeNoWorkflow, Message: fmt.Sprintf("line %d: the row names no workflowId and no --workflow was given", row.Line)}
	}
	return row, wf
}

// SameBucket reports whether a row's bucket is the run's NAME-APPID bucket,
// named in full or without its APPID (as COS inventories write it).
func SameBucket(row, run string) bool {
	if row == run {
		return true
	}
	i := strings.LastIndexByte(run, '-')
	return i > 0 && row == run[:i]
}

// NamesWorkflow reports whether rows of format can name their own workflow
// (a workflowId column or field): only CSV and JSONL rows can.
func NamesWorkflow(format string) bool {
	return format == FormatCSV || format == FormatJSONL
}
