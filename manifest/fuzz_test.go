package manifest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// addSeeds adds the testdata files to the corpus of f.
func addSeeds(f *testing.F) {
	files, err := filepath.Glob("testdata/*.*")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "\n", "key", "\"", "a\r\n\r\n", "\xEF\xBB\xBF\"a\"\"b\",c\n", "a,\"b\nc\"\"\",d\r\ne"} {
		f.Add([]byte(s))
	}
}

// readBounded reads src to its end, failing when it yields more rows than
// data has lines.
func readBounded(t *testing.T, src Source, data []byte) []Row {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	var rows []Row
	for {
		row, err := src.Next(context.Background())
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
		if len(rows) > lines {
			t.Fatalf("more than %d rows from %d lines: %.500s", lines, lines, briefs(rows))
		}
	}
}

// checkRows checks what holds for the rows of every input: each is a usable
// key or an invalid entry, lines increase, and there are no more rows than
// lines.
func checkRows(t *testing.T, data []byte, rows []Row) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	if len(rows) > lines {
		t.Fatalf("%d rows from %d lines", len(rows), lines)
	}
	last := 0
	for _, r := range rows {
		if r.Line <= last || r.Line > lines {
			t.Fatalf("row at line %d after line %d (%d lines): %s", r.Line, last, lines, briefs(rows))
		}
		last = r.Line
		if r.Invalid == nil {
			if inv := CheckKey(r.Key); inv != nil {
				t.Fatalf("valid row with a bad key %q: %s", r.Key, inv.Message)
			}
			continue
		}
		if r.Invalid.Code == "" || r.Invalid.Message == "" {
			t.Fatalf("invalid row without code or message: %+v", r.Invalid)
		}
		if !utf8.ValidString(r.Key) {
			t.Fatalf("invalid row with a key that is not UTF-8: %q", r.Key)
		}
	}
}

func FuzzCSV(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rows := readBounded(t, NewCSV(bytes.NewReader(data), "f.csv"), data)
		checkRows(t, data, rows)
		// Where encoding/csv reads the input without error, the records
		// are the same (encoding/csv skips empty lines and keeps a BOM).
		data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		want, err := r.ReadAll()
		if err != nil {
			return
		}
		p := newCSVParser(bytes.NewReader(data))
		var got [][]string
		for p.next() {
			if p.code != "" {
				t.Fatalf("record at line %d: %s, encoding/csv reads it", p.start, p.problem)
			}
			if p.blank() {
				continue
			}
			var rec []string
			for i := range p.ends {
				rec = append(rec, string(p.field(i)))
			}
			got = append(got, rec)
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("records = %q, encoding/csv = %q", got, want)
		}
	})
}

func FuzzText(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rows := readBounded(t, NewText(bytes.NewReader(data), "f.txt"), data)
		checkRows(t, data, rows)
		// The rows are exactly the lines that are not blank, each with its
		// physical line number.
		s := strings.TrimPrefix(string(data), "\xEF\xBB\xBF")
		lines := strings.Split(s, "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		var want []int // line numbers of the lines that are not blank
		for i := range lines {
			lines[i] = strings.TrimSuffix(lines[i], "\r")
			if lines[i] != "" {
				want = append(want, i+1)
			}
		}
		if len(rows) != len(want) {
			t.Fatalf("%d rows from %d lines that are not blank", len(rows), len(want))
		}
		for i, r := range rows {
			if r.Line != want[i] {
				t.Fatalf("row %d at line %d, want %d", i, r.Line, want[i])
			}
			line := lines[want[i]-1]
			if r.Invalid == nil && r.Key != line {
				t.Fatalf("row %d key %q, line %q", i, r.Key, line)
			}
			if r.Invalid != nil && r.Invalid.KeyHex == "" && r.Key != line {
				t.Fatalf("invalid row %d key %q, line %q", i, r.Key, line)
			}
		}
	})
}

func FuzzJSONL(f *testing.F) {
	addSeeds(f)
	for _, s := range []string{`{"key":"a\ud800"}`, `"\ud83d\ude00"`, `{"key":"a","workflowId":"w","name":"n"}`, "{\"key\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows := readBounded(t, NewJSONL(bytes.NewReader(data), "f.jsonl"), data)
		checkRows(t, data, rows)
		// One row for each line that is not blank; keys as encoding/json reads
		// them when they are valid UTF-8.
		s := strings.TrimPrefix(string(data), "\xEF\xBB\xBF")
		i := 0
		for n, line := range strings.Split(s, "\n") {
			line = strings.Trim(line, " \t\r")
			if line == "" {
				continue
			}
			if i >= len(rows) || rows[i].Line != n+1 {
				t.Fatalf("no row for line %d %q: %s", n+1, line, briefs(rows))
			}
			var o struct {
				Key *string `json:"key"`
			}
			key := ""
			if json.Unmarshal([]byte(line), &key) != nil && json.Unmarshal([]byte(line), &o) == nil && o.Key != nil {
				key = *o.Key
			}
			if r := rows[i]; r.Invalid == nil && r.Key != key {
				t.Fatalf("line %d %q: key %q, encoding/json says %q", n+1, line, r.Key, key)
			}
			i++
		}
		if i != len(rows) {
			t.Fatalf("%d rows from %d lines that are not blank", len(rows), i)
		}
	})
}
