package main

import (
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
)

// TestLostAnswersNeverTwice: 20% of the triggers lose their answer (the
// connection reset after the request was sent; half of them after the
// emulator accepted it), on 800 keys with folders, spaces and '%', under
// each plausible behaviour of the execution list's name filter: every key
// ends triggered exactly once (counted at the emulator). That lost answers
// do not hold the workers for their look-up delay is the runner's
// TestUncertainParkedNotStalling (no timing here: a loaded machine would
// make it flaky); the log line says how long it took.
func TestLostAnswersNeverTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("800 keys four times")
	}
	for _, mode := range []emulator.NameFilter{emulator.NameKey, emulator.NameBase, emulator.NameSubstring, emulator.NameIgnored} {
		name := string(mode)
		if name == "" {
			name = "key"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel() // mostly waiting out look-up delays
			srv := emulator.New(emulator.Config{
				SecretID: emulatorSecretID, SecretKey: emulatorSecretKey,
				Bucket: emulatorBucket, Workflows: []string{emulatorWorkflow},
				Trigger:    emulator.Faults{ResetRate: 0.2},
				NameFilter: mode,
				Seed:       7,
			})
			url, err := srv.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			keys, manifestPath, reportPath := csvKeys(t, 800)
			start := time.Now()
			code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath, "--max-attempts", "10")...)
			elapsed := time.Since(start)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			checkExactlyOnce(t, srv, keys, reportPath)
			// Holding a worker 2 s for each lost answer, as before parking,
			// would take at least resets × 2 s / 16 workers.
			resets := srv.Stats().Faults
			serial := time.Duration(resets) * 2 * time.Second / 16
			t.Logf("%d lost answers, %v (held workers: ≥ %v), %d execution queries", resets, elapsed.Round(time.Millisecond), serial, srv.Stats().ExecutionQueries)
		})
	}
}
