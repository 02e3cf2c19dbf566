package storage

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	snapshotSuffix  = ".snapshot"
	// deletedSuffix marks a file taken out of the log (Kafka's name): it
	// is never loaded, and removed on Open if it is still there.
	deletedSuffix = ".deleted"

	indexEntrySize     = 8  // relative offset uint32, position uint32
	timeIndexEntrySize = 12 // timestamp int64, relative offset uint32
)

// segmentName is the file name of the segment with base offset base, e.g.
// 00000000000000001234.log.
func segmentName(base int64, suffix string) string {
	return fmt.Sprintf("%020d%s", base, suffix)
}

// parseSegmentName returns the base offset of a file named by segmentName.
func parseSegmentName(name, suffix string) (int64, bool) {
	stem, ok := strings.CutSuffix(name, suffix)
	if !ok || len(stem) != 20 {
		return 0, false
	}
	n, err := strconv.ParseInt(stem, 10, 64)
	return n, err == nil && n >= 0
}

type indexEntry struct {
	rel uint32 // offset - segment base
	pos uint32 // position of the batch starting at that offset
}

type timeEntry struct {
	ts  int64  // largest timestamp of the segment up to the batch
	rel uint32 // base offset of the batch holding that timestamp, relative
}

// segment is one file of a partition log, holding the batches from base
// to next-1, with its sparse indexes kept in memory. The fields marked
// "published" are written with both Log.mu and Log.rmu held and read with
// either; the writer fields belong to Log.mu; synced belongs to Log.syncMu.
type segment struct {
	base int64
	path string // the .log file
	f    *os.File

	// published
	size        int64
	next        int64
	maxTs       int64 // largest batch max timestamp, -1 if none
	maxTsOffset int64 // base offset of the batch holding maxTs
	index       []indexEntry
	tindex      []timeEntry
	aborted     []AbortedTxn // aborted transactions whose marker is here

	// writer
	bytesSinceIndex int64
	rollAt          time.Time // when the first batch was appended, for segment.ms
	sealed          bool      // rolled: no more appends, indexes complete

	synced bool // sealed and durable, indexes written
	// txnFile: a .txnindex file exists (Log.syncMu, or Open).
	txnFile bool
}

func (s *segment) indexPath() string {
	return filepath.Join(filepath.Dir(s.path), segmentName(s.base, indexSuffix))
}

func (s *segment) timeIndexPath() string {
	return filepath.Join(filepath.Dir(s.path), segmentName(s.base, timeIndexSuffix))
}

// lookup returns the position from which to scan for offset: the position
// of the last indexed batch starting at or before it.
func lookup(index []indexEntry, rel int64) int64 {
	i := sort.Search(len(index), func(i int) bool { return int64(index[i].rel) > rel })
	if i == 0 {
		return 0
	}
	return int64(index[i-1].pos)
}

// noteBatch updates the in-memory indexes for a batch of header h written
// at pos. interval is index.interval.bytes.
func (s *segment) noteBatch(h *BatchHeader, pos int64, interval int64) {
	if s.bytesSinceIndex >= interval {
		s.index = append(s.index, indexEntry{rel: uint32(h.BaseOffset - s.base), pos: uint32(pos)})
		s.bytesSinceIndex = 0
		if h.MaxTimestamp > s.maxTs {
			s.maxTs, s.maxTsOffset = h.MaxTimestamp, h.BaseOffset
		}
		s.appendTimeEntry()
	} else if h.MaxTimestamp > s.maxTs {
		s.maxTs, s.maxTsOffset = h.MaxTimestamp, h.BaseOffset
	}
	s.bytesSinceIndex += h.Size()
	s.size = pos + h.Size()
	s.next = h.LastOffset() + 1
}

// appendTimeEntry records the segment's largest timestamp so far, if it
// grew since the last entry.
func (s *segment) appendTimeEntry() {
	if s.maxTs < 0 {
		return
	}
	if n := len(s.tindex); n > 0 && s.tindex[n-1].ts >= s.maxTs {
		return
	}
	s.tindex = append(s.tindex, timeEntry{ts: s.maxTs, rel: uint32(s.maxTsOffset - s.base)})
}

func encodeIndex(index []indexEntry) []byte {
	b := make([]byte, len(index)*indexEntrySize)
	for i, e := range index {
		binary.BigEndian.PutUint32(b[i*8:], e.rel)
		binary.BigEndian.PutUint32(b[i*8+4:], e.pos)
	}
	return b
}

func encodeTimeIndex(tindex []timeEntry) []byte {
	b := make([]byte, len(tindex)*timeIndexEntrySize)
	for i, e := range tindex {
		binary.BigEndian.PutUint64(b[i*12:], uint64(e.ts))
		binary.BigEndian.PutUint32(b[i*12+8:], e.rel)
	}
	return b
}

// loadIndexes reads the segment's index files and keeps their longest
// consistent prefix: strictly increasing offsets and positions inside the
// file. Entries past a damaged or zero-filled tail are dropped; the index
// is sparse, so a shorter one only makes lookups scan further.
func (s *segment) loadIndexes() {
	s.index = s.index[:0]
	if b, err := os.ReadFile(s.indexPath()); err == nil {
		for i := 0; i+indexEntrySize <= len(b); i += indexEntrySize {
			e := indexEntry{rel: binary.BigEndian.Uint32(b[i:]), pos: binary.BigEndian.Uint32(b[i+4:])}
			if int64(e.pos) >= s.size {
				break
			}
			if n := len(s.index); n > 0 && (e.rel <= s.index[n-1].rel || e.pos <= s.index[n-1].pos) {
				break
			}
			s.index = append(s.index, e)
		}
	}
	s.tindex = s.tindex[:0]
	if b, err := os.ReadFile(s.timeIndexPath()); err == nil {
		for i := 0; i+timeIndexEntrySize <= len(b); i += timeIndexEntrySize {
			e := timeEntry{ts: int64(binary.BigEndian.Uint64(b[i:])), rel: binary.BigEndian.Uint32(b[i+8:])}
			if n := len(s.tindex); n > 0 && (e.ts <= s.tindex[n-1].ts || e.rel < s.tindex[n-1].rel) {
				break
			}
			if e.ts < 0 {
				break
			}
			s.tindex = append(s.tindex, e)
		}
	}
	if n := len(s.tindex); n > 0 {
		s.maxTs, s.maxTsOffset = s.tindex[n-1].ts, s.base+int64(s.tindex[n-1].rel)
	}
}

// headerScanner walks the batch headers of a segment file from a position
// without reading the records, through a window that is refilled as the
// walk moves on: small batches share one read, large ones cost one read
// each.
type headerScanner struct {
	f      *os.File
	limit  int64 // scan no further than this
	pos    int64 // position of the next header
	buf    []byte
	bufPos int64 // file position of buf[0]
	bufLen int
	err    error
}

func newHeaderScanner(f *os.File, pos, limit int64, buf []byte) *headerScanner {
	return &headerScanner{f: f, pos: pos, limit: limit, buf: buf, bufPos: -1}
}

// next returns the header at the current position and advances past the
// batch. It returns false at the limit, at a header that does not parse or
// does not fit before the limit (sc.err says why), or on a read error.
func (sc *headerScanner) next() (BatchHeader, int64, bool) {
	if sc.pos >= sc.limit {
		return BatchHeader{}, 0, false
	}
	if sc.limit-sc.pos < BatchHeaderSize {
		sc.err = fmt.Errorf("%w: %d bytes at position %d are shorter than a batch header", ErrCorruptBatch, sc.limit-sc.pos, sc.pos)
		return BatchHeader{}, 0, false
	}
	if sc.bufPos < 0 || sc.pos < sc.bufPos || sc.pos+BatchHeaderSize > sc.bufPos+int64(sc.bufLen) {
		n := min(int64(len(sc.buf)), sc.limit-sc.pos)
		m, err := sc.f.ReadAt(sc.buf[:n], sc.pos)
		if int64(m) < BatchHeaderSize {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("%w: short read at position %d", ErrCorruptBatch, sc.pos)
			}
			sc.err = err
			return BatchHeader{}, 0, false
		}
		sc.bufPos, sc.bufLen = sc.pos, m
	}
	off := sc.pos - sc.bufPos
	h, _ := ParseHeader(sc.buf[off : off+BatchHeaderSize])
	if err := checkFraming(&h, sc.limit-sc.pos); err != nil {
		sc.err = fmt.Errorf("at position %d: %w", sc.pos, err)
		return BatchHeader{}, 0, false
	}
	pos := sc.pos
	sc.pos += h.Size()
	return h, pos, true
}
