package manifest

import (
	"bytes"
	"io"
)

// maxLine caps a physical line (txt, JSONL) or a CSV record: longer ones are
// reported invalid and skipped without being held in memory.
const maxLine = 1 << 20

// chunkSize is the read buffer of every file source; it starts at
// firstChunk, so that small inputs cost little, and grows once the input
// fills it.
const (
	chunkSize  = 64 << 10
	firstChunk = 4 << 10
)

// chunkReader reads its input in fixed chunks, drops a leading UTF-8 BOM and
// hands out lines without copying when they fit in one chunk.
type chunkReader struct {
	r        io.Reader
	buf      []byte
	pos, end int
	err      error // sticky; io.EOF at the end
	started  bool
	scratch  []byte // a line that spans chunks, at most maxLine bytes
}

func newChunkReader(r io.Reader) *chunkReader {
	return &chunkReader{r: r, buf: make([]byte, firstChunk)}
}

// fill reads the next chunk once the current one is used up; it reports
// whether unread bytes are available.
func (c *chunkReader) fill() bool {
	if c.pos < c.end {
		return true
	}
	if c.end == len(c.buf) && len(c.buf) < chunkSize {
		c.buf = make([]byte, chunkSize)
	}
	c.pos, c.end = 0, 0
	for c.err == nil && (c.end == 0 || !c.started && c.end < 3) {
		n, err := c.r.Read(c.buf[c.end:])
		c.end += n
		if err != nil {
			c.err = err
		}
	}
	if !c.started {
		c.started = true
		if bytes.HasPrefix(c.buf[:c.end], []byte("\xEF\xBB\xBF")) {
			c.pos = 3
		}
	}
	return c.pos < c.end
}

// readErr is the read error that ended the input, nil at a clean end.
func (c *chunkReader) readErr() error {
	if c.err == io.EOF {
		return nil
	}
	return c.err
}

// readLine returns the next physical line without its '\n' (a '\r' before it
// is kept). A line longer than maxLine is returned cut to maxLine bytes with
// long set. ok is false at the end of the input or on a read error. The line
// is valid until the next call.
func (c *chunkReader) readLine() (line []byte, long, ok bool) {
	if !c.fill() {
		return nil, false, false
	}
	if i := bytes.IndexByte(c.buf[c.pos:c.end], '\n'); i >= 0 {
		line = c.buf[c.pos : c.pos+i]
		c.pos += i + 1
		return line, false, true
	}
	s := c.scratch[:0]
	for c.fill() {
		chunk := c.buf[c.pos:c.end]
		i := bytes.IndexByte(chunk, '\n')
		if i >= 0 {
			chunk = chunk[:i]
		}
		if room := maxLine - len(s); len(chunk) > room {
			s = append(s, chunk[:room]...)
			long = true
		} else {
			s = append(s, chunk...)
		}
		if i >= 0 {
			c.pos += i + 1
			break
		}
		c.pos = c.end
	}
	if c.readErr() != nil {
		return nil, false, false
	}
	if cap(s) <= 4*chunkSize {
		c.scratch = s
	} else {
		c.scratch = nil // do not keep a huge buffer for the rest of the file
	}
	return s, long, true
}
