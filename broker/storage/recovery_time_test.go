package storage

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var long = flag.Bool("long", false, "run the long variants of the storage tests (1 GiB recovery)")

// buildLog appends 16 KiB batches up to size bytes (so that a size of
// segment.bytes fills one segment) and returns the log end offset. The log
// is left open.
func buildLog(tb testing.TB, l *Log, size int64) int64 {
	tb.Helper()
	batch := benchBatch()
	now := time.Now()
	for written := int64(len(batch)); written <= size; written += int64(len(batch)) {
		if _, err := l.Append(batch, now); err != nil {
			tb.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		tb.Fatal(err)
	}
	return l.EndOffset()
}

// TestRecoveryTime1GiB measures how long a partition with a 1 GiB log (in
// one segment, as segment.bytes defaults to 1 GiB) takes to open after a
// crash: with the recovery point and the index checkpointed at the log end
// (the broker does both every log.flush.offset.checkpoint.interval.ms),
// with the recovery point but no index file (the whole segment holding it
// is validated, as Kafka does), and with no recovery point. It runs with
// -long:
//
//	go test ./broker/storage -run RecoveryTime1GiB -long -v
func TestRecoveryTime1GiB(t *testing.T) {
	if !*long {
		t.Skip("run with -long")
	}
	dir := t.TempDir()
	l := openLog(t, dir, Options{}, false, 0)
	start := time.Now()
	end := buildLog(t, l, 1<<30-16<<20)
	if err := l.CheckpointIndex(); err != nil {
		t.Fatal(err)
	}
	// A crash some time after the checkpoint: more data, no index for it.
	more := buildLog(t, l, 16<<20) - end
	end += more
	size := l.Size()
	if l.Segments() != 1 {
		t.Fatalf("%d segments", l.Segments())
	}
	t.Logf("wrote %d MiB (%d records) in %v", size>>20, end, time.Since(start))
	l.Drop()
	index, _ := os.ReadFile(filepath.Join(dir, segmentName(0, indexSuffix)))

	for _, c := range []struct {
		name    string
		rp      int64
		noIndex bool
	}{
		{"recovery point and index checkpointed 16 MiB before the end", end - more, false},
		{"recovery point 16 MiB before the end, no index file", end - more, true},
		{"no recovery point", 0, true},
	} {
		if c.noIndex {
			os.Remove(filepath.Join(dir, segmentName(0, indexSuffix)))
		} else if err := os.WriteFile(filepath.Join(dir, segmentName(0, indexSuffix)), index, 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		l := openLog(t, dir, Options{}, false, c.rp)
		took := time.Since(start)
		if l.EndOffset() != end || l.Size() != size {
			t.Fatalf("%s: recovered end %d size %d, want %d and %d", c.name, l.EndOffset(), l.Size(), end, size)
		}
		if got := readAll(t, l, end-more-1); len(got) == 0 {
			t.Fatalf("%s: nothing read back", c.name)
		}
		t.Logf("%s: opened in %v", c.name, took)
		l.Drop()
	}
}

// BenchmarkRecover opens a 64 MiB log (one segment) after a crash, its
// recovery point 1 MiB before the end: with the index checkpointed there
// (only the last MiB is validated) and without (the whole segment is).
func BenchmarkRecover(b *testing.B) {
	for _, checkpointed := range []bool{true, false} {
		b.Run(fmt.Sprintf("checkpointed=%v", checkpointed), func(b *testing.B) {
			dir := b.TempDir()
			l := openLog(b, dir, Options{}, false, 0)
			rp := buildLog(b, l, 63<<20)
			if checkpointed {
				if err := l.CheckpointIndex(); err != nil {
					b.Fatal(err)
				}
			}
			end := buildLog(b, l, 1<<20)
			size := l.Size()
			l.Drop()
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				l := openLog(b, dir, Options{}, false, rp)
				if l.EndOffset() != end {
					b.Fatalf("end %d, want %d", l.EndOffset(), end)
				}
				l.Drop()
			}
		})
	}
}
