package storage

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// record is one decoded record of a batch (Kafka's DefaultRecord):
//
//	length:varint attributes:int8 timestampDelta:varlong offsetDelta:varint
//	keyLength:varint key valueLength:varint value headers
//
// tail keeps the bytes from the key length to the record's end as they
// were, so that re-encoding a record changes only its timestamp delta.
type record struct {
	attrs     int8
	tsDelta   int64
	offDelta  int32
	key       []byte // nil for a null key
	nullValue bool   // a tombstone
	value     []byte
	tail      []byte
}

// decodeRecords decodes the n records of a batch's (decompressed)
// records section.
func decodeRecords(b []byte, n int32) ([]record, error) {
	out := make([]record, 0, max(n, 0))
	for i := int32(0); i < n; i++ {
		length, k := binary.Varint(b)
		if k <= 0 || length < 1 || length > int64(len(b)-k) {
			return nil, fmt.Errorf("%w: record %d has a bad length", ErrCorruptBatch, i)
		}
		body := b[k : k+int(length)]
		b = b[k+int(length):]
		r := record{attrs: int8(body[0])}
		p := body[1:]
		ts, k := binary.Varint(p)
		if k <= 0 {
			return nil, fmt.Errorf("%w: record %d has a bad timestamp delta", ErrCorruptBatch, i)
		}
		p = p[k:]
		od, k := binary.Varint(p)
		if k <= 0 || od < 0 || od > 1<<31-1 {
			return nil, fmt.Errorf("%w: record %d has a bad offset delta", ErrCorruptBatch, i)
		}
		p = p[k:]
		r.tsDelta, r.offDelta, r.tail = ts, int32(od), p
		klen, k := binary.Varint(p)
		if k <= 0 || klen < -1 || klen > int64(len(p)-k) {
			return nil, fmt.Errorf("%w: record %d has a bad key length", ErrCorruptBatch, i)
		}
		p = p[k:]
		if klen >= 0 {
			r.key = p[:klen]
			p = p[klen:]
		}
		vlen, k := binary.Varint(p)
		if k <= 0 || vlen < -1 || vlen > int64(len(p)-k) {
			return nil, fmt.Errorf("%w: record %d has a bad value length", ErrCorruptBatch, i)
		}
		r.nullValue = vlen < 0
		if vlen >= 0 {
			r.value = p[k : k+int(vlen)]
		}
		out = append(out, r)
	}
	return out, nil
}

// appendRecord encodes r, with timestamp delta tsDelta, at the end of b.
func appendRecord(b []byte, r *record, tsDelta int64) []byte {
	var tmp [2 * binary.MaxVarintLen64]byte
	n := binary.PutVarint(tmp[:], tsDelta)
	n += binary.PutVarint(tmp[n:], int64(r.offDelta))
	b = binary.AppendVarint(b, int64(1+n+len(r.tail)))
	b = append(b, byte(r.attrs))
	b = append(b, tmp[:n]...)
	return append(b, r.tail...)
}

// batchRecords returns the records section of batch b, decompressed.
func batchRecords(b []byte, h *BatchHeader, limit int) ([]byte, error) {
	records := b[BatchHeaderSize:h.Size()]
	if c := h.Compression(); c != 0 {
		return decompress(records, c, limit)
	}
	return records, nil
}

// compress encodes a records section with codec (1 gzip, 2 snappy in the
// Java client's xerial framing, 3 lz4 frames, 4 zstd).
func compress(src []byte, codec int8) ([]byte, error) {
	var out bytes.Buffer
	switch codec {
	case 1:
		zw := gzip.NewWriter(&out)
		if _, err := zw.Write(src); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
	case 2:
		out.Write(xerialHeader)
		out.Write([]byte{0, 0, 0, 1, 0, 0, 0, 1})
		for rest := src; len(rest) > 0; {
			n := min(len(rest), 32<<10)
			block := s2.EncodeSnappy(nil, rest[:n])
			out.Write(binary.BigEndian.AppendUint32(nil, uint32(len(block))))
			out.Write(block)
			rest = rest[n:]
		}
	case 3:
		zw := lz4.NewWriter(&out)
		if _, err := zw.Write(src); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
	case 4:
		zw, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer zw.Close()
		return zw.EncodeAll(src, nil), nil
	default:
		return src, nil
	}
	return out.Bytes(), nil
}

// rebuildBatch encodes a batch holding the records kept of the batch of
// header h, keeping its base offset, last offset delta, producer fields
// and codec. When horizon is not negative the batch carries it as its
// delete horizon (attributes bit 6, in the base timestamp field, with the
// records' timestamp deltas taken from it, as Kafka's KIP-534 does).
func rebuildBatch(h *BatchHeader, kept []record, horizon int64) ([]byte, error) {
	base := h.BaseTimestamp
	attrs := h.Attributes
	if horizon >= 0 {
		base = horizon
		attrs |= attrDeleteHorizon
	}
	maxTs := h.MaxTimestamp
	if !h.LogAppendTime() {
		maxTs = -1
		for i := range kept {
			maxTs = max(maxTs, h.BaseTimestamp+kept[i].tsDelta)
		}
	}
	var recs []byte
	for i := range kept {
		recs = appendRecord(recs, &kept[i], h.BaseTimestamp+kept[i].tsDelta-base)
	}
	recs, err := compress(recs, h.Compression())
	if err != nil {
		return nil, fmt.Errorf("compress cleaned batch at offset %d: %w", h.BaseOffset, err)
	}
	be := binary.BigEndian
	b := make([]byte, BatchHeaderSize, BatchHeaderSize+len(recs))
	be.PutUint64(b[offBaseOffset:], uint64(h.BaseOffset))
	be.PutUint32(b[offLength:], uint32(BatchHeaderSize+len(recs)-logOverhead))
	be.PutUint32(b[offLeaderEpoch:], uint32(h.LeaderEpoch))
	b[offMagic] = 2
	be.PutUint16(b[offAttributes:], uint16(attrs))
	be.PutUint32(b[offLastOffsetDelta:], uint32(h.LastOffsetDelta))
	be.PutUint64(b[offBaseTimestamp:], uint64(base))
	be.PutUint64(b[offMaxTimestamp:], uint64(maxTs))
	be.PutUint64(b[offProducerID:], uint64(h.ProducerID))
	be.PutUint16(b[offProducerEpoch:], uint16(h.ProducerEpoch))
	be.PutUint32(b[offBaseSequence:], uint32(h.BaseSequence))
	be.PutUint32(b[offRecordCount:], uint32(len(kept)))
	b = append(b, recs...)
	be.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
	return b, nil
}

// checkKeys refuses a batch with a record without a key, for a compacted
// topic (Kafka's INVALID_RECORD).
func checkKeys(b []byte, h *BatchHeader, limit int) error {
	records, err := batchRecords(b, h, limit)
	if err != nil {
		return fmt.Errorf("%w: cannot decompress the batch: %v", ErrCorruptBatch, err)
	}
	recs, err := decodeRecords(records, h.NumRecords)
	if err != nil {
		return err
	}
	for i := range recs {
		if recs[i].key == nil {
			return fmt.Errorf("%w: compacted topic cannot accept message without key", ErrInvalidRecord)
		}
	}
	return nil
}
