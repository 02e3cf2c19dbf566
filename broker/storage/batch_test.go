package storage

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func recrc(b []byte) []byte {
	binary.BigEndian.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
	return b
}

func TestValidateBatch(t *testing.T) {
	good := makeBatch(batchSpec{n: 3, valueLen: 10})
	mod := func(f func(b []byte) []byte) []byte {
		b := append([]byte(nil), good...)
		return f(b)
	}
	tests := []struct {
		name string
		b    []byte
		max  int
		want error
	}{
		{"good", good, 0, nil},
		{"too large", good, len(good) - 1, ErrBatchTooLarge},
		{"short", good[:40], 0, ErrCorruptBatch},
		{"truncated", good[:len(good)-1], 0, ErrCorruptBatch},
		{"two batches", append(append([]byte(nil), good...), good...), 0, ErrInvalidRecord},
		{"crc", mod(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), 0, ErrCorruptBatch},
		{"magic 1", mod(func(b []byte) []byte { b[offMagic] = 1; return b }), 0, ErrInvalidRecord},
		{"length too small", mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[offLength:], 10); return b }), 0, ErrCorruptBatch},
		{"count mismatch", mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[offRecordCount:], 4); return recrc(b) }), 0, ErrInvalidRecord},
		{"no records", mod(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offRecordCount:], 0)
			binary.BigEndian.PutUint32(b[offLastOffsetDelta:], math.MaxUint32)
			return recrc(b)
		}), 0, ErrCorruptBatch},
		{"too many records for bytes", mod(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offRecordCount:], 1000)
			binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 999)
			return recrc(b)
		}), 0, ErrCorruptBatch},
		{"codec 7", mod(func(b []byte) []byte { b[offAttributes+1] |= 7; return recrc(b) }), 0, ErrCorruptBatch},
		{"control", mod(func(b []byte) []byte { b[offAttributes+1] |= attrControl; return recrc(b) }), 0, ErrInvalidRecord},
		{"transactional without producer id", mod(func(b []byte) []byte {
			b[offAttributes+1] |= attrTransactional
			binary.BigEndian.PutUint64(b[offProducerID:], ^uint64(0))
			return recrc(b)
		}), 0, ErrInvalidRecord},
		{"producer without sequence", mod(func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[offProducerID:], 5)
			return recrc(b)
		}), 0, ErrInvalidRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ValidateBatch(tt.b, tt.max)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSequenceWraps(t *testing.T) {
	h := BatchHeader{BaseSequence: math.MaxInt32 - 1, LastOffsetDelta: 3}
	if got := h.LastSequence(); got != 1 {
		t.Fatalf("last sequence %d, want 1", got)
	}
	if !inSequence(math.MaxInt32, 0) || inSequence(5, 7) || !inSequence(5, 6) {
		t.Fatal("inSequence")
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	ps := producers{}
	for i := range 7 {
		h := BatchHeader{ProducerID: int64(i % 3), ProducerEpoch: 1, BaseSequence: int32(i), BaseOffset: int64(i * 10), LastOffsetDelta: 2, MaxTimestamp: 99}
		ps.update(&h)
	}
	data := ps.encode(70)
	got, off, err := decodeSnapshot(data)
	if err != nil || off != 70 || len(got) != 3 || len(got[0].batches) != 3 {
		t.Fatalf("decode: %v off %d len %d", err, off, len(got))
	}
	data[len(data)/2] ^= 1
	if _, _, err := decodeSnapshot(data); err == nil {
		t.Fatal("corrupt snapshot decoded")
	}
}

// FuzzValidateBatch feeds arbitrary bytes to the batch validator and, when
// they pass, through a log: nothing may panic, and what is stored reads
// back as stored.
func FuzzValidateBatch(f *testing.F) {
	f.Add(makeBatch(batchSpec{n: 1}))
	f.Add(makeBatch(batchSpec{n: 3, pid: 4, seq: 9, valueLen: 30}))
	f.Add([]byte{})
	f.Add(make([]byte, BatchHeaderSize))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ValidateBatch(b, 1<<20)
		if err != nil {
			return
		}
		if h.Size() != int64(len(b)) {
			t.Fatalf("accepted a batch of %d bytes that says it has %d", len(b), h.Size())
		}
		sub := filepath.Join(dir, "p")
		defer os.RemoveAll(sub)
		l, err := Open(Config{Dir: sub})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if _, err := l.Append(b, timeZero); err != nil {
			t.Fatal(err)
		}
		res, err := l.Read(nil, 0, 1<<20, true)
		if err != nil || len(res.Records) != len(b) {
			t.Fatalf("read back %d bytes, %v", len(res.Records), err)
		}
	})
}
