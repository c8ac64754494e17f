package metrics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wftrigger/wftrigger/internal/atomicfile"
)

// Objects counts the objects of one run by status.
type Objects struct {
	Succeeded, Failed, Invalid, Duplicate, Skipped, Recovered int64
}

// Snapshot is what one write of the metrics file says: plain numbers, taken
// by the caller from its counters at one moment.
type Snapshot struct {
	// Bucket and Workflow are the bucket and workflow labels.
	Bucket, Workflow string
	// Report is the report file; only its base name is written, as the
	// report label.
	Report string
	// Version is the build's version, the version label of wftrigger_build_info.
	Version string

	// Objects counts this run's objects by status.
	Objects Objects
	// Calls, Retries and Throttled count this run's TriggerWorkflow calls,
	// the calls among them that were retries, and the throttled answers.
	Calls, Retries, Throttled int64
	// RateLimit is the pacer's current limit in calls a second; a value of
	// math.MaxFloat64 or more (x/time/rate's Inf) is written as +Inf.
	RateLimit float64
	// Duration is how long the run has gone on, or went on.
	Duration time.Duration

	// Running says that the run has not ended: ExitCode is ignored and
	// wftrigger_last_run_exit_code is left out.
	Running bool
	// ExitCode is the run's exit status once it ended.
	ExitCode int
	// Complete says that the source was read to its end.
	Complete bool

	// Executions counts instances by execution state, after status or
	// --wait; nil or empty leaves wftrigger_executions out.
	Executions map[string]int64
}

// Series names, as the contract's "Metrics file" section has them.
const (
	NameObjects     = "wftrigger_objects"
	NameCalls       = "wftrigger_calls"
	NameRetries     = "wftrigger_retries"
	NameThrottled   = "wftrigger_throttled"
	NameRateLimit   = "wftrigger_rate_limit"
	NameRunDuration = "wftrigger_run_duration_seconds"
	NameExitCode    = "wftrigger_last_run_exit_code"
	NameLastRun     = "wftrigger_last_run_timestamp_seconds"
	NameLastSuccess = "wftrigger_last_success_timestamp_seconds"
	NameComplete    = "wftrigger_complete"
	NameBuildInfo   = "wftrigger_build_info"
	NameExecutions  = "wftrigger_executions"
)

// Bounds on reading the previous file for its last-success timestamp: a file
// of ours is a few KiB; these bound what a stranger's could cost.
const (
	maxPreviousBytes  = 4 << 20
	previousLineBytes = 1 << 20
)

// CheckPath reports whether a metrics file can be written at path: its
// folder must exist and let a file be created in it (one is created and
// removed), and path must not be a folder. The caller runs it before any
// work, so that a wrong path is a configuration error (exit 2) rather than
// a warning at the end of a long run.
func CheckPath(path string) error {
	if path == "" {
		return errors.New("metrics file: empty path")
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("metrics file %s: folder %s does not exist", path, dir)
	}
	if err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("metrics file %s: %s is not a folder", path, dir)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("metrics file %s: is a folder", path)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".check-*")
	if err != nil {
		return fmt.Errorf("metrics file %s: folder not writable: %w", path, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	return nil
}

// Write replaces the metrics file at path with the series of s, written at
// now: atomically (a temporary file in the same folder, synced, mode 0644,
// renamed over path, then the folder synced). When s did not end with exit
// status 0 (it failed, or is still running), the last-success timestamp is
// the one of the file it replaces, when that file has the series with the
// same bucket, workflow and report labels; otherwise it is now. The folder
// must exist.
func Write(path string, s Snapshot, now time.Time) error {
	lastSuccess, ok := float64(0), false
	if !s.Running && s.ExitCode == 0 {
		lastSuccess, ok = seconds(now), true
	} else {
		var err error
		lastSuccess, ok, err = previousSuccess(path, s.labels())
		if err != nil {
			return err
		}
	}
	var b bytes.Buffer
	encode(&b, s, now, lastSuccess, ok)
	return replace(path, b.Bytes())
}

// labels are the labels every series carries, in the order they are written.
type labels struct{ bucket, workflow, report string }

func (s Snapshot) labels() labels {
	report := s.Report
	if report != "" {
		report = filepath.Base(report)
	}
	return labels{valid(s.Bucket), valid(s.Workflow), valid(report)}
}

// text is l as every series writes it between its braces.
func (l labels) text() string {
	return `bucket="` + escapeLabel(l.bucket) + `",workflow="` + escapeLabel(l.workflow) + `",report="` + escapeLabel(l.report) + `"`
}

// valid makes v a label value the parser accepts: valid UTF-8.
func valid(v string) string { return strings.ToValidUTF8(v, "\uFFFD") }

// encode writes the text format of s to b.
func encode(b *bytes.Buffer, s Snapshot, now time.Time, lastSuccess float64, haveSuccess bool) {
	l := s.labels()
	common := l.text()
	family := func(name, help string) { writeFamily(b, name, help) }
	sample := func(name, extraName, extraValue string, v float64) {
		writeSample(b, name, common, extraName, extraValue, v)
	}
	one := func(name, help string, v float64) {
		family(name, help)
		sample(name, "", "", v)
	}

	family(NameObjects, "Objects of this run by status.")
	o := s.Objects
	for _, st := range []struct {
		status string
		n      int64
	}{
		{"succeeded", o.Succeeded}, {"failed", o.Failed}, {"invalid", o.Invalid},
		{"duplicate", o.Duplicate}, {"skipped", o.Skipped}, {"recovered", o.Recovered},
	} {
		sample(NameObjects, "status", st.status, float64(st.n))
	}
	one(NameCalls, "TriggerWorkflow calls made by this run.", float64(s.Calls))
	one(NameRetries, "Calls of this run that were retries.", float64(s.Retries))
	one(NameThrottled, "Throttled answers this run got.", float64(s.Throttled))
	one(NameRateLimit, "The pacer's current limit in calls a second.", s.RateLimit)
	one(NameRunDuration, "How long this run has gone on, or went on.", s.Duration.Seconds())
	if !s.Running {
		one(NameExitCode, "Exit status of the last run; absent while a run goes on.", float64(s.ExitCode))
	}
	one(NameLastRun, "When the last run ended, or, while a run goes on, when it last wrote this file.", seconds(now))
	if haveSuccess {
		one(NameLastSuccess, "When the last run that exited 0 ended.", lastSuccess)
	}
	complete := 0.0
	if s.Complete {
		complete = 1
	}
	one(NameComplete, "1 when this run read its source to the end.", complete)
	family(NameBuildInfo, "The wftrigger version that wrote this file.")
	sample(NameBuildInfo, "version", s.Version, 1)
	encodeExecutions(b, l, s.Executions)
}

// encodeExecutions writes the wftrigger_executions family of states with
// labels l to b; nothing when states is empty.
func encodeExecutions(b *bytes.Buffer, l labels, states map[string]int64) {
	if len(states) == 0 {
		return
	}
	writeFamily(b, NameExecutions, executionsHelp)
	names := make([]string, 0, len(states))
	for st := range states {
		names = append(names, st)
	}
	sort.Strings(names)
	common := l.text()
	for _, st := range names {
		writeSample(b, NameExecutions, common, "state", st, float64(states[st]))
	}
}

// writeFamily writes the HELP and TYPE lines of the gauge family name.
func writeFamily(b *bytes.Buffer, name, help string) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, escapeHelp(help), name)
}

// writeSample writes one sample of name: the common labels, and the label
// extraName="extraValue" if extraName is set.
func writeSample(b *bytes.Buffer, name, common, extraName, extraValue string, v float64) {
	b.WriteString(name)
	b.WriteByte('{')
	b.WriteString(common)
	if extraName != "" {
		b.WriteString("," + extraName + `="` + escapeLabel(valid(extraValue)) + `"`)
	}
	b.WriteString("} ")
	b.WriteString(formatValue(v))
	b.WriteByte('\n')
}

const executionsHelp = "Instances by execution state, after status or --wait."

// seconds is t as Unix seconds, to the millisecond.
func seconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// formatValue writes v as the text format wants a sample value.
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case v >= math.MaxFloat64:
		return "+Inf"
	case v <= -math.MaxFloat64:
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// escapeLabel escapes a label value for the text format.
func escapeLabel(v string) string { return labelEscaper.Replace(v) }

// escapeHelp escapes HELP text for the text format.
func escapeHelp(v string) string { return helpEscaper.Replace(v) }

// previousSuccess reads the last-success timestamp with labels l from the
// file at path, if there is one.
func previousSuccess(path string, l labels) (float64, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("metrics file %s: read the last success: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, maxPreviousBytes))
	sc.Buffer(make([]byte, 0, 64<<10), previousLineBytes)
	prefix := NameLastSuccess + "{"
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		got, rest, ok := parseLabels(line[len(prefix):])
		if !ok || len(got) != 3 || got["bucket"] != l.bucket || got["workflow"] != l.workflow || got["report"] != l.report {
			continue
		}
		value, _, _ := strings.Cut(strings.TrimLeft(rest, " \t"), " ")
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		return v, true, nil
	}
	// The series was not found (or a line was too long to read): the new
	// file goes without it, which is absent rather than wrong.
	return 0, false, nil
}

// parseLabels reads `name="value",…}` (the opening brace already read) and
// returns the labels, unescaped, and what follows the closing brace.
func parseLabels(s string) (map[string]string, string, bool) {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t")
		if strings.HasPrefix(s, "}") {
			return out, s[1:], true
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, "", false
		}
		name := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t")
		if !strings.HasPrefix(s, `"`) {
			return nil, "", false
		}
		var v strings.Builder
		i, closed := 1, false
		for ; i < len(s); i++ {
			c := s[i]
			if c == '"' {
				closed = true
				break
			}
			if c == '\\' {
				if i+1 == len(s) {
					return nil, "", false
				}
				i++
				switch s[i] {
				case '\\', '"':
					v.WriteByte(s[i])
				case 'n':
					v.WriteByte('\n')
				default:
					return nil, "", false
				}
				continue
			}
			v.WriteByte(c)
		}
		if !closed {
			return nil, "", false
		}
		out[name] = v.String()
		s = strings.TrimLeft(s[i+1:], " \t")
		s = strings.TrimPrefix(s, ",")
	}
}

// replace writes data to path atomically and durably.
func replace(path string, data []byte) error {
	f, err := atomicfile.Create(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("metrics file %s: folder %s does not exist", path, filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	return nil
}
