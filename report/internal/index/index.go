// Package index is the report's resume index: for every object of the
// report, the journal and the run, only what resume needs, the state of
// its latest record and the position (seq) of that record, never its key.
// It states the one rule of the index, a success is final (Keeps): Apply
// and report.ScanLive follow it. Lines keeps, by seq, what a rewrite of the
// report need not read again.
//
// Keys are identified by a 92-bit hash: h1 is 64 bits of maphash (the
// table's key) and h2 the top 28 bits of a second maphash with another seed
// (stored in the table's value). Two keys are confused only when all 92
// bits agree: with n keys the probability that any pair does is about
// n²/2 / 2^92 ≈ 1e14/2/4.95e27 ≈ 1e-14 at n = 10,000,000. A 64-bit h1
// collision between keys whose h2 differ (about n²/2^65 ≈ 3e-6 at 10M) is
// not a confusion: the second key lives in a small overflow map keyed by
// the pair.
//
// The value packs, from the low bits: seq (32 bits), the state (3 bits),
// the seen-this-run bit and h2 (28 bits). In the table (package offheap) a
// key takes 19 to 25 bytes: 10M keys about 220 MB, 1M keys 22 MB; see
// report's TestIndexMemory.
package index

import (
	"hash/maphash"
	"strconv"
	"unicode/utf8"

	"github.com/wftrigger/wftrigger/internal/jsontext"
	"github.com/wftrigger/wftrigger/report/internal/offheap"
)

// State is what the latest record of a key says.
type State uint8

// The states of a key.
const (
	None       State = iota // admitted in this run, nothing recorded yet
	Succeeded               // succeeded
	Failed                  // failed: try again
	Uncertain               // failed with Uncertain: look it up first
	Dispatched              // a call was sent and nothing followed
	Invalid                 // an invalid row (indexed by line)
	nStates
)

const (
	seqBits    = 32
	seqMask    = 1<<seqBits - 1
	stateShift = seqBits
	stateMask  = 7
	seenBit    = 1 << 35
	h2Shift    = 36
)

const (
	NoSeq  = seqMask     // the seq of an entry with no record (None)
	MaxSeq = seqMask - 1 // the largest seq a record may have
)

// Key identifies a key (or an invalid line): h1 and the 28-bit h2.
type Key struct{ h1, h2 uint64 }

// Packed returns bits, which must fit in the low 36 bits, with k's h2 in
// the top bits, where Get and Put expect it: Pack's layout, or the
// caller's own (report.ScanLive packs a journal offset and flags).
func (k Key) Packed(bits uint64) uint64 { return k.h2<<h2Shift | bits }

// Pack is the value of k whose latest record, at seq, says st.
func Pack(k Key, st State, seq uint64, seen bool) uint64 {
	v := k.Packed(uint64(st)<<stateShift | seq&seqMask)
	if seen {
		v |= seenBit
	}
	return v
}

// SeqOf is the seq of the latest record of a packed value.
func SeqOf(v uint64) uint64 { return v & seqMask }

// StateOf is the state of a packed value.
func StateOf(v uint64) State { return State(v >> stateShift & stateMask) }

// SeenOf says whether the key of a packed value was seen in this run.
func SeenOf(v uint64) bool { return v&seenBit != 0 }

// WithSeen is v marked seen in this run.
func WithSeen(v uint64) uint64 { return v | seenBit }

func h2Of(v uint64) uint64 { return v >> h2Shift }

// Index is the in-memory map of every known key. Its user guards it.
type Index struct {
	seed1, seed2 maphash.Seed
	t            offheap.Table
	ovf          map[Key]uint64 // keys whose h1 is taken by a key with another h2
	counts       [nStates]int   // entries by state
	// invalidUnseen counts invalid entries whose line was not recorded again
	// in this run: dropped from the final report of a complete source.
	invalidUnseen int
}

// New returns an empty index; Free releases it.
func New() *Index {
	return &Index{
		seed1: maphash.MakeSeed(),
		seed2: maphash.MakeSeed(),
	}
}

// KeyHash identifies key for workflowID (already defaulted to the run's).
// A key that is not valid UTF-8 is hashed as JSON encodes it (each bad byte
// replaced by U+FFFD), so that it is found again when read back.
func (x *Index) KeyHash(workflowID, key string) Key {
	if !utf8.ValidString(key) {
		key = jsontext.ReplaceInvalid(key)
	}
	if !utf8.ValidString(workflowID) {
		workflowID = jsontext.ReplaceInvalid(workflowID)
	}
	var h maphash.Hash
	h.SetSeed(x.seed1)
	h.WriteString(workflowID)
	h.WriteByte(0)
	h.WriteString(key)
	h1 := h.Sum64()
	if h1 == 0 {
		h1 = 1 // 0 marks an empty slot
	}
	h.SetSeed(x.seed2)
	h.WriteString(workflowID)
	h.WriteByte(0)
	h.WriteString(key)
	return Key{h1, h.Sum64() >> h2Shift}
}

// InvalidHash identifies the invalid entry of a source line (of a data
// file, for an inventory: each file's lines count from 1); an invalid entry
// without a line (from a listing) is identified by its key.
func (x *Index) InvalidHash(file string, line int, key string) Key {
	if line > 0 {
		return x.KeyHash("\x01invalid", file+"\x00"+strconv.Itoa(line))
	}
	return x.KeyHash("\x02invalid", key)
}

// Get returns the packed value of k.
func (x *Index) Get(k Key) (uint64, bool) {
	v, ok := x.t.Get(k.h1)
	if !ok {
		return 0, false
	}
	if h2Of(v) == k.h2 {
		return v, true
	}
	v, ok = x.ovf[k]
	return v, ok
}

// Put stores the packed value of k (k's h2 must be packed in v: see
// Key.Packed). It counts nothing: Apply and AddNew do.
func (x *Index) Put(k Key, v uint64) {
	old, ok := x.t.Get(k.h1)
	if !ok || h2Of(old) == k.h2 {
		x.t.Set(k.h1, v)
		return
	}
	if x.ovf == nil {
		x.ovf = make(map[Key]uint64)
	}
	x.ovf[k] = v
}

// AddNew indexes k, which the index does not hold, as seen in this run
// with nothing recorded yet.
func (x *Index) AddNew(k Key) {
	x.Put(k, Pack(k, None, NoSeq, true))
	x.counts[None]++
}

// Keeps says whether a key whose latest record says latest keeps it when a
// record that says next follows: a success is final, so a later record that
// is not a success is not applied, unless it is the Dispatched record of a
// deliberate second trigger of an execution that failed (override: the
// record carries a history).
func Keeps(latest, next State, override bool) bool {
	return latest == Succeeded && next != Succeeded && !(override && next == Dispatched)
}

// Apply records that the latest record of k, at seq, says st, unless the
// key Keeps the record it has; None (a withdrawal) leaves the key with no
// record (NoSeq). It returns the previous value, if any, and
// whether the record was applied.
func (x *Index) Apply(k Key, st State, seq uint64, seen, override bool) (old uint64, existed, applied bool) {
	old, existed = x.Get(k)
	if existed {
		ost := StateOf(old)
		if Keeps(ost, st, override) {
			return old, true, false
		}
		x.counts[ost]--
		if ost == Invalid && !SeenOf(old) {
			x.invalidUnseen--
		}
		seen = seen || SeenOf(old)
	}
	x.counts[st]++
	if st == Invalid && !seen {
		x.invalidUnseen++
	}
	if st == None {
		seq = NoSeq // a withdrawal: the key has no record, as after AddNew
	}
	x.Put(k, Pack(k, st, seq, seen))
	return old, existed, true
}

// Count is the number of entries in state st.
func (x *Index) Count(st State) int { return x.counts[st] }

// Len is the number of entries.
func (x *Index) Len() int { return x.t.Len() + len(x.ovf) }

// Bytes is the memory the index's table takes.
func (x *Index) Bytes() int { return x.t.Bytes() }

// Free releases the index's memory; it is empty afterwards.
func (x *Index) Free() {
	x.t.Free()
	x.ovf = nil
}

// Counts are the entries a report of the index would hold, by what the
// report says of them: an uncertain or dispatched entry is failed.
type Counts struct {
	Total, Succeeded, Failed, Invalid int
}

// Counts counts the entries the report would hold now; dropUnseen leaves
// out the invalid entries whose line was not seen in this run.
func (x *Index) Counts(dropUnseen bool) Counts {
	s := Counts{
		Succeeded: x.counts[Succeeded],
		Failed:    x.counts[Failed] + x.counts[Uncertain] + x.counts[Dispatched],
		Invalid:   x.counts[Invalid],
	}
	if dropUnseen {
		s.Invalid -= x.invalidUnseen
	}
	s.Total = s.Succeeded + s.Failed + s.Invalid
	return s
}
