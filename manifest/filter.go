package manifest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FilterOptions selects the rows Filter lets through.
type FilterOptions struct {
	Suffixes      []string  // keys ending in one of these, case-insensitive (".mp4"); empty: all
	ModifiedAfter time.Time // drop rows whose known LastModified is not after it; rows without one pass
	Shard         Shard     // keep the keys of this shard; Count 0: no sharding
}

// Shard is one of Count disjoint parts of the key space: the keys whose
// ShardOf(key, Count) is Index.
type Shard struct{ Index, Count int }

// ParseShard parses "I/N" with 0 <= I < N.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want I/N, such as 0/4", s)
	}
	if count < 1 || index < 0 || index >= count {
		return Shard{}, fmt.Errorf("shard %q: want 0 <= I < N", s)
	}
	return Shard{Index: index, Count: count}, nil
}

// ShardOf returns the shard, in [0, n), of key: the FNV-1a 64-bit hash of
// its bytes, mixed by the MurmurHash3 fmix64 finalizer, modulo n. (FNV-1a
// alone spreads keys that differ only in a middle digit unevenly: "videos/
// N.mp4" puts 6% more keys in some of 7 shards.) It never changes, so every
// key lands in the same shard in every run and on every machine.
func ShardOf(key string, n int) int {
	if n <= 1 {
		return 0
	}
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return int(h % uint64(n))
}

// Filtered is a Source that lets through the rows of another Source that
// its FilterOptions select. Invalid rows always pass (they are reported,
// never dropped silently).
type Filtered struct {
	src         Source
	f           FilterOptions
	filteredOut int
}

// Filter returns the rows of src that f selects.
func Filter(src Source, f FilterOptions) *Filtered {
	return &Filtered{src: src, f: f}
}

// Next returns the next selected row.
func (f *Filtered) Next(ctx context.Context) (Row, error) {
	for {
		row, err := f.src.Next(ctx)
		if err != nil {
			return row, err
		}
		if row.Invalid == nil && !f.keep(&row) {
			f.filteredOut++
			continue
		}
		return row, nil
	}
}

func (f *Filtered) keep(row *Row) bool {
	if len(f.f.Suffixes) > 0 && !hasSuffixFold(row.Key, f.f.Suffixes) {
		return false
	}
	if !f.f.ModifiedAfter.IsZero() && !row.LastModified.IsZero() && !row.LastModified.After(f.f.ModifiedAfter) {
		return false
	}
	return f.f.Shard.Count <= 1 || ShardOf(row.Key, f.f.Shard.Count) == f.f.Shard.Index
}

func hasSuffixFold(key string, suffixes []string) bool {
	for _, s := range suffixes {
		if len(key) >= len(s) && strings.EqualFold(key[len(key)-len(s):], s) {
			return true
		}
	}
	return false
}

// FilteredOut is the number of rows the filters dropped so far.
func (f *Filtered) FilteredOut() int { return f.filteredOut }

// Name is the name of the filtered source.
func (f *Filtered) Name() string { return Name(f.src) }

// Close closes the filtered source.
func (f *Filtered) Close() error { return f.src.Close() }
