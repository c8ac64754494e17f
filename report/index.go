package report

import (
	"hash/maphash"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wftrigger/wftrigger/report/internal/offheap"

	"github.com/wftrigger/wftrigger/internal/jsontext"
)

// The index remembers, for every object of the report, the journal and this
// run, only what resume needs: the object's state and the position (seq) of
// its latest record, never its key. Keys are identified by a 92-bit hash:
// h1 is 64 bits of maphash (the table's key) and h2 the top 28 bits of a
// second maphash with another seed (stored in the map's value). Two keys are
// confused only when all 92 bits agree: with n keys the probability that any
// pair does is about n²/2 / 2^92 ≈ 1e14/2/4.95e27 ≈ 1e-14 at n = 10,000,000.
// A 64-bit h1 collision between keys whose h2 differ (about n²/2^65 ≈ 3e-6 at
// 10M) is not a confusion: the second key lives in a small overflow map keyed
// by the pair.
//
// The value packs, from the low bits: seq (32 bits), the state (3 bits), the
// seen-this-run bit and h2 (28 bits). In the table (package offheap) a key takes
// 19 to 25 bytes: 10M keys about 220 MB, 1M keys 22 MB; see TestIndexMemory.

// state is what the latest record of a key says.
type state uint8

const (
	stNone       state = iota // admitted in this run, nothing recorded yet
	stSucceeded               // succeeded
	stFailed                  // failed: try again
	stUncertain               // failed with Uncertain: look it up first
	stDispatched              // a call was sent and nothing followed
	stInvalid                 // an invalid row (indexed by line)
	nStates
)

const (
	seqBits    = 32
	seqMask    = 1<<seqBits - 1
	noSeq      = seqMask // the seq of an entry with no record (stNone)
	maxSeq     = seqMask - 1
	stateShift = seqBits
	stateMask  = 7
	seenBit    = 1 << 35
	h2Shift    = 36
)

// hkey identifies a key (or an invalid line): h1 and the 28-bit h2.
type hkey struct{ h1, h2 uint64 }

func pack(k hkey, st state, seq uint64, seen bool) uint64 {
	v := k.h2<<h2Shift | uint64(st)<<stateShift | seq&seqMask
	if seen {
		v |= seenBit
	}
	return v
}

func seqOf(v uint64) uint64     { return v & seqMask }
func stateOf(v uint64) state    { return state(v >> stateShift & stateMask) }
func seenOf(v uint64) bool      { return v&seenBit != 0 }
func h2Of(v uint64) uint64      { return v >> h2Shift }
func withSeen(v uint64) uint64  { return v | seenBit }
func isUncertain(st state) bool { return st == stUncertain || st == stDispatched }

// index is the in-memory map of every known key. It is guarded by Report.mu.
type index struct {
	seed1, seed2 maphash.Seed
	t            offheap.Table
	ovf          map[hkey]uint64 // keys whose h1 is taken by a key with another h2
	counts       [nStates]int    // entries by state
	// invalidUnseen counts invalid entries whose line was not recorded again
	// in this run: dropped from the final report of a complete source.
	invalidUnseen int
	// dispatchedAt holds, for keys loaded as uncertain only, when the first
	// uncertain call was sent.
	dispatchedAt map[hkey]time.Time
}

func newIndex() *index {
	return &index{
		seed1:        maphash.MakeSeed(),
		seed2:        maphash.MakeSeed(),
		dispatchedAt: make(map[hkey]time.Time),
	}
}

// keyHash identifies key for workflowID (already defaulted to the run's).
// A key that is not valid UTF-8 is hashed as JSON encodes it (each bad byte
// replaced by U+FFFD), so that it is found again when read back.
func (x *index) keyHash(workflowID, key string) hkey {
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
	return hkey{h1, h.Sum64() >> h2Shift}
}

// invalidHash identifies the invalid entry of a source line (of a data
// file, for an inventory: each file's lines count from 1); an invalid entry
// without a line (from a listing) is identified by its key.
func (x *index) invalidHash(file string, line int, key string) hkey {
	if line > 0 {
		return x.keyHash("\x01invalid", file+"\x00"+strconv.Itoa(line))
	}
	return x.keyHash("\x02invalid", key)
}

// get returns the packed value of k.
func (x *index) get(k hkey) (uint64, bool) {
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

// put stores the packed value of k (k.h2 must be packed in v).
func (x *index) put(k hkey, v uint64) {
	old, ok := x.t.Get(k.h1)
	if !ok || h2Of(old) == k.h2 {
		x.t.Set(k.h1, v)
		return
	}
	if x.ovf == nil {
		x.ovf = make(map[hkey]uint64)
	}
	x.ovf[k] = v
}

// apply records that the latest record of k, at seq, says st. A success
// is final: a later record that is not a success is not applied, unless
// it is the Dispatched record of a deliberate second trigger of an
// execution that failed (override: the record carries a history). It returns the previous value, if any, and
// whether the record was applied.
func (x *index) apply(k hkey, st state, seq uint64, seen, override bool) (old uint64, existed, applied bool) {
	old, existed = x.get(k)
	if existed {
		ost := stateOf(old)
		if ost == stSucceeded && st != stSucceeded && !(override && st == stDispatched) {
			return old, true, false
		}
		x.counts[ost]--
		if ost == stInvalid && !seenOf(old) {
			x.invalidUnseen--
		}
		seen = seen || seenOf(old)
	}
	x.counts[st]++
	if st == stInvalid && !seen {
		x.invalidUnseen++
	}
	x.put(k, pack(k, st, seq, seen))
	return old, existed, true
}

// len is the number of entries.
func (x *index) len() int { return x.t.Len() + len(x.ovf) }

// free releases the index's memory; it is empty afterwards.
func (x *index) free() {
	x.t.Free()
	x.ovf = nil
}

// summary counts the entries the report would hold now; dropUnseen leaves
// out the invalid entries whose line was not seen in this run.
func (x *index) summary(dropUnseen bool) Summary {
	s := Summary{
		Succeeded: x.counts[stSucceeded],
		Failed:    x.counts[stFailed] + x.counts[stUncertain] + x.counts[stDispatched],
		Invalid:   x.counts[stInvalid],
	}
	if dropUnseen {
		s.Invalid -= x.invalidUnseen
	}
	s.Total = s.Succeeded + s.Failed + s.Invalid
	return s
}
