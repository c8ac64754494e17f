// Package offheap is the hash table behind the report's index: ten million
// keys' states in a few hundred megabytes, outside the Go heap.
//
// Where it runs: in every run, dry run and rewrite of a report (package
// index, the report's resume index, one entry per object: a 64-bit hash to
// a 64-bit packed state), and in report.ScanLive (one entry per key of a
// journal). Why unsafe and mmap: a shard of 64 KiB or more is an anonymous
// mapping, so the garbage collector neither scans it nor counts it in its
// heap goal; with a Go slice, a 10M-key index would make the heap goal
// twice the table, and every GC cycle would scan it. The mapping is private
// to the process and freed by Free (the table must not be used afterwards);
// nothing else in the module maps memory.
package offheap

import (
	"math/bits"
	"syscall"
	"unsafe"
)

// Table is a hash table from a non-zero 64-bit hash to a 64-bit value, made
// for the index's 10 million keys: 16 bytes a slot, open addressing with
// linear probing up to 85% full, in 256 shards that each grow by 30% at a
// time (so that growing never needs twice the memory, and the table is
// always between 65% and 85% full: 19 to 25 bytes a key). A shard of 64 KiB
// or more lives outside the Go heap (an anonymous mapping): the garbage
// collector neither scans it nor counts it in its heap goal, so the
// process's memory is the table plus a small heap, not twice the table.
// Nothing is ever deleted. Free must be called when the table is done.
// The zero Table is empty and ready to use.
type Table struct {
	shards [nShards]shard
}

type slot struct{ h, v uint64 }

type shard struct {
	slots  []slot
	n      int
	mapped bool
}

const (
	nShards      = 256
	ShardShift   = 64 - 8 // a key's top 8 bits choose its shard
	minSlots     = 64
	mapThreshold = 64 << 10 // bytes: larger shards are mapped
	slotSize     = int(unsafe.Sizeof(slot{}))
)

// pos is the first slot of h in a shard of n slots: the low 56 bits of h
// scaled to n (the top 8 chose the shard).
func pos(h uint64, n int) int {
	hi, _ := bits.Mul64(h<<8, uint64(n))
	return int(hi)
}

// Get returns the value of h (h != 0).
func (t *Table) Get(h uint64) (uint64, bool) {
	s := &t.shards[h>>ShardShift]
	n := len(s.slots)
	if n == 0 {
		return 0, false
	}
	for i := pos(h, n); ; {
		switch s.slots[i].h {
		case h:
			return s.slots[i].v, true
		case 0:
			return 0, false
		}
		if i++; i == n {
			i = 0
		}
	}
}

// Set stores v for h (h != 0).
func (t *Table) Set(h, v uint64) {
	s := &t.shards[h>>ShardShift]
	if (s.n+1)*100 > len(s.slots)*85 {
		s.grow()
	}
	n := len(s.slots)
	for i := pos(h, n); ; {
		switch s.slots[i].h {
		case h:
			s.slots[i].v = v
			return
		case 0:
			s.slots[i] = slot{h, v}
			s.n++
			return
		}
		if i++; i == n {
			i = 0
		}
	}
}

// Bytes is the memory the slots take.
func (t *Table) Bytes() int {
	n := 0
	for i := range t.shards {
		n += len(t.shards[i].slots) * slotSize
	}
	return n
}

// Len is the number of keys.
func (t *Table) Len() int {
	n := 0
	for i := range t.shards {
		n += t.shards[i].n
	}
	return n
}

func (s *shard) grow() {
	n := len(s.slots) * 13 / 10
	if n < minSlots {
		n = minSlots
	}
	old, oldMapped := s.slots, s.mapped
	s.slots, s.mapped = allocSlots(n)
	for _, sl := range old {
		if sl.h == 0 {
			continue
		}
		for i := pos(sl.h, n); ; {
			if s.slots[i].h == 0 {
				s.slots[i] = sl
				break
			}
			if i++; i == n {
				i = 0
			}
		}
	}
	freeSlots(old, oldMapped)
}

// Free releases the memory of the table; it must not be used afterwards.
func (t *Table) Free() {
	for i := range t.shards {
		s := &t.shards[i]
		freeSlots(s.slots, s.mapped)
		*s = shard{}
	}
}

// allocSlots returns n zeroed slots, mapped outside the Go heap when large.
func allocSlots(n int) ([]slot, bool) {
	size := n * slotSize
	if size >= mapThreshold {
		b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err == nil {
			return unsafe.Slice((*slot)(unsafe.Pointer(unsafe.SliceData(b))), n), true
		}
	}
	return make([]slot, n), false
}

func freeSlots(s []slot, mapped bool) {
	if !mapped || len(s) == 0 {
		return
	}
	syscall.Munmap(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*slotSize))
}
