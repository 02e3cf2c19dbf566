package storage

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// scanWindow is the read size used when walking segment files.
const scanWindow = 1 << 20

// Open opens (creating if needed) the partition log in cfg.Dir. Unless
// cfg.Clean is set, the segment holding cfg.RecoveryPoint and every later
// one are read back and validated: the log is truncated at the first torn
// or corrupt batch (later segments are removed) and their indexes are
// rebuilt. Producer state is loaded from the newest snapshot and brought up
// to date from the batches after it.
func Open(cfg Config) (*Log, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Log{dir: cfg.Dir, log: log, producers: producers{}, fault: cfg.fault, decompressLimit: cfg.decompressLimit}
	l.SetOptions(cfg.Options)
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("open log %s: %w", cfg.Dir, err)
	}
	l.loadCleanerCheckpoint()
	bases, err := l.listSegments()
	if err != nil {
		return nil, err
	}
	if len(bases) == 0 {
		bases = []int64{0}
	}
	for _, base := range bases {
		path := filepath.Join(cfg.Dir, segmentName(base, logSuffix))
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			l.closeFiles()
			return nil, fmt.Errorf("open segment %s: %w", path, err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			l.closeFiles()
			return nil, fmt.Errorf("open segment %s: %w", path, err)
		}
		s := &segment{base: base, path: path, f: f, size: fi.Size(), next: base, maxTs: -1, maxTsOffset: -1}
		s.loadTxnIndex()
		l.segs = append(l.segs, s)
	}
	if err := l.recover(cfg); err != nil {
		l.closeFiles()
		return nil, err
	}
	if err := l.trimTxnIndexes(); err != nil {
		l.closeFiles()
		return nil, err
	}
	l.start = l.segs[0].base
	l.loadLogStart()
	act := l.active()
	l.end.Store(act.next)
	if l.cleanedTo.Load() > act.next {
		// The log lost its end: what is appended again is dirty.
		l.cleanedTo.Store(act.next)
	}
	act.rollAt = time.Now()
	for _, s := range l.segs[:len(l.segs)-1] {
		s.sealed, s.synced = true, true
	}
	if err := l.loadProducers(); err != nil {
		l.closeFiles()
		return nil, err
	}
	l.flushed.Store(act.next)
	l.lastFlush.Store(time.Now().UnixNano())
	return l, nil
}

func (l *Log) closeFiles() {
	for _, s := range l.segs {
		s.f.Close()
	}
}

// listSegments returns the base offsets of the segment files, sorted, and
// removes leftovers: temporary files, files Kafka marks for deletion, and
// indexes without a segment.
func (l *Log) listSegments() ([]int64, error) {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", l.dir, err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), logSuffix+swapSuffix) {
			names = append(names, e.Name())
		}
	}
	if len(names) > 0 {
		if err := l.completeSwaps(names); err != nil {
			return nil, err
		}
		if ents, err = os.ReadDir(l.dir); err != nil {
			return nil, fmt.Errorf("open log %s: %w", l.dir, err)
		}
	}
	logs := map[int64]bool{}
	for _, e := range ents {
		if base, ok := parseSegmentName(e.Name(), logSuffix); ok && e.Type().IsRegular() {
			logs[base] = true
		}
	}
	var bases []int64
	for _, e := range ents {
		name := e.Name()
		// Leftovers are never loaded, so one that cannot be removed is
		// only reported.
		leftover := func() {
			if err := l.removeFile(filepath.Join(l.dir, name)); err != nil {
				l.log.Warn("cannot remove a leftover file", "file", filepath.Join(l.dir, name), "err", err)
			}
		}
		switch {
		case strings.HasSuffix(name, tmpSuffix), strings.HasSuffix(name, deletedSuffix),
			strings.HasSuffix(name, cleanedSuffix), strings.HasSuffix(name, swapSuffix):
			leftover()
		}
		if base, ok := parseSegmentName(name, logSuffix); ok && logs[base] {
			bases = append(bases, base)
		}
		for _, suf := range []string{indexSuffix, timeIndexSuffix, txnIndexSuffix} {
			if base, ok := parseSegmentName(name, suf); ok && !logs[base] {
				leftover()
			}
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, nil
}

// recover establishes each segment's size, next offset, largest timestamp
// and indexes, validating what cannot be trusted.
func (l *Log) recover(cfg Config) error {
	from := len(l.segs)
	if !cfg.Clean {
		from = sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > cfg.RecoveryPoint }) - 1
		from = max(from, 0)
	}
	buf := make([]byte, 64<<10)
	for i := 0; i < from; i++ {
		s := l.segs[i]
		rewrite, err := s.loadTrusted(l.opts.Load().IndexIntervalBytes, buf)
		if err != nil {
			l.log.Warn("segment does not end with a whole batch; validating it and the rest of the log", "segment", filepath.Base(s.path), "err", err)
			from = i
			break
		}
		if rewrite && i < len(l.segs)-1 {
			if err := l.recoveredIndexes(s); err != nil {
				return err
			}
		}
	}
	if from == len(l.segs) {
		return nil
	}
	window := make([]byte, scanWindow)
	from0 := from
	for i := from; i < len(l.segs); i++ {
		s := l.segs[i]
		// Below the cleaner checkpoint compaction leaves gaps: between
		// segments and between batches; offsets still only grow.
		gaps := s.base < l.gapsBelow.Load()
		if i > 0 && (l.segs[i-1].next > s.base || (l.segs[i-1].next != s.base && l.segs[i-1].base >= l.gapsBelow.Load())) {
			// The previous segment lost its tail: the log keeps only what
			// precedes the hole, as it would after a torn write.
			l.log.Warn("segment does not follow on from the one before; the log is cut there", "segment", filepath.Base(s.path), "expected_base", l.segs[i-1].next)
			if err := l.removeFrom(i); err != nil {
				return err
			}
			break
		}
		start := time.Now()
		from, expect := int64(0), s.base
		if i == from0 && cfg.RecoveryPoint > s.base {
			from, expect = s.resumePoint(cfg.RecoveryPoint)
		}
		limit := int64(-1) // the first offset after the segment, if known
		if gaps && i < len(l.segs)-1 {
			limit = l.segs[i+1].base
		}
		cut, reason, err := s.recoverSegment(from, expect, limit, gaps, l.opts.Load().IndexIntervalBytes, window)
		if err != nil {
			return err
		}
		if reason != nil {
			l.log.Warn("truncated torn or corrupt data at the end of the log", "segment", filepath.Base(s.path), "position", s.size, "bytes", cut, "reason", reason)
			if err := s.f.Truncate(s.size); err != nil {
				return fmt.Errorf("truncate %s: %w", s.path, err)
			}
			if err := l.removeFrom(i + 1); err != nil {
				return err
			}
			if i == len(l.segs)-1 {
				// Index files left by a checkpoint must not describe
				// what was cut.
				if err := l.recoveredIndexes(s); err != nil {
					return err
				}
			}
		}
		l.log.Debug("recovered segment", "segment", filepath.Base(s.path), "bytes", s.size, "took", time.Since(start))
		if err := datasync(s.f); err != nil {
			return err
		}
		if i < len(l.segs)-1 {
			s.appendTimeEntry()
			if err := l.recoveredIndexes(s); err != nil {
				return err
			}
		}
	}
	return SyncDir(l.dir)
}

// removeFrom deletes the segments from index i on, found after the point
// where recovery cut the log. A segment file that cannot be removed fails
// Open: loaded again later, it would be served after the cut. (Index files
// without their segment are removed by the next Open.)
func (l *Log) removeFrom(i int) error {
	var errs []error
	for _, later := range l.segs[i:] {
		l.log.Warn("removing segment after the truncation point", "segment", filepath.Base(later.path), "bytes", later.size)
		later.f.Close()
		if err := l.removeFile(later.path); err != nil {
			errs = append(errs, fmt.Errorf("recovery cut the log before %s: %w", later.path, err))
		}
		for _, p := range []string{later.indexPath(), later.timeIndexPath(), later.txnIndexPath()} {
			if err := l.removeFile(p); err != nil {
				l.log.Warn("cannot remove the index of a removed segment", "file", p, "err", err)
			}
		}
	}
	l.segs = l.segs[:i]
	return errors.Join(errs...)
}

// recoveredIndexes writes the index files of a sealed segment whose
// indexes were rebuilt. On a full disk it goes without: they are rebuilt
// again on the next start.
func (l *Log) recoveredIndexes(s *segment) error {
	err := l.writeIndexes(s)
	if err != nil && isNoSpace(err) {
		l.log.Warn("disk full: index files not rewritten", "segment", filepath.Base(s.path), "err", err)
		return nil
	}
	return err
}

// loadTrusted loads a segment written by a clean shutdown (or below the
// recovery point): its indexes from their files, then the batch headers
// after the last index entry for the next offset and largest timestamp.
// It reports whether the indexes grew (their files should be rewritten).
// An error means the file does not end at a batch boundary.
func (s *segment) loadTrusted(interval int64, buf []byte) (bool, error) {
	s.loadIndexes()
	n := len(s.index)
	from := int64(0)
	if n > 0 {
		from = int64(s.index[n-1].pos)
	}
	size := s.size
	s.size, s.bytesSinceIndex = from, 0
	sc := newHeaderScanner(s.f, from, size, buf)
	for {
		h, pos, ok := sc.next()
		if !ok {
			break
		}
		s.noteBatch(&h, pos, interval)
	}
	if sc.err != nil {
		return false, sc.err
	}
	if s.size != size {
		return false, fmt.Errorf("%w: segment ends at %d, its file at %d", ErrCorruptBatch, s.size, size)
	}
	if s.size == 0 {
		s.next = s.base
	}
	return len(s.index) > n, nil
}

// resumePoint finds where validation of the segment holding the recovery
// point rp may start: the position of the last batch starting below rp
// that the segment's index file (written by CheckpointIndex) records,
// once the batch header there is confirmed. The data before it is below
// the recovery point: durable, and trusted as whole segments below it
// are. s.index and s.tindex are left holding the entries before that
// batch, and s.maxTs the largest timestamp they record. It returns that
// position and the batch's base offset, or 0 and the segment's base, with
// empty indexes, when there is no usable entry.
func (s *segment) resumePoint(rp int64) (pos, base int64) {
	s.loadIndexes()
	k := sort.Search(len(s.index), func(i int) bool { return s.base+int64(s.index[i].rel) >= rp }) - 1
	if k >= 0 && s.batchAt(s.index[k]) {
		e := s.index[k]
		s.index = s.index[:k]
		t := sort.Search(len(s.tindex), func(i int) bool { return s.tindex[i].rel >= e.rel })
		s.tindex = s.tindex[:t]
		s.maxTs, s.maxTsOffset = -1, -1
		if t > 0 {
			s.maxTs, s.maxTsOffset = s.tindex[t-1].ts, s.base+int64(s.tindex[t-1].rel)
		}
		return int64(e.pos), s.base + int64(e.rel)
	}
	s.index, s.tindex = s.index[:0], s.tindex[:0]
	s.maxTs, s.maxTsOffset = -1, -1
	return 0, s.base
}

// batchAt reports whether a whole batch header starting at the index
// entry's offset lies at its position.
func (s *segment) batchAt(e indexEntry) bool {
	var hb [BatchHeaderSize]byte
	if n, _ := s.f.ReadAt(hb[:], int64(e.pos)); n < BatchHeaderSize {
		return false
	}
	h, _ := ParseHeader(hb[:])
	return checkFraming(&h, s.size-int64(e.pos)) == nil && h.BaseOffset == s.base+int64(e.rel)
}

// recoverSegment reads the segment from position from (0, or a batch
// boundary found by resumePoint, whose base offset is expect), validating
// each batch (framing, CRC, base offset exactly following on) and
// rebuilding the indexes. At the first bad batch it stops: s.size is where
// the good data ends, cut the bytes after it, and reason what was wrong.
//
// With gaps set (a segment compaction may have cleaned), a batch may start
// after the expected offset, and must end before limit when that is not
// negative.
func (s *segment) recoverSegment(from, expect, limit int64, gaps bool, interval int64, window []byte) (cut int64, reason, err error) {
	fileSize := s.size
	s.size, s.next, s.bytesSinceIndex = from, expect, 0
	if from == 0 {
		s.maxTs, s.maxTsOffset = -1, -1
		s.index, s.tindex = s.index[:0], s.tindex[:0]
	} else {
		s.bytesSinceIndex = interval // the entry resumePoint started from
	}
	winPos, winLen := int64(-1), 0
	fill := func(pos int64) error {
		n, err := s.f.ReadAt(window[:min(int64(len(window)), fileSize-pos)], pos)
		if err != nil && err != io.EOF {
			return fmt.Errorf("read %s: %w", s.path, err)
		}
		winPos, winLen = pos, n
		return nil
	}
	inWindow := func(pos, n int64) bool { return winPos >= 0 && pos >= winPos && pos+n <= winPos+int64(winLen) }
	pos := from
	for pos < fileSize {
		if fileSize-pos < BatchHeaderSize {
			reason = fmt.Errorf("%d bytes are shorter than a batch header", fileSize-pos)
			break
		}
		if !inWindow(pos, BatchHeaderSize) {
			if err := fill(pos); err != nil {
				return 0, nil, err
			}
			if !inWindow(pos, BatchHeaderSize) {
				reason = errors.New("short read")
				break
			}
		}
		h, _ := ParseHeader(window[pos-winPos:])
		if err := checkFraming(&h, fileSize-pos); err != nil {
			reason = err
			break
		}
		if gaps && h.BaseOffset > expect && (limit < 0 || h.LastOffset() < limit) {
			expect = h.BaseOffset
		}
		if h.BaseOffset != expect {
			// The log assigns offsets without gaps; the base offset is
			// not covered by the CRC, so this is how its damage shows.
			reason = fmt.Errorf("batch at offset %d where %d was expected", h.BaseOffset, expect)
			break
		}
		if h.LastOffsetDelta < 0 {
			reason = fmt.Errorf("negative last offset delta %d", h.LastOffsetDelta)
			break
		}
		size := h.Size()
		var sum uint32
		switch {
		case inWindow(pos, size):
			sum = crc32.Checksum(window[pos-winPos+offAttributes:pos-winPos+size], castagnoli)
		case size <= int64(len(window)):
			if err := fill(pos); err != nil {
				return 0, nil, err
			}
			sum = crc32.Checksum(window[offAttributes:size], castagnoli)
		default:
			for off := pos + offAttributes; off < pos+size; {
				n, err := s.f.ReadAt(window[:min(int64(len(window)), pos+size-off)], off)
				if n == 0 {
					return 0, nil, fmt.Errorf("read %s: %w", s.path, err)
				}
				sum = crc32.Update(sum, castagnoli, window[:n])
				off += int64(n)
			}
			winPos = -1
		}
		if sum != h.CRC {
			reason = fmt.Errorf("CRC-32C mismatch in the batch at offset %d", h.BaseOffset)
			break
		}
		s.noteBatch(&h, pos, interval)
		expect = h.LastOffset() + 1
		pos += size
	}
	return fileSize - s.size, reason, nil
}

// loadProducers restores the producer state: the newest snapshot at or
// below the log end, then the batches from there on. Without a snapshot,
// every segment's batch headers are read: a transaction still open may
// have started in any of them.
func (l *Log) loadProducers() error {
	end := l.active().next
	from := l.segs[0].base
	for _, off := range l.snapshotOffsets() {
		path := filepath.Join(l.dir, segmentName(off, snapshotSuffix))
		if off > end {
			// It describes data that was truncated away; kept, it would
			// be loaded once the log grows past it.
			if err := l.removeFile(path); err != nil {
				return fmt.Errorf("producer snapshot beyond the log end: %w", err)
			}
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read producer snapshot: %w", err)
		}
		ps, at, err := decodeSnapshot(data)
		if err != nil || at != off {
			l.log.Warn("ignoring bad producer snapshot", "file", filepath.Base(path), "err", err)
			continue
		}
		l.producers, from = ps, off
		break
	}
	from = max(from, l.segs[0].base)
	buf := make([]byte, 64<<10)
	for _, s := range l.segs {
		if s.next <= from {
			continue
		}
		pos := int64(0)
		if from > s.base {
			pos = lookup(s.index, from-s.base)
		}
		sc := newHeaderScanner(s.f, pos, s.size, buf)
		for {
			h, pos, ok := sc.next()
			if !ok {
				break
			}
			if h.BaseOffset < from || !h.Idempotent() {
				continue
			}
			if h.Control() {
				if err := l.replayMarker(s, &h, pos); err != nil {
					return err
				}
				continue
			}
			l.producers.update(&h)
		}
		if sc.err != nil {
			return fmt.Errorf("replay producer state from %s: %w", s.path, sc.err)
		}
	}
	l.unstable.Store(l.firstUnstable() + 1)
	return nil
}

// trimTxnIndexes drops the aborted-transaction entries that lie beyond
// their segment's end (recovery cut the data they describe), and rewrites
// the files that had some, so that later appends at those offsets are not
// taken for aborted ones.
func (l *Log) trimTxnIndexes() error {
	dirty := false
	for _, s := range l.segs {
		k := 0
		for _, a := range s.aborted {
			if a.LastOffset >= s.base && a.LastOffset < s.next {
				s.aborted[k] = a
				k++
			}
		}
		if k == len(s.aborted) {
			continue
		}
		l.log.Warn("dropping aborted-transaction entries beyond the segment's end", "segment", filepath.Base(s.path), "entries", len(s.aborted)-k)
		s.aborted = s.aborted[:k]
		if err := l.writeTxnIndex(s, s.aborted); err != nil {
			return err
		}
		dirty = true
	}
	if dirty {
		return SyncDir(l.dir)
	}
	return nil
}
