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

// syncInventory is a COS inventory laid out as COS writes it: the manifest
// in a DATE folder, the data files in the sibling folder data/.
type syncInventory struct {
	manifestKey string              // cos_bucket_inventory/…/daily/20261120/manifest.json
	dataKeys    []string            // the data files' keys, in manifest order
	keysOf      map[string][]string // each data file's object keys
	files       map[string][]byte   // data files (and the manifest once built) by key
	sums        map[string]string   // each data file's true md5
}

// newSyncInventory spreads keys over three gzip CSV data files; the
// manifest says md5s[key] for a data file when it is set (a wrong md5).
func newSyncInventory(t *testing.T, keys []string, md5s map[int]string) *syncInventory {
	t.Helper()
	const inv = "cos_bucket_inventory/1250000000/demo/daily/"
	s := &syncInventory{manifestKey: inv + "20261120/manifest.json", keysOf: map[string][]string{}, files: map[string][]byte{}, sums: map[string]string{}}
	type file struct {
		Key         string `json:"key"`
		Size        string `json:"size"`
		MD5Checksum string `json:"md5Checksum"`
	}
	var list []file
	for f := 0; f < 3; f++ {
		name := fmt.Sprintf("%sdata/6f1c%04d-2b3e-4c1d-9a7e-5b8f0e4d%04d.csv.gz", inv, f, f)
		var csvBuf bytes.Buffer
		for i := f; i < len(keys); i += 3 {
			fmt.Fprintf(&csvBuf, "\"1250000000\",\"demo\",\"%s\",\"%d\",\"2026-01-01T00:00:00.000Z\",\"\"\"abc\"\"\",\"STANDARD\",\"false\",\"\"\n", url.QueryEscape(keys[i]), i)
			s.keysOf[name] = append(s.keysOf[name], keys[i])
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(csvBuf.Bytes())
		zw.Close()
		sum := md5.Sum(gz.Bytes())
		s.sums[name] = hex.EncodeToString(sum[:])
		s.files[name] = gz.Bytes()
		s.dataKeys = append(s.dataKeys, name)
		say := s.sums[name]
		if m, ok := md5s[f]; ok {
			say = m
		}
		list = append(list, file{Key: name, Size: fmt.Sprint(gz.Len()), MD5Checksum: say})
	}
	m, err := json.MarshalIndent(map[string]any{
		"sourceAppid": "1250000000", "sourceBucket": "demo", "destinationAppid": "1250000000", "destinationBucket": "demo",
		"fileFormat": "CSV", "listObjectCount": fmt.Sprint(len(keys)), "filterObjectCount": fmt.Sprint(len(keys)),
		"fileSchema": "Appid, Bucket, Key, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, ReplicationStatus",
		"files":      list,
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	s.files[s.manifestKey] = m
	return s
}

// source puts the inventory where the run reads it: in the emulator's
// bucket (a cos:// URL), or on disk as a sync of the prefix
// cos_bucket_inventory/ into a folder makes it.
func (s *syncInventory) source(t *testing.T, srv *emulator.Server, remote bool) string {
	t.Helper()
	if remote {
		for key, b := range s.files {
			srv.PutObject(key, b, time.Now())
		}
		return "cos://" + emulatorBucket + "/" + s.manifestKey
	}
	root := t.TempDir()
	for key, b := range s.files {
		p := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(key, "cos_bucket_inventory/")))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(s.manifestKey, "cos_bucket_inventory/")))
}

// spoolsLeft lists the files left in the folder that TMPDIR names.
func spoolsLeft(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestInventorySyncLayout: a local copy of an inventory, as a sync of its
// COS prefix lays it out (DATE/manifest.json beside data/), is found and
// triggered whole.
func TestInventorySyncLayout(t *testing.T) {
	srv, url := testEmulator(t, emulator.Faults{})
	keys := oddKeys(300)
	path := newSyncInventory(t, keys, nil).source(t, srv, false)
	reportPath := filepath.Join(t.TempDir(), "r.json")
	code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", path)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	checkExactlyOnce(t, srv, keys, reportPath)
}

// TestInventoryMD5MismatchTriggersNoneOfIt: a data file whose md5 is not
// the manifest's has none of its objects triggered (counted at the
// emulator); the run stops there, exit 3, naming the file and both md5s.
// Once the manifest is right, the same command finishes the rest, each
// object once.
func TestInventoryMD5MismatchTriggersNoneOfIt(t *testing.T) {
	for _, remote := range []bool{false, true} {
		t.Run(fmt.Sprintf("remote=%v", remote), func(t *testing.T) {
			spools := t.TempDir()
			t.Setenv("TMPDIR", spools)
			srv, url := testEmulator(t, emulator.Faults{})
			keys := oddKeys(300)
			wrong := strings.Repeat("0", 32)
			inv := newSyncInventory(t, keys, map[int]string{1: wrong})
			src := inv.source(t, srv, remote)
			reportPath := filepath.Join(t.TempDir(), "r.json")
			args := runArgs(url, reportPath, "--manifest", src)
			code, stdout, stderr := wftrigger(t, args...)
			bad := inv.dataKeys[1]
			if code != 3 {
				t.Fatalf("exit %d, want 3\n%s%s", code, stdout, stderr)
			}
			for _, want := range []string{bad, "md5 mismatch", wrong, inv.sums[bad]} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, stderr)
				}
			}
			counts := srv.TriggerCounts()
			for f, name := range inv.dataKeys {
				triggered := 0
				for _, k := range inv.keysOf[name] {
					n := counts[emulator.TriggerKey{WorkflowID: emulatorWorkflow, Key: k}]
					if n > 1 {
						t.Errorf("%q triggered %d times", k, n)
					}
					triggered += n
				}
				if f > 0 && triggered != 0 {
					t.Errorf("%d objects of data file %d (%s) triggered, want 0: it is after the mismatch, or is the bad one", triggered, f, name)
				}
			}
			if left := spoolsLeft(t, spools); len(left) > 0 {
				t.Errorf("temporary files left in TMPDIR: %v", left)
			}

			// The manifest fixed, the same command resumes and finishes.
			fixed := newSyncInventory(t, keys, nil)
			if remote {
				srv.PutObject(fixed.manifestKey, fixed.files[fixed.manifestKey], time.Now())
			} else if err := os.WriteFile(src, fixed.files[fixed.manifestKey], 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr = wftrigger(t, args...)
			if code != 0 {
				t.Fatalf("rerun: exit %d\n%s%s", code, stdout, stderr)
			}
			checkExactlyOnce(t, srv, keys, reportPath)
		})
	}
}

// TestInventoryBadFirstFileExits2: a first data file that fails its md5
// stops the run before anything is triggered, exit 2.
func TestInventoryBadFirstFileExits2(t *testing.T) {
	for _, remote := range []bool{false, true} {
		t.Run(fmt.Sprintf("remote=%v", remote), func(t *testing.T) {
			spools := t.TempDir()
			t.Setenv("TMPDIR", spools)
			srv, url := testEmulator(t, emulator.Faults{})
			inv := newSyncInventory(t, oddKeys(30), map[int]string{0: strings.Repeat("f", 32)})
			reportPath := filepath.Join(t.TempDir(), "r.json")
			code, stdout, stderr := wftrigger(t, runArgs(url, reportPath, "--manifest", inv.source(t, srv, remote))...)
			if code != 2 || !strings.Contains(stderr, inv.dataKeys[0]+": md5 mismatch") {
				t.Fatalf("exit %d, want 2 naming %s and its md5 mismatch\n%s%s", code, inv.dataKeys[0], stdout, stderr)
			}
			if n := len(srv.Triggers()); n != 0 {
				t.Errorf("%d objects triggered, want 0", n)
			}
			if left := spoolsLeft(t, spools); len(left) > 0 {
				t.Errorf("temporary files left in TMPDIR: %v", left)
			}
		})
	}
}
