package metrics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// WriteExecutions records, after `wftrigger status`, the instances of the
// report by execution state (s.Executions, with s's bucket, workflow and
// report labels) in the metrics file at path: its wftrigger_executions
// series are replaced and every other line is kept as the last run wrote
// it, so that one file says how the last run ended and how its instances
// did. Without a file at path, the file holds the executions alone. The
// file is replaced atomically, as Write does.
func WriteExecutions(path string, s Snapshot) error {
	var b bytes.Buffer
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("metrics file %s: %w", path, err)
	default:
		err := keepOthers(&b, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("metrics file %s: %w", path, err)
		}
	}
	encodeExecutions(&b, s.labels(), s.Executions)
	return replace(path, b.Bytes())
}

// keepOthers copies the lines of r to b but those of the
// wftrigger_executions family.
func keepOthers(b *bytes.Buffer, r io.Reader) error {
	sc := bufio.NewScanner(io.LimitReader(r, maxPreviousBytes))
	sc.Buffer(make([]byte, 0, 64<<10), previousLineBytes)
	for sc.Scan() {
		line := sc.Text()
		if isExecutionsLine(line) {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return sc.Err()
}

// isExecutionsLine reports whether line is a sample, HELP or TYPE line of
// wftrigger_executions.
func isExecutionsLine(line string) bool {
	for _, p := range []string{"# HELP ", "# TYPE "} {
		if rest, ok := strings.CutPrefix(line, p); ok {
			return strings.HasPrefix(rest, NameExecutions+" ")
		}
	}
	return strings.HasPrefix(line, NameExecutions+"{") || strings.HasPrefix(line, NameExecutions+" ")
}
