package report

import (
	"math/rand/v2"
	"testing"
)

// TestTable checks the table against a Go map through many growths, with
// mapped shards and keys that crowd one shard.
func TestTable(t *testing.T) {
	tests := []struct {
		name string
		key  func(r *rand.Rand) uint64
		n    int
	}{
		{"uniform", func(r *rand.Rand) uint64 { return r.Uint64() | 1 }, 300_000},
		{"one shard", func(r *rand.Rand) uint64 { return 7<<shardShift | r.Uint64()>>8 | 1 }, 100_000},
		{"few distinct", func(r *rand.Rand) uint64 { return r.Uint64N(1000) + 1 }, 50_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tb table
			defer tb.free()
			want := map[uint64]uint64{}
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range tt.n {
				k := tt.key(rng)
				if got, ok := tb.get(k); got != want[k] || ok != (want[k] != 0) {
					t.Fatalf("get(%#x) = %d, %v, want %d", k, got, ok, want[k])
				}
				tb.set(k, uint64(i+1))
				want[k] = uint64(i + 1)
			}
			if tb.len() != len(want) {
				t.Errorf("len() = %d, want %d", tb.len(), len(want))
			}
			for k, v := range want {
				if got, ok := tb.get(k); !ok || got != v {
					t.Fatalf("get(%#x) = %d, %v, want %d", k, got, ok, v)
				}
			}
		})
	}
}

// TestIndexOverflow gives two keys the same h1: both are kept apart.
func TestIndexOverflow(t *testing.T) {
	x := newIndex()
	defer x.free()
	a, b := hkey{42, 1}, hkey{42, 2}
	x.apply(a, stSucceeded, 1, false, false)
	x.apply(b, stFailed, 2, false, false)
	if v, ok := x.get(a); !ok || stateOf(v) != stSucceeded || seqOf(v) != 1 {
		t.Errorf("get(a) = %#x, %v", v, ok)
	}
	if v, ok := x.get(b); !ok || stateOf(v) != stFailed || seqOf(v) != 2 {
		t.Errorf("get(b) = %#x, %v", v, ok)
	}
	x.apply(b, stSucceeded, 3, true, false)
	if v, _ := x.get(b); seqOf(v) != 3 || !seenOf(v) {
		t.Errorf("get(b) after update = %#x", v)
	}
	if got := x.summary(false); got.Succeeded != 2 || x.len() != 2 {
		t.Errorf("summary = %+v, len %d", got, x.len())
	}
}
