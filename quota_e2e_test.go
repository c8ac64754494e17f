package main

import (
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
)

// TestQuotaThrottlingIsNotFailure: against a quota of 200 calls a second
// that stops everything for 3 s mid-run, with --qps 1000 and
// --max-attempts 1, every object succeeds exactly once (throttled answers
// use up no attempt) and the adaptive pacer keeps the throttled answers
// well under a third of all (the precise numbers are scripts/pace.sh's).
func TestQuotaThrottlingIsNotFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10-second run")
	}
	srv := emulator.New(emulator.Config{
		SecretID: emulatorSecretID, SecretKey: emulatorSecretKey,
		Bucket: emulatorBucket, Workflows: []string{emulatorWorkflow},
		Quota: emulator.Quota{
			Steps:   []emulator.QuotaStep{{At: 0, Rate: 200}},
			Outages: []emulator.Outage{{At: 2 * time.Second, For: 3 * time.Second}},
		},
		Seed: 3,
	})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	keys, manifestPath, reportPath := csvKeys(t, 1500)
	code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath,
		"--qps", "1000", "--max-attempts", "1")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	checkExactlyOnce(t, srv, keys, reportPath)
	var accepted, throttled int64
	for _, s := range srv.QuotaSeconds() {
		accepted += s.Accepted
		throttled += s.Throttled
	}
	if share := float64(throttled) / float64(accepted+throttled); share >= 0.3 {
		t.Errorf("%d of %d answers throttled (%.0f%%), want under 30%%", throttled, accepted+throttled, 100*share)
	}
	t.Logf("%d accepted, %d throttled", accepted, throttled)
}
