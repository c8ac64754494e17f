package manifest

import "io"

// textReader reads one key per line, exactly as it is: only the line's '\n'
// and a '\r' before it are removed.
type textReader struct{ lines }

// NewText returns a Source reading one key per line from r. name is the
// file name that messages and the report show.
func NewText(r io.Reader, name string) Source {
	return newFileSource("manifest "+name, &textReader{newLines(r, "manifest "+name)}, nil)
}

func (r *textReader) read() (row Row, blank, ok bool) {
	b, tooLong, ok := r.next()
	if !ok || tooLong.Invalid != nil {
		return tooLong, false, ok
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	if len(b) == 0 {
		return Row{Line: r.line}, true, true
	}
	return rowFor(r.label, r.line, string(b), "", ""), false, true
}
