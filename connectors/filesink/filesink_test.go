package filesink

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

func start(t *testing.T, file string) (*Task, error) {
	t.Helper()
	m := map[string]string{"name": "sink", "connector.class": "FileStreamSink", "topics": "t"}
	if file != "" {
		m["file"] = file
	}
	vals, err := Def().Parse(config.FromMap("sink.properties", m))
	if err != nil {
		t.Fatal(err)
	}
	task := &Task{}
	if err := task.Start(context.Background(), &connect.SinkTaskContext{Connector: "sink", Config: vals}); err != nil {
		return nil, err
	}
	t.Cleanup(func() { task.Stop() })
	return task, nil
}

func recs(vals ...string) []connect.SinkRecord {
	var out []connect.SinkRecord
	for i, v := range vals {
		r := connect.SinkRecord{Topic: "t", Offset: int64(i)}
		if v != "<null>" {
			r.Value = []byte(v)
		}
		out = append(out, r)
	}
	return out
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAppendFlushState(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "out.txt")
	os.WriteFile(p, []byte("before\n"), 0o644)
	task, err := start(t, p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := task.Open(ctx, nil)
	if err != nil || !strings.Contains(st, `"size":7`) {
		t.Fatalf("open: %q %v", st, err)
	}
	if err := task.Put(ctx, recs("a", "", "<null>", "b\xff")); err != nil {
		t.Fatal(err)
	}
	// Written out at the end of Put, before any flush.
	if got := read(t, p); got != "before\na\n\nnull\nb\xff\n" {
		t.Fatalf("file: %q", got)
	}
	st, err = task.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var s state
	if err := json.Unmarshal([]byte(st), &s); err != nil || s.File != p || s.Size != 18 {
		t.Fatalf("state %q", st)
	}
}

func TestOpenTruncatesToCommittedSize(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "out.txt")
	task, err := start(t, p)
	if err != nil {
		t.Fatal(err)
	}
	task.Open(ctx, nil)
	task.Put(ctx, recs("one", "two"))
	committed, _ := task.Flush(ctx)
	task.Put(ctx, recs("three")) // written, never committed
	task.Stop()

	// A state for another file is ignored; the newest of ours wins.
	other, _ := json.Marshal(state{File: "/elsewhere", Size: 1})
	old, _ := json.Marshal(state{File: p, Size: 4})
	task2, err := start(t, p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := task2.Open(ctx, []string{string(other), string(old), committed, "not json"})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != "one\ntwo\n" {
		t.Fatalf("after open: %q", got)
	}
	if st != committed {
		t.Fatalf("state %q, want %q", st, committed)
	}
	task2.Put(ctx, recs("three"))
	if got := read(t, p); got != "one\ntwo\nthree\n" {
		t.Fatalf("after put: %q", got)
	}
}

func TestShorterFileIsNotExtended(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "out.txt")
	os.WriteFile(p, []byte("x\n"), 0o644)
	task, err := start(t, p)
	if err != nil {
		t.Fatal(err)
	}
	big, _ := json.Marshal(state{File: p, Size: 100})
	st, err := task.Open(ctx, []string{string(big)})
	if err != nil || !strings.Contains(st, `"size":2`) {
		t.Fatalf("%q %v", st, err)
	}
	if got := read(t, p); got != "x\n" {
		t.Fatalf("%q", got)
	}
}

func TestBadPaths(t *testing.T) {
	dir := t.TempDir()
	_, err := start(t, filepath.Join(dir, "missing", "out.txt"))
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Key != "file" || !strings.Contains(err.Error(), "does not exist") || !strings.HasPrefix(err.Error(), "sink.properties: file: ") {
		t.Fatalf("missing folder: %v", err)
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	if os.Getuid() != 0 {
		_, err = start(t, filepath.Join(ro, "out.txt"))
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("read-only folder: %v", err)
		}
	}
	notDir := filepath.Join(dir, "plain")
	os.WriteFile(notDir, nil, 0o644)
	_, err = start(t, filepath.Join(notDir, "out.txt"))
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "is not a folder") {
		t.Fatalf("parent is a file: %v", err)
	}
	_, err = start(t, dir)
	if !errors.As(err, &ce) || ce.Key != "file" {
		t.Fatalf("a folder: %v", err)
	}
}
