package storage

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// removeFault fails the renames and removals of the files it matches, as a
// read-only or failing file system would.
type removeFault struct {
	mu    sync.Mutex
	match func(path string) bool
	fails int
}

func (r *removeFault) set(match func(path string) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.match, r.fails = match, 0
}

func (r *removeFault) hook(op faultOp, path string, _ int) (int, error) {
	if op != faultRemove {
		return 0, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.match != nil && r.match(path) {
		r.fails++
		return 0, syscall.EACCES
	}
	return 0, nil
}

func suffixIn(suffixes ...string) func(string) bool {
	return func(p string) bool {
		for _, s := range suffixes {
			if strings.HasSuffix(p, s) {
				return true
			}
		}
		return false
	}
}

// segmentFiles lists the files of dir whose base offset is below start,
// and any file marked for deletion.
func filesBelow(t *testing.T, dir string, start int64) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, deletedSuffix) {
			out = append(out, name)
			continue
		}
		for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
			if base, ok := parseSegmentName(name, suf); ok && base < start {
				out = append(out, name)
			}
		}
	}
	return out
}

// A segment file that retention cannot remove is reported, naming the
// file, and the segment stays in the log: the log never claims a segment
// is gone while Open would load it again. Files that go astray after the
// segment is out of the log (its indexes, the file marked for deletion)
// are reported too and removed by a later pass.
func TestRetentionRemoveFailure(t *testing.T) {
	dir := t.TempDir()
	rf := &removeFault{}
	opts := Options{SegmentBytes: 500, Delete: true, RetentionTime: time.Hour, RetentionBytes: -1}
	l, err := Open(Config{Dir: dir, Options: opts, fault: rf.hook})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	now := time.Now()
	old := now.Add(-2 * time.Hour).UnixMilli()
	for range 10 {
		mustAppend(t, l, makeBatch(batchSpec{n: 2, ts: old, valueLen: 60}))
	}
	for range 3 {
		mustAppend(t, l, makeBatch(batchSpec{n: 2, ts: now.UnixMilli(), valueLen: 60}))
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	segs, end := l.Segments(), l.EndOffset()

	// The segment files cannot be removed: nothing changes, and the
	// error names the first one.
	rf.set(suffixIn(logSuffix))
	res, err := l.Retain(now)
	first := filepath.Join(dir, segmentName(0, logSuffix))
	if err == nil || !strings.Contains(err.Error(), first) {
		t.Fatalf("retention that cannot remove %s: %v", first, err)
	}
	if res.Segments != 0 || l.StartOffset() != 0 || l.Segments() != segs || res.LogStartOffset != 0 {
		t.Fatalf("after a failed removal: %+v, start %d, %d segments (were %d)", res, l.StartOffset(), l.Segments(), segs)
	}
	if got := readAll(t, l, 0); len(got) != 13 {
		t.Fatalf("%d batches readable after a failed removal, want 13", len(got))
	}

	// The segments leave the log, but their index files and the marked
	// segment files cannot be removed: reported, and left for later.
	rf.set(suffixIn(indexSuffix, deletedSuffix))
	res, err = l.Retain(now)
	if err == nil || !strings.Contains(err.Error(), segmentName(0, indexSuffix)) || !strings.Contains(err.Error(), segmentName(0, logSuffix+deletedSuffix)) {
		t.Fatalf("retention that cannot remove index files: %v", err)
	}
	start := l.StartOffset()
	if res.Segments == 0 || start == 0 || start != res.LogStartOffset || l.EndOffset() != end {
		t.Fatalf("retention with index files that stay: %+v, start %d", res, start)
	}
	if left := filesBelow(t, dir, start); len(left) == 0 {
		t.Fatal("the hook did not keep any file")
	}
	readAll(t, l, start)

	// The next pass, with nothing more to retain, removes what was left.
	rf.set(nil)
	if _, err := l.Retain(now); err != nil {
		t.Fatal(err)
	}
	if left := filesBelow(t, dir, start); len(left) != 0 {
		t.Fatalf("files left after the retry: %v", left)
	}
	if l.StartOffset() != start {
		t.Fatalf("start moved to %d on the retry, was %d", l.StartOffset(), start)
	}

	// After a restart the log starts where retention left it.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openLog(t, dir, opts, true, 0)
	defer l2.Close()
	if l2.StartOffset() != start || l2.EndOffset() != end {
		t.Fatalf("reopened at [%d, %d), want [%d, %d)", l2.StartOffset(), l2.EndOffset(), start, end)
	}
}

// A segment file marked for deletion that outlived a crash is removed on
// Open and never loaded.
func TestOpenRemovesDeletedSegments(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentBytes: 500}
	l := openLog(t, dir, opts, false, 0)
	for range 6 {
		mustAppend(t, l, makeBatch(batchSpec{n: 2, valueLen: 60}))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(dir, segmentName(0, logSuffix))
	if err := os.Rename(first, first+deletedSuffix); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, opts, true, 0)
	defer l.Close()
	if l.StartOffset() == 0 {
		t.Fatal("a segment marked for deletion was loaded")
	}
	if _, err := os.Stat(first + deletedSuffix); !os.IsNotExist(err) {
		t.Fatalf("marked segment still there: %v", err)
	}
}
