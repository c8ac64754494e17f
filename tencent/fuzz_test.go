package tencent

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeTriggerResponse checks that decoding never panics and that the
// fast scanner, whenever it accepts a body, agrees with encoding/xml.
func FuzzDecodeTriggerResponse(f *testing.F) {
	for _, s := range []string{
		`<Response><RequestId>r</RequestId><InstanceId>i=</InstanceId></Response>`,
		`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response>\n  <RequestId>r</RequestId>\n  <InstanceId>i</InstanceId>\n</Response>\n",
		`<Response><InstanceId>a&amp;b</InstanceId></Response>`,
		`<Response><InstanceId><![CDATA[x]]></InstanceId></Response>`,
		`<Response><InstanceId>]]></InstanceId></Response>`,
		`<Response><x:InstanceId>x</x:InstanceId></Response>`,
		`<Response><InstanceId>1</InstanceId><InstanceId>2</InstanceId></Response>`,
		`<Response><Other>o</Other><InstanceId>i</InstanceId></Response>trailing`,
		`<Error><Code>x</Code></Error>`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, rid, err := decodeTriggerResponse(b)
		fid, frid, ok := scanTriggerResponse(b)
		if !ok {
			return
		}
		var r triggerResponse
		if xerr := xml.Unmarshal(b, &r); xerr != nil {
			t.Fatalf("scanner accepted %q, encoding/xml: %v", b, xerr)
		}
		if string(fid) != r.InstanceID || string(frid) != r.RequestID {
			t.Fatalf("scanner(%q) = %q, %q; encoding/xml = %q, %q", b, fid, frid, r.InstanceID, r.RequestID)
		}
		if err != nil || string(id) != r.InstanceID || string(rid) != r.RequestID {
			t.Fatalf("decodeTriggerResponse(%q) = %q, %q, %v", b, id, rid, err)
		}
	})
}

// FuzzParseError checks that error answers never panic, that unparsable
// bodies are cut to 200 bytes, and that secrets never survive.
func FuzzParseError(f *testing.F) {
	for _, s := range []string{
		`<Error><Code>AccessDenied</Code><Message>m</Message><RequestId>r</RequestId></Error>`,
		`{"code":"InvalidArgument","message":"m","request_id":"r"}`,
		`{"code":42}`,
		`<Error><Message>the key SECRETKEYVALUE is wrong</Message></Error>`,
		strings.Repeat("视", 100),
		`<`, `{`, ``,
	} {
		f.Add([]byte(s), 403, "7")
	}
	creds := Credentials{SecretID: "AKIDSECRETID", SecretKey: "SECRETKEYVALUE"}
	f.Fuzz(func(t *testing.T, body []byte, status int, retryAfter string) {
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {retryAfter}}}
		e := newAPIError("trigger", resp, body, creds.Redact, time.Unix(1700000000, 0))
		_ = e.Error()
		_ = e.Class()
		if e.RetryAfter < 0 {
			t.Errorf("RetryAfter = %v < 0", e.RetryAfter)
		}
		if e.Code == "" && len(e.Message) > 200 {
			t.Errorf("unparsed message has %d bytes, want <= 200", len(e.Message))
		}
		for _, s := range []string{e.Code, e.Message, e.RequestID, e.Error()} {
			if strings.Contains(s, creds.SecretKey) || strings.Contains(s, creds.SecretID) {
				t.Errorf("error field %q holds a secret", s)
			}
		}
	})
}
