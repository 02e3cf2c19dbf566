package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// compressedBatch encodes n records of valueLen zero bytes, timestamps ts,
// ts+1, ..., with their records section compressed by codec.
func compressedBatch(t testing.TB, codec kgo.CompressionCodec, n, valueLen int, ts int64) []byte {
	t.Helper()
	var recs []byte
	for i := range n {
		r := kmsg.Record{TimestampDelta64: int64(i), OffsetDelta: int32(i), Value: make([]byte, valueLen)}
		body := r.AppendTo(nil)
		r.Length = int32(len(body) - 1)
		recs = r.AppendTo(recs)
	}
	c, err := kgo.DefaultCompressor(codec)
	if err != nil {
		t.Fatal(err)
	}
	packed, typ := c.Compress(new(bytes.Buffer), recs)
	return batchWithRecords(int16(typ), n, ts, bytes.Clone(packed))
}

// batchWithRecords frames a records section (compressed by the given
// attribute codec) as a batch of n records.
func batchWithRecords(codec int16, n int, ts int64, records []byte) []byte {
	b := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1,
		Magic:                2,
		Attributes:           codec,
		LastOffsetDelta:      int32(n - 1),
		FirstTimestamp:       ts,
		MaxTimestamp:         ts + int64(n-1),
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(n),
		Records:              records,
	}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[offLength:], uint32(len(raw)-logOverhead))
	binary.BigEndian.PutUint32(raw[offCRC:], crc32.Checksum(raw[offAttributes:], castagnoli))
	return raw
}

// A timestamp lookup decompresses the batch it lands in, but no more than
// its limit: a batch that expands past it (a decompression bomb) is an
// error that says so, for every codec, and batches within it are found.
func TestTimestampLookupDecompressLimit(t *testing.T) {
	codecs := []kgo.CompressionCodec{kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()}
	for i, codec := range codecs {
		l, err := Open(Config{Dir: t.TempDir(), decompressLimit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		mustAppend(t, l, compressedBatch(t, codec, 10, 1000, 1000))   // 10 KB: fits
		mustAppend(t, l, compressedBatch(t, codec, 40, 64<<10, 2000)) // 2.5 MiB: over
		mustAppend(t, l, compressedBatch(t, codec, 10, 1000, 3000))   // fits
		name := []string{"gzip", "snappy", "lz4", "zstd"}[i]
		if got := batchCodec(t, l, 0); int(got) != i+1 {
			t.Fatalf("%s: the batch has codec %d", name, got)
		}

		if off, ts, ok, err := l.OffsetForTimestamp(1005); err != nil || !ok || off != 5 || ts != 1005 {
			t.Errorf("%s: lookup in a batch within the limit: offset %d, ts %d, %v, %v", name, off, ts, ok, err)
		}
		_, _, _, err = l.OffsetForTimestamp(2005)
		if !errors.Is(err, ErrDecompressLimit) || !strings.Contains(err.Error(), "offset 10") || !strings.Contains(err.Error(), "1048576") {
			t.Errorf("%s: lookup in a batch that decompresses to 2.5 MiB with a 1 MiB limit: %v", name, err)
		}
		if off, _, ok, err := l.OffsetForTimestamp(3000); err != nil || !ok || off != 50 {
			t.Errorf("%s: lookup past the large batch: offset %d, %v, %v", name, off, ok, err)
		}
	}
}

// batchCodec returns the compression codec of the batch at offset.
func batchCodec(t *testing.T, l *Log, offset int64) int8 {
	t.Helper()
	res, err := l.Read(nil, offset, 1<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHeader(res.Records)
	if err != nil {
		t.Fatal(err)
	}
	return h.Compression()
}

// rleFrame is a zstd frame of n RLE blocks of 128 KiB of zeros that does
// not declare its decoded size: 4 bytes per 128 KiB.
func rleFrame(n int) []byte {
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 10 << 3} // magic; no size, no checksum; 1 MiB window
	for i := range n {
		hdr := uint32(1<<1 | 128<<10<<3) // an RLE block of 128 KiB
		if i == n-1 {
			hdr |= 1 // the last
		}
		frame = append(frame, byte(hdr), byte(hdr>>8), byte(hdr>>16), 0)
	}
	return frame
}

// A zstd batch of a few KiB that expands to 80 MiB, in a frame that does
// not declare its size, is refused once it passes the limit, not
// decompressed whole.
func TestTimestampLookupRefusesBomb(t *testing.T) {
	if out, err := decompress(rleFrame(8), 4, 1<<20); err != nil || len(out) != 1<<20 {
		t.Fatalf("8 RLE blocks decode to %d bytes, %v; want 1 MiB", len(out), err)
	}
	frame := rleFrame(640)
	l, err := Open(Config{Dir: t.TempDir(), decompressLimit: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	mustAppend(t, l, batchWithRecords(4, 1000, 5000, frame))
	_, _, _, err = l.OffsetForTimestamp(5000)
	if !errors.Is(err, ErrDecompressLimit) || !strings.Contains(err.Error(), "4194304") {
		t.Fatalf("lookup in a zstd batch of %d bytes that expands to 80 MiB: %v", len(frame), err)
	}
}

func TestDecompressLimitDefault(t *testing.T) {
	for _, tt := range []struct{ maxMessage, want int }{
		{1048588, 64 << 20},
		{2 << 20, 64 << 20},
		{100 << 20, 100 << 20},
	} {
		if got := (Options{MaxMessageBytes: tt.maxMessage}).DecompressLimit(); got != tt.want {
			t.Errorf("max.message.bytes %d: limit %d, want %d", tt.maxMessage, got, tt.want)
		}
	}
}

// FuzzDecompress: no input panics the decoders or yields more than the
// limit.
func FuzzDecompress(f *testing.F) {
	for i, codec := range []kgo.CompressionCodec{kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()} {
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(compressedBatch(f, codec, 3, 100, 0)); err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i+1), rb.Records)
	}
	f.Add(uint8(4), rleFrame(3))
	f.Add(uint8(2), append(append([]byte(nil), xerialHeader...), 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 5, 0))
	const limit = 64 << 10
	f.Fuzz(func(t *testing.T, codec uint8, data []byte) {
		out, err := decompress(data, int8(codec%5), limit)
		if err == nil && len(out) > limit {
			t.Fatalf("%d bytes out with a limit of %d", len(out), limit)
		}
	})
}

// recordDeltas reads back the deltas of records as Kafka encodes them
// (kmsg, with keys, headers and negative timestamp deltas), stops at n
// records, and stops without panicking at a record that is cut short.
func TestRecordDeltas(t *testing.T) {
	var recs []byte
	var want []deltas
	for i, td := range []int64{0, -5, 1 << 40, 7} {
		r := kmsg.Record{TimestampDelta64: td, OffsetDelta: int32(i * 3), Key: []byte("k"), Value: make([]byte, 200*i),
			Headers: []kmsg.Header{{Key: "h", Value: []byte("v")}}}
		body := r.AppendTo(nil)
		r.Length = int32(len(body) - 1)
		recs = r.AppendTo(recs)
		want = append(want, deltas{timestamp: td, offset: int32(i * 3)})
	}
	collect := func(b []byte, n int32) []deltas {
		var out []deltas
		for d := range recordDeltas(b, n) {
			out = append(out, d)
		}
		return out
	}
	if got := collect(recs, 4); !slices.Equal(got, want) {
		t.Errorf("four records: %v, want %v", got, want)
	}
	if got := collect(recs, 2); !slices.Equal(got, want[:2]) {
		t.Errorf("the first two: %v, want %v", got, want[:2])
	}
	if got := collect(recs, 9); !slices.Equal(got, want) {
		t.Errorf("nine asked of four: %v, want %v", got, want)
	}
	if got := collect(recs[:len(recs)-1], 4); !slices.Equal(got, want[:3]) {
		t.Errorf("the last record cut short: %v, want %v", got, want[:3])
	}
	for d := range recordDeltas(recs, 4) {
		if d.offset == 3 {
			break // the iterator stops when asked
		}
	}
}

// FuzzRecordDeltas: no records section panics the record walker or yields
// more records than asked.
func FuzzRecordDeltas(f *testing.F) {
	r := kmsg.Record{TimestampDelta64: 3, OffsetDelta: 1, Value: []byte("v")}
	body := r.AppendTo(nil)
	r.Length = int32(len(body) - 1)
	f.Add(r.AppendTo(nil), int32(1))
	f.Add([]byte{0x02, 0x00}, int32(2))
	f.Fuzz(func(t *testing.T, b []byte, n int32) {
		got := int32(0)
		for range recordDeltas(b, n) {
			got++
		}
		if got > max(n, 0) {
			t.Fatalf("%d records from a section of %d", got, n)
		}
	})
}
