package report

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/wftrigger/wftrigger/report/internal/index"
)

// request is one line for the journal owner, or (snap != nil) a request for
// a snapshot of the index taken between two lines.
type request struct {
	line     []byte // the JSON record and its newline
	k        index.Key
	st       index.State
	override bool // the record carries a history: it may follow a success
	sync     bool // answer only once the line is fsynced
	job      *Job // a job line: not a record, not indexed
	snap     *snapshot
	group    []*request // RecordAll: the requests after this one, written with it
	done     chan error
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
// to the operating system, so that it survives the process being killed;
// a Dispatched record returns only once it is fsynced too, so that it
// survives a power loss: the call it announces is sent after Record
// returns, and a rerun looks the object up instead of triggering it again.
// Other records are fsynced every second and at Close: losing them to a
// power loss loses no knowledge of a call (their Dispatched record stays).
// Many records waiting share one fsync.
//
// A Withdrawn record takes back the Dispatched record of a key that Admit
// found New, when its call was never sent: the key is then as if never
// seen (no entry in the report). It is for such keys only: withdrawn, a key
// that had an entry would lose it.
//
// The latest record of a key is its entry in the report, but a success is
// final: a later record of a succeeded key is ignored, unless it is the
// second trigger of a failed execution (see RetryFailedExecutions), whose
// records carry the earlier instance in their History. A Dispatched entry
// without DispatchedAt gets the current time. Record is a no-op on a
// read-only report.
func (r *Report) Record(e Entry) error {
	if r.readOnly {
		return nil
	}
	q, err := r.request(e)
	if err != nil {
		return err
	}
	return r.send(q)
}

// RecordAll records every entry of es, in order, as Record does, and
// returns once all are handed to the operating system, and fsynced when
// one of them is Dispatched: one write(2) and one fsync for all of them,
// where calls of Record one after another would wait for an fsync each.
// It returns the first error. RecordAll is a no-op on a read-only report.
func (r *Report) RecordAll(es []Entry) error {
	if r.readOnly || len(es) == 0 {
		return nil
	}
	qs := make([]*request, 0, len(es))
	put := func() {
		for _, q := range qs {
			r.pool.Put(q)
		}
	}
	for i := range es {
		q, err := r.request(es[i])
		if err != nil {
			put()
			return err
		}
		q.group = nil
		qs = append(qs, q)
	}
	// One handoff for all: the owner writes them with one write(2), and
	// the syncer answers them after one fsync.
	qs[0].group = qs[1:]
	select {
	case r.reqs <- qs[0]:
	case <-r.ownerDone:
		qs[0].group = nil
		put()
		return ErrClosed
	}
	var first error
	for _, q := range qs {
		if err := r.await(q); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// request makes the journal owner's request for the record e.
func (r *Report) request(e Entry) (*request, error) {
	q := r.pool.Get().(*request)
	q.override, q.sync, q.job = false, false, nil
	// The key and state by the rules of load and compaction (head).
	h := head{Key: e.Key, WorkflowID: e.WorkflowID, Status: e.Status, Line: e.Line, File: e.File, Uncertain: e.Uncertain}
	q.k, q.st = r.hashOf(&h), h.state()
	switch e.Status {
	case Invalid:
	case Withdrawn:
		e = Entry{Key: e.Key, WorkflowID: e.WorkflowID, Status: Withdrawn}
	case Succeeded, Failed, Dispatched:
		if e.Status == Dispatched && e.DispatchedAt == nil {
			t := r.now().UTC()
			e.DispatchedAt = &t
		}
		q.sync = e.Status == Dispatched
		if e.History == nil && r.hist != nil {
			r.mu.Lock()
			if hist, ok := r.hist[q.k]; ok && (!r.again[q.k] || r.admitted[q.k]) {
				e.History = hist
			}
			r.mu.Unlock()
		}
		q.override = len(e.History) > 0
	default:
		r.pool.Put(q)
		return nil, fmt.Errorf("record %q: unknown status %q", e.Key, e.Status)
	}
	q.line = append(appendEntry(q.line[:0], &e), '\n')
	return q, nil
}

// send hands q to the owner and waits for its answer.
func (r *Report) send(q *request) error {
	select {
	case r.reqs <- q:
	case <-r.ownerDone:
		r.pool.Put(q)
		return ErrClosed
	}
	return r.await(q)
}

// await returns the answer to q, handed to the owner, and gives q back to
// the pool (unless its line grew large).
func (r *Report) await(q *request) error {
	err := <-q.done
	if cap(q.line) <= 64<<10 {
		r.pool.Put(q)
	}
	return err
}

// RecordJob appends the server-side job j to the journal and returns once
// it is fsynced: a run journals the intent (j without ID) before the call
// that creates the job, and the id after it, so that a rerun, even after
// kill -9 or a power loss between the two, finds the job instead of
// submitting a second one. The report keeps the latest Job (its top-level
// "job" field) across rewrites. RecordJob is a no-op on a read-only report.
func (r *Report) RecordJob(j Job) error {
	if r.readOnly {
		return nil
	}
	if j.Name == "" {
		return errors.New("record job: no name")
	}
	q := r.pool.Get().(*request)
	q.override, q.sync = false, true
	q.job = &j
	q.line = append(appendJobLine(q.line[:0], &j), '\n')
	return r.send(q)
}

// Job returns the server-side job the report and journal know of, as of
// Open and the RecordJob calls since.
func (r *Report) Job() (Job, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.job == nil {
		return Job{}, false
	}
	return *r.job, true
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
			batch = append(append(batch[:0], q), q.group...)
			q.group = nil
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
				batch = append(append(batch, q), q.group...)
				q.group = nil
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
// them (those that ask for it once the syncer has fsynced them). A failed
// write ends all writing: the journal may hold part of it.
func (r *Report) write(reqs []*request, buf []byte) []byte {
	err := r.werr
	if err == nil {
		if p := r.broken.Load(); p != nil {
			err = *p
		}
	}
	if err == nil && r.nextSeq+uint64(len(reqs)) > index.MaxSeq {
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
				if q.job != nil {
					r.job = q.job
					continue
				}
				r.applyLocked(q.k, q.st, q.override)
			}
			r.goodOff += int64(len(buf))
			r.mu.Unlock()
			// Answer the others first: once a request is pending, the
			// syncer may answer it and its Record reuse it.
			n := 0
			for _, q := range reqs {
				if !q.sync {
					q.done <- nil
					continue
				}
				reqs[n] = q
				n++
			}
			if n > 0 {
				r.pendMu.Lock()
				r.pending = append(r.pending, reqs[:n]...)
				r.pendMu.Unlock()
				select {
				case r.syncNow <- struct{}{}:
				default:
				}
			}
			return buf
		}
	}
	for _, q := range reqs {
		q.done <- err
	}
	return buf
}

// applyLocked indexes the record at nextSeq. While a compaction runs, the
// seq a key had at its snapshot is kept aside the first time it changes.
func (r *Report) applyLocked(k index.Key, st index.State, override bool) {
	seq := r.nextSeq
	old, existed, applied := r.idx.Apply(k, st, seq, true, override)
	r.nextSeq++
	r.markLocked(seq, st, old, existed, applied)
	if !applied || !r.compacting {
		return
	}
	if _, ok := r.superseded[k]; ok {
		return
	}
	s := uint64(index.NoSeq)
	if existed && index.SeqOf(old) < r.snapSeq {
		s = index.SeqOf(old)
	}
	r.superseded[k] = s
}

// markLocked keeps r.lines true of the record at seq, in state st, which
// the index applied or not over its key's value old: the record is Dead
// when it was not applied or withdraws, Plain when it is a success or a
// failure; the record it replaced is Dead, unless a compaction running
// still needs it (before its snapshot: it is marked once the compaction
// ends, from r.superseded).
func (r *Report) markLocked(seq uint64, st index.State, old uint64, existed, applied bool) {
	if r.readOnly {
		return // never compacted
	}
	switch {
	case !applied || st == index.None:
		r.lines.Set(seq, index.Dead)
	case index.PlainState(st):
		r.lines.Set(seq, index.Plain)
	}
	if !applied || !existed {
		return
	}
	if o := index.SeqOf(old); o != index.NoSeq && !(r.compacting && o < r.snapSeq) {
		r.lines.Set(o, index.Dead)
	}
}

// endCompactionLocked ends a compaction: the records it still needed that
// were replaced meanwhile are marked Dead.
func (r *Report) endCompactionLocked() {
	for _, s := range r.superseded {
		if s != index.NoSeq {
			r.lines.Set(s, index.Dead)
		}
	}
	r.compacting = false
	r.superseded = nil
}

// snapshotLocked marks the point a compaction writes up to.
func (r *Report) snapshotLocked(dropUnseen bool) snapshot {
	r.compacting = true
	r.snapSeq = r.nextSeq
	r.superseded = make(map[index.Key]uint64)
	s := snapshot{seq: r.nextSeq, end: r.goodOff, summary: summaryOf(r.idx.Counts(dropUnseen))}
	s.summary.Duplicates = r.dups
	s.summary.Complete = dropUnseen // only Close says the source was read to its end
	return s
}

// syncer fsyncs the journal: at once when records wait for it (all those
// waiting share one fsync), and every second if it was written to. Every
// second it also checks that the report's locks are still its own.
func (r *Report) syncer() {
	defer close(r.syncDone)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-r.quit:
			<-r.ownerDone // nothing is written after this
			r.syncPending()
			return
		case <-r.syncNow:
			r.syncPending()
		case <-t.C:
			if err := r.held.check(); err != nil {
				r.broken.CompareAndSwap(nil, &err)
			}
			if r.dirty.Load() {
				r.syncPending()
			}
		}
	}
}

// syncPending fsyncs the journal and answers the records that waited for it.
func (r *Report) syncPending() {
	r.pendMu.Lock()
	waiting := r.pending
	r.pending = nil
	r.pendMu.Unlock()
	r.dirty.Store(false)
	var err error
	if serr := r.journal.Sync(); serr != nil {
		err = fmt.Errorf("journal %s: %w", r.journalPath, serr)
		r.mu.Lock()
		if r.syncErr == nil {
			r.syncErr = err
		}
		r.mu.Unlock()
	}
	for _, q := range waiting {
		q.done <- err
	}
}
