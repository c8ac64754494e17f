package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/wftrigger/wftrigger/emulator"
	"github.com/wftrigger/wftrigger/report"
)

// TestMain lets the test binary be wftrigger itself: in testscript
// transcripts, and as the child process that the crash tests kill.
func TestMain(m *testing.M) {
	if os.Getenv("WFTRIGGER_TEST_AS_MAIN") == "1" {
		main()
		return
	}
	testscript.Main(m, map[string]func(){"wftrigger": main})
}

// testEmulator starts an emulator with the default credentials, the default
// workflow and keys under denied/ refused.
func testEmulator(t testing.TB, faults emulator.Faults) (*emulator.Server, string) {
	t.Helper()
	srv := emulator.New(emulator.Config{
		SecretID: emulatorSecretID, SecretKey: emulatorSecretKey,
		Bucket: emulatorBucket, Workflows: []string{emulatorWorkflow},
		DenyPrefixes: []string{"denied/"},
		Trigger:      faults,
		Seed:         42,
	})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, url
}

// wftrigger runs one command line in process and returns its exit status
// with what it printed.
func wftrigger(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, environment{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: emulatorCredentials})
	return code, out.String(), errb.String()
}

// runArgs are the flags that aim a run at the test emulator.
func runArgs(url, reportPath string, more ...string) []string {
	return append([]string{"run", "--bucket", emulatorBucket, "--ci-endpoint", url, "--cos-endpoint", url,
		"--workflow", emulatorWorkflow, "--report", reportPath, "--progress", "none", "--qps", "0"}, more...)
}

func writeLines(t testing.TB, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readReport reads a whole report (tests only: reports of a few thousand).
type testReport struct {
	report.Meta
	Summary report.Summary `json:"summary"`
	Objects []report.Entry `json:"objects"`
}

func readReport(t testing.TB, path string) testReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r testReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report %s is not JSON: %v", path, err)
	}
	return r
}

// childProcess starts the test binary as wftrigger with args.
func childProcess(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "WFTRIGGER_TEST_AS_MAIN=1",
		"TENCENTCLOUD_SECRET_ID="+emulatorSecretID, "TENCENTCLOUD_SECRET_KEY="+emulatorSecretKey)
	return cmd
}

// startChild starts the child process of childProcess; the caller waits
// for it or kills it.
func startChild(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	cmd := childProcess(t, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			srv := emulator.New(emulator.Config{
				SecretID: emulatorSecretID, SecretKey: emulatorSecretKey,
				Bucket: emulatorBucket, Workflows: []string{emulatorWorkflow},
				DenyPrefixes: []string{"denied/"}, Seed: 7,
			})
			srv.PutSample(emulator.SampleKeys(50, 7), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			url, err := srv.Start("127.0.0.1:0")
			if err != nil {
				return err
			}
			env.Defer(func() { srv.Close() })
			env.Values["emulator"] = srv
			env.Setenv("EMU", url)
			env.Setenv("BUCKET", emulatorBucket)
			env.Setenv("WORKFLOW", emulatorWorkflow)
			env.Setenv("TENCENTCLOUD_SECRET_ID", emulatorSecretID)
			env.Setenv("TENCENTCLOUD_SECRET_KEY", emulatorSecretKey)
			env.Setenv("WFTRIGGER_METADATA_ENDPOINT", "http://127.0.0.1:1") // no CVM metadata service: refused at once
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exit N CMD ARGS… runs CMD and checks its exit status is N.
			"exit": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: exit N command args...")
				}
				err := ts.Exec(args[1], args[2:]...)
				got := "exit status 0"
				if err != nil {
					got = err.Error()
				}
				if want := "exit status " + args[0]; got != want {
					ts.Fatalf("%s: got %s, want %s", args[1], got, want)
				}
			},
			// triggers N checks the emulator accepted N triggers, none twice.
			"triggers": func(ts *testscript.TestScript, neg bool, args []string) {
				srv := ts.Value("emulator").(*emulator.Server)
				got := len(srv.Triggers())
				if fmt.Sprint(got) != args[0] {
					ts.Fatalf("emulator accepted %d triggers, want %s", got, args[0])
				}
				for k, n := range srv.TriggerCounts() {
					if n > 1 {
						ts.Fatalf("key %q triggered %d times", k.Key, n)
					}
				}
			},
			// summary PATH total succeeded failed invalid duplicates
			"summary": func(ts *testscript.TestScript, neg bool, args []string) {
				b, err := os.ReadFile(ts.MkAbs(args[0]))
				ts.Check(err)
				var r testReport
				ts.Check(json.Unmarshal(b, &r))
				s := r.Summary
				got := fmt.Sprintf("%d %d %d %d %d", s.Total, s.Succeeded, s.Failed, s.Invalid, s.Duplicates)
				if want := strings.Join(args[1:], " "); got != want {
					ts.Fatalf("summary of %s = %s, want %s (total succeeded failed invalid duplicates)", args[0], got, want)
				}
			},
		},
	})
}

// manifestSetup starts an emulator and writes a manifest of n odd keys in a
// fresh directory; it returns the emulator, its URL, the directory, the
// keys, the manifest's path and the path of a report beside it.
func manifestSetup(t *testing.T, n int) (srv *emulator.Server, url, dir string, keys []string, manifestPath, reportPath string) {
	t.Helper()
	srv, url = testEmulator(t, emulator.Faults{})
	dir = t.TempDir()
	keys = oddKeys(n)
	manifestPath = filepath.Join(dir, "keys.txt")
	writeLines(t, manifestPath, keys)
	reportPath = filepath.Join(dir, "r.json")
	return srv, url, dir, keys, manifestPath, reportPath
}

// ranKeys writes keys to keys.txt in a fresh folder and runs them to the
// end against url; it returns the folder and the path of the run's report.
func ranKeys(t *testing.T, url string, keys []string) (dir, reportPath string) {
	t.Helper()
	dir = t.TempDir()
	reportPath = filepath.Join(dir, "r.json")
	manifestPath := filepath.Join(dir, "keys.txt")
	writeLines(t, manifestPath, keys)
	if code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", manifestPath)...); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
	}
	return dir, reportPath
}
