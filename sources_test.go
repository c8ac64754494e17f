package main

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
)

// TestListingPrefix lists 5,000 keys under a prefix in pages of 1,000 (with
// others beside it that must not be touched), with and without listing
// faults.
func TestListingPrefix(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults emulator.Faults
	}{
		{"clean", emulator.Faults{}},
		{"listing faults", emulator.Faults{ErrorRate: 0.2, SlowDownRate: 0.1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, url := testEmulator(t, emulator.Faults{})
			srv.SetFaults(emulator.Faults{}, tt.faults)
			var inside []string
			at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
			for i, k := range oddKeys(5000) {
				k = "in/" + k
				inside = append(inside, k)
				srv.PutObject(k, nil, at.Add(time.Duration(i)*time.Second))
			}
			srv.PutObject("in/folder/", nil, at) // a placeholder: skipped
			for i := 0; i < 300; i++ {
				srv.PutObject(fmt.Sprintf("out/%d.mp4", i), nil, at)
				srv.PutObject(fmt.Sprintf("im/%d.mp4", i), nil, at)
			}
			reportPath := filepath.Join(t.TempDir(), "r.json")
			code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--prefix", "in/", "--max-attempts", "10")...)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			checkExactlyOnce(t, srv, inside, reportPath)
			if s := srv.Stats(); s.Lists < 5 {
				t.Errorf("%d listing requests, want at least 5 pages", s.Lists)
			}
			if r := readReport(t, reportPath); r.Source != "prefix in/" {
				t.Errorf("report source %q, want %q", r.Source, "prefix in/")
			}
		})
	}
}

func TestListingFilters(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	recent := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	srv.PutObject("v/old.mp4", nil, old)
	srv.PutObject("v/new.mp4", nil, recent)
	srv.PutObject("v/new.MOV", nil, recent)
	srv.PutObject("v/new.txt", nil, recent)
	reportPath := filepath.Join(t.TempDir(), "r.json")
	code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--prefix", "v/", "--suffix", ".mp4,.mov", "--modified-after", "2026-01-01")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	checkExactlyOnce(t, srv, []string{"v/new.mp4", "v/new.MOV"}, reportPath)
}

func TestListingFailsForGood(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	for i := 0; i < 2500; i++ {
		srv.PutObject(fmt.Sprintf("in/%05d.mp4", i), nil, time.Now())
	}
	srv.SetFaults(emulator.Faults{}, emulator.Faults{ErrorRate: 1})
	reportPath := filepath.Join(t.TempDir(), "r.json")
	code, _, stderr := wftrigger(t, runArgs(url, reportPath, "--prefix", "in/", "--max-attempts", "2")...)
	if code != 3 || !strings.Contains(stderr, "InternalError") {
		t.Fatalf("exit %d, want 3 with the listing's error\n%s", code, stderr)
	}
	if _, err := os.Stat(reportPath); err != nil {
		t.Errorf("no resumable report after a failed listing: %v", err)
	}
}

// TestShardsCoverEveryKeyOnce runs four shards of one manifest: together
// they trigger every key exactly once.
func TestShardsCoverEveryKeyOnce(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	keys := oddKeys(1000)
	writeCSV(t, filepath.Join(dir, "keys.csv"), keys)
	for i := 0; i < 4; i++ {
		code, stdout, stderr := wftrigger(t, runArgs(url, filepath.Join(dir, fmt.Sprintf("r%d.json", i)), "--manifest", filepath.Join(dir, "keys.csv"), "--shard", fmt.Sprintf("%d/4", i))...)
		if code != 0 {
			t.Fatalf("shard %d: exit %d\n%s%s", i, code, stdout, stderr)
		}
		if n := readReport(t, filepath.Join(dir, fmt.Sprintf("r%d.json", i))).Summary.Total; n < 200 || n > 300 {
			t.Errorf("shard %d has %d keys of 1000, want about 250", i, n)
		}
	}
	counts := srv.TriggerCounts()
	for _, k := range keys {
		if n := counts[emulator.TriggerKey{WorkflowID: emulatorWorkflow, Key: k}]; n != 1 {
			t.Errorf("%q triggered %d times over the shards, want 1", k, n)
		}
	}
}

func TestLimit(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	dir := t.TempDir()
	writeCSV(t, filepath.Join(dir, "keys.csv"), oddKeys(100))
	code, _, stderr := wftrigger(t, runArgs(url, filepath.Join(dir, "r.json"), "--manifest", filepath.Join(dir, "keys.csv"), "--limit", "7")...)
	if code != 0 || len(srv.Triggers()) != 7 {
		t.Fatalf("exit %d with %d triggers, want 0 and 7\n%s", code, len(srv.Triggers()), stderr)
	}
}

// inventory writes a COS inventory (manifest.json and three gzip CSV data
// files) of keys into dir and returns the manifest's path and the files'
// bytes by name.
func inventory(t *testing.T, dir string, keys []string, modified func(i int) time.Time) (string, map[string][]byte) {
	t.Helper()
	files := map[string][]byte{}
	type file struct {
		Key         string `json:"key"`
		Size        string `json:"size"`
		MD5Checksum string `json:"md5Checksum"`
	}
	var list []file
	prefix := "cos_bucket_inventory/1250000000/demo/daily/20261120/data/"
	for f := 0; f < 3; f++ {
		var csvBuf bytes.Buffer
		for i := f; i < len(keys); i += 3 {
			fmt.Fprintf(&csvBuf, "\"1250000000\",\"demo\",\"%s\",\"%d\",\"%s\",\"\"\"abc\"\"\",\"STANDARD\",\"false\",\"\"\n",
				url.QueryEscape(keys[i]), 1000+i, modified(i).Format("2006-01-02T15:04:05.000Z"))
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(csvBuf.Bytes())
		zw.Close()
		name := fmt.Sprintf("%sfile-%d.csv.gz", prefix, f)
		files[name] = gz.Bytes()
		sum := md5.Sum(gz.Bytes())
		list = append(list, file{Key: name, Size: fmt.Sprint(gz.Len()), MD5Checksum: hex.EncodeToString(sum[:])})
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := json.MarshalIndent(map[string]any{
		"sourceAppid": "1250000000", "sourceBucket": "demo", "destinationAppid": "1250000000", "destinationBucket": "demo",
		"fileFormat": "CSV", "listObjectCount": fmt.Sprint(len(keys)), "filterObjectCount": fmt.Sprint(len(keys)),
		"fileSchema": "Appid, Bucket, Key, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, ReplicationStatus",
		"files":      list,
	}, "", "  ")
	path := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(path, m, 0o644); err != nil {
		t.Fatal(err)
	}
	files["cos_bucket_inventory/1250000000/demo/daily/20261120/manifest.json"] = m
	return path, files
}

func TestInventory(t *testing.T) {
	keys := oddKeys(900)
	modified := func(i int) time.Time {
		return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%2*400) // odd keys in 2026
	}
	t.Run("local", func(t *testing.T) {
		srv, url := testEmulator(t, emulator.Faults{})
		dir := t.TempDir()
		path, _ := inventory(t, dir, keys, modified)
		code, stdout, stderr := wftrigger(t, runArgs(url, filepath.Join(dir, "r.json"), "--manifest", path)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		checkExactlyOnce(t, srv, keys, filepath.Join(dir, "r.json"))
	})
	t.Run("cos and modified-after", func(t *testing.T) {
		srv, url := testEmulator(t, emulator.Faults{})
		dir := t.TempDir()
		_, files := inventory(t, dir, keys, modified)
		for name, b := range files {
			srv.PutObject(name, b, time.Now())
		}
		src := "cos://" + emulatorBucket + "/cos_bucket_inventory/1250000000/demo/daily/20261120/manifest.json"
		code, stdout, stderr := wftrigger(t, runArgs(url, filepath.Join(dir, "r.json"), "--manifest", src, "--modified-after", "2026-01-01")...)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		var recent []string
		for i, k := range keys {
			if i%2 == 1 {
				recent = append(recent, k)
			}
		}
		checkExactlyOnce(t, srv, recent, filepath.Join(dir, "r.json"))
	})
}
