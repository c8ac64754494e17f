package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/report/internal/logstore"
)

// TestSymlinkedReport: a report named through a symlink is the same report
// (the second Open is refused), and a rewrite through the symlink leaves
// the symlink a symlink.
func TestSymlinkedReport(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real", "r.json")
	if err := os.MkdirAll(filepath.Dir(real), 0o777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(filepath.Join("real", "r.json"), link); err != nil { // relative, dangling for now
		t.Fatal(err)
	}
	r := mustOpen(t, link)
	if want, _ := filepath.EvalSymlinks(filepath.Dir(real)); r.Path() != filepath.Join(want, "r.json") {
		t.Errorf("Path() = %q, want %q", r.Path(), real)
	}
	for _, p := range []string{real, link, filepath.Join(dir, "real", "..", "link.json")} {
		if _, err := Open(Options{Path: p, Meta: testMeta()}); !errors.As(err, new(*LockedError)) {
			t.Errorf("Open(%q) while held through %q = %v, want *LockedError", p, link, err)
		}
	}
	mustRecord(t, r, Entry{Key: "a", Status: Succeeded, InstanceID: "i1"})
	if err := r.Compact(); err != nil {
		t.Fatal(err)
	}
	mustClose(t, r, true)
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("after Close, %s is no longer a symlink (%v)", link, err)
	}
	_, got := readBack(t, real)
	if got["a"].InstanceID != "i1" {
		t.Errorf("the target %s does not hold the run's entries: %+v", real, got)
	}
	r = mustOpen(t, link)
	if p := r.Admit("", "a"); p.State != Done {
		t.Errorf("Admit(a) through the symlink = %v, want Done", p.State)
	}
	mustClose(t, r, true)
}

// TestRelativePath: a relative path and an absolute one name one report.
func TestRelativePath(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(t.TempDir(), "r.json")
	rel, err := filepath.Rel(wd, abs)
	if err != nil {
		t.Skip("no relative path from the working directory")
	}
	r := mustOpen(t, abs)
	defer mustClose(t, r, true)
	if _, err := Open(Options{Path: rel, Meta: testMeta()}); !errors.As(err, new(*LockedError)) {
		t.Errorf("Open(%q) = %v, want *LockedError", rel, err)
	}
}

// TestLockFileDeleted: a deleted PATH.lock does not let a second run in;
// the holder makes the lock file again.
func TestLockFileDeleted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	r := mustOpen(t, path)
	if err := os.Remove(path + ".lock"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Path: path, Meta: testMeta()}); !errors.As(err, new(*LockedError)) {
		t.Fatalf("Open after the lock file was deleted = %v, want *LockedError", err)
	}
	if err := Rewrite(path, func(*Entry) error { return nil }); !errors.As(err, new(*LockedError)) {
		t.Errorf("Rewrite after the lock file was deleted = %v, want *LockedError", err)
	}
	os.Remove(path + ".lock") // the refused Open made one
	if err := r.held.check(); err != nil {
		t.Fatalf("check = %v", err)
	}
	b, err := os.ReadFile(path + ".lock")
	if err != nil || !strings.Contains(string(b), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("lock file after check: %q, %v; want it made again with our pid", b, err)
	}
	var le *LockedError
	if _, err := Open(Options{Path: path, Meta: testMeta()}); !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Errorf("Open = %v, want *LockedError naming pid %d", err, os.Getpid())
	}
	mustClose(t, r, true)
	r = mustOpen(t, path)
	mustClose(t, r, true)
}

// TestJournalRemovedWhileHeld: a run whose journal was removed stops
// recording (its records would be lost).
func TestJournalRemovedWhileHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	r := mustOpen(t, path)
	if err := os.Remove(path + ".journal"); err != nil {
		t.Fatal(err)
	}
	err := r.held.check()
	if err == nil {
		t.Fatal("check after the journal was removed = nil, want an error")
	}
	r.broken.CompareAndSwap(nil, &err)
	if err := r.Record(Entry{Key: "a", Status: Dispatched}); err == nil {
		t.Error("Record after the journal was removed = nil, want an error")
	}
	r.abandon()
}

// TestFolderCreated: the report's folder is made when missing.
func TestFolderCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "r.json")
	r := mustOpen(t, path)
	mustClose(t, r, true)
	readBack(t, path)
}

// TestEmptyReportFile: a 0-byte report is not taken for a new start.
func TestEmptyReportFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	setUpRun(t, path)
	if err := os.WriteFile(path, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{Path: path, Meta: testMeta()})
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Path != path {
		t.Fatalf("Open(0-byte report) = %v, want *CorruptError on %s", err, path)
	}
	if _, err := Open(Options{Path: path, Meta: testMeta(), ReadOnly: true}); !errors.As(err, &ce) {
		t.Errorf("read-only Open(0-byte report) = %v, want *CorruptError", err)
	}
	if err := Rewrite(path, func(*Entry) error { return nil }); !errors.As(err, &ce) {
		t.Errorf("Rewrite(0-byte report) = %v, want *CorruptError", err)
	}
	r, err := Open(Options{Path: path, Meta: testMeta(), Fresh: true})
	if err != nil {
		t.Fatalf("Open(Fresh) = %v", err)
	}
	if len(r.SetAside()) != 1 {
		t.Errorf("SetAside() = %v, want the empty report", r.SetAside())
	}
	mustClose(t, r, true)
}

// TestGarbledReport names the line where the report goes wrong.
func TestGarbledReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	setUpRun(t, path)
	b, _ := os.ReadFile(path)
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.Contains(l, `"key":"failed"`) {
			lines[i] = l[:len(l)/2] + "\x00\x00" + l[len(l)/2:]
			t.Logf("garbled line %d", i+1)
			os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o666)
			_, err := Open(Options{Path: path, Meta: testMeta()})
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Line != i+1 {
				t.Fatalf("Open = %v, want *CorruptError at line %d", err, i+1)
			}
			return
		}
	}
	t.Fatal("no line to garble")
}

const journalHdr = `{"journal":1,"bucket":"media-1250000000","workflowId":"w1","startedAt":"2026-11-27T01:00:00Z"}` + "\n"

// TestTornJournal: a journal torn at its end is recovered (and said so);
// torn or garbled anywhere else, it is an error naming the line.
func TestTornJournal(t *testing.T) {
	rec := func(key, status string) string { return `{"key":"` + key + `","status":"` + status + `"}` + "\n" }
	tests := []struct {
		name    string
		journal string
		line    int      // the *CorruptError's line; 0: recovered
		done    []string // keys recovered as succeeded
		warn    bool
	}{
		{"empty", "", 1, nil, false},
		{"white space only", "\n  \n", 1, nil, false},
		{"header only", journalHdr, 0, nil, false},
		{"cut inside the header", journalHdr[:30], 1, nil, false},
		{"cut inside the first record", journalHdr + rec("a", "succeeded")[:12], 0, nil, true},
		{"torn last line", journalHdr + rec("a", "succeeded") + rec("b", "succeeded")[:20], 0, []string{"a"}, true},
		{"zeros at the end", journalHdr + rec("a", "succeeded") + "\x00\x00\x00\x00", 0, []string{"a"}, true},
		{"garbage in the middle", journalHdr + rec("a", "succeeded") + "garbage\n" + rec("b", "succeeded"), 3, nil, false},
		{"torn in the middle", journalHdr + rec("a", "succeeded")[:15] + "\n" + rec("b", "succeeded"), 2, nil, false},
		{"no header", rec("a", "succeeded") + rec("b", "succeeded"), 1, nil, false},
		{"head of the file lost", `ey":"a","status":"succeeded"}` + "\n" + rec("b", "succeeded"), 1, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.json")
			if err := os.WriteFile(path+".journal", []byte(tt.journal), 0o666); err != nil {
				t.Fatal(err)
			}
			r, err := Open(Options{Path: path, Meta: testMeta()})
			if tt.line > 0 {
				var ce *CorruptError
				if !errors.As(err, &ce) || ce.Line != tt.line || ce.Path != path+".journal" {
					t.Fatalf("Open = %v, want *CorruptError at %s.journal line %d", err, path, tt.line)
				}
				if b, _ := os.ReadFile(path + ".journal"); string(b) != tt.journal {
					t.Errorf("the journal was changed to %q", b)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open = %v", err)
			}
			defer mustClose(t, r, true)
			if got := len(r.Warnings()) > 0; got != tt.warn {
				t.Errorf("Warnings() = %q, want some: %v", r.Warnings(), tt.warn)
			}
			for _, k := range tt.done {
				if p := r.Admit("", k); p.State != Done {
					t.Errorf("Admit(%q) = %v, want Done", k, p.State)
				}
			}
		})
	}
}

// TestSucceededIsFinal: no later record of a succeeded key undoes it, in
// the index, in Admit, in the report and after a crash.
func TestSucceededIsFinal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	r := mustOpen(t, path)
	mustRecord(t, r,
		Entry{Key: "a", Status: Dispatched},
		Entry{Key: "a", Status: Succeeded, InstanceID: "i1"},
		Entry{Key: "a", Status: Failed, Error: &Error{Code: "X", Message: "late"}},
		Entry{Key: "a", Status: Dispatched},
		Entry{Key: "a", Status: Failed, Uncertain: true, Error: &Error{Code: "Timeout", Message: "late"}},
	)
	if s := r.Summary(); s.Succeeded != 1 || s.Failed != 0 {
		t.Errorf("Summary() = %+v, want 1 succeeded", s)
	}
	r.abandon()
	r = mustOpen(t, path)
	if p := r.Admit("", "a"); p.State != Done {
		t.Errorf("Admit(a) after the crash = %v, want Done", p.State)
	}
	mustClose(t, r, true)
	_, got := readBack(t, path)
	if e := got["a"]; e.Status != Succeeded || e.InstanceID != "i1" {
		t.Errorf("a = %+v, want succeeded i1", e)
	}
}

// TestStaleTempFiles: temporary files of a dead run's rewrite are removed
// by the next run that holds the lock.
func TestStaleTempFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	setUpRun(t, path)
	stale := []string{path + ".tmp-999999999", path + ".tmp-1"}
	for _, name := range stale {
		os.WriteFile(name, []byte(`{"version":1,`), 0o666)
	}
	keep := path + ".tmp-notapid"
	os.WriteFile(keep, nil, 0o666)
	r := mustOpen(t, path)
	for _, name := range stale {
		if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there (%v)", name, err)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("%s (not ours) removed: %v", keep, err)
	}
	mustClose(t, r, true)
}

// powerLossFile is a journal that keeps, when the machine "crashes", only
// what was fsynced: a power loss.
type powerLossFile struct {
	*os.File
	mu     sync.Mutex
	size   int64 // bytes written
	synced int64 // bytes written before the last Sync began
}

func newPowerLossFile(f *os.File) *powerLossFile {
	st, err := f.Stat()
	if err != nil {
		panic(err)
	}
	return &powerLossFile{File: f, size: st.Size(), synced: st.Size()}
}

func (p *powerLossFile) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, err := p.File.Write(b)
	p.size += int64(n)
	return n, err
}

func (p *powerLossFile) Sync() error {
	p.mu.Lock()
	size := p.size
	p.mu.Unlock()
	if err := p.File.Sync(); err != nil {
		return err
	}
	p.mu.Lock()
	p.synced = max(p.synced, size)
	p.mu.Unlock()
	return nil
}

func (p *powerLossFile) Truncate(n int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.File.Truncate(n); err != nil {
		return err
	}
	p.size, p.synced = n, min(p.synced, n)
	return nil
}

// crash says what a power loss now would keep of the file: what was synced.
func (p *powerLossFile) crash() (synced, size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.synced, p.size
}

// TestPowerLoss: after a crash of the machine, every object whose
// dispatched record was acknowledged is known (as uncertain, to be looked
// up, or as succeeded): none is triggered again.
func TestPowerLoss(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	setUpRun(t, path)
	for round := range 3 {
		var pf *powerLossFile
		r, err := Open(Options{Path: path, Meta: testMeta(), journalFile: func(f *os.File) logstore.File {
			pf = newPowerLossFile(f)
			return pf
		}})
		if err != nil {
			t.Fatalf("round %d: Open = %v", round, err)
		}
		var (
			mu    sync.Mutex
			acked []string
			wg    sync.WaitGroup
		)
		for w := range 16 {
			wg.Go(func() {
				var ahead []string // announced by RecordAll, not yet sent
				for i := range 50 {
					key := fmt.Sprintf("r%d/w%d/%d", round, w, i)
					if w%2 == 1 && len(ahead) == 0 {
						// Half the writers announce five objects at once,
						// as the runner's journal stage does.
						var es []Entry
						for j := i; j < min(i+5, 50); j++ {
							k := fmt.Sprintf("r%d/w%d/%d", round, w, j)
							ahead = append(ahead, k)
							es = append(es, Entry{Key: k, Status: Dispatched})
						}
						if err := r.RecordAll(es); err != nil {
							t.Errorf("RecordAll = %v", err)
							return
						}
					}
					if len(ahead) > 0 {
						ahead = ahead[1:]
					} else if err := r.Record(Entry{Key: key, Status: Dispatched}); err != nil {
						t.Errorf("Record = %v", err)
						return
					}
					mu.Lock()
					acked = append(acked, key) // the call would be sent now
					mu.Unlock()
					if i%2 == 1 {
						if err := r.Record(Entry{Key: key, Status: Succeeded, InstanceID: "i-" + key}); err != nil {
							t.Errorf("Record = %v", err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		synced, size := pf.crash()
		r.abandon()
		t.Logf("power loss: %d of %d journal bytes were synced", synced, size)
		if err := os.Truncate(path+".journal", synced); err != nil {
			t.Fatal(err)
		}

		r = mustOpen(t, path)
		for _, key := range acked {
			if p := r.Admit("", key); p.State != Uncertain && p.State != Done {
				t.Errorf("round %d: %q was dispatched, after the power loss Admit = %v, want Uncertain or Done", round, key, p.State)
			}
		}
		if p := r.Admit("", "done"); p.State != Done {
			t.Errorf("Admit(done) = %v", p.State)
		}
		if round < 2 {
			r.abandon() // the journal holds several runs
		} else {
			mustClose(t, r, false)
		}
	}
}

// TestJob: the intent and the id of a server-side job survive a crash
// between them and the rewrites of the report.
func TestJob(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	r := mustOpen(t, path)
	if _, ok := r.Job(); ok {
		t.Error("Job() of a new report = ok")
	}
	sub := t0.Add(time.Second)
	if err := r.RecordJob(Job{Name: "wftrigger-r-json-1", SubmittedAt: sub}); err != nil {
		t.Fatal(err)
	}
	mustRecord(t, r, Entry{Key: "a", Status: Succeeded, InstanceID: "i1"})
	r.abandon() // kill -9 between intent and id

	r = mustOpen(t, path)
	j, ok := r.Job()
	if !ok || j.Name != "wftrigger-r-json-1" || j.ID != "" || !j.SubmittedAt.Equal(sub) {
		t.Fatalf("Job() after the crash = %+v, %v; want the intent", j, ok)
	}
	if p := r.Admit("", "a"); p.State != Done {
		t.Errorf("Admit(a) = %v, want Done (a job line is not a record)", p.State)
	}
	j.ID, j.State = "job-1", "Running"
	if err := r.RecordJob(j); err != nil {
		t.Fatal(err)
	}
	if err := r.Compact(); err != nil {
		t.Fatal(err)
	}
	mustClose(t, r, true)
	h, got := readBack(t, path)
	if h.Job == nil || h.Job.ID != "job-1" || h.Job.State != "Running" || len(got) != 1 {
		t.Fatalf("report: job %+v, %d entries; want job-1 Running and 1 entry", h.Job, len(got))
	}
	if err := Rewrite(path, func(*Entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	r = mustOpen(t, path)
	if j, ok := r.Job(); !ok || j.ID != "job-1" {
		t.Errorf("Job() after Rewrite = %+v, %v", j, ok)
	}
	mustClose(t, r, true)
}

// TestEndpoints: the endpoints a run was given are in the report's header.
func TestEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	m := testMeta()
	m.CIEndpoint, m.COSEndpoint = "http://127.0.0.1:9000", "http://127.0.0.1:9001"
	r, err := Open(Options{Path: path, Meta: m})
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, r, true)
	h, err := Scan(path, nil)
	if err != nil || h.CIEndpoint != m.CIEndpoint || h.COSEndpoint != m.COSEndpoint {
		t.Errorf("Scan = %+v, %v; want the endpoints", h.Meta, err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"ciEndpoint": "http://127.0.0.1:9000"`) {
		t.Errorf("report lacks ciEndpoint:\n%s", b)
	}
	r = mustOpen(t, path) // testMeta has none
	mustClose(t, r, true)
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "Endpoint") {
		t.Errorf("endpoints written although none were given:\n%s", b)
	}
}

// setUpExecutions writes a report whose three succeeded entries have
// executions Failed, Success and none.
func setUpExecutions(t *testing.T, path string) {
	t.Helper()
	r := mustOpen(t, path)
	mustRecord(t, r,
		Entry{Key: "failed-exec", Status: Succeeded, InstanceID: "i1", RequestID: "r1"},
		Entry{Key: "ok-exec", Status: Succeeded, InstanceID: "i2"},
		Entry{Key: "no-exec", Status: Succeeded, InstanceID: "i3"},
		Entry{Key: "trigger-failed", Status: Failed, Error: &Error{Code: "X", Message: "x"}},
	)
	mustClose(t, r, true)
	err := Rewrite(path, func(e *Entry) error {
		switch e.Key {
		case "failed-exec":
			e.Execution = &Execution{State: ExecutionFailed, CheckedAt: t1}
		case "ok-exec":
			e.Execution = &Execution{State: "Success", CheckedAt: t1}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRetryFailedExecutions: with the option, exactly the entries whose
// execution Failed are triggered again, and keep the earlier instance.
func TestRetryFailedExecutions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	setUpExecutions(t, path)

	// Without the option nothing changes.
	r := mustOpen(t, path)
	if p := r.Admit("", "failed-exec"); p.State != Done {
		t.Errorf("Admit(failed-exec) without the option = %v, want Done", p.State)
	}
	mustClose(t, r, true)

	open := func() *Report {
		r, err := Open(Options{Path: path, Meta: testMeta(), RetryFailedExecutions: true})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// failExecution records, as status would, that key's execution Failed.
	failExecution := func(key string) {
		t.Helper()
		if err := Rewrite(path, func(e *Entry) error {
			if e.Key == key {
				e.Execution = &Execution{State: ExecutionFailed, CheckedAt: t1}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	r = open()
	if n := r.FailedExecutions(); n != 1 {
		t.Errorf("FailedExecutions() = %d, want 1", n)
	}
	if done, retry, _ := r.Loaded(); done != 2 || retry != 2 {
		t.Errorf("Loaded() = %d done, %d retry; want 2, 2", done, retry)
	}
	for key, want := range map[string]PriorState{"failed-exec": Retry, "ok-exec": Done, "no-exec": Done, "trigger-failed": Retry} {
		if p := r.Admit("", key); p.State != want {
			t.Errorf("Admit(%q) = %v, want %v", key, p.State, want)
		}
	}
	// A crash after the second trigger's dispatched record: the rerun looks
	// it up (it does not trigger a third time).
	mustRecord(t, r, Entry{Key: "failed-exec", Status: Dispatched, Attempts: 1})
	r.abandon()
	var live Entry
	if _, err := ScanLive(path, func(e Entry) error {
		if e.Key == "failed-exec" {
			live = e
		}
		return nil
	}); err != nil || !live.Uncertain || len(live.History) != 1 {
		t.Errorf("ScanLive after a crash mid-retry: failed-exec = %+v, %v; want uncertain with its history", live, err)
	}
	r = open()
	if p := r.Admit("", "failed-exec"); p.State != Uncertain {
		t.Errorf("Admit(failed-exec) after a crash mid-retry = %v, want Uncertain", p.State)
	}
	mustRecord(t, r, Entry{Key: "failed-exec", Status: Succeeded, InstanceID: "i9", Attempts: 1})
	mustClose(t, r, true)

	_, got := readBack(t, path)
	e := got["failed-exec"]
	if e.InstanceID != "i9" || e.Execution != nil || len(e.History) != 1 || e.History[0].InstanceID != "i1" ||
		e.History[0].Execution == nil || e.History[0].Execution.State != ExecutionFailed {
		t.Errorf("failed-exec = %+v, want i9 with i1 (Failed) in its history", e)
	}
	if e := got["ok-exec"]; e.InstanceID != "i2" || len(e.History) != 0 {
		t.Errorf("ok-exec = %+v, want untouched", e)
	}

	// The new instance fails too: the next retry keeps both.
	failExecution("failed-exec")
	r = open()
	if p := r.Admit("", "failed-exec"); p.State != Retry {
		t.Errorf("Admit(failed-exec) = %v, want Retry", p.State)
	}
	mustRecord(t, r, Entry{Key: "failed-exec", Status: Dispatched}, Entry{Key: "failed-exec", Status: Succeeded, InstanceID: "i10"})
	mustClose(t, r, true)
	_, got = readBack(t, path)
	if e := got["failed-exec"]; e.InstanceID != "i10" || len(e.History) != 2 || e.History[0].InstanceID != "i1" || e.History[1].InstanceID != "i9" {
		t.Errorf("failed-exec = %+v, want i10 with history i1, i9", e)
	}

	// A retry that stopped before its call leaves the success as it was.
	failExecution("ok-exec")
	r = open()
	if p := r.Admit("", "ok-exec"); p.State != Retry {
		t.Errorf("Admit(ok-exec) = %v, want Retry", p.State)
	}
	mustRecord(t, r, Entry{Key: "ok-exec", Status: Failed, Error: &Error{Code: "Interrupted", Message: "stopped"}})
	mustClose(t, r, false)
	if _, got = readBack(t, path); got["ok-exec"].Status != Succeeded || got["ok-exec"].InstanceID != "i2" {
		t.Errorf("ok-exec after an interrupted retry = %+v, want succeeded i2", got["ok-exec"])
	}

	// A record of a succeeded entry that carries no history still cannot
	// undo the success.
	r = open()
	mustRecord(t, r, Entry{Key: "ok-exec", Status: Failed, Error: &Error{Code: "X", Message: "late"}})
	mustClose(t, r, true)
	if _, got = readBack(t, path); got["ok-exec"].Status != Succeeded {
		t.Errorf("ok-exec = %+v, want succeeded", got["ok-exec"])
	}
}

// TestScanLive reads a report while a run holds it and appends.
func TestScanLive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	setUpRun(t, path)
	r := mustOpen(t, path)
	mustRecord(t, r,
		Entry{Key: "failed", Status: Dispatched},
		Entry{Key: "failed", Status: Succeeded, InstanceID: "i2"},
		Entry{Key: "done", Status: Failed, Error: &Error{Code: "X", Message: "late"}},
		Entry{Key: "n1", Status: Succeeded, InstanceID: "in1"},
		Entry{Key: "n2", Status: Dispatched},
	)
	if err := r.RecordJob(Job{Name: "j", ID: "job-1"}); err != nil {
		t.Fatal(err)
	}
	check := func(when string, want map[string]string) {
		t.Helper()
		got := map[string]string{}
		var order []string
		h, err := ScanLive(path, func(e Entry) error {
			id := e.Key
			if e.Status == Invalid {
				id = fmt.Sprintf("#%d", e.Line)
			}
			if _, dup := got[id]; dup {
				t.Errorf("%s: %q given twice", when, id)
			}
			s := string(e.Status)
			if e.Uncertain {
				s += "?"
			}
			got[id] = s + " " + e.InstanceID
			order = append(order, id)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: ScanLive = %v", when, err)
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %q = %q, want %q", when, k, got[k], w)
			}
		}
		if len(got) != len(want) || h.Summary.Total != len(want) {
			t.Errorf("%s: %d entries (summary %+v), want %d: %v", when, len(got), h.Summary, len(want), order)
		}
		if h.Job == nil || h.Job.ID != "job-1" || h.Bucket != testMeta().Bucket {
			t.Errorf("%s: header %+v, job %+v", when, h.Meta, h.Job)
		}
	}
	want := map[string]string{
		"done": "succeeded i1", "failed": "succeeded i2", "uncertain": "failed? ", "dispatched": "failed? ",
		"#4": "invalid ", "#7": "invalid ", "n1": "succeeded in1", "n2": "failed? ",
	}
	check("during the run", want)
	if err := r.Compact(); err != nil {
		t.Fatal(err)
	}
	mustRecord(t, r, Entry{Key: "n2", Status: Succeeded, InstanceID: "in2"}, Entry{Key: "n3", Status: Failed, Error: &Error{Code: "X", Message: "x"}})
	want["n2"], want["n3"] = "succeeded in2", "failed "
	check("after a rewrite", want)
	r.abandon()
	check("after a crash", want)
	r = mustOpen(t, path)
	mustClose(t, r, false)
	check("after the next run", want)

	// Only a journal (a run that crashed before its first rewrite).
	path2 := filepath.Join(t.TempDir(), "r.json")
	r = mustOpen(t, path2)
	mustRecord(t, r, Entry{Key: "a", Status: Succeeded, InstanceID: "ia"})
	r.abandon()
	n := 0
	if _, err := ScanLive(path2, func(e Entry) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("ScanLive of a journal alone = %d entries, %v", n, err)
	}
	// The caller's error comes back.
	stop := errors.New("enough")
	if _, err := ScanLive(path, func(Entry) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("ScanLive with fn failing = %v, want %v", err, stop)
	}
}

// TestScanLiveWhileWriting reads again and again while workers record:
// each read sees every key once.
func TestScanLiveWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	r := mustOpen(t, path)
	if err := r.Compact(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 300 {
				key := fmt.Sprintf("k%d", (w*300+i)%400)
				if err := r.Record(Entry{Key: key, Status: Succeeded}); err != nil {
					t.Errorf("Record = %v", err)
					return
				}
				if i%100 == 0 && w == 0 {
					if err := r.Compact(); err != nil {
						t.Errorf("Compact = %v", err)
					}
				}
			}
		})
	}
	for range 20 {
		seen := map[string]bool{}
		if _, err := ScanLive(path, func(e Entry) error {
			if seen[e.Key] {
				t.Errorf("%q given twice", e.Key)
			}
			seen[e.Key] = true
			return nil
		}); err != nil {
			t.Fatalf("ScanLive = %v", err)
		}
	}
	wg.Wait()
	mustClose(t, r, true)
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.Symlink("b.json", filepath.Join(dir, "a.json"))
	os.Symlink(filepath.Join(dir, "sub", "c.json"), filepath.Join(dir, "b.json"))
	os.Symlink("loop2.json", filepath.Join(dir, "loop1.json"))
	os.Symlink("loop1.json", filepath.Join(dir, "loop2.json"))
	os.Symlink("sub", filepath.Join(dir, "subdir"))
	tests := []struct {
		path, want string
	}{
		{filepath.Join(dir, "plain.json"), filepath.Join(real, "plain.json")},
		{filepath.Join(dir, "a.json"), filepath.Join(real, "sub", "c.json")}, // two links, the target's folder made
		{filepath.Join(dir, "subdir", "d.json"), filepath.Join(real, "sub", "d.json")},
		{filepath.Join(dir, "new", "..", "e.json"), filepath.Join(real, "e.json")},
		{filepath.Join(dir, "loop1.json"), ""},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.path)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Resolve(%q) = %q, want an error", tt.path, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
}
