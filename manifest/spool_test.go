package manifest

import (
	"bytes"
	"crypto/md5"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpool copies a reader into a temporary file that holds its bytes and
// md5, and leaves nothing behind in its folder once closed.
func TestSpool(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 100_000) // 1.6 MB: several copy buffers
	f, n, sum, err := spool(dir, bytes.NewReader(data), -1)
	if err != nil {
		t.Fatal(err)
	}
	if want := md5.Sum(data); n != int64(len(data)) || !bytes.Equal(sum, want[:]) {
		t.Errorf("spool = %d bytes, md5 %x; want %d, %x", n, sum, len(data), want)
	}
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("the spool reads back %d bytes (%v), want the %d copied", len(got), err, len(data))
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	checkNoSpool(t, dir, "after Close")
}

// TestSpoolLimit copies no more than its limit.
func TestSpoolLimit(t *testing.T) {
	f, n, _, err := spool(t.TempDir(), strings.NewReader("0123456789"), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, _ := io.ReadAll(f); n != 4 || string(got) != "0123" {
		t.Errorf("spool with limit 4 = %d bytes %q, want 4 \"0123\"", n, got)
	}
}

// TestSpoolErrors: a reader that fails, or a folder that cannot take the
// copy, is an error naming the folder, and nothing is left on disk.
func TestSpoolErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, _, err := spool(dir, &errReader{data: []byte("some bytes"), err: errBroken}, -1); err == nil || !strings.Contains(err.Error(), errBroken.Error()) || !strings.Contains(err.Error(), dir) {
		t.Errorf("spool of a failing reader = %v, want %v naming %s", err, errBroken, dir)
	}
	checkNoSpool(t, dir, "after a read error")
	missing := filepath.Join(dir, "missing")
	if _, _, _, err := spool(missing, strings.NewReader("x"), -1); err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "TMPDIR") {
		t.Errorf("spool into a missing folder = %v, want an error naming it and TMPDIR", err)
	}
}

// TestSpoolFileCloseRemoves: where a temporary file could not be unlinked
// at once, Close removes it.
func TestSpoolFileCloseRemoves(t *testing.T) {
	dir := t.TempDir()
	tmp, err := os.CreateTemp(dir, "wftrigger-inventory-*.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	f := &spoolFile{File: tmp, name: tmp.Name()}
	if err := f.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	checkNoSpool(t, dir, "after Close")
}

// benchData is 100 MB of bytes that do not compress, like a gzip file.
func benchData(b *testing.B) []byte {
	b.Helper()
	data := make([]byte, 100<<20)
	x := uint64(88172645463325252)
	for i := 0; i+8 <= len(data); i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		for j := 0; j < 8; j++ {
			data[i+j] = byte(x >> (8 * j))
		}
	}
	return data
}

// BenchmarkSpool100MB is the cost of spooling a fetched 100 MB data file
// (copy to a temporary file and md5) before it is parsed:
// go test -run '^$' -bench Spool100MB -benchtime 5x ./manifest
func BenchmarkSpool100MB(b *testing.B) {
	data := benchData(b)
	dir := b.TempDir()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, _, _, err := spool(dir, bytes.NewReader(data), -1)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkHashFile100MB is the cost of hashing a local 100 MB data file
// (in the page cache) before it is parsed:
// go test -run '^$' -bench HashFile100MB -benchtime 5x ./manifest
func BenchmarkHashFile100MB(b *testing.B) {
	data := benchData(b)
	p := filepath.Join(b.TempDir(), "d.csv.gz")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := hashFile(f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
