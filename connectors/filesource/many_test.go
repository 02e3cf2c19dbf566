package filesource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

// worker stands for what a worker keeps between runs when a task reads
// many files: the records sent (in the order sent, one Kafka partition for
// simplicity) and the offset stored per source partition key. A record's
// offset is stored when it carries a proof, as the worker does for the
// last record of a key in each poll; marks are stored the same way.
type worker struct {
	mu     sync.Mutex
	recs   []keyedRec
	stored map[string]connect.SourceOffset
}

type keyedRec struct {
	key, id    string
	start, end int64
	value      string
}

func newWorker() *worker { return &worker{stored: map[string]connect.SourceOffset{}} }

func keyOf(sp *connect.SourcePartition) string { return sp.Key()["filename"].(string) }

// ack takes a poll's records as acknowledged, in order.
func (w *worker) ack(recs []connect.SourceRecord) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range recs {
		key := keyOf(r.Source)
		if !r.Mark {
			w.recs = append(w.recs, keyedRec{key, r.Source.Identity(), r.Start, r.Position, string(r.Value)})
		}
		if r.Forget {
			delete(w.stored, key)
			continue
		}
		if r.Proof != "" {
			w.stored[key] = connect.SourceOffset{Position: r.Position, Identity: r.Source.Identity(), Proof: r.Proof,
				Record: connect.RecordRef{Topic: "t", Offset: int64(len(w.recs) - 1)}}
		}
	}
}

func (w *worker) offset(part map[string]any) (connect.SourceOffset, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	off, ok := w.stored[part["filename"].(string)]
	return off, ok, nil
}

// partitions lists the source partitions with a stored offset.
func (w *worker) partitions() []map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []map[string]any
	for key := range w.stored {
		out = append(out, map[string]any{"filename": key})
	}
	return out
}

// lookup answers Produced as the worker does: the chain of the key's
// records with sp's identity that continue from from.Position.
func (w *worker) lookup(_ context.Context, _ string, sp *connect.SourcePartition, from connect.SourceOffset) (int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	lo := 0
	if from.Record.Known() {
		lo = int(from.Record.Offset) + 1
	}
	pos := from.Position
	for _, r := range w.recs[min(lo, len(w.recs)):] {
		if r.key == keyOf(sp) && r.id == sp.Identity() && r.start == pos {
			pos = r.end
		}
	}
	return pos, nil
}

// expect fails the test unless the values sent, sorted, are want.
func (w *worker) expect(t *testing.T, want ...string) {
	t.Helper()
	if got := w.values(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// values returns the values sent, sorted.
func (w *worker) values() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, r := range w.recs {
		out = append(out, r.value)
	}
	slices.Sort(out)
	return out
}

func startMany(t *testing.T, w *worker, kv ...string) *Task {
	t.Helper()
	task, err := tryMany(t, w, kv...)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func tryMany(t *testing.T, w *worker, kv ...string) (*Task, error) {
	t.Helper()
	m := map[string]string{"name": "src", "connector.class": "FileStreamSource", "topic": "t", "poll.interval.ms": "20", "files.scan.interval.ms": "50"}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	vals, err := Def().Parse(config.FromMap("source.properties", m))
	if err != nil {
		return nil, err
	}
	tc := (&connect.SourceTaskContext{Connector: "src", Config: vals}).WithLookups(w.offset, w.lookup).WithStored(w.partitions)
	task := &Task{}
	if err := task.Start(context.Background(), tc); err != nil {
		return nil, err
	}
	t.Cleanup(func() { task.Stop() })
	return task, nil
}

// drain polls, acknowledging everything, until the worker holds n records.
func drain(t *testing.T, task *Task, w *worker, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		w.mu.Lock()
		got := len(w.recs)
		w.mu.Unlock()
		if got >= n {
			if got > n {
				t.Fatalf("got %d records, want %d: %q", got, n, w.values())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d records, want %d: %q", got, n, w.values())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		recs, err := task.Poll(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		w.ack(recs)
	}
}

// quiet polls for a while and fails if any line arrives.
func quiet(t *testing.T, task *Task, w *worker) {
	t.Helper()
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		recs, err := task.Poll(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		w.ack(recs)
		for _, r := range recs {
			if !r.Mark {
				t.Fatalf("want no more lines, got %q from %s at %d-%d; sent before: %+v", r.Value, keyOf(r.Source), r.Start, r.Position, w.recs)
			}
		}
	}
}

func TestPatterns(t *testing.T) {
	cases := []struct {
		pat, path string
		want      bool
	}{
		{"/var/log/*.log", "/var/log/a.log", true},
		{"/var/log/*.log", "/var/log/x/a.log", false},
		{"/var/log/**/*.log", "/var/log/a.log", true},
		{"/var/log/**/*.log", "/var/log/x/y/a.log", true},
		{"/var/log/**/app/*.log", "/var/log/app/a.log", true},
		{"/var/log/**/app/*.log", "/var/log/q/app/a.log", true},
		{"/var/log/**/app/*.log", "/var/log/q/app/x/a.log", false},
		{"/var/log/access.log*", "/var/log/access.log-20261204", true},
		{"/var/log/access.log.[0-9]", "/var/log/access.log.2", true},
		{"/var/log/access.log.?", "/var/log/access.log.12", false},
		{"logs/*.log", "logs/a.log", true},
		{"logs/*.log", "/logs/a.log", false},
	}
	for _, c := range cases {
		p, err := parsePattern(c.pat, false)
		if err != nil {
			t.Fatalf("%s: %v", c.pat, err)
		}
		if got := p.matches(c.path); got != c.want {
			t.Errorf("%s matches %s: %v, want %v", c.pat, c.path, got, c.want)
		}
	}
	for _, bad := range []string{"/var/log/**", "/var/log/a**b/*.log", "/var/log/[a.log", ""} {
		if _, err := parsePattern(bad, false); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
	ex, err := parsePattern("*.gz", true)
	if err != nil || !ex.matches("/var/log/a.log.1.gz") || ex.matches("/var/log/a.log") {
		t.Errorf("exclude *.gz: %v", err)
	}
}

// TestManyFiles: patterns with ** and exclusions, compressed copies left
// out unless named, a header with the path and a topic from the file name.
func TestManyFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.log", "b.log", "c.txt", "d.log.1.gz", "sub/e.log", "sub/deep/f.log", "sub/old.log", "z.gz"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		write(t, p, name+"\n")
	}
	w := newWorker()
	task := startMany(t, w, "files="+filepath.Join(dir, "**", "*.log*")+","+filepath.Join(dir, "z.gz"), "files.exclude=old.log", "topic=logs-${filename}")
	drain(t, task, w, 5)
	w.expect(t, "a.log", "b.log", "sub/deep/f.log", "sub/e.log", "z.gz")
	quiet(t, task, w)

	// A record's header names its file, its topic comes from the name.
	write(t, filepath.Join(dir, "sub", "e.log"), "more e\n")
	recs := collect(t, task, 1)
	r := recs[0]
	if string(r.Value) != "more e" || r.Topic != "logs-e.log" || len(r.Headers) != 1 || r.Headers[0].Key != "file" || string(r.Headers[0].Value) != filepath.Join(dir, "sub", "e.log") {
		t.Fatalf("got %q topic %q headers %q", r.Value, r.Topic, r.Headers)
	}
	if keyOf(r.Source) != filepath.Join(dir, "sub", "e.log") {
		t.Fatalf("source partition %v", r.Source.Key())
	}
}

// TestManyNewFiles: files that appear later, also in a new folder, are
// read from their start; a restart resumes every file where it was.
func TestManyNewFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.log"), "a1\n")
	w := newWorker()
	task := startMany(t, w, "files="+filepath.Join(dir, "**", "*.log"))
	drain(t, task, w, 1)
	write(t, filepath.Join(dir, "b.log"), "b1\nb2\n")
	os.MkdirAll(filepath.Join(dir, "x", "y"), 0o755)
	write(t, filepath.Join(dir, "x", "y", "c.log"), "c1\n")
	drain(t, task, w, 4)
	task.Stop()

	write(t, filepath.Join(dir, "a.log"), "a2\n")
	write(t, filepath.Join(dir, "x", "y", "c.log"), "c2\n")
	write(t, filepath.Join(dir, "d.log"), "d1\n")
	task = startMany(t, w, "files="+filepath.Join(dir, "**", "*.log"))
	drain(t, task, w, 7)
	w.expect(t, "a1", "a2", "b1", "b2", "c1", "c2", "d1")
	quiet(t, task, w)
}

// TestManyDatedRename: access.log is renamed to a dated name that the
// pattern also matches, and a new access.log is made. The renamed file is
// finished once, not read again under its new name, neither now nor after
// a restart; lines appended to it later are read under the new name.
func TestManyDatedRename(t *testing.T) {
	dir := t.TempDir()
	cur := filepath.Join(dir, "access.log")
	write(t, cur, "one\ntwo\n")
	w := newWorker()
	files := "files=" + filepath.Join(dir, "access.log*")
	task := startMany(t, w, files)
	drain(t, task, w, 2)

	dated := cur + "-20261204"
	if err := os.Rename(cur, dated); err != nil {
		t.Fatal(err)
	}
	write(t, dated, "three\n") // the writer still has the old file open
	write(t, cur, "four\n")
	drain(t, task, w, 4)
	quiet(t, task, w)
	w.mu.Lock()
	off, ok := w.stored[dated]
	w.mu.Unlock()
	if !ok || off.Position != int64(len("one\ntwo\nthree\n")) {
		t.Fatalf("stored offset of the dated name: %+v %v", off, ok)
	}
	write(t, dated, "five\n")
	drain(t, task, w, 5)
	task.Stop()

	task = startMany(t, w, files)
	quiet(t, task, w)
	w.expect(t, "five", "four", "one", "three", "two")
}

// TestManyNumberedRotation: logrotate's numbered scheme, access.log.1 to
// access.log.2 then access.log to access.log.1 and a new access.log, all
// matched: every line once, each file finished under one path and handed
// over to its next one.
func TestManyNumberedRotation(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "access.log")
	write(t, base+".1", "old1\n")
	write(t, base, "cur1\n")
	w := newWorker()
	files := "files=" + base + "*"
	task := startMany(t, w, files)
	drain(t, task, w, 2)
	for round := range 3 {
		write(t, base, fmt.Sprintf("cur%d-last\n", round))
		os.Rename(base+".2", base+".3")
		if err := os.Rename(base+".1", base+".2"); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(base, base+".1"); err != nil {
			t.Fatal(err)
		}
		write(t, base, fmt.Sprintf("new%d\n", round))
		drain(t, task, w, 2+2*(round+1))
		quiet(t, task, w)
	}
	task.Stop()
	task = startMany(t, w, files)
	quiet(t, task, w)
	w.expect(t, "cur0-last", "cur1", "cur1-last", "cur2-last", "new0", "new1", "new2", "old1")
}

// TestManyRenamedWhileStopped: the rotation happens while no task runs;
// the next run finishes the renamed file under the path it was read as,
// and does not read it again under its new name.
func TestManyRenamedWhileStopped(t *testing.T) {
	dir := t.TempDir()
	cur := filepath.Join(dir, "app.log")
	write(t, cur, "one\ntwo\n")
	w := newWorker()
	files := "files=" + filepath.Join(dir, "app.log*")
	task := startMany(t, w, files)
	drain(t, task, w, 2)
	task.Stop()

	write(t, cur, "three\n")
	os.Rename(cur, cur+".1")
	write(t, cur, "four\n")
	task = startMany(t, w, files)
	drain(t, task, w, 4)
	quiet(t, task, w)
	w.expect(t, "four", "one", "three", "two")
	task.Stop()
	task = startMany(t, w, files)
	quiet(t, task, w)
}

// TestManyCurrentRenamedWhileCatchingUp: the stored offset of a log is
// still in its rotated file (the flush after the switch to the next file
// was lost), and once the restarted task has started, before it has read
// anything, the next file is rotated too and a third one begun. The next
// file is finished by the log's own stream after the rotated one, and
// handed over: its lines sent before are not sent again under its new name.
func TestManyCurrentRenamedWhileCatchingUp(t *testing.T) {
	dir := t.TempDir()
	cur := filepath.Join(dir, "app.log")
	write(t, cur, "a1\na2\n")
	w := newWorker()
	files := "files=" + filepath.Join(dir, "app.log*")
	task := startMany(t, w, files)
	drain(t, task, w, 2)
	task.Stop()
	saved := w.stored[cur]

	os.Rename(cur, cur+"-1")
	write(t, cur, "b1\nb2\n")
	task = startMany(t, w, files)
	drain(t, task, w, 4)
	task.Stop()
	w.stored = map[string]connect.SourceOffset{cur: saved} // the last flush was lost

	task = startMany(t, w, files)
	os.Rename(cur, cur+"-2")
	write(t, cur+"-2", "b3\n")
	write(t, cur, "c1\n")
	drain(t, task, w, 6)
	quiet(t, task, w)
	w.expect(t, "a1", "a2", "b1", "b2", "b3", "c1")
}

// TestManyDeleted: a deleted file is finished and closed; a file made at
// its path later is read as a new one.
func TestManyDeleted(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	write(t, p, "one\n")
	w := newWorker()
	task := startMany(t, w, "files="+filepath.Join(dir, "*.log"))
	drain(t, task, w, 1)
	write(t, p, "two\n")
	os.Remove(p)
	drain(t, task, w, 2)
	deadline := time.Now().Add(10 * time.Second)
	for {
		quiet(t, task, w)
		task.set.listMu.Lock()
		n := len(task.set.order)
		task.set.listMu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the deleted file is still open")
		}
	}
	write(t, p, "three\n")
	drain(t, task, w, 3)
}

// TestManyConfigErrors: bad patterns and conflicting keys name the key.
func TestManyConfigErrors(t *testing.T) {
	dir := t.TempDir()
	w := newWorker()
	for _, c := range []struct {
		kv  []string
		key string
	}{
		{[]string{"files=" + dir + "/**"}, "files"},
		{[]string{"files=" + dir + "/[x"}, "files"},
		{[]string{"files=" + dir + "/*.log", "file=" + dir + "/a.log"}, "files"},
		{[]string{"files=" + dir + "/*.log", "files.exclude=[y"}, "files.exclude"},
		{[]string{"files=" + dir + "/*.log", "topic=logs-${path}"}, "topic"},
		{[]string{"files=" + dir + "/*.log", "file.seed=" + dir + "/x"}, "file.seed"},
	} {
		_, err := tryMany(t, w, c.kv...)
		if err == nil || !strings.Contains(err.Error(), "source.properties: "+c.key+": ") {
			t.Errorf("%q: got %v, want an error naming the file and %s", c.kv, err, c.key)
		}
	}
}

// TestManyThousandFiles: 1,000 files in one folder and 100 folders of 10,
// each read whole.
func TestManyThousandFiles(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "one"), 0o755)
	for i := range 1000 {
		write(t, filepath.Join(dir, "one", fmt.Sprintf("f%04d.log", i)), fmt.Sprintf("line %d\n", i))
	}
	for d := range 100 {
		for i := range 10 {
			os.MkdirAll(filepath.Join(dir, "many", fmt.Sprint(d)), 0o755)
			write(t, filepath.Join(dir, "many", fmt.Sprint(d), fmt.Sprintf("g%d.log", i)), fmt.Sprintf("d%d g%d\n", d, i))
		}
	}
	w := newWorker()
	task := startMany(t, w, "files="+filepath.Join(dir, "one", "*.log")+","+filepath.Join(dir, "many", "**", "*.log"))
	drain(t, task, w, 2000)
	write(t, filepath.Join(dir, "one", "f0500.log"), "again\n")
	write(t, filepath.Join(dir, "many", "99", "new.log"), "new\n")
	drain(t, task, w, 2002)
}

// openFiles counts the files a task of many holds open.
func openFiles(task *Task) int {
	n := 0
	for _, s := range task.set.order {
		if s.f != nil {
			n++
		}
	}
	return n
}

// TestManyMaxOpen: with more files than files.max.open, the longest idle
// are closed and opened again when they grow, also when one is rotated
// while closed; every line arrives once.
func TestManyMaxOpen(t *testing.T) {
	dir := t.TempDir()
	for i := range 6 {
		write(t, filepath.Join(dir, fmt.Sprintf("f%d.log", i)), fmt.Sprintf("f%d one\n", i))
	}
	w := newWorker()
	task := startMany(t, w, "files="+filepath.Join(dir, "*.log"), "files.max.open=2")
	drain(t, task, w, 6)
	quiet(t, task, w)
	if n := openFiles(task); n > 2 {
		t.Fatalf("%d files open, files.max.open=2", n)
	}
	for i := range 6 {
		write(t, filepath.Join(dir, fmt.Sprintf("f%d.log", i)), fmt.Sprintf("f%d two\n", i))
	}
	drain(t, task, w, 12)
	// f0 is closed now: lines appended before its rotation are still read.
	quiet(t, task, w)
	if task.set.streams[filepath.Join(dir, "f0.log")].f != nil {
		t.Skip("f0.log was not the one closed")
	}
	write(t, filepath.Join(dir, "f0.log"), "f0 three\n")
	os.Rename(filepath.Join(dir, "f0.log"), filepath.Join(dir, "f0.old"))
	write(t, filepath.Join(dir, "f0.log"), "f0 four\n")
	drain(t, task, w, 14)
	quiet(t, task, w)
	if n := openFiles(task); n > 2 {
		t.Fatalf("%d files open, files.max.open=2", n)
	}
	got := w.values()
	if got[0] != "f0 four" || got[1] != "f0 one" || got[2] != "f0 three" {
		t.Fatalf("got %q", got)
	}
}

// TestManyIgnoreOlder: a file not modified for file.ignore.older.ms is not
// read, but what is appended to it is.
func TestManyIgnoreOlder(t *testing.T) {
	dir := t.TempDir()
	old, cur := filepath.Join(dir, "old.log"), filepath.Join(dir, "cur.log")
	write(t, old, "stale\n")
	write(t, cur, "fresh\n")
	past := time.Now().Add(-48 * time.Hour)
	os.Chtimes(old, past, past)
	w := newWorker()
	task := startMany(t, w, "files="+filepath.Join(dir, "*.log"), "file.ignore.older.ms=86400000")
	drain(t, task, w, 1)
	write(t, old, "appended\n")
	drain(t, task, w, 2)
	if got := w.values(); fmt.Sprint(got) != "[appended fresh]" {
		t.Fatalf("got %q", got)
	}
}

// TestManyCleanRemoved: the stored position of a deleted file is removed
// after file.clean.removed.ms, and not while it exists.
func TestManyCleanRemoved(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	write(t, a, "a\n")
	write(t, b, "b\n")
	w := newWorker()
	task := startMany(t, w, "files="+filepath.Join(dir, "*.log"), "file.clean.removed.ms=1")
	drain(t, task, w, 2)
	os.Remove(a)
	deadline := time.Now().Add(10 * time.Second)
	for {
		quiet(t, task, w)
		w.mu.Lock()
		_, hasA := w.stored[a]
		_, hasB := w.stored[b]
		w.mu.Unlock()
		if !hasB {
			t.Fatal("the position of b.log, which exists, was removed")
		}
		if !hasA {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the position of the deleted a.log is still stored")
		}
	}

	// A file deleted while the task is stopped is forgotten too.
	task.Stop()
	os.Remove(b)
	task = startMany(t, w, "files="+filepath.Join(dir, "*.log"), "file.clean.removed.ms=1")
	for {
		quiet(t, task, w)
		w.mu.Lock()
		_, hasB := w.stored[b]
		w.mu.Unlock()
		if !hasB {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the position of b.log, deleted while the task was stopped, is still stored")
		}
	}
}

// TestManyInodeReused: a rotated file whose position is stored is deleted
// while the task is stopped and its inode goes to another file of the set,
// which the next run reads; then another file is made under the first
// one's name. The run after does not take the file with the inode for the
// deleted one: each line arrives once.
func TestManyInodeReused(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "app.log-1")
	write(t, old, "old one\nold two\n")
	w := newWorker()
	files := "files=" + filepath.Join(dir, "*.log*")
	task := startMany(t, w, files)
	drain(t, task, w, 2)
	task.Stop()
	ino := inode(t, old)
	os.Remove(old)
	var reused string
	for i := range 50 {
		p := filepath.Join(dir, fmt.Sprintf("new%d.log", i))
		write(t, p, fmt.Sprintf("new %d\n", i))
		if inode(t, p) == ino {
			reused = p
			break
		}
	}
	if reused == "" {
		t.Skip("the file system did not hand the inode to a new file")
	}
	task = startMany(t, w, files)
	drain(t, task, w, 2+countNew(dir))
	task.Stop()
	write(t, old, "another file under the old name\n")
	task = startMany(t, w, files)
	drain(t, task, w, 3+countNew(dir))
	quiet(t, task, w)
	seen := map[string]int{}
	for _, v := range w.values() {
		seen[v]++
	}
	for v, k := range seen {
		if k != 1 {
			t.Errorf("%q arrived %d times", v, k)
		}
	}
}

func countNew(dir string) int {
	names, _ := filepath.Glob(filepath.Join(dir, "new*.log"))
	return len(names)
}
