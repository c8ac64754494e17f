package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/runner"
	"github.com/wftrigger/wftrigger/tencent"
)

func TestFailure(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		want    runner.Outcome
		code    string
		status  int
		retryIn time.Duration
	}{
		{"throttled", &tencent.APIError{Op: "trigger", HTTPStatus: 503, Code: "SlowDown", RetryAfter: time.Second}, runner.Throttled, "SlowDown", 503, time.Second},
		{"429", &tencent.APIError{Op: "trigger", HTTPStatus: 429}, runner.Throttled, "", 429, 0},
		{"5xx", &tencent.APIError{Op: "trigger", HTTPStatus: 500, Code: "InternalError"}, runner.Retryable, "InternalError", 500, 0},
		{"denied", &tencent.APIError{Op: "trigger", HTTPStatus: 403, Code: "AccessDenied"}, runner.Permanent, "AccessDenied", 403, 0},
		{"bad keys", &tencent.APIError{Op: "trigger", HTTPStatus: 403, Code: "SignatureDoesNotMatch"}, runner.Fatal, "SignatureDoesNotMatch", 403, 0},
		{"sent, no answer", &tencent.TransportError{Op: "trigger", Err: io.ErrUnexpectedEOF, Sent: true}, runner.Uncertain, "NetworkError", 0, 0},
		{"never sent", &tencent.TransportError{Op: "trigger", Err: errors.New("refused")}, runner.Retryable, "NetworkError", 0, 0},
		{"timeout", &tencent.TransportError{Op: "trigger", Err: context.DeadlineExceeded, Sent: true}, runner.Uncertain, "Timeout", 0, 0},
		{"cancelled", fmt.Errorf("wait: %w", context.Canceled), runner.Fatal, "Interrupted", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := failure(tt.err)
			var f *runner.Failure
			if !errors.As(err, &f) {
				t.Fatalf("failure(%v) = %T, want *runner.Failure", tt.err, err)
			}
			if f.Outcome != tt.want || f.Code != tt.code || f.HTTPStatus != tt.status || f.RetryAfter != tt.retryIn {
				t.Errorf("failure(%v) = %v %d %q retry %v, want %v %d %q retry %v", tt.err, f.Outcome, f.HTTPStatus, f.Code, f.RetryAfter, tt.want, tt.status, tt.code, tt.retryIn)
			}
			if err.Error() != tt.err.Error() || !errors.Is(err, tt.err) {
				t.Errorf("failure(%v) reads %q and does not wrap the client's error", tt.err, err)
			}
		})
	}
	if failure(nil) != nil {
		t.Error("failure(nil) != nil")
	}
}
