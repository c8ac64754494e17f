package manifest

import "io"

// textReader reads one key per line, exactly as it is: only the line's '\n'
// and a '\r' before it are removed.
type textReader struct {
	c     *chunkReader
	label string
	line  int
}

// NewText returns a Source reading one key per line from r. name is the
// file name that messages and the report show.
func NewText(r io.Reader, name string) Source {
	return newFileSource("manifest "+name, &textReader{c: newChunkReader(r), label: "manifest " + name}, nil)
}

func (r *textReader) readErr() error { return r.c.readErr() }

func (r *textReader) read() (row Row, blank, ok bool) {
	b, long, ok := r.c.readLine()
	if !ok {
		return Row{}, false, false
	}
	r.line++
	if long {
		return invalidRow(r.label, r.line, CodeLineTooLong, "line is longer than 1 MiB"), false, true
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	if len(b) == 0 {
		return Row{Line: r.line}, true, true
	}
	return rowFor(r.label, r.line, string(b), "", ""), false, true
}
