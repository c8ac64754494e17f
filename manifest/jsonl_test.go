package manifest

import (
	"strings"
	"testing"
)

func TestJSONL(t *testing.T) {
	runFormatCases(t, NewJSONL, []formatCase{
		{"objects and strings", `{"key":"a.mp4"}` + "\n" + `"b c.mp4"` + "\n" + `{"key":"c","workflowId":"w1","name":"n1"}` + "\n",
			`L1 "a.mp4"; L2 "b c.mp4"; L3 "c" wf=w1 name=n1`},
		{"blank lines count", "\n" + `{"key":"a"}` + "\n \t\n" + `"b"` + "\n\n", `L2 "a"; L4 "b"`},
		{"CRLF and spaces", ` {"key":"a"} ` + "\r\n" + `"b"` + "\r\n", `L1 "a"; L2 "b"`},
		{"BOM", "\xEF\xBB\xBF" + `"a"` + "\n", `L1 "a"`},
		{"no final newline", `"a"`, `L1 "a"`},
		{"key kept exactly", `{"key":"x+y%20z/ 视频 "}`, `L1 "x+y%20z/ 视频 "`},
		{"escapes", `{"key":"a\/b\"c\\d\u00e9"}`, `L1 "a/b\"c\\dé"`},
		{"control escapes", `"a\tb\u00C9\b\f"`, `L1 "a\tbÉ\b\f"`},
		{"escaped CR", `"a\r"`, `L1 "a\r" !InvalidChar`},
		{"surrogate pair", `"\ud83d\ude00.mp4"`, `L1 "😀.mp4"`},
		{"lone surrogate", `{"key":"a\ud800b"}`, `L1 "a` + "\uFFFD" + `b" !InvalidUTF8`},
		{"raw invalid UTF-8", "{\"key\":\"a\xffb\"}", `L1 "a` + "\uFFFD" + `b" !InvalidUTF8`},
		{"escaped newline", `{"key":"a\nb"}`, `L1 "a\nb" !InvalidChar`},
		{"empty key", `{"key":""}`, `L1 "" !EmptyKey`},
		{"leading slash", `"/a"`, `L1 "/a" !LeadingSlash`},
		{"bad name", `{"key":"a","name":"no spaces"}`, `L1 "a" name=no spaces !BadName`},
		{"key not a string", `{"key":1}`, `L1 "" !BadJSON`},
		{"key null", `{"key":null}`, `L1 "" !BadJSON`},
		{"no key", `{"name":"x"}`, `L1 "" !BadJSON`},
		{"workflowId not a string", `{"key":"a","workflowId":3}`, `L1 "" !BadJSON`},
		{"broken", "{\"key\":\"a\"\n\"b\n[1]\nnull\n7\n{\"key\":\"a\"} x\nb\n\"c\"\n",
			`L1 "" !BadJSON; L2 "" !BadJSON; L3 "" !BadJSON; L4 "" !BadJSON; L5 "" !BadJSON; L6 "" !BadJSON; L7 "" !BadJSON; L8 "c"`},
		{"empty", "", ``},
	})
}

func TestJSONLInvalid(t *testing.T) {
	rows := readAll(t, NewJSONL(strings.NewReader("\"ok\"\n{\"key\":\"a\\ud800\xff\"}\n"), "k.jsonl"))
	inv := rows[1].Invalid
	if inv == nil || inv.KeyHex != "61eda080ff" || inv.Message != "manifest k.jsonl line 2: key is not valid UTF-8" {
		t.Errorf("row 2 invalid = %+v, want keyHex 61eda080ff, message manifest k.jsonl line 2: key is not valid UTF-8", inv)
	}
}

func TestJSONLLongLine(t *testing.T) {
	in := `{"key":"` + strings.Repeat("x", 2*maxLine) + `"}` + "\n" + `"b"` + "\n"
	rows := readAll(t, NewJSONL(strings.NewReader(in), "t.jsonl"))
	if got, want := briefs(rows), `L1 "" !LineTooLong; L2 "b"`; got != want {
		t.Errorf("read(long line) = %s, want %s", got, want)
	}
}
