package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDeleteRecordsMovesLogStart(t *testing.T) {
	dir := t.TempDir()
	opts := DefaultOptions()
	opts.SegmentBytes = 300 // a few batches per segment
	opts.RetentionTime, opts.RetentionBytes = -1, -1
	l := openLog(t, dir, opts, true, 0)
	for i := range 10 {
		mustAppend(t, l, makeBatch(batchSpec{n: 2, ts: int64(1000 + i), valueLen: 40, pid: 7, epoch: 1, seq: int32(2 * i)}))
	}
	if l.EndOffset() != 20 || l.Segments() < 3 {
		t.Fatalf("end %d, %d segments", l.EndOffset(), l.Segments())
	}
	segsBefore := l.Segments()
	if _, err := l.DeleteRecords(21); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("beyond the end: %v", err)
	}
	start, err := l.DeleteRecords(13)
	if err != nil || start != 13 || l.StartOffset() != 13 {
		t.Fatalf("delete to 13: start %d (%d), %v", start, l.StartOffset(), err)
	}
	if l.Segments() >= segsBefore {
		t.Fatalf("no whole segment removed: %d segments, %d before", l.Segments(), segsBefore)
	}
	if _, err := l.Read(nil, 12, 1<<20, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below the start: %v", err)
	}
	hs := readAll(t, l, 13)
	if len(hs) == 0 || hs[0].BaseOffset != 12 || hs[len(hs)-1].LastOffset() != 19 {
		t.Fatalf("read from 13: %+v", hs)
	}
	// Lower offsets change nothing.
	if start, err := l.DeleteRecords(5); err != nil || start != 13 {
		t.Fatalf("delete to 5: %d %v", start, err)
	}
	// The producer's last batch is above the start: it is still known.
	ps := l.Producers()
	if len(ps) != 1 || ps[0].ProducerID != 7 || ps[0].Epoch != 1 || ps[0].LastSequence != 19 || ps[0].LastOffset != 19 || ps[0].LastTimestamp != 1010 {
		t.Fatalf("producers: %+v", ps)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, clean := range []bool{true, false} {
		l = openLog(t, dir, opts, clean, 0)
		if l.StartOffset() != 13 || l.EndOffset() != 20 {
			t.Fatalf("reopened (clean %v): start %d end %d", clean, l.StartOffset(), l.EndOffset())
		}
		if _, err := l.Read(nil, 12, 1<<20, true); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Fatalf("reopened: read below the start: %v", err)
		}
		l.Close()
	}
	// Up to the end: the log is empty, the active segment stays, and new
	// records follow on.
	l = openLog(t, dir, opts, true, 0)
	if start, err := l.DeleteRecords(20); err != nil || start != 20 {
		t.Fatalf("delete to the end: %d %v", start, err)
	}
	if len(l.Producers()) != 0 {
		t.Fatalf("producers below the start kept: %+v", l.Producers())
	}
	if res := mustAppend(t, l, makeBatch(batchSpec{n: 1, ts: 5})); res.BaseOffset != 20 || res.LogStartOffset != 20 {
		t.Fatalf("append after: %+v", res)
	}
	l.Close()
	data, err := os.ReadFile(filepath.Join(dir, logStartFile))
	if err != nil || string(data) != "20\n" {
		t.Fatalf("%s: %q %v", logStartFile, data, err)
	}
}

// Retention never moves the log start back below what DeleteRecords set.
func TestRetentionKeepsDeletedLogStart(t *testing.T) {
	dir := t.TempDir()
	opts := DefaultOptions()
	opts.SegmentBytes = 300
	opts.RetentionTime, opts.RetentionBytes = -1, -1
	l := openLog(t, dir, opts, true, 0)
	defer l.Close()
	for i := range 6 {
		mustAppend(t, l, makeBatch(batchSpec{n: 2, ts: int64(i), valueLen: 40}))
	}
	if _, err := l.DeleteRecords(11); err != nil {
		t.Fatal(err)
	}
	opts.RetentionBytes = 1
	l.SetOptions(opts)
	if _, err := l.Retain(timeZero); err != nil {
		t.Fatal(err)
	}
	if l.StartOffset() != 11 {
		t.Fatalf("start %d after retention", l.StartOffset())
	}
}
