package filesink

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

// startRotating starts a task on file with the given keys.
func startRotating(t *testing.T, file string, kv ...string) *Task {
	t.Helper()
	return startWith(t, file, nil, kv...)
}

// startWith starts a task on file with the given keys, its log going to
// logs (discarded when nil); the task stops when the test ends.
func startWith(t *testing.T, file string, logs io.Writer, kv ...string) *Task {
	t.Helper()
	m := map[string]string{"name": "sink", "connector.class": "FileStreamSink", "topics": "t", "file": file}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	vals, err := Def().Parse(config.FromMap("sink.properties", m))
	if err != nil {
		t.Fatal(err)
	}
	tc := &connect.SinkTaskContext{Connector: "sink", Config: vals}
	if logs != nil {
		tc.Log = slog.New(slog.NewTextHandler(logs, nil))
	}
	task := &Task{}
	if err := task.Start(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

// contents returns what the rotated files (oldest first, decompressed)
// and the file hold, one string per file.
func contents(t *testing.T, path string) []string {
	t.Helper()
	gens, err := rotatedGens(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range gens {
		if b, err := os.ReadFile(rotatedName(path, g, false)); err == nil {
			out = append(out, string(b))
			continue
		}
		f, err := os.Open(rotatedName(path, g, true))
		if err != nil {
			t.Fatalf("generation %d: %v", g, err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	b, _ := os.ReadFile(path)
	return append(out, string(b))
}

func put(t *testing.T, task *Task, vals ...string) {
	t.Helper()
	if err := task.Put(context.Background(), recs(vals...)); err != nil {
		t.Fatal(err)
	}
}

func flushed(t *testing.T, task *Task) state {
	t.Helper()
	st, err := task.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var s state
	if err := json.Unmarshal([]byte(st), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRotateBySize: a file that reached file.rotate.bytes is rotated before
// the next batch, which goes whole into the new file; the state names the
// new generation.
func TestRotateBySize(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.txt")
	task := startRotating(t, p, "file.rotate.bytes=10")
	put(t, task, "aaaa", "bbbb")
	put(t, task, "cc", "a batch over the limit stays whole")
	got := contents(t, p)
	if strings.Join(got, "|") != "aaaa\nbbbb\n|cc\na batch over the limit stays whole\n" {
		t.Fatalf("files: %q", got)
	}
	if s := flushed(t, task); s.Gen != 2 || s.Size != int64(len(got[1])) {
		t.Fatalf("state %+v", s)
	}
}

// TestRotateKeepCompress: rotated files are gzipped and only the newest
// file.rotate.keep stay.
func TestRotateKeepCompress(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.txt")
	task := startRotating(t, p, "file.rotate.bytes=4", "file.rotate.keep=2", "file.rotate.compress=true")
	for _, v := range []string{"rec1", "rec2", "rec3", "rec4", "rec5"} {
		put(t, task, v)
	}
	if got := contents(t, p); strings.Join(got, "|") != "rec3\n|rec4\n|rec5\n" {
		t.Fatalf("files: %q", got)
	}
	for _, g := range []int{3, 4} {
		if _, err := os.Stat(rotatedName(p, g, true)); err != nil {
			t.Errorf("generation %d not compressed: %v", g, err)
		}
	}
}

// TestRotateByAge: a file written to for file.rotate.interval.ms is
// rotated before the next batch; an empty one is not.
func TestRotateByAge(t *testing.T) {
	clock := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	now = func() time.Time { return clock }
	t.Cleanup(func() { now = time.Now })
	p := filepath.Join(t.TempDir(), "out.txt")
	task := startRotating(t, p, "file.rotate.interval.ms=60000")
	put(t, task, "first")
	clock = clock.Add(59 * time.Second)
	put(t, task, "second")
	clock = clock.Add(time.Second)
	put(t, task, "third")
	clock = clock.Add(2 * time.Minute)
	put(t, task) // an empty batch rotates, the next file stays empty
	put(t, task)
	if got := contents(t, p); strings.Join(got, "|") != "first\nsecond\n|third\n|" {
		t.Fatalf("files: %q", got)
	}
}

// TestRotateUndoneAfterLostCommits: the worker committed a state, then the
// file rotated twice and the commits of that were lost (a kill -9). The
// restarted task takes the files back to the committed generation and
// size, so that the records the worker sends again after the commit are
// in the files once: plain and compressed.
func TestRotateUndoneAfterLostCommits(t *testing.T) {
	for _, compress := range []string{"false", "true"} {
		t.Run("compress="+compress, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "out.txt")
			opts := []string{"file.rotate.bytes=5", "file.rotate.compress=" + compress}
			task := startRotating(t, p, opts...)
			put(t, task, "one")
			st := flushed(t, task)
			b, _ := json.Marshal(st)
			committed := string(b)
			put(t, task, "two")   // 8 bytes: the next batch rotates
			put(t, task, "three") // generation 2
			put(t, task, "four")  // generation 3
			if got := contents(t, p); strings.Join(got, "|") != "one\ntwo\n|three\n|four\n" {
				t.Fatalf("before the restart: %q", got)
			}
			task.Stop()

			task = startRotating(t, p, opts...)
			if _, err := task.Open(context.Background(), []string{committed}); err != nil {
				t.Fatal(err)
			}
			if got := contents(t, p); strings.Join(got, "|") != "one\n" {
				t.Fatalf("after undoing: %q", got)
			}
			put(t, task, "two") // what the worker sends again
			put(t, task, "three")
			put(t, task, "four")
			got := contents(t, p)
			if strings.Join(got, "") != "one\ntwo\nthree\nfour\n" {
				t.Fatalf("after sending again: %q", got)
			}
			if s := flushed(t, task); s.Gen != 3 {
				t.Fatalf("state %+v", s)
			}
		})
	}
}
