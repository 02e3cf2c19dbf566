package connect_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/config"
)

// manyLogs writes lines to a folder of logs, each line naming its file and
// number so that the topic can be checked line by line.
type manyLogs struct {
	t     testing.TB
	dir   string
	next  map[string]int // by base name (the writer's current file)
	lines map[string]bool
}

func newManyLogs(t testing.TB, dir string) *manyLogs {
	return &manyLogs{t: t, dir: dir, next: map[string]int{}, lines: map[string]bool{}}
}

func (l *manyLogs) write(name string, n int) {
	var b strings.Builder
	for range n {
		line := fmt.Sprintf("%s %06d", name, l.next[name])
		l.next[name]++
		l.lines[line] = true
		b.WriteString(line + "\n")
	}
	appendFile(l.t, filepath.Join(l.dir, name), []byte(b.String()))
}

// check consumes the topic and compares it with the lines written: each
// exactly once, each record with its file's header and topic.
func (l *manyLogs) check(t testing.TB, addr string) {
	t.Helper()
	recs := consumeAllTopics(t, addr, len(l.lines))
	seen := map[string]int{}
	for _, r := range recs {
		seen[string(r.Value)]++
		var file string
		for _, h := range r.Headers {
			if h.Key == "file" {
				file = string(h.Value)
			}
		}
		if !strings.HasPrefix(file, l.dir+string(filepath.Separator)) || !strings.HasPrefix(r.Topic, "logs-") {
			t.Fatalf("record %q: topic %q, file header %q", r.Value, r.Topic, file)
		}
	}
	for line, n := range seen {
		if !l.lines[line] || n != 1 {
			t.Errorf("line %q is in the topics %d times", line, n)
		}
	}
	if len(seen) != len(l.lines) {
		t.Fatalf("topics hold %d different lines, want %d", len(seen), len(l.lines))
	}
}

// consumeAllTopics reads every logs-* topic until n records arrived, and
// then a little more, so that duplicates would show.
func consumeAllTopics(t testing.TB, addr string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeRegex(), kgo.ConsumeTopics("logs-.*"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(50*time.Millisecond), kgo.MetadataMaxAge(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records", len(out), n)
		}
		out = append(out, fs.Records()...)
	}
	extra, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	out = append(out, cl.PollFetches(extra).Records()...)
	return out
}

// TestManyFilesPipeline: one source connector reads a folder of logs
// (files=*.log*) into a topic per file, while files appear, are rotated by
// dated rename (which the pattern also matches) and by numbered rename, and
// the worker restarts, cleanly and with its last offset flush lost. Every
// line reaches the topics once, with its file's header.
func TestManyFilesPipeline(t *testing.T) {
	for _, cluster := range []struct {
		name  string
		start func(testing.TB) string
	}{{"bundled", startBundledBroker}, {"kfake", startKfake}} {
		t.Run(cluster.name, func(t *testing.T) {
			addr := cluster.start(t)
			dir := t.TempDir()
			logs := filepath.Join(dir, "logs")
			os.Mkdir(logs, 0o755)
			l := newManyLogs(t, logs)
			for i := range 10 {
				l.write(fmt.Sprintf("app%d.log", i), 50)
			}
			src := config.FromMap(filepath.Join(dir, "source.properties"), map[string]string{
				"name": "src", "connector.class": "FileStreamSource",
				"files": filepath.Join(logs, "*.log*"), "topic": "logs-${filename}",
			})
			offsets := filepath.Join(dir, "connect.offsets")
			w := startWorker(t, workerProps(addr, dir), src)
			l.check(t, addr)

			// New files, appends, and a dated rename of two files with
			// lines written to the renamed file and to the new one.
			for i := 10; i < 15; i++ {
				l.write(fmt.Sprintf("app%d.log", i), 20)
			}
			for _, i := range []int{0, 1} {
				name := fmt.Sprintf("app%d.log", i)
				if err := os.Rename(filepath.Join(logs, name), filepath.Join(logs, name+"-20261204")); err != nil {
					t.Fatal(err)
				}
				l.next[name+"-20261204"] = 1000
				l.write(name+"-20261204", 5) // the writer had it open
				l.write(name, 30)
			}
			l.check(t, addr)
			w.Close(context.Background())
			saved, err := os.ReadFile(offsets)
			if err != nil {
				t.Fatal(err)
			}

			// Numbered rotation while the worker runs, then a restart
			// whose offsets are those of the run before (a lost flush).
			w = startWorker(t, workerProps(addr, dir), src)
			os.Rename(filepath.Join(logs, "app2.log"), filepath.Join(logs, "app2.log.1"))
			l.next["app2.log.1"] = 2000
			l.write("app2.log.1", 3)
			l.write("app2.log", 7)
			l.write("app3.log", 7)
			l.check(t, addr)
			w.Close(context.Background())
			if err := os.WriteFile(offsets, saved, 0o644); err != nil {
				t.Fatal(err)
			}
			startWorker(t, workerProps(addr, dir), src)
			l.write("app4.log", 9)
			l.write("app0.log", 9)
			l.check(t, addr)
		})
	}
}

// TestManyFilesToManyFiles: a folder of logs into a topic per file and a
// sink writing a file per topic (file=out/${topic}), or into one topic and
// a sink writing a file per source file (file=out/${filename}, from the
// records' file header): each output file is its log, line for line,
// across a clean restart and one whose last flush of offsets and commits
// was lost, with the bundled broker and kfake.
func TestManyFilesToManyFiles(t *testing.T) {
	for _, c := range []struct {
		name        string
		start       func(testing.TB) string
		topic, file string
		outName     func(string) string
	}{
		{"bundled/topics", startBundledBroker, "logs-${filename}", "${topic}", func(n string) string { return "logs-" + n }},
		{"kfake/topics", startKfake, "logs-${filename}", "${topic}", func(n string) string { return "logs-" + n }},
		{"bundled/headers", startBundledBroker, "logs-all", "${filename}", func(n string) string { return n }},
		{"kfake/headers", startKfake, "logs-all", "${filename}", func(n string) string { return n }},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := c.start(t)
			dir := t.TempDir()
			logs, out := filepath.Join(dir, "logs"), filepath.Join(dir, "out")
			os.Mkdir(logs, 0o755)
			os.Mkdir(out, 0o755)
			src := config.FromMap(filepath.Join(dir, "source.properties"), map[string]string{
				"name": "src", "connector.class": "FileStreamSource",
				"files": filepath.Join(logs, "*.log"), "topic": c.topic,
			})
			sink := config.FromMap(filepath.Join(dir, "sink.properties"), map[string]string{
				"name": "sink", "connector.class": "FileStreamSink",
				"topics.regex": "logs-.*", "file": filepath.Join(out, c.file),
			})
			// New topics are found by the sink's consumer at its metadata
			// refreshes (five minutes by default, as in Kafka).
			wp := func() *config.Props { return workerProps(addr, dir, "consumer.metadata.max.age.ms=5000") }
			want := map[string][]byte{}
			add := func(name string, from, n int) {
				want[name] = append(want[name], appendLines(t, filepath.Join(logs, name), from, n)...)
			}
			check := func() {
				t.Helper()
				for name, b := range want {
					waitForFile(t, filepath.Join(out, c.outName(name)), b)
				}
			}
			for i := range 4 {
				add(fmt.Sprintf("app%d.log", i), 0, 200)
			}
			w := startWorker(t, wp(), src, sink)
			check()
			add("app0.log", 200, 50)
			add("app9.log", 0, 30) // a new file, a new topic
			check()
			w.Close(context.Background())
			saved, err := os.ReadFile(filepath.Join(dir, "connect.offsets"))
			if err != nil {
				t.Fatal(err)
			}

			w = startWorker(t, wp(), src, sink)
			add("app1.log", 200, 100)
			add("app7.log", 0, 20)
			check()
			w.Close(context.Background())
			os.WriteFile(filepath.Join(dir, "connect.offsets"), saved, 0o644)
			startWorker(t, wp(), src, sink)
			add("app2.log", 200, 10)
			check()
		})
	}
}

// TestRenamedBeforeItsOffsetMoved: a log's stored offset is still in the
// file before the current one when the worker stops, the current one had
// some lines sent, and both are rotated to dated names (matched by the
// pattern) before the restart, whose offsets for the dated names are lost.
// The lines sent of the current file went under the log's own name, to its
// Kafka partition, or to its own topic with a topic per file: the restart
// finds them there and sends none of them again.
func TestRenamedBeforeItsOffsetMoved(t *testing.T) {
	for _, topic := range []string{"logs-all", "logs-${filename}"} {
		t.Run(topic, func(t *testing.T) {
			addr := startKfake(t) // 10 partitions a topic
			dir := t.TempDir()
			logs := filepath.Join(dir, "logs")
			os.Mkdir(logs, 0o755)
			l := newManyLogs(t, logs)
			src := config.FromMap(filepath.Join(dir, "source.properties"), map[string]string{
				"name": "src", "connector.class": "FileStreamSource",
				"files": filepath.Join(logs, "app.log*"), "topic": topic,
			})
			offsets := filepath.Join(dir, "connect.offsets")
			run := func() {
				t.Helper()
				w := startWorker(t, workerProps(addr, dir), src)
				l.check(t, addr)
				if err := w.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			rename := func(from, to string) {
				t.Helper()
				if err := os.Rename(filepath.Join(logs, from), filepath.Join(logs, to)); err != nil {
					t.Fatal(err)
				}
			}

			l.write("app.log", 10)
			run()
			saved, err := os.ReadFile(offsets) // app.log's position in its first file
			if err != nil {
				t.Fatal(err)
			}
			rename("app.log", "app.log-1")
			l.write("app.log", 5)
			run() // finishes app.log-1 for app.log, then reads the new app.log
			if err := os.WriteFile(offsets, saved, 0o644); err != nil {
				t.Fatal(err)
			}
			rename("app.log", "app.log-2")
			l.write("app.log", 3)
			run()
		})
	}
}
