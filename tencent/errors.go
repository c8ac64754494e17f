package tencent

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// String returns "retryable", "permanent" or "fatal".
func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	case Fatal:
		return "fatal"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Error reads like "trigger: 403 AccessDenied: message (request id X)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.HTTPStatus))
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	if e.Clock {
		b.WriteString(clockHint)
	}
	return b.String()
}

// clockHint ends the message of an answer that refused the signature's
// time twice.
const clockHint = "; a fresh signature was refused too: check this machine's clock (date -u; timedatectl; NTP)"

// Class says whether the call may succeed when tried again (Retryable),
// will fail again for this object (Permanent) or makes the whole run
// meaningless (Fatal: rejected credentials, unknown workflow, wrong bucket,
// host or region, or a clock the service refuses even after a fresh
// signature). The table in outcomes.go says which.
func (e *APIError) Class() Class { return e.meaning().class }

// TransportError is a call that got no usable answer: the connection failed,
// timed out or was cancelled, or a success answer could not be decoded.
type TransportError struct {
	Op   string
	Err  error
	Sent bool // the request was written in full: CI may have acted on it
	// Unreachable names the endpoint when no answer has ever come from it
	// and requests in a row (this one included) failed before anything was
	// sent (name not resolved, connection refused, TLS failure): the error
	// is Fatal.
	Unreachable string
}

// Error names the operation and the failure.
func (e *TransportError) Error() string {
	s := e.Op + ": " + e.Err.Error()
	if e.Unreachable != "" {
		s = e.Op + ": cannot reach " + e.Unreachable + " (no connection to it has succeeded): " + e.Err.Error()
	}
	if e.Sent {
		s += " (request was sent: outcome unknown)"
	}
	return s
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// Class is Fatal for an endpoint that cannot be reached at all, else
// Retryable.
func (e *TransportError) Class() Class {
	if e.Unreachable != "" {
		return Fatal
	}
	return Retryable
}

// inputError is a call refused before any request because of its input.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }
func (e *inputError) Class() Class  { return Permanent }

// ClassOf classifies any error a Client returns: context.Canceled is Fatal
// (the run is stopping), context.DeadlineExceeded is Retryable (a per-call
// timeout), *APIError and *TransportError have their own Class, and any
// other error is Retryable. ClassOf(nil) is 0.
func ClassOf(err error) Class {
	if err == nil {
		return 0
	}
	if errors.Is(err, context.Canceled) {
		return Fatal
	}
	var c interface{ Class() Class }
	if errors.As(err, &c) {
		return c.Class()
	}
	return Retryable
}

// Uncertain reports whether CI may have accepted the failed call: the
// request was written in full and no answer was read (or the answer could
// not be decoded). A caller should look the object up (FindExecution)
// before triggering it again.
func Uncertain(err error) bool {
	var t *TransportError
	return errors.As(err, &t) && t.Sent
}

// Throttled reports whether err is the service asking for a lower rate
// (429, 503, or a throttling code of the table).
func Throttled(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.meaning().throttled
}

// RetryAfter returns the wait the service asked for with Retry-After, or 0.
func RetryAfter(err error) time.Duration {
	var e *APIError
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// newAPIError builds the error for a non-2xx answer with the given body;
// redact removes the secrets (the source's Redact).
func newAPIError(op string, resp *http.Response, body []byte, redact func(string) string, now time.Time) *APIError {
	e := &APIError{Op: op, HTTPStatus: resp.StatusCode}
	// Redact before parsing: the message is cut to a length, and a secret
	// cut in two would no longer be recognised. And after: decoding may
	// unescape one.
	body = []byte(redact(string(body)))
	e.Code, e.Message, e.RequestID = parseErrorBody(body)
	e.Code = redact(e.Code)
	e.Message = redact(e.Message)
	e.RequestID = redact(e.RequestID)
	if e.RequestID == "" {
		e.RequestID = requestID(resp.Header)
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	return e
}

// requestID returns x-ci-request-id, else x-cos-request-id.
func requestID(h http.Header) string {
	if v := h.Get("X-Ci-Request-Id"); v != "" {
		return v
	}
	return h.Get("X-Cos-Request-Id")
}

// parseErrorBody reads an XML <Error> (or any root) with Code, Message and
// RequestId, or a JSON object with code, message and request_id. A body that
// is neither gives no code and its first 200 bytes as the message.
func parseErrorBody(body []byte) (code, msg, reqID string) {
	trimmed := strings.TrimSpace(string(body))
	switch {
	case strings.HasPrefix(trimmed, "<"):
		var x struct {
			Code      string `xml:"Code"`
			Message   string `xml:"Message"`
			RequestID string `xml:"RequestId"`
		}
		if xml.Unmarshal(body, &x) == nil && (x.Code != "" || x.Message != "") {
			return strings.TrimSpace(x.Code), strings.TrimSpace(x.Message), strings.TrimSpace(x.RequestID)
		}
	case strings.HasPrefix(trimmed, "{"):
		var j struct {
			Code      any    `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"request_id"`
		}
		if json.Unmarshal(body, &j) == nil {
			c := ""
			switch v := j.Code.(type) {
			case string:
				c = v
			case float64:
				c = strconv.FormatFloat(v, 'f', -1, 64)
			}
			if c != "" || j.Message != "" {
				return c, j.Message, j.RequestID
			}
		}
	}
	return "", truncate(trimmed, 200), ""
}

// truncate cuts s to at most n bytes, on a UTF-8 boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// parseRetryAfter reads a Retry-After value: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		if s > 24*3600 {
			s = 24 * 3600
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
