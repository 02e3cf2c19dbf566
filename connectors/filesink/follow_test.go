package filesink

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log destination the watch goroutine and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLogged starts a task on file whose log goes to the returned buffer.
func startLogged(t *testing.T, file string) (*Task, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	task := startWith(t, file, logs)
	if _, err := task.Open(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return task, logs
}

func flushedSize(t *testing.T, task *Task, file string) int64 {
	t.Helper()
	st, err := task.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var s state
	if err := json.Unmarshal([]byte(st), &s); err != nil || s.File != file {
		t.Fatalf("state %q (%v)", st, err)
	}
	return s.Size
}

// TestFollowsRenamedFile: logrotate renames the output away; what was
// written stays in the renamed file, and the next records go to a new
// file at the path, whose size the flushed state gives.
func TestFollowsRenamedFile(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "out.txt")
	task, logs := startLogged(t, p)
	if err := task.Put(ctx, recs("one", "two")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(ctx, recs("three")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, p+".1"); got != "one\ntwo\n" {
		t.Fatalf("rotated file: %q", got)
	}
	if got := read(t, p); got != "three\n" {
		t.Fatalf("new file: %q", got)
	}
	if n := flushedSize(t, task, p); n != 6 {
		t.Fatalf("flushed size %d, want 6 (the new file's)", n)
	}
	if !strings.Contains(logs.String(), "was renamed away or deleted") {
		t.Fatalf("log does not say the file left its path:\n%s", logs)
	}
}

// TestFollowsDeletedFileWhileIdle: a file deleted while nothing is written
// is noticed within about a second: the path exists again, and the next
// records are in it.
func TestFollowsDeletedFileWhileIdle(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "out.txt")
	task, logs := startLogged(t, p)
	if err := task.Put(ctx, recs("old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "writing to the file at its path") {
		if time.Now().After(deadline) {
			t.Fatalf("the deleted file was not noticed in 10 s; log:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond) // polling the log, not a synchronisation
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the path was not opened again: %v", err)
	}
	if err := task.Put(ctx, recs("new")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != "new\n" {
		t.Fatalf("file: %q", got)
	}
}

// TestDeletedWhileWriting: the file is deleted between the check of the
// path and the write; the records that went into the deleted file are
// written to the path's new file too, so none is lost.
func TestDeletedWhileWriting(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "out.txt")
	task, logs := startLogged(t, p)
	if err := task.Put(ctx, recs("kept")); err != nil {
		t.Fatal(err)
	}
	orig := write
	t.Cleanup(func() { write = orig })
	once := true
	write = func(f *os.File, b []byte) (int, error) {
		if once {
			once = false
			if err := os.Remove(p); err != nil {
				t.Error(err)
			}
		}
		return f.Write(b)
	}
	if err := task.Put(ctx, recs("a", "b")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != "a\nb\n" {
		t.Fatalf("file: %q, want the records written into the deleted file", got)
	}
	if n := flushedSize(t, task, p); n != 4 {
		t.Fatalf("flushed size %d, want 4", n)
	}
	if !strings.Contains(logs.String(), "was deleted while being written to") {
		t.Fatalf("log:\n%s", logs)
	}
}

// TestFollowsCopytruncate: the file is copied and truncated under the
// writer; the next records land at its new end and the state says the
// size that is really there.
func TestFollowsCopytruncate(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "out.txt")
	task, logs := startLogged(t, p)
	if err := task.Put(ctx, recs("one", "two")); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(ctx, recs("three")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != "three\n" {
		t.Fatalf("file: %q", got)
	}
	if n := flushedSize(t, task, p); n != 6 {
		t.Fatalf("flushed size %d, want 6", n)
	}
	if !strings.Contains(logs.String(), "truncated by someone else") {
		t.Fatalf("log:\n%s", logs)
	}
}
