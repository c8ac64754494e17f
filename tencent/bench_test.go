package tencent

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

const benchBody = `<?xml version="1.0" encoding="UTF-8"?>
<Response><RequestId>NjJmMWQxYjNfOTBmYTUwNjRfNWYyY18x</RequestId><InstanceId>i6fc78ca77d6011eba0ac5254008618d9=</InstanceId></Response>`

func benchServer(b *testing.B) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("X-Ci-Request-Id", "NjJmMWQxYjNfOTBmYTUwNjRfNWYyY18x")
		io.WriteString(w, benchBody)
	}))
	b.Cleanup(s.Close)
	return s
}

// BenchmarkSign is the exported Sign on a trigger request (SignKey
// derived on every call).
func BenchmarkSign(b *testing.B) {
	req := mustRequest(b, "POST", "https://"+ciHost+"/triggerworkflow?object=media%2Fmy%20video%2Bfinal%20100%25%2F%E8%A7%86%E9%A2%91%201.mp4&workflowId="+wfID)
	start, end := unix(1700000000), unix(1700003600)
	b.ReportAllocs()
	for b.Loop() {
		Sign(req, docCreds, start, end)
	}
}

// BenchmarkSignCached is the signature as Trigger computes it: cached
// SignKey, known parameters.
func BenchmarkSignCached(b *testing.B) {
	kc := keyCache{secretKey: docCreds.SecretKey}
	now := unix(1700000060)
	const key = "media/my video+final 100%/视频 1.mp4"
	b.ReportAllocs()
	for b.Loop() {
		k := kc.get(now)
		var ea [3]entry
		params := append(ea[:0], entry{"object", key}, entry{"workflowid", wfID})
		headers := []entry{{"content-length", "0"}, {"host", ciHost}}
		_ = k.authorization(docCreds.SecretID, "POST", "/triggerworkflow", params, headers)
	}
}

// BenchmarkSignSDK is cos.AddAuthorizationHeader on the same request, for
// comparison.
func BenchmarkSignSDK(b *testing.B) {
	req := mustRequest(b, "POST", "https://"+ciHost+"/triggerworkflow?object=media%2Fmy%20video%2Bfinal%20100%25%2F%E8%A7%86%E9%A2%91%201.mp4&workflowId="+wfID)
	start, end := unix(1700000000), unix(1700003600)
	b.ReportAllocs()
	for b.Loop() {
		sdkAuthorization(req, docCreds, start, end)
	}
}

// BenchmarkTrigger is one Trigger call against a loopback server.
func BenchmarkTrigger(b *testing.B) {
	s := benchServer(b)
	c, err := NewClient(Config{CIEndpoint: s.URL, Credentials: docCreds})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	in := TriggerInput{WorkflowID: wfID, Key: "media/my video+final 100%/视频 1.mp4"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Trigger(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTriggerParallel is Trigger from GOMAXPROCS goroutines.
func BenchmarkTriggerParallel(b *testing.B) {
	s := benchServer(b)
	c, err := NewClient(Config{CIEndpoint: s.URL, Credentials: docCreds})
	if err != nil {
		b.Fatal(err)
	}
	in := TriggerInput{WorkflowID: wfID, Key: "media/my video+final 100%/视频 1.mp4"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Trigger(context.Background(), in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkHandWritten is the floor: an unsigned POST with net/http, body
// read and closed, no decoding, same transport settings.
func BenchmarkHandWritten(b *testing.B) {
	s := benchServer(b)
	hc := &http.Client{Transport: newTransport()}
	u := s.URL + "/triggerworkflow?object=media%2Fmy%20video%2Bfinal%20100%25%2F%E8%A7%86%E9%A2%91%201.mp4&workflowId=" + wfID
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
}

func BenchmarkDecodeTriggerResponse(b *testing.B) {
	body := []byte(benchBody)
	b.Run("scanner", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := decodeTriggerResponse(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-xml", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r triggerResponse
			if err := xml.Unmarshal(body, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// inProcess is a RoundTripper that answers every request at once with the
// same canned trigger answer, reusing one response: what is left of a
// call's cost is the client's own (signing, building the request, net/http's
// client side, reading and decoding the answer). Sequential use only.
type inProcess struct {
	resp http.Response
	body bytes.Reader
}

func newInProcess() *inProcess {
	t := &inProcess{}
	t.resp = http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type":    {"application/xml"},
			"X-Ci-Request-Id": {"NjJmMWQxYjNfOTBmYTUwNjRfNWYyY18x"},
		},
		ContentLength: int64(len(benchBody)),
	}
	return t
}

func (t *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	t.body.Reset([]byte(benchBody))
	t.resp.Body = io.NopCloser(&t.body)
	t.resp.Request = req
	return &t.resp, nil
}

// cpuTime is the CPU time (user + system) the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTriggerClientSide is the client-side cost of one Trigger, the
// server excluded (an in-process RoundTripper answers): CPU µs and
// allocations per trigger.
//
//	go test ./tencent -run '^$' -bench TriggerClientSide -benchtime 200000x
func BenchmarkTriggerClientSide(b *testing.B) {
	c, err := NewClient(Config{CIEndpoint: "https://" + ciHost, Credentials: docCreds, HTTPClient: &http.Client{Transport: newInProcess()}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	in := TriggerInput{WorkflowID: wfID, Key: "media/my video+final 100%/视频 1.mp4"}
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		if _, err := c.Trigger(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}
