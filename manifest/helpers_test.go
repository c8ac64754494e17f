package manifest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// readAll reads src to its end; it fails the test on an error.
func readAll(t testing.TB, src Source) []Row {
	t.Helper()
	rows, err := readAllErr(src)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return rows
}

func readAllErr(src Source) ([]Row, error) {
	var rows []Row
	for {
		row, err := src.Next(context.Background())
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

// brief writes a row compactly for comparisons:
// `L3 "a b" wf=w1 name=n !BadName`.
func brief(r Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "L%d %q", r.Line, r.Key)
	if r.WorkflowID != "" {
		fmt.Fprintf(&b, " wf=%s", r.WorkflowID)
	}
	if r.Name != "" {
		fmt.Fprintf(&b, " name=%s", r.Name)
	}
	if r.Invalid != nil {
		fmt.Fprintf(&b, " !%s", r.Invalid.Code)
	}
	return b.String()
}

func briefs(rows []Row) string {
	s := make([]string, len(rows))
	for i, r := range rows {
		s[i] = brief(r)
	}
	return strings.Join(s, "; ")
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// formatCase is one input of a format and the rows it must yield.
type formatCase struct {
	name string
	in   string
	want string // briefs of the rows
}

func runFormatCases(t *testing.T, newSource func(io.Reader, string) Source, cases []formatCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := briefs(readAll(t, newSource(strings.NewReader(tc.in), "test")))
			if got != tc.want {
				t.Errorf("read(%q) =\n  %s\nwant\n  %s", tc.in, got, tc.want)
			}
		})
	}
}

// errReader fails after its data.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

var errBroken = errors.New("disk on fire")
