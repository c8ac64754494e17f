package manifest

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	runFormatCases(t, NewText, []formatCase{
		{"keys as is", "a b.mp4\n c \nx+y%20z\n", `L1 "a b.mp4"; L2 " c "; L3 "x+y%20z"`},
		{"key is a key", "key\n", `L1 "key"`},
		{"CRLF", "a\r\nb\r\n", `L1 "a"; L2 "b"`},
		{"only one CR stripped", "a\r\r\n", `L1 "a\r" !InvalidChar`},
		{"no final newline", "a\nb", `L1 "a"; L2 "b"`},
		{"blank line", "a\n\nb\n", `L1 "a"; L3 "b"`},
		{"trailing blank lines", "a\n\n\r\n\n", `L1 "a"`},
		{"blank first line", "\na\n", `L2 "a"`},
		{"blank CRLF lines", "\r\na\r\n\r\n\r\nb\r\n", `L2 "a"; L5 "b"`},
		{"a space is a key", "a\n \nb\n", `L1 "a"; L2 " "; L3 "b"`},
		{"spaces are a key", "a\n \n", `L1 "a"; L2 " "`},
		{"BOM", "\xEF\xBB\xBFa\n", `L1 "a"`},
		{"commas and quotes kept", "a,b\n\"c\"\n", `L1 "a,b"; L2 "\"c\""`},
		{"invalid", "/a\n\\b\na\rb\nc\x18\n\xffx\n", `L1 "/a" !LeadingSlash; L2 "\\b" !LeadingBackslash; L3 "a\rb" !InvalidChar; L4 "c\x18" !InvalidChar; L5 "` + "\uFFFDx" + `" !InvalidUTF8`},
		{"empty", "", ``},
	})
}

func TestTextLongLine(t *testing.T) {
	in := "a\n" + strings.Repeat("x", maxLine+1) + "\nb\n" + strings.Repeat("y", maxLine) + "\n"
	rows := readAll(t, NewText(strings.NewReader(in), "t.txt"))
	if got, want := briefs(rows), `L1 "a"; L2 "" !LineTooLong; L3 "b"; L4 "`+strings.Repeat("y", maxLine)+`" !KeyTooLong`; got != want {
		t.Errorf("read(long lines) = %.200s, want %.200s", got, want)
	}
}

func TestTextChunkBoundaries(t *testing.T) {
	in := "ab\r\n\r\ncd\r\n"
	rows := readAll(t, NewText(&oneByteReader{s: in}, "t.txt"))
	if got, want := briefs(rows), `L1 "ab"; L3 "cd"`; got != want {
		t.Errorf("read(%q) = %s, want %s", in, got, want)
	}
}

func TestInvalidUTF8KeyHex(t *testing.T) {
	rows := readAll(t, NewText(strings.NewReader("ok\nv\xe8\xa7/a\n"), "t.txt"))
	r := rows[1]
	if r.Invalid == nil || r.Invalid.Code != CodeInvalidUTF8 || r.Invalid.KeyHex != "76e8a72f61" || r.Key != "v\uFFFD/a" {
		t.Errorf("row = %+v %+v, want key %q, InvalidUTF8, keyHex 76e8a72f61", r, r.Invalid, "v\uFFFD/a")
	}
	if want := "manifest t.txt line 2: key is not valid UTF-8"; r.Invalid.Message != want {
		t.Errorf("message = %q, want %q", r.Invalid.Message, want)
	}
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		key, code string
	}{
		{"a.mp4", ""},
		{"media/my video+final 100%/视频 1.mp4", ""},
		{"a%0ab", ""},
		{"", CodeEmptyKey},
		{strings.Repeat("视", 284), CodeKeyTooLong}, // 852 bytes
		{strings.Repeat("视", 283), ""},
		{"a\xff", CodeInvalidUTF8},
		{"/a", CodeLeadingSlash},
		{"\\a", CodeLeadingBackslash},
		{"a/\\b", ""},
		{"a\nb", CodeInvalidChar},
		{"a\rb", CodeInvalidChar},
		{"a\x18", CodeInvalidChar},
		{"a\x19", CodeInvalidChar},
		{"a\x1a", CodeInvalidChar},
		{"a\x1b", CodeInvalidChar},
		{"a\x1c\x17\t", ""},
	}
	for _, tc := range tests {
		got := ""
		if inv := CheckKey(tc.key); inv != nil {
			got = inv.Code
		}
		if got != tc.code {
			t.Errorf("CheckKey(%q) = %q, want %q", tc.key, got, tc.code)
		}
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"", true},
		{"backfill_2026-11-27", true},
		{strings.Repeat("n", 128), true},
		{strings.Repeat("n", 129), false},
		{"a b", false},
		{"视频", false},
		{"a.b", false},
	}
	for _, tc := range tests {
		if got := checkName(tc.name) == ""; got != tc.ok {
			t.Errorf("checkName(%q) ok = %v, want %v", tc.name, got, tc.ok)
		}
	}
}
