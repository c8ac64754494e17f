package manifest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
)

// benchRows is the size of the generated manifests of the benchmarks.
const benchRows = 100000

func benchCSV() []byte {
	var b bytes.Buffer
	b.WriteString("key,workflowId,name\n")
	for i := range benchRows {
		fmt.Fprintf(&b, "media/2026/%03d/video %d+final.mp4,,\n", i%1000, i)
	}
	return b.Bytes()
}

func benchRead(b *testing.B, data []byte, open func(io.Reader) Source) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		src := open(bytes.NewReader(data))
		n := 0
		for {
			row, err := src.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil || row.Invalid != nil {
				b.Fatal(err, row.Invalid)
			}
			n++
		}
		if n != benchRows {
			b.Fatalf("%d rows, want %d", n, benchRows)
		}
	}
	b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkCSV(b *testing.B) {
	benchRead(b, benchCSV(), func(r io.Reader) Source { return NewCSV(r, "bench.csv") })
}

func BenchmarkBucketKeyCSV(b *testing.B) {
	data := []byte(strings.NewReplacer("key,workflowId,name\n", "", "media/", "media-1250000000,media/", " ", "%20", "+", "%2B", ",,\n", "\n").Replace(string(benchCSV())))
	benchRead(b, data, func(r io.Reader) Source { return NewCSV(r, "bench.csv") })
}

func BenchmarkText(b *testing.B) {
	data := []byte(strings.ReplaceAll(strings.TrimPrefix(string(benchCSV()), "key,workflowId,name\n"), ",,\n", "\n"))
	benchRead(b, data, func(r io.Reader) Source { return NewText(r, "bench.txt") })
}

func BenchmarkJSONL(b *testing.B) {
	var buf bytes.Buffer
	for i := range benchRows {
		fmt.Fprintf(&buf, "{\"key\":\"media/2026/%03d/video %d+final.mp4\"}\n", i%1000, i)
	}
	benchRead(b, buf.Bytes(), func(r io.Reader) Source { return NewJSONL(r, "bench.jsonl") })
}

// BenchmarkInventory reads a local inventory of one data file of benchRows
// rows, each naming its bucket.
func BenchmarkInventory(b *testing.B) {
	var csv bytes.Buffer
	for i := range benchRows {
		fmt.Fprintf(&csv, "\"1250000000\",\"media\",\"media/2026/%03d/video%%20%d%%2Bfinal.mp4\",\"10\",\"2026-01-02T03:04:05.000Z\"\n", i%1000, i)
	}
	dir := b.TempDir()
	write(b, dir, "data/0.csv.gz", gzipBytes(b, csv.Bytes()))
	m := write(b, dir, "manifest.json", []byte(`{"fileFormat":"CSV","fileSchema":"Appid, Bucket, Key, Size, LastModifiedDate","files":[{"key":"data/0.csv.gz"}]}`))
	b.SetBytes(int64(csv.Len()))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		src, err := Open(ctx, m, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			row, err := src.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil || row.Invalid != nil {
				b.Fatal(err, row.Invalid)
			}
			n++
		}
		src.Close()
		if n != benchRows {
			b.Fatalf("%d rows, want %d", n, benchRows)
		}
	}
	b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
}
