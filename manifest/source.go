package manifest

import (
	"context"
	"fmt"
	"io"
)

// rowReader yields the rows of one file format, in file order.
type rowReader interface {
	// read returns the next row; blank marks an empty line (only Line set);
	// ok is false at the end of the input or on a read error.
	read() (row Row, blank, ok bool)
	// readErr is the read error that ended the input, nil at a clean end.
	readErr() error
}

// fileSource is the Source of a manifest file. Empty lines are skipped in
// every format (they still count as lines, so line numbers stay physical):
// a blank line is a gap in the list, not an object with an empty key.
type fileSource struct {
	label  string
	rd     rowReader
	closer io.Closer
}

func newFileSource(label string, rd rowReader, closer io.Closer) *fileSource {
	return &fileSource{label: label, rd: rd, closer: closer}
}

// Name is the source's name for the report, e.g. "manifest objects.csv".
func (s *fileSource) Name() string { return s.label }

// Next returns the next row, or io.EOF after the last one.
func (s *fileSource) Next(ctx context.Context) (Row, error) {
	if err := ctx.Err(); err != nil {
		return Row{}, err
	}
	for {
		row, blank, ok := s.rd.read()
		if !ok {
			if err := s.rd.readErr(); err != nil {
				return Row{}, fmt.Errorf("%s: read: %w", s.label, err)
			}
			return Row{}, io.EOF
		}
		if !blank {
			return row, nil
		}
	}
}

// Close releases the file.
func (s *fileSource) Close() error {
	if s.closer == nil {
		return nil
	}
	err := s.closer.Close()
	s.closer = nil
	return err
}

// Name returns the name of src for the report's source field, such as
// "manifest objects.csv" or "prefix videos/"; "" for a Source of another
// package.
func Name(src Source) string {
	if n, ok := src.(interface{ Name() string }); ok {
		return n.Name()
	}
	return ""
}
