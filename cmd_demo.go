package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
	"github.com/wftrigger/wftrigger/report"
)

// demoHead is the start of `wftrigger demo -h`; the flags follow, from the
// FlagSet (demoFlags).
const demoHead = `Usage: wftrigger demo [--objects N] [--dir DIR]

Runs a whole backfill against an in-process emulator: no account, no network,
no set-up. It writes a manifest of generated keys (spaces, '+', '%', Chinese),
serves them from an emulator that checks signatures, injects faults (2% 500s,
1% connection resets) and throttles above 1,200 calls/s, runs 'wftrigger run'
at --qps 2000 (it adapts its rate to the quota) on them through
the same code as a real run, then runs it again to show that a rerun resumes
and triggers nothing twice. Given a --dir that holds the report of an
earlier demo, it resumes that report: what succeeded then is not triggered
again.

Examples:
  wftrigger demo
  wftrigger demo --objects 20000 --dir /tmp/demo
`

// demoSections lays out the flags of `wftrigger demo` in its help.
func demoSections() []helpSection {
	return []helpSection{{"Flags", []string{"objects N", "dir DIR"}}}
}

// defaultDemoObjects is how many keys the demo backfills.
const defaultDemoObjects = 3000

// demoFlags defines the flags of `wftrigger demo`.
func demoFlags(objects *int, dir *string) *flag.FlagSet {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.IntVar(objects, "objects", defaultDemoObjects, "how many generated keys to backfill")
	fs.StringVar(dir, "dir", "", "where the manifest and the report go (by default a new temporary folder)")
	return fs
}

func demoCommand(ctx context.Context, args []string, env environment) error {
	var (
		objects int
		dir     string
	)
	fs := demoFlags(&objects, &dir)
	if err := parseFlags(fs, args, env.stdout, env.stderr, demoHead, demoSections(), ""); err != nil {
		return err
	}
	if objects < 1 {
		return usageError("wftrigger demo --objects 3000", "--objects %d: want at least 1", objects)
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "wftrigger-demo-")
		if err != nil {
			return err
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	srv := emulator.New(emulator.Config{
		SecretID: emulatorSecretID, SecretKey: emulatorSecretKey,
		Bucket: emulatorBucket, Workflows: []string{emulatorWorkflow},
		Trigger:        emulator.Faults{ErrorRate: 0.02, ResetRate: 0.01, QPS: demoQuota, Latency: 2 * time.Millisecond},
		ExecutionDelay: time.Second,
		Seed:           1,
	})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer srv.Close()
	keys := emulator.SampleKeys(objects, 1)
	srv.PutSample(keys, time.Now().Add(-90*24*time.Hour))
	manifestPath := filepath.Join(dir, "objects.csv")
	if err := writeKeysCSV(manifestPath, keys); err != nil {
		return err
	}
	reportPath := filepath.Join(dir, "report.json")
	// A report left by an earlier demo in the same --dir is resumed, as
	// a rerun of any backfill is: what succeeded then is not triggered again.
	prior, resumed := 0, false
	if _, err := os.Stat(reportPath); err == nil {
		resumed = true
		if _, err := report.Scan(reportPath, func(e report.Entry) error {
			if e.Status == report.Succeeded {
				prior++
			}
			return nil
		}); err != nil {
			return &exitError{code: exitUsage, err: err, hint: "give another --dir, or remove " + reportPath}
		}
	}

	demoEnv := env
	demoEnv.getenv = emulatorCredentials
	runArgs := []string{"--bucket", emulatorBucket, "--ci-endpoint", url, "--cos-endpoint", url,
		"--workflow", emulatorWorkflow, "--manifest", manifestPath, "--report", reportPath, "--qps", "2000", "--concurrency", "32"}

	fmt.Fprintf(env.stdout, "demo: an emulator on %s serves bucket %s; %d keys in %s\n", url, emulatorBucket, len(keys), manifestPath)
	fmt.Fprintf(env.stdout, "demo: it checks every signature, injects faults (2%% 500 InternalError, 1%% connection resets) and throttles above %d calls/s with 503 SlowDown\n", demoQuota)
	if resumed {
		fmt.Fprintf(env.stdout, "demo: %s is there from an earlier demo in %s, with %d objects succeeded: this run resumes it and triggers none of them again (a new --dir starts afresh)\n", reportPath, dir, prior)
	}
	fmt.Fprintln(env.stdout)
	fmt.Fprintf(env.stdout, "$ wftrigger run %s\n", strings.Join(quoteArgs(runArgs), " "))
	first := exitStatus(runCommand(ctx, runArgs, demoEnv), env)
	if ctx.Err() != nil {
		return &exitError{code: exitAborted, err: context.Canceled}
	}
	fmt.Fprintf(env.stdout, "exit status %d\n\n$ wftrigger run … (the same command again)\n", first)
	second := exitStatus(runCommand(ctx, runArgs, demoEnv), env)
	fmt.Fprintf(env.stdout, "exit status %d\n\n", second)

	counts := srv.TriggerCounts()
	twice := 0
	for _, n := range counts {
		if n > 1 {
			twice++
		}
	}
	s := srv.Stats()
	fmt.Fprintf(env.stdout, "demo: the emulator answered %d requests, injected %d faults, accepted %d triggers for %d distinct keys (%d keys triggered more than once)\n",
		s.Requests, s.Faults, s.Accepted, len(counts), twice)
	fmt.Fprintf(env.stdout, "demo: the report is %s — try: jq .summary %s\n", reportPath, reportPath)
	// Every key is in the report as succeeded; a fresh demo triggered each
	// of them here, a resumed one only those the earlier demo had not.
	missing := 0
	if resumed {
		done := make(map[string]bool, len(keys))
		if _, err := report.Scan(reportPath, func(e report.Entry) error {
			if e.Status == report.Succeeded {
				done[e.Key] = true
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			if !done[k] {
				missing++
			}
		}
	} else if len(counts) != len(keys) {
		missing = len(keys) - len(counts)
	}
	if first > exitFailures || second != exitOK || twice > 0 || missing != 0 {
		return &exitError{code: exitAborted, err: fmt.Errorf("demo: the backfill did not complete cleanly")}
	}
	return nil
}

// emulatorCredentials is a getenv that knows only the emulator's credentials.
func emulatorCredentials(name string) string {
	switch name {
	case "TENCENTCLOUD_SECRET_ID":
		return emulatorSecretID
	case "TENCENTCLOUD_SECRET_KEY":
		return emulatorSecretKey
	}
	return ""
}

// demoQuota is the emulator's rate quota in the demo, below the run's --qps:
// the run meets throttling and adapts its rate.
const demoQuota = 1200

func writeKeysCSV(path string, keys []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"key"})
	for _, k := range keys {
		_ = w.Write([]string{k})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " '\"$&|;<>*?") {
			a = shellQuote(a)
		}
		out[i] = a
	}
	return out
}
