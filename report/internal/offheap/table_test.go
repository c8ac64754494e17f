package offheap

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
		{"one shard", func(r *rand.Rand) uint64 { return 7<<ShardShift | r.Uint64()>>8 | 1 }, 100_000},
		{"few distinct", func(r *rand.Rand) uint64 { return r.Uint64N(1000) + 1 }, 50_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tb Table
			defer tb.Free()
			want := map[uint64]uint64{}
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range tt.n {
				k := tt.key(rng)
				if got, ok := tb.Get(k); got != want[k] || ok != (want[k] != 0) {
					t.Fatalf("get(%#x) = %d, %v, want %d", k, got, ok, want[k])
				}
				tb.Set(k, uint64(i+1))
				want[k] = uint64(i + 1)
			}
			if tb.Len() != len(want) {
				t.Errorf("len() = %d, want %d", tb.Len(), len(want))
			}
			for k, v := range want {
				if got, ok := tb.Get(k); !ok || got != v {
					t.Fatalf("get(%#x) = %d, %v, want %d", k, got, ok, v)
				}
			}
		})
	}
}
