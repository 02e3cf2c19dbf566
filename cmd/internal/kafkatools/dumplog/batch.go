package dumplog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Sizes of Kafka's record batch framing (magic 2).
const (
	logOverhead      = 12 // base offset and length
	headerUpToMagic  = 17 // base offset, length, leader epoch, magic
	batchOverhead    = 61 // the whole magic 2 header, up to the first record
	minRecordOverhad = 14 // Kafka's smallest message (magic 0); a smaller length is corrupt
)

// Attribute bits of a magic 2 batch.
const (
	attrCodec         = 0x07
	attrLogAppendTime = 0x08
	attrTransactional = 0x10
	attrControl       = 0x20
	attrDeleteHorizon = 0x40
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var codecNames = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// batch is one record batch of a segment file: its header, where it lies
// and its bytes (the whole batch, framing included).
type batch struct {
	kmsg.RecordBatch
	position int64
	raw      []byte
}

func (b *batch) size() int           { return len(b.raw) }
func (b *batch) lastOffset() int64   { return b.FirstOffset + int64(b.LastOffsetDelta) }
func (b *batch) isControl() bool     { return b.Attributes&attrControl != 0 }
func (b *batch) isTxn() bool         { return b.Attributes&attrTransactional != 0 }
func (b *batch) crc() uint32         { return uint32(b.CRC) }
func (b *batch) codec() int          { return int(b.Attributes & attrCodec) }
func (b *batch) logAppendTime() bool { return b.Attributes&attrLogAppendTime != 0 }

// valid is Kafka's isValid: the CRC-32C of everything after the CRC field
// matches it.
func (b *batch) valid() bool {
	return len(b.raw) >= batchOverhead && crc32.Checksum(b.raw[21:], castagnoli) == b.crc()
}

// timestampType is the name Kafka prints for the batch's timestamps.
func (b *batch) timestampType() string {
	if b.logAppendTime() {
		return "LogAppendTime"
	}
	return "CreateTime"
}

// lastSequence is the sequence of the batch's last record, -1 without
// sequences; sequences wrap after math.MaxInt32 as Kafka's do.
func (b *batch) lastSequence() int32 {
	if b.FirstSequence == -1 {
		return -1
	}
	return incrementSequence(b.FirstSequence, b.LastOffsetDelta)
}

func incrementSequence(seq, delta int32) int32 {
	if seq > math.MaxInt32-delta {
		return delta - (math.MaxInt32 - seq) - 1
	}
	return seq + delta
}

// deleteHorizon is Kafka's deleteHorizonMs: the batch's first timestamp
// when the cleaner marked it, printed as Java prints an OptionalLong.
func (b *batch) deleteHorizon() string {
	if b.Attributes&attrDeleteHorizon == 0 {
		return "OptionalLong.empty"
	}
	return fmt.Sprintf("OptionalLong[%d]", b.FirstTimestamp)
}

// record is one record of a batch, with its absolute offset, timestamp and
// sequence worked out.
type record struct {
	offset     int64
	timestamp  int64
	sequence   int32
	key, value []byte // nil when null
	headerKeys []string
}

// errCorrupt marks a batch or file whose bytes cannot be read as Kafka's
// format.
var errCorrupt = errors.New("corrupt")

// segmentReader reads the batches of a segment file in order, as Kafka's
// FileRecords does: it stops at the end of the file or at a batch that the
// file cuts short, and fails on a length too small to be any batch.
type segmentReader struct {
	f    *os.File
	name string // as given, for errors
	pos  int64
	end  int64 // the file's size, or fewer bytes with --max-bytes
	buf  []byte
}

func openSegment(name string, maxBytes int64) (*segmentReader, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory, not a segment file", name)
	}
	end := st.Size()
	if maxBytes >= 0 && maxBytes < end {
		end = maxBytes
	}
	return &segmentReader{f: f, name: name, end: end}, nil
}

func (r *segmentReader) Close() error { return r.f.Close() }

// size is the number of bytes the reader covers.
func (r *segmentReader) size() int64 { return r.end }

// seek makes the next batch the one at pos.
func (r *segmentReader) seek(pos int64) { r.pos = pos }

// next returns the next batch, or io.EOF at the end of the batches (a
// batch cut short by the end of the file included: the bytes after the
// last whole batch are what the caller reports as invalid).
func (r *segmentReader) next() (*batch, error) {
	if r.pos >= r.end-headerUpToMagic {
		return nil, io.EOF
	}
	var head [headerUpToMagic]byte
	if _, err := r.f.ReadAt(head[:], r.pos); err != nil {
		return nil, fmt.Errorf("read %s at position %d: %w", r.name, r.pos, err)
	}
	length := int32(binary.BigEndian.Uint32(head[8:]))
	if length < minRecordOverhad {
		return nil, fmt.Errorf("%s position %d: %w: found record size %d smaller than minimum record overhead (%d)", r.name, r.pos, errCorrupt, length, minRecordOverhad)
	}
	if r.pos > r.end-logOverhead-int64(length) {
		return nil, io.EOF
	}
	magic := int8(head[16])
	if magic != 2 {
		return nil, fmt.Errorf("%s position %d: batch of message format v%d (magic %d): only magic 2 record batches (Kafka 0.11 and later) can be read", r.name, r.pos, magic, magic)
	}
	n := logOverhead + int(length)
	if n < batchOverhead {
		return nil, fmt.Errorf("%s position %d: %w: record batch size %d is smaller than the batch header (%d)", r.name, r.pos, errCorrupt, n, batchOverhead)
	}
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	raw := r.buf[:n]
	if _, err := r.f.ReadAt(raw, r.pos); err != nil {
		return nil, fmt.Errorf("read %s at position %d: %w", r.name, r.pos, err)
	}
	b := &batch{position: r.pos, raw: raw}
	if err := b.ReadFrom(raw); err != nil {
		return nil, fmt.Errorf("%s position %d: %w: batch header: %v", r.name, r.pos, errCorrupt, err)
	}
	r.pos += int64(n)
	return b, nil
}

// decompressor is franz-go's, which knows Kafka's codecs (and the xerial
// framing of Java's snappy).
var decompressor = kgo.DefaultDecompressor()

// records decodes the batch's records, decompressing them first.
func (b *batch) records() ([]record, error) {
	codec := b.codec()
	if codec >= len(codecNames) {
		return nil, fmt.Errorf("%w: unknown compression type id: %d", errCorrupt, codec)
	}
	data := b.Records
	if codec != 0 {
		var err error
		data, err = decompressor.Decompress(data, kgo.CompressionCodecType(codec))
		if err != nil {
			return nil, fmt.Errorf("%w: decompress %s records: %v", errCorrupt, codecNames[codec], err)
		}
	}
	if b.NumRecords < 0 {
		return nil, fmt.Errorf("%w: negative record count %d", errCorrupt, b.NumRecords)
	}
	out := make([]record, 0, min(int(b.NumRecords), len(data)/7+1))
	for i := range int(b.NumRecords) {
		r, n, err := decodeRecord(data)
		if err != nil {
			return nil, fmt.Errorf("%w: record %d of %d: %v", errCorrupt, i, b.NumRecords, err)
		}
		data = data[n:]
		r.offset = b.FirstOffset + r.offset
		if b.logAppendTime() {
			r.timestamp = b.MaxTimestamp
		} else {
			r.timestamp += b.FirstTimestamp
		}
		r.sequence = -1
		if b.FirstSequence >= 0 {
			r.sequence = incrementSequence(b.FirstSequence, int32(r.offset-b.FirstOffset))
		}
		out = append(out, r)
	}
	if len(data) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the batch's %d records", errCorrupt, len(data), b.NumRecords)
	}
	return out, nil
}

// decodeRecord decodes one record of a magic 2 batch from the start of p:
// its offset and timestamp are the deltas; n is the bytes it took.
func decodeRecord(p []byte) (r record, n int, err error) {
	size, k := binary.Varint(p)
	if k <= 0 {
		return r, 0, errors.New("bad record length")
	}
	if size < 0 || size > int64(len(p)-k) {
		return r, 0, fmt.Errorf("record length %d but %d bytes left", size, len(p)-k)
	}
	body := p[k : k+int(size)]
	d := decoder{p: body}
	d.byte() // attributes, unused
	r.timestamp = d.varlong()
	r.offset = int64(d.varint())
	r.key = d.bytes()
	r.value = d.bytes()
	nh := d.varint()
	if d.err == nil && nh < 0 {
		return r, 0, fmt.Errorf("invalid number of record headers %d", nh)
	}
	for i := 0; i < int(nh) && d.err == nil; i++ {
		key := d.bytes()
		if d.err == nil && key == nil {
			return r, 0, errors.New("invalid negative header key size")
		}
		d.bytes()
		r.headerKeys = append(r.headerKeys, string(key))
	}
	if d.err != nil {
		return r, 0, d.err
	}
	if len(d.p) != 0 {
		return r, 0, fmt.Errorf("invalid record size: expected to read %d bytes in record payload, but instead read %d", size, int(size)-len(d.p))
	}
	return r, k + int(size), nil
}

// decoder reads varint-framed fields, remembering the first error.
type decoder struct {
	p   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("record cut short reading its %s", what)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.p) == 0 {
		d.fail("attributes")
		return 0
	}
	b := d.p[0]
	d.p = d.p[1:]
	return b
}

func (d *decoder) varlong() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.p)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) varint() int32 {
	v := d.varlong()
	if v < math.MinInt32 || v > math.MaxInt32 {
		if d.err == nil {
			d.err = fmt.Errorf("varint %d out of range", v)
		}
		return 0
	}
	return int32(v)
}

// bytes reads a varint length and that many bytes; nil for length -1.
func (d *decoder) bytes() []byte {
	n := d.varint()
	if d.err != nil || n < 0 {
		return nil
	}
	if int(n) > len(d.p) {
		d.fail("key, value or header")
		return nil
	}
	b := d.p[:n:n]
	d.p = d.p[n:]
	return b
}
