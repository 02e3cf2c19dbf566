package filesource

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logged starts a task whose log is captured.
func logged(t *testing.T, kv ...string) (*Task, *syncBuffer) {
	t.Helper()
	task := startTask(t, kv...)
	var b syncBuffer
	task.log = slog.New(slog.NewTextHandler(&b, nil)).With("file", task.path)
	return task, &b
}

// waitLog polls the task until its log holds want.
func waitLog(t *testing.T, task *Task, b *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", want, b.String())
		}
		none(t, task)
	}
}

// TestFolderRemoved: the file's folder is removed while the task reads it;
// the task says so, keeps going, and reads the file once the folder and the
// file are made again.
func TestFolderRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	os.Mkdir(dir, 0o755)
	p := filepath.Join(dir, "a.log")
	write(t, p, "a1\n")
	task, logs := logged(t, "file="+p)
	if got := values(collect(t, task, 1)); fmt.Sprint(got) != "[a1]" {
		t.Fatalf("got %q", got)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	waitLog(t, task, logs, "folder "+dir+" does not exist")
	os.Mkdir(dir, 0o755)
	write(t, p, "b1\nb2\n")
	if got := values(collect(t, task, 2)); fmt.Sprint(got) != "[b1 b2]" {
		t.Fatalf("got %q", got)
	}
	write(t, p, "b3\n")
	if got := values(collect(t, task, 1)); fmt.Sprint(got) != "[b3]" {
		t.Fatalf("got %q", got)
	}
}

// TestReplacedByFolder: a folder takes the file's place; the task says so
// and reads the file that replaces the folder.
func TestReplacedByFolder(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	write(t, p, "a1\n")
	task, logs := logged(t, "file="+p)
	collect(t, task, 1)
	write(t, p, "a2\n")
	os.Rename(p, p+".1")
	os.Mkdir(p, 0o755)
	if got := values(collect(t, task, 1)); fmt.Sprint(got) != "[a2]" {
		t.Fatalf("got %q", got)
	}
	waitLog(t, task, logs, p+" is a folder, not a file")
	os.Remove(p)
	write(t, p, "b1\n")
	if got := values(collect(t, task, 1)); fmt.Sprint(got) != "[b1]" {
		t.Fatalf("got %q", got)
	}
	if !strings.Contains(logs.String(), "the file exists now") {
		t.Errorf("no recovery logged:\n%s", logs.String())
	}
}

// TestPermissionDenied: the file that replaces a rotated one cannot be
// opened (simulated: permissions do not bite as root); the task says so,
// naming the file, and reads it once it can.
func TestPermissionDenied(t *testing.T) {
	var mu sync.Mutex
	denied := false
	old := openFile
	openFile = func(name string) (*os.File, error) {
		mu.Lock()
		defer mu.Unlock()
		if denied {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		}
		return os.Open(name)
	}
	t.Cleanup(func() { openFile = old })
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	write(t, p, "a1\n")
	task, logs := logged(t, "file="+p)
	collect(t, task, 1)
	mu.Lock()
	denied = true
	mu.Unlock()
	os.Rename(p, p+".1")
	write(t, p, "b1\n")
	waitLog(t, task, logs, "cannot open "+p+": permission denied")
	mu.Lock()
	denied = false
	mu.Unlock()
	if got := values(collect(t, task, 1)); fmt.Sprint(got) != "[b1]" {
		t.Fatalf("got %q", got)
	}
}
