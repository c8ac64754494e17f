package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
	"github.com/wftrigger/wftrigger/report"
)

// serverArgs aim a server-side run at the test emulator, looking at the job
// every 20 ms.
func serverArgs(url, reportPath string, more ...string) []string {
	return runArgs(url, reportPath, append([]string{"--server-side", "--poll-interval", "20ms"}, more...)...)
}

// putKeys stores keys in the emulator, modified an hour ago.
func putKeys(srv *emulator.Server, keys []string) {
	for _, k := range keys {
		srv.PutObject(k, []byte(k), time.Now().Add(-time.Hour))
	}
}

func prefixedKeys(prefix string, n int) []string {
	var keys []string
	for i := range n {
		keys = append(keys, fmt.Sprintf("%sclip %03d+%%final.mp4", prefix, i))
	}
	return keys
}

// jobEmulator starts an emulator holding n keys under prefix (modified an
// hour ago), whose inventory trigger jobs run with opts; it returns the
// emulator, its URL, the keys and a report path in a fresh folder.
func jobEmulator(t *testing.T, prefix string, n int, opts emulator.JobOptions) (srv *emulator.Server, url string, keys []string, path string) {
	t.Helper()
	srv, url = testEmulator(t, emulator.Faults{})
	keys = prefixedKeys(prefix, n)
	putKeys(srv, keys)
	srv.SetJobOptions(opts)
	return srv, url, keys, filepath.Join(t.TempDir(), "r.json")
}

// jobTriggers counts the emulator's instances: by a job, and by a
// TriggerWorkflow call, failing on any key with two.
func jobTriggers(t *testing.T, srv *emulator.Server) (byJob, byCall int) {
	t.Helper()
	for _, tr := range srv.Triggers() {
		if tr.JobID != "" {
			byJob++
		} else {
			byCall++
		}
	}
	for k, n := range srv.TriggerCounts() {
		if n > 1 {
			t.Errorf("%q has %d instances, want 1", k.Key, n)
		}
	}
	return byJob, byCall
}

func reportKeys(rep testReport, status report.Status) []string {
	var keys []string
	for _, e := range rep.Objects {
		if e.Status == status {
			keys = append(keys, e.Key)
		}
	}
	sort.Strings(keys)
	return keys
}

func TestServerSidePrefixEndToEnd(t *testing.T) {
	srv, url, keys, path := jobEmulator(t, "videos/", 30, emulator.JobOptions{Rate: 200})
	putKeys(srv, []string{"other/x.mp4"})

	code, stdout, stderr := wftrigger(t, serverArgs(url, path, "--prefix", "videos/")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	rep := readReport(t, path)
	if got := reportKeys(rep, report.Succeeded); !slices.Equal(got, keys) || rep.Summary.Total != 30 {
		t.Errorf("succeeded = %q (summary %+v), want the 30 keys under videos/", got, rep.Summary)
	}
	runs := map[string]string{}
	for _, tr := range srv.Triggers() {
		runs[tr.Key] = tr.InstanceID
	}
	for _, e := range rep.Objects {
		if e.InstanceID != runs[e.Key] || e.Execution == nil {
			t.Errorf("entry %+v: want instance %s and an execution state", e, runs[e.Key])
		}
	}
	if byJob, byCall := jobTriggers(t, srv); byJob != 30 || byCall != 0 || srv.Stats().Accepted != 0 {
		t.Errorf("%d instances by the job, %d TriggerWorkflow calls; want 30 and 0", byJob, byCall)
	}
	if jobs := srv.Jobs(); len(jobs) != 1 || !strings.Contains(stdout, jobs[0].ID) {
		t.Errorf("jobs %+v; stdout %q", jobs, stdout)
	}

	code, stdout, stderr = wftrigger(t, serverArgs(url, path, "--prefix", "videos/")...)
	if code != 0 || len(srv.Jobs()) != 1 {
		t.Errorf("rerun: exit %d with %d jobs, want 0 and the one job\n%s%s", code, len(srv.Jobs()), stdout, stderr)
	}
	// status works on a server-side report as on any other.
	code, stdout, stderr = wftrigger(t, "status", "--report", path, "--ci-endpoint", url)
	if code != 0 || !strings.Contains(stdout, "30 Success") {
		t.Errorf("status: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestServerSideRefusals(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	local := filepath.Join(dir, "keys.txt")
	writeLines(t, local, []string{"a.mp4"})
	for _, tc := range []struct {
		name string
		args []string
		hint string
	}{
		{"suffix", []string{"--prefix", "v/", "--suffix", ".mp4"}, "ExtFilter"},
		{"shard", []string{"--prefix", "v/", "--shard", "0/2"}, "one job covers the whole source"},
		{"limit", []string{"--prefix", "v/", "--limit", "10"}, "triggers the whole source"},
		{"local manifest", []string{"--manifest", local}, "upload the manifest to COS"},
		{"cos csv", []string{"--manifest", "cos://" + emulatorBucket + "/rows.csv"}, "manifest.json of a COS inventory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.Stats().Requests
			code, _, stderr := wftrigger(t, serverArgs(url, filepath.Join(dir, tc.name+".json"), tc.args...)...)
			if code != 2 || !strings.Contains(stderr, "wftrigger: hint:") || !strings.Contains(stderr, tc.hint) {
				t.Errorf("exit %d, stderr %q; want 2 with a hint about %q", code, stderr, tc.hint)
			}
			if n := srv.Stats().Requests - before; n != 0 {
				t.Errorf("%d requests reached the emulator, want 0", n)
			}
		})
	}
	// Rows naming their own workflow cannot be part of a job.
	code, _, stderr := wftrigger(t, "run", "--bucket", emulatorBucket, "--ci-endpoint", url, "--cos-endpoint", url,
		"--server-side", "--manifest", "cos://"+emulatorBucket+"/inv/manifest.json", "--report", filepath.Join(dir, "w.json"))
	if code != 2 || !strings.Contains(stderr, "--workflow is required") {
		t.Errorf("no --workflow: exit %d, %q", code, stderr)
	}
}

func TestServerSideNotInJobThenClientSide(t *testing.T) {
	srv, url, keys, path := jobEmulator(t, "s/", 12, emulator.JobOptions{SkipEvery: 4})

	code, stdout, stderr := wftrigger(t, serverArgs(url, path, "--prefix", "s/")...)
	if code != 1 || !strings.Contains(stderr, "without --server-side") {
		t.Fatalf("exit %d, want 1 with a hint\n%s%s", code, stdout, stderr)
	}
	want := []string{keys[3], keys[7], keys[11]}
	rep := readReport(t, path)
	if got := reportKeys(rep, report.Failed); !slices.Equal(got, want) {
		t.Fatalf("failed = %q, want %q", got, want)
	}
	for _, e := range rep.Objects {
		if e.Status == report.Failed && (e.Error == nil || e.Error.Code != "NotInJob") {
			t.Errorf("entry %+v, want NotInJob", e)
		}
	}

	// The same command without --server-side triggers exactly those.
	code, stdout, stderr = wftrigger(t, runArgs(url, path, "--prefix", "s/")...)
	if code != 0 {
		t.Fatalf("client-side rerun: exit %d\n%s%s", code, stdout, stderr)
	}
	var called []string
	for _, tr := range srv.Triggers() {
		if tr.JobID == "" {
			called = append(called, tr.Key)
		}
	}
	sort.Strings(called)
	if !slices.Equal(called, want) {
		t.Errorf("client-side rerun triggered %q, want %q", called, want)
	}
	if byJob, byCall := jobTriggers(t, srv); byJob != 9 || byCall != 3 {
		t.Errorf("%d by the job, %d by calls; want 9 and 3", byJob, byCall)
	}
	if s := readReport(t, path).Summary; s.Succeeded != 12 || s.Failed != 0 {
		t.Errorf("summary %+v", s)
	}
}

// TestServerSideKill9DuringWait kills a run while its job runs: the rerun
// reattaches, and the emulator has one job in all.
func TestServerSideKill9DuringWait(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url, keys, path := jobEmulator(t, "k/", 40, emulator.JobOptions{Rate: 20}) // 2 s
	args := serverArgs(url, path, "--prefix", "k/")

	cmd := startChild(t, args...)
	waitFor(t, func() bool { jobs := srv.Jobs(); return len(jobs) == 1 && jobs[0].Executions > 0 })
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()

	code, stdout, stderr := wftrigger(t, args...)
	if code != 0 {
		t.Fatalf("rerun: exit %d\n%s%s", code, stdout, stderr)
	}
	if jobs := srv.Jobs(); len(jobs) != 1 {
		t.Errorf("%d jobs at the emulator, want 1", len(jobs))
	}
	if byJob, byCall := jobTriggers(t, srv); byJob != 40 || byCall != 0 {
		t.Errorf("%d by the job, %d by calls; want 40 and 0", byJob, byCall)
	}
	if got := reportKeys(readReport(t, path), report.Succeeded); !slices.Equal(got, keys) {
		t.Errorf("succeeded = %q", got)
	}
}

// TestServerSideStopThenCancel stops a run (SIGINT: exit 3, the job goes
// on), cancels the job, and finishes client-side.
func TestServerSideStopThenCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv, url, _, path := jobEmulator(t, "c/", 30, emulator.JobOptions{Rate: 1}) // 30 s: it is cancelled long before
	args := serverArgs(url, path, "--prefix", "c/")

	cmd := startChild(t, args...)
	waitFor(t, func() bool { jobs := srv.Jobs(); return len(jobs) == 1 && jobs[0].Executions > 0 })
	_ = cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err == nil || cmd.ProcessState.ExitCode() != 3 {
		t.Fatalf("stopped run: %v, want exit 3", err)
	}
	if st := srv.Jobs()[0].State; st != "Running" {
		t.Errorf("job after the stop: %s, want Running", st)
	}

	code, stdout, stderr := wftrigger(t, "cancel", "--report", path) // the endpoint recorded in the report
	if code != 0 || !strings.Contains(stdout, "is Cancel") || srv.Jobs()[0].State != "Cancel" {
		t.Fatalf("cancel: exit %d, job %+v\n%s%s", code, srv.Jobs()[0], stdout, stderr)
	}
	code, stdout, stderr = wftrigger(t, args...)
	if code != 3 || !strings.Contains(stderr, "ended Cancel") || len(srv.Jobs()) != 1 {
		t.Fatalf("rerun after cancel: exit %d with %d jobs, want 3 and the one job\n%s%s", code, len(srv.Jobs()), stdout, stderr)
	}
	code, stdout, stderr = wftrigger(t, runArgs(url, path, "--prefix", "c/")...)
	if code != 0 {
		t.Fatalf("client-side: exit %d\n%s%s", code, stdout, stderr)
	}
	byJob, byCall := jobTriggers(t, srv)
	if byJob+byCall != 30 || byJob == 0 || byCall == 0 {
		t.Errorf("%d by the job, %d by calls; want 30 in all, some of each", byJob, byCall)
	}
	code, _, stderr = wftrigger(t, "cancel", "--report", filepath.Join(t.TempDir(), "none.json"), "--ci-endpoint", url)
	if code != 2 {
		t.Errorf("cancel without a report: exit %d %q", code, stderr)
	}
}

func TestServerSideDryRunAndWindow(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	now := time.Now().UTC()
	srv.PutObject("w/old.mp4", nil, now.Add(-48*time.Hour))
	srv.PutObject("w/new1.mp4", nil, now.Add(-2*time.Hour))
	srv.PutObject("w/new2.mp4", nil, now.Add(-time.Hour))
	after := now.Add(-24 * time.Hour).Format(time.RFC3339)
	path := filepath.Join(t.TempDir(), "r.json")

	code, stdout, stderr := wftrigger(t, serverArgs(url, path, "--prefix", "w/", "--modified-after", after, "--dry-run")...)
	if code != 0 || !strings.Contains(stdout, "<Prefix>w/</Prefix>") || !strings.Contains(stdout, "<TimeInterval><Start>") ||
		!strings.Contains(stdout, "objects:            2") {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	if len(srv.Jobs()) != 0 {
		t.Fatal("the dry run submitted a job")
	}
	code, stdout, stderr = wftrigger(t, serverArgs(url, path, "--prefix", "w/", "--modified-after", after)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if got := reportKeys(readReport(t, path), report.Succeeded); !slices.Equal(got, []string{"w/new1.mp4", "w/new2.mp4"}) {
		t.Errorf("succeeded = %q", got)
	}
	if byJob, _ := jobTriggers(t, srv); byJob != 2 {
		t.Errorf("the job triggered %d, want 2 (the window)", byJob)
	}
}

func TestServerSideInventory(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	keys := prefixedKeys("inv/", 5)
	putKeys(srv, keys)
	mkey := srv.PutInventory("cos_bucket_inventory/1250000000/media/daily/20261127/", keys, time.Now())
	path := filepath.Join(t.TempDir(), "r.json")
	code, stdout, stderr := wftrigger(t, serverArgs(url, path, "--manifest", "cos://"+emulatorBucket+"/"+mkey)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if jobs := srv.Jobs(); len(jobs) != 1 || jobs[0].Manifest != url+"/"+mkey || jobs[0].Executions != 5 {
		t.Errorf("jobs = %+v", jobs)
	}
	if got := reportKeys(readReport(t, path), report.Succeeded); !slices.Equal(got, keys) {
		t.Errorf("succeeded = %q", got)
	}
}

// TestServerSideMemory measures the peak RSS of a server-side run and of a
// client-side run over the same objects (WFTRIGGER_MEMORY=N objects; off
// by default: a measurement, not a test).
func TestServerSideMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("WFTRIGGER_MEMORY"))
	if n <= 0 {
		t.Skip("set WFTRIGGER_MEMORY=N to measure a run over N objects")
	}
	srv, url := testEmulator(t, emulator.Faults{})
	at := time.Now().Add(-time.Hour)
	for i := range n {
		srv.PutObject(fmt.Sprintf("m/%08d.mp4", i), nil, at)
	}
	dir := t.TempDir()
	for _, side := range []string{"server", "client"} {
		args := runArgs(url, filepath.Join(dir, side+".json"), "--prefix", "m/", "--concurrency", "32")
		if side == "server" {
			args = append(args, "--server-side", "--poll-interval", "100ms")
		}
		cmd := childProcess(t, args...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s-side run: %v\n%s", side, err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		t.Logf("%s-side run over %d objects: peak RSS %.1f MiB, %s", side, n, float64(ru.Maxrss)/1024, time.Since(start).Round(time.Millisecond))
	}
}
