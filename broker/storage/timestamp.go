package storage

import (
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Lookups by timestamp are rare (ListOffsets): they may decode the one batch
// they land in, decompressing it if needed, to find the exact record.

var decompressor = sync.OnceValue(func() kgo.Decompressor { return kgo.DefaultDecompressor() })

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
			off, rts, found, err := firstRecordAtOrAfter(v.s, &h, at, ts)
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
			return firstRecordAtOrAfter(v.s, &h, at, v.maxTs)
		}
	}
	return 0, 0, false, sc.err
}

// firstRecordAtOrAfter decodes the batch at pos and returns its first
// record with a timestamp of at least ts.
func firstRecordAtOrAfter(s *segment, h *BatchHeader, pos, ts int64) (int64, int64, bool, error) {
	if h.LogAppendTime() {
		return h.BaseOffset, h.MaxTimestamp, h.MaxTimestamp >= ts, nil
	}
	raw := make([]byte, h.Size())
	if _, err := s.f.ReadAt(raw, pos); err != nil && err != io.EOF {
		return 0, 0, false, err
	}
	var b kmsg.RecordBatch
	if err := b.ReadFrom(raw); err != nil {
		return 0, 0, false, fmt.Errorf("%w: decode batch at offset %d: %v", ErrStorage, h.BaseOffset, err)
	}
	records := b.Records
	if c := h.Compression(); c != 0 {
		var err error
		if records, err = decompressor().Decompress(records, kgo.CompressionCodecType(c)); err != nil {
			return 0, 0, false, fmt.Errorf("%w: decompress batch at offset %d: %v", ErrStorage, h.BaseOffset, err)
		}
	}
	r := kbin.Reader{Src: records}
	for range b.NumRecords {
		start := r.Src
		n := r.Varint()
		r.Span(int(n))
		if !r.Ok() {
			break
		}
		var rec kmsg.Record
		if err := rec.ReadFrom(start[:len(start)-len(r.Src)]); err != nil {
			break
		}
		if t := b.FirstTimestamp + rec.TimestampDelta64; t >= ts {
			return h.BaseOffset + int64(rec.OffsetDelta), t, true, nil
		}
	}
	return 0, 0, false, nil
}
