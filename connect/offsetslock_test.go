package connect_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOffsetsFileLocked: a second worker on the same offsets file is
// refused at start, naming the file and the first worker's pid, and
// changes nothing; once the first closes, the file is free again.
func TestOffsetsFileLocked(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	first := startWorker(t, workerProps(addr, dir))
	second := newWorker(t, workerProps(addr, dir))
	err := second.Start(context.Background())
	second.Close(context.Background())
	offsets := filepath.Join(dir, "connect.offsets")
	want := fmt.Sprintf("offset.storage.file.filename: %s is in use by another worker: %s.lock is held by another process (pid %d)", offsets, offsets, os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second worker's start: %v\nwant an error containing %q", err, want)
	}
	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	third := newWorker(t, workerProps(addr, dir))
	if err := third.Start(context.Background()); err != nil {
		t.Fatalf("start after the first worker closed: %v", err)
	}
	third.Close(context.Background())
}
