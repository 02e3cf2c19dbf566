package filesink

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// quota makes write fail with ENOSPC past a number of bytes, like a full
// disk, until it is raised.
type quota struct {
	mu   sync.Mutex
	left int
	errs int
}

func (q *quota) write(f *os.File, b []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(b), q.left)
	n, err := f.Write(b[:n])
	q.left -= n
	if err == nil && n < len(b) {
		q.errs++
		err = &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return n, err
}

func (q *quota) failures() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.errs
}

func (q *quota) set(n int) {
	q.mu.Lock()
	q.left = n
	q.mu.Unlock()
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDiskFull: with the disk full, Put logs an error naming the file and
// waits (the worker commits nothing meanwhile, since Put has not
// returned); once space is freed the records are written whole, once each.
// When the task is stopped while waiting, Put fails and the file holds
// only what was written, which Open cuts back to the last commit.
func TestDiskFull(t *testing.T) {
	q := &quota{left: 10}
	old := write
	write = q.write
	t.Cleanup(func() { write = old })

	p := filepath.Join(t.TempDir(), "out.txt")
	task, err := start(t, p)
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	task.log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- task.Put(ctx, recs("first line", "second line", "third")) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "no space left on device") {
		if time.Now().After(deadline) {
			t.Fatalf("no error logged: %s", logs.String())
		}
		select {
		case err := <-done:
			t.Fatalf("Put returned while the disk is full: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if !strings.Contains(logs.String(), p) {
		t.Errorf("the error does not name the file: %s", logs.String())
	}
	if got := read(t, p); got != "first line" {
		t.Fatalf("file while full: %q", got)
	}
	q.set(1 << 20)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Put did not resume once space was freed")
	}
	st, err := task.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != "first line\nsecond line\nthird\n" || !strings.Contains(st, `"size":29`) {
		t.Fatalf("file %q, state %s", got, st)
	}
	if !strings.Contains(logs.String(), "writing to the sink file again") {
		t.Errorf("no recovery logged: %s", logs.String())
	}

	// Full again, then stopped while waiting.
	q.set(3)
	pctx, pcancel := context.WithCancel(context.Background())
	go func() { done <- task.Put(pctx, recs("fourth", "fifth")) }()
	for q.failures() < 3 {
		if time.Now().After(deadline.Add(20 * time.Second)) {
			t.Fatal("no retries")
		}
		time.Sleep(10 * time.Millisecond)
	}
	pcancel()
	if err := <-done; !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), p) {
		t.Fatalf("Put after stop: %v", err)
	}
	task.Stop()
	task2, err := start(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task2.Open(ctx, []string{st}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != "first line\nsecond line\nthird\n" {
		t.Fatalf("after Open: %q", got)
	}
}

// TestReadOnlyWaits: a file system remounted read-only under the task is
// waited out like a full disk.
func TestReadOnlyWaits(t *testing.T) {
	var mu sync.Mutex
	ro := true
	old := write
	write = func(f *os.File, b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		if ro {
			return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.EROFS}
		}
		return f.Write(b)
	}
	t.Cleanup(func() { write = old })
	p := filepath.Join(t.TempDir(), "out.txt")
	task, err := start(t, p)
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	task.log = slog.New(slog.NewTextHandler(&logs, nil))
	done := make(chan error, 1)
	go func() { done <- task.Put(context.Background(), recs("a", "b")) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "read-only file system") {
		if time.Now().After(deadline) {
			t.Fatalf("no error logged: %s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	ro = false
	mu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != "a\nb\n" {
		t.Fatalf("file %q", got)
	}
}

// TestWriteErrorFails: an error that waiting cannot cure fails Put at once.
func TestWriteErrorFails(t *testing.T) {
	old := write
	write = func(f *os.File, b []byte) (int, error) {
		return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.EIO}
	}
	t.Cleanup(func() { write = old })
	p := filepath.Join(t.TempDir(), "out.txt")
	task, err := start(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Put(context.Background(), recs("x")); !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "write "+p) {
		t.Fatalf("Put: %v", err)
	}
}

// TestStopWhileDiskFull: Stop, from another goroutine, returns at once
// while Put waits for space (the wait holds no lock and ends with Stop),
// and Put then fails; a cancelled ctx ends the wait the same way, even when
// the backoff has grown long. Nothing waits on the clock: with the old
// behaviour both would hang until space is freed, which never happens.
func TestStopWhileDiskFull(t *testing.T) {
	q := &quota{}
	old := write
	write = q.write
	t.Cleanup(func() { write = old })

	for _, how := range []string{"Stop", "ctx"} {
		t.Run(how, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "out.txt")
			task, err := start(t, p)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			before := q.failures()
			go func() { done <- task.Put(ctx, recs("a", "b")) }()
			// Wait into the backoff: five failures make the next wait 800ms.
			deadline := time.Now().Add(20 * time.Second)
			for q.failures() < before+5 {
				if time.Now().After(deadline) {
					t.Fatal("Put does not retry")
				}
				select {
				case err := <-done:
					t.Fatalf("Put returned while the disk is full: %v", err)
				case <-time.After(5 * time.Millisecond):
				}
			}
			stopped := make(chan error, 1)
			if how == "Stop" {
				go func() { stopped <- task.Stop() }()
			} else {
				cancel()
			}
			var putErr error
			select {
			case putErr = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("Put still waits for space after %s", how)
			}
			if !errors.Is(putErr, syscall.ENOSPC) || !strings.Contains(putErr.Error(), p) {
				t.Fatalf("Put: %v", putErr)
			}
			if how == "Stop" {
				select {
				case err := <-stopped:
					if !errors.Is(err, syscall.ENOSPC) {
						t.Fatalf("Stop: %v, want the write error of what stayed buffered", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("Stop waits for Put's retry")
				}
				if _, err := task.Flush(context.Background()); err == nil {
					t.Fatal("Flush after Stop succeeded")
				}
			}
		})
	}
}
