package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
)

// ciEmulator starts an emulator that answers authentication failures as CI
// does (401 and CI's codes), with its clock ahead of ours by skew.
func ciEmulator(t *testing.T, skew time.Duration) (*emulator.Server, string) {
	t.Helper()
	srv := emulator.New(emulator.Config{
		SecretID: emulatorSecretID, SecretKey: emulatorSecretKey,
		Bucket: emulatorBucket, Workflows: []string{emulatorWorkflow},
		Auth: emulator.AuthCI, Seed: 9,
		Now: func() time.Time { return time.Now().Add(skew) },
	})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, url
}

// runWith runs one command line in process with the given credentials.
func runWith(secretID, secretKey string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	getenv := func(name string) string {
		switch name {
		case "TENCENTCLOUD_SECRET_ID":
			return secretID
		case "TENCENTCLOUD_SECRET_KEY":
			return secretKey
		}
		return ""
	}
	code = run(context.Background(), args, environment{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: getenv})
	return code, out.String(), errb.String()
}

func TestCIAuthAnswersStopWithinTwiceConcurrency(t *testing.T) {
	tests := []struct {
		name, id, key, code string
	}{
		{"unknown SecretId", "AKIDnosuchkey000000000000000000000000", emulatorSecretKey, "SecretidNotExist"},
		{"wrong SecretKey", emulatorSecretID, "wrongSecretKey00000000000000000", "InvalidAuthorization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, url := ciEmulator(t, 0)
			dir := t.TempDir()
			writeLines(t, filepath.Join(dir, "keys.txt"), oddKeys(500))
			code, _, stderr := runWith(tt.id, tt.key, runArgs(url, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "keys.txt"), "--concurrency", "8")...)
			if code != 3 || !strings.Contains(stderr, tt.code) {
				t.Fatalf("exit %d, want 3 naming %s\n%s", code, tt.code, stderr)
			}
			if n := srv.Stats().Requests; n > 2*8 {
				t.Errorf("the emulator got %d requests before the run stopped, want at most 2 × 8", n)
			}
		})
	}
}

func TestSignatureExpiredResignedOnceThenClockHint(t *testing.T) {
	srv, url := ciEmulator(t, 3*time.Hour) // our signatures end before its now
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "keys.txt"), oddKeys(500))
	code, _, stderr := wftrigger(t, runArgs(url, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "keys.txt"), "--concurrency", "4")...)
	if code != 3 || !strings.Contains(stderr, "SignatureExpired") || !strings.Contains(stderr, "clock") {
		t.Fatalf("exit %d, want 3 with SignatureExpired and a hint about the clock\n%s", code, stderr)
	}
	// Each call is sent once and re-signed once: at most 2 × 2 × 4.
	if n := srv.Stats().Requests; n < 2 || n > 2*2*4 {
		t.Errorf("the emulator got %d requests, want 2 to 16 (one re-signed retry per call)", n)
	}
}

// COS answers a signature out of its time 403 AccessDenied "Request has
// expired": re-signed once, as RequestTimeTooSkewed is, then the clock hint.
func TestRequestExpiredResignedOnceThenClockHint(t *testing.T) {
	srv := emulator.New(emulator.Config{
		SecretID: emulatorSecretID, SecretKey: emulatorSecretKey,
		Bucket: emulatorBucket, Workflows: []string{emulatorWorkflow}, Seed: 9,
		Now: func() time.Time { return time.Now().Add(3 * time.Hour) },
	})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "keys.txt"), oddKeys(500))
	code, _, stderr := wftrigger(t, runArgs(url, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "keys.txt"), "--concurrency", "4")...)
	if code != 3 || !strings.Contains(stderr, "Request has expired") || !strings.Contains(stderr, "clock") {
		t.Fatalf("exit %d, want 3 with Request has expired and a hint about the clock\n%s", code, stderr)
	}
	if n := srv.Stats().Requests; n < 2 || n > 2*2*4 {
		t.Errorf("the emulator got %d requests, want 2 to 16 (one re-signed retry per call)", n)
	}
}

func TestUnreachableEndpointStopsRun(t *testing.T) {
	const closed = "http://127.0.0.1:1" // nothing listens on port 1
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "keys.txt"), oddKeys(500))
	code, stdout, stderr := wftrigger(t, runArgs(closed, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "keys.txt"), "--concurrency", "8")...)
	if code != 3 || !strings.Contains(stderr, "cannot reach "+closed) {
		t.Fatalf("exit %d, want 3 naming the endpoint %s\n%s%s", code, closed, stdout, stderr)
	}
	r := readReport(t, filepath.Join(dir, "r.json"))
	attempts := 0
	for _, e := range r.Objects {
		attempts += e.Attempts
	}
	if attempts > 2*8 {
		t.Errorf("%d calls before the run stopped, want at most 2 × 8\n%s", attempts, stdout)
	}
}
