package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestAppendAssignsOffsetsAndReadsWholeBatches(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{}, false, 0)
	defer l.Close()
	for i := range 10 {
		res := mustAppend(t, l, makeBatch(batchSpec{n: 5, ts: 1000, tag: "b"}))
		if res.BaseOffset != int64(i*5) || res.LastOffset != int64(i*5+4) || res.LogAppendTime != -1 {
			t.Fatalf("batch %d: %+v", i, res)
		}
	}
	if l.EndOffset() != 50 || l.StartOffset() != 0 {
		t.Fatalf("end %d start %d", l.EndOffset(), l.StartOffset())
	}
	// Reading in the middle of a batch returns that whole batch first.
	res, err := l.Read(nil, 12, 1<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := ParseHeader(res.Records)
	if h.BaseOffset != 10 || h.LeaderEpoch != 0 {
		t.Fatalf("first batch base %d epoch %d, want 10 and 0", h.BaseOffset, h.LeaderEpoch)
	}
	if int64(len(res.Records)) != 8*h.Size() || res.HighWatermark != 50 {
		t.Fatalf("read %d bytes (batch %d) hw %d", len(res.Records), h.Size(), res.HighWatermark)
	}
	// At the end: nothing, no error.
	res, err = l.Read(nil, 50, 1<<20, true)
	if err != nil || len(res.Records) != 0 {
		t.Fatalf("read at end: %d bytes, %v", len(res.Records), err)
	}
	// Past the end: out of range.
	if _, err := l.Read(nil, 51, 1<<20, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read past end: %v", err)
	}
	if got := readAll(t, l, 0); len(got) != 10 {
		t.Fatalf("read %d batches", len(got))
	}
}

func TestReadLimits(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{}, false, 0)
	defer l.Close()
	big := makeBatch(batchSpec{n: 10, valueLen: 1000})
	mustAppend(t, l, big)
	mustAppend(t, l, makeBatch(batchSpec{n: 1}))
	// One whole batch even if larger than maxBytes, with minOne.
	res, err := l.Read(make([]byte, 100), 0, 100, true)
	if err != nil || len(res.Records) != len(big) {
		t.Fatalf("minOne: %d bytes, %v; want %d", len(res.Records), err, len(big))
	}
	// Nothing without minOne.
	res, err = l.Read(nil, 0, 100, false)
	if err != nil || len(res.Records) != 0 {
		t.Fatalf("without minOne: %d bytes, %v", len(res.Records), err)
	}
	// maxBytes cuts at a batch boundary.
	res, err = l.Read(nil, 0, len(big)+10, true)
	if err != nil || len(res.Records) != len(big) {
		t.Fatalf("cut: %d bytes, %v", len(res.Records), err)
	}
}

func TestRollIndexAndReopen(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentBytes: 4000, IndexIntervalBytes: 300}
	l := openLog(t, dir, opts, false, 0)
	var want [][]byte
	for i := range 200 {
		b := makeBatch(batchSpec{n: 1 + i%3, ts: int64(1000 + i), valueLen: 20 + i%50, tag: "r"})
		mustAppend(t, l, b)
		want = append(want, bytes.Clone(b))
	}
	if l.Segments() < 5 {
		t.Fatalf("only %d segments", l.Segments())
	}
	check := func(l *Log) {
		t.Helper()
		hs := readAll(t, l, 0)
		if len(hs) != len(want) {
			t.Fatalf("%d batches, want %d", len(hs), len(want))
		}
		// every offset is found, from its own batch
		for off := int64(0); off < l.EndOffset(); off++ {
			res, err := l.Read(nil, off, 1, true)
			if err != nil {
				t.Fatal(err)
			}
			h, _ := ParseHeader(res.Records)
			if off < h.BaseOffset || off > h.LastOffset() {
				t.Fatalf("offset %d read batch %d..%d", off, h.BaseOffset, h.LastOffset())
			}
		}
	}
	check(l)
	end := l.EndOffset()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"00000000000000000000.index", "00000000000000000000.timeindex", segmentName(end, snapshotSuffix)} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, clean := range []bool{true, false} {
		l = openLog(t, dir, opts, clean, 0)
		if l.EndOffset() != end {
			t.Fatalf("clean=%v: end %d, want %d", clean, l.EndOffset(), end)
		}
		check(l)
		// appends continue after the reopen
		b := makeBatch(batchSpec{n: 1})
		if res := mustAppend(t, l, b); res.BaseOffset != end {
			t.Fatalf("append after reopen at %d, want %d", res.BaseOffset, end)
		}
		want = append(want, b)
		end++
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// lastSegment returns the path of the highest segment file in dir.
func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(m) == 0 {
		t.Fatal("no segments")
	}
	return m[len(m)-1]
}

func TestTornTailIsTruncated(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{}, false, 0)
	var sizes []int
	for range 5 {
		b := makeBatch(batchSpec{n: 3, valueLen: 50})
		sizes = append(sizes, len(b))
		mustAppend(t, l, b)
	}
	l.Close()
	path := lastSegment(t, dir)
	fi, _ := os.Stat(path)
	// cut the last batch in half, as a crash during its write would
	if err := os.Truncate(path, fi.Size()-int64(sizes[4]/2)); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, Options{}, false, 0)
	defer l.Close()
	if l.EndOffset() != 12 {
		t.Fatalf("end %d after truncation, want 12", l.EndOffset())
	}
	if fi2, _ := os.Stat(path); fi2.Size() != fi.Size()-int64(sizes[4]) {
		t.Fatalf("file is %d bytes, want %d", fi2.Size(), fi.Size()-int64(sizes[4]))
	}
	if got := readAll(t, l, 0); len(got) != 4 {
		t.Fatalf("%d batches", len(got))
	}
	if res := mustAppend(t, l, makeBatch(batchSpec{n: 1})); res.BaseOffset != 12 {
		t.Fatalf("next append at %d", res.BaseOffset)
	}
}

func TestCorruptBatchTruncatesFromIt(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentBytes: 600}
	l := openLog(t, dir, opts, false, 0)
	var offsets []int64
	for range 12 {
		offsets = append(offsets, mustAppend(t, l, makeBatch(batchSpec{n: 2, valueLen: 60})).BaseOffset)
	}
	segs := l.Segments()
	l.Close()
	if segs < 3 {
		t.Fatalf("%d segments", segs)
	}
	// Corrupt a record byte in the first batch of the second segment.
	m, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	second := m[1]
	data, _ := os.ReadFile(second)
	data[BatchHeaderSize+3] ^= 0xff
	if err := os.WriteFile(second, data, 0o644); err != nil {
		t.Fatal(err)
	}
	base, _ := parseSegmentName(filepath.Base(second), logSuffix)
	// Unclean, recovery point in the first segment: both later segments are
	// validated, the corrupt one is truncated to nothing and the third goes.
	l = openLog(t, dir, opts, false, 0)
	defer l.Close()
	if l.EndOffset() != base {
		t.Fatalf("end %d, want %d", l.EndOffset(), base)
	}
	if n := l.Segments(); n != 2 {
		t.Fatalf("%d segments after recovery, want 2", n)
	}
	if _, err := os.Stat(m[2]); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("third segment still there: %v", err)
	}
	readAll(t, l, 0)
}

func TestCleanOpenTrustsButChecksTail(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{}, false, 0)
	for range 3 {
		mustAppend(t, l, makeBatch(batchSpec{n: 2}))
	}
	l.Close()
	// Garbage after the last batch: even a "clean" open must not serve it.
	f, _ := os.OpenFile(lastSegment(t, dir), os.O_WRONLY|os.O_APPEND, 0)
	f.Write(bytes.Repeat([]byte{0}, 100))
	f.Close()
	l = openLog(t, dir, Options{}, true, 0)
	defer l.Close()
	if l.EndOffset() != 6 {
		t.Fatalf("end %d", l.EndOffset())
	}
	readAll(t, l, 0)
}

func TestRetention(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentBytes: 500, Delete: true, RetentionTime: time.Hour, RetentionBytes: -1}
	l := openLog(t, dir, opts, false, 0)
	defer l.Close()
	now := time.Now()
	old := now.Add(-2 * time.Hour).UnixMilli()
	for range 10 {
		mustAppend(t, l, makeBatch(batchSpec{n: 2, ts: old, valueLen: 60}))
	}
	for range 3 {
		mustAppend(t, l, makeBatch(batchSpec{n: 2, ts: now.UnixMilli(), valueLen: 60}))
	}
	before := l.Segments()
	res, err := l.Retain(now)
	if err != nil {
		t.Fatal(err)
	}
	if res.Segments == 0 || l.Segments() != before-res.Segments || res.LogStartOffset == 0 {
		t.Fatalf("retain: %+v, segments %d -> %d", res, before, l.Segments())
	}
	if res.LogStartOffset > 20 {
		t.Fatalf("log start %d passed the recent records", res.LogStartOffset)
	}
	if _, err := l.Read(nil, 0, 1000, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	readAll(t, l, res.LogStartOffset)

	// Everything expired: the log rolls, keeps its end offset, and is empty.
	end := l.EndOffset()
	res, err = l.Retain(now.Add(3 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.LogStartOffset != end || l.EndOffset() != end || l.Segments() != 1 {
		t.Fatalf("all expired: %+v end %d segments %d", res, l.EndOffset(), l.Segments())
	}
	if r, err := l.Read(nil, end, 1000, true); err != nil || len(r.Records) != 0 {
		t.Fatalf("read at end of emptied log: %v", err)
	}

	// By size.
	l.SetOptions(Options{SegmentBytes: 500, Delete: true, RetentionTime: -1, RetentionBytes: 1000})
	for range 20 {
		mustAppend(t, l, makeBatch(batchSpec{n: 2, ts: now.UnixMilli(), valueLen: 60}))
	}
	if _, err := l.Retain(now); err != nil {
		t.Fatal(err)
	}
	// Whole segments go while the rest still holds retention.bytes, as in
	// Kafka: what remains is under retention.bytes plus one segment.
	if sz := l.Size(); sz > 1000+500 || sz < 1000 {
		t.Fatalf("size %d after retention by bytes", sz)
	}
	l.Close()
	// The start offset survives a restart (it is the first segment's base).
	start := l.StartOffset()
	l2 := openLog(t, dir, opts, true, 0)
	defer l2.Close()
	if l2.StartOffset() != start {
		t.Fatalf("start %d after reopen, want %d", l2.StartOffset(), start)
	}
}

func TestCompactOnlyKeepsEverything(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{SegmentBytes: 300, Delete: false, RetentionTime: time.Millisecond}, false, 0)
	defer l.Close()
	for range 10 {
		mustAppend(t, l, makeBatch(batchSpec{n: 2, ts: 1, valueLen: 60}))
	}
	if res, _ := l.Retain(time.Now()); res.Segments != 0 || l.StartOffset() != 0 {
		t.Fatalf("retention ran on a log without delete policy: %+v", res)
	}
}

func TestProducerSequences(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{}, false, 0)
	b := func(seq int32, n int, epoch int16) []byte {
		return makeBatch(batchSpec{n: n, pid: 7, epoch: epoch, seq: seq})
	}
	var offs []int64
	for i := range 6 {
		offs = append(offs, mustAppend(t, l, b(int32(i*2), 2, 0)).BaseOffset)
	}
	// An exact retry of one of the last five batches: acknowledged with
	// its original offset, not written again.
	end := l.EndOffset()
	res := mustAppend(t, l, b(6, 2, 0))
	if !res.Duplicate || res.BaseOffset != offs[3] || l.EndOffset() != end {
		t.Fatalf("retry: %+v end %d", res, l.EndOffset())
	}
	// Older than the last five: no longer recognised, out of order.
	if _, err := l.Append(b(0, 2, 0), time.Now()); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("old retry: %v", err)
	}
	// A gap.
	if _, err := l.Append(b(14, 1, 0), time.Now()); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap: %v", err)
	}
	mustAppend(t, l, b(12, 1, 0))
	// A new epoch starts at 0; then the old epoch is fenced.
	if _, err := l.Append(b(5, 1, 1), time.Now()); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("new epoch not at 0: %v", err)
	}
	mustAppend(t, l, b(0, 1, 1))
	if _, err := l.Append(b(13, 1, 0), time.Now()); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("old epoch: %v", err)
	}
	// An unknown producer may start anywhere.
	mustAppend(t, l, makeBatch(batchSpec{n: 1, pid: 8, seq: 40}))
	lastRes := mustAppend(t, l, b(1, 3, 1))
	l.Close()

	// Clean reopen (snapshot at the end) and unclean reopen (replay from
	// the batches) both remember the state.
	for _, clean := range []bool{true, false} {
		if !clean {
			for _, off := range (&Log{dir: dir}).snapshotOffsets() {
				os.Remove(filepath.Join(dir, segmentName(off, snapshotSuffix)))
			}
		}
		l = openLog(t, dir, Options{}, clean, 0)
		res := mustAppend(t, l, b(1, 3, 1))
		if !res.Duplicate || res.BaseOffset != lastRes.BaseOffset {
			t.Fatalf("clean=%v: retry after restart: %+v, want offset %d", clean, res, lastRes.BaseOffset)
		}
		if _, err := l.Append(b(9, 1, 1), time.Now()); !errors.Is(err, ErrOutOfOrderSequence) {
			t.Fatalf("clean=%v: gap after restart: %v", clean, err)
		}
		l.Close()
	}
}

func TestProducerStateAcrossRolls(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentBytes: 400}
	l := openLog(t, dir, opts, false, 0)
	var last AppendResult
	for i := range 30 {
		last = mustAppend(t, l, makeBatch(batchSpec{n: 1, pid: 3, seq: int32(i), valueLen: 50}))
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(l.snapshotOffsets()) == 0 {
		t.Fatal("no snapshot written at roll")
	}
	// Simulate a crash: no Close, files left as they are.
	rp := l.RecoveryPoint()
	l.Drop()
	l = openLog(t, dir, opts, false, rp)
	defer l.Close()
	res := mustAppend(t, l, makeBatch(batchSpec{n: 1, pid: 3, seq: 29, valueLen: 50}))
	if !res.Duplicate || res.BaseOffset != last.BaseOffset {
		t.Fatalf("retry after crash: %+v", res)
	}
	mustAppend(t, l, makeBatch(batchSpec{n: 1, pid: 3, seq: 30}))
}

func TestLogAppendTime(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{LogAppendTime: true}, false, 0)
	defer l.Close()
	now := time.UnixMilli(1_700_000_000_000)
	res, err := l.Append(makeBatch(batchSpec{n: 3, ts: 5}), now)
	if err != nil {
		t.Fatal(err)
	}
	if res.LogAppendTime != now.UnixMilli() {
		t.Fatalf("log append time %d", res.LogAppendTime)
	}
	hs := readAll(t, l, 0) // checks the recomputed CRC
	if !hs[0].LogAppendTime() || hs[0].MaxTimestamp != now.UnixMilli() {
		t.Fatalf("header %+v", hs[0])
	}
	off, ts, ok, err := l.OffsetForTimestamp(now.UnixMilli())
	if err != nil || !ok || off != 0 || ts != now.UnixMilli() {
		t.Fatalf("by time: %d %d %v %v", off, ts, ok, err)
	}
}

func TestOffsetForTimestamp(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{SegmentBytes: 1000, IndexIntervalBytes: 100}, false, 0)
	defer l.Close()
	// Batch i holds records with timestamps 1000+10i .. 1000+10i+4.
	for i := range 40 {
		mustAppend(t, l, makeBatch(batchSpec{n: 5, ts: int64(1000 + 10*i), valueLen: 10}))
	}
	tests := []struct {
		ts        int64
		off, want int64
		ok        bool
	}{
		{0, 0, 1000, true},
		{1000, 0, 1000, true},
		{1002, 2, 1002, true},
		{1005, 5, 1010, true}, // between batches: the next batch's first record
		{1203, 103, 1203, true},
		{1394, 199, 1394, true},
		{1395, 0, 0, false},
	}
	for _, tt := range tests {
		off, ts, ok, err := l.OffsetForTimestamp(tt.ts)
		if err != nil || ok != tt.ok || (ok && (off != tt.off || ts != tt.want)) {
			t.Errorf("ts %d: got %d@%d ok=%v err=%v, want %d@%d ok=%v", tt.ts, off, ts, ok, err, tt.off, tt.want, tt.ok)
		}
	}
	off, ts, ok, err := l.MaxTimestamp()
	if err != nil || !ok || off != 199 || ts != 1394 {
		t.Fatalf("max timestamp: %d@%d %v %v", off, ts, ok, err)
	}
	empty := openLog(t, t.TempDir(), Options{}, false, 0)
	defer empty.Close()
	if _, _, ok, err := empty.MaxTimestamp(); ok || err != nil {
		t.Fatalf("empty log has a max timestamp: %v", err)
	}
}

func TestSyncAndFlushPolicy(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{FlushMessages: 10}, false, 0)
	defer l.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				res, err := l.Append(makeBatch(batchSpec{n: 1, tag: string(rune('a' + g))}), time.Now())
				if err != nil {
					t.Error(err)
					return
				}
				if err := l.Sync(res.LastOffset + 1); err != nil {
					t.Error(err)
					return
				}
				if rp := l.RecoveryPoint(); rp <= res.LastOffset {
					t.Errorf("synced to %d but recovery point is %d", res.LastOffset, rp)
					return
				}
			}
		}()
	}
	wg.Wait()
	if l.EndOffset() != 400 || l.RecoveryPoint() != 400 {
		t.Fatalf("end %d recovery point %d", l.EndOffset(), l.RecoveryPoint())
	}
	var due int
	for range 25 {
		if mustAppend(t, l, makeBatch(batchSpec{n: 1})).FlushDue {
			due++
			l.Flush()
		}
	}
	if due != 2 {
		t.Fatalf("flush.messages=10 fired %d times in 25 messages", due)
	}
	// flush.ms
	l.SetOptions(Options{FlushInterval: time.Millisecond})
	mustAppend(t, l, makeBatch(batchSpec{n: 1}))
	if err := l.FlushIfDue(time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if l.RecoveryPoint() != l.EndOffset() {
		t.Fatalf("flush.ms did not flush: %d < %d", l.RecoveryPoint(), l.EndOffset())
	}
}

func TestClosedLog(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{}, false, 0)
	mustAppend(t, l, makeBatch(batchSpec{n: 1}))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := l.Append(makeBatch(batchSpec{n: 1}), time.Now()); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if _, err := l.Read(nil, 0, 100, true); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
}

func TestIndexFilesAreKafkaFormat(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{IndexIntervalBytes: 1}, false, 0)
	for range 4 {
		mustAppend(t, l, makeBatch(batchSpec{n: 2, ts: 500}))
	}
	l.Close()
	idx, _ := os.ReadFile(filepath.Join(dir, "00000000000000000000.index"))
	if len(idx) != 3*8 { // every batch but the first is indexed
		t.Fatalf("index is %d bytes", len(idx))
	}
	if rel, pos := binary.BigEndian.Uint32(idx[0:]), binary.BigEndian.Uint32(idx[4:]); rel != 2 || pos == 0 {
		t.Fatalf("first entry rel %d pos %d", rel, pos)
	}
	tidx, _ := os.ReadFile(filepath.Join(dir, "00000000000000000000.timeindex"))
	if len(tidx)%12 != 0 || len(tidx) == 0 {
		t.Fatalf("time index is %d bytes", len(tidx))
	}
}

func TestRollBySegmentTime(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentTime: time.Minute}, false, 0)
	defer l.Close()
	now := time.Now()
	if _, err := l.Append(makeBatch(batchSpec{n: 1}), now); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(makeBatch(batchSpec{n: 1}), now.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := l.Segments(); n != 1 {
		t.Fatalf("%d segments before segment.ms", n)
	}
	if _, err := l.Append(makeBatch(batchSpec{n: 1}), now.Add(61*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := l.Segments(); n != 2 {
		t.Fatalf("%d segments after segment.ms", n)
	}
	// The rolled segment's indexes and a producer snapshot are written by
	// the next background flush.
	if err := l.FlushIfDue(now); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"00000000000000000000.index", "00000000000000000000.timeindex", "00000000000000000002.snapshot"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("after the flush of a rolled segment: %v", err)
		}
	}
	if l.RecoveryPoint() != 3 {
		t.Fatalf("recovery point %d", l.RecoveryPoint())
	}
}
