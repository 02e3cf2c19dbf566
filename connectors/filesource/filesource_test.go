package filesource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

func startTask(t *testing.T, kv ...string) *Task {
	t.Helper()
	task, err := tryStart(t, kv...)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func tryStart(t *testing.T, kv ...string) (*Task, error) {
	t.Helper()
	m := map[string]string{"name": "src", "connector.class": "FileStreamSource", "topic": "t", "poll.interval.ms": "20"}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	vals, err := Def().Parse(config.FromMap("source.properties", m))
	if err != nil {
		t.Fatal(err)
	}
	task := &Task{}
	if err := task.Start(context.Background(), &connect.SourceTaskContext{Connector: "src", Config: vals}); err != nil {
		return nil, err
	}
	t.Cleanup(func() { task.Stop() })
	return task, nil
}

// collect polls until n records arrived (offsets without data aside) or
// the deadline passes.
func collect(t *testing.T, task *Task, n int) []connect.SourceRecord {
	t.Helper()
	var out []connect.SourceRecord
	deadline := time.Now().Add(20 * time.Second)
	for len(out) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d records, want %d: %q", len(out), n, values(out))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		recs, err := task.Poll(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if !r.Mark { // an offset without data: nothing is sent
				out = append(out, r)
			}
		}
	}
	return out
}

// none checks that no record arrives for a short while.
func none(t *testing.T, task *Task) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	recs, err := task.Poll(ctx)
	if err != nil || len(recs) > 0 {
		t.Fatalf("want nothing, got %q, %v", values(recs), err)
	}
}

func values(recs []connect.SourceRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Value))
	}
	return out
}

func write(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestLinesAndPositions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	write(t, p, "one\r\ntwo\n\nthr\xffee\npart")
	task := startTask(t, "file="+p)
	recs := collect(t, task, 4)
	want := []string{"one", "two", "", "thr\xffee"}
	if got := values(recs); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	wantPos := []int64{5, 9, 10, 17}
	for i, r := range recs {
		if r.Position != wantPos[i] {
			t.Errorf("record %d position %d, want %d", i, r.Position, wantPos[i])
		}
		if r.Source == nil || r.Source.Key()["filename"] != p || r.Source.Identity() == "" {
			t.Errorf("record %d source %+v", i, r.Source)
		}
	}
	none(t, task) // "part" is held
	write(t, p, "ial\n")
	recs = collect(t, task, 1)
	if string(recs[0].Value) != "partial" || recs[0].Position != 25 {
		t.Fatalf("got %q at %d", recs[0].Value, recs[0].Position)
	}
}

func TestBatchSize(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	var b strings.Builder
	for i := range 25 {
		fmt.Fprintf(&b, "%d\n", i)
	}
	write(t, p, b.String())
	task := startTask(t, "file="+p, "batch.size=10")
	ctx := context.Background()
	for _, n := range []int{10, 10, 5} {
		recs, err := task.Poll(ctx)
		if err != nil || len(recs) != n {
			t.Fatalf("got %d records (%v), want %d", len(recs), err, n)
		}
	}
}

func TestLongLines(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	write(t, p, "short\n"+strings.Repeat("x", 25)+"\nend\n")
	split := startTask(t, "file="+p, "max.line.bytes=10")
	got := values(collect(t, split, 5))
	want := []string{"short", strings.Repeat("x", 10), strings.Repeat("x", 10), strings.Repeat("x", 5), "end"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("split: got %q, want %q", got, want)
	}
	skip := startTask(t, "file="+p, "max.line.bytes=10", "max.line.action=skip")
	got = values(collect(t, skip, 2))
	if fmt.Sprint(got) != fmt.Sprint([]string{"short", "end"}) {
		t.Fatalf("skip: got %q", got)
	}
}

func TestReadFromEnd(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	write(t, p, "old\n")
	task := startTask(t, "file="+p, "read.from=end")
	none(t, task)
	write(t, p, "new\n")
	if got := values(collect(t, task, 1)); got[0] != "new" {
		t.Fatalf("got %q", got)
	}
}

func TestWaitsForFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "later.log")
	task := startTask(t, "file="+p)
	none(t, task)
	write(t, p, "hello\n")
	if got := values(collect(t, task, 1)); got[0] != "hello" {
		t.Fatalf("got %q", got)
	}
}

func TestMissingFolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope", "a.log")
	_, err := tryStart(t, "file="+p)
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Key != "file" || ce.Source != "source.properties" || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("got %v", err)
	}
}

// rotations lists the ways a log is rotated; each must lose nothing.
var rotations = []struct {
	name   string
	rotate func(t *testing.T, path string)
}{
	{"rename+create", func(t *testing.T, path string) {
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
	}},
	{"delete+recreate", func(t *testing.T, path string) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}},
	{"copytruncate", func(t *testing.T, path string) {
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
	}},
}

func TestRotation(t *testing.T) {
	for _, rot := range rotations {
		t.Run(rot.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "a.log")
			write(t, p, "a1\na2\n")
			task := startTask(t, "file="+p)
			got := values(collect(t, task, 2))
			// Written after the last read, before rotation: still to be read
			// from the old file (for copytruncate that is the loss the
			// method itself causes, so it is not written there).
			if rot.name != "copytruncate" {
				write(t, p, "a3\n")
			}
			rot.rotate(t, p)
			write(t, p, "b1\nb2\n")
			n := 3
			if rot.name == "copytruncate" {
				n = 2
			}
			got = append(got, values(collect(t, task, n))...)
			want := "[a1 a2 a3 b1 b2]"
			if rot.name == "copytruncate" {
				want = "[a1 a2 b1 b2]"
			}
			if fmt.Sprint(got) != want {
				t.Fatalf("got %v, want %v", got, want)
			}
			none(t, task)
		})
	}
}

func TestRotationFinishesPartialLine(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	write(t, p, "a1\nunfinished")
	task := startTask(t, "file="+p)
	collect(t, task, 1)
	os.Rename(p, p+".1")
	write(t, p, "b1\n")
	got := values(collect(t, task, 2))
	if fmt.Sprint(got) != "[unfinished b1]" {
		t.Fatalf("got %q", got)
	}
}

func TestWriterStillOnOldFile(t *testing.T) {
	// logrotate's "create": the new empty file appears before the writer
	// reopens; lines it writes to the old file meanwhile are not lost.
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	old, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	old.WriteString("a1\n")
	task := startTask(t, "file="+p)
	collect(t, task, 1)
	os.Rename(p, p+".1")
	write(t, p, "")
	none(t, task)
	old.WriteString("a2\n")
	got := values(collect(t, task, 1))
	write(t, p, "b1\n")
	got = append(got, values(collect(t, task, 1))...)
	if fmt.Sprint(got) != "[a2 b1]" {
		t.Fatalf("got %q", got)
	}
}

func TestStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	stop := make(chan struct{})
	defer close(stop)
	task := &Task{stdin: newStdinReader(r, stop), batch: 100, maxLine: 100, topic: "t"}
	w.WriteString("x\ny\npar")
	got := values(collect(t, task, 2))
	if fmt.Sprint(got) != "[x y]" {
		t.Fatalf("got %q", got)
	}
}

func BenchmarkEmit(b *testing.B) {
	var buf bytes.Buffer
	for buf.Len() < 4<<20 {
		buf.WriteString(`192.0.2.39 - - [12/Mar/2026:14:02:12 +0000] "PUT /index.html HTTP/1.1" 304 - "https://duckduckgo.com/" "Mozilla/5.0 (compatible; bingbot/2.0)"` + "\n")
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		task := &Task{batch: 2000, maxLine: 1 << 20, topic: "t", buf: data, pos: int64(len(data)), f: os.Stdin}
		for {
			if recs := task.emit(); len(recs) == 0 {
				break
			}
		}
	}
}

// TestFileSeed: a missing file is created as a copy of file.seed and read;
// an existing one is left as it is; the seed itself is never changed; a
// seed that cannot be read is an error naming the key.
func TestFileSeed(t *testing.T) {
	dir := t.TempDir()
	seed, p := filepath.Join(dir, "sample.log"), filepath.Join(dir, "work", "access.log")
	write(t, seed, "one\ntwo\n")
	os.Mkdir(filepath.Dir(p), 0o755)
	task := startTask(t, "file="+p, "file.seed="+seed)
	if got := values(collect(t, task, 2)); strings.Join(got, ",") != "one,two" {
		t.Fatalf("got %q", got)
	}
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("three\n")
	f.Close()
	if got := values(collect(t, task, 1)); got[0] != "three" {
		t.Fatalf("appended: got %q", got)
	}
	task.Stop()
	if b, _ := os.ReadFile(seed); string(b) != "one\ntwo\n" {
		t.Fatalf("the seed changed: %q", b)
	}
	// An existing file is not seeded again.
	task = startTask(t, "file="+p, "file.seed="+seed)
	if b, _ := os.ReadFile(p); string(b) != "one\ntwo\nthree\n" {
		t.Fatalf("the existing file was replaced: %q", b)
	}
	task.Stop()

	_, err := tryStart(t, "file="+filepath.Join(dir, "work", "other.log"), "file.seed="+filepath.Join(dir, "missing.log"))
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Key != "file.seed" || !strings.Contains(err.Error(), "cannot be read") {
		t.Fatalf("missing seed: %v", err)
	}
}
