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
