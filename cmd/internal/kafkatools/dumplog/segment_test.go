package dumplog

import (
	"encoding/binary"
	"flag"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

// testRecord is a record to encode into a test batch.
type testRecord struct {
	tsDelta, offDelta int64
	key, value        []byte // nil: null
	headers           []string
}

// testBatch is a magic 2 batch to encode, with the fields a producer and
// the log set.
type testBatch struct {
	baseOffset          int64
	leaderEpoch         int32
	attrs               int16
	firstTs, maxTs      int64
	producerID          int64
	epoch               int16
	baseSeq             int32
	records             []testRecord
	lastDelta           int32 // when 0, the last record's offset delta
	corruptCRC, noCount bool
}

func appendVarint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

func appendVarBytes(b, p []byte) []byte {
	if p == nil {
		return appendVarint(b, -1)
	}
	return append(appendVarint(b, int64(len(p))), p...)
}

func (tb testBatch) encode() []byte {
	var recs []byte
	last := tb.lastDelta
	for _, r := range tb.records {
		var body []byte
		body = append(body, 0)
		body = appendVarint(body, r.tsDelta)
		body = appendVarint(body, r.offDelta)
		body = appendVarBytes(body, r.key)
		body = appendVarBytes(body, r.value)
		body = appendVarint(body, int64(len(r.headers)))
		for _, h := range r.headers {
			body = appendVarBytes(body, []byte(h))
			body = appendVarint(body, -1)
		}
		recs = append(appendVarint(recs, int64(len(body))), body...)
		if tb.lastDelta == 0 {
			last = int32(r.offDelta)
		}
	}
	be := binary.BigEndian
	b := be.AppendUint64(nil, uint64(tb.baseOffset))
	b = be.AppendUint32(b, uint32(49+len(recs)))
	b = be.AppendUint32(b, uint32(tb.leaderEpoch))
	b = append(b, 2)
	b = be.AppendUint32(b, 0) // CRC, below
	b = be.AppendUint16(b, uint16(tb.attrs))
	b = be.AppendUint32(b, uint32(last))
	b = be.AppendUint64(b, uint64(tb.firstTs))
	b = be.AppendUint64(b, uint64(tb.maxTs))
	b = be.AppendUint64(b, uint64(tb.producerID))
	b = be.AppendUint16(b, uint16(tb.epoch))
	b = be.AppendUint32(b, uint32(tb.baseSeq))
	n := len(tb.records)
	if tb.noCount {
		n++
	}
	b = be.AppendUint32(b, uint32(n))
	b = append(b, recs...)
	crc := crc32.Checksum(b[21:], castagnoli)
	if tb.corruptCRC {
		crc++
	}
	be.PutUint32(b[17:], crc)
	return b
}

// fixtureBatches are the batches of testdata's segment: a plain batch with
// a key, a null key and a header; a transactional batch with
// LogAppendTime; its COMMIT marker; a batch after a gap in the offsets
// that the cleaner marked with a delete horizon, whose value is not UTF-8.
func fixtureBatches() []testBatch {
	const ts = 1700000000000
	return []testBatch{
		{baseOffset: 0, firstTs: ts, maxTs: ts + 5, producerID: -1, epoch: -1, baseSeq: -1, records: []testRecord{
			{key: []byte("k"), value: []byte("hello"), headers: []string{"trace"}},
			{tsDelta: 5, offDelta: 1, value: []byte("world")},
		}},
		{baseOffset: 2, attrs: attrTransactional | attrLogAppendTime, firstTs: ts + 900, maxTs: ts + 1000, producerID: 7, epoch: 1, baseSeq: 0, leaderEpoch: 3, records: []testRecord{
			{key: []byte("k"), value: []byte("in txn")},
		}},
		{baseOffset: 3, attrs: attrTransactional | attrControl, firstTs: ts + 1100, maxTs: ts + 1100, producerID: 7, epoch: 1, baseSeq: -1, leaderEpoch: 3, records: []testRecord{
			{key: []byte{0, 0, 0, 1}, value: []byte{0, 0, 0, 0, 0, 5}},
		}},
		{baseOffset: 10, attrs: attrDeleteHorizon, firstTs: ts + 2000, maxTs: ts + 2000, producerID: -1, epoch: -1, baseSeq: -1, leaderEpoch: 3, records: []testRecord{
			{key: []byte("gone"), value: []byte{0xff, 'a'}},
		}},
	}
}

// writeSegment writes batches (and extra bytes after them) as the segment
// name in dir, and returns its path.
func writeSegment(t *testing.T, dir, name string, extra []byte, batches ...testBatch) string {
	t.Helper()
	var b []byte
	for _, tb := range batches {
		b = append(b, tb.encode()...)
	}
	b = append(b, extra...)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, o Options) (stdout, stderr string, err error) {
	t.Helper()
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	var out, errb strings.Builder
	err = Run(o, &out, &errb)
	return out.String(), errb.String(), err
}

// TestKafkaFormat dumps a segment of known batches and compares the
// output with testdata/kafka-format.golden, which holds what Kafka's
// DumpLogSegments prints for the same bytes (the line formats of its
// printBatchLevel and dumpLog, and of the report of non-consecutive
// offsets; CRCs checked with an independent CRC-32C).
func TestKafkaFormat(t *testing.T) {
	dir := t.TempDir()
	// 20 bytes of a batch cut short: the file's invalid tail.
	tail := binary.BigEndian.AppendUint64(nil, 11)
	tail = binary.BigEndian.AppendUint32(tail, 100)
	tail = append(tail, make([]byte, 8)...)
	seg := writeSegment(t, dir, "00000000000000000000.log", tail, fixtureBatches()...)
	for _, tc := range []struct {
		golden string
		o      Options
	}{
		{"kafka-format.golden", Options{PrintDataLog: true}},
		{"kafka-format-shallow.golden", Options{}},
		{"kafka-format-skip-metadata.golden", Options{PrintDataLog: true, SkipRecordMetadata: true}},
		{"kafka-format-deep.golden", Options{DeepIteration: true}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			o := tc.o
			o.Files = []string{seg}
			stdout, stderr, err := run(t, o)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(stdout+"--- stderr\n"+stderr, dir, "DIR")
			golden := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}
