package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// batchSpec describes a test batch.
type batchSpec struct {
	n        int   // records
	ts       int64 // first timestamp; record i has ts+i
	pid      int64 // -1 for none
	epoch    int16
	seq      int32
	valueLen int
	tag      string // prefix of each value, to tell batches apart
}

// makeBatch encodes a record batch as a producer would, with a valid CRC.
func makeBatch(sp batchSpec) []byte {
	if sp.n == 0 {
		sp.n = 1
	}
	var recs []byte
	for i := 0; i < sp.n; i++ {
		val := fmt.Appendf(nil, "%s-%d-", sp.tag, i)
		for len(val) < sp.valueLen {
			val = append(val, 'x')
		}
		r := kmsg.Record{TimestampDelta64: int64(i), OffsetDelta: int32(i), Key: fmt.Appendf(nil, "k%d", i), Value: val}
		body := r.AppendTo(nil)
		r.Length = int32(len(body) - 1)
		recs = r.AppendTo(recs)
	}
	pid := sp.pid
	if pid == 0 {
		pid = -1
	}
	epoch, seq := sp.epoch, sp.seq
	if pid < 0 {
		epoch, seq = -1, -1
	}
	b := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1,
		Magic:                2,
		LastOffsetDelta:      int32(sp.n - 1),
		FirstTimestamp:       sp.ts,
		MaxTimestamp:         sp.ts + int64(sp.n-1),
		ProducerID:           pid,
		ProducerEpoch:        epoch,
		FirstSequence:        seq,
		NumRecords:           int32(sp.n),
		Records:              recs,
	}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[offLength:], uint32(len(raw)-logOverhead))
	binary.BigEndian.PutUint32(raw[offCRC:], crc32.Checksum(raw[offAttributes:], castagnoli))
	return raw
}

func openLog(t testing.TB, dir string, opts Options, clean bool, rp int64) *Log {
	t.Helper()
	l, err := Open(Config{Dir: dir, Options: opts, Clean: clean, RecoveryPoint: rp})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustAppend(t testing.TB, l *Log, b []byte) AppendResult {
	t.Helper()
	res, err := l.Append(b, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// readAll reads every batch from offset to the log end and returns their
// headers.
func readAll(t testing.TB, l *Log, from int64) []BatchHeader {
	t.Helper()
	var out []BatchHeader
	off := from
	for off < l.EndOffset() {
		res, err := l.Read(nil, off, 1<<20, true)
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if len(res.Records) == 0 {
			t.Fatalf("read at %d (end %d): no records", off, l.EndOffset())
		}
		for p := res.Records; len(p) > 0; {
			h, err := ParseHeader(p)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(p)) < h.Size() {
				t.Fatalf("partial batch at %d", h.BaseOffset)
			}
			if _, err := validateStored(p[:h.Size()]); err != nil {
				t.Fatalf("stored batch at %d: %v", h.BaseOffset, err)
			}
			out = append(out, h)
			off = h.LastOffset() + 1
			p = p[h.Size():]
		}
	}
	return out
}

// validateStored checks the CRC and framing of a stored batch.
func validateStored(b []byte) (BatchHeader, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if got := crc32.Checksum(b[offAttributes:], castagnoli); got != h.CRC {
		return h, fmt.Errorf("crc %08x != %08x", got, h.CRC)
	}
	return h, checkFraming(&h, int64(len(b)))
}

var timeZero = time.Unix(0, 0)
