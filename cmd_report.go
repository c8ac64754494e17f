package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"

	"github.com/wftrigger/wftrigger/report"
	"github.com/wftrigger/wftrigger/report/export"
)

const reportUsage = `Usage: wftrigger report --report PATH [flags]

Prints the entries of a report, filtered, to standard output: as JSON Lines
(a manifest that 'wftrigger run --manifest' reads back), as CSV, or as an S3
Batch Operations completion report. It takes no lock: it may read the report
of a run that is still going on.

Examples:
  # the objects that failed, as a manifest to run again
  wftrigger report --report wftrigger-report.json --status failed > failed.jsonl
  wftrigger run --bucket media-1250000000 --region ap-guangzhou \
      --workflow w0123… --manifest failed.jsonl --report retry.json

  # a spreadsheet of everything
  wftrigger report --report wftrigger-report.json --format csv > report.csv

  # the objects whose workflow execution failed, and why
  wftrigger report --report wftrigger-report.json --execution Failed |
      jq -c '{key, tasks: .execution.tasks}'

Flags:
  --report PATH      the report (default wftrigger-report.json)
  --status LIST      succeeded, failed, invalid, uncertain, comma-separated (default
                     all); failed includes uncertain: failed entries whose call may
                     have reached CI (a rerun looks them up before triggering again)
  --execution LIST   only entries whose recorded execution state ('wftrigger status')
                     is in LIST: Success, Failed, Cancel, Running… (default: any)
  --format F         jsonl (default): key, workflowId, name, then the entry's other
                     fields, one object a line (an invalid entry as it is: run finds
                     it invalid again, a key that is not UTF-8 read from keyHex);
                     csv: key,status,workflowId,name,instanceId,attempts,errorCode,
                     httpStatus,message,executionState;
                     s3batch: Bucket,Key,VersionId,TaskStatus,ErrorCode,
                     HTTPStatusCode,ResultMessage, the key URL-encoded, no header
`

// reportOptions are the flags of `wftrigger report`.
type reportOptions struct {
	path, format string
	filter       export.Filter
}

func parseReportFlags(args []string, stdout, stderr io.Writer) (reportOptions, error) {
	var (
		o                   reportOptions
		statuses, execution string
	)
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	fs.StringVar(&o.path, "report", "wftrigger-report.json", "")
	fs.StringVar(&statuses, "status", "", "")
	fs.StringVar(&execution, "execution", "", "")
	fs.StringVar(&o.format, "format", export.JSONL, "")
	if err := fs.Parse(args); err != nil {
		return o, flagError(err, stdout, stderr, "report", reportUsage)
	}
	if fs.NArg() > 0 {
		return o, usageError("wftrigger report --report wftrigger-report.json --status failed", "unexpected argument %q", fs.Arg(0))
	}
	switch o.format {
	case export.JSONL, export.CSV, export.S3Batch:
	default:
		return o, usageError("--format jsonl, --format csv or --format s3batch", "--format %q is not a format", o.format)
	}
	var err error
	if o.filter, err = export.ParseFilter(statuses, execution); err != nil {
		return o, usageError("--status failed,invalid", "--status: %v", err)
	}
	return o, nil
}

func reportCommand(_ context.Context, args []string, env environment) error {
	o, err := parseReportFlags(args, env.stdout, env.stderr)
	if err != nil {
		return err
	}
	h, err := reportHeader(o.path)
	if err != nil {
		return &exitError{code: exitUsage, err: err, hint: "give the --report of a 'wftrigger run'"}
	}
	out := bufio.NewWriterSize(env.stdout, 64<<10)
	w, err := export.NewWriter(out, o.format, h.Bucket)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	_, err = scanReport(o.path, func(e report.Entry) error {
		if !o.filter.Match(&e) {
			return nil
		}
		return w.Write(&e)
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}

// scanReport is how `wftrigger report` reads a report: streaming, without
// the lock, the last rewrite plus the journal of a run that goes on (or was
// killed), every entry given to fn once.
func scanReport(path string, fn func(report.Entry) error) (report.Header, error) {
	return report.ScanLive(path, fn)
}

// errStopScan ends a scan at its first entry.
var errStopScan = errors.New("stop")

// reportHeader reads what a report says before its objects.
func reportHeader(path string) (report.Header, error) {
	h, err := scanReport(path, func(report.Entry) error { return errStopScan })
	if err != nil && !errors.Is(err, errStopScan) {
		return h, err
	}
	return h, nil
}
