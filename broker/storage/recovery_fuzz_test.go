package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recoveryFixture is a cleanly closed log of a few segments, built once
// and copied for each fuzz input.
type recoveryFixture struct {
	files   map[string][]byte // name -> contents
	batches []fixtureBatch    // in log order
	segs    []string          // .log names in order
	opts    Options
}

type fixtureBatch struct {
	seg       int   // index in segs
	pos, size int64 // within the segment file
	base      int64
	data      []byte
}

var fixtureOnce = sync.OnceValues(func() (*recoveryFixture, error) {
	dir, err := os.MkdirTemp("", "recovery-fixture")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fx := &recoveryFixture{files: map[string][]byte{}, opts: Options{SegmentBytes: 1500, IndexIntervalBytes: 200}}
	l, err := Open(Config{Dir: dir, Options: fx.opts})
	if err != nil {
		return nil, err
	}
	seq := int32(0)
	for i := range 24 {
		n := 1 + i%4
		b := makeBatch(batchSpec{n: n, ts: 1_700_000_000_000 + int64(i)*10, valueLen: 20 + i*7%60, tag: "b", pid: 1000, seq: seq})
		seq += int32(n)
		if _, err := l.Append(b, time.Now()); err != nil {
			l.Close()
			return nil, err
		}
	}
	if err := l.Close(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		fx.files[e.Name()] = data
		if _, ok := parseSegmentName(e.Name(), logSuffix); ok {
			fx.segs = append(fx.segs, e.Name())
		}
	}
	if len(fx.segs) < 3 {
		return nil, fmt.Errorf("fixture has %d segments, want at least 3", len(fx.segs))
	}
	for i, name := range fx.segs {
		data := fx.files[name]
		for pos := int64(0); pos < int64(len(data)); {
			h, err := ParseHeader(data[pos:])
			if err != nil {
				return nil, err
			}
			fx.batches = append(fx.batches, fixtureBatch{seg: i, pos: pos, size: h.Size(), base: h.BaseOffset, data: data[pos : pos+h.Size()]})
			pos += h.Size()
		}
	}
	return fx, nil
})

// warnCounter counts warnings logged by the log under test.
type warnCounter struct{ n atomic.Int64 }

func (w *warnCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnCounter) Handle(context.Context, slog.Record) error    { w.n.Add(1); return nil }
func (w *warnCounter) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w *warnCounter) WithGroup(string) slog.Handler                { return w }

// FuzzRecover damages a valid log (flipped bytes and truncations of its
// segment and index files, as the fuzzer chooses), then opens it as after
// a crash. Recovery must not fail or panic; the batches before the first
// damaged one must come back byte for byte; the damaged one and all after
// it must be gone (a damaged base offset, which the CRC does not cover,
// shows as a gap in the offsets), and the cut must be logged. The
// recovered log must then take appends and reopen to the same state.
//
// mode bit 0 chooses the recovery point: 0 validates every segment, 1 only
// the last one (the others are trusted, as below a recovery point; their
// .log files are then left alone and only their index files are cut
// short, as a crash while writing them would). Bit 1 puts the recovery
// point in the middle of the last segment, whose first half is then
// trusted too.
func FuzzRecover(f *testing.F) {
	f.Add(uint8(0), []byte{})
	f.Add(uint8(0), []byte{0, 1, 0, 30, 0xff})            // flip a byte of the first segment
	f.Add(uint8(0), []byte{1, 1, 0, 200, 0})              // truncate the second segment
	f.Add(uint8(0), []byte{2, 0, 0, 9, 0x80})             // damage an index
	f.Add(uint8(1), []byte{0, 2, 1, 10, 0x01})            // damage the last segment, trusted ones before
	f.Add(uint8(1), []byte{3, 0, 0, 12, 0, 1, 2, 0, 0})   // cut a trusted index short, truncate the last segment
	f.Add(uint8(0), []byte{0, 0, 0, 3, 0x10})             // a base offset: outside the CRC
	f.Add(uint8(0), []byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0}) // empty the middle segment
	f.Add(uint8(2), []byte{0, 0, 0, 40, 0x04})            // resume in the last segment, damage after
	f.Add(uint8(2), []byte{3, 255, 0, 8, 0})              // resume, its index cut short
	f.Fuzz(func(t *testing.T, mode uint8, ops []byte) {
		fx, err := fixtureOnce()
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for name, data := range fx.files {
			files[name] = append([]byte(nil), data...)
		}
		trustedSegs := 0
		if mode&1 == 1 {
			trustedSegs = len(fx.segs) - 1
		}
		// With mode bit 1 the recovery point is the middle batch of the
		// last segment: the data before it is trusted (recovery starts at
		// the last index entry below it), so only the bytes from that
		// batch on are damaged, and its index files only cut short.
		rp, trustedBytes := int64(0), 0
		if mode&2 == 2 {
			trustedSegs = len(fx.segs) - 1
			var last []fixtureBatch
			for _, b := range fx.batches {
				if b.seg == len(fx.segs)-1 {
					last = append(last, b)
				}
			}
			mid := last[len(last)/2]
			rp, trustedBytes = mid.base, int(mid.pos)
		} else if trustedSegs > 0 {
			rp, _ = parseSegmentName(fx.segs[trustedSegs], logSuffix)
		}
		logName := func(sel byte) string {
			validated := fx.segs[trustedSegs:]
			return validated[int(sel)%len(validated)]
		}
		// logPos maps a position into the validated part of a segment.
		logPos := func(name string, pos int) int {
			if name != fx.segs[len(fx.segs)-1] || trustedBytes == 0 {
				return pos
			}
			return trustedBytes + pos%(len(fx.files[name])-trustedBytes+1)
		}
		indexName := func(sel byte, ts bool) string {
			base, _ := parseSegmentName(fx.segs[int(sel)%len(fx.segs)], logSuffix)
			if ts {
				return segmentName(base, timeIndexSuffix)
			}
			return segmentName(base, indexSuffix)
		}
		// Each op is 5 bytes: kind, file selector, position (2 bytes), value.
		for len(ops) >= 5 {
			kind, sel, pos, val := ops[0]%4, ops[1], int(binary.BigEndian.Uint16(ops[2:4])), ops[4]
			ops = ops[5:]
			switch kind {
			case 0: // flip bits in a segment
				name := logName(sel)
				if d := files[name]; len(d) > 0 && val != 0 {
					if p := logPos(name, pos); p < len(d) {
						d[p] ^= val
					}
				}
			case 1: // truncate a segment
				name := logName(sel)
				if d := files[name]; logPos(name, pos) < len(d) {
					files[name] = d[:logPos(name, pos)]
				}
			case 2, 3: // flip bits in or truncate an index
				name := indexName(sel, val&1 == 1)
				d := files[name]
				if int(sel)%len(fx.segs) < trustedSegs || trustedBytes > 0 || kind == 3 {
					if pos < len(d) {
						files[name] = d[:pos]
					}
				} else if len(d) > 0 && val != 0 {
					d[pos%len(d)] ^= val
				}
			}
		}

		dir := t.TempDir()
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		warns := &warnCounter{}
		l, err := Open(Config{Dir: dir, Options: fx.opts, RecoveryPoint: rp, Logger: slog.New(warns)})
		if err != nil {
			t.Fatalf("recovery failed: %v", err)
		}

		// The first damaged batch, in log order. The partition leader
		// epoch is neither covered by the CRC nor checked (the log writes
		// 0): a batch damaged only there is intact.
		first := len(fx.batches)
		for i, b := range fx.batches {
			d := files[fx.segs[b.seg]]
			if int64(len(d)) < b.pos+b.size {
				first = i
				break
			}
			d = d[b.pos : b.pos+b.size]
			if !bytes.Equal(d[:offLeaderEpoch], b.data[:offLeaderEpoch]) || !bytes.Equal(d[offMagic:], b.data[offMagic:]) {
				first = i
				break
			}
		}
		got := readAll(t, l, l.StartOffset())
		if l.StartOffset() != 0 {
			t.Fatalf("log start offset %d", l.StartOffset())
		}
		if len(got) < first {
			t.Fatalf("%d batches recovered, but the first %d were intact", len(got), first)
		}
		kept := first
		if len(got) != first {
			t.Fatalf("%d batches recovered; the one at index %d (offset %d) was damaged", len(got), first, fx.batches[min(first, len(fx.batches)-1)].base)
		}
		for i, h := range got[:first] {
			if h.BaseOffset != fx.batches[i].base {
				t.Fatalf("batch %d at offset %d, was %d", i, h.BaseOffset, fx.batches[i].base)
			}
		}
		res, err := l.Read(nil, 0, 1<<20, true)
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range fx.batches[:first] {
			if len(res.Records) < int(b.size) {
				if res, err = l.Read(nil, b.base, 1<<20, true); err != nil {
					t.Fatal(err)
				}
			}
			got := res.Records[:b.size]
			if !bytes.Equal(got[:offLeaderEpoch], b.data[:offLeaderEpoch]) || !bytes.Equal(got[offMagic:], b.data[offMagic:]) {
				t.Fatalf("batch %d (offset %d) differs after recovery", i, b.base)
			}
			res.Records = res.Records[b.size:]
		}
		// Bytes cut off must be reported. (A file cut at a batch boundary
		// looks like a log that ended there: nothing to report.)
		var onDisk int64
		for _, name := range fx.segs {
			onDisk += int64(len(files[name]))
		}
		if l.Size() < onDisk && warns.n.Load() == 0 {
			t.Fatalf("recovery cut %d bytes without a warning", onDisk-l.Size())
		}
		var want int64
		if kept > 0 {
			want = got[kept-1].LastOffset() + 1
		}
		if l.EndOffset() != want {
			t.Fatalf("end offset %d, want %d", l.EndOffset(), want)
		}

		// The log goes on: an append, a clean close, and the same batches
		// after reopening.
		end := l.EndOffset()
		if res := mustAppend(t, l, makeBatch(batchSpec{n: 2, valueLen: 10})); res.BaseOffset != end {
			t.Fatalf("append after recovery at %d, want %d", res.BaseOffset, end)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l = openLog(t, dir, fx.opts, true, 0)
		defer l.Close()
		if again := readAll(t, l, 0); len(again) != kept+1 || l.EndOffset() != end+2 {
			t.Fatalf("reopened: %d batches ending at %d, want %d ending at %d", len(again), l.EndOffset(), kept+1, end+2)
		}
	})
}
