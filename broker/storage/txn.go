package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Transactions in a partition log (KIP-98).
//
// A transactional batch (attributes bit 4) opens its producer's
// transaction in the partition if none is open; the first offset of the
// oldest open transaction is the first unstable offset, and the last
// stable offset (LSO) is that offset, or the log end when no transaction
// is open. A control batch (attributes bits 4 and 5) written by
// AppendControl ends the producer's transaction: one record whose key is
// version int16 = 0 and type int16 (0 abort, 1 commit), and whose value is
// version int16 = 0 and the coordinator epoch int32. An aborted
// transaction is recorded in the segment that holds its marker (Kafka's
// .txnindex), so that a read_committed fetch can be told which producers'
// batches to drop in the range it reads.
//
// Which producers are the broker's to check: a transactional batch is
// appended as any idempotent one (sequence and epoch checks); that the
// partition belongs to the producer's transaction is the caller's check.

// Control record types (the key's second field).
const (
	controlAbort  = 0
	controlCommit = 1
)

// AbortedTxn is one aborted transaction of a partition: the producer, the
// first offset of its transaction and the offset of its abort marker.
// LastStableOffset is the log's LSO once the marker was written.
type AbortedTxn struct {
	ProducerID       int64
	FirstOffset      int64
	LastOffset       int64
	LastStableOffset int64
}

// txnIndexSuffix names a segment's aborted-transaction index. Its format
// is Kafka's: 34-byte entries of version int16 = 0, producer id int64,
// first offset int64, last offset int64, last stable offset int64,
// big-endian, in marker order.
const (
	txnIndexSuffix    = ".txnindex"
	txnIndexEntrySize = 34
)

func (s *segment) txnIndexPath() string {
	return filepath.Join(filepath.Dir(s.path), segmentName(s.base, txnIndexSuffix))
}

func encodeTxnIndex(entries []AbortedTxn) []byte {
	b := make([]byte, 0, len(entries)*txnIndexEntrySize)
	be := binary.BigEndian
	for _, e := range entries {
		b = be.AppendUint16(b, 0)
		b = be.AppendUint64(b, uint64(e.ProducerID))
		b = be.AppendUint64(b, uint64(e.FirstOffset))
		b = be.AppendUint64(b, uint64(e.LastOffset))
		b = be.AppendUint64(b, uint64(e.LastStableOffset))
	}
	return b
}

// decodeTxnIndex keeps the longest prefix of well-formed entries: version
// 0, first offset not after last offset, last offsets increasing.
func decodeTxnIndex(b []byte) []AbortedTxn {
	be := binary.BigEndian
	var out []AbortedTxn
	for i := 0; i+txnIndexEntrySize <= len(b); i += txnIndexEntrySize {
		e := b[i:]
		if be.Uint16(e) != 0 {
			break
		}
		t := AbortedTxn{
			ProducerID:       int64(be.Uint64(e[2:])),
			FirstOffset:      int64(be.Uint64(e[10:])),
			LastOffset:       int64(be.Uint64(e[18:])),
			LastStableOffset: int64(be.Uint64(e[26:])),
		}
		if t.FirstOffset < 0 || t.FirstOffset > t.LastOffset {
			break
		}
		if n := len(out); n > 0 && t.LastOffset <= out[n-1].LastOffset {
			break
		}
		out = append(out, t)
	}
	return out
}

// loadTxnIndex reads the segment's .txnindex, if any.
func (s *segment) loadTxnIndex() {
	b, err := os.ReadFile(s.txnIndexPath())
	if err != nil {
		return
	}
	s.txnFile = true
	s.aborted = decodeTxnIndex(b)
}

// writeTxnIndex replaces the segment's .txnindex with its entries, or
// removes it when there are none. The caller fsyncs the folder.
func (l *Log) writeTxnIndex(s *segment, entries []AbortedTxn) error {
	if len(entries) == 0 {
		if !s.txnFile {
			return nil
		}
		if err := l.removeFile(s.txnIndexPath()); err != nil {
			return err
		}
		s.txnFile = false
		return nil
	}
	if err := l.writeMetaFile(filepath.Base(s.txnIndexPath()), encodeTxnIndex(entries)); err != nil {
		return err
	}
	s.txnFile = true
	return nil
}

// LastStableOffset is the first offset of the oldest transaction still
// open in the log, or the log end offset when none is; never below the
// log start offset (retention or DeleteRecords may have removed the
// start of an open transaction).
func (l *Log) LastStableOffset() int64 {
	end := l.end.Load() // before unstable: see appendLocked
	if u := l.unstable.Load(); u > 0 {
		return max(min(u-1, end), l.StartOffset())
	}
	return end
}

// firstUnstable recomputes the first offset of the oldest open
// transaction, -1 if none. mu is held.
func (l *Log) firstUnstable() int64 {
	first := int64(-1)
	for _, e := range l.producers {
		if e.txnFirst >= 0 && (first < 0 || e.txnFirst < first) {
			first = e.txnFirst
		}
	}
	return first
}

// ControlResult describes a transaction marker written by AppendControl.
type ControlResult struct {
	// Offset is the marker's offset, -1 when nothing was written: the
	// producer had no transaction open in the partition.
	Offset int64
	// FlushDue: as AppendResult.FlushDue.
	FlushDue bool
}

// AppendControl ends the open transaction of producer pid in the log by
// appending a COMMIT or ABORT marker (a control batch) at epoch, which
// must not be older than the producer's (ErrInvalidProducerEpoch). The
// transaction's batches become readable by read_committed consumers; an
// aborted one is recorded in the segment's aborted-transaction index.
// When the producer has no transaction open here nothing is written, but
// a newer epoch is recorded, fencing batches of older ones.
func (l *Log) AppendControl(pid int64, epoch int16, commit bool, coordinatorEpoch int32, now time.Time) (ControlResult, error) {
	opts := l.opts.Load()
	l.mu.Lock()
	defer l.mu.Unlock()
	res := ControlResult{Offset: -1}
	if l.closed {
		return res, ErrClosed
	}
	if l.failed != nil {
		return res, l.failed
	}
	e := l.producers[pid]
	if e != nil && epoch < e.epoch {
		return res, fmt.Errorf("%w: producer %d has epoch %d, the marker has older epoch %d", ErrInvalidProducerEpoch, pid, e.epoch, epoch)
	}
	if e == nil || e.txnFirst < 0 {
		if e != nil && epoch > e.epoch {
			e.epoch, e.batches = epoch, e.batches[:0]
		}
		return res, nil
	}
	ts := now.UnixMilli()
	batch := controlBatch(pid, epoch, commit, coordinatorEpoch, ts)
	h, _ := ParseHeader(batch)
	if _, err := l.appendLocked(batch, &h, opts, now); err != nil {
		return res, err
	}
	l.endTxn(e, &h, commit)
	res.Offset = h.BaseOffset
	res.FlushDue = opts.FlushMessages > 0 && l.unflushed >= opts.FlushMessages
	return res, nil
}

// endTxn applies a marker of header h (already in the log) to the
// producer's state: the transaction closes, an aborted one is indexed in
// the segment holding the marker (unless an entry loaded from its
// .txnindex already says so), and the first unstable offset moves on. mu
// is held.
func (l *Log) endTxn(e *producerEntry, h *BatchHeader, commit bool) {
	first := e.txnFirst
	e.txnFirst = -1
	if h.ProducerEpoch > e.epoch {
		e.epoch, e.batches = h.ProducerEpoch, e.batches[:0]
	}
	next := l.firstUnstable()
	if !commit && first >= 0 {
		lso := h.LastOffset() + 1
		if next >= 0 {
			lso = min(lso, next)
		}
		i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > h.BaseOffset }) - 1
		if i >= 0 {
			s := l.segs[i]
			known := false
			for _, a := range s.aborted {
				if a.LastOffset == h.BaseOffset && a.ProducerID == h.ProducerID {
					known = true
					break
				}
			}
			if !known {
				l.rmu.Lock()
				s.aborted = append(s.aborted, AbortedTxn{ProducerID: h.ProducerID, FirstOffset: first, LastOffset: h.BaseOffset, LastStableOffset: lso})
				l.rmu.Unlock()
			}
		}
	}
	l.unstable.Store(next + 1)
}

// AbortedTransactions lists the aborted transactions whose batches may lie
// in [from, upTo): their marker is at or after from and their first
// offset below upTo. A read_committed consumer drops the batches of those
// producers between each one's first and last offset.
func (l *Log) AbortedTransactions(from, upTo int64) []AbortedTxn {
	l.rmu.RLock()
	defer l.rmu.RUnlock()
	var out []AbortedTxn
	i := max(sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > from })-1, 0)
	for _, s := range l.segs[i:] {
		for _, a := range s.aborted {
			if a.LastOffset >= from && a.FirstOffset < upTo {
				out = append(out, a)
			}
			if a.LastOffset >= from && a.LastStableOffset >= upTo {
				// Every transaction open when this one ended started
				// at or after upTo: later markers end those.
				return out
			}
		}
	}
	return out
}

// controlBatch encodes a transaction marker: a control batch of one
// record.
func controlBatch(pid int64, epoch int16, commit bool, coordinatorEpoch int32, ts int64) []byte {
	typ := int16(controlAbort)
	if commit {
		typ = controlCommit
	}
	be := binary.BigEndian
	// The record: length, attributes, timestamp delta, offset delta, key
	// (4 bytes), value (6 bytes), no headers; every varint is one byte.
	rec := []byte{0, 0, 0, 0, 8}
	rec = be.AppendUint16(rec, 0)
	rec = be.AppendUint16(rec, uint16(typ))
	rec = append(rec, 12)
	rec = be.AppendUint16(rec, 0)
	rec = be.AppendUint32(rec, uint32(coordinatorEpoch))
	rec = append(rec, 0)
	rec[0] = byte((len(rec) - 1) << 1) // zig-zag length of what follows

	b := make([]byte, BatchHeaderSize, BatchHeaderSize+len(rec))
	be.PutUint32(b[offLength:], uint32(BatchHeaderSize+len(rec)-logOverhead))
	b[offMagic] = 2
	be.PutUint16(b[offAttributes:], attrTransactional|attrControl)
	be.PutUint64(b[offBaseTimestamp:], uint64(ts))
	be.PutUint64(b[offMaxTimestamp:], uint64(ts))
	be.PutUint64(b[offProducerID:], uint64(pid))
	be.PutUint16(b[offProducerEpoch:], uint16(epoch))
	be.PutUint32(b[offBaseSequence:], 0xffffffff)
	be.PutUint32(b[offRecordCount:], 1)
	b = append(b, rec...)
	be.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
	return b
}

var errNotMarker = errors.New("not a transaction marker")

// markerType decodes the type of the marker in control batch b (whole, or
// at least its header and first record): commit true or false.
func markerType(b []byte) (commit bool, err error) {
	if len(b) < BatchHeaderSize+1 {
		return false, errNotMarker
	}
	p := b[BatchHeaderSize:]
	if int8(b[offAttributes+1])&attrCompressionMask != 0 {
		return false, errNotMarker
	}
	// length, attributes (one byte), timestamp delta, offset delta, then
	// the key.
	n := 0
	for field := range 4 {
		if n >= len(p) {
			return false, errNotMarker
		}
		if field == 1 {
			n++
			continue
		}
		_, k := binary.Varint(p[n:])
		if k <= 0 {
			return false, errNotMarker
		}
		n += k
	}
	if n >= len(p) {
		return false, errNotMarker
	}
	klen, k := binary.Varint(p[n:])
	if k <= 0 || klen < 4 || n+k+4 > len(p) {
		return false, errNotMarker
	}
	key := p[n+k:]
	switch int16(binary.BigEndian.Uint16(key[2:])) {
	case controlCommit:
		return true, nil
	case controlAbort:
		return false, nil
	}
	return false, errNotMarker
}

// replayMarker applies a marker found while replaying the log (the batch
// of header h at position pos of segment s). mu is held or the log is not
// shared yet.
func (l *Log) replayMarker(s *segment, h *BatchHeader, pos int64) error {
	e := l.producers[h.ProducerID]
	if e == nil {
		e = &producerEntry{epoch: h.ProducerEpoch, txnFirst: -1}
		l.producers[h.ProducerID] = e
	}
	buf := make([]byte, min(h.Size(), 256))
	if n, err := s.f.ReadAt(buf, pos); n < len(buf) {
		return fmt.Errorf("read marker at %d of %s: %w", pos, s.path, err)
	}
	commit, err := markerType(buf)
	if err != nil {
		l.log.Warn("ignoring a control batch that is not a transaction marker", "segment", filepath.Base(s.path), "offset", h.BaseOffset)
		return nil
	}
	l.endTxn(e, h, commit)
	return nil
}
