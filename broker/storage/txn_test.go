package storage

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnBatch is a transactional batch of producer pid.
func txnBatch(sp batchSpec) []byte {
	b := makeBatch(sp)
	attrs := binary.BigEndian.Uint16(b[offAttributes:])
	binary.BigEndian.PutUint16(b[offAttributes:], attrs|attrTransactional)
	binary.BigEndian.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
	return b
}

func mustControl(t *testing.T, l *Log, pid int64, epoch int16, commit bool) int64 {
	t.Helper()
	res, err := l.AppendControl(pid, epoch, commit, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return res.Offset
}

func TestControlBatchDecodes(t *testing.T) {
	for _, commit := range []bool{false, true} {
		b := controlBatch(7, 3, commit, 9, 1234)
		if _, err := ValidateBatch(b, 0); !errors.Is(err, ErrInvalidRecord) {
			t.Fatalf("a producer's control batch: %v, want ErrInvalidRecord", err)
		}
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(b); err != nil {
			t.Fatal(err)
		}
		if rb.Attributes != 0x30 || rb.ProducerID != 7 || rb.ProducerEpoch != 3 || rb.NumRecords != 1 {
			t.Fatalf("batch fields: %+v", rb)
		}
		if got := crc32.Checksum(b[offAttributes:], castagnoli); got != uint32(rb.CRC) {
			t.Fatalf("crc %08x, batch says %08x", got, rb.CRC)
		}
		recs := kmsg.Record{}
		if err := recs.ReadFrom(rb.Records); err != nil {
			t.Fatal(err)
		}
		typ := int16(binary.BigEndian.Uint16(recs.Key[2:]))
		if want := map[bool]int16{false: 0, true: 1}[commit]; typ != want || len(recs.Value) != 6 ||
			binary.BigEndian.Uint32(recs.Value[2:]) != 9 {
			t.Fatalf("control record key %x value %x", recs.Key, recs.Value)
		}
		got, err := markerType(b)
		if err != nil || got != commit {
			t.Fatalf("markerType = %v, %v; want %v", got, err, commit)
		}
	}
}

// TestLastStableOffset: an open transaction holds the LSO at its first
// offset; its marker releases it; read_committed reads stop there.
func TestLastStableOffset(t *testing.T) {
	l := openLog(t, t.TempDir(), DefaultOptions(), true, 0)
	defer l.Close()
	mustAppend(t, l, makeBatch(batchSpec{n: 2}))                                     // 0-1
	mustAppend(t, l, txnBatch(batchSpec{n: 3, pid: 10, epoch: 0, seq: 0, tag: "a"})) // 2-4
	mustAppend(t, l, makeBatch(batchSpec{n: 1}))                                     // 5
	mustAppend(t, l, txnBatch(batchSpec{n: 2, pid: 11, epoch: 0, seq: 0, tag: "b"})) // 6-7
	if got := l.LastStableOffset(); got != 2 {
		t.Fatalf("LSO = %d, want 2", got)
	}
	res, err := l.ReadCommitted(nil, 0, 1<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := ParseHeader(res.Records); h.BaseOffset != 0 || int64(len(res.Records)) != h.Size() || res.LastStableOffset != 2 || res.HighWatermark != 8 {
		t.Fatalf("read_committed from 0: %d bytes, first batch %d, LSO %d, HW %d", len(res.Records), h.BaseOffset, res.LastStableOffset, res.HighWatermark)
	}
	if res, err := l.ReadCommitted(nil, 2, 1<<20, true); err != nil || len(res.Records) != 0 {
		t.Fatalf("read_committed at the LSO: %d bytes, %v", len(res.Records), err)
	}
	if off := mustControl(t, l, 10, 0, false); off != 8 {
		t.Fatalf("abort marker at %d, want 8", off)
	}
	if got := l.LastStableOffset(); got != 6 {
		t.Fatalf("LSO after the abort = %d, want 6", got)
	}
	want := []AbortedTxn{{ProducerID: 10, FirstOffset: 2, LastOffset: 8, LastStableOffset: 6}}
	if got := l.AbortedTransactions(0, 6); !reflect.DeepEqual(got, want) {
		t.Fatalf("aborted = %+v, want %+v", got, want)
	}
	if got := l.AbortedTransactions(9, 20); len(got) != 0 {
		t.Fatalf("aborted after the marker = %+v", got)
	}
	if off := mustControl(t, l, 11, 0, true); off != 9 {
		t.Fatalf("commit marker at %d, want 9", off)
	}
	if got := l.LastStableOffset(); got != 10 || got != l.EndOffset() {
		t.Fatalf("LSO = %d, end %d", got, l.EndOffset())
	}
	// A marker for a producer without an open transaction writes nothing.
	if off := mustControl(t, l, 11, 0, true); off != -1 {
		t.Fatalf("second commit marker at %d", off)
	}
	// An older epoch cannot end a transaction.
	mustAppend(t, l, txnBatch(batchSpec{n: 1, pid: 11, epoch: 0, seq: 2}))
	if _, err := l.AppendControl(11, 1, false, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendControl(11, 0, false, 0, time.Now()); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("marker of an older epoch: %v", err)
	}
	if _, err := l.Append(txnBatch(batchSpec{n: 1, pid: 11, epoch: 0, seq: 3}), time.Now()); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("batch of the fenced epoch: %v", err)
	}
	var ps []ProducerState
	for _, p := range l.Producers() {
		if p.ProducerID == 11 {
			ps = append(ps, p)
		}
	}
	if len(ps) != 0 {
		// The abort at epoch 1 cleared the batches of epoch 0.
		t.Fatalf("producer 11 after the fencing abort: %+v", ps)
	}
}

// TestTxnRecovery: the open transactions, the LSO and the aborted index
// come back after a clean close, after a crash (no snapshot of the open
// transaction), and after recovery cut the log before a marker.
func TestTxnRecovery(t *testing.T) {
	opts := DefaultOptions()
	opts.SegmentBytes = 400 // a few batches a segment
	build := func(t *testing.T, dir string) *Log {
		l := openLog(t, dir, opts, true, 0)
		mustAppend(t, l, txnBatch(batchSpec{n: 2, pid: 1, epoch: 0, seq: 0, valueLen: 50})) // 0-1
		mustAppend(t, l, makeBatch(batchSpec{n: 2, valueLen: 50}))                          // 2-3
		mustAppend(t, l, txnBatch(batchSpec{n: 2, pid: 2, epoch: 0, seq: 0, valueLen: 50})) // 4-5
		mustAppend(t, l, txnBatch(batchSpec{n: 2, pid: 1, epoch: 0, seq: 2, valueLen: 50})) // 6-7
		mustControl(t, l, 1, 0, false)                                                      // 8
		mustAppend(t, l, makeBatch(batchSpec{n: 2, valueLen: 50}))                          // 9-10
		mustAppend(t, l, txnBatch(batchSpec{n: 2, pid: 3, epoch: 0, seq: 0, valueLen: 50})) // 11-12
		mustControl(t, l, 3, 0, false)                                                      // 13
		mustAppend(t, l, makeBatch(batchSpec{n: 1, valueLen: 50}))                          // 14
		return l
	}
	wantAborted := []AbortedTxn{
		{ProducerID: 1, FirstOffset: 0, LastOffset: 8, LastStableOffset: 4},
		{ProducerID: 3, FirstOffset: 11, LastOffset: 13, LastStableOffset: 4},
	}
	check := func(t *testing.T, l *Log, end int64) {
		t.Helper()
		if got := l.EndOffset(); got != end {
			t.Fatalf("end = %d, want %d", got, end)
		}
		if got := l.LastStableOffset(); got != 4 {
			t.Fatalf("LSO = %d, want 4 (producer 2's open transaction)", got)
		}
		var want []AbortedTxn
		for _, a := range wantAborted {
			if a.LastOffset < end {
				want = append(want, a)
			}
		}
		if got := l.AbortedTransactions(0, end); !reflect.DeepEqual(got, want) {
			t.Fatalf("aborted = %+v, want %+v", got, want)
		}
		// Producer 2 can still end its transaction.
		if off := mustControl(t, l, 2, 0, true); off != end {
			t.Fatalf("commit of producer 2 at %d, want %d", off, end)
		}
		if got := l.LastStableOffset(); got != end+1 {
			t.Fatalf("LSO after the commit = %d", got)
		}
	}

	t.Run("clean", func(t *testing.T) {
		dir := t.TempDir()
		l := build(t, dir)
		if l.Segments() < 3 {
			t.Fatalf("%d segments; the test wants markers in several", l.Segments())
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, segmentName(0, txnIndexSuffix))); err != nil {
			ents, _ := os.ReadDir(dir)
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			if len(names) == 0 || !hasSuffix(names, txnIndexSuffix) {
				t.Fatalf("no .txnindex written: %v", names)
			}
		}
		l = openLog(t, dir, opts, true, 0)
		defer l.Close()
		check(t, l, 15)
	})

	t.Run("crash", func(t *testing.T) {
		dir := t.TempDir()
		l := build(t, dir)
		// A crash: no clean close, no snapshot but those of rolls.
		l.Drop()
		l = openLog(t, dir, opts, false, 0)
		defer l.Close()
		check(t, l, 15)
	})

	t.Run("truncated before the last marker", func(t *testing.T) {
		dir := t.TempDir()
		l := build(t, dir)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		// Tear the segment holding offset 13's marker and everything
		// after it.
		bases := segmentBases(t, dir)
		var seg string
		for _, b := range bases {
			if b <= 13 {
				seg = filepath.Join(dir, segmentName(b, logSuffix))
			}
		}
		cutAt(t, seg, 13)
		for _, b := range bases {
			if b > 13 {
				os.Remove(filepath.Join(dir, segmentName(b, logSuffix)))
			}
		}
		for _, off := range bases {
			os.Remove(filepath.Join(dir, segmentName(off, snapshotSuffix)))
		}
		for _, e := range mustReadDir(t, dir) {
			if off, ok := parseSegmentName(e, snapshotSuffix); ok {
				os.Remove(filepath.Join(dir, segmentName(off, snapshotSuffix)))
			}
		}
		l = openLog(t, dir, opts, false, 0)
		defer l.Close()
		// Producer 3's transaction is open again (its marker was cut)
		// and the LSO is the older open one, producer 2's.
		if got := l.EndOffset(); got != 13 {
			t.Fatalf("end = %d, want 13", got)
		}
		if got := l.AbortedTransactions(0, 13); !reflect.DeepEqual(got, wantAborted[:1]) {
			t.Fatalf("aborted = %+v", got)
		}
		if got := l.LastStableOffset(); got != 4 {
			t.Fatalf("LSO = %d", got)
		}
		mustControl(t, l, 2, 0, true) // 13
		if got := l.LastStableOffset(); got != 11 {
			t.Fatalf("LSO with producer 3 open = %d, want 11", got)
		}
	})
}

func hasSuffix(names []string, suf string) bool {
	for _, n := range names {
		if filepath.Ext(n) == suf {
			return true
		}
	}
	return false
}

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func segmentBases(t *testing.T, dir string) []int64 {
	t.Helper()
	var out []int64
	for _, n := range mustReadDir(t, dir) {
		if b, ok := parseSegmentName(n, logSuffix); ok {
			out = append(out, b)
		}
	}
	return out
}

// cutAt truncates a segment file in the middle of the batch at offset.
func cutAt(t *testing.T, path string, offset int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p+BatchHeaderSize <= len(data); {
		h, _ := ParseHeader(data[p:])
		if h.BaseOffset == offset {
			if err := os.Truncate(path, int64(p)+5); err != nil {
				t.Fatal(err)
			}
			return
		}
		p += int(h.Size())
	}
	t.Fatalf("no batch at %d in %s", offset, path)
}

// TestTxnIndexRetention: whole segments leaving the log take their
// aborted transactions with them.
func TestTxnIndexRetention(t *testing.T) {
	opts := DefaultOptions()
	opts.SegmentBytes = 300
	dir := t.TempDir()
	l := openLog(t, dir, opts, true, 0)
	defer l.Close()
	mustAppend(t, l, txnBatch(batchSpec{n: 2, pid: 1, epoch: 0, seq: 0, valueLen: 50}))
	mustControl(t, l, 1, 0, false)
	for i := range 6 {
		mustAppend(t, l, makeBatch(batchSpec{n: 2, valueLen: 50, ts: int64(i)}))
	}
	if got := l.AbortedTransactions(0, l.EndOffset()); len(got) != 1 {
		t.Fatalf("aborted = %+v", got)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.DeleteRecords(l.EndOffset() - 1); err != nil {
		t.Fatal(err)
	}
	if got := l.AbortedTransactions(l.StartOffset(), l.EndOffset()); len(got) != 0 {
		t.Fatalf("aborted after DeleteRecords = %+v", got)
	}
	for _, n := range mustReadDir(t, dir) {
		if filepath.Ext(n) == txnIndexSuffix {
			t.Fatalf("%s left after its segment went", n)
		}
	}
}

// TestSnapshotVersion1: a producer snapshot written before transactions
// were stored is still read.
func TestSnapshotVersion1(t *testing.T) {
	ps := producers{5: {epoch: 2, txnFirst: -1, batches: []producerBatch{{firstSeq: 0, lastSeq: 3, firstOffset: 10, lastOffset: 13, maxTs: 99}}}}
	v2 := ps.encode(14)
	// Re-encode as version 1: no txn first offset.
	be := binary.BigEndian
	v1 := append([]byte(nil), v2[:18]...)
	be.PutUint16(v1[4:], 1)
	body := v2[18 : len(v2)-4]
	v1 = append(v1, body[:10]...) // id, epoch
	v1 = append(v1, body[18:]...) // n, batches
	v1 = be.AppendUint32(v1, crc32.Checksum(v1, castagnoli))
	for name, b := range map[string][]byte{"v1": v1, "v2": v2} {
		got, off, err := decodeSnapshot(b)
		if err != nil || off != 14 || !reflect.DeepEqual(got, ps) {
			t.Fatalf("%s: %+v at %d, %v", name, got[5], off, err)
		}
	}
	ps[5].txnFirst = 12
	got, _, err := decodeSnapshot(ps.encode(14))
	if err != nil || got[5].txnFirst != 12 {
		t.Fatalf("txn first offset: %+v, %v", got[5], err)
	}
}

// FuzzTxnIndex: any bytes in a .txnindex load as a well-formed prefix,
// and what loads encodes back to those bytes.
func FuzzTxnIndex(f *testing.F) {
	f.Add(encodeTxnIndex([]AbortedTxn{{1, 0, 4, 5}, {2, 3, 9, 10}}))
	f.Add([]byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		got := decodeTxnIndex(b)
		enc := encodeTxnIndex(got)
		if len(enc) > len(b) || string(enc) != string(b[:len(enc)]) {
			t.Fatalf("%d entries do not encode back to the file's prefix", len(got))
		}
		for i, a := range got {
			if a.FirstOffset > a.LastOffset || (i > 0 && a.LastOffset <= got[i-1].LastOffset) {
				t.Fatalf("entry %d: %+v", i, a)
			}
		}
	})
}

// FuzzMarkerType: the marker decoder reads any control batch bytes
// without panicking, and reads back what controlBatch writes.
func FuzzMarkerType(f *testing.F) {
	f.Add(controlBatch(1, 0, true, 0, 0), true)
	f.Add(controlBatch(7, 3, false, 5, 99), false)
	f.Fuzz(func(t *testing.T, b []byte, commit bool) {
		markerType(b)
		good := controlBatch(int64(len(b)), 1, commit, int32(len(b)), int64(len(b)))
		if got, err := markerType(good); err != nil || got != commit {
			t.Fatalf("markerType = %v, %v", got, err)
		}
	})
}
