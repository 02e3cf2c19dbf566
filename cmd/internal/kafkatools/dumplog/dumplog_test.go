package dumplog

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{MaxBytes: 1}, `missing required argument "[files]"`},
		{Options{Files: []string{"a.log", ""}, MaxBytes: 1}, `--files "a.log," names an empty file`},
		{Options{Files: []string{"a.log"}, ValueDecoder: "com.example.AvroDecoder", MaxBytes: 1}, "--value-decoder-class com.example.AvroDecoder: only the string decoder"},
		{Options{Files: []string{"a.log"}, MaxBytes: 0}, "--max-bytes must be positive"},
	} {
		err := tc.o.Check()
		if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want usage error %q", tc.o, err, tc.want)
		}
	}
	ok := Options{Files: []string{"a.log"}, KeyDecoder: "kafka.serializer.StringDecoder", ValueDecoder: "org.apache.kafka.tools.api.StringDecoder", MaxBytes: 1}
	if err := ok.Check(); err != nil {
		t.Errorf("string decoders: %v", err)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := writeSegment(t, dir, "00000000000000000000.log", nil, fixtureBatches()[0])
	batch := fixtureBatches()[0].encode()

	tooSmall := append([]byte(nil), batch...)
	binary.BigEndian.PutUint32(tooSmall[8:], 5)
	magic1 := append([]byte(nil), batch...)
	magic1[16] = 1
	short := fixtureBatches()[0]
	short.noCount = true // says 3 records, holds 2
	badCRC := fixtureBatches()[0]
	badCRC.corruptCRC = true

	for _, tc := range []struct {
		name    string
		file    string
		o       Options
		wantOut string // in stdout
		wantErr string // in the error; "" for none
		wantLog string // in stderr
	}{
		{name: "missing", file: filepath.Join(dir, "00000000000000000042.log"),
			wantOut: "Dumping " + filepath.Join(dir, "00000000000000000042.log") + "\nLog starting offset: 42\n",
			wantErr: "open " + filepath.Join(dir, "00000000000000000042.log") + ": no such file or directory"},
		{name: "directory", file: dir + "/x.log", wantErr: "the name of a segment file is its base offset"},
		{name: "garbage length", file: writeFile(t, dir, "00000000000000000001.log", tooSmall),
			wantErr: "00000000000000000001.log position 0: corrupt: found record size 5 smaller than minimum record overhead (14)"},
		{name: "old message format", file: writeFile(t, dir, "00000000000000000002.log", magic1),
			wantErr: "00000000000000000002.log position 0: batch of message format v1 (magic 1): only magic 2 record batches"},
		{name: "truncated", file: writeFile(t, dir, "00000000000000000003.log", append(append([]byte(nil), batch...), batch[:50]...)),
			wantOut: "size: 93 magic: 2 compresscodec: none crc: 1648255397 isvalid: true\nFound 50 invalid bytes at the end of 00000000000000000003.log\n"},
		{name: "truncated within max bytes", file: writeFile(t, dir, "00000000000000000004.log", append(append([]byte(nil), batch...), batch...)), o: Options{MaxBytes: 100},
			wantOut: "position: 0 CreateTime: 1700000000005 size: 93"},
		{name: "record cut short", file: writeSegment(t, dir, "00000000000000000005.log", nil, short), o: Options{DeepIteration: true},
			wantErr: "00000000000000000005.log position 0 (batch at offset 0): corrupt: record 2 of 3: bad record length"},
		{name: "record cut short, shallow", file: writeSegment(t, dir, "00000000000000000006.log", nil, short),
			wantOut: "count: 3 "},
		{name: "bad crc", file: writeSegment(t, dir, "00000000000000000007.log", nil, badCRC),
			wantOut: "crc: 1648255398 isvalid: false\n"},
		{name: "unknown suffix", file: writeFile(t, dir, "00000000000000000000.log.deleted", batch),
			wantOut: "Dumping " + filepath.Join(dir, "00000000000000000000.log.deleted") + "\n", wantLog: "Ignoring unknown file " + filepath.Join(dir, "00000000000000000000.log.deleted") + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			// The good file after the bad one is still dumped.
			o.Files = []string{tc.file, good}
			stdout, stderr, err := run(t, o)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if !strings.Contains(stdout, tc.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantOut, stdout)
			}
			if !strings.Contains(stderr, tc.wantLog) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantLog, stderr)
			}
			if !strings.Contains(stdout, "Dumping "+good+"\nLog starting offset: 0\nbaseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1700000000005 size: 93 magic: 2 compresscodec: none crc: 1648255397 isvalid: true\n") {
				t.Errorf("the file after it was not dumped:\n%s", stdout)
			}
		})
	}
}

func offsetIndex(entries ...[2]uint32) []byte {
	var b []byte
	for _, e := range entries {
		b = binary.BigEndian.AppendUint32(b, e[0])
		b = binary.BigEndian.AppendUint32(b, e[1])
	}
	return b
}

func timeIndex(entries ...[2]int64) []byte {
	var b []byte
	for _, e := range entries {
		b = binary.BigEndian.AppendUint64(b, uint64(e[0]))
		b = binary.BigEndian.AppendUint32(b, uint32(e[1]))
	}
	return b
}

func TestIndexes(t *testing.T) {
	dir := t.TempDir()
	writeSegment(t, dir, "00000000000000000000.log", nil, fixtureBatches()...)
	abs := func(name string) string { return filepath.Join(dir, name) }
	// Batches at positions 0 (offsets 0-1), 93 (2), 168 (3), 246 (10).
	idx := writeFile(t, dir, "00000000000000000000.index", offsetIndex(
		[2]uint32{1, 0},   // Kafka's entry: the batch's last offset
		[2]uint32{2, 93},  // the bundled broker's: the batch's first
		[2]uint32{4, 168}, // a mismatch: the batch there holds 3
		[2]uint32{10, 999},
		[2]uint32{0, 0}, // the zeroed tail of a preallocated index
		[2]uint32{11, 246},
	))
	stdout, stderr, err := run(t, Options{Files: []string{idx}})
	if err != nil {
		t.Fatal(err)
	}
	wantOut := "Dumping " + idx + "\noffset: 1 position: 0\noffset: 2 position: 93\noffset: 4 position: 168\noffset: 10 position: 999\n"
	wantErr := "Mismatches in :" + abs("00000000000000000000.index") + "\n  Index offset: 4, log offset: 3\n  Index offset: 10, log offset: -1\n"
	if stdout != wantOut || stderr != wantErr {
		t.Errorf("stdout\n%s\nwant\n%s\nstderr\n%s\nwant\n%s", stdout, wantOut, stderr, wantErr)
	}
	stdout, stderr, _ = run(t, Options{Files: []string{idx}, VerifyIndexOnly: true})
	if stdout != "Dumping "+idx+"\n" || stderr != wantErr {
		t.Errorf("--verify-index-only: stdout\n%s\nstderr\n%s", stdout, stderr)
	}

	tidx := writeFile(t, dir, "00000000000000000000.timeindex", timeIndex(
		[2]int64{1700000000005, 1},
		[2]int64{1700000001000, 2},
		[2]int64{1700000000900, 10}, // neither the batch's timestamp nor after the one before
		[2]int64{1700000003000, 5},  // no batch starts or ends at 5
		[2]int64{1700000004000, 20}, // beyond the log
	))
	stdout, stderr, err = run(t, Options{Files: []string{tidx}})
	if err != nil {
		t.Fatal(err)
	}
	wantOut = "Dumping " + tidx + "\n" +
		"timestamp: 1700000000005 offset: 1\ntimestamp: 1700000001000 offset: 2\ntimestamp: 1700000000900 offset: 10\n" +
		"timestamp: 1700000003000 offset: 5\ntimestamp: 1700000004000 offset: 20\n"
	wantErr = "Found timestamp mismatch in :" + abs("00000000000000000000.timeindex") + "\n  Index timestamp: 1700000000900, log timestamp: 1700000002000\n" +
		"Found out of order timestamp in :" + abs("00000000000000000000.timeindex") + "\n  Index timestamp: 1700000000900, Previously indexed timestamp: 1700000001000\n" +
		"The following indexed offsets are not found in the log.\nIndexed offset: 5, found log offset: 10\nIndexed offset: 20, found log offset: -1\n"
	if stdout != wantOut || stderr != wantErr {
		t.Errorf("stdout\n%s\nwant\n%s\nstderr\n%s\nwant\n%s", stdout, wantOut, stderr, wantErr)
	}

	// The sanity checks a broker makes at start-up.
	stdout, _, err = run(t, Options{Files: []string{idx, tidx}, IndexSanityCheck: true})
	if err != nil || stdout != "Dumping "+idx+"\n"+idx+" passed sanity check.\nDumping "+tidx+"\n"+tidx+" passed sanity check.\n" {
		t.Errorf("sanity: %v\n%s", err, stdout)
	}
	partial := writeFile(t, dir, "00000000000000000100.index", append(offsetIndex([2]uint32{1, 0}), 0, 0, 0, 0))
	_, _, err = run(t, Options{Files: []string{partial}, IndexSanityCheck: true})
	if err == nil || err.Error() != "index file "+partial+" is corrupt, found 12 bytes which is neither positive nor a multiple of 8" {
		t.Errorf("partial entry: %v", err)
	}
	backwards := writeFile(t, dir, "00000000000000000200.timeindex", timeIndex([2]int64{50, 1}, [2]int64{40, 2}))
	_, _, err = run(t, Options{Files: []string{backwards}, IndexSanityCheck: true})
	if err == nil || !strings.Contains(err.Error(), "has non-zero size but the last timestamp is 40 which is less than the first timestamp 50") {
		t.Errorf("timestamps backwards: %v", err)
	}
	empty := writeFile(t, dir, "00000000000000000300.index", nil)
	stdout, _, err = run(t, Options{Files: []string{empty}})
	if err != nil || stdout != "Dumping "+empty+"\n"+empty+" is empty.\n" {
		t.Errorf("empty index: %v\n%s", err, stdout)
	}
	orphan := writeFile(t, dir, "00000000000000000400.index", offsetIndex([2]uint32{0, 0}))
	_, _, err = run(t, Options{Files: []string{orphan}})
	if err == nil || !strings.Contains(err.Error(), "index "+orphan+": its segment: open "+abs("00000000000000000400.log")+": no such file or directory") {
		t.Errorf("index without its segment: %v", err)
	}
}

// kafkaSnapshot encodes Kafka's producer snapshot (version 1) of entries,
// each {producer id, epoch, last sequence, last offset, offset delta,
// timestamp, coordinator epoch, txn first offset}.
func kafkaSnapshot(entries ...[8]int64) []byte {
	be := binary.BigEndian
	b := be.AppendUint16(nil, 1)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, uint32(len(entries)))
	for _, e := range entries {
		b = be.AppendUint64(b, uint64(e[0]))
		b = be.AppendUint16(b, uint16(e[1]))
		b = be.AppendUint32(b, uint32(e[2]))
		b = be.AppendUint64(b, uint64(e[3]))
		b = be.AppendUint32(b, uint32(e[4]))
		b = be.AppendUint64(b, uint64(e[5]))
		b = be.AppendUint32(b, uint32(e[6]))
		b = be.AppendUint64(b, uint64(e[7]))
	}
	be.PutUint32(b[2:], crc32.Checksum(b[6:], castagnoli))
	return b
}

func TestProducerSnapshotsAndTxnIndex(t *testing.T) {
	dir := t.TempDir()
	snap := writeFile(t, dir, "00000000000000000042.snapshot", kafkaSnapshot(
		[8]int64{1000, 2, 9, 41, 4, 1700000000000, 3, -1},
		[8]int64{1001, 0, -1, -1, 0, 1700000000001, -1, 40},
	))
	stdout, _, err := run(t, Options{Files: []string{snap}})
	want := "Dumping " + snap + "\n" +
		"producerId: 1000 producerEpoch: 2 coordinatorEpoch: 3 currentTxnFirstOffset: OptionalLong.empty lastTimestamp: 1700000000000 firstSequence: 5 lastSequence: 9 lastOffset: 41 offsetDelta: 4 timestamp: 1700000000000\n" +
		"producerId: 1001 producerEpoch: 0 coordinatorEpoch: -1 currentTxnFirstOffset: OptionalLong[40] lastTimestamp: 1700000000001 \n"
	if err != nil || stdout != want {
		t.Errorf("%v\ngot\n%q\nwant\n%q", err, stdout, want)
	}
	bad := kafkaSnapshot([8]int64{1000, 2, 9, 41, 4, 1700000000000, 3, -1})
	bad[20]++
	_, _, err = run(t, Options{Files: []string{writeFile(t, dir, "00000000000000000043.snapshot", bad)}})
	if err == nil || !strings.Contains(err.Error(), "00000000000000000043.snapshot: corrupt: snapshot is corrupt (CRC is no longer valid). Stored crc: ") {
		t.Errorf("bad CRC: %v", err)
	}
	_, _, err = run(t, Options{Files: []string{writeFile(t, dir, "00000000000000000044.snapshot", []byte("TRPS\x00\x02"))}})
	if err == nil || !strings.Contains(err.Error(), "00000000000000000044.snapshot: corrupt: 6 bytes are fewer than a snapshot's header") {
		t.Errorf("short snapshot: %v", err)
	}

	be := binary.BigEndian
	entry := be.AppendUint16(nil, 0)
	for _, v := range []int64{7, 10, 12, 13} {
		entry = be.AppendUint64(entry, uint64(v))
	}
	txn := writeFile(t, dir, "00000000000000000000.txnindex", entry)
	stdout, _, err = run(t, Options{Files: []string{txn}})
	if err != nil || stdout != "Dumping "+txn+"\nversion: 0 producerId: 7 firstOffset: 10 lastOffset: 12 lastStableOffset: 13\n" {
		t.Errorf("%v\n%s", err, stdout)
	}
	_, _, err = run(t, Options{Files: []string{writeFile(t, dir, "00000000000000000001.txnindex", append(entry, 0, 0, 1))}})
	if err == nil || !strings.Contains(err.Error(), "00000000000000000001.txnindex position 34: corrupt: expected to read 34 bytes of aborted transaction, found only 3") {
		t.Errorf("partial entry: %v", err)
	}
}

// FuzzDumpLog feeds the segment reader arbitrary files: it reports an
// error or dumps them, and never panics.
func FuzzDumpLog(f *testing.F) {
	var seg []byte
	for _, b := range fixtureBatches() {
		seg = append(seg, b.encode()...)
	}
	f.Add(seg)
	f.Add(seg[:70])
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "00000000000000000000.log")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb strings.Builder
		err := Run(Options{Files: []string{p}, PrintDataLog: true, MaxBytes: DefaultMaxBytes}, &out, &errb)
		if err == nil && !strings.HasPrefix(out.String(), "Dumping "+p+"\nLog starting offset: 0\n") {
			t.Fatalf("no error and no dump:\n%s", out.String())
		}
	})
}

// FuzzDecodeRecord decodes arbitrary bytes as a record.
func FuzzDecodeRecord(f *testing.F) {
	b := fixtureBatches()[0].encode()
	f.Add(b[61:])
	f.Add([]byte{0x02, 0x00})
	f.Fuzz(func(t *testing.T, p []byte) {
		_, n, err := decodeRecord(p)
		if err == nil && (n <= 0 || n > len(p)) {
			t.Fatalf("decoded %d of %d bytes", n, len(p))
		}
	})
}
