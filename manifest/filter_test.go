package manifest

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rowsSource yields fixed rows and counts the reads.
type rowsSource struct {
	rows  []Row
	reads int
}

func (s *rowsSource) Next(context.Context) (Row, error) {
	s.reads++
	if len(s.rows) == 0 {
		return Row{}, io.EOF
	}
	r := s.rows[0]
	s.rows = s.rows[1:]
	return r, nil
}

func (s *rowsSource) Close() error { return nil }

func TestFilter(t *testing.T) {
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := func() []Row {
		return []Row{
			{Key: "a.MP4", Line: 1, LastModified: jan},
			{Key: "b.mov", Line: 2, LastModified: jan.Add(48 * time.Hour)},
			{Key: "c.txt", Line: 3},
			{Line: 4, Invalid: &Invalid{Code: CodeEmptyKey}},
			{Key: "d.mp4", Line: 5},
			{Key: "mp4", Line: 6},
		}
	}
	tests := []struct {
		name        string
		f           FilterOptions
		want        string
		filteredOut int
		reads       int
	}{
		{"none", FilterOptions{}, `L1 "a.MP4"; L2 "b.mov"; L3 "c.txt"; L4 "" !EmptyKey; L5 "d.mp4"; L6 "mp4"`, 0, 7},
		{"suffix", FilterOptions{Suffixes: []string{".mp4", ".MOV"}}, `L1 "a.MP4"; L2 "b.mov"; L4 "" !EmptyKey; L5 "d.mp4"`, 2, 7},
		{"modified after", FilterOptions{ModifiedAfter: jan.Add(time.Hour)}, `L2 "b.mov"; L3 "c.txt"; L4 "" !EmptyKey; L5 "d.mp4"; L6 "mp4"`, 1, 7},
		{"modified exactly at", FilterOptions{ModifiedAfter: jan}, `L2 "b.mov"; L3 "c.txt"; L4 "" !EmptyKey; L5 "d.mp4"; L6 "mp4"`, 1, 7},
		{"shard", FilterOptions{Shard: Shard{Index: ShardOf("b.mov", 3), Count: 3}}, "", -1, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &rowsSource{rows: rows()}
			f := Filter(src, tc.f)
			got := readAll(t, f)
			if tc.want != "" && briefs(got) != tc.want {
				t.Errorf("Filter(%+v) = %s, want %s", tc.f, briefs(got), tc.want)
			}
			if tc.filteredOut >= 0 && f.FilteredOut() != tc.filteredOut {
				t.Errorf("Filter(%+v).FilteredOut() = %d, want %d", tc.f, f.FilteredOut(), tc.filteredOut)
			}
			if src.reads != tc.reads {
				t.Errorf("Filter(%+v) read the source %d times, want %d", tc.f, src.reads, tc.reads)
			}
			if tc.f.Shard.Count > 0 {
				for _, r := range got {
					if r.Invalid == nil && ShardOf(r.Key, tc.f.Shard.Count) != tc.f.Shard.Index {
						t.Errorf("key %q of shard %d passed the filter of shard %d", r.Key, ShardOf(r.Key, tc.f.Shard.Count), tc.f.Shard.Index)
					}
				}
				if len(got)+f.FilteredOut() != 6 {
					t.Errorf("rows out %d + filtered %d, want 6", len(got), f.FilteredOut())
				}
			}
		})
	}
}

func TestShardCoverage(t *testing.T) {
	const keys, n = 100000, 7
	var counts [n]int
	for i := range keys {
		key := "videos/" + strconv.Itoa(i) + ".mp4"
		s := ShardOf(key, n)
		hits := 0
		for shard := range n {
			f := Filter(&rowsSource{rows: []Row{{Key: key}}}, FilterOptions{Shard: Shard{shard, n}})
			if r, err := f.Next(context.Background()); err == nil && r.Key == key {
				hits++
				if shard != s {
					t.Fatalf("key %q passed shard %d, ShardOf = %d", key, shard, s)
				}
			}
		}
		if hits != 1 {
			t.Fatalf("key %q is in %d shards, want 1", key, hits)
		}
		counts[s]++
	}
	mean := float64(keys) / n
	for i, c := range counts {
		if d := float64(c)/mean - 1; d > 0.05 || d < -0.05 {
			t.Errorf("shard %d has %d keys, more than 5%% from the mean %.0f", i, c, mean)
		}
	}
}

func TestShardOfStable(t *testing.T) {
	// Fixed values, so that shards never move between versions.
	tests := []struct {
		key  string
		n    int
		want int
	}{
		{"", 1000, 342},
		{"a", 1000, 315},
		{"videos/a.mp4", 7, 2},
		{"videos/a.mp4", 1000, 109},
		{"media/my video+final 100%/视频 1.mp4", 1000, 152},
		{"videos/a.mp4", 1, 0},
	}
	for _, tc := range tests {
		if got := ShardOf(tc.key, tc.n); got != tc.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", tc.key, tc.n, got, tc.want)
		}
	}
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want Shard
		err  bool
	}{
		{"0/4", Shard{0, 4}, false},
		{"3/4", Shard{3, 4}, false},
		{"0/1", Shard{0, 1}, false},
		{"4/4", Shard{}, true},
		{"-1/4", Shard{}, true},
		{"1/0", Shard{}, true},
		{"1", Shard{}, true},
		{"a/b", Shard{}, true},
		{"", Shard{}, true},
	}
	for _, tc := range tests {
		got, err := ParseShard(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseShard(%q) = %v, %v, want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func ExampleFilter() {
	src := NewText(strings.NewReader("a.mp4\nb.txt\nc.MOV\n"), "keys.txt")
	f := Filter(src, FilterOptions{Suffixes: []string{".mp4", ".mov"}})
	defer f.Close()
	for {
		row, err := f.Next(context.Background())
		if err != nil {
			break
		}
		fmt.Println(row.Line, row.Key)
	}
	fmt.Println("filtered out:", f.FilteredOut())
	// Output:
	// 1 a.mp4
	// 3 c.MOV
	// filtered out: 1
}
