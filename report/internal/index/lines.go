package index

// Lines keeps, for each record by its seq, what a compaction can know of
// it without reading it again: Dead, it is no key's entry (a later record
// of its key replaced it, its key kept a success over it, or it withdrew an
// announcement); Plain, it is its key's entry and goes into the report as
// it is (a success or a failure). A record with neither mark (an invalid
// line, a Dispatched record, a record a running compaction still needs)
// is read and looked up as before. Without the marks a compaction decoded
// every record and looked its key up, of which about half, in a fresh run
// the Dispatched records, were thrown away: a third of the runner's own
// CPU per object (runner's BenchmarkRun).
//
// Two bits a record, in chunks that never move: 20M records (10M objects,
// each announced then answered) take 5 MB, on the Go heap but free of
// pointers (the garbage collector does not scan it). Its user guards it.
type Lines struct {
	chunks []*[linesChunk]uint64
}

// Mark is what Lines knows of a record.
type Mark uint8

// The marks of a record.
const (
	Unknown Mark = iota // read it and look it up
	Dead                // no key's entry: leave it out
	Plain               // its key's entry, as it is
)

// linesChunk is the words of a chunk: 32,768 records in 8 KiB.
const linesChunk = 1024

// Set marks the record at seq. A record is marked when it is written (if
// at all), and Dead when it is replaced.
func (l *Lines) Set(seq uint64, m Mark) {
	c, w, shift := seq/(linesChunk*32), seq/32%linesChunk, seq%32*2
	for uint64(len(l.chunks)) <= c {
		l.chunks = append(l.chunks, new([linesChunk]uint64))
	}
	word := &l.chunks[c][w]
	*word = *word&^(3<<shift) | uint64(m)<<shift
}

// Of is the mark of the record at seq.
func (l *Lines) Of(seq uint64) Mark {
	c := seq / (linesChunk * 32)
	if c >= uint64(len(l.chunks)) {
		return Unknown
	}
	return Mark(l.chunks[c][seq/32%linesChunk] >> (seq % 32 * 2) & 3)
}

// Free releases the marks.
func (l *Lines) Free() { l.chunks = nil }

// PlainState says whether a record whose state is st, and which was
// applied, goes into the report as it is: a success or a failure, not an
// invalid line (dropped when its line was not seen), a Dispatched record
// (rewritten as uncertain) or a withdrawal (left out).
func PlainState(st State) bool { return st == Succeeded || st == Failed || st == Uncertain }
