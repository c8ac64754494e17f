package manifest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonlReader reads one JSON object or JSON string a line; blank lines are
// skipped (they still count as lines).
type jsonlReader struct{ lines }

// jsonlRow is one JSONL object; other fields (those of a line of
// `wftrigger report`, say) are ignored. The key is kept raw and unquoted by
// unquoteRaw, so that invalid UTF-8 in it is reported instead of silently
// replaced by the JSON decoder. KeyHex, as a report writes it for a key
// that is not valid UTF-8 (whose "key" then holds U+FFFD in place of the
// bad bytes), gives back the key's exact bytes.
type jsonlRow struct {
	Key        json.RawMessage `json:"key"`
	KeyHex     *string         `json:"keyHex"`
	WorkflowID *string         `json:"workflowId"`
	Name       *string         `json:"name"`
}

// NewJSONL returns a Source reading JSON Lines from r: one object a line
// with "key" and optional "workflowId" and "name", or a bare JSON string.
// name is the file name that messages and the report show.
func NewJSONL(r io.Reader, name string) Source {
	return newFileSource("manifest "+name, &jsonlReader{newLines(r, "manifest "+name)}, nil)
}

func (r *jsonlReader) read() (row Row, blank, ok bool) {
	for {
		b, tooLong, ok := r.next()
		if !ok || tooLong.Invalid != nil {
			return tooLong, false, ok
		}
		b = bytes.Trim(b, " \t\r")
		if len(b) == 0 {
			continue
		}
		return r.parse(b), false, true
	}
}

func (r *jsonlReader) parse(b []byte) Row {
	var key, wf, name string
	switch b[0] {
	case '"':
		if !json.Valid(b) {
			return invalidRow(r.label, r.line, CodeBadJSON, "not valid JSON")
		}
		key = unquoteRaw(b)
	case '{':
		var o jsonlRow
		if err := json.Unmarshal(b, &o); err != nil {
			return invalidRow(r.label, r.line, CodeBadJSON, "not valid JSON: "+err.Error())
		}
		if len(o.Key) == 0 || o.Key[0] != '"' {
			return invalidRow(r.label, r.line, CodeBadJSON, `no string "key"`)
		}
		key = unquoteRaw(o.Key)
		if o.KeyHex != nil {
			exact, err := hex.DecodeString(*o.KeyHex)
			if err != nil || strings.ToValidUTF8(string(exact), "\uFFFD") != key {
				return invalidRow(r.label, r.line, CodeBadJSON, `"keyHex" is not the hex of "key"`)
			}
			key = string(exact)
		}
		if o.WorkflowID != nil {
			wf = *o.WorkflowID
		}
		if o.Name != nil {
			name = *o.Name
		}
	default:
		return invalidRow(r.label, r.line, CodeBadJSON, "not a JSON object or string")
	}
	return rowFor(r.label, r.line, key, wf, name)
}

// unquoteRaw decodes a JSON string literal that json.Valid accepted, keeping
// bytes that are not valid UTF-8 as they are, and writing a lone surrogate
// escape (\ud800) as its 3-byte WTF-8 form, which is not valid UTF-8 either:
// such keys are reported as InvalidUTF8 with their bytes, not altered.
func unquoteRaw(q []byte) string {
	s := q[1 : len(q)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch s[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(s[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if r2 := hex4(s[i+3 : i+7]); utf16.DecodeRune(r, r2) != utf8.RuneError {
						out = utf8.AppendRune(out, utf16.DecodeRune(r, r2))
						i += 6
						continue
					}
				}
				out = append(out, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
				continue
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out = append(out, s[i])
		}
	}
	return string(out)
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
