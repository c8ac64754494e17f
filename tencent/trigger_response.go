package tencent

import (
	"bytes"
	"encoding/xml"
	"errors"
)

// triggerResponse is the body of an accepted TriggerWorkflow call.
type triggerResponse struct {
	XMLName    xml.Name `xml:"Response"`
	InstanceID string   `xml:"InstanceId"`
	RequestID  string   `xml:"RequestId"`
}

// decodeTriggerResponse decodes <Response><RequestId/><InstanceId/></Response>.
// Plain documents (the only shape CI sends) are read by a small scanner;
// anything else (entities, CDATA, comments, nesting, attributes, other
// encodings) goes to encoding/xml, so the result is always what
// encoding/xml gives.
func decodeTriggerResponse(b []byte) (instanceID, requestID []byte, err error) {
	if id, rid, ok := scanTriggerResponse(b); ok {
		return id, rid, nil
	}
	var r triggerResponse
	if err := xml.Unmarshal(b, &r); err != nil {
		return nil, nil, err
	}
	return []byte(r.InstanceID), []byte(r.RequestID), nil
}

var errNoInstanceID = errors.New("no InstanceId in the answer")

// scanTriggerResponse reads a document made only of an optional plain
// prolog, <Response>, child elements holding plain text, and </Response>.
// ok is false for any other shape.
func scanTriggerResponse(b []byte) (instanceID, requestID []byte, ok bool) {
	b = skipSpace(b)
	if bytes.HasPrefix(b, []byte("<?")) {
		end := bytes.Index(b, []byte("?>"))
		if end < 0 || !plainProlog(b[:end+2]) {
			return nil, nil, false
		}
		b = skipSpace(b[end+2:])
	}
	if !bytes.HasPrefix(b, []byte("<Response>")) {
		return nil, nil, false
	}
	b = b[len("<Response>"):]
	var seenID, seenReq bool
	for {
		b = skipSpace(b)
		if bytes.HasPrefix(b, []byte("</Response>")) {
			if len(skipSpace(b[len("</Response>"):])) != 0 {
				return nil, nil, false
			}
			return instanceID, requestID, true
		}
		if len(b) < 2 || b[0] != '<' {
			return nil, nil, false
		}
		end := bytes.IndexByte(b, '>')
		if end < 2 {
			return nil, nil, false
		}
		name := b[1:end]
		for _, c := range name {
			if !unreserved(c) || c == '~' {
				return nil, nil, false
			}
		}
		if name[0] == '-' || name[0] == '.' || '0' <= name[0] && name[0] <= '9' {
			return nil, nil, false
		}
		b = b[end+1:]
		lt := bytes.IndexByte(b, '<')
		if lt < 0 {
			return nil, nil, false
		}
		text := b[:lt]
		for _, c := range text {
			// ']' for "]]>", which XML forbids in text (found by the fuzzer).
			if c == '&' || c == ']' || c == '\r' || c >= 0x80 || (c < 0x20 && c != '\t' && c != '\n') {
				return nil, nil, false
			}
		}
		b = b[lt:]
		if len(b) < len(name)+3 || b[1] != '/' || !bytes.Equal(b[2:2+len(name)], name) || b[2+len(name)] != '>' {
			return nil, nil, false
		}
		b = b[len(name)+3:]
		switch string(name) {
		case "InstanceId":
			if seenID {
				return nil, nil, false
			}
			seenID, instanceID = true, text
		case "RequestId":
			if seenReq {
				return nil, nil, false
			}
			seenReq, requestID = true, text
		}
	}
}

func plainProlog(p []byte) bool {
	switch string(p) {
	case `<?xml version="1.0"?>`, `<?xml version="1.0" encoding="UTF-8"?>`, `<?xml version="1.0" encoding="utf-8"?>`,
		`<?xml version='1.0'?>`, `<?xml version='1.0' encoding='UTF-8'?>`, `<?xml version='1.0' encoding='utf-8'?>`:
		return true
	}
	return false
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}
