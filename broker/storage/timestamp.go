package storage

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"sort"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Lookups by timestamp are rare (ListOffsets): they may decode the one batch
// they land in, decompressing it if needed, to find the exact record.
//
// A batch's stored size is bounded by max.message.bytes, but not what it
// decompresses to: a few KiB of zstd or gzip can expand to gigabytes. A
// lookup decompresses at most DecompressLimit bytes of a batch, 64 MiB or
// the topic's max.message.bytes if that is larger, and fails with
// ErrDecompressLimit beyond it, having held no more than that in memory.
// (Producers' batches are far smaller: batch.size defaults to 16 KiB, and
// max.request.size to 1 MiB.)

// minDecompressLimit is the least DecompressLimit.
const minDecompressLimit = 64 << 20

// DecompressLimit is the most a timestamp lookup decompresses of one
// batch: 64 MiB, or max.message.bytes when that is larger.
func (o Options) DecompressLimit() int { return max(minDecompressLimit, o.MaxMessageBytes) }

// segView is a read-only copy of what a timestamp lookup needs of a
// segment, taken under the read lock.
type segView struct {
	s      *segment
	base   int64
	size   int64
	maxTs  int64
	maxOff int64
	index  []indexEntry
	tindex []timeEntry
}

func (l *Log) views() ([]segView, error) {
	l.rmu.RLock()
	defer l.rmu.RUnlock()
	if l.closed {
		return nil, ErrClosed
	}
	vs := make([]segView, len(l.segs))
	for i, s := range l.segs {
		vs[i] = segView{s, s.base, s.size, s.maxTs, s.maxTsOffset, s.index, s.tindex}
	}
	return vs, nil
}

// OffsetForTimestamp returns the offset and timestamp of the first record
// whose timestamp is at least ts, or ok=false if there is none.
func (l *Log) OffsetForTimestamp(ts int64) (offset, timestamp int64, ok bool, err error) {
	return retryClosed(func() (int64, int64, bool, error) { return l.offsetForTimestamp(ts) })
}

// retryClosed runs a lookup again when it read a segment file that
// retention or the cleaner closed meanwhile (it then sees the new
// segment list).
func retryClosed(f func() (int64, int64, bool, error)) (int64, int64, bool, error) {
	for attempt := 0; ; attempt++ {
		off, ts, ok, err := f()
		if errors.Is(err, os.ErrClosed) && attempt < 3 {
			continue
		}
		return off, ts, ok, err
	}
}

func (l *Log) offsetForTimestamp(ts int64) (offset, timestamp int64, ok bool, err error) {
	vs, err := l.views()
	if err != nil {
		return 0, 0, false, err
	}
	for _, v := range vs {
		if v.maxTs < ts || v.size == 0 {
			continue
		}
		// The last time index entry below ts bounds where to start.
		pos := int64(0)
		if i := sort.Search(len(v.tindex), func(i int) bool { return v.tindex[i].ts >= ts }); i > 0 {
			pos = lookup(v.index, int64(v.tindex[i-1].rel))
		}
		sc := newHeaderScanner(v.s.f, pos, v.size, make([]byte, 64<<10))
		for {
			h, at, more := sc.next()
			if !more {
				break
			}
			if h.MaxTimestamp < ts {
				continue
			}
			off, rts, found, err := l.firstRecordAtOrAfter(v.s, &h, at, ts)
			if err != nil {
				return 0, 0, false, err
			}
			if found {
				return off, rts, true, nil
			}
		}
		if sc.err != nil {
			return 0, 0, false, sc.err
		}
	}
	return 0, 0, false, nil
}

// MaxTimestamp returns the largest timestamp in the log and the offset of
// the first record carrying it, or ok=false for an empty log.
func (l *Log) MaxTimestamp() (offset, timestamp int64, ok bool, err error) {
	return retryClosed(l.maxTimestamp)
}

func (l *Log) maxTimestamp() (offset, timestamp int64, ok bool, err error) {
	vs, err := l.views()
	if err != nil {
		return 0, 0, false, err
	}
	best := -1
	for i, v := range vs {
		if v.size > 0 && v.maxTs >= 0 && (best < 0 || v.maxTs > vs[best].maxTs) {
			best = i
		}
	}
	if best < 0 {
		return 0, 0, false, nil
	}
	v := vs[best]
	sc := newHeaderScanner(v.s.f, lookup(v.index, v.maxOff-v.base), v.size, make([]byte, 64<<10))
	for {
		h, at, more := sc.next()
		if !more {
			break
		}
		if h.MaxTimestamp == v.maxTs {
			return l.firstRecordAtOrAfter(v.s, &h, at, v.maxTs)
		}
	}
	return 0, 0, false, sc.err
}

// firstRecordAtOrAfter decodes the batch at pos and returns its first
// record with a timestamp of at least ts.
func (l *Log) firstRecordAtOrAfter(s *segment, h *BatchHeader, pos, ts int64) (int64, int64, bool, error) {
	if h.LogAppendTime() {
		return h.BaseOffset, h.MaxTimestamp, h.MaxTimestamp >= ts, nil
	}
	raw := make([]byte, h.Size())
	if n, err := s.f.ReadAt(raw, pos); n < len(raw) {
		if errors.Is(err, os.ErrClosed) {
			return 0, 0, false, err
		}
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, 0, false, fmt.Errorf("%w: read batch at offset %d in %s: %v", ErrStorage, h.BaseOffset, s.path, err)
	}
	records := raw[BatchHeaderSize:]
	if c := h.Compression(); c != 0 {
		limit := l.decompressLimit
		if limit <= 0 {
			limit = l.opts.Load().DecompressLimit()
		}
		var err error
		records, err = decompress(records, c, limit)
		if errors.Is(err, ErrDecompressLimit) {
			return 0, 0, false, fmt.Errorf("%w: the batch at offset %d in %s decompresses to more than %d bytes", ErrDecompressLimit, h.BaseOffset, s.path, limit)
		}
		if err != nil {
			return 0, 0, false, fmt.Errorf("%w: decompress batch at offset %d in %s: %v", ErrStorage, h.BaseOffset, s.path, err)
		}
	}
	for d := range recordDeltas(records, h.NumRecords) {
		if t := h.BaseTimestamp + d.timestamp; t >= ts {
			return h.BaseOffset + int64(d.offset), t, true, nil
		}
	}
	return 0, 0, false, nil
}

// deltas are a record's timestamp and offset, relative to its batch's
// base timestamp and base offset.
type deltas struct {
	timestamp int64
	offset    int32
}

// recordDeltas yields the deltas of the first n records of a batch's
// (decompressed) records section, stopping early at a record that does
// not parse. Each record is
//
//	length:varint attributes:int8 timestampDelta:varlong offsetDelta:varint
//	key value headers  (not read here)
//
// where length counts the bytes after it and varints are zigzag-encoded,
// as in Kafka's DefaultRecord.
func recordDeltas(records []byte, n int32) iter.Seq[deltas] {
	return func(yield func(deltas) bool) {
		for rest := records; n > 0; n-- {
			length, k := binary.Varint(rest)
			if k <= 0 || length < 1 || length > int64(len(rest)-k) {
				return
			}
			body := rest[k+1 : k+int(length)] // after the attributes
			rest = rest[k+int(length):]
			tsDelta, k := binary.Varint(body)
			if k <= 0 {
				return
			}
			offDelta, k := binary.Varint(body[k:])
			if k <= 0 || offDelta < math.MinInt32 || offDelta > math.MaxInt32 {
				return
			}
			if !yield(deltas{timestamp: tsDelta, offset: int32(offDelta)}) {
				return
			}
		}
	}
}

// decompress decodes a batch's records section compressed with codec
// (Kafka's attribute bits: 1 gzip, 2 snappy, 3 lz4, 4 zstd), producing at
// most limit bytes: more is ErrDecompressLimit.
func decompress(src []byte, codec int8, limit int) ([]byte, error) {
	switch codec {
	case 1:
		zr, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, err
		}
		return readLimited(zr, limit)
	case 2:
		return decompressSnappy(src, limit)
	case 3:
		return readLimited(lz4.NewReader(bytes.NewReader(src)), limit)
	case 4:
		zr, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(uint64(limit)),
			zstd.WithDecoderMaxWindow(uint64(max(limit, zstd.MinWindowSize))),
		)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		out, err := zr.DecodeAll(src, nil)
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) || len(out) > limit {
			return nil, ErrDecompressLimit
		}
		return out, err
	}
	return nil, fmt.Errorf("unknown compression codec %d", codec)
}

// readLimited reads r to its end, failing with ErrDecompressLimit once it
// yields more than limit bytes.
func readLimited(r io.Reader, limit int) ([]byte, error) {
	var out bytes.Buffer
	n, err := out.ReadFrom(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if n > int64(limit) {
		return nil, ErrDecompressLimit
	}
	return out.Bytes(), nil
}

// xerialHeader starts snappy data framed as the Java client's xerial
// snappy-java stream: the magic, then version and compatible version
// (4 bytes each), then blocks, each a 4-byte big-endian length and a raw
// snappy block.
var xerialHeader = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// decompressSnappy decodes raw or xerial-framed snappy, checking the
// decoded lengths the blocks declare against limit before decoding.
func decompressSnappy(src []byte, limit int) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialHeader) || len(src) < 16 {
		n, err := s2.DecodedLen(src)
		if err != nil {
			return nil, err
		}
		if n > limit {
			return nil, ErrDecompressLimit
		}
		return s2.Decode(nil, src)
	}
	var blocks [][]byte
	total := 0
	for rest := src[16:]; len(rest) > 0; {
		if len(rest) < 4 {
			return nil, errors.New("truncated xerial snappy block length")
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return nil, errors.New("truncated xerial snappy block")
		}
		block := rest[:n]
		rest = rest[n:]
		dn, err := s2.DecodedLen(block)
		if err != nil {
			return nil, err
		}
		if total += dn; total > limit {
			return nil, ErrDecompressLimit
		}
		blocks = append(blocks, block)
	}
	out := make([]byte, 0, total)
	for _, block := range blocks {
		d, err := s2.Decode(nil, block)
		if err != nil {
			return nil, err
		}
		out = append(out, d...)
	}
	return out, nil
}
