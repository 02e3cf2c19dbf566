package broker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestCleanRestartKeepsDataAndMetadata(t *testing.T) {
	tb := startBroker(t)
	retention := "3600000"
	createTopic(t, tb.addr, "kept", 2, map[string]*string{"retention.ms": &retention})
	cl := newClient(t, tb.addr, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	var values []string
	for i := range 200 {
		values = append(values, "v"+strconv.Itoa(i))
	}
	produceSync(t, cl, "kept", values...)
	cl.Close()
	adm := newAdmin(t, tb.addr)
	before, err := adm.ListTopics(testCtx(t, 10*time.Second), "kept")
	if err != nil {
		t.Fatal(err)
	}

	tb.restart()
	if _, err := os.Stat(filepath.Join(tb.dir, cleanShutdownFile)); err == nil {
		t.Fatal("clean-shutdown marker left while running")
	}
	adm = newAdmin(t, tb.addr)
	after, err := adm.ListTopics(testCtx(t, 10*time.Second), "kept")
	if err != nil {
		t.Fatal(err)
	}
	b, a := before["kept"], after["kept"]
	if a.ID != b.ID || len(a.Partitions) != 2 {
		t.Fatalf("topic after restart: id %v (was %v), %d partitions", a.ID, b.ID, len(a.Partitions))
	}
	rc, err := adm.DescribeTopicConfigs(testCtx(t, 10*time.Second), "kept")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := rc.On("kept", nil); err != nil {
		t.Fatal(err)
	} else {
		found := false
		for _, kv := range c.Configs {
			if kv.Key == "retention.ms" {
				found = kv.MaybeValue() == "3600000" && kv.Source == kmsg.ConfigSourceDynamicTopicConfig
			}
		}
		if !found {
			t.Fatal("retention.ms override lost in the restart")
		}
	}
	if recs := consumeN(t, tb.addr, "kept", 200); len(recs) != 200 {
		t.Fatalf("%d records after restart", len(recs))
	}
	// Producing continues at the right offsets.
	cl = newClient(t, tb.addr)
	r := produceSync(t, cl, "kept", "after")[0]
	if r.Offset != 100 {
		t.Fatalf("first record after restart at offset %d, want 100", r.Offset)
	}
}

// TestTornTailAfterCrash simulates a crash that tore the last batch: the
// broker is closed, the clean-shutdown marker removed (as if it never
// stopped cleanly) and the segment's end cut in the middle of a batch.
func TestTornTailAfterCrash(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "torn", 1, nil)
	cl := newClient(t, tb.addr, kgo.ProducerLinger(0), kgo.MaxBufferedRecords(1))
	for i := range 10 {
		produceSync(t, cl, "torn", "r"+strconv.Itoa(i))
	}
	cl.Close()
	tb.stop()
	os.Remove(filepath.Join(tb.dir, cleanShutdownFile))
	os.Remove(filepath.Join(tb.dir, checkpointFile))
	seg := filepath.Join(tb.dir, "torn-0", "00000000000000000000.log")
	fi, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	// Each record went alone in its batch: cut 5 bytes off the last one.
	if err := os.Truncate(seg, fi.Size()-5); err != nil {
		t.Fatal(err)
	}
	tb.start()
	ends, err := newAdmin(t, tb.addr).ListEndOffsets(testCtx(t, 10*time.Second), "torn")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("torn", 0); o.Offset != 9 {
		t.Fatalf("end offset %d after truncating the torn batch, want 9", o.Offset)
	}
	recs := consumeN(t, tb.addr, "torn", 9)
	if valuesOf(recs) != "r0,r1,r2,r3,r4,r5,r6,r7,r8" {
		t.Fatalf("served %s", valuesOf(recs))
	}
	// The torn bytes are gone, and the next record takes offset 9.
	cl = newClient(t, tb.addr)
	if r := produceSync(t, cl, "torn", "r9-again")[0]; r.Offset != 9 {
		t.Fatalf("next record at %d", r.Offset)
	}
}

func TestRetentionDeletesOldSegments(t *testing.T) {
	tb := startBroker(t, "log.retention.check.interval.ms=50")
	segBytes, retention := "1000", "200"
	createTopic(t, tb.addr, "short", 1, map[string]*string{"segment.bytes": &segBytes, "retention.ms": &retention})
	cl := newClient(t, tb.addr, kgo.ProducerLinger(0))
	old := time.Now().Add(-time.Hour)
	var recs []*kgo.Record
	for range 50 {
		recs = append(recs, &kgo.Record{Topic: "short", Value: make([]byte, 100), Timestamp: old})
	}
	for _, r := range recs {
		if err := cl.ProduceSync(testCtx(t, 10*time.Second), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := newAdmin(t, tb.addr)
	deadline := time.Now().Add(20 * time.Second)
	var start int64
	for {
		starts, err := adm.ListStartOffsets(testCtx(t, 5*time.Second), "short")
		if err != nil {
			t.Fatal(err)
		}
		o, _ := starts.Lookup("short", 0)
		// The start offset moves first; the files go right after it.
		segs, _ := filepath.Glob(filepath.Join(tb.dir, "short-0", "*.log"))
		if start = o.Offset; start == 50 && len(segs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log start offset %d and %d segment files, want 50 and 1 once every old segment is deleted", start, len(segs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A fetch below the start offset is OFFSET_OUT_OF_RANGE.
	c := dialRaw(t, tb.addr)
	f := kmsg.NewPtrFetchRequest()
	f.Version = 11
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "short"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.FetchOffset, fp.PartitionMaxBytes = 3, 1<<20
	ft.Partitions = append(ft.Partitions, fp)
	f.Topics = append(f.Topics, ft)
	fr := c.roundTrip(f).(*kmsg.FetchResponse)
	p := fr.Topics[0].Partitions[0]
	if p.ErrorCode != kerr.OffsetOutOfRange.Code || p.LogStartOffset != 50 || p.HighWatermark != 50 {
		t.Fatalf("fetch below start: %s start %d hw %d", errName(p.ErrorCode), p.LogStartOffset, p.HighWatermark)
	}
	// New records still go in at the end.
	if r := produceSync(t, cl, "short", "new")[0]; r.Offset != 50 {
		t.Fatalf("new record at %d", r.Offset)
	}
}

func TestIdempotentProducerOverTheWire(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "idem", 1, nil)
	c := dialRaw(t, tb.addr)
	ip := kmsg.NewPtrInitProducerIDRequest()
	ip.Version = 4
	ipr := c.roundTrip(ip).(*kmsg.InitProducerIDResponse)
	if ipr.ErrorCode != 0 || ipr.ProducerID < 0 || ipr.ProducerEpoch != 0 {
		t.Fatalf("init producer id: %+v", ipr)
	}
	pid := ipr.ProducerID
	send := func(seq int32, n int, epoch int16) kmsg.ProduceResponseTopicPartition {
		t.Helper()
		return producePartition(t, c.roundTrip(produceRequest(9, -1, "idem", 0, testBatch(n, pid, epoch, seq, 10))))
	}
	var offs []int64
	for i := range 6 {
		p := send(int32(i*2), 2, 0)
		if p.ErrorCode != 0 {
			t.Fatalf("batch %d: %s", i, errName(p.ErrorCode))
		}
		offs = append(offs, p.BaseOffset)
	}
	// An exact retry of one of the last five: its original offset, and
	// nothing written.
	if p := send(4, 2, 0); p.ErrorCode != 0 || p.BaseOffset != offs[2] {
		t.Fatalf("retry: %s at %d, want %d", errName(p.ErrorCode), p.BaseOffset, offs[2])
	}
	if p := send(14, 1, 0); p.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("gap: %s", errName(p.ErrorCode))
	}
	if p := send(0, 1, 1); p.ErrorCode != 0 {
		t.Fatalf("new epoch: %s", errName(p.ErrorCode))
	}
	if p := send(12, 1, 0); p.ErrorCode != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("old epoch: %s", errName(p.ErrorCode))
	}
	ends, _ := newAdmin(t, tb.addr).ListEndOffsets(testCtx(t, 10*time.Second), "idem")
	if o, _ := ends.Lookup("idem", 0); o.Offset != 13 {
		t.Fatalf("end offset %d, want 13 (no duplicate written)", o.Offset)
	}

	// The state survives a restart, and producer ids are never reused.
	tb.restart()
	c = dialRaw(t, tb.addr)
	if p := send(0, 1, 1); p.ErrorCode != 0 || p.BaseOffset != 12 {
		t.Fatalf("retry after restart: %s at %d", errName(p.ErrorCode), p.BaseOffset)
	}
	if p := send(2, 1, 1); p.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("gap after restart: %s", errName(p.ErrorCode))
	}
	ipr = c.roundTrip(ip).(*kmsg.InitProducerIDResponse)
	if ipr.ProducerID <= pid {
		t.Fatalf("producer id %d handed out again after restart (was %d)", ipr.ProducerID, pid)
	}
}

func TestFetchLongPollWakesOnAppend(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "poll", 1, nil)
	c := dialRaw(t, tb.addr)
	fetch := func(offset int64, wait time.Duration, minBytes int32) kmsg.FetchResponseTopicPartition {
		f := kmsg.NewPtrFetchRequest()
		f.Version, f.MaxWaitMillis, f.MinBytes, f.MaxBytes = 12, int32(wait/time.Millisecond), minBytes, 1<<20
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic = "poll"
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.FetchOffset, fp.PartitionMaxBytes = offset, 1<<20
		ft.Partitions = append(ft.Partitions, fp)
		f.Topics = append(f.Topics, ft)
		resp := c.roundTrip(f).(*kmsg.FetchResponse)
		if resp.SessionID != 0 {
			t.Fatalf("session %d granted", resp.SessionID)
		}
		return resp.Topics[0].Partitions[0]
	}
	// Nothing there: the fetch waits its full max wait.
	start := time.Now()
	if p := fetch(0, 300*time.Millisecond, 1); len(p.RecordBatches) != 0 || p.HighWatermark != 0 || p.LogStartOffset != 0 {
		t.Fatalf("empty partition: %+v", p)
	} else if p.RecordBatches == nil {
		t.Fatal("no records encoded as a null record set; librdkafka refuses it")
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("empty fetch returned after %v, before its max wait", d)
	}
	// A waiting fetch returns as soon as a record is appended.
	prod := newClient(t, tb.addr)
	_, part := tb.b.partition("poll", 0)
	go func() {
		for part.nwait.Load() == 0 { // until the fetch waits
			runtime.Gosched()
		}
		if err := prod.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Topic: "poll", Value: []byte("wake")}).FirstErr(); err != nil {
			t.Error(err)
		}
	}()
	start = time.Now()
	p := fetch(0, 20*time.Second, 1)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("fetch woke after %v", d)
	}
	if len(p.RecordBatches) == 0 || p.HighWatermark != 1 {
		t.Fatalf("woken fetch: %+v", p)
	}

	// A fetch in the middle of a batch returns the whole batch.
	cl := newClient(t, tb.addr, kgo.ProducerLinger(50*time.Millisecond))
	produceSync(t, cl, "poll", "a", "b", "c", "d")
	p = fetch(3, 0, 0)
	var batch kmsg.RecordBatch
	if err := batch.ReadFrom(p.RecordBatches); err != nil {
		t.Fatal(err)
	}
	if batch.FirstOffset != 1 || batch.NumRecords != 4 {
		t.Fatalf("fetch at 3 returned batch at %d with %d records", batch.FirstOffset, batch.NumRecords)
	}
	// min.bytes larger than what exists: waits, then returns what there is.
	start = time.Now()
	p = fetch(0, 200*time.Millisecond, 1<<20)
	if time.Since(start) < 150*time.Millisecond || len(p.RecordBatches) == 0 {
		t.Fatalf("min.bytes fetch: %v, %d bytes", time.Since(start), len(p.RecordBatches))
	}
	// Partition max bytes below a batch: the one batch comes anyway.
	f := kmsg.NewPtrFetchRequest()
	f.Version, f.MaxBytes = 12, 1
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "poll"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.FetchOffset, fp.PartitionMaxBytes = 1, 1
	ft.Partitions = append(ft.Partitions, fp)
	f.Topics = append(f.Topics, ft)
	rp := c.roundTrip(f).(*kmsg.FetchResponse).Topics[0].Partitions[0]
	if n := int(binary.BigEndian.Uint32(rp.RecordBatches[8:])) + 12; n != len(rp.RecordBatches) {
		t.Fatalf("tiny max bytes: %d bytes returned, the batch is %d", len(rp.RecordBatches), n)
	}
}

// mountTmpfs mounts a tmpfs of the given size on a new folder, or skips
// the test where that is not allowed (it needs root on Linux).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if runtime.GOOS != "linux" {
		t.Skip("needs a Linux tmpfs")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the disk is full and returns its
// path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for len(chunk) > 1 { // the last bytes too
		if _, err := f.Write(chunk); err != nil {
			chunk = chunk[:len(chunk)/2]
		}
	}
	return path
}

// TestDiskFull runs the broker on a small tmpfs and fills it: a produce
// gets KAFKA_STORAGE_ERROR and leaves no trace, what was acknowledged
// before stays, producing resumes once space is freed, and the log is
// whole after a restart that re-validates it.
func TestDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "8m")
	tb := startBrokerIn(t, dir)
	createTopic(t, tb.addr, "full", 1, nil)
	c := dialRaw(t, tb.addr)
	var acked []int64
	produce := func() kmsg.ProduceResponseTopicPartition {
		t.Helper()
		p := producePartition(t, c.roundTrip(produceRequest(9, -1, "full", 0, testBatch(20, -1, 0, 0, 200))))
		if p.ErrorCode == 0 {
			acked = append(acked, p.BaseOffset)
		}
		return p
	}
	for range 10 {
		if p := produce(); p.ErrorCode != 0 {
			t.Fatalf("produce: %s", errName(p.ErrorCode))
		}
	}
	seg := filepath.Join(dir, "full-0", "00000000000000000000.log")
	filler := fillDisk(t, dir)
	before, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		p := produce()
		if p.ErrorCode != kerr.KafkaStorageError.Code || p.ErrorMessage == nil || !strings.Contains(*p.ErrorMessage, "no space left on device") {
			msg := ""
			if p.ErrorMessage != nil {
				msg = *p.ErrorMessage
			}
			t.Fatalf("produce on a full disk: %s %q, want KAFKA_STORAGE_ERROR saying the disk is full", errName(p.ErrorCode), msg)
		}
	}
	if after, _ := os.Stat(seg); after.Size() != before.Size() {
		t.Fatalf("segment went from %d to %d bytes on refused produces", before.Size(), after.Size())
	}
	// Reads go on while the disk is full.
	if recs := consumeN(t, tb.addr, "full", len(acked)*20); len(recs) != len(acked)*20 {
		t.Fatalf("consumed %d records on a full disk", len(recs))
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	next := acked[len(acked)-1] + 20
	if p := produce(); p.ErrorCode != 0 || p.BaseOffset != next {
		t.Fatalf("produce once space is freed: %s at %d, want offset %d", errName(p.ErrorCode), p.BaseOffset, next)
	}

	// Restart as after a crash: no clean-shutdown marker, no checkpoint,
	// so the whole log is validated.
	tb.stop()
	os.Remove(filepath.Join(dir, cleanShutdownFile))
	os.Remove(filepath.Join(dir, checkpointFile))
	tb.start()
	recs := consumeN(t, tb.addr, "full", len(acked)*20)
	for i, off := range acked {
		if r := recs[i*20]; r.Offset != off {
			t.Fatalf("batch %d at offset %d after restart, acknowledged at %d", i, r.Offset, off)
		}
	}
	ends, err := newAdmin(t, tb.addr).ListEndOffsets(testCtx(t, 10*time.Second), "full")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("full", 0); o.Offset != next+20 {
		t.Fatalf("end offset %d after restart, want %d", o.Offset, next+20)
	}
}

// copyDir copies a folder's regular files and subfolders: taken from a
// running broker, it is what a crash at that moment would leave (every
// write the broker made is in it, whole; nothing closed cleanly).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// After a crash, recovery starts at the recovery point checkpoint, using
// the index the broker wrote with it, and finds every record, including
// those appended after the checkpoint and a torn batch at the end.
func TestCrashRecoveryFromCheckpoint(t *testing.T) {
	// Every produce is fsynced, so the recovery point follows the end.
	tb := startBroker(t, "log.flush.offset.checkpoint.interval.ms=50", "log.flush.interval.messages=1")
	createTopic(t, tb.addr, "ckpt", 1, nil)
	c := dialRaw(t, tb.addr)
	produce := func(n int) {
		t.Helper()
		for range n {
			if p := producePartition(t, c.roundTrip(produceRequest(9, -1, "ckpt", 0, testBatch(10, -1, 0, 0, 100)))); p.ErrorCode != 0 {
				t.Fatalf("produce: %s", errName(p.ErrorCode))
			}
		}
	}
	produce(100) // about 12 index entries
	index := filepath.Join(tb.dir, "ckpt-0", "00000000000000000000.index")
	deadline := time.Now().Add(20 * time.Second)
	for {
		cp := readCheckpoint(tb.dir)
		if fi, err := os.Stat(index); err == nil && fi.Size() > 0 && cp["ckpt 0"] == 1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of the index and recovery point 1000: %v", cp)
		}
		time.Sleep(10 * time.Millisecond)
	}
	produce(20) // after the checkpoint
	crashed := t.TempDir()
	copyDir(t, tb.dir, crashed)
	seg := filepath.Join(crashed, "ckpt-0", "00000000000000000000.log")
	fi, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(seg, fi.Size()-7); err != nil { // tear the last batch
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(crashed, cleanShutdownFile)); err == nil {
		t.Fatal("clean-shutdown marker in a running broker's folder")
	}

	tb2 := startBrokerIn(t, crashed)
	recs := consumeN(t, tb2.addr, "ckpt", 1190)
	for i, r := range recs {
		if r.Offset != int64(i) {
			t.Fatalf("record %d at offset %d", i, r.Offset)
		}
	}
	ends, err := newAdmin(t, tb2.addr).ListEndOffsets(testCtx(t, 10*time.Second), "ckpt")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("ckpt", 0); o.Offset != 1190 {
		t.Fatalf("end offset %d after recovery, want 1190 (the torn batch cut)", o.Offset)
	}
	c = dialRaw(t, tb2.addr)
	if p := producePartition(t, c.roundTrip(produceRequest(9, -1, "ckpt", 0, testBatch(10, -1, 0, 0, 100)))); p.ErrorCode != 0 || p.BaseOffset != 1190 {
		t.Fatalf("produce after recovery: %s at %d", errName(p.ErrorCode), p.BaseOffset)
	}
}
