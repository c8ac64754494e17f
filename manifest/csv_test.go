package manifest

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCSV(t *testing.T) {
	long := strings.Repeat("k", MaxKeyLen+1)
	runFormatCases(t, NewCSV, []formatCase{
		{"header key", "key\na.mp4\nb.mp4\n", `L2 "a.mp4"; L3 "b.mp4"`},
		{"header Key", "Key\na.mp4\n", `L2 "a.mp4"`},
		{"header object", "object\na.mp4\n", `L2 "a.mp4"`},
		{"only a header", "key", ``},
		{"only a header CRLF", "key\r\n", ``},
		{"one column, first row not a header", "keys\na.mp4\n", `L1 "keys"; L2 "a.mp4"`},
		{"one column, KEY is a key", "KEY\n", `L1 "KEY"`},
		{"one column as is", "a b.mp4\nx+y%20z.mp4\n 100%.mp4 \n", `L1 "a b.mp4"; L2 "x+y%20z.mp4"; L3 " 100%.mp4 "`},
		{"one column, a later row of two fields", "a\nb,c\nd\n", `L1 "a"; L2 "" !BadCSV; L3 "d"`},
		{"one column, quoted comma", "\"a,b.mp4\"\n", `L1 "a,b.mp4"`},
		{"header columns", "name,key,workflowId,size\nn1,a.mp4,w1,3\n,b.mp4,,\n", `L2 "a.mp4" wf=w1 name=n1; L3 "b.mp4"`},
		{"header names with spaces", "key, workflowId, name\na.mp4,w1,n1\n", `L2 "a.mp4" wf=w1 name=n1`},
		{"header, key not decoded", "bucket,Key\nb,a%20b\n", `L2 "a%20b"`},
		{"header, row without the key column", "name,key\nn1\n", `L2 "" !EmptyKey`},
		{"header, bad name", "key,name\na.mp4,bad name\nb.mp4,ok_name-1\n", `L2 "a.mp4" name=bad name !BadName; L3 "b.mp4" name=ok_name-1`},
		{"bucket,key decoded once", "bkt,a%2Bb%20c\nbkt,100%25\nbkt,x+y\nbkt,%2525\nbkt,plain/k.mp4,extra\n",
			`L1 "a+b c"; L2 "100%"; L3 "x y"; L4 "%25"; L5 "plain/k.mp4"`},
		{"bucket,key bad encoding", "bkt,a%zz\nbkt,b\n", `L1 "a%zz" !BadEncoding; L2 "b"`},
		{"bucket,key row of one field", "bkt,a\nb\n", `L1 "a"; L2 "" !BadCSV`},
		{"BOM", "\xEF\xBB\xBFkey\na\n", `L2 "a"`},
		{"BOM one column", "\xEF\xBB\xBFa\n", `L1 "a"`},
		{"CRLF", "key\r\na\r\nb\r\n", `L2 "a"; L3 "b"`},
		{"no final newline", "key\na", `L2 "a"`},
		{"multi-line record", "key,note\n\"a.mp4\",\"multi\nline\nnote\"\nb.mp4,z\n", `L2 "a.mp4"; L5 "b.mp4"`},
		{"multi-line record CRLF", "key,note\r\n\"a\",\"x\r\ny\"\r\nb,\r\n", `L2 "a"; L4 "b"`},
		{"multi-line key", "\"a\nb\"\nc\n", `L1 "a\nb" !InvalidChar; L3 "c"`},
		{"escaped quotes", "key\n\"a\"\"b\"\n", `L2 "a\"b"`},
		{"quoted empty key", "\"\"\nb\n", `L1 "" !EmptyKey; L2 "b"`},
		{"bare quote", "key\na\"b\nc\n", `L2 "" !BadCSV; L3 "c"`},
		{"text after closing quote", "key\n\"a\"b\nc\n", `L2 "" !BadCSV; L3 "c"`},
		{"CR after closing quote", "key\n\"a\"\rb\nc\n", `L2 "" !BadCSV; L3 "c"`},
		{"unterminated quote", "key\na\n\"b\nc,d\ne\n", `L2 "a"; L3 "" !BadCSV`},
		{"quote closed then text", "key\na\n\"b\nc,\"d\ne\n", `L2 "a"; L3 "" !BadCSV; L5 "e"`},
		{"unterminated quote in a later field", "key,n\na,\"x\ny\nz\n", `L2 "" !BadCSV`},
		{"unterminated quote opened on a later line", "key,n\na,\"x\ny\",\"z\nw\n", `L3 "" !BadCSV`},
		{"unterminated quote at EOF", "\"a", `L1 "" !BadCSV`},
		{"blank lines", "a\n\nb\n\n\n", `L1 "a"; L3 "b"`},
		{"blank CRLF lines", "a\r\n\r\nb\r\n\r\n", `L1 "a"; L3 "b"`},
		{"blank lines before the first key", "\n\na\n", `L3 "a"`},
		{"blank lines around a bad row", "a\n\n\"x\"y\n\nb\n", `L1 "a"; L3 "" !BadCSV; L5 "b"`},
		{"blank line inside a quoted key", "\"a\n\nb\"\n\nc\n", `L1 "a\n\nb" !InvalidChar; L5 "c"`},
		{"blank lines in a header file", "key\n\na\n", `L3 "a"`},
		{"blank lines in a bucket,key file", "b,k1\n\nb,k%202\n", `L1 "k1"; L3 "k 2"`},
		{"comma-only row", "key,name\n,\n", `L2 "" !EmptyKey`},
		{"invalid keys", "/a\n\\b\nc\x1bd\n" + long + "\n\xffx\n", `L1 "/a" !LeadingSlash; L2 "\\b" !LeadingBackslash; L3 "c\x1bd" !InvalidChar; L4 "` + long + `" !KeyTooLong; L5 "` + "\uFFFDx" + `" !InvalidUTF8`},
		{"key of 850 bytes", strings.Repeat("k", MaxKeyLen) + "\n", `L1 "` + strings.Repeat("k", MaxKeyLen) + `"`},
		{"UTF-8 kept", "视频/a b+c%.mp4\n", `L1 "视频/a b+c%.mp4"`},
		{"empty file", "", ``},
		{"BOM only", "\xEF\xBB\xBF", ``},
	})
}

func TestCSVInvalidMessages(t *testing.T) {
	tests := []struct {
		name, in, msg, hex string
	}{
		{"empty key", "key\n\"\"\n", "manifest objects.csv line 2: empty key", ""},
		{"invalid UTF-8", "key\na\xff\xfeb\n", "manifest objects.csv line 2: key is not valid UTF-8", "61fffe62"},
		{"bare quote", "key\na\"b\n", `manifest objects.csv line 2: bare " in unquoted field`, ""},
		{"unterminated", "key\n\"a\nb\n", "manifest objects.csv line 2: quoted field opened on this line is never closed; the rest of the file is one invalid entry", ""},
		{"bad encoding", "b,%zz\n", `manifest objects.csv line 1: key "%zz" is not validly URL-encoded`, ""},
		{"after a blank line", "a\n\n\"\"\n", "manifest objects.csv line 3: empty key", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := readAll(t, NewCSV(strings.NewReader(tc.in), "objects.csv"))
			var inv *Invalid
			for _, r := range rows {
				if r.Invalid != nil {
					inv = r.Invalid
					break
				}
			}
			if inv == nil {
				t.Fatalf("read(%q) = %s, want an invalid row", tc.in, briefs(rows))
			}
			if inv.Message != tc.msg || inv.KeyHex != tc.hex {
				t.Errorf("read(%q) invalid = %q keyHex %q, want %q keyHex %q", tc.in, inv.Message, inv.KeyHex, tc.msg, tc.hex)
			}
		})
	}
}

func TestCSVLongRecord(t *testing.T) {
	huge := strings.Repeat("x", 3*maxLine)
	in := "key\n" + huge + "\n\"" + huge + "\"\nb\n\"" + huge
	rows := readAll(t, NewCSV(strings.NewReader(in), "t.csv"))
	if got, want := briefs(rows), `L2 "" !LineTooLong; L3 "" !LineTooLong; L4 "b"; L5 "" !BadCSV`; got != want {
		t.Errorf("read(huge) = %s, want %s", got, want)
	}
}

func TestCSVParserBoundedMemory(t *testing.T) {
	// An unterminated quote near the start must not buffer the rest of the file.
	in := "\"" + strings.Repeat("row\n", 2*maxLine)
	p := newCSVParser(strings.NewReader(in))
	if !p.next() || p.code != CodeBadCSV {
		t.Fatalf("next() code %q, want BadCSV", p.code)
	}
	if cap(p.rec) > 2*maxLine {
		t.Errorf("record buffer grew to %d bytes, want at most %d", cap(p.rec), 2*maxLine)
	}
}

func TestCSVChunkBoundaries(t *testing.T) {
	// Records that straddle read chunks, one byte at a time.
	in := "key,name\r\n\"a\"\"b\",n1\r\n\"c\r\nd\",\r\ne\r\n"
	rows := readAll(t, NewCSV(&oneByteReader{s: in}, "t.csv"))
	if got, want := briefs(rows), `L2 "a\"b" name=n1; L3 "c\nd" !InvalidChar; L5 "e"`; got != want {
		t.Errorf("read(%q) = %s, want %s", in, got, want)
	}
}

type oneByteReader struct{ s string }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}

func TestCSVReadError(t *testing.T) {
	src := NewCSV(&errReader{data: []byte("key\na\nb"), err: errBroken}, "t.csv")
	rows, err := readAllErr(src)
	if !errors.Is(err, errBroken) || !strings.HasPrefix(err.Error(), "manifest t.csv: read: ") {
		t.Errorf("read = %v, want manifest t.csv: read: %v", err, errBroken)
	}
	if got := briefs(rows); got != `L2 "a"` {
		t.Errorf("rows before the error = %s, want L2 \"a\"", got)
	}
}
