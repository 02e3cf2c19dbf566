package storage

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkAppendCompacted is BenchmarkAppend on a compacted log, where
// each batch's records are decoded to check their keys.
func BenchmarkAppendCompacted(b *testing.B) {
	o := DefaultOptions()
	o.Compact = true
	benchAppend(b, o)
}

// BenchmarkClean cleans a log of 20,000 records over 1,000 keys, in
// 1 MiB segments; each iteration cleans a fresh copy of it.
func BenchmarkClean(b *testing.B) {
	o := DefaultOptions()
	o.Compact, o.Delete = true, false
	o.SegmentBytes = 1 << 20
	ts := time.Now().UnixMilli()
	var batches [][]byte
	for i := 0; i < 20000; i += 50 {
		var recs []kv
		for j := i; j < i+50; j++ {
			recs = append(recs, rec(fmt.Sprintf("key%d", j%1000), fmt.Sprintf("%0200d", j)))
		}
		batches = append(batches, keyedBatch(b, ts, 0, -1, 0, false, recs...))
	}
	var size int64
	for _, bt := range batches {
		size += int64(len(bt))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		l := openLog(b, b.TempDir(), o, true, 0)
		for _, bt := range batches {
			mustAppend(b, l, append([]byte(nil), bt...))
		}
		o2 := o
		o2.SegmentBytes = 1
		l.SetOptions(o2)
		mustAppend(b, l, keyedBatch(b, ts, 0, -1, 0, false, rec("end", "end")))
		if err := l.Flush(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := l.Clean(context.Background(), time.Now(), true); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		l.Close()
		b.StartTimer()
	}
}
