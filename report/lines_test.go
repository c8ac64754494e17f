package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/report/internal/logstore"
)

// TestCompactionMarks: compactions that trust the Lines marks write the
// same reports, byte for byte, as compactions that read every record again
// (Options.readEvery): over random histories of records (admitted or not,
// second triggers of failed executions, job lines among them), runs killed
// and closed and reopened, and compactions while records are written,
// which must keep the entries of their snapshot that those records
// replace.
func TestCompactionMarks(t *testing.T) {
	for seed := range 40 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			dir := t.TempDir()
			retry := seed%2 == 0
			runs := [2]*marksRun{
				{t: t, path: filepath.Join(dir, "marks", "r.json"), retry: retry},
				{t: t, path: filepath.Join(dir, "every", "r.json"), retry: retry, readEvery: true},
			}
			for _, m := range runs {
				m.open()
			}
			var h history
			for range 60 {
				switch op := rng.IntN(11); {
				case op < 6:
					for range rng.IntN(4) {
						key := fmt.Sprintf("k%d", rng.IntN(40))
						for _, m := range runs {
							m.r.Admit("", key)
						}
					}
					es := h.entries(rng)
					for _, m := range runs {
						mustRecordAll(t, m.r, es)
					}
				case op == 6:
					for _, m := range runs {
						if err := m.r.RecordJob(Job{Name: fmt.Sprint("job", h.n)}); err != nil {
							t.Fatal(err)
						}
					}
				case op < 9:
					// Records written while the compaction reads the journal:
					// after its snapshot, replacing entries it holds.
					during := h.entries(rng)
					for _, m := range runs {
						m.compact(func() { mustRecordAll(t, m.r, during) })
					}
					sameFiles(t, runs)
				case op == 9:
					for _, m := range runs {
						m.r.abandon() // kill -9: the next Open reads the journal
						m.open()
					}
				default:
					complete := rng.IntN(2) == 0
					for _, m := range runs {
						mustClose(t, m.r, complete)
						m.open()
					}
					sameFiles(t, runs)
				}
			}
			for _, m := range runs {
				mustClose(t, m.r, true)
			}
			sameFiles(t, runs)
		})
	}
}

// TestCompactionMarksKeepSnapshot: an entry a compaction's snapshot holds
// is written by it even when a record replaces it while it runs (its
// record is marked Dead only once the compaction ends), and the next
// compaction writes the new one.
func TestCompactionMarksKeepSnapshot(t *testing.T) {
	m := &marksRun{t: t, path: filepath.Join(t.TempDir(), "r.json")}
	m.open()
	mustRecord(t, m.r, Entry{Key: "a", Status: Succeeded, InstanceID: "i1"},
		Entry{Key: "b", Status: Dispatched, DispatchedAt: &t0},
		Entry{Key: "c", Status: Failed, Error: &Error{Code: "X", Message: "x"}})
	m.compact(func() {
		mustRecord(t, m.r, Entry{Key: "b", Status: Succeeded, InstanceID: "i2"},
			Entry{Key: "c", Status: Succeeded, InstanceID: "i3"})
	})
	_, got := readBack(t, m.path)
	if len(got) != 3 || got["b"].Status != Failed || !got["b"].Uncertain || got["c"].Status != Failed {
		t.Errorf("compaction with b and c replaced while it ran: %+v, want a succeeded, b uncertain, c failed", got)
	}
	if err := m.r.Compact(); err != nil {
		t.Fatal(err)
	}
	_, got = readBack(t, m.path)
	if len(got) != 3 || got["b"].InstanceID != "i2" || got["c"].InstanceID != "i3" {
		t.Errorf("next compaction: %+v, want b i2 and c i3", got)
	}
	mustClose(t, m.r, true)
}

// marksRun is one report of TestCompactionMarks, reopened as it goes.
type marksRun struct {
	t         *testing.T
	path      string
	readEvery bool
	retry     bool // Options.RetryFailedExecutions
	r         *Report

	mu   sync.Mutex
	hook func() // run once, at the next read of the journal
}

func (m *marksRun) open() {
	m.t.Helper()
	if err := os.MkdirAll(filepath.Dir(m.path), 0o777); err != nil {
		m.t.Fatal(err)
	}
	r, err := Open(Options{Path: m.path, Meta: testMeta(), Now: func() time.Time { return t0 }, readEvery: m.readEvery,
		RetryFailedExecutions: m.retry,
		journalFile:           func(f *os.File) logstore.File { return &hookedJournal{File: f, m: m} }})
	if err != nil {
		m.t.Fatalf("Open(%q) = %v", m.path, err)
	}
	m.r = r
}

// compact compacts, calling during once the compaction reads the journal.
func (m *marksRun) compact(during func()) {
	m.t.Helper()
	m.mu.Lock()
	m.hook = during
	m.mu.Unlock()
	if err := m.r.Compact(); err != nil {
		m.t.Fatalf("Compact = %v", err)
	}
	m.mu.Lock()
	left := m.hook != nil
	m.hook = nil
	m.mu.Unlock()
	if left {
		during() // no journal read (nothing in it): write them after
	}
}

// hookedJournal calls its run's hook at a read.
type hookedJournal struct {
	logstore.File
	m *marksRun
}

func (j *hookedJournal) ReadAt(p []byte, off int64) (int, error) {
	j.m.mu.Lock()
	h := j.m.hook
	j.m.hook = nil
	j.m.mu.Unlock()
	if h != nil {
		h()
	}
	return j.File.ReadAt(p, off)
}

// history draws random records, keeping what a withdrawal needs: only a key
// never recorded before its Dispatched record is withdrawn.
type history struct {
	recorded map[string]bool
	n        int
}

func (h *history) entries(rng *rand.Rand) []Entry {
	if h.recorded == nil {
		h.recorded = map[string]bool{}
	}
	var es []Entry
	for range 1 + rng.IntN(6) {
		h.n++
		key := fmt.Sprintf("k%d", rng.IntN(40))
		e := Entry{Key: key}
		if rng.IntN(5) == 0 {
			e.WorkflowID = "w2"
		}
		id := e.WorkflowID + "/" + key
		switch rng.IntN(8) {
		case 0, 1:
			e.Status, e.DispatchedAt = Dispatched, &t0
			if !h.recorded[id] && rng.IntN(3) == 0 {
				es = append(es, e)
				e = Entry{Key: key, WorkflowID: e.WorkflowID, Status: Withdrawn}
			}
		case 2, 3:
			e.Status, e.InstanceID = Succeeded, fmt.Sprintf("i%d", h.n)
			if rng.IntN(3) == 0 {
				e.Execution = &Execution{State: ExecutionFailed, CheckedAt: t0}
			}
		case 4:
			e.Status, e.Error = Failed, &Error{Code: "X", Message: fmt.Sprint(h.n)}
		case 5:
			e.Status, e.Uncertain, e.DispatchedAt, e.Error = Failed, true, &t0, &Error{Code: "Uncertain", Message: "lost"}
		case 6:
			e = Entry{Key: key, Status: Invalid, File: "objects.csv", Line: 1 + rng.IntN(5), Error: &Error{Code: "BadKey", Message: "bad"}}
		case 7:
			// A deliberate second trigger: it follows a success.
			e.Status, e.DispatchedAt = Dispatched, &t0
			e.History = []Instance{{InstanceID: fmt.Sprintf("old%d", h.n)}}
		}
		h.recorded[id] = h.recorded[id] || e.Status != Withdrawn
		es = append(es, e)
	}
	return es
}

func mustRecordAll(t *testing.T, r *Report, es []Entry) {
	t.Helper()
	if err := r.RecordAll(es); err != nil {
		t.Fatalf("RecordAll = %v", err)
	}
}

// sameFiles checks that both reports are valid and the same bytes.
func sameFiles(t *testing.T, runs [2]*marksRun) {
	t.Helper()
	var files [2][]byte
	for i, m := range runs {
		readBack(t, m.path)
		b, err := os.ReadFile(m.path)
		if err != nil {
			t.Fatal(err)
		}
		files[i] = b
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatalf("trusting the marks wrote\n%s\nreading every record wrote\n%s", files[0], files[1])
	}
}

// TestCompactionCountsAsLoad: a compaction counts the seqs of records as
// Open did, or every mark and seq after a difference would name another
// record (found by review: a raw dispatched object written, a success
// dropped). A last journal line refused after it was indexed (a bad
// history) took a seq; an object of the report that begins with "job"
// took one at Open and none in compactions.
func TestCompactionCountsAsLoad(t *testing.T) {
	edits := map[string]func(t *testing.T, path string){
		"bad history on the last journal line": func(t *testing.T, path string) {
			f, err := os.OpenFile(path+".journal", os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString(`{"key":"z","status":"succeeded","history":[1]}` + "\n"); err != nil {
				t.Fatal(err)
			}
		},
		"report object that begins with job": func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b = bytes.Replace(b, []byte(`"objects": [`), []byte(`"objects": [`+"\n    "+`{"job":{"name":"x"},"key":"q","status":"succeeded","instanceId":"iq"},`), 1)
			if err := os.WriteFile(path, b, 0o666); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			runs := [2]*marksRun{
				{t: t, path: filepath.Join(dir, "marks", "r.json")},
				{t: t, path: filepath.Join(dir, "every", "r.json"), readEvery: true},
			}
			for _, m := range runs {
				m.open()
				mustRecord(t, m.r, Entry{Key: "a", Status: Succeeded, InstanceID: "i1"})
				if strings.Contains(name, "journal") {
					m.r.abandon()
				} else {
					mustClose(t, m.r, false)
				}
				edit(t, m.path)
				m.open()
				mustRecord(t, m.r, Entry{Key: "b", Status: Dispatched, DispatchedAt: &t0},
					Entry{Key: "b", Status: Succeeded, InstanceID: "i2"})
				if err := m.r.Compact(); err != nil {
					t.Fatalf("Compact = %v", err)
				}
			}
			sameFiles(t, runs)
			_, got := readBack(t, runs[0].path)
			want := map[string]string{"a": "i1", "b": "i2"}
			if strings.Contains(name, "job") {
				want["q"] = "iq"
			}
			if len(got) != len(want) {
				t.Errorf("report after the edit: %+v, want %v", got, want)
			}
			for k, id := range want {
				if got[k].Status != Succeeded || got[k].InstanceID != id {
					t.Errorf("report after the edit: %s = %+v, want succeeded %s", k, got[k], id)
				}
			}
			for _, m := range runs {
				mustClose(t, m.r, true)
			}
			sameFiles(t, runs)
		})
	}
}

// TestCompactionRefusesMissingRecords: a journal cut short under a running
// report (here by truncate(1)) holds fewer records than the index: the
// compaction fails, naming the journal, and writes no report that would
// lack them.
func TestCompactionRefusesMissingRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	r := mustOpen(t, path)
	mustRecord(t, r, Entry{Key: "a", Status: Succeeded, InstanceID: "i1"})
	if err := r.Compact(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mustRecord(t, r, Entry{Key: "b", Status: Succeeded, InstanceID: "i2"}, Entry{Key: "c", Status: Succeeded, InstanceID: "i3"})
	st, err := os.Stat(path + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path+".journal", st.Size()-1); err != nil { // c's line torn
		t.Fatal(err)
	}
	if err := r.Compact(); err == nil || !strings.Contains(err.Error(), path+".journal") {
		t.Errorf("Compact of a journal cut short = %v, want an error naming the journal", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Errorf("report after the failed compaction:\n%s\nwant it as it was:\n%s", after, before)
	}
	r.abandon()
}
