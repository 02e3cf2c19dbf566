package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Options are the per-topic settings of a log, with Kafka's topic config
// names. They may be changed while the log is open (SetOptions).
type Options struct {
	// SegmentBytes is segment.bytes: a segment is rolled before it would
	// grow past this size.
	SegmentBytes int64
	// SegmentTime is segment.ms: a segment is rolled when a batch arrives
	// this long after its first one. Zero never rolls by time.
	SegmentTime time.Duration
	// IndexIntervalBytes is index.interval.bytes: the log bytes between
	// two entries of the offset index.
	IndexIntervalBytes int64
	// Delete is whether cleanup.policy includes "delete": only then do
	// RetentionTime and RetentionBytes remove segments.
	Delete bool
	// RetentionTime is retention.ms; negative keeps segments forever.
	RetentionTime time.Duration
	// RetentionBytes is retention.bytes; negative keeps any size.
	RetentionBytes int64
	// FlushMessages is flush.messages: fsync once this many messages are
	// unflushed. Zero or negative never does.
	FlushMessages int64
	// FlushInterval is flush.ms: fsync when data has been unflushed this
	// long (checked by FlushIfDue). Zero or negative never does.
	FlushInterval time.Duration
	// MaxMessageBytes is max.message.bytes, the largest batch accepted.
	MaxMessageBytes int
	// LogAppendTime is message.timestamp.type=LogAppendTime: batches are
	// stamped with the broker's clock when appended.
	LogAppendTime bool
	// Compact is whether cleanup.policy includes "compact": Clean
	// compacts the log, and records without a key are refused.
	Compact bool
	// DeleteRetention is delete.retention.ms: how long a tombstone (and a
	// transaction marker) stays once cleaned.
	DeleteRetention time.Duration
	// MinCompactionLag is min.compaction.lag.ms: records newer are not
	// compacted.
	MinCompactionLag time.Duration
	// MaxCompactionLag is max.compaction.lag.ms: a log whose oldest dirty
	// record is older is cleaned whatever its dirty ratio. Zero or
	// negative: no bound.
	MaxCompactionLag time.Duration
	// MinCleanableRatio is min.cleanable.dirty.ratio: the share of the
	// cleanable bytes that must be dirty before a pass runs.
	MinCleanableRatio float64
}

// DefaultOptions are Kafka's defaults.
func DefaultOptions() Options {
	return Options{
		SegmentBytes:       1 << 30,
		SegmentTime:        7 * 24 * time.Hour,
		IndexIntervalBytes: 4096,
		Delete:             true,
		RetentionTime:      7 * 24 * time.Hour,
		RetentionBytes:     -1,
		FlushMessages:      math.MaxInt64,
		MaxMessageBytes:    1048588,
		DeleteRetention:    24 * time.Hour,
		MinCleanableRatio:  0.5,
	}
}

func (o *Options) normalize() {
	d := DefaultOptions()
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = d.SegmentBytes
	}
	if o.SegmentBytes > math.MaxInt32 {
		o.SegmentBytes = math.MaxInt32
	}
	if o.IndexIntervalBytes <= 0 {
		o.IndexIntervalBytes = d.IndexIntervalBytes
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = d.MaxMessageBytes
	}
}

// Config opens a Log.
type Config struct {
	// Dir is the partition's folder, <topic>-<partition>; created if
	// missing.
	Dir     string
	Options Options
	// Clean says the log was closed cleanly (the broker found its
	// clean-shutdown marker): segment files and indexes are trusted as
	// they are.
	Clean bool
	// RecoveryPoint is the offset below which data is known to be durable
	// (from the broker's recovery-point checkpoint). After an unclean
	// shutdown, the segment holding it and all later ones are re-read and
	// validated.
	RecoveryPoint int64
	Logger        *slog.Logger

	// fault, when set (by tests), is asked before each write of the log's
	// files; an error it returns is the write's error, after the first
	// partial bytes of the data were written (a torn write).
	fault func(op faultOp, path string, size int) (partial int, err error)
	// decompressLimit, when set (by tests), replaces the bound on what a
	// timestamp lookup decompresses.
	decompressLimit int
}

// faultOp names a write that a fault hook may fail.
type faultOp int

const (
	faultAppend faultOp = iota // a batch written to the active segment
	faultCreate                // a new segment file
	faultMeta                  // an index or producer snapshot file
	faultRemove                // a rename or removal of a file
)

// Log is the durable log of one partition. Appends are serialised by one
// mutex; reads work on a snapshot of the segment list taken under a
// read lock and read the files without holding any lock.
type Log struct {
	dir   string
	log   *slog.Logger
	fault func(op faultOp, path string, size int) (int, error)
	// decompressLimit, if positive, replaces Options.DecompressLimit.
	decompressLimit int

	opts atomic.Pointer[Options]

	// syncMu serialises flushes (and with them retention and Close); it
	// is taken before mu. Segment.synced, checkpointed and leftovers
	// belong to it.
	syncMu       sync.Mutex
	checkpointed int64 // the log end at the last CheckpointIndex that wrote files
	// leftovers are files of segments already out of the log (and old
	// producer snapshots) whose removal failed; each retention pass tries
	// them again. hasLeftovers says there are some, without syncMu.
	leftovers    []string
	hasLeftovers atomic.Bool

	// mu serialises writers: Append, roll, retention, Close. The fields
	// below it belong to it.
	mu        sync.Mutex
	producers producers
	unflushed int64 // messages appended since the last flush began
	dirDirty  bool  // a file was created or removed since the last flush
	snapshots []pendingSnapshot
	failed    error

	// rmu guards the published view: the segment list, the log start and
	// each segment's published fields. Writers hold mu too.
	rmu    sync.RWMutex
	segs   []*segment
	start  int64
	closed bool

	end atomic.Int64 // log end offset, for lock-free reads
	// unstable is the first offset of the oldest open transaction plus
	// one, 0 when none is open; written under mu (see appendLocked).
	unstable      atomic.Int64
	flushed       atomic.Int64 // every offset below is durable
	lastFlush     atomic.Int64 // unix nanoseconds of the last flush
	sealedPending atomic.Bool  // a rolled segment waits for its flush
	noSpace       atomic.Bool  // the last write failed for want of space

	// cleanMu serialises cleaning passes (cleaner.go); it is taken before
	// syncMu. cleanedTo is the cleaner checkpoint, gapsBelow the offset
	// below which cleaned segments may lie, horizon the earliest delete
	// horizon the last pass set (unix ms, 0 if none).
	cleanMu   sync.Mutex
	cleanedTo atomic.Int64
	gapsBelow atomic.Int64
	horizon   atomic.Int64
}

type pendingSnapshot struct {
	offset int64
	data   []byte
}

// AppendResult describes an appended batch.
type AppendResult struct {
	BaseOffset, LastOffset int64
	// LogAppendTime is the timestamp given to the batch, or -1 when the
	// producer's timestamps are kept.
	LogAppendTime  int64
	LogStartOffset int64
	// Duplicate is set when the batch repeated one of its producer's
	// recent batches: nothing was written and the offsets are those of
	// the earlier copy.
	Duplicate bool
	// FlushDue is set when flush.messages is reached: the caller should
	// Sync before acknowledging.
	FlushDue bool
}

// ReadResult holds whole batches read from the log.
type ReadResult struct {
	// Records are whole batches, a sub-slice of Buf (nil if none).
	Records []byte
	// Buf is the buffer read into: the one given to Read, or a larger one
	// if it was too small. The caller may reuse it once done with Records.
	Buf            []byte
	HighWatermark  int64
	LogStartOffset int64
	// LastStableOffset is the first offset of the oldest open
	// transaction, or the high watermark when none is open.
	LastStableOffset int64
	// NextOffset follows the last record of Records (0 when there are
	// none).
	NextOffset int64
}

// Dir is the log's folder.
func (l *Log) Dir() string { return l.dir }

// Options returns the log's current options.
func (l *Log) Options() Options { return *l.opts.Load() }

// SetOptions changes the log's options; they apply to the next append,
// flush and retention check.
func (l *Log) SetOptions(o Options) {
	o.normalize()
	l.opts.Store(&o)
}

// EndOffset is the log end offset: the offset the next record gets.
func (l *Log) EndOffset() int64 { return l.end.Load() }

// StartOffset is the log start offset, the first offset still stored.
func (l *Log) StartOffset() int64 {
	l.rmu.RLock()
	defer l.rmu.RUnlock()
	return l.start
}

// RecoveryPoint is the offset below which every record is durable.
func (l *Log) RecoveryPoint() int64 { return l.flushed.Load() }

// Size is the number of bytes in the log's segments.
func (l *Log) Size() int64 {
	l.rmu.RLock()
	defer l.rmu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// Segments is the number of segment files.
func (l *Log) Segments() int {
	l.rmu.RLock()
	defer l.rmu.RUnlock()
	return len(l.segs)
}

func (l *Log) active() *segment { return l.segs[len(l.segs)-1] }

// Append validates batch (one record batch as a producer sent it), assigns
// it the next offsets and writes it to the active segment. The batch's
// bytes are modified in place (base offset, leader epoch and, for
// LogAppendTime, the timestamp and CRC) and may be reused once Append
// returns. Append does not wait for the data to be durable: call Sync.
func (l *Log) Append(batch []byte, now time.Time) (AppendResult, error) {
	opts := l.opts.Load()
	h, err := ValidateBatch(batch, opts.MaxMessageBytes)
	if err != nil {
		return AppendResult{}, err
	}
	if opts.Compact {
		if err := checkKeys(batch, &h, opts.DecompressLimit()); err != nil {
			return AppendResult{}, err
		}
	}
	res := AppendResult{LogAppendTime: -1}
	if opts.LogAppendTime {
		res.LogAppendTime = now.UnixMilli()
		stampLogAppendTime(batch, res.LogAppendTime)
		h.MaxTimestamp = res.LogAppendTime
		h.Attributes |= attrLogAppendTime
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return res, ErrClosed
	}
	if l.failed != nil {
		return res, l.failed
	}
	if h.Idempotent() {
		dup, err := l.producers.check(&h)
		if err != nil {
			return res, err
		}
		if dup != nil {
			res.BaseOffset, res.LastOffset = dup.firstOffset, dup.lastOffset
			if opts.LogAppendTime {
				res.LogAppendTime = dup.maxTs
			}
			res.LogStartOffset = l.start
			res.Duplicate = true
			return res, nil
		}
	}

	base, err := l.appendLocked(batch, &h, opts, now)
	if err != nil {
		return res, err
	}
	res.BaseOffset, res.LastOffset = base, h.LastOffset()
	res.LogStartOffset = l.start
	res.FlushDue = opts.FlushMessages > 0 && l.unflushed >= opts.FlushMessages
	return res, nil
}

// appendLocked writes a validated batch of header h at the log end,
// rolling the segment first when it is due, and publishes it: indexes,
// producer state, the first unstable offset and the log end, in that
// order (LastStableOffset reads them in the reverse one). It returns the
// batch's base offset. mu is held.
func (l *Log) appendLocked(batch []byte, h *BatchHeader, opts *Options, now time.Time) (int64, error) {
	s := l.active()
	size := int64(len(batch))
	if s.size > 0 && (s.size+size > opts.SegmentBytes ||
		s.size+size > math.MaxInt32 ||
		s.next+int64(h.LastOffsetDelta)-s.base > math.MaxInt32 ||
		(opts.SegmentTime > 0 && now.Sub(s.rollAt) >= opts.SegmentTime)) {
		if err := l.roll(); err != nil {
			return 0, l.writeFailed(err)
		}
		s = l.active()
	}

	base := s.next
	setOffsetAndEpoch(batch, base, 0)
	h.BaseOffset, h.LeaderEpoch = base, 0
	if err := l.writeAt(s, batch); err != nil {
		err = fmt.Errorf("write %s: %w", s.path, err)
		// Cut off whatever part was written (even a write that reports
		// none may have grown the file), so that the file ends with a
		// whole batch and a later append continues from there.
		if terr := s.f.Truncate(s.size); terr != nil {
			return 0, l.fail(fmt.Errorf("%w; then truncate: %w", err, terr))
		}
		return 0, l.writeFailed(err)
	}
	if l.noSpace.Load() && l.noSpace.CompareAndSwap(true, false) {
		l.log.Info("disk has space again: appends resumed")
	}
	if s.size == 0 {
		s.rollAt = now
	}
	l.rmu.Lock()
	s.noteBatch(h, s.size, opts.IndexIntervalBytes)
	l.rmu.Unlock()
	if h.Idempotent() && !h.Control() {
		l.producers.update(h)
		if h.Transactional() && l.unstable.Load() == 0 {
			l.unstable.Store(h.BaseOffset + 1)
		}
	}
	l.end.Store(s.next)
	l.unflushed += int64(h.NumRecords)
	return base, nil
}

// writeAt writes batch at the end of segment s.
func (l *Log) writeAt(s *segment, batch []byte) error {
	if l.fault != nil {
		if partial, err := l.fault(faultAppend, s.path, len(batch)); err != nil {
			s.f.WriteAt(batch[:min(max(partial, 0), len(batch))], s.size)
			return err
		}
	}
	_, err := s.f.WriteAt(batch, s.size)
	return err
}

// writeMetaFile writes an index or snapshot file through a temporary file.
func (l *Log) writeMetaFile(name string, data []byte) error {
	if l.fault != nil {
		if _, err := l.fault(faultMeta, filepath.Join(l.dir, name), len(data)); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(l.dir, name), err)
		}
	}
	return writeFileSynced(l.dir, name, data)
}

// writeFailed handles an error of a write that left the log whole: when
// the disk is full the append is refused (ErrNoSpace) and later appends
// are tried again; any other error fails the log. mu is held.
func (l *Log) writeFailed(err error) error {
	if isNoSpace(err) {
		l.noSpaceWarn(err)
		return fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	return l.fail(err)
}

// noSpaceWarn logs a full disk once until a write succeeds again.
func (l *Log) noSpaceWarn(err error) {
	if l.noSpace.CompareAndSwap(false, true) {
		l.log.Warn("disk full: appends are refused until space is freed", "err", err)
	}
}

// fail marks the log as failed after a disk error: it takes no more
// writes. mu is held.
func (l *Log) fail(err error) error {
	if l.failed == nil {
		l.failed = fmt.Errorf("%w: %s: %v", ErrStorage, l.dir, err)
		l.log.Error("partition log failed; it takes no more writes", "err", err)
	}
	return l.failed
}

// roll seals the active segment and starts a new one at the log end. The
// sealed segment's index files and a producer snapshot are written by the
// next flush. mu is held.
func (l *Log) roll() error {
	old := l.active()
	base := old.next
	path := filepath.Join(l.dir, segmentName(base, logSuffix))
	if l.fault != nil {
		if _, err := l.fault(faultCreate, path, 0); err != nil {
			return fmt.Errorf("roll segment %s: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("roll segment %s: %w", path, err)
	}
	ns := &segment{base: base, path: path, f: f, next: base, maxTs: -1, maxTsOffset: -1}
	l.rmu.Lock()
	old.appendTimeEntry()
	l.segs = append(l.segs, ns)
	l.rmu.Unlock()
	old.sealed = true
	l.snapshots = append(l.snapshots, pendingSnapshot{offset: base, data: l.producers.encode(base)})
	l.dirDirty = true
	l.sealedPending.Store(true)
	l.log.Debug("rolled segment", "base", base)
	return nil
}

// Sync returns once every offset below upTo is durable. Concurrent callers
// share fsyncs: while one fsync runs, later appends gather, and the next
// fsync covers all of them.
func (l *Log) Sync(upTo int64) error {
	if l.flushed.Load() >= upTo {
		return nil
	}
	return l.flush(upTo)
}

// Flush makes everything appended so far durable.
func (l *Log) Flush() error { return l.flush(-1) }

// FlushIfDue flushes when flush.ms has passed since the last flush with
// data unflushed, or when a rolled segment has not been flushed yet.
func (l *Log) FlushIfDue(now time.Time) error {
	opts := l.opts.Load()
	due := l.sealedPending.Load()
	if !due && opts.FlushInterval > 0 && l.flushed.Load() < l.end.Load() {
		due = now.Sub(time.Unix(0, l.lastFlush.Load())) >= opts.FlushInterval
	}
	if !due {
		return nil
	}
	err := l.Flush()
	if errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

type flushItem struct {
	s      *segment
	sealed bool
}

func (l *Log) flush(upTo int64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if upTo >= 0 && l.flushed.Load() >= upTo {
		return nil
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if l.failed != nil {
		l.mu.Unlock()
		return l.failed
	}
	end := l.active().next
	flushed := l.flushed.Load()
	var todo []flushItem
	for _, s := range l.segs {
		if s.synced || (!s.sealed && end <= flushed) {
			continue
		}
		todo = append(todo, flushItem{s, s.sealed})
	}
	snaps := l.snapshots
	l.snapshots = nil
	dirDirty := l.dirDirty
	l.dirDirty = false
	l.unflushed = 0
	l.sealedPending.Store(false)
	l.mu.Unlock()

	if err := l.syncData(todo, dirDirty); err != nil {
		l.mu.Lock()
		err = l.fail(err)
		l.mu.Unlock()
		return err
	}
	if end > l.flushed.Load() {
		l.flushed.Store(end)
	}
	l.lastFlush.Store(time.Now().UnixNano())
	if err := l.syncMeta(todo, snaps); err != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !isNoSpace(err) {
			return l.fail(err)
		}
		// The data is durable; the indexes and snapshots, which are
		// derived from it, are written by a later flush.
		l.snapshots = append(snaps, l.snapshots...)
		l.sealedPending.Store(true)
		l.noSpaceWarn(err)
	}
	return nil
}

// syncData makes the given segments' data durable, and the folder's
// entries when a file was created or removed. syncMu is held.
func (l *Log) syncData(todo []flushItem, dirDirty bool) error {
	for _, it := range todo {
		if err := datasync(it.s.f); err != nil {
			return err
		}
	}
	if dirDirty {
		return SyncDir(l.dir)
	}
	return nil
}

// syncMeta writes the index files of the sealed segments in todo and the
// producer snapshots, each through a temporary file, and fsyncs the
// folder. syncMu is held; sealed segments' indexes are immutable, so no
// other lock is needed.
func (l *Log) syncMeta(todo []flushItem, snaps []pendingSnapshot) error {
	dirty := false
	for _, it := range todo {
		if !it.sealed {
			continue
		}
		if err := l.writeIndexes(it.s); err != nil {
			return err
		}
		dirty = true
	}
	for _, sn := range snaps {
		if err := l.writeMetaFile(segmentName(sn.offset, snapshotSuffix), sn.data); err != nil {
			return err
		}
		dirty = true
	}
	if dirty {
		if err := SyncDir(l.dir); err != nil {
			return err
		}
	}
	for _, it := range todo {
		if it.sealed {
			it.s.synced = true
		}
	}
	if len(snaps) > 0 {
		l.pruneSnapshots(-1)
	}
	return nil
}

// removeFile removes a file; one already gone is no error.
func (l *Log) removeFile(path string) error {
	if l.fault != nil {
		if _, err := l.fault(faultRemove, path, 0); err != nil {
			return fmt.Errorf("remove %s: %w", path, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// renameFile renames a file within the log's folder.
func (l *Log) renameFile(from, to string) error {
	if l.fault != nil {
		if _, err := l.fault(faultRemove, from, 0); err != nil {
			return fmt.Errorf("rename %s: %w", from, err)
		}
	}
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("rename %s: %w", from, err)
	}
	return nil
}

// removeLater removes files that are no longer part of the log; those
// that cannot be removed are logged and kept in leftovers for the next
// retention pass. syncMu is held.
func (l *Log) removeLater(paths ...string) error {
	var errs []error
	for _, p := range paths {
		if err := l.removeFile(p); err != nil {
			l.log.Warn("cannot remove a file that is no longer part of the log; retrying at the next retention check", "file", p, "err", err)
			l.leftovers = append(l.leftovers, p)
			errs = append(errs, err)
		}
	}
	l.hasLeftovers.Store(len(l.leftovers) > 0)
	return errors.Join(errs...)
}

// retryLeftovers tries again to remove the files whose removal failed.
// syncMu is held.
func (l *Log) retryLeftovers() error {
	if len(l.leftovers) == 0 {
		return nil
	}
	paths := l.leftovers
	l.leftovers = nil
	err := l.removeLater(paths...)
	if err == nil {
		l.log.Info("removed files left by an earlier retention check", "files", len(paths))
	}
	return err
}

// writeIndexes replaces the segment's index files with its in-memory
// indexes. The caller fsyncs the folder.
func (l *Log) writeIndexes(s *segment) error {
	if err := l.writeMetaFile(filepath.Base(s.indexPath()), encodeIndex(s.index)); err != nil {
		return err
	}
	if err := l.writeMetaFile(filepath.Base(s.timeIndexPath()), encodeTimeIndex(s.tindex)); err != nil {
		return err
	}
	return l.writeTxnIndex(s, s.aborted)
}

// pruneSnapshots keeps the two newest producer snapshots, and removes
// those below the given offset (when it is not negative) unless it is the
// newest. A snapshot that cannot be removed is logged and tried again by
// the next retention check (it is harmless meanwhile: only the newest is
// ever loaded). syncMu is held.
func (l *Log) pruneSnapshots(below int64) error {
	var old []string
	for i, off := range l.snapshotOffsets() { // newest first
		if i >= 2 || (below >= 0 && off < below && i > 0) {
			old = append(old, filepath.Join(l.dir, segmentName(off, snapshotSuffix)))
		}
	}
	return l.removeLater(old...)
}

// snapshotOffsets lists the offsets of the producer snapshots, newest
// first.
func (l *Log) snapshotOffsets() []int64 {
	ents, _ := os.ReadDir(l.dir)
	var offs []int64
	for _, e := range ents {
		if off, ok := parseSegmentName(e.Name(), snapshotSuffix); ok {
			offs = append(offs, off)
		}
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] > offs[j] })
	return offs
}

// CheckpointIndex writes the active segment's index files as of the
// recovery point (the entries of batches that start below it), so that
// recovery after a crash starts validating at the last of them instead of
// at the start of the segment, and a producer snapshot at the log end. The
// broker calls it before it records the recovery point. A full disk is
// reported but does not fail the log.
func (l *Log) CheckpointIndex() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	if l.closed || l.failed != nil {
		l.mu.Unlock()
		return nil
	}
	s := l.active()
	if s.next == l.checkpointed {
		l.mu.Unlock()
		return nil // nothing appended since the last checkpoint
	}
	below := l.flushed.Load() - s.base
	n := sort.Search(len(s.index), func(i int) bool { return int64(s.index[i].rel) >= below })
	m := sort.Search(len(s.tindex), func(i int) bool { return int64(s.tindex[i].rel) >= below })
	index, tindex := encodeIndex(s.index[:n]), encodeTimeIndex(s.tindex[:m])
	aborted := append([]AbortedTxn(nil), s.aborted...)
	end := s.next
	var snap []byte
	if end > s.base {
		snap = l.producers.encode(end)
	}
	l.mu.Unlock()
	if n == 0 && snap == nil && len(aborted) == 0 {
		return nil
	}
	// Flushes of sealed segments hold syncMu too, so a segment rolled
	// meanwhile gets its complete index files after these.
	if n > 0 {
		if err := l.writeMetaFile(filepath.Base(s.indexPath()), index); err != nil {
			return err
		}
		if err := l.writeMetaFile(filepath.Base(s.timeIndexPath()), tindex); err != nil {
			return err
		}
	}
	// The aborted transactions before the snapshot's offset: recovery
	// replays only the markers after it.
	if err := l.writeTxnIndex(s, aborted); err != nil {
		return err
	}
	// A producer snapshot at the log end spares recovery the replay of
	// the segment's batch headers. (Should the log lose its end in a
	// crash, the snapshot is dropped on open.)
	if snap != nil {
		if err := l.writeMetaFile(segmentName(end, snapshotSuffix), snap); err != nil {
			return err
		}
	}
	if err := SyncDir(l.dir); err != nil {
		return err
	}
	if snap != nil {
		l.pruneSnapshots(-1)
	}
	l.checkpointed = end
	return nil
}

// RetainResult says what a retention pass removed.
type RetainResult struct {
	Segments       int
	Bytes          int64
	LogStartOffset int64
}

// Retain removes whole segments from the start of the log that are past
// retention.ms (their largest timestamp is older) or beyond retention.bytes,
// when cleanup.policy includes delete. If every segment goes, a new empty
// one is rolled first, so the log end offset is kept. The log start offset
// moves to the first remaining segment.
//
// A segment leaves the log when its .log file is renamed to .log.deleted
// (which Open never loads), oldest first; a segment whose file cannot be
// renamed stays in the log, with every later one, and the error names the
// file. The files of segments out of the log are then removed; those that
// cannot be are reported and tried again by the next call.
func (l *Log) Retain(now time.Time) (RetainResult, error) {
	opts := l.opts.Load()
	retain := opts.Delete && (opts.RetentionTime >= 0 || opts.RetentionBytes >= 0)
	if !retain && !l.hasLeftovers.Load() {
		return RetainResult{LogStartOffset: l.StartOffset()}, nil
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	var errs []error
	if err := l.retryLeftovers(); err != nil {
		errs = append(errs, err)
	}
	l.mu.Lock()
	if l.closed || l.failed != nil {
		l.mu.Unlock()
		return RetainResult{}, errors.Join(errs...)
	}
	k := 0
	if retain {
		k = l.expiredSegments(opts, now)
	}
	if k == 0 {
		res := RetainResult{LogStartOffset: l.start}
		l.mu.Unlock()
		return res, errors.Join(errs...)
	}
	if k == len(l.segs) {
		if err := l.roll(); err != nil {
			err = l.writeFailed(err)
			res := RetainResult{LogStartOffset: l.start}
			l.mu.Unlock()
			return res, errors.Join(append(errs, err)...)
		}
	}
	n := 0
	for _, s := range l.segs[:k] {
		if err := l.renameFile(s.path, s.path+deletedSuffix); err != nil {
			l.log.Error("cannot delete a segment past retention; it stays in the log", "file", s.path, "err", err)
			errs = append(errs, fmt.Errorf("retention: %w", err))
			break
		}
		n++
	}
	var res RetainResult
	if n == 0 {
		res.LogStartOffset = l.start
		l.mu.Unlock()
		return res, errors.Join(errs...)
	}
	removed := l.segs[:n]
	for _, s := range removed {
		res.Bytes += s.size
	}
	l.rmu.Lock()
	l.segs = append([]*segment(nil), l.segs[n:]...)
	l.start = max(l.start, l.segs[0].base) // DeleteRecords may have moved it further
	l.rmu.Unlock()
	l.producers.expire(l.start)
	res.Segments, res.LogStartOffset = n, l.start
	l.mu.Unlock()

	errs = append(errs, l.dropRenamed(removed, "retention")...)
	if err := l.pruneSnapshots(res.LogStartOffset); err != nil {
		errs = append(errs, fmt.Errorf("retention: %w", err))
	}
	if err := SyncDir(l.dir); err != nil {
		errs = append(errs, err)
	}
	l.log.Info("deleted segments past retention", "segments", n, "bytes", res.Bytes, "log_start_offset", res.LogStartOffset)
	return res, errors.Join(errs...)
}

// expiredSegments counts the segments at the start of the log that are
// past retention.ms or beyond retention.bytes. mu is held.
func (l *Log) expiredSegments(opts *Options, now time.Time) int {
	var total int64
	for _, s := range l.segs {
		total += s.size
	}
	cut := now.Add(-opts.RetentionTime).UnixMilli()
	k := 0
	for k < len(l.segs) {
		s := l.segs[k]
		if s.size == 0 && !s.sealed {
			break
		}
		byTime := opts.RetentionTime >= 0 && s.maxTs < cut
		bySize := opts.RetentionBytes >= 0 && total-s.size >= opts.RetentionBytes
		if !byTime && !bySize {
			break
		}
		total -= s.size
		k++
	}
	return k
}

// Close flushes the log, writes every index and a producer snapshot at the
// log end, and closes the files, so that the next Open with Clean set
// trusts them. It is idempotent.
func (l *Log) Close() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.rmu.Lock()
	l.closed = true
	l.rmu.Unlock()
	var err error
	if l.failed == nil {
		err = l.closeFlush()
	}
	for _, s := range l.segs {
		if cerr := s.f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil && l.failed != nil {
		err = l.failed
	}
	return err
}

func (l *Log) closeFlush() error {
	var todo []flushItem
	for _, s := range l.segs {
		if !s.synced {
			todo = append(todo, flushItem{s, true}) // write every index
		}
	}
	end := l.active().next
	snaps := append(l.snapshots, pendingSnapshot{offset: end, data: l.producers.encode(end)})
	l.snapshots = nil
	if err := l.syncData(todo, true); err != nil {
		return err
	}
	l.flushed.Store(end)
	return l.syncMeta(todo, snaps)
}

// Drop closes the log without flushing it, for a log about to be removed.
func (l *Log) Drop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.rmu.Lock()
	l.closed = true
	l.rmu.Unlock()
	for _, s := range l.segs {
		s.f.Close()
	}
}

// readScanSlack is read beyond the requested bytes, to cover the batches
// between the index entry and the requested offset in the same read.
const readScanSlack = 16 << 10

// Read returns the whole batches from the one holding offset, at most
// maxBytes of them. When minOne is set and the first batch is larger than
// maxBytes, that one batch is returned anyway, so a consumer can always
// progress. Reading at the log end returns no records; below the log start
// or beyond the end, ErrOffsetOutOfRange. Reads come from one segment per
// call. buf is used for the data if it is large enough.
func (l *Log) Read(buf []byte, offset int64, maxBytes int, minOne bool) (ReadResult, error) {
	return l.readTo(buf, offset, maxBytes, minOne, false)
}

// ReadCommitted is Read for a read_committed consumer: it returns only
// batches below the last stable offset (ReadResult.LastStableOffset).
func (l *Log) ReadCommitted(buf []byte, offset int64, maxBytes int, minOne bool) (ReadResult, error) {
	return l.readTo(buf, offset, maxBytes, minOne, true)
}

func (l *Log) readTo(buf []byte, offset int64, maxBytes int, minOne, stable bool) (ReadResult, error) {
	for attempt := 0; ; attempt++ {
		res, err := l.read(buf, offset, maxBytes, minOne, stable)
		if errors.Is(err, os.ErrClosed) && attempt < 3 {
			continue // retention removed the segment while we read it
		}
		return res, err
	}
}

func grow(buf []byte, n int64) []byte {
	if int64(cap(buf)) >= n {
		return buf[:n]
	}
	return make([]byte, n)
}

func (l *Log) read(buf []byte, offset int64, maxBytes int, minOne, stable bool) (ReadResult, error) {
	res := ReadResult{Buf: buf}
	lso := l.LastStableOffset()
	l.rmu.RLock()
	if l.closed {
		l.rmu.RUnlock()
		return res, ErrClosed
	}
	segs := l.segs
	res.LogStartOffset, res.HighWatermark = l.start, segs[len(segs)-1].next
	res.LastStableOffset = min(lso, res.HighWatermark)
	if offset < res.LogStartOffset || offset > res.HighWatermark {
		l.rmu.RUnlock()
		return res, fmt.Errorf("%w: offset %d is outside [%d, %d]", ErrOffsetOutOfRange, offset, res.LogStartOffset, res.HighWatermark)
	}
	limit := res.HighWatermark
	if stable {
		limit = res.LastStableOffset
	}
	if offset >= limit {
		l.rmu.RUnlock()
		return res, nil
	}
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > offset }) - 1
	for i < len(segs)-1 && segs[i].next <= offset {
		i++
	}
	s := segs[i]
	f, base, size, index := s.f, s.base, s.size, s.index
	l.rmu.RUnlock()

	if maxBytes < 0 {
		maxBytes = 0
	}
	pos := lookup(index, offset-base)
	for pos < size {
		want := min(size-pos, int64(maxBytes)+readScanSlack)
		b := grow(buf, want)
		res.Buf = b
		n, err := f.ReadAt(b, pos)
		if int64(n) < want {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("%w: short read of %s at %d", ErrStorage, s.path, pos)
			}
			return res, err
		}
		// Find the batch holding offset.
		i, found := 0, false
		for i+BatchHeaderSize <= n {
			h := peek(b[i:])
			if h.length < BatchHeaderSize-logOverhead {
				return res, fmt.Errorf("%w: bad batch length %d in %s at %d", ErrStorage, h.length, s.path, pos+int64(i))
			}
			if h.base+int64(h.lastDelta) >= offset {
				found = true
				break
			}
			i += int(h.length) + logOverhead
		}
		if !found {
			if i == 0 {
				return res, fmt.Errorf("%w: truncated batch in %s at %d", ErrStorage, s.path, pos)
			}
			pos += int64(i)
			continue
		}
		// Take whole batches from there.
		j, total, last := i, 0, i
		for j+logOverhead <= n {
			sz := int(int32(binary.BigEndian.Uint32(b[j+offLength:]))) + logOverhead
			if sz < BatchHeaderSize {
				return res, fmt.Errorf("%w: bad batch length in %s at %d", ErrStorage, s.path, pos+int64(j))
			}
			if j+sz > n || (total+sz > maxBytes && (total > 0 || !minOne)) {
				break
			}
			if total > 0 && int64(binary.BigEndian.Uint64(b[j:])) >= limit {
				break // above the last stable offset
			}
			total += sz
			last = j
			j += sz
		}
		if total > 0 {
			res.Records = b[i:j]
			h := peek(b[last:])
			res.NextOffset = h.base + int64(h.lastDelta) + 1
			return res, nil
		}
		if !minOne {
			return res, nil
		}
		sz := int64(peek(b[i:]).length) + logOverhead
		b = grow(b, sz)
		res.Buf = b
		if n, err := f.ReadAt(b, pos+int64(i)); int64(n) < sz {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("%w: short read of %s at %d", ErrStorage, s.path, pos+int64(i))
			}
			return res, err
		}
		res.Records = b
		h := peek(b)
		res.NextOffset = h.base + int64(h.lastDelta) + 1
		return res, nil
	}
	return res, nil
}

type peeked struct {
	base      int64
	length    int32
	lastDelta int32
}

// peek decodes the fields of a stored batch header that reads need; b
// holds at least the first 27 bytes (callers ensure a whole header).
func peek(b []byte) peeked {
	return peeked{
		base:      int64(uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 | uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])),
		length:    int32(uint32(b[8])<<24 | uint32(b[9])<<16 | uint32(b[10])<<8 | uint32(b[11])),
		lastDelta: int32(uint32(b[23])<<24 | uint32(b[24])<<16 | uint32(b[25])<<8 | uint32(b[26])),
	}
}

// dropRenamed finishes the removal of segments already renamed with
// deletedSuffix and taken out of the log: the renames are made durable
// (from then on the segments are gone for good), then the files are closed
// and removed. what names the work for errors.
func (l *Log) dropRenamed(removed []*segment, what string) []error {
	var errs []error
	if err := SyncDir(l.dir); err != nil {
		errs = append(errs, err)
	}
	var paths []string
	for _, s := range removed {
		s.f.Close()
		paths = append(paths, s.path+deletedSuffix, s.indexPath(), s.timeIndexPath())
		if s.txnFile {
			paths = append(paths, s.txnIndexPath())
		}
	}
	if err := l.removeLater(paths...); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", what, err))
	}
	return errs
}
