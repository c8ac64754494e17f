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

// reportHead is the start of `wftrigger report -h`; the flags follow, from
// the FlagSet (reportFlags).
const reportHead = `Usage: wftrigger report --report PATH [flags]

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

`

// reportSections lays out the flags of `wftrigger report` in its help.
func reportSections() []helpSection {
	return []helpSection{{"Flags", []string{"report PATH", "status LIST", "execution LIST", "format F"}}}
}

// reportOptions are the flags of `wftrigger report`.
type reportOptions struct {
	path, format        string
	statuses, execution string
	filter              export.Filter
}

// reportFlags defines the flags of `wftrigger report` into o.
func reportFlags(o *reportOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.StringVar(&o.path, "report", report.DefaultPath, "the report")
	fs.StringVar(&o.statuses, "status", "", "succeeded, failed, invalid, uncertain, comma-separated (by default\nall); failed includes uncertain: failed entries whose call may\nhave reached CI (a rerun looks them up before triggering again)")
	fs.StringVar(&o.execution, "execution", "", "only entries whose recorded execution state ('wftrigger status')\nis in LIST: Success, Failed, Cancel, Running… (by default any)")
	fs.StringVar(&o.format, "format", export.JSONL, "jsonl: key, workflowId, name, then the entry's other\nfields, one object a line (an invalid entry as it is: run finds\nit invalid again, a key that is not UTF-8 read from keyHex);\ncsv: key,status,workflowId,name,instanceId,attempts,errorCode,\nhttpStatus,message,executionState;\ns3batch: Bucket,Key,VersionId,TaskStatus,ErrorCode,\nHTTPStatusCode,ResultMessage, the key URL-encoded, no header")
	return fs
}

func parseReportFlags(args []string, stdout, stderr io.Writer) (reportOptions, error) {
	var o reportOptions
	fs := reportFlags(&o)
	if err := parseFlags(fs, args, stdout, stderr, reportHead, reportSections(), "wftrigger report --report wftrigger-report.json --status failed"); err != nil {
		return o, err
	}
	switch o.format {
	case export.JSONL, export.CSV, export.S3Batch:
	default:
		return o, usageError("--format jsonl, --format csv or --format s3batch", "--format %q is not a format", o.format)
	}
	var err error
	if o.filter, err = export.ParseFilter(o.statuses, o.execution); err != nil {
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

// reportHeader reads what a report says before its objects: the report's
// own header, or, when that cannot be read (before the first rewrite, the
// header is the journal's), the one the live scan gives, which indexes the
// whole journal before its first entry.
func reportHeader(path string) (report.Header, error) {
	if h, err := report.ReadHeader(path); err == nil {
		return h, nil
	}
	h, err := scanReport(path, func(report.Entry) error { return errStopScan })
	if err != nil && !errors.Is(err, errStopScan) {
		return h, err
	}
	return h, nil
}
