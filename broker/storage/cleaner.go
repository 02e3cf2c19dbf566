package storage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Log compaction (Kafka's log cleaner), for logs whose cleanup.policy
// includes compact.
//
// Clean makes one pass. The log's sealed, durable segments up to the
// first uncleanable offset (the active segment's base, the first offset
// of the oldest open transaction, and the first segment holding a record
// newer than min.compaction.lag.ms, whichever comes first) are cleanable.
// Those at or after the cleaner checkpoint, the offset where the last
// pass ended, are dirty. A pass runs when the dirty bytes are at least
// min.cleanable.dirty.ratio of the cleanable ones, or when the oldest
// dirty record is older than max.compaction.lag.ms.
//
// A pass maps every key of the dirty records to its latest offset, then
// rewrites each cleanable segment, keeping a record when no later record
// has its key. Records keep their offsets: a batch keeps its base offset,
// last offset delta, attributes and producer fields, and holds only the
// records kept (its CRC recomputed, its records compressed again with its
// codec); a batch with none left is dropped. Records without a key are
// dropped. A tombstone (null value) is kept the first time it is
// cleaned, and its batch given a delete horizon of now plus
// delete.retention.ms (KIP-534: attributes bit 6, the horizon in the base
// timestamp field); a pass after the horizon drops it. Aborted
// transactions' records are dropped; an abort marker stays until a pass
// finds none of its transaction's batches left, a commit marker until a
// pass finds none of its transaction's batches, and then each goes as a
// tombstone does.
//
// A segment is rewritten to <base>.log.cleaned, which is fsynced and
// renamed to <base>.log.swap: from then on the new segment is the
// segment. Its old index files are removed and the .swap file is renamed
// over <base>.log; its index files are written after. Open completes a
// swap it finds (removes the index files, renames the .swap file) and
// removes .cleaned files, so a crash at any step leaves either the old
// segment or the new one. A segment cleaned to nothing leaves the log
// (renamed to .deleted), unless it is the first one, which stays, empty,
// so the log start offset does not move.
//
// The cleaner checkpoint (cleaner-offset-checkpoint in the partition
// folder: the decimal offset and a newline) says where the last pass
// ended; the next pass maps the records from there. Before its first swap
// a pass adds a second line, the offset where it ends, and writes the
// file without it once done: offsets below the larger of the two may
// have gaps, which recovery accepts there only.
//
// A pass also runs, with nothing dirty, once the earliest delete horizon
// it set has passed, to drop those tombstones and markers (that horizon
// is kept in memory: after a restart they go with the next pass).

const (
	cleanerCheckpointFile = "cleaner-offset-checkpoint"
	cleanedSuffix         = ".cleaned"
	swapSuffix            = ".swap"

	// attrDeleteHorizon is attributes bit 6: the batch's base timestamp is
	// its delete horizon.
	attrDeleteHorizon = 0x40
)

// CleanResult says what a cleaning pass did.
type CleanResult struct {
	// Cleaned is set when a pass ran.
	Cleaned bool
	// FirstDirty and CleanedTo are the dirty section the pass mapped.
	FirstDirty, CleanedTo int64
	// Segments counts the segments rewritten, Removed those that left the
	// log.
	Segments, Removed int
	BytesRead         int64
	BytesWritten      int64
	// RecordsRemoved counts the records dropped.
	RecordsRemoved int64
}

// CleanerCheckpoint is the offset where the last cleaning pass ended:
// records below it have been cleaned at least once.
func (l *Log) CleanerCheckpoint() int64 { return l.cleanedTo.Load() }

// loadCleanerCheckpoint reads the cleaner checkpoint file: the offset
// where the last pass ended, and on a second line, while a pass swaps
// segments, the offset where that pass ends (offsets below either may
// have gaps).
func (l *Log) loadCleanerCheckpoint() {
	data, err := os.ReadFile(filepath.Join(l.dir, cleanerCheckpointFile))
	if err != nil {
		return
	}
	var offs []int64
	for _, f := range strings.Fields(string(data)) {
		off, err := strconv.ParseInt(f, 10, 64)
		if err != nil || off < 0 {
			l.log.Warn("bad cleaner checkpoint; the log is cleaned from its start", "file", filepath.Join(l.dir, cleanerCheckpointFile))
			return
		}
		offs = append(offs, off)
	}
	if len(offs) == 0 || len(offs) > 2 {
		return
	}
	l.cleanedTo.Store(offs[0])
	l.gapsBelow.Store(max(offs[0], offs[len(offs)-1]))
}

// cleanPlan is what a pass cleans, taken under the log's locks.
type cleanPlan struct {
	segs       []*segment // the cleanable segments, oldest first
	firstDirty int64
	end        int64 // the first uncleanable offset: a segment base
	aborted    []AbortedTxn
}

// Clean runs one compaction pass if the log's cleanup.policy includes
// compact and enough of it is dirty (force skips the ratio and lag
// checks). Appends, reads, flushes and retention go on meanwhile; the
// locks are held only to plan the pass and to swap each segment.
//
// A pass stops between segments when ctx ends.
func (l *Log) Clean(ctx context.Context, now time.Time, force bool) (CleanResult, error) {
	opts := l.opts.Load()
	if !opts.Compact {
		return CleanResult{}, nil
	}
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	plan, ok, err := l.planClean(opts, now, force)
	if err != nil || !ok {
		return CleanResult{}, err
	}
	res := CleanResult{Cleaned: true, FirstDirty: plan.firstDirty, CleanedTo: plan.end}
	keys, err := l.mapKeys(plan, opts, &res)
	if err != nil {
		return res, l.cleanErr(err)
	}
	c := &cleaning{l: l, opts: opts, now: now, keys: keys, aborted: plan.aborted,
		ongoingAborted: map[int64]*abortState{}, ongoingCommitted: map[int64]bool{}}
	checkpointed := false
	for _, s := range plan.segs {
		if ctx.Err() != nil {
			return res, nil
		}
		ns, err := c.cleanSegment(s, &res)
		if err != nil {
			return res, l.cleanErr(err)
		}
		if !checkpointed {
			// Before any swap: recovery accepts gaps below it.
			if err := l.writeCleanerCheckpoint(l.cleanedTo.Load(), plan.end); err != nil {
				ns.f.Close()
				l.removeFile(ns.path + cleanedSuffix)
				return res, err
			}
			checkpointed = true
		}
		if err := l.swapSegment(s, ns, &res); err != nil {
			return res, l.cleanErr(err)
		}
	}
	if err := l.writeCleanerCheckpoint(plan.end, -1); err != nil {
		return res, err
	}
	l.horizon.Store(c.horizon)
	l.log.Info("cleaned log", "first_dirty", res.FirstDirty, "cleaned_to", res.CleanedTo, "segments", res.Segments,
		"removed_segments", res.Removed, "records_removed", res.RecordsRemoved, "bytes_read", res.BytesRead, "bytes_written", res.BytesWritten)
	return res, nil
}

// cleanErr reports an error of a pass; a segment that retention or a
// closing log took away meanwhile ends the pass quietly.
func (l *Log) cleanErr(err error) error {
	if errors.Is(err, os.ErrClosed) || errors.Is(err, errSegmentGone) {
		return nil
	}
	return err
}

var errSegmentGone = errors.New("segment left the log during cleaning")

// planClean decides whether a pass runs and over what.
func (l *Log) planClean(opts *Options, now time.Time, force bool) (cleanPlan, bool, error) {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.failed != nil {
		return cleanPlan{}, false, nil
	}
	uncleanable := l.active().base
	if u := l.unstable.Load(); u > 0 {
		uncleanable = min(uncleanable, u-1)
	}
	lagCut := now.Add(-opts.MinCompactionLag).UnixMilli()
	n := 0
	for n < len(l.segs)-1 {
		s := l.segs[n]
		if !s.synced || l.segs[n+1].base > uncleanable || (opts.MinCompactionLag > 0 && s.maxTs > lagCut) {
			break
		}
		n++
	}
	if n == 0 {
		return cleanPlan{}, false, nil
	}
	p := cleanPlan{segs: append([]*segment(nil), l.segs[:n]...), end: l.segs[n].base}
	p.firstDirty = min(max(l.cleanedTo.Load(), l.segs[0].base), p.end)
	hz := l.horizon.Load()
	horizonDue := hz > 0 && now.UnixMilli() >= hz
	if p.firstDirty >= p.end && !force && !horizonDue {
		return cleanPlan{}, false, nil
	}
	var dirty, total int64
	var firstDirtySeg *segment
	for _, s := range p.segs {
		total += s.size
		if s.next > p.firstDirty {
			dirty += s.size
			if firstDirtySeg == nil {
				firstDirtySeg = s
			}
		}
	}
	if !force && !horizonDue {
		due := total > 0 && float64(dirty)/float64(total) >= opts.MinCleanableRatio
		if !due && opts.MaxCompactionLag > 0 && firstDirtySeg != nil && firstDirtySeg.size > 0 {
			var hb [BatchHeaderSize]byte
			if n, _ := firstDirtySeg.f.ReadAt(hb[:], 0); n == BatchHeaderSize {
				h, _ := ParseHeader(hb[:])
				due = now.Sub(time.UnixMilli(min(h.BaseTimestamp, h.MaxTimestamp))) > opts.MaxCompactionLag
			}
		}
		if !due {
			return cleanPlan{}, false, nil
		}
	}
	for _, s := range l.segs {
		for _, a := range s.aborted {
			if a.FirstOffset < p.end {
				p.aborted = append(p.aborted, a)
			}
		}
	}
	sort.Slice(p.aborted, func(i, j int) bool { return p.aborted[i].FirstOffset < p.aborted[j].FirstOffset })
	return p, true, nil
}

// scanBatches calls fn with each whole batch of sealed segment s.
func scanBatches(s *segment, fn func(b []byte, h *BatchHeader, pos int64) error) error {
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, 0, s.size), 1<<20)
	var buf []byte
	for pos := int64(0); pos < s.size; {
		buf = grow(buf, BatchHeaderSize)
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("clean %s at %d: %w", s.path, pos, err)
		}
		h, _ := ParseHeader(buf)
		if err := checkFraming(&h, s.size-pos); err != nil {
			return fmt.Errorf("clean %s at %d: %w", s.path, pos, err)
		}
		b := grow(buf, h.Size())
		copy(b, buf[:BatchHeaderSize])
		if _, err := io.ReadFull(r, b[BatchHeaderSize:]); err != nil {
			return fmt.Errorf("clean %s at %d: %w", s.path, pos, err)
		}
		buf = b
		if err := fn(b, &h, pos); err != nil {
			return err
		}
		pos += h.Size()
	}
	return nil
}

// abortedAt reports whether a transactional batch of producer pid, at
// offsets first to last, belongs to an aborted transaction of the list
// (sorted by first offset).
func abortedAt(aborted []AbortedTxn, pid, first, last int64) bool {
	for _, a := range aborted {
		if a.FirstOffset > last {
			break
		}
		if a.ProducerID == pid && a.FirstOffset <= first && first <= a.LastOffset {
			return true
		}
	}
	return false
}

// mapKeys maps each key of the dirty section's records (committed or
// non-transactional data) to its latest offset.
func (l *Log) mapKeys(p cleanPlan, opts *Options, res *CleanResult) (map[string]int64, error) {
	keys := map[string]int64{}
	limit := opts.DecompressLimit()
	for _, s := range p.segs {
		if s.next <= p.firstDirty {
			continue
		}
		err := scanBatches(s, func(b []byte, h *BatchHeader, _ int64) error {
			if h.Control() || h.LastOffset() < p.firstDirty {
				return nil
			}
			if h.Transactional() && abortedAt(p.aborted, h.ProducerID, h.BaseOffset, h.LastOffset()) {
				return nil
			}
			records, err := batchRecords(b, h, limit)
			if err != nil {
				return fmt.Errorf("clean %s: batch at offset %d: %w", s.path, h.BaseOffset, err)
			}
			recs, err := decodeRecords(records, h.NumRecords)
			if err != nil {
				return fmt.Errorf("clean %s: batch at offset %d: %w", s.path, h.BaseOffset, err)
			}
			for i := range recs {
				off := h.BaseOffset + int64(recs[i].offDelta)
				if recs[i].key != nil && off >= p.firstDirty {
					keys[string(recs[i].key)] = off
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		res.BytesRead += s.size
	}
	return keys, nil
}

// cleaning is the state of one pass across its segments.
type cleaning struct {
	l       *Log
	opts    *Options
	now     time.Time
	keys    map[string]int64
	aborted []AbortedTxn // by first offset
	next    int          // aborted[next:] have not started yet

	// Transactions seen open so far: an aborted one (with whether any of
	// its batches was seen), committed ones by producer.
	ongoingAborted   map[int64]*abortState
	ongoingCommitted map[int64]bool

	// horizon is the earliest delete horizon of the batches kept, 0 if
	// none.
	horizon int64
}

// noteHorizon records a kept batch's delete horizon.
func (c *cleaning) noteHorizon(h int64) {
	if c.horizon == 0 || h < c.horizon {
		c.horizon = h
	}
}

type abortState struct {
	txn      AbortedTxn
	observed bool
}

// startTxnsUpTo opens the aborted transactions starting at or before
// offset.
func (c *cleaning) startTxnsUpTo(offset int64) {
	for c.next < len(c.aborted) && c.aborted[c.next].FirstOffset <= offset {
		a := c.aborted[c.next]
		c.ongoingAborted[a.ProducerID] = &abortState{txn: a}
		c.next++
	}
}

// cleanSegment writes the cleaned copy of s to <base>.log.cleaned and
// returns it as a segment (its file open, its indexes built).
func (c *cleaning) cleanSegment(s *segment, res *CleanResult) (*segment, error) {
	l := c.l
	path := s.path + cleanedSuffix
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("clean %s: %w", s.path, err)
	}
	ns := &segment{base: s.base, path: s.path, f: f, next: s.base, maxTs: -1, maxTsOffset: -1, sealed: true, synced: true}
	fail := func(err error) (*segment, error) {
		f.Close()
		l.removeFile(path)
		return nil, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	limit := c.opts.DecompressLimit()
	horizon := c.now.Add(c.opts.DeleteRetention).UnixMilli()
	nowMs := c.now.UnixMilli()
	write := func(b []byte) error {
		h, _ := ParseHeader(b)
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		ns.noteBatch(&h, ns.size, c.opts.IndexIntervalBytes)
		return nil
	}
	err = scanBatches(s, func(b []byte, h *BatchHeader, _ int64) error {
		c.startTxnsUpTo(h.LastOffset())
		hasHorizon := h.Attributes&attrDeleteHorizon != 0
		if h.Control() {
			commit, err := markerType(b)
			if err != nil {
				return write(b) // not a marker: kept as it is
			}
			discard := false
			if commit {
				discard = !c.ongoingCommitted[h.ProducerID]
				delete(c.ongoingCommitted, h.ProducerID)
			} else {
				st := c.ongoingAborted[h.ProducerID]
				delete(c.ongoingAborted, h.ProducerID)
				discard = st == nil || !st.observed
			}
			if discard && hasHorizon && h.BaseTimestamp <= nowMs {
				res.RecordsRemoved += int64(h.NumRecords)
				return nil
			}
			if !commit {
				// The marker stays: so does its entry in the index.
				for _, a := range s.aborted {
					if a.LastOffset == h.BaseOffset && a.ProducerID == h.ProducerID {
						ns.aborted = append(ns.aborted, a)
					}
				}
			}
			if !discard {
				return write(b)
			}
			if hasHorizon {
				c.noteHorizon(h.BaseTimestamp)
				return write(b)
			}
			c.noteHorizon(horizon)
			recs, err := decodeRecords(b[BatchHeaderSize:], h.NumRecords)
			if err != nil {
				return fmt.Errorf("clean %s: marker at offset %d: %w", s.path, h.BaseOffset, err)
			}
			nb, err := rebuildBatch(h, recs, horizon)
			if err != nil {
				return err
			}
			return write(nb)
		}
		if h.Transactional() {
			if st := c.ongoingAborted[h.ProducerID]; st != nil && h.BaseOffset >= st.txn.FirstOffset {
				st.observed = true
				res.RecordsRemoved += int64(h.NumRecords)
				return nil
			}
			c.ongoingCommitted[h.ProducerID] = true
		}
		records, err := batchRecords(b, h, limit)
		if err != nil {
			return fmt.Errorf("clean %s: batch at offset %d: %w", s.path, h.BaseOffset, err)
		}
		recs, err := decodeRecords(records, h.NumRecords)
		if err != nil {
			return fmt.Errorf("clean %s: batch at offset %d: %w", s.path, h.BaseOffset, err)
		}
		kept := recs[:0:0]
		tombstones := false
		for i := range recs {
			r := &recs[i]
			if r.key == nil {
				continue
			}
			if latest, ok := c.keys[string(r.key)]; ok && h.BaseOffset+int64(r.offDelta) < latest {
				continue
			}
			if r.nullValue {
				if hasHorizon && h.BaseTimestamp <= nowMs {
					continue
				}
				tombstones = true
			}
			kept = append(kept, *r)
		}
		res.RecordsRemoved += int64(len(recs) - len(kept))
		switch {
		case len(kept) == 0:
			return nil
		case len(kept) == len(recs) && (!tombstones || hasHorizon):
			if tombstones {
				c.noteHorizon(h.BaseTimestamp)
			}
			return write(b)
		}
		if tombstones && hasHorizon {
			c.noteHorizon(h.BaseTimestamp)
		}
		hz := int64(-1)
		if tombstones && !hasHorizon {
			hz = horizon
			c.noteHorizon(horizon)
		}
		nb, err := rebuildBatch(h, kept, hz)
		if err != nil {
			return err
		}
		return write(nb)
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = datasync(f)
	}
	if err != nil {
		return fail(err)
	}
	ns.appendTimeEntry()
	if ns.size == 0 {
		ns.next = ns.base
	}
	res.BytesWritten += ns.size
	return ns, nil
}

// writeCleanerCheckpoint records where the last pass ended (cleaned)
// and, while a pass swaps segments, where it ends (pending, else -1).
func (l *Log) writeCleanerCheckpoint(cleaned, pending int64) error {
	data := strconv.FormatInt(cleaned, 10) + "\n"
	if pending >= 0 {
		data += strconv.FormatInt(pending, 10) + "\n"
	}
	if err := l.writeMetaFile(cleanerCheckpointFile, []byte(data)); err != nil {
		return fmt.Errorf("cleaner checkpoint: %w", err)
	}
	if err := SyncDir(l.dir); err != nil {
		return fmt.Errorf("cleaner checkpoint: %w", err)
	}
	l.cleanedTo.Store(cleaned)
	l.gapsBelow.Store(max(cleaned, pending, l.gapsBelow.Load()))
	return nil
}

// swapSegment puts the cleaned copy ns (in <base>.log.cleaned) in the
// place of s, or takes s out of the log when ns is empty and s is not the
// first segment.
func (l *Log) swapSegment(s, ns *segment, res *CleanResult) error {
	cleaned := s.path + cleanedSuffix
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	i := -1
	if !l.closed && l.failed == nil {
		for k, cur := range l.segs {
			if cur == s {
				i = k
				break
			}
		}
	}
	if i < 0 || i == len(l.segs)-1 {
		l.mu.Unlock()
		ns.f.Close()
		l.removeFile(cleaned)
		return errSegmentGone
	}
	if ns.size == 0 && i > 0 {
		ns.f.Close()
		l.removeFile(cleaned)
		if err := l.renameFile(s.path, s.path+deletedSuffix); err != nil {
			l.mu.Unlock()
			return fmt.Errorf("clean: %w", err)
		}
		l.rmu.Lock()
		l.segs = append(l.segs[:i:i], l.segs[i+1:]...)
		l.rmu.Unlock()
		l.mu.Unlock()
		res.Removed++
		return errors.Join(l.dropRenamed([]*segment{s}, "clean")...)
	}
	defer l.mu.Unlock()
	swap := s.path + swapSuffix
	if err := l.renameFile(cleaned, swap); err != nil {
		ns.f.Close()
		l.removeFile(cleaned)
		return fmt.Errorf("clean: %w", err)
	}
	if err := SyncDir(l.dir); err != nil {
		// The swap may or may not be durable: the log goes on with the
		// new segment, as Open would.
		l.log.Warn("cannot fsync the folder after renaming a cleaned segment", "err", err)
	}
	for _, p := range []string{s.indexPath(), s.timeIndexPath(), s.txnIndexPath()} {
		if err := l.removeFile(p); err != nil {
			return l.fail(fmt.Errorf("clean: %w", err))
		}
	}
	if err := l.renameFile(swap, s.path); err != nil {
		return l.fail(fmt.Errorf("clean: %w", err))
	}
	if err := SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("clean: %w", err))
	}
	if err := l.writeIndexes(ns); err != nil {
		l.log.Warn("cannot write the index files of a cleaned segment; they are rebuilt on the next start", "segment", filepath.Base(s.path), "err", err)
	} else if err := SyncDir(l.dir); err != nil {
		l.log.Warn("cannot fsync the folder after writing a cleaned segment's indexes", "err", err)
	}
	l.rmu.Lock()
	l.segs[i] = ns
	l.rmu.Unlock()
	s.f.Close() // readers of the old file retry on the new one
	res.Segments++
	return nil
}

// completeSwaps finishes the swaps of cleaned segments that a crash
// interrupted: for each <base>.log.swap, the segment's old index files
// are removed and the .swap file replaces <base>.log. Called by Open
// before the segments are listed.
func (l *Log) completeSwaps(names []string) error {
	dirty := false
	for _, name := range names {
		stem, ok := strings.CutSuffix(name, logSuffix+swapSuffix)
		if !ok {
			continue
		}
		base, ok := parseSegmentName(stem+logSuffix, logSuffix)
		if !ok {
			continue
		}
		for _, suf := range []string{indexSuffix, timeIndexSuffix, txnIndexSuffix} {
			if err := l.removeFile(filepath.Join(l.dir, segmentName(base, suf))); err != nil {
				return fmt.Errorf("complete the swap of %s: %w", name, err)
			}
		}
		if err := l.renameFile(filepath.Join(l.dir, name), filepath.Join(l.dir, segmentName(base, logSuffix))); err != nil {
			return fmt.Errorf("complete the swap of %s: %w", name, err)
		}
		l.log.Info("completed the swap of a cleaned segment", "segment", segmentName(base, logSuffix))
		dirty = true
	}
	if dirty {
		return SyncDir(l.dir)
	}
	return nil
}
