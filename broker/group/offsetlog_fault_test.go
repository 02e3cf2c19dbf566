package group

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// writeFault fails the offsets log's writes (after writing half of the
// batch: a torn tail) or its fsyncs while it is set.
type writeFault struct {
	mu     sync.Mutex
	write  bool
	sync   bool
	writes int
	syncs  int
}

func (w *writeFault) set(write, sync bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.write, w.sync = write, sync
}

func (w *writeFault) hook(sync bool, size int) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case !sync && w.write:
		w.writes++
		return size / 2, syscall.ENOSPC
	case sync && w.sync:
		w.syncs++
		return 0, syscall.EIO
	}
	return 0, nil
}

func commitCode(c *Coordinator, group, topic string, partition int32, offset int64) int16 {
	resp := c.Handle(context.Background(), commitReq(group, topic, partition, offset)).(*kmsg.OffsetCommitResponse)
	return resp.Topics[0].Partitions[0].ErrorCode
}

// A failed write of the offsets log refuses the commits in it, and only
// those: once the cause goes away (space is freed), the next commit cuts
// off what part of the failed batch reached the file and is written, and
// the file stays a valid log.
func TestOffsetsLogRecoversAfterWriteFailure(t *testing.T) {
	dir := t.TempDir()
	wf := &writeFault{}
	c, err := open(Config{Dir: dir}, openOptions{writeFault: wf.hook})
	if err != nil {
		t.Fatal(err)
	}
	commit(t, c, "g", "t", 0, 1)

	wf.set(true, false) // the disk is full
	for _, off := range []int64{2, 3} {
		if code := commitCode(c, "g", "t", 0, off); code != kerr.NotCoordinator.Code {
			t.Fatalf("commit of %d while writes fail: %v, want NOT_COORDINATOR", off, kerr.ErrorForCode(code))
		}
	}
	if got := fetched(t, c, "g", "t", 0); got != 1 {
		t.Fatalf("committed %d after refused commits, want 1", got)
	}

	wf.set(false, false) // space is back
	commit(t, c, "g", "t", 0, 4)
	if got := fetched(t, c, "g", "t", 0); got != 4 {
		t.Fatalf("committed %d once writes work again, want 4", got)
	}

	wf.set(false, true) // an fsync fails
	if code := commitCode(c, "g", "t", 1, 5); code != kerr.NotCoordinator.Code {
		t.Fatalf("commit whose fsync fails: %v, want NOT_COORDINATOR", kerr.ErrorForCode(code))
	}
	wf.set(false, false)
	commit(t, c, "g", "t", 1, 6)
	commit(t, c, "g", "t", 0, 7)
	if err := c.Close(); err != nil {
		t.Fatalf("close after recovering: %v", err)
	}
	if wf.writes != 2 || wf.syncs != 1 {
		t.Fatalf("the hook failed %d writes and %d fsyncs, want 2 and 1", wf.writes, wf.syncs)
	}

	// The file is whole: every record decodes, and none of the refused
	// commits is in it.
	data, err := os.ReadFile(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	recs, valid, err := decodeLog(data)
	if err != nil || valid != len(data) {
		t.Fatalf("offsets log after recovering: %d of %d bytes valid, %v", valid, len(data), err)
	}
	for _, r := range recs {
		if r.kind == kindCommit && (r.offset == 2 || r.offset == 3 || r.offset == 5) {
			t.Fatalf("a refused commit is in the log: %+v", r)
		}
	}
	c, err = Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if a, b := fetched(t, c, "g", "t", 0), fetched(t, c, "g", "t", 1); a != 7 || b != 6 {
		t.Fatalf("after a restart t/0 = %d, t/1 = %d; want 7 and 6", a, b)
	}
}

// A compaction that cannot write its new file leaves the old one in use:
// commits go on, and the rewrite happens once it can.
func TestOffsetsLogCompactionFailureKeepsCommitting(t *testing.T) {
	dir := t.TempDir()
	c, err := open(Config{Dir: dir}, openOptions{slack: 4096})
	if err != nil {
		t.Fatal(err)
	}
	// A folder where the rewrite's temporary file goes: creating it fails.
	block := filepath.Join(dir, tmpName)
	if err := os.MkdirAll(filepath.Join(block, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		commit(t, c, "g", "t", int32(i%4), int64(i))
	}
	st, err := os.Stat(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	grown := st.Size()
	if grown < 3*4096 {
		t.Fatalf("log is %d bytes: it was compacted although it could not be", grown)
	}
	if err := os.RemoveAll(block); err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		commit(t, c, "g", "t", int32(i%4), int64(1000+i))
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ = os.Stat(filepath.Join(dir, logName))
	if st.Size() >= grown {
		t.Errorf("log is %d bytes, was %d: not compacted once it could be", st.Size(), grown)
	}
	c, err = Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for p := range int32(4) {
		if got, want := fetched(t, c, "g", "t", p), int64(1496+p); got != want {
			t.Errorf("t/%d = %d, want %d", p, got, want)
		}
	}
}
