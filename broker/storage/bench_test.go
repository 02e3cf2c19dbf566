package storage

import (
	"testing"
	"time"
)

// benchBatch is 80 records of 200 bytes, about what a producer batches
// at 16 KiB.
func benchBatch() []byte {
	return makeBatch(batchSpec{n: 80, ts: time.Now().UnixMilli(), valueLen: 200})
}

func BenchmarkAppend(b *testing.B) { benchAppend(b, Options{}) }

// benchAppend appends benchBatch to a log of options o, one batch an
// iteration.
func benchAppend(b *testing.B, o Options) {
	l := openLog(b, b.TempDir(), o, false, 0)
	defer l.Close()
	batch := benchBatch()
	now := time.Now()
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Append(batch, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendSync appends and waits for the fsync, as acks=all does,
// from several goroutines at once: fsyncs are shared.
func BenchmarkAppendSync(b *testing.B) {
	l := openLog(b, b.TempDir(), Options{}, false, 0)
	defer l.Close()
	size := len(benchBatch())
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		batch := benchBatch()
		now := time.Now()
		for pb.Next() {
			res, err := l.Append(batch, now)
			if err != nil {
				b.Error(err)
				return
			}
			if err := l.Sync(res.LastOffset + 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRead reads the log from the start in 1 MiB fetches into one
// reused buffer, as a catching-up consumer does.
func BenchmarkRead(b *testing.B) {
	l := openLog(b, b.TempDir(), Options{SegmentBytes: 64 << 20}, false, 0)
	defer l.Close()
	batch := benchBatch()
	for range 8192 { // 128 MiB
		if _, err := l.Append(batch, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	end := l.EndOffset()
	buf := make([]byte, 1<<20+readScanSlack)
	var off int64
	b.ReportAllocs()
	var total int64
	for b.Loop() {
		if off >= end {
			off = 0
		}
		res, err := l.Read(buf, off, 1<<20, true)
		if err != nil {
			b.Fatal(err)
		}
		total += int64(len(res.Records))
		h, _ := ParseHeader(res.Records[len(res.Records)-int(len(batch)):])
		off = h.LastOffset() + 1
	}
	b.SetBytes(total / int64(b.N))
}

// BenchmarkReadTail reads the newest batch, as a tailing consumer does.
func BenchmarkReadTail(b *testing.B) {
	l := openLog(b, b.TempDir(), Options{}, false, 0)
	defer l.Close()
	batch := benchBatch()
	for range 4096 {
		if _, err := l.Append(batch, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	buf := make([]byte, 1<<20+readScanSlack)
	off := l.EndOffset() - 1
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := l.Read(buf, off, 1<<20, true)
		if err != nil || len(res.Records) != len(batch) {
			b.Fatal(len(res.Records), err)
		}
	}
}

// BenchmarkReadCommitted reads as a read_committed consumer does: below
// the last stable offset, with the aborted transactions of the range,
// over a log where every tenth batch is an aborted transaction.
func BenchmarkReadCommitted(b *testing.B) {
	l := openLog(b, b.TempDir(), Options{SegmentBytes: 64 << 20}, false, 0)
	defer l.Close()
	batch := benchBatch()
	now := time.Now()
	for i := range 4096 {
		if i%10 == 0 {
			pid := int64(i) + 1
			if _, err := l.Append(txnBatch(batchSpec{n: 80, ts: now.UnixMilli(), valueLen: 200, pid: pid, epoch: 0, seq: 0}), now); err != nil {
				b.Fatal(err)
			}
			if _, err := l.AppendControl(pid, 0, false, 0, now); err != nil {
				b.Fatal(err)
			}
			continue
		}
		if _, err := l.Append(batch, now); err != nil {
			b.Fatal(err)
		}
	}
	end := l.LastStableOffset()
	buf := make([]byte, 1<<20+readScanSlack)
	var off, total int64
	b.ReportAllocs()
	for b.Loop() {
		if off >= end {
			off = 0
		}
		res, err := l.ReadCommitted(buf, off, 1<<20, true)
		if err != nil {
			b.Fatal(err)
		}
		total += int64(len(res.Records))
		if len(l.AbortedTransactions(off, res.NextOffset)) == 0 {
			b.Fatal("no aborted transactions in the range")
		}
		off = res.NextOffset
	}
	b.SetBytes(total / int64(b.N))
}
