package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"sort"
)

// producerBatchesKept is how many recent batches of each producer are
// remembered, so that a retry of any of them is recognised (the idempotent
// producer keeps at most five requests in flight).
const producerBatchesKept = 5

// producerBatch is what the log remembers of one idempotent batch.
type producerBatch struct {
	firstSeq, lastSeq       int32
	firstOffset, lastOffset int64
	maxTs                   int64
}

// producerEntry is the state of one producer id in one partition.
type producerEntry struct {
	epoch   int16
	batches []producerBatch // oldest first
	// txnFirst is the first offset of the producer's ongoing transaction
	// in this partition, -1 when none is open.
	txnFirst int64
}

// producers maps producer ids to their state. It belongs to Log.mu.
type producers map[int64]*producerEntry

func inSequence(last, next int32) bool {
	return next == last+1 || (next == 0 && last == math.MaxInt32)
}

// check decides what to do with an idempotent batch: append it (nil, nil),
// acknowledge an earlier copy of it (the earlier batch, nil) or refuse it.
// A producer the log has no state for may start at any sequence, as in
// Kafka (its earlier batches may have been removed by retention).
func (ps producers) check(h *BatchHeader) (*producerBatch, error) {
	e := ps[h.ProducerID]
	if e == nil {
		return nil, nil
	}
	switch {
	case h.ProducerEpoch < e.epoch:
		return nil, fmt.Errorf("%w: producer %d has epoch %d, the batch has older epoch %d", ErrInvalidProducerEpoch, h.ProducerID, e.epoch, h.ProducerEpoch)
	case h.ProducerEpoch > e.epoch:
		if h.BaseSequence != 0 {
			return nil, fmt.Errorf("%w: the first batch of epoch %d of producer %d has sequence %d, not 0", ErrOutOfOrderSequence, h.ProducerEpoch, h.ProducerID, h.BaseSequence)
		}
		return nil, nil
	}
	last := h.LastSequence()
	for i := range e.batches {
		if b := &e.batches[i]; b.firstSeq == h.BaseSequence && b.lastSeq == last {
			return b, nil
		}
	}
	if n := len(e.batches); n > 0 && !inSequence(e.batches[n-1].lastSeq, h.BaseSequence) {
		return nil, fmt.Errorf("%w: producer %d epoch %d: expected sequence %d, got %d", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, addSequence(e.batches[n-1].lastSeq, 1), h.BaseSequence)
	}
	return nil, nil
}

// update records an appended idempotent batch whose base offset is set.
func (ps producers) update(h *BatchHeader) {
	e := ps[h.ProducerID]
	if e == nil {
		e = &producerEntry{epoch: h.ProducerEpoch, txnFirst: -1}
		ps[h.ProducerID] = e
	}
	if h.Transactional() && e.txnFirst < 0 {
		e.txnFirst = h.BaseOffset
	}
	if h.ProducerEpoch != e.epoch {
		e.epoch = h.ProducerEpoch
		e.batches = e.batches[:0]
	}
	if len(e.batches) == producerBatchesKept {
		copy(e.batches, e.batches[1:])
		e.batches = e.batches[:producerBatchesKept-1]
	}
	e.batches = append(e.batches, producerBatch{
		firstSeq:    h.BaseSequence,
		lastSeq:     h.LastSequence(),
		firstOffset: h.BaseOffset,
		lastOffset:  h.LastOffset(),
		maxTs:       h.MaxTimestamp,
	})
}

// expire forgets producers whose last batch lies wholly below the log
// start offset, as Kafka does once retention has removed their data; a
// producer with a transaction still open is kept.
func (ps producers) expire(logStart int64) {
	for id, e := range ps {
		if e.txnFirst >= 0 {
			continue
		}
		if n := len(e.batches); n == 0 || e.batches[n-1].lastOffset < logStart {
			delete(ps, id)
		}
	}
}

// Producer snapshot file (<20-digit offset>.snapshot): the producer state
// as of that offset, i.e. after every batch below it.
//
//	magic "TRPS", version uint16 = 2, offset int64, count int32,
//	count × { producer id int64, epoch int16, txn first offset int64,
//	          n int8,
//	          n × { first seq int32, last seq int32, first offset int64,
//	                last offset int64, max timestamp int64 } },
//	CRC-32C (Castagnoli) of everything before it, uint32.
//
// The txn first offset is that of the producer's open transaction in the
// partition, -1 when none is open. Version 1, written before transactions
// were stored, lacks it (no transaction is open); it is still read.
const (
	snapshotMagic   = "TRPS"
	snapshotVersion = 2
)

var errBadSnapshot = errors.New("storage: bad producer snapshot")

func (ps producers) encode(offset int64) []byte {
	ids := make([]int64, 0, len(ps))
	for id := range ps {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	be := binary.BigEndian
	b := make([]byte, 0, 18+len(ps)*(19+producerBatchesKept*32)+4)
	b = append(b, snapshotMagic...)
	b = be.AppendUint16(b, snapshotVersion)
	b = be.AppendUint64(b, uint64(offset))
	b = be.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		e := ps[id]
		b = be.AppendUint64(b, uint64(id))
		b = be.AppendUint16(b, uint16(e.epoch))
		b = be.AppendUint64(b, uint64(e.txnFirst))
		b = append(b, byte(len(e.batches)))
		for _, pb := range e.batches {
			b = be.AppendUint32(b, uint32(pb.firstSeq))
			b = be.AppendUint32(b, uint32(pb.lastSeq))
			b = be.AppendUint64(b, uint64(pb.firstOffset))
			b = be.AppendUint64(b, uint64(pb.lastOffset))
			b = be.AppendUint64(b, uint64(pb.maxTs))
		}
	}
	return be.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeSnapshot(b []byte) (producers, int64, error) {
	be := binary.BigEndian
	if len(b) < 22 || string(b[:4]) != snapshotMagic {
		return nil, 0, fmt.Errorf("%w: no header", errBadSnapshot)
	}
	body, sum := b[:len(b)-4], be.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, 0, fmt.Errorf("%w: checksum mismatch", errBadSnapshot)
	}
	version := be.Uint16(b[4:])
	if version != 1 && version != snapshotVersion {
		return nil, 0, fmt.Errorf("%w: version %d", errBadSnapshot, version)
	}
	head := 11 // producer id, epoch, n
	if version >= 2 {
		head += 8 // txn first offset
	}
	offset := int64(be.Uint64(b[6:]))
	count := int(be.Uint32(b[14:]))
	p := body[18:]
	ps := make(producers, count)
	for range count {
		if len(p) < head {
			return nil, 0, fmt.Errorf("%w: truncated", errBadSnapshot)
		}
		id := int64(be.Uint64(p))
		e := &producerEntry{epoch: int16(be.Uint16(p[8:])), txnFirst: -1}
		if version >= 2 {
			e.txnFirst = int64(be.Uint64(p[10:]))
		}
		n := int(p[head-1])
		p = p[head:]
		if n > producerBatchesKept || len(p) < n*32 {
			return nil, 0, fmt.Errorf("%w: truncated", errBadSnapshot)
		}
		for range n {
			e.batches = append(e.batches, producerBatch{
				firstSeq:    int32(be.Uint32(p)),
				lastSeq:     int32(be.Uint32(p[4:])),
				firstOffset: int64(be.Uint64(p[8:])),
				lastOffset:  int64(be.Uint64(p[16:])),
				maxTs:       int64(be.Uint64(p[24:])),
			})
			p = p[32:]
		}
		ps[id] = e
	}
	if len(p) != 0 {
		return nil, 0, fmt.Errorf("%w: %d trailing bytes", errBadSnapshot, len(p))
	}
	return ps, offset, nil
}

// MaxProducerID is the largest producer id the log holds state for, or -1.
// A broker that lost its record of handed-out ids starts above it.
func (l *Log) MaxProducerID() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := int64(-1)
	for id := range l.producers {
		m = max(m, id)
	}
	return m
}
