package manifest

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen is the longest object key COS accepts, in bytes.
const MaxKeyLen = 850

// maxNameLen is the longest task name TriggerWorkflow accepts.
const maxNameLen = 128

// Codes of invalid rows, as recorded in the report.
const (
	CodeEmptyKey         = "EmptyKey"
	CodeKeyTooLong       = "KeyTooLong"
	CodeInvalidUTF8      = "InvalidUTF8"
	CodeLeadingSlash     = "LeadingSlash"
	CodeLeadingBackslash = "LeadingBackslash"
	CodeInvalidChar      = "InvalidChar"
	CodeBadCSV           = "BadCSV"
	CodeBadJSON          = "BadJSON"
	CodeBadEncoding      = "BadEncoding"
	CodeBadName          = "BadName"
	CodeLineTooLong      = "LineTooLong"
)

// CheckKey says why key cannot be used as a COS object key, or returns nil
// when it can. Keys are exact byte strings: spaces, '+', '%', '/' and any
// UTF-8 are fine. The message names the problem but not the place; callers
// prefix it with the source and line. KeyHex is set whenever key is not valid
// UTF-8, whatever the code.
func CheckKey(key string) *Invalid {
	inv := checkKey(key)
	if inv != nil && !utf8.ValidString(key) {
		inv.KeyHex = hex.EncodeToString([]byte(key))
	}
	return inv
}

func checkKey(key string) *Invalid {
	switch {
	case key == "":
		return &Invalid{Code: CodeEmptyKey, Message: "empty key"}
	case len(key) > MaxKeyLen:
		return &Invalid{Code: CodeKeyTooLong, Message: fmt.Sprintf("key is %d bytes, over the %d-byte limit", len(key), MaxKeyLen)}
	case !utf8.ValidString(key):
		return &Invalid{Code: CodeInvalidUTF8, Message: "key is not valid UTF-8"}
	case key[0] == '/':
		return &Invalid{Code: CodeLeadingSlash, Message: "key starts with '/'"}
	case key[0] == '\\':
		return &Invalid{Code: CodeLeadingBackslash, Message: `key starts with '\'`}
	}
	// COS rejects CAN, EM, SUB and ESC, and keys with line breaks (reference §7).
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case '\n', '\r', 0x18, 0x19, 0x1a, 0x1b:
			return &Invalid{Code: CodeInvalidChar, Message: fmt.Sprintf("key contains control character 0x%02X at byte %d", c, i)}
		}
	}
	return nil
}

// checkName says why name cannot be a TriggerWorkflow task name
// ([A-Za-z0-9_-]{0,128}, reference §2), or returns "".
func checkName(name string) string {
	if len(name) > maxNameLen {
		return fmt.Sprintf("name is %d characters, over the %d limit", len(name), maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Sprintf("name %q may hold only letters, digits, '_' and '-'", name)
		}
	}
	return ""
}

// rowFor builds the row for key read at line, checking the key and name.
// label prefixes messages ("manifest objects.csv").
func rowFor(label string, line int, key, workflowID, name string) Row {
	row := Row{Key: key, WorkflowID: workflowID, Name: name, Line: line}
	if inv := CheckKey(key); inv != nil {
		if inv.KeyHex != "" {
			row.Key = strings.ToValidUTF8(key, "\uFFFD")
		}
		inv.Message = at(label, line) + inv.Message
		row.Invalid = inv
		return row
	}
	if msg := checkName(name); msg != "" {
		row.Name = strings.ToValidUTF8(name, "\uFFFD")
		row.Invalid = &Invalid{Code: CodeBadName, Message: at(label, line) + msg}
	}
	return row
}

// invalidRow builds an invalid row that has no usable key.
func invalidRow(label string, line int, code, msg string) Row {
	return Row{Line: line, Invalid: &Invalid{Code: code, Message: at(label, line) + msg}}
}

// at is the place prefix of messages: "manifest objects.csv line 12: ".
func at(label string, line int) string {
	if line <= 0 {
		return label + ": "
	}
	return label + " line " + strconv.Itoa(line) + ": "
}
