package filesource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

// produced stands for what a worker keeps between runs: the partition the
// records went to (each record's identity and start and end positions, in
// partition order) and the stored offset, which may be older than what the
// partition holds. Records can be lost (the cluster refused them) while
// later ones land, as happens when one record of a batch fails.
type produced struct {
	path   string
	recs   []fakeRec
	stored *connect.SourceOffset
}

type fakeRec struct {
	id         string
	start, end int64
}

// note appends records as acknowledged, except those whose indexes are in
// lost.
func (p *produced) note(recs []connect.SourceRecord, lost ...int) {
	for i, r := range recs {
		if !slices.Contains(lost, i) {
			p.recs = append(p.recs, fakeRec{r.Source.Identity(), r.Start, r.Position})
		}
	}
}

// store keeps the offset after r as the worker does once r and everything
// before it were acknowledged: with r's proof (computed from the file when
// r was not the last of its poll) and r's place in the partition.
func (p *produced) store(r connect.SourceRecord) {
	off := connect.SourceOffset{Position: r.Position, Identity: r.Source.Identity(), Proof: r.Proof, Record: connect.RecordRef{Offset: -1}}
	if off.Proof == "" {
		b, err := os.ReadFile(p.path)
		if err != nil || int64(len(b)) < r.Position {
			panic(fmt.Sprintf("no proof for %s at %d", p.path, r.Position))
		}
		off.Proof, _ = proofOf(r.Position, func(dst []byte, at int64) bool { return copy(dst, b[at:]) == len(dst) })
	}
	for i := len(p.recs) - 1; i >= 0; i-- {
		if p.recs[i].id == off.Identity && p.recs[i].end == r.Position {
			off.Record = connect.RecordRef{Topic: "t", Partition: 0, Offset: int64(i)}
			break
		}
	}
	p.stored = &off
}

// lookup answers SourceTaskContext.Produced as the worker does: the chain of
// sp's records after from's record that continue from from.Position.
func (p *produced) lookup(_ context.Context, _ string, sp *connect.SourcePartition, from connect.SourceOffset) (int64, error) {
	lo := 0
	if from.Record.Known() {
		lo = int(from.Record.Offset) + 1
	}
	pos := from.Position
	for _, r := range p.recs[min(lo, len(p.recs)):] {
		if r.id == sp.Identity() && r.start == pos {
			pos = r.end
		}
	}
	return pos, nil
}

// startRun starts a task as a worker run would, with p's positions.
func startRun(t *testing.T, p *produced, kv ...string) *Task {
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
	tc := (&connect.SourceTaskContext{Connector: "src", Config: vals}).WithLookups(
		func(map[string]any) (connect.SourceOffset, bool, error) {
			if p.stored == nil {
				return connect.SourceOffset{}, false, nil
			}
			return *p.stored, true, nil
		},
		p.lookup)
	task := &Task{}
	if err := task.Start(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

func collectRun(t *testing.T, task *Task, p *produced, n int) []string {
	t.Helper()
	recs := collect(t, task, n)
	p.note(recs)
	return values(recs)
}

// firstRun writes lines to a.log in a new folder and reads the n lines with
// a task, keeping what a worker would: the positions sent, and the offset
// after line stored (0-based) as the stored offset. The task still runs.
func firstRun(t *testing.T, lines string, n, stored int) (path string, p *produced, task *Task) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "a.log")
	write(t, path, lines)
	p = &produced{path: path}
	task = startRun(t, p, "file="+path)
	recs := collect(t, task, n)
	p.note(recs)
	p.store(recs[stored])
	return path, p, task
}

// TestRenamedWhileStopped: the file is rotated by rename while no task
// runs, and lines were appended to it before; the next run reads the
// rotated file's rest, then the new file, even when the stored offset is
// older than what was sent.
func TestRenamedWhileStopped(t *testing.T) {
	for _, stale := range []bool{false, true} {
		t.Run(fmt.Sprintf("stale=%v", stale), func(t *testing.T) {
			path, p, task := firstRun(t, "a1\na2\n", 2, map[bool]int{false: 1, true: 0}[stale])
			task.Stop()

			write(t, path, "a3\n")
			os.Rename(path, path+".1")
			write(t, path, "b1\n")
			task = startRun(t, p, "file="+path)
			got := collectRun(t, task, p, 2)
			if fmt.Sprint(got) != "[a3 b1]" {
				t.Fatalf("got %q, want [a3 b1]", got)
			}
			none(t, task)
			write(t, path, "b2\n")
			if got := collectRun(t, task, p, 1); fmt.Sprint(got) != "[b2]" {
				t.Fatalf("got %q", got)
			}
		})
	}
}

// TestRenamedNotRecreatedWhileStopped: the file was renamed away and the
// new one does not exist yet when the task starts.
func TestRenamedNotRecreatedWhileStopped(t *testing.T) {
	path, p, task := firstRun(t, "a1\n", 1, 0)
	task.Stop()

	write(t, path, "a2\n")
	os.Rename(path, path+".1")
	task = startRun(t, p, "file="+path)
	if got := collectRun(t, task, p, 1); fmt.Sprint(got) != "[a2]" {
		t.Fatalf("got %q", got)
	}
	write(t, path, "b1\n")
	if got := collectRun(t, task, p, 1); fmt.Sprint(got) != "[b1]" {
		t.Fatalf("got %q", got)
	}
}

// TestCopyTruncateWhileStopped: the file is truncated in place while no
// task runs and written past the old position again; the next run reads
// it from the start instead of resuming in the middle of the new content.
func TestCopyTruncateWhileStopped(t *testing.T) {
	path, p, task := firstRun(t, "a1\na2\n", 2, 1)
	task.Stop()

	b, _ := os.ReadFile(path)
	os.WriteFile(path+".1", b, 0o644)
	os.Truncate(path, 0)
	write(t, path, "b1\nb2\nb3\n")
	task = startRun(t, p, "file="+path)
	if got := collectRun(t, task, p, 3); fmt.Sprint(got) != "[b1 b2 b3]" {
		t.Fatalf("got %q", got)
	}
	none(t, task)
}

// TestResumeAfterRestart: a plain restart resumes after the last line sent,
// with Kafka Connect's offsets (no identity) too.
func TestResumeAfterRestart(t *testing.T) {
	for _, kafka := range []bool{false, true} {
		t.Run(fmt.Sprintf("kafka=%v", kafka), func(t *testing.T) {
			path, p, task := firstRun(t, "a1\na2\n", 2, 1)
			task.Stop()
			if kafka {
				p.recs = nil
				p.stored = &connect.SourceOffset{Position: p.stored.Position, Record: connect.RecordRef{Offset: -1}}
			}
			write(t, path, "a3\n")
			task = startRun(t, p, "file="+path)
			if got := collectRun(t, task, p, 1); fmt.Sprint(got) != "[a3]" {
				t.Fatalf("got %q", got)
			}
			none(t, task)
		})
	}
}

// TestIdentityAfterTruncation: lines read after an in-place truncation
// carry another identity than those before it.
func TestIdentityAfterTruncation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	write(t, path, "a1\n")
	task := startTask(t, "file="+path)
	before := collect(t, task, 1)[0].Source.Identity()
	os.Truncate(path, 0)
	write(t, path, "b1\nb2\n")
	recs := collect(t, task, 2)
	if after := recs[0].Source.Identity(); after == before || !strings.HasPrefix(after, strings.Join(strings.Split(before, ":")[:2], ":")+":") {
		t.Fatalf("identity %q before, %q after", before, after)
	}
}

// TestTruncatedThenRenamedWhileStopped: the stored offset predates an
// in-place truncation that the task followed; then the file is renamed
// while no task runs. The next run finds the renamed file by its inode and
// resumes it after the last line sent from its new content.
func TestTruncatedThenRenamedWhileStopped(t *testing.T) {
	path, p, task := firstRun(t, "a1\na2\n", 2, 1)
	os.Truncate(path, 0)
	write(t, path, "b1\nb2\n")
	if got := collectRun(t, task, p, 2); fmt.Sprint(got) != "[b1 b2]" {
		t.Fatalf("got %q", got)
	}
	task.Stop()

	write(t, path, "b3\n")
	os.Rename(path, path+".1")
	write(t, path, "c1\n")
	task = startRun(t, p, "file="+path)
	if got := collectRun(t, task, p, 2); fmt.Sprint(got) != "[b3 c1]" {
		t.Fatalf("got %q, want [b3 c1]", got)
	}
	none(t, task)
}

// TestStaleOffsetTwoRotations: the stored offset names a file the task had
// finished and left for the next one, which was then renamed while no task
// ran. The next run finds that later file through the topic and reads its
// rest before the file now at the path.
func TestStaleOffsetTwoRotations(t *testing.T) {
	path, p, task := firstRun(t, "a1\n", 1, 0)
	os.Rename(path, path+".1")
	write(t, path, "b1\n")
	if got := collectRun(t, task, p, 1); fmt.Sprint(got) != "[b1]" {
		t.Fatalf("got %q", got)
	}
	task.Stop()

	write(t, path, "b2\n")
	os.Rename(path, path+".2")
	b, _ := os.ReadFile(path + ".2")
	os.WriteFile(path+".2.copy", b, 0o644) // a copy: never read, not to be read
	write(t, path, "c1\n")
	task = startRun(t, p, "file="+path)
	if got := collectRun(t, task, p, 2); fmt.Sprint(got) != "[b2 c1]" {
		t.Fatalf("got %q, want [b2 c1]", got)
	}
	none(t, task)
}

// TestTruncationWithSameTail: the file is truncated and written again past
// the position before the task looks, and the bytes before the position
// happen to be the same; the first line tells the new content apart.
func TestTruncationWithSameTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	a := "a1 " + strings.Repeat("x", 20) + "\n"
	b := "b1\n" + "b2" + strings.Repeat("x", 18) + "\n"
	if len(a) != len(b) || a[len(a)-16:] != b[len(b)-16:] {
		t.Fatal("bad test data")
	}
	write(t, path, a)
	task := startTask(t, "file="+path)
	collect(t, task, 1)
	os.Truncate(path, 0)
	write(t, path, b+"b3\n")
	if got := values(collect(t, task, 3)); fmt.Sprint(got) != "[b1 b2"+strings.Repeat("x", 18)+" b3]" {
		t.Fatalf("got %q", got)
	}
}

// TestIdentityWaitsForFirstLine: a first line still being written when the
// task first reads the file does not leave the file's records without the
// fingerprint of that line.
func TestIdentityWaitsForFirstLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	write(t, path, "a1")
	task := startTask(t, "file="+path)
	none(t, task)
	write(t, path, "\n")
	got := collect(t, task, 1)[0].Source.Identity()
	if want, ok := task.fullIdentity(task.f, task.id); !ok || got != want {
		t.Fatalf("identity %q, want %q", got, want)
	}
}
