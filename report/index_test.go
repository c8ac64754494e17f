package report

import "testing"

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
