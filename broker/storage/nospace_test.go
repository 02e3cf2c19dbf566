package storage

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// diskFull is a fault hook that fails the chosen writes with ENOSPC while
// full is set, after writing half of an appended batch (a torn write).
type diskFull struct {
	full  atomic.Bool
	ops   map[faultOp]bool
	fails atomic.Int64
}

func (d *diskFull) hook(op faultOp, _ string, size int) (int, error) {
	if !d.full.Load() || !d.ops[op] {
		return 0, nil
	}
	d.fails.Add(1)
	return size / 2, syscall.ENOSPC
}

func openFaulty(t *testing.T, dir string, opts Options, d *diskFull) *Log {
	t.Helper()
	l, err := Open(Config{Dir: dir, Options: opts, fault: d.hook})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func fileSizes(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	out := map[string]int64{}
	for _, p := range m {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = fi.Size()
	}
	return out
}

// A full disk refuses appends with ErrNoSpace, leaves no torn bytes and no
// half-made segment, loses nothing acknowledged, and appends resume once
// space is freed; the log then recovers whole after a crash.
func TestDiskFullRefusesAndResumes(t *testing.T) {
	dir := t.TempDir()
	d := &diskFull{ops: map[faultOp]bool{faultAppend: true, faultCreate: true}}
	opts := Options{SegmentBytes: 4096}
	l := openFaulty(t, dir, opts, d)
	defer l.Close()

	var acked []int64
	appendSync := func(tag string) error {
		res, err := l.Append(makeBatch(batchSpec{n: 3, valueLen: 100, tag: tag, ts: time.Now().UnixMilli()}), time.Now())
		if err != nil {
			return err
		}
		if err := l.Sync(res.LastOffset + 1); err != nil {
			return err
		}
		acked = append(acked, res.BaseOffset)
		return nil
	}
	for range 5 {
		if err := appendSync("before"); err != nil {
			t.Fatal(err)
		}
	}

	// Full while appending within the active segment: the half-written
	// batch is cut off.
	before, end := fileSizes(t, dir), l.EndOffset()
	d.ops = map[faultOp]bool{faultAppend: true}
	d.full.Store(true)
	for range 3 {
		err := appendSync("refused")
		if !errors.Is(err, ErrNoSpace) || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("append on a full disk: %v, want ErrNoSpace", err)
		}
	}
	if got := fileSizes(t, dir); !equalSizes(got, before) {
		t.Fatalf("segment files changed on a refused append: %v, were %v", got, before)
	}
	if l.EndOffset() != end {
		t.Fatalf("end offset moved to %d from %d", l.EndOffset(), end)
	}

	// Full when a segment must be rolled: no new segment is left behind.
	d.ops = map[faultOp]bool{faultAppend: true, faultCreate: true}
	for l.Segments() == 1 {
		d.full.Store(false)
		if err := appendSync("fill"); err != nil {
			t.Fatal(err)
		}
	}
	for l.Options().SegmentBytes-l.active().size > 500 {
		if err := appendSync("fill"); err != nil {
			t.Fatal(err)
		}
	}
	segs := l.Segments()
	d.full.Store(true)
	if err := appendSync("refused"); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("append needing a roll on a full disk: %v", err)
	}
	if l.Segments() != segs {
		t.Fatalf("%d segments after a refused roll, were %d", l.Segments(), segs)
	}

	// Space freed: appends continue at the next offset.
	d.full.Store(false)
	next := l.EndOffset()
	if err := appendSync("after"); err != nil {
		t.Fatal(err)
	}
	if acked[len(acked)-1] != next {
		t.Fatalf("append after space was freed got offset %d, want %d", acked[len(acked)-1], next)
	}
	if d.fails.Load() != 4 {
		t.Fatalf("the hook failed %d writes", d.fails.Load())
	}

	// Crash (no Close) and recover: every acknowledged batch is there,
	// whole and in order.
	l.Drop()
	l2 := openLog(t, dir, opts, false, 0)
	defer l2.Close()
	got := readAll(t, l2, 0)
	if len(got) != len(acked) {
		t.Fatalf("%d batches after recovery, %d were acknowledged", len(got), len(acked))
	}
	for i, h := range got {
		if h.BaseOffset != acked[i] {
			t.Fatalf("batch %d at offset %d, acknowledged at %d", i, h.BaseOffset, acked[i])
		}
	}
}

func equalSizes(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// When only the index and snapshot files cannot be written, the data is
// still durable and acknowledged; the files follow once there is space.
func TestDiskFullForIndexesKeepsData(t *testing.T) {
	dir := t.TempDir()
	d := &diskFull{ops: map[faultOp]bool{faultMeta: true}}
	opts := Options{SegmentBytes: 2048}
	l := openFaulty(t, dir, opts, d)
	d.full.Store(true)
	var last AppendResult
	for l.Segments() < 3 {
		last = mustAppend(t, l, makeBatch(batchSpec{n: 2, valueLen: 100}))
		if err := l.Sync(last.LastOffset + 1); err != nil {
			t.Fatalf("sync with a full disk for index files: %v", err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.index")); len(m) != 0 {
		t.Fatalf("index files written on a full disk: %v", m)
	}
	if l.RecoveryPoint() != last.LastOffset+1 {
		t.Fatalf("recovery point %d, want %d", l.RecoveryPoint(), last.LastOffset+1)
	}
	d.full.Store(false)
	if err := l.FlushIfDue(time.Now()); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.index")); len(m) != 2 {
		t.Fatalf("index files once space is back: %v", m)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.snapshot")); len(m) == 0 {
		t.Fatal("no producer snapshot once space is back")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, opts, true, 0)
	defer l.Close()
	if n := len(readAll(t, l, 0)); l.EndOffset() != last.LastOffset+1 || n == 0 {
		t.Fatalf("end %d with %d batches after reopening", l.EndOffset(), n)
	}
}
