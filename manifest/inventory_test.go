package manifest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
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

// inventoryFiles returns the data files of the test inventory, gzipped, by
// key, and the manifest.json that lists them.
func inventoryFiles(t testing.TB, prefix string, corrupt int) (map[string][]byte, []byte) {
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
		if i == corrupt {
			sum[0] ^= 1
		}
		files[key] = gz
		list = append(list, file{key, "1", hex.EncodeToString(sum[:])})
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

func TestInventoryLocal(t *testing.T) {
	for _, layout := range []string{"full key path", "base name"} {
		t.Run(layout, func(t *testing.T) {
			dir := t.TempDir()
			prefix := "cos_bucket_inventory/1250000000/media/inv1/"
			files, m := inventoryFiles(t, prefix, -1)
			for key, b := range files {
				if layout == "base name" {
					key = filepath.Base(key)
				}
				write(t, dir, key, b)
			}
			mpath := write(t, dir, "manifest.json", m)
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
		})
	}
}

func TestInventoryCOS(t *testing.T) {
	prefix := "cos_bucket_inventory/1250000000/media/inv1/"
	files, m := inventoryFiles(t, prefix, -1)
	files[prefix+"20261127/manifest.json"] = m
	src, err := Open(context.Background(), "cos://dest-1250000000/"+prefix+"20261127/manifest.json", Options{Getter: mapGetter(files)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := briefs(readAll(t, src)); got != invWant {
		t.Errorf("rows =\n  %s\nwant\n  %s", got, invWant)
	}
}

func TestInventoryMD5Mismatch(t *testing.T) {
	files, m := inventoryFiles(t, "", 1)
	files["manifest.json"] = m
	src, err := Open(context.Background(), "cos://dest-1250000000/manifest.json", Options{Getter: mapGetter(files)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rows, err := readAllErr(src)
	want := "manifest cos://dest-1250000000/manifest.json: inventory file data/b.csv.gz: md5 mismatch"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Next error = %v, want %s…", err, want)
	}
	if len(rows) != 3 {
		t.Errorf("rows before the mismatch = %d, want 3", len(rows))
	}
	if _, err2 := src.Next(context.Background()); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("Next after the error = %v, want %v again", err2, err)
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
		{"missing data file", `{"fileSchema":"Key","files":[{"key":"data/x.csv.gz"}]}`, "inventory file data/x.csv.gz: not found"},
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

func TestInventoryCorruptDataFile(t *testing.T) {
	g := mapGetter{
		"manifest.json": []byte(`{"fileSchema":"Key","files":[{"key":"d.csv.gz"}]}`),
		"d.csv.gz":      []byte("not gzip"),
	}
	src, err := Open(context.Background(), "cos://b-1/manifest.json", Options{Getter: g})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAllErr(src)
	if want := "manifest cos://b-1/manifest.json: inventory file d.csv.gz: not a gzip file"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Next error = %v, want %s…", err, want)
	}
}
