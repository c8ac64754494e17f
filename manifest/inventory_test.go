package manifest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const invSchema = "Appid, Bucket, Key, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, ReplicationStatus, IsLatest, IsDeleteMarker"

// invData are the three data files of the test inventory.
var invData = []string{
	`"1250000000","media","videos/a.mp4","10","2026-01-02T03:04:05.000Z","""e1""","STANDARD","false","","true","false"
"1250000000","media","videos/b%20c.mp4","10","2026-02-02T03:04:05.000Z","""e2""","STANDARD","false","","true","false"
`,
	`"1250000000","media","videos/old.mp4","10","2025-01-01T00:00:00.000Z","""e3""","STANDARD","false","","false","false"
"1250000000","media","videos/deleted.mp4","0","2026-03-01T00:00:00.000Z","","STANDARD","false","","true","true"
"1250000000","media","media/my+video%2Bfinal+100%25/%E8%A7%86%E9%A2%91+1.mp4","10","2026-03-02T00:00:00Z","""e4""","STANDARD","false","","true","false"
`,
	`"1250000000","media","","0","2026-03-02T00:00:00Z","","STANDARD","false","","true","false"
"1250000000","media","bad%zz","0","2026-03-02T00:00:00Z","","STANDARD","false","","true","false"
"1250000000","media","last.mov","0","not a date","","STANDARD","false","","true","false"
"1250000000","media"
"1250000000","media","x"y"
`,
}

const invWant = `L1 "videos/a.mp4"; L2 "videos/b c.mp4"; L3 "media/my video+final 100%/视频 1.mp4"; L1 "" !EmptyKey; L2 "bad%zz" !BadEncoding; L3 "last.mov"; L4 "" !EmptyKey; L5 "" !BadCSV`

// invFileRows are the rows each data file of the test inventory yields.
var invFileRows = []int{2, 1, 5}

// invSpoiler spoils the data file i of the test inventory: it may change the
// file's bytes and its manifest entry.
type invSpoiler func(i int, data []byte, size, md5 *string) []byte

// wrongMD5 gives data file n a manifest md5 that is not its own.
func wrongMD5(n int) invSpoiler {
	return func(i int, data []byte, _, sum *string) []byte {
		if i == n {
			*sum = strings.Repeat("0", 32)
		}
		return data
	}
}

// inventoryFiles returns the data files of the test inventory, gzipped, by
// key (prefix + "data/a.csv.gz", …), and the manifest.json that lists them.
func inventoryFiles(t testing.TB, prefix string, spoil invSpoiler) (map[string][]byte, []byte) {
	files := map[string][]byte{}
	type file struct {
		Key         string `json:"key"`
		Size        string `json:"size"`
		MD5Checksum string `json:"md5Checksum"`
	}
	var list []file
	for i, d := range invData {
		key := prefix + "data/" + string(rune('a'+i)) + ".csv.gz"
		gz := gzipBytes(t, []byte(d))
		sum := md5.Sum(gz)
		f := file{key, fmt.Sprint(len(gz)), hex.EncodeToString(sum[:])}
		if spoil != nil {
			gz = spoil(i, gz, &f.Size, &f.MD5Checksum)
		}
		files[key] = gz
		list = append(list, f)
	}
	m, err := json.Marshal(map[string]any{
		"sourceAppid": "1250000000", "sourceBucket": "media", "fileFormat": "CSV",
		"listObjectCount": "8", "fileSchema": invSchema, "files": list,
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, m
}

// spoolDir points os.TempDir at a new folder for the spools of the test.
func spoolDir(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	return dir
}

// checkNoSpool fails when a temporary file is left in dir.
func checkNoSpool(t *testing.T, dir, when string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("%s: temporary file %s left in %s", when, e.Name(), dir)
	}
}

// TestInventoryLocal reads a local inventory of three data files in each
// layout its data files may be found in.
func TestInventoryLocal(t *testing.T) {
	const prefix = "cos_bucket_inventory/1250000000/media/inv1/"
	for _, tc := range []struct {
		layout   string
		manifest string                  // its path under the root
		place    func(key string) string // a data file's path under the root
	}{
		{"full key path", "manifest.json", func(k string) string { return k }},
		{"base name", "manifest.json", path.Base},
		{"sync of the inventory prefix", "1250000000/media/inv1/20261127/manifest.json",
			func(k string) string { return strings.TrimPrefix(k, "cos_bucket_inventory/") }},
		{"sync of the inventory folder", "inv1/20261127/manifest.json",
			func(k string) string { return strings.TrimPrefix(k, "cos_bucket_inventory/1250000000/media/") }},
		{"renamed inventory folder", "copy/20261127/manifest.json",
			func(k string) string { return "copy/data/" + path.Base(k) }},
		{"sync of the bucket", prefix + "20261127/manifest.json", func(k string) string { return k }},
		{"key relative to an ancestor", "elsewhere/20261127/manifest.json", func(k string) string { return k }},
	} {
		t.Run(tc.layout, func(t *testing.T) {
			spools := spoolDir(t)
			root := t.TempDir()
			files, m := inventoryFiles(t, prefix, nil)
			for key, b := range files {
				write(t, root, tc.place(key), b)
			}
			mpath := write(t, root, tc.manifest, m)
			src, err := Open(context.Background(), mpath, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if got, want := Name(src), "manifest "+mpath; got != want {
				t.Errorf("Name = %q, want %q", got, want)
			}
			rows := readAll(t, src)
			if got := briefs(rows); got != invWant {
				t.Errorf("rows =\n  %s\nwant\n  %s", got, invWant)
			}
			if want := time.Date(2026, 2, 2, 3, 4, 5, 0, time.UTC); !rows[1].LastModified.Equal(want) {
				t.Errorf("LastModified = %v, want %v", rows[1].LastModified, want)
			}
			if !rows[5].LastModified.IsZero() {
				t.Errorf("LastModified of an unparsable date = %v, want zero", rows[5].LastModified)
			}
			want := "manifest " + mpath + ": inventory file " + prefix + "data/c.csv.gz line 1: empty key"
			if got := rows[3].Invalid.Message; got != want {
				t.Errorf("message = %q, want %q", got, want)
			}
			checkNoSpool(t, spools, "local inventory")
		})
	}
}

// TestInventoryCOS reads an inventory whose data files are fetched: each is
// spooled to a temporary file, which is gone once read.
func TestInventoryCOS(t *testing.T) {
	spools := spoolDir(t)
	prefix := "cos_bucket_inventory/1250000000/media/inv1/"
	files, m := inventoryFiles(t, prefix, nil)
	files[prefix+"20261127/manifest.json"] = m
	g := &countingGetter{g: mapGetter(files)}
	src, err := Open(context.Background(), "cos://dest-1250000000/"+prefix+"20261127/manifest.json", Options{Getter: g})
	if err != nil {
		t.Fatal(err)
	}
	if got := briefs(readAll(t, src)); got != invWant {
		t.Errorf("rows =\n  %s\nwant\n  %s", got, invWant)
	}
	if err := src.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	checkNoSpool(t, spools, "after Close")
	if g.gets != 4 || g.open != 0 {
		t.Errorf("%d GetObject calls with %d bodies left open, want 4 (manifest and 3 data files) and 0", g.gets, g.open)
	}
}

// countingGetter counts the objects fetched and the bodies not closed.
type countingGetter struct {
	g          Getter
	gets, open int
}

func (c *countingGetter) GetObject(ctx context.Context, key string) (io.ReadCloser, error) {
	body, err := c.g.GetObject(ctx, key)
	if err != nil {
		return nil, err
	}
	c.gets++
	c.open++
	return &countedBody{body, c}, nil
}

type countedBody struct {
	io.ReadCloser
	c *countingGetter
}

func (b *countedBody) Close() error { b.c.open--; return b.ReadCloser.Close() }

// openInventory opens the test inventory, spoiled, local or fetched.
func openInventory(t *testing.T, remote bool, spoil invSpoiler) (Source, string, error) {
	t.Helper()
	files, m := inventoryFiles(t, "", spoil)
	if remote {
		files["manifest.json"] = m
		label := "cos://dest-1250000000/manifest.json"
		src, err := Open(context.Background(), label, Options{Getter: mapGetter(files)})
		return src, "manifest " + label, err
	}
	dir := t.TempDir()
	for key, b := range files {
		write(t, dir, key, b)
	}
	p := write(t, dir, "manifest.json", m)
	src, err := Open(context.Background(), p, Options{})
	return src, "manifest " + p, err
}

// TestInventoryMD5Mismatch: a data file whose md5 is not the manifest's
// yields none of its rows; the source's error names it, with both md5s.
func TestInventoryMD5Mismatch(t *testing.T) {
	for _, remote := range []bool{false, true} {
		t.Run(fmt.Sprintf("remote=%v", remote), func(t *testing.T) {
			spools := spoolDir(t)
			files, _ := inventoryFiles(t, "", nil)
			sum := md5.Sum(files["data/b.csv.gz"])
			src, label, err := openInventory(t, remote, wrongMD5(1))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			rows, err := readAllErr(src)
			want := label + ": inventory file data/b.csv.gz: md5 mismatch: the manifest says " + strings.Repeat("0", 32) +
				", the file's md5 is " + hex.EncodeToString(sum[:])
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("Next error = %v, want %s…", err, want)
			}
			for _, r := range rows {
				if r.File != "data/a.csv.gz" {
					t.Errorf("row %s of %s came out; want only rows of data/a.csv.gz, before the bad file", brief(r), r.File)
				}
			}
			if len(rows) != invFileRows[0] {
				t.Errorf("rows before the mismatch = %d, want the %d of the first file", len(rows), invFileRows[0])
			}
			if _, err2 := src.Next(context.Background()); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Next after the error = %v, want %v again", err2, err)
			}
			checkNoSpool(t, spools, "after the mismatch")
			src.Close()
			checkNoSpool(t, spools, "after Close")
		})
	}
}

// TestInventoryBadFirstFile: the first data file is checked by Open, so
// that a run stops before it triggers anything.
func TestInventoryBadFirstFile(t *testing.T) {
	for _, remote := range []bool{false, true} {
		t.Run(fmt.Sprintf("remote=%v", remote), func(t *testing.T) {
			spools := spoolDir(t)
			src, label, err := openInventory(t, remote, wrongMD5(0))
			if err == nil {
				src.Close()
				t.Fatal("Open = nil error, want the md5 mismatch of data/a.csv.gz")
			}
			if want := label + ": inventory file data/a.csv.gz: md5 mismatch: the manifest says " + strings.Repeat("0", 32); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Open error = %v, want %s…", err, want)
			}
			checkNoSpool(t, spools, "after Open failed")
		})
	}
}

// TestInventorySizeMismatch: a data file of another size than the
// manifest's is refused before any of its rows, larger or smaller, and a
// larger fetched one is not copied beyond its announced size.
func TestInventorySizeMismatch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil invSpoiler
		has   string
	}{
		{"truncated", func(i int, data []byte, _, _ *string) []byte {
			if i == 1 {
				return data[:len(data)-3]
			}
			return data
		}, "the file has %d bytes"},
		{"longer", func(i int, data []byte, _, _ *string) []byte {
			if i == 1 {
				return append(data, make([]byte, 100)...)
			}
			return data
		}, "the file has %d bytes"},
	} {
		for _, remote := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s remote=%v", tc.name, remote), func(t *testing.T) {
				spools := spoolDir(t)
				good, _ := inventoryFiles(t, "", nil)
				size := len(good["data/b.csv.gz"])
				bad, _ := inventoryFiles(t, "", tc.spoil)
				has := fmt.Sprintf(tc.has, len(bad["data/b.csv.gz"]))
				if remote && len(bad["data/b.csv.gz"]) > size {
					has = fmt.Sprintf("the file has more than %d bytes", size)
				}
				src, label, err := openInventory(t, remote, tc.spoil)
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close()
				rows, err := readAllErr(src)
				want := fmt.Sprintf("%s: inventory file data/b.csv.gz: size mismatch: the manifest says %d bytes, %s", label, size, has)
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("Next error = %v, want %s…", err, want)
				}
				if len(rows) != invFileRows[0] {
					t.Errorf("rows before the mismatch = %d, want the %d of the first file", len(rows), invFileRows[0])
				}
				checkNoSpool(t, spools, "after the mismatch")
			})
		}
	}
}

// TestInventoryChecksOptional: a manifest without size or md5Checksum
// still reads (there is nothing to check the file against).
func TestInventoryChecksOptional(t *testing.T) {
	src, _, err := openInventory(t, true, func(_ int, data []byte, size, sum *string) []byte {
		*size, *sum = "", ""
		return data
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := briefs(readAll(t, src)); got != invWant {
		t.Errorf("rows =\n  %s\nwant\n  %s", got, invWant)
	}
}

// TestFindDataFileTells: a data file that is nowhere says where it was
// looked for: beside the manifest, under the sibling data/ folder and
// relative to every ancestor.
func TestFindDataFileTells(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "1250000000", "media", "inv1", "20261127")
	key := "cos_bucket_inventory/1250000000/media/inv1/data/u.csv.gz"
	_, err := findDataFile(dir, key)
	if err == nil {
		t.Fatal("findDataFile = nil error")
	}
	for _, p := range []string{
		filepath.Join(dir, filepath.FromSlash(key)),
		filepath.Join(dir, "u.csv.gz"),
		filepath.Join(root, "1250000000", "media", "inv1", "data", "u.csv.gz"),
		filepath.Join(root, filepath.FromSlash(key)),
		filepath.Join("/", filepath.FromSlash(key)),
	} {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name %s", err, p)
		}
	}
	if n := strings.Count(err.Error(), filepath.Join(root, "1250000000", "media", "inv1", "data", "u.csv.gz")); n != 1 {
		t.Errorf("error names the sibling data/ path %d times, want once: %s", n, err)
	}
}

func TestInventoryOpenErrors(t *testing.T) {
	tests := []struct {
		name, manifest, want string
	}{
		{"not JSON", "hello", "not a COS inventory manifest.json: invalid character"},
		{"no files", `{"fileSchema":"Key"}`, `not a COS inventory manifest.json: no "files"`},
		{"no fileSchema", `{"files":[]}`, `not a COS inventory manifest.json: no "fileSchema"`},
		{"no Key column", `{"fileSchema":"Bucket, Size","files":[]}`, `inventory fileSchema "Bucket, Size" has no Key column`},
		{"not CSV", `{"fileFormat":"ORC","fileSchema":"Key","files":[]}`, `inventory fileFormat "ORC" is not supported`},
		{"missing data file", `{"fileSchema":"Key","files":[{"key":"data/x.csv.gz"}]}`, "inventory file data/x.csv.gz: not found (looked for "},
		{"empty key", `{"fileSchema":"Key","files":[{"key":""}]}`, `inventory file with an empty "key"`},
		{"bad size", `{"fileSchema":"Key","files":[{"key":"d.csv.gz","size":"12 bytes"}]}`, `inventory file d.csv.gz: size "12 bytes" is not a number of bytes`},
		{"negative size", `{"fileSchema":"Key","files":[{"key":"d.csv.gz","size":-1}]}`, `inventory file d.csv.gz: size -1 is not a number of bytes`},
		{"bad md5", `{"fileSchema":"Key","files":[{"key":"d.csv.gz","md5Checksum":"abc"}]}`, `inventory file d.csv.gz: md5Checksum "abc" is not an md5 (32 hex digits)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, t.TempDir(), "manifest.json", []byte(tc.manifest))
			src, err := Open(context.Background(), p, Options{})
			if err == nil {
				src.Close()
				t.Fatalf("Open(%s) = nil error, want %q", tc.manifest, tc.want)
			}
			if want := "manifest " + p + ": " + tc.want; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Open(%s) = %q, want %q…", tc.manifest, err, want)
			}
		})
	}
}

func TestInventoryEmpty(t *testing.T) {
	p := write(t, t.TempDir(), "manifest.json", []byte(`{"fileSchema":"Key","files":[]}`))
	src, err := Open(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rows := readAll(t, src); len(rows) != 0 {
		t.Errorf("rows = %s, want none", briefs(rows))
	}
}

// TestInventoryCorruptDataFile: a first data file that is not gzip fails
// Open; a later one fails the source where it comes.
func TestInventoryCorruptDataFile(t *testing.T) {
	for _, tc := range []struct {
		name, manifest string
		openErr        bool
	}{
		{"first", `{"fileSchema":"Key","files":[{"key":"d.csv.gz"}]}`, true},
		{"second", `{"fileSchema":"Key","files":[{"key":"ok.csv.gz"},{"key":"d.csv.gz"}]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spools := spoolDir(t)
			g := mapGetter{
				"manifest.json": []byte(tc.manifest),
				"ok.csv.gz":     gzipBytes(t, []byte("a.mp4\n")),
				"d.csv.gz":      []byte("not gzip"),
			}
			src, err := Open(context.Background(), "cos://b-1/manifest.json", Options{Getter: g})
			if err == nil {
				defer src.Close()
				if tc.openErr {
					t.Fatal("Open = nil error, want not a gzip file")
				}
				var rows []Row
				rows, err = readAllErr(src)
				if got := briefs(rows); got != `L1 "a.mp4"` {
					t.Errorf("rows = %s, want the first file's", got)
				}
			}
			if want := "manifest cos://b-1/manifest.json: inventory file d.csv.gz: not a gzip file"; err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %v, want %s…", err, want)
			}
			checkNoSpool(t, spools, "after the error")
		})
	}
}
