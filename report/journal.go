package report

import (
	"fmt"
	"runtime"
	"time"
)

// request is one line for the journal owner, or (snap != nil) a request for
// a snapshot of the index taken between two lines.
type request struct {
	line []byte // the JSON record and its newline
	k    hkey
	st   state
	snap *snapshot
	done chan error
}

// snapshot is what a compaction writes: every record before seq (the
// journal up to end), counted by summary.
type snapshot struct {
	seq     uint64
	end     int64
	summary Summary
}

// maxBatch bounds the lines written by one write(2).
const maxBatch = 4096

// Record appends e to the journal and returns once the line has been handed
// to the operating system, so that it survives the process being killed
// (the journal is fsynced every second and at Close). The latest record of
// a key is its entry in the report. A Dispatched entry without DispatchedAt
// gets the current time. Record is a no-op on a read-only report.
func (r *Report) Record(e Entry) error {
	if r.readOnly {
		return nil
	}
	q := r.pool.Get().(*request)
	switch e.Status {
	case Invalid:
		q.k = r.idx.invalidHash(e.File, e.Line, e.Key)
		q.st = stInvalid
	case Succeeded, Failed, Dispatched:
		q.k = r.idx.keyHash(r.workflow(e.WorkflowID), e.Key)
		h := head{Status: e.Status, Uncertain: e.Uncertain}
		q.st = h.state()
		if e.Status == Dispatched && e.DispatchedAt == nil {
			t := r.now().UTC()
			e.DispatchedAt = &t
		}
	default:
		r.pool.Put(q)
		return fmt.Errorf("record %q: unknown status %q", e.Key, e.Status)
	}
	q.line = append(appendEntry(q.line[:0], &e), '\n')
	select {
	case r.reqs <- q:
	case <-r.ownerDone:
		r.pool.Put(q)
		return ErrClosed
	}
	err := <-q.done
	if cap(q.line) <= 64<<10 {
		r.pool.Put(q)
	}
	return err
}

// own is the journal's only writer: it takes every request waiting, writes
// their lines with one write(2), indexes them in order and answers them.
func (r *Report) own() {
	defer close(r.ownerDone)
	var (
		batch []*request
		buf   []byte
	)
	for {
		select {
		case q := <-r.reqs:
			batch = append(batch[:0], q)
		case <-r.quit:
			return
		}
		// Let the workers that are about to record do so: one write(2)
		// for many lines costs far less than one each.
		runtime.Gosched()
	drain:
		for len(batch) < maxBatch {
			select {
			case q := <-r.reqs:
				batch = append(batch, q)
			default:
				break drain
			}
		}
		for rest := batch; len(rest) > 0; {
			n := 0
			for n < len(rest) && rest[n].snap == nil {
				n++
			}
			if n > 0 {
				buf = r.write(rest[:n], buf[:0])
				if cap(buf) > 4<<20 {
					buf = nil
				}
			}
			if n < len(rest) {
				q := rest[n]
				r.mu.Lock()
				*q.snap = r.snapshotLocked(false)
				r.mu.Unlock()
				q.done <- nil
				n++
			}
			rest = rest[n:]
		}
		clear(batch)
	}
}

// write appends the lines of reqs to the journal, indexes them and answers
// them. A failed write ends all writing: the journal may hold part of it.
func (r *Report) write(reqs []*request, buf []byte) []byte {
	err := r.werr
	if err == nil && r.nextSeq+uint64(len(reqs)) > maxSeq {
		err = fmt.Errorf("journal %s: %w", r.journalPath, errTooMany)
	}
	if err == nil {
		for _, q := range reqs {
			buf = append(buf, q.line...)
		}
		if _, err = r.journal.Write(buf); err != nil {
			err = fmt.Errorf("journal %s: %w", r.journalPath, err)
			r.werr = err
		} else {
			r.dirty.Store(true)
			r.mu.Lock()
			for _, q := range reqs {
				r.applyLocked(q.k, q.st)
			}
			r.goodOff += int64(len(buf))
			r.mu.Unlock()
		}
	}
	for _, q := range reqs {
		q.done <- err
	}
	return buf
}

// applyLocked indexes the record at nextSeq. While a compaction runs, the
// seq a key had at its snapshot is kept aside the first time it changes.
func (r *Report) applyLocked(k hkey, st state) {
	old, existed := r.idx.apply(k, st, r.nextSeq, true)
	r.nextSeq++
	if !r.compacting {
		return
	}
	if _, ok := r.superseded[k]; ok {
		return
	}
	s := uint64(noSeq)
	if existed && seqOf(old) < r.snapSeq {
		s = seqOf(old)
	}
	r.superseded[k] = s
}

// snapshotLocked marks the point a compaction writes up to.
func (r *Report) snapshotLocked(dropUnseen bool) snapshot {
	r.compacting = true
	r.snapSeq = r.nextSeq
	r.superseded = make(map[hkey]uint64)
	s := snapshot{seq: r.nextSeq, end: r.goodOff, summary: r.idx.summary(dropUnseen)}
	s.summary.Duplicates = r.dups
	return s
}

// syncer fsyncs the journal every second if it was written to.
func (r *Report) syncer() {
	defer close(r.syncDone)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-r.quit:
			return
		case <-t.C:
			if !r.dirty.Swap(false) {
				continue
			}
			if err := r.journal.Sync(); err != nil {
				r.mu.Lock()
				if r.syncErr == nil {
					r.syncErr = fmt.Errorf("journal %s: %w", r.journalPath, err)
				}
				r.mu.Unlock()
			}
		}
	}
}
