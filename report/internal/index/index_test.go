package index

import "testing"

// TestIndexOverflow gives two keys the same h1: both are kept apart.
func TestIndexOverflow(t *testing.T) {
	x := New()
	defer x.Free()
	a, b := Key{42, 1}, Key{42, 2}
	x.Apply(a, Succeeded, 1, false, false)
	x.Apply(b, Failed, 2, false, false)
	if v, ok := x.Get(a); !ok || StateOf(v) != Succeeded || SeqOf(v) != 1 {
		t.Errorf("get(a) = %#x, %v", v, ok)
	}
	if v, ok := x.Get(b); !ok || StateOf(v) != Failed || SeqOf(v) != 2 {
		t.Errorf("get(b) = %#x, %v", v, ok)
	}
	x.Apply(b, Succeeded, 3, true, false)
	if v, _ := x.Get(b); SeqOf(v) != 3 || !SeenOf(v) {
		t.Errorf("get(b) after update = %#x", v)
	}
	if got := x.Counts(false); got.Succeeded != 2 || x.Len() != 2 {
		t.Errorf("summary = %+v, len %d", got, x.Len())
	}
}

// TestLines: marks are kept per seq, across chunks, and unmarked seqs are
// Unknown.
func TestLines(t *testing.T) {
	var l Lines
	seqs := []uint64{0, 1, 31, 32, 33, linesChunk*32 - 1, linesChunk * 32, 3*linesChunk*32 + 5}
	for i, s := range seqs {
		l.Set(s, Mark(1+i%2))
	}
	for i, s := range seqs {
		if got, want := l.Of(s), Mark(1+i%2); got != want {
			t.Errorf("Of(%d) = %d, want %d", s, got, want)
		}
	}
	for _, s := range []uint64{2, 30, 34, linesChunk * 32 * 2, 1 << 40} {
		if got := l.Of(s); got != Unknown {
			t.Errorf("Of(%d) never set = %d, want Unknown", s, got)
		}
	}
	l.Set(1, Dead)
	if got := l.Of(1); got != Dead {
		t.Errorf("Of(1) after Plain, Dead = %d, want Dead", got)
	}
	if got := l.Of(0); got != Dead {
		t.Errorf("Of(0), its neighbour changed = %d, want Dead", got)
	}
}
