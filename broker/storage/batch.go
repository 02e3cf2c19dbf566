package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Layout of a record batch (magic 2), as Kafka defines it. Every field is
// big-endian. The CRC covers everything from the attributes to the end of
// the batch, so the base offset and the partition leader epoch, which the
// broker assigns, can be rewritten without recomputing it.
const (
	offBaseOffset      = 0  // int64
	offLength          = 8  // int32: bytes that follow this field
	offLeaderEpoch     = 12 // int32
	offMagic           = 16 // int8
	offCRC             = 17 // uint32, CRC-32C of [offAttributes, end)
	offAttributes      = 21 // int16
	offLastOffsetDelta = 23 // int32
	offBaseTimestamp   = 27 // int64
	offMaxTimestamp    = 35 // int64
	offProducerID      = 43 // int64
	offProducerEpoch   = 51 // int16
	offBaseSequence    = 53 // int32
	offRecordCount     = 57 // int32

	// BatchHeaderSize is the size of a record batch without its records.
	BatchHeaderSize = 61
	// logOverhead is the part of a batch before and including its length
	// field: a batch occupies logOverhead+Length bytes.
	logOverhead = 12
	// minRecordSize is the smallest encoding of one record: length,
	// attributes, timestamp delta, offset delta, key length, value length
	// and header count, one byte each.
	minRecordSize = 7

	attrCompressionMask = 0x07
	attrLogAppendTime   = 0x08
	attrTransactional   = 0x10
	attrControl         = 0x20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors returned for batches that cannot be stored. Each error returned by
// ValidateBatch and Log.Append wraps one of them, with a message that says
// what exactly was wrong.
var (
	// ErrCorruptBatch: the bytes are not a well-formed record batch (bad
	// CRC, inconsistent length fields). Kafka's CORRUPT_MESSAGE.
	ErrCorruptBatch = errors.New("storage: corrupt record batch")
	// ErrInvalidRecord: a well-formed batch that the log does not accept
	// (old magic, no records, a control batch from a producer, a
	// transactional batch without a producer id, more than one batch).
	// Kafka's INVALID_RECORD.
	ErrInvalidRecord = errors.New("storage: invalid record batch")
	// ErrBatchTooLarge: the batch exceeds max.message.bytes. Kafka's
	// MESSAGE_TOO_LARGE.
	ErrBatchTooLarge = errors.New("storage: record batch too large")
	// ErrOutOfOrderSequence: an idempotent batch does not continue its
	// producer's sequence. Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER.
	ErrOutOfOrderSequence = errors.New("storage: out of order sequence number")
	// ErrInvalidProducerEpoch: an idempotent batch comes from an older
	// epoch of its producer. Kafka's INVALID_PRODUCER_EPOCH.
	ErrInvalidProducerEpoch = errors.New("storage: invalid producer epoch")
	// ErrOffsetOutOfRange: a read below the log start or beyond the log
	// end. Kafka's OFFSET_OUT_OF_RANGE.
	ErrOffsetOutOfRange = errors.New("storage: offset out of range")
	// ErrClosed: the log is closed (its topic may have been deleted).
	ErrClosed = errors.New("storage: log closed")
	// ErrStorage: the disk failed under the log; it takes no more writes.
	// Kafka's KAFKA_STORAGE_ERROR.
	ErrStorage = errors.New("storage: disk error")
	// ErrNoSpace: the disk is full. The append was refused and left no
	// trace; appends succeed again once space is freed. Kafka's
	// KAFKA_STORAGE_ERROR (which producers retry).
	ErrNoSpace = errors.New("storage: no space left on device")
	// ErrDecompressLimit: a batch that a timestamp lookup must decode
	// decompresses to more than the lookup allows (see OffsetForTimestamp).
	ErrDecompressLimit = errors.New("storage: batch decompresses beyond the limit")
)

// BatchHeader is the fixed-size head of a record batch.
type BatchHeader struct {
	BaseOffset      int64
	Length          int32 // bytes after the length field
	LeaderEpoch     int32
	Magic           int8
	CRC             uint32
	Attributes      int16
	LastOffsetDelta int32
	BaseTimestamp   int64
	MaxTimestamp    int64
	ProducerID      int64
	ProducerEpoch   int16
	BaseSequence    int32
	NumRecords      int32
}

// Size is the number of bytes the batch occupies.
func (h *BatchHeader) Size() int64 { return int64(h.Length) + logOverhead }

// LastOffset is the offset of the batch's last record.
func (h *BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Compression is the codec of the records (0 none, 1 gzip, 2 snappy, 3
// lz4, 4 zstd).
func (h *BatchHeader) Compression() int8 { return int8(h.Attributes & attrCompressionMask) }

// LogAppendTime reports whether the batch's timestamps are the broker's
// append time (MaxTimestamp) rather than the producer's.
func (h *BatchHeader) LogAppendTime() bool { return h.Attributes&attrLogAppendTime != 0 }

// Idempotent reports whether the batch carries a producer id.
func (h *BatchHeader) Idempotent() bool { return h.ProducerID >= 0 }

// Transactional reports whether the batch belongs to a transaction
// (attributes bit 4): a producer's data or a coordinator's marker.
func (h *BatchHeader) Transactional() bool { return h.Attributes&attrTransactional != 0 }

// Control reports whether the batch is a control batch (attributes bit
// 5), such as a transaction marker.
func (h *BatchHeader) Control() bool { return h.Attributes&attrControl != 0 }

// LastSequence is the sequence number of the batch's last record, wrapping
// at MaxInt32 as Kafka's sequences do.
func (h *BatchHeader) LastSequence() int32 {
	return addSequence(h.BaseSequence, h.LastOffsetDelta)
}

func addSequence(seq, n int32) int32 {
	if seq > math.MaxInt32-n {
		return n - (math.MaxInt32 - seq) - 1
	}
	return seq + n
}

// ParseHeader decodes the first BatchHeaderSize bytes of b. It checks
// nothing but the length of b.
func ParseHeader(b []byte) (BatchHeader, error) {
	if len(b) < BatchHeaderSize {
		return BatchHeader{}, fmt.Errorf("%w: %d bytes is shorter than the %d-byte batch header", ErrCorruptBatch, len(b), BatchHeaderSize)
	}
	be := binary.BigEndian
	return BatchHeader{
		BaseOffset:      int64(be.Uint64(b[offBaseOffset:])),
		Length:          int32(be.Uint32(b[offLength:])),
		LeaderEpoch:     int32(be.Uint32(b[offLeaderEpoch:])),
		Magic:           int8(b[offMagic]),
		CRC:             be.Uint32(b[offCRC:]),
		Attributes:      int16(be.Uint16(b[offAttributes:])),
		LastOffsetDelta: int32(be.Uint32(b[offLastOffsetDelta:])),
		BaseTimestamp:   int64(be.Uint64(b[offBaseTimestamp:])),
		MaxTimestamp:    int64(be.Uint64(b[offMaxTimestamp:])),
		ProducerID:      int64(be.Uint64(b[offProducerID:])),
		ProducerEpoch:   int16(be.Uint16(b[offProducerEpoch:])),
		BaseSequence:    int32(be.Uint32(b[offBaseSequence:])),
		NumRecords:      int32(be.Uint32(b[offRecordCount:])),
	}, nil
}

// ValidateBatch checks that b is exactly one record batch that a producer
// may write, no larger than maxBytes, and returns its header. It checks the
// magic byte, the length fields, the CRC-32C, the record count against the
// offset delta and (for uncompressed batches) against the bytes available,
// and the producer fields. It does not decompress or decode the records.
func ValidateBatch(b []byte, maxBytes int) (BatchHeader, error) {
	if maxBytes > 0 && len(b) > maxBytes {
		return BatchHeader{}, fmt.Errorf("%w: the batch is %d bytes, more than max.message.bytes (%d)", ErrBatchTooLarge, len(b), maxBytes)
	}
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if err := checkFraming(&h, int64(len(b))); err != nil {
		return h, err
	}
	if h.Size() != int64(len(b)) {
		return h, fmt.Errorf("%w: %d bytes follow a %d-byte batch; a produce request carries exactly one batch per partition", ErrInvalidRecord, int64(len(b))-h.Size(), h.Size())
	}
	if got := crc32.Checksum(b[offAttributes:], castagnoli); got != h.CRC {
		return h, fmt.Errorf("%w: CRC-32C is %08x, the batch says %08x", ErrCorruptBatch, got, h.CRC)
	}
	if err := checkContents(&h, b); err != nil {
		return h, err
	}
	return h, nil
}

// checkFraming checks the fields needed to find the batch's end: magic and
// length, against the avail bytes from the batch's start.
func checkFraming(h *BatchHeader, avail int64) error {
	if h.Magic != 2 {
		return fmt.Errorf("%w: magic %d; only record batches of magic 2 are stored", ErrInvalidRecord, h.Magic)
	}
	if h.Length < BatchHeaderSize-logOverhead {
		return fmt.Errorf("%w: length field %d is shorter than the batch header", ErrCorruptBatch, h.Length)
	}
	if h.Size() > avail {
		return fmt.Errorf("%w: length field says %d bytes, only %d are present", ErrCorruptBatch, h.Size(), avail)
	}
	return nil
}

// checkContents checks what ValidateBatch checks after the CRC.
func checkContents(h *BatchHeader, b []byte) error {
	if h.LastOffsetDelta < 0 {
		return fmt.Errorf("%w: last offset delta %d is negative", ErrCorruptBatch, h.LastOffsetDelta)
	}
	if h.NumRecords <= 0 {
		return fmt.Errorf("%w: the batch holds %d records", ErrInvalidRecord, h.NumRecords)
	}
	if int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 {
		return fmt.Errorf("%w: %d records but last offset delta %d", ErrInvalidRecord, h.NumRecords, h.LastOffsetDelta)
	}
	codec := h.Compression()
	if codec > 4 {
		return fmt.Errorf("%w: unknown compression codec %d", ErrCorruptBatch, codec)
	}
	if codec == 0 && int64(h.NumRecords)*minRecordSize > int64(len(b)-BatchHeaderSize) {
		return fmt.Errorf("%w: %d records cannot fit in %d bytes", ErrCorruptBatch, h.NumRecords, len(b)-BatchHeaderSize)
	}
	if h.Attributes&attrControl != 0 {
		return fmt.Errorf("%w: producers may not write control batches", ErrInvalidRecord)
	}
	if h.Attributes&attrTransactional != 0 && h.ProducerID < 0 {
		return fmt.Errorf("%w: a transactional batch without a producer id", ErrInvalidRecord)
	}
	if h.ProducerID >= 0 && (h.ProducerEpoch < 0 || h.BaseSequence < 0) {
		return fmt.Errorf("%w: producer id %d with epoch %d and sequence %d", ErrInvalidRecord, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
	}
	return nil
}

// stampLogAppendTime marks b as a LogAppendTime batch whose timestamp is
// ms, and recomputes its CRC (both fields are covered by it).
func stampLogAppendTime(b []byte, ms int64) {
	be := binary.BigEndian
	attrs := be.Uint16(b[offAttributes:])
	be.PutUint16(b[offAttributes:], attrs|attrLogAppendTime)
	be.PutUint64(b[offMaxTimestamp:], uint64(ms))
	be.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
}

// setOffsetAndEpoch writes the base offset and partition leader epoch,
// which lie before the CRC-covered part.
func setOffsetAndEpoch(b []byte, base int64, epoch int32) {
	binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(base))
	binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(epoch))
}
