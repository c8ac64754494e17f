package report

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// BenchmarkRecord records from 16 goroutines at once.
func BenchmarkRecord(b *testing.B) {
	path := filepath.Join(b.TempDir(), "out.json")
	r := mustOpen(b, path)
	b.SetParallelism(16 / runtime.GOMAXPROCS(0))
	var n int64
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			e := Entry{Key: "videos/2026/11/27/object-" + strconv.Itoa(i) + ".mp4", Status: Succeeded, InstanceID: "i6fc7a8b9c0d1e2f3", RequestID: "NjJmZTdhYTVfNDQ0NDVk", Attempts: 1}
			if err := r.Record(e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	n = int64(b.N)
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	r.abandon()
}

func big(t *testing.T) {
	if testing.Short() || os.Getenv("WFTRIGGER_BIG") == "" {
		t.Skip("set WFTRIGGER_BIG=1 to measure")
	}
}

// bigN skips a measurement, as big does, or returns its size: a million,
// or WFTRIGGER_BIG_N.
func bigN(t *testing.T) int {
	big(t)
	n := 1_000_000
	if s := os.Getenv("WFTRIGGER_BIG_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	return n
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// rssBytes is the resident set size of the process.
func rssBytes() int {
	b, _ := os.ReadFile("/proc/self/statm")
	var size, rss int
	fmt.Sscan(string(b), &size, &rss)
	return rss * os.Getpagesize()
}

// TestIndexMemory measures the index: the memory it takes per key admitted.
func TestIndexMemory(t *testing.T) {
	big(t)
	for _, n := range []int{1_000_000, 10_000_000} {
		r, err := Open(Options{Path: filepath.Join(t.TempDir(), "out.json"), Meta: testMeta(), ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		heap0, rss0 := heapInuse(), rssBytes()
		start := time.Now()
		for i := range n {
			r.Admit("", "videos/2026/11/27/object-"+strconv.Itoa(i)+".mp4")
		}
		el := time.Since(start)
		heap, rss := int64(heapInuse())-int64(heap0), rssBytes()-rss0
		tb := r.idx.Bytes()
		t.Logf("%d keys: table %d MB (%.1f bytes/key), Go heap +%d MB, RSS +%d MB (%.1f bytes/key); Admit %v/key",
			n, tb>>20, float64(tb)/float64(n), heap>>20, rss>>20, float64(rss)/float64(n), el/time.Duration(n))
		r.Close(t1, true)
	}
}

// TestRerunSpeed writes a report of N succeeded objects, then measures the
// rerun: Open, Admit every key (all Done), Close.
func TestRerunSpeed(t *testing.T) {
	n := bigN(t)
	path := filepath.Join(t.TempDir(), "out.json")
	start := time.Now()
	r := mustOpen(t, path)
	const batch = 64
	errs := make(chan error, batch)
	for i := 0; i < n; i += batch {
		for j := i; j < i+batch && j < n; j++ {
			go func() {
				errs <- r.Record(Entry{Key: fmt.Sprintf("videos/2026/11/27/object-%d.mp4", j), Status: Succeeded, InstanceID: "i6fc7a8b9c0d1e2f3", RequestID: "NjJmZTdhYTVfNDQ0NDVk", Attempts: 1})
			}()
		}
		for j := i; j < i+batch && j < n; j++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("first run: %d records in %v", n, time.Since(start))
	start = time.Now()
	mustClose(t, r, true)
	st, _ := os.Stat(path)
	t.Logf("first Close (compaction of %d): %v, report %d MB", n, time.Since(start), st.Size()>>20)

	start = time.Now()
	r = mustOpen(t, path)
	opened := time.Since(start)
	for i := range n {
		if p := r.Admit("", fmt.Sprintf("videos/2026/11/27/object-%d.mp4", i)); p.State != Done {
			t.Fatalf("Admit(%d) = %v", i, p.State)
		}
	}
	admitted := time.Since(start)
	mustClose(t, r, true)
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	t.Logf("rerun of %d: Open %v, +Admit %v, +Close %v; heap in use %d MB, sys %d MB", n, opened, admitted, time.Since(start), m.HeapInuse>>20, m.Sys>>20)
}

// BenchmarkRecordDispatched records as a run does, from 16 goroutines at
// once: a dispatched record before each call, then its result.
func BenchmarkRecordDispatched(b *testing.B) {
	path := filepath.Join(b.TempDir(), "out.json")
	r := mustOpen(b, path)
	b.SetParallelism(16 / runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			key := "videos/2026/11/27/object-" + strconv.Itoa(i) + ".mp4"
			if err := r.Record(Entry{Key: key, Status: Dispatched, Attempts: 1}); err != nil {
				b.Error(err)
				return
			}
			if err := r.Record(Entry{Key: key, Status: Succeeded, InstanceID: "i6fc7a8b9c0d1e2f3", RequestID: "NjJmZTdhYTVfNDQ0NDVk", Attempts: 1}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	r.abandon()
}

// TestScanLiveMemory reads a report of N entries with a journal of N/2
// more, live: the Go heap stays small (the journal's keys are off-heap).
func TestScanLiveMemory(t *testing.T) {
	n := bigN(t)
	path := filepath.Join(t.TempDir(), "out.json")
	r := mustOpen(t, path)
	for i := range n {
		if err := r.Record(Entry{Key: fmt.Sprintf("videos/object-%d.mp4", i), Status: Succeeded, InstanceID: "i6fc7a8b9c0d1e2f3", Attempts: 1}); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, r, true)
	r = mustOpen(t, path)
	for i := n / 2; i < n+n/2; i++ {
		if err := r.Record(Entry{Key: fmt.Sprintf("videos/object-%d.mp4", i), Status: Failed, Error: &Error{Code: "X", Message: "x"}}); err != nil {
			t.Fatal(err)
		}
	}
	heap0 := heapInuse()
	var peak uint64
	count := 0
	start := time.Now()
	_, err := ScanLive(path, func(Entry) error {
		if count++; count%100_000 == 0 {
			peak = max(peak, heapInuse())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ScanLive of %d entries (%d in the journal) in %v: Go heap peak +%d MB", count, n, time.Since(start), (int64(peak)-int64(heap0))>>20)
	if count != n+n/2 {
		t.Errorf("ScanLive gave %d entries, want %d", count, n+n/2)
	}
	r.abandon()
}
