package manifest

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenFixtures(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{"testdata/objects.csv", `L2 "videos/a.mp4"; L3 "videos/b c.mp4" wf=w0123456789abcdef0123456789abcdef name=backfill-1; L4 "videos/with,comma.mov"; L5 "media/my video+final 100%/视频 1.mp4"`},
		{"testdata/s3batch.csv", `L1 "videos/a.mp4"; L2 "media/my video+final 100%/视频 1.mp4"; L3 "videos/b c.mp4"`},
		{"testdata/onecolumn.csv", `L1 "videos/a.mp4"; L2 "videos/b c.mp4"; L3 "media/my video+final 100%/视频 1.mp4"`},
		{"testdata/keys.txt", `L1 "videos/a.mp4"; L2 " videos/leading space.mp4"; L3 "media/my video+final 100%/视频 1.mp4"; L5 "/leading-slash.mp4" !LeadingSlash`},
		{"testdata/keys.jsonl", `L1 "videos/a.mp4"; L2 "videos/b c.mp4"; L4 "media/my video+final 100%/视频 1.mp4" wf=w0123456789abcdef0123456789abcdef name=n-1; L5 "" !EmptyKey; L6 "" !BadJSON`},
		{"testdata/broken.csv", `L2 "videos/a.mp4"; L3 "multi\nline" !InvalidChar; L5 "" !BadCSV; L6 "" !BadCSV`},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			data, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			base := filepath.Base(tc.path)
			gz := gzipBytes(t, data)
			format := strings.TrimPrefix(filepath.Ext(base), ".")
			inputs := []struct {
				name string
				path string
				opts Options
			}{
				{"plain", tc.path, Options{}},
				{"gzip", write(t, dir, base+".gz", gz), Options{}},
				{"gzip without .gz", write(t, dir, "gz-"+base, gz), Options{}},
				{"explicit format", write(t, dir, "data.bin", data), Options{Format: format}},
				{"stdin", "-", Options{Format: format, Stdin: bytes.NewReader(data)}},
				{"gzip stdin", "-", Options{Format: format, Stdin: bytes.NewReader(gz)}},
			}
			for _, in := range inputs {
				src, err := Open(context.Background(), in.path, in.opts)
				if err != nil {
					t.Fatalf("%s: Open(%q) error %v", in.name, in.path, err)
				}
				if got := briefs(readAll(t, src)); got != tc.want {
					t.Errorf("%s: Open(%q) rows =\n  %s\nwant\n  %s", in.name, in.path, got, tc.want)
				}
				if err := src.Close(); err != nil {
					t.Errorf("%s: Close() = %v", in.name, err)
				}
			}
		})
	}
}

func write(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	binary := []byte("key\nabc\x00\x01\x02\n")
	tests := []struct {
		name string
		path string
		opts Options
		want string // the start of the error
	}{
		{"missing file", filepath.Join(dir, "nope.csv"), Options{}, "manifest " + filepath.Join(dir, "nope.csv") + ": open "},
		{"unknown extension", write(t, dir, "objects.dat", []byte("a\n")), Options{}, "manifest " + filepath.Join(dir, "objects.dat") + ": cannot tell the format"},
		{"unknown format", write(t, dir, "o.csv", []byte("a\n")), Options{Format: "xml"}, "manifest " + filepath.Join(dir, "o.csv") + `: unknown format "xml"`},
		{"stdin without format", "-", Options{Stdin: strings.NewReader("a\n")}, "manifest stdin: the format of standard input is unknown"},
		{"stdin inventory", "-", Options{Format: "inventory", Stdin: strings.NewReader("{}")}, "manifest stdin: an inventory manifest.json cannot be read from standard input"},
		{"binary csv", write(t, dir, "bin.csv", binary), Options{}, "manifest " + filepath.Join(dir, "bin.csv") + ": not a csv file: binary data"},
		{"binary txt", write(t, dir, "bin.txt", binary), Options{}, "manifest " + filepath.Join(dir, "bin.txt") + ": not a txt file: binary data"},
		{"binary jsonl", write(t, dir, "bin.jsonl", append([]byte(`"a"`+"\n"), binary...)), Options{}, "manifest " + filepath.Join(dir, "bin.jsonl") + ": not a jsonl file: binary data"},
		{"UTF-16", write(t, dir, "u16.txt", []byte("\xff\xfek\x00e\x00y\x00")), Options{}, "manifest " + filepath.Join(dir, "u16.txt") + ": not a txt file: UTF-16 text; save it as UTF-8"},
		{"gzipped binary", write(t, dir, "bin.csv.gz", gzipBytes(t, binary)), Options{}, "manifest " + filepath.Join(dir, "bin.csv.gz") + ": not a csv file: binary data"},
		{"jsonl garbage", write(t, dir, "g.jsonl", []byte("\n\nhello world\n")), Options{}, "manifest " + filepath.Join(dir, "g.jsonl") + ": not a JSONL file: the first line is not a JSON object or string"},
		{"csv as jsonl", write(t, dir, "csv.ndjson", []byte("key,name\na,b\n")), Options{}, "manifest " + filepath.Join(dir, "csv.ndjson") + ": not a JSONL file"},
		{"gz that is not gzip", write(t, dir, "plain.csv.gz", []byte("key\na\n")), Options{}, "manifest " + filepath.Join(dir, "plain.csv.gz") + ": not a gzip file"},
		{"corrupt gzip header", write(t, dir, "corrupt.csv.gz", []byte("\x1f\x8bXXXXXXXXXXXXXX")), Options{}, "manifest " + filepath.Join(dir, "corrupt.csv.gz") + ": not a valid gzip file"},
		{"corrupt gzip data", write(t, dir, "corrupt2.txt.gz", corruptGzip(t)), Options{}, "manifest " + filepath.Join(dir, "corrupt2.txt.gz") + ": read: "},
		{"cos without getter", "cos://b-125/a.csv", Options{}, "manifest cos://b-125/a.csv: cannot fetch from bucket b-125"},
		{"cos missing object", "cos://b-125/a.csv", Options{Getter: mapGetter{}}, "manifest cos://b-125/a.csv: get a.csv: no such key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Open(context.Background(), tc.path, tc.opts)
			if err == nil {
				src.Close()
				t.Fatalf("Open(%q) = nil error, want %q…", tc.path, tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Open(%q) = %q, want %q…", tc.path, err, tc.want)
			}
		})
	}
}

// corruptGzip is a gzip stream with a valid header and garbage data.
func corruptGzip(t testing.TB) []byte {
	b := gzipBytes(t, bytes.Repeat([]byte("some key\n"), 100))
	for i := 12; i < len(b)-8; i++ {
		b[i] ^= 0x55
	}
	return b
}

func TestOpenCOS(t *testing.T) {
	g := mapGetter{"lists/objects.csv": []byte("key\na.mp4\n")}
	src, err := Open(context.Background(), "cos://media-1250000000/lists/objects.csv", Options{Getter: g})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got, want := briefs(readAll(t, src)), `L2 "a.mp4"`; got != want {
		t.Errorf("rows = %s, want %s", got, want)
	}
	if got, want := Name(src), "manifest cos://media-1250000000/lists/objects.csv"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		src  Source
		want string
	}{
		{NewCSV(strings.NewReader(""), "objects.csv"), "manifest objects.csv"},
		{NewText(strings.NewReader(""), "keys.txt"), "manifest keys.txt"},
		{Filter(NewJSONL(strings.NewReader(""), "k.jsonl"), FilterOptions{}), "manifest k.jsonl"},
		{NewListing(context.Background(), &fakeLister{}, "videos/", ListingOptions{}), "prefix videos/"},
		{NewListing(context.Background(), &fakeLister{}, "", ListingOptions{}), `prefix ""`},
	}
	for _, tc := range tests {
		if got := Name(tc.src); got != tc.want {
			t.Errorf("Name(%T) = %q, want %q", tc.src, got, tc.want)
		}
		tc.src.Close()
	}
	src, err := Open(context.Background(), "-", Options{Format: "txt", Stdin: strings.NewReader("a")})
	if err != nil {
		t.Fatal(err)
	}
	if got := Name(src); got != "manifest stdin" {
		t.Errorf("Name(stdin) = %q, want %q", got, "manifest stdin")
	}
}

func TestParseCOSURL(t *testing.T) {
	tests := []struct {
		in, bucket, key string
		ok              bool
	}{
		{"cos://media-125/inv/manifest.json", "media-125", "inv/manifest.json", true},
		{"cos://media-125/", "", "", false},
		{"cos://media-125", "", "", false},
		{"objects.csv", "", "", false},
	}
	for _, tc := range tests {
		b, k, ok := ParseCOSURL(tc.in)
		if b != tc.bucket || k != tc.key || ok != tc.ok {
			t.Errorf("ParseCOSURL(%q) = %q, %q, %v, want %q, %q, %v", tc.in, b, k, ok, tc.bucket, tc.key, tc.ok)
		}
	}
}

func TestSourceCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := NewText(strings.NewReader("a\n"), "t.txt")
	if _, err := src.Next(ctx); err != context.Canceled {
		t.Errorf("Next(canceled) = %v, want %v", err, context.Canceled)
	}
}

// mapGetter is a bucket in a map.
type mapGetter map[string][]byte

func (g mapGetter) GetObject(_ context.Context, key string) (io.ReadCloser, error) {
	b, ok := g[key]
	if !ok {
		return nil, &notFound{key}
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

type notFound struct{ key string }

func (e *notFound) Error() string { return "get " + e.key + ": no such key" }

// TestJSONLBrokenFirstLine: a first line that starts like JSON but is broken
// is one invalid row, not a reason to refuse the file.
func TestJSONLBrokenFirstLine(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "b.jsonl", []byte("{\"key\": \n\"a.mp4\"\n"))
	src, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v, want a source", path, err)
	}
	defer src.Close()
	first, err := src.Next(context.Background())
	if err != nil || first.Invalid == nil || first.Invalid.Code != CodeBadJSON || first.Line != 1 {
		t.Fatalf("first row = %+v, %v; want invalid BadJSON at line 1", first, err)
	}
	second, err := src.Next(context.Background())
	if err != nil || second.Key != "a.mp4" || second.Line != 2 {
		t.Errorf("second row = %+v, %v; want a.mp4 at line 2", second, err)
	}
}
