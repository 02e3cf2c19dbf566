package storage

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CheckpointIndex writes the active segment's index up to the recovery
// point and a producer snapshot at the log end, only when something was
// appended since the last time, and recovery after a crash resumes there.
func TestCheckpointIndex(t *testing.T) {
	dir := t.TempDir()
	var writes atomic.Int64
	opts := Options{IndexIntervalBytes: 300}
	l, err := Open(Config{Dir: dir, Options: opts, fault: func(op faultOp, _ string, _ int) (int, error) {
		if op == faultMeta {
			writes.Add(1)
		}
		return 0, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	appendN := func(n int) {
		for range n {
			res := mustAppend(t, l, makeBatch(batchSpec{n: 2, valueLen: 100, ts: time.Now().UnixMilli()}))
			if err := l.Sync(res.LastOffset + 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendN(20)
	mustAppend(t, l, makeBatch(batchSpec{n: 2, valueLen: 100})) // appended, not yet flushed
	if err := l.CheckpointIndex(); err != nil {
		t.Fatal(err)
	}
	if got := writes.Load(); got != 3 {
		t.Fatalf("%d files written by the checkpoint, want index, time index and snapshot", got)
	}
	data, err := os.ReadFile(filepath.Join(dir, segmentName(0, indexSuffix)))
	if err != nil || len(data) == 0 || len(data)%indexEntrySize != 0 {
		t.Fatalf("index file: %d bytes, %v", len(data), err)
	}
	if last := int64(binary.BigEndian.Uint32(data[len(data)-8:])); last >= l.RecoveryPoint() {
		t.Fatalf("index entry for offset %d, at or above the recovery point %d", last, l.RecoveryPoint())
	}
	if _, err := os.Stat(filepath.Join(dir, segmentName(l.EndOffset(), snapshotSuffix))); err != nil {
		t.Fatalf("no producer snapshot at the log end: %v", err)
	}

	if err := l.CheckpointIndex(); err != nil {
		t.Fatal(err)
	}
	if got := writes.Load(); got != 3 {
		t.Fatalf("a checkpoint with nothing new wrote %d files", got-3)
	}
	appendN(5)
	if err := l.CheckpointIndex(); err != nil {
		t.Fatal(err)
	}
	if got := writes.Load(); got != 6 {
		t.Fatalf("a checkpoint after appends wrote %d files, want 3", got-3)
	}

	rp, end := l.RecoveryPoint(), l.EndOffset()
	appendN(3)
	end += 6
	l.Drop()
	l = openLog(t, dir, opts, false, rp)
	defer l.Close()
	if l.EndOffset() != end {
		t.Fatalf("end %d after recovery, want %d", l.EndOffset(), end)
	}
	if n := len(readAll(t, l, 0)); n != 29 {
		t.Fatalf("%d batches after recovery, want 29", n)
	}
	if res := mustAppend(t, l, makeBatch(batchSpec{n: 1})); res.BaseOffset != end {
		t.Fatalf("append after recovery at %d, want %d", res.BaseOffset, end)
	}
}
