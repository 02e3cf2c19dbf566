package group

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func sampleRecords() []record {
	return []record{
		{kind: kindCommit, group: "g", topic: "t", partition: 3, offset: 42, leaderEpoch: 7, metadata: "m", commitTime: 1700000000000, expireTime: -1},
		{kind: kindCommit, group: "", topic: "t", partition: 0, offset: -1, leaderEpoch: -1, metadata: string(make([]byte, 70000)), commitTime: 1, expireTime: 2},
		{kind: kindDeleteOffset, group: "g", topic: "t", partition: 3},
		{kind: kindDeleteGroup, group: "g"},
		{kind: kindDeleteTopic, topic: "t"},
		{kind: kindGroupMeta, group: "g", protocolType: "consumer", protocol: "range", generation: 9, empty: true, time: 5},
	}
}

func encodeLog(recs []record) []byte {
	b := logMagic[:]
	b = bytes.Clone(b)
	for i := range recs {
		b = appendRecord(b, &recs[i])
	}
	return b
}

func TestRecordRoundTrip(t *testing.T) {
	recs := sampleRecords()
	data := encodeLog(recs)
	got, valid, err := decodeLog(data)
	if err != nil || valid != len(data) {
		t.Fatalf("decode: valid %d of %d, %v", valid, len(data), err)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("round trip:\ngot  %+v\nwant %+v", got, recs)
	}
}

// Every cut of the last record, and every flipped byte in it, loses that
// record and nothing before it.
func TestDecodeTornTail(t *testing.T) {
	recs := sampleRecords()[:1]
	recs = append(recs, record{kind: kindCommit, group: "g", topic: "t", partition: 1, offset: 9, leaderEpoch: -1, commitTime: 3, expireTime: -1})
	data := encodeLog(recs)
	first := len(encodeLog(recs[:1]))
	for cut := first; cut < len(data); cut++ {
		got, valid, err := decodeLog(data[:cut])
		if err != nil || valid != first || len(got) != 1 {
			t.Fatalf("cut at %d: %d records, valid %d, %v", cut, len(got), valid, err)
		}
	}
	for i := first; i < len(data); i++ {
		bad := bytes.Clone(data)
		bad[i] ^= 0x40
		got, valid, err := decodeLog(bad)
		if err != nil || valid != first || len(got) != 1 {
			t.Fatalf("flip at %d: %d records, valid %d, %v", i, len(got), valid, err)
		}
	}
	// A tail of zeros (a file extended but not written) is torn too.
	got, valid, _ := decodeLog(append(bytes.Clone(data), make([]byte, 100)...))
	if valid != len(data) || len(got) != 2 {
		t.Fatalf("zero tail: %d records, valid %d", len(got), valid)
	}
}

// The record described in the package documentation.
func TestDocExample(t *testing.T) {
	b := appendRecord(nil, &record{kind: kindCommit, group: "sink", topic: "logs", offset: 42, leaderEpoch: -1, commitTime: 1, expireTime: -1})
	want := "00000031"
	payload := "01" + "0004" + "73696e6b" + "0004" + "6c6f6773" + "00000000" + "000000000000002a" + "ffffffff" + "00000000" + "0000000000000001" + "ffffffffffffffff"
	if got := fmt.Sprintf("%x", b); len(b) != 57 || got[:8] != want || got[16:] != payload {
		t.Errorf("record is %d bytes: %s", len(b), got)
	}
}

func TestDecodeBadHeader(t *testing.T) {
	_, _, err := decodeLog([]byte("NOTALOG!rest"))
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, logName), []byte("NOTALOG!rest"), 0o644)
	if _, err := Open(Config{Dir: dir}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
}

func FuzzDecodeLog(f *testing.F) {
	small := sampleRecords()
	small[1].metadata = "metadata"
	f.Add(encodeLog(small))
	f.Add(logMagic[:])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, valid, err := decodeLog(data)
		if err != nil {
			return
		}
		if valid > len(data) {
			t.Fatalf("valid %d > %d", valid, len(data))
		}
		if len(recs) == 0 {
			return
		}
		again, _, err := decodeLog(encodeLog(recs))
		if err != nil || !reflect.DeepEqual(again, recs) {
			t.Fatalf("re-encoded records differ: %v", err)
		}
	})
}

// commitReq builds an OffsetCommit v9 of offset to topic/0 with
// generation -1.
func commitReq(group, topic string, partition int32, offset int64) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 9
	req.Group = group
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition = partition
	rp.Offset = offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func commit(t testing.TB, c *Coordinator, group, topic string, partition int32, offset int64) {
	t.Helper()
	resp := c.Handle(context.Background(), commitReq(group, topic, partition, offset)).(*kmsg.OffsetCommitResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("commit %s %s/%d@%d: %v", group, topic, partition, offset, kerr.ErrorForCode(code))
	}
}

// fetched returns the committed offset of group's topic/partition (-1:
// none).
func fetched(t testing.TB, c *Coordinator, group, topic string, partition int32) int64 {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 7
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	rt.Partitions = []int32{partition}
	req.Topics = append(req.Topics, rt)
	resp := c.Handle(context.Background(), req).(*kmsg.OffsetFetchResponse)
	if resp.ErrorCode != 0 {
		t.Fatalf("fetch %s: %v", group, kerr.ErrorForCode(resp.ErrorCode))
	}
	return resp.Topics[0].Partitions[0].Offset
}

// Open drops a torn tail, rewrites the file compacted, and keeps working.
func TestOpenRecoversTornTail(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		commit(t, c, "g", "t", 0, int64(i))
	}
	commit(t, c, "g", "t", 1, 5)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, logName)
	data, _ := os.ReadFile(path)
	// A record cut short, as a crash in the middle of a write leaves it.
	partial := appendRecord(nil, &record{kind: kindCommit, group: "g", topic: "t", partition: 1, offset: 99, leaderEpoch: -1, expireTime: -1})
	os.WriteFile(path, append(data, partial[:len(partial)-3]...), 0o644)

	c, err = Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := fetched(t, c, "g", "t", 0); got != 9 {
		t.Errorf("t/0 = %d, want 9", got)
	}
	if got := fetched(t, c, "g", "t", 1); got != 5 {
		t.Errorf("t/1 = %d, want 5 (the torn commit of 99 was never acknowledged)", got)
	}
	commit(t, c, "g", "t", 1, 6)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Compacted on load: one record per live offset.
	data, _ = os.ReadFile(path)
	recs, valid, err := decodeLog(data)
	if err != nil || valid != len(data) {
		t.Fatalf("log after reopen: valid %d of %d, %v", valid, len(data), err)
	}
	if len(recs) != 3 {
		t.Errorf("log has %d records, want 3 (two offsets, then the new commit)", len(recs))
	}
	c, err = Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := fetched(t, c, "g", "t", 1); got != 6 {
		t.Errorf("t/1 = %d, want 6", got)
	}
	if _, err := os.Stat(filepath.Join(dir, tmpName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp file left behind: %v", err)
	}
}

// The log is rewritten while serving once it outgrows its live state.
func TestCompactWhileServing(t *testing.T) {
	dir := t.TempDir()
	c, err := open(Config{Dir: dir}, openOptions{slack: 4096})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		commit(t, c, "g", "t", int32(i%4), int64(i))
	}
	st, err := os.Stat(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 3*4096 {
		t.Errorf("log is %d bytes after 2000 commits to 4 partitions; want it compacted", st.Size())
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for p := range int32(4) {
		if got, want := fetched(t, c, "g", "t", p), int64(1996+p); got != want {
			t.Errorf("t/%d = %d, want %d", p, got, want)
		}
	}
}

// Commits that arrive while an fsync runs are written with the next one:
// one fsync for all of them.
func TestGroupCommitSharesFsync(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	var once sync.Once
	c, err := open(Config{Dir: t.TempDir()}, openOptions{beforeSync: func() {
		once.Do(func() {
			entered <- struct{}{}
			<-release
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	base := c.olog.syncs.Load()

	var wg sync.WaitGroup
	errs := make(chan error, 21)
	do := func(p int32) {
		defer wg.Done()
		resp := c.Handle(context.Background(), commitReq("g", "t", p, int64(p))).(*kmsg.OffsetCommitResponse)
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
			errs <- kerr.ErrorForCode(code)
		}
	}
	wg.Add(1)
	go do(0)
	<-entered // the first commit's fsync is under way
	for p := int32(1); p <= 20; p++ {
		wg.Add(1)
		go do(p)
	}
	waitFor(t, func() bool {
		c.olog.mu.Lock()
		defer c.olog.mu.Unlock()
		return len(c.olog.cur.recs) == 20
	})
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := c.olog.syncs.Load() - base; got != 2 {
		t.Errorf("21 commits took %d fsyncs, want 2", got)
	}
	for p := int32(0); p <= 20; p++ {
		if got := fetched(t, c, "g", "t", p); got != int64(p) {
			t.Errorf("t/%d = %d", p, got)
		}
	}
}

// waitFor polls cond until it holds or 10 seconds pass.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A commit is not acknowledged before its fsync.
func TestCommitWaitsForFsync(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	c, err := open(Config{Dir: t.TempDir()}, openOptions{beforeSync: func() {
		entered <- struct{}{}
		<-release
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan kmsg.Response, 1)
	go func() { done <- c.Handle(context.Background(), commitReq("g", "t", 0, 1)) }()
	<-entered
	select {
	case <-done:
		t.Fatal("commit answered before its fsync")
	default:
	}
	if got := fetched(t, c, "g", "t", 0); got != -1 {
		t.Errorf("offset visible before its fsync: %d", got)
	}
	close(release)
	<-done
	if got := fetched(t, c, "g", "t", 0); got != 1 {
		t.Errorf("offset after fsync = %d, want 1", got)
	}
	c.Close()
}

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild(os.Getenv(crashChildEnv)))
	}
	os.Exit(m.Run())
}

const crashChildEnv = "GROUP_TEST_CRASH_CHILD_DIR"

// crashChild commits offsets 0, 1, 2, ... of g/t/0 and prints each one
// once it is acknowledged, until it is killed.
func crashChild(dir string) int {
	c, err := Open(Config{Dir: dir})
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	for i := int64(0); ; i++ {
		resp := c.Handle(context.Background(), commitReq("g", "t", 0, i)).(*kmsg.OffsetCommitResponse)
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
			fmt.Println("commit:", kerr.ErrorForCode(code))
			return 1
		}
		fmt.Println(i)
	}
}
