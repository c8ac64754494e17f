package tencent

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestSignatureExpiredResignedOnce(t *testing.T) {
	for _, code := range []string{"SignatureExpired", "RequestTimeTooSkewed"} {
		t.Run(code+" twice", func(t *testing.T) {
			f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, "<Error><Code>"+code+"</Code><Message>expired</Message></Error>")
			})
			c := newTestClient(t, f.URL, testCreds)
			_, err := c.Trigger(context.Background(), TriggerInput{WorkflowID: "w", Key: "k"})
			var ae *APIError
			if !errors.As(err, &ae) || !ae.Clock || ClassOf(err) != Fatal {
				t.Fatalf("Trigger = %v, want a fatal clock error", err)
			}
			if !strings.Contains(err.Error(), "clock") {
				t.Errorf("error %q gives no hint about the clock", err)
			}
			f.mu.Lock()
			n := len(f.reqs)
			f.mu.Unlock()
			if n != 2 {
				t.Errorf("%d requests, want one re-signed retry", n)
			}
		})
	}
	t.Run("once", func(t *testing.T) {
		var n atomic.Int64
		f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, "<Error><Code>SignatureExpired</Code></Error>")
				return
			}
			io.WriteString(w, "<Response><InstanceId>i1</InstanceId></Response>")
		})
		c := newTestClient(t, f.URL, testCreds)
		if res, err := c.Trigger(context.Background(), TriggerInput{WorkflowID: "w", Key: "k"}); err != nil || res.InstanceID != "i1" {
			t.Fatalf("Trigger = %+v, %v, want i1 after a re-signed retry", res, err)
		}
	})
}

func TestUnreachableEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	untrusted := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("a request reached a server whose certificate the client does not trust")
	}))
	defer untrusted.Close()
	for name, endpoint := range map[string]string{"connection refused": closed, "TLS failure": untrusted.URL} {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, endpoint, testCreds)
			var last error
			for range unreachableAfter {
				_, last = c.Trigger(context.Background(), TriggerInput{WorkflowID: "w", Key: "k"})
			}
			if ClassOf(last) != Fatal || Uncertain(last) || !strings.Contains(last.Error(), strings.TrimPrefix(endpoint, "http")) {
				t.Fatalf("Trigger #%d to %s = %v (%v), want fatal, naming the endpoint", unreachableAfter, endpoint, last, ClassOf(last))
			}
		})
	}
}
