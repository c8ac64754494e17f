package manifest

import (
	"bufio"
	"bytes"
	"io"
)

// maxLine caps a physical line (txt, JSONL) or a CSV record: longer ones are
// reported invalid and skipped without being held in memory.
const maxLine = 1 << 20

// chunkSize is the read buffer of every file source.
const chunkSize = 64 << 10

// chunkReader is a bufio.Reader that drops a leading UTF-8 BOM, hands out
// lines without copying when they fit in its buffer, and hands the CSV
// parser its buffered bytes.
type chunkReader struct {
	br      *bufio.Reader
	err     error // sticky; io.EOF at the end
	started bool
	scratch []byte // a line longer than the buffer, at most maxLine bytes
}

func newChunkReader(r io.Reader) *chunkReader {
	return &chunkReader{br: bufio.NewReaderSize(r, chunkSize)}
}

// fill reads more input once the buffered bytes are used up; it reports
// whether unread bytes are available.
func (c *chunkReader) fill() bool {
	if !c.started {
		c.started = true
		if b, _ := c.br.Peek(3); bytes.Equal(b, []byte("\xEF\xBB\xBF")) {
			_, _ = c.br.Discard(3)
		}
	}
	if c.br.Buffered() > 0 {
		return true
	}
	if c.err != nil {
		return false
	}
	if _, err := c.br.Peek(1); err != nil {
		c.err = err
	}
	return c.br.Buffered() > 0
}

// chunk returns the buffered, unread bytes; valid until the next fill.
func (c *chunkReader) chunk() []byte {
	b, _ := c.br.Peek(c.br.Buffered())
	return b
}

// consume marks the first n bytes of chunk as read.
func (c *chunkReader) consume(n int) { _, _ = c.br.Discard(n) }

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
	b, err := c.br.ReadSlice('\n')
	if err == nil {
		return b[:len(b)-1], false, true
	}
	s := c.scratch[:0]
	for {
		part := b
		if err == nil {
			part = b[:len(b)-1]
		}
		if room := maxLine - len(s); len(part) > room {
			s = append(s, part[:room]...)
			long = true
		} else {
			s = append(s, part...)
		}
		if err != bufio.ErrBufferFull {
			break
		}
		b, err = c.br.ReadSlice('\n')
	}
	if err != nil {
		c.err = err
		if err != io.EOF {
			return nil, false, false
		}
	}
	if cap(s) <= 4*chunkSize {
		c.scratch = s
	} else {
		c.scratch = nil // do not keep a huge buffer for the rest of the file
	}
	return s, long, true
}

// lines is what the text and JSONL readers share: lines read one by one,
// numbered for messages.
type lines struct {
	c     *chunkReader
	label string // prefixes messages ("manifest objects.txt")
	line  int    // the number of the last line read
}

func newLines(r io.Reader, label string) lines {
	return lines{c: newChunkReader(r), label: label}
}

func (l *lines) readErr() error { return l.c.readErr() }

// next returns the next physical line, as readLine does. A line longer than
// maxLine comes back as an invalid row instead (Invalid set). ok is false at
// the end of the input or on a read error.
func (l *lines) next() (b []byte, tooLong Row, ok bool) {
	b, long, ok := l.c.readLine()
	if ok {
		l.line++
	}
	if long {
		return nil, invalidRow(l.label, l.line, CodeLineTooLong, "line is longer than 1 MiB"), true
	}
	return b, Row{}, ok
}
