package filesink

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/connect"
)

func topicRecs(topic string, part int32, vals ...string) []connect.SinkRecord {
	out := recs(vals...)
	for i := range out {
		out[i].Topic, out[i].Partition = topic, part
	}
	return out
}

// TestTemplateFiles: a file per topic and partition, and a state that
// names each with its size.
func TestTemplateFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	task, err := start(t, filepath.Join(dir, "${topic}-${partition}.log"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task.Open(ctx, nil); err != nil {
		t.Fatal(err)
	}
	batch := append(topicRecs("a", 0, "a1", "a2"), topicRecs("b", 1, "b1")...)
	batch = append(batch, topicRecs("a", 0, "a3")...)
	if err := task.Put(ctx, batch); err != nil {
		t.Fatal(err)
	}
	st, err := task.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "a-0.log")); got != "a1\na2\na3\n" {
		t.Fatalf("a-0.log: %q", got)
	}
	if got := read(t, filepath.Join(dir, "b-1.log")); got != "b1\n" {
		t.Fatalf("b-1.log: %q", got)
	}
	var fs fileStates
	if err := json.Unmarshal([]byte(st), &fs); err != nil || len(fs.Files) != 2 || fs.Files[0].Size != 9 || fs.Files[1].Size != 3 {
		t.Fatalf("state %s: %v", st, err)
	}
}

// TestTemplateCrash: what was written after the last commit is cut on
// restart: in a file the commit holds, back to its size then; in a file
// first written after it, back to its size before (empty when the sink
// made it, a user's lines kept when it was there before).
func TestTemplateCrash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "${topic}.log")
	os.WriteFile(filepath.Join(dir, "c.log"), []byte("a user's line\n"), 0o644)
	task, err := start(t, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	task.Open(ctx, nil)
	task.Put(ctx, topicRecs("a", 0, "a1", "a2"))
	committed, err := task.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	task.Put(ctx, topicRecs("a", 0, "a3"))
	task.Put(ctx, topicRecs("b", 0, "b1"))
	task.Put(ctx, topicRecs("c", 0, "c1"))
	if _, err := task.Flush(ctx); err != nil { // flushed, never committed
		t.Fatal(err)
	}
	// kill -9: no Stop.

	again, err := start(t, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Open(ctx, []string{committed}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a.log": "a1\na2\n", "b.log": "", "c.log": "a user's line\n"} {
		if got := read(t, filepath.Join(dir, name)); got != want {
			t.Errorf("%s after the restart: %q, want %q", name, got, want)
		}
	}
	// Written again, then committed: the journal forgets them on the next
	// restart.
	again.Put(ctx, append(topicRecs("a", 0, "a3"), append(topicRecs("b", 0, "b1"), topicRecs("c", 0, "c1")...)...))
	st, err := again.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again.Stop()
	third, err := start(t, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := third.Open(ctx, []string{st}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a.log": "a1\na2\na3\n", "b.log": "b1\n", "c.log": "a user's line\nc1\n"} {
		if got := read(t, filepath.Join(dir, name)); got != want {
			t.Errorf("%s after the second restart: %q, want %q", name, got, want)
		}
	}
	j, _ := os.ReadFile(filepath.Join(dir, ".sink.tributary-sink.json"))
	if strings.Contains(string(j), "b.log") || strings.Contains(string(j), "c.log") {
		t.Errorf("the journal still holds committed files: %s", j)
	}
}

func TestTemplateErrors(t *testing.T) {
	dir := t.TempDir()
	for _, file := range []string{filepath.Join(dir, "${key}.log"), filepath.Join(dir, "missing", "x", "${topic}.log")} {
		if _, err := start(t, file); err == nil || !strings.Contains(err.Error(), "sink.properties: file: ") {
			t.Errorf("%s: got %v, want an error naming the file and key", file, err)
		}
	}
}

// TestTemplateLaterAssignment: an assignment after the first (a new topic
// matched by topics.regex) cuts nothing, even of files first written since
// the last commit.
func TestTemplateLaterAssignment(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	task, err := start(t, filepath.Join(dir, "${topic}.log"))
	if err != nil {
		t.Fatal(err)
	}
	task.Open(ctx, nil)
	task.Put(ctx, topicRecs("a", 0, "a1"))
	if _, err := task.Open(ctx, nil); err != nil {
		t.Fatal(err)
	}
	task.Put(ctx, topicRecs("a", 0, "a2"))
	if _, err := task.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "a.log")); got != "a1\na2\n" {
		t.Fatalf("a.log: %q", got)
	}
}

// TestTemplateFilename: ${filename} is the base name of each record's file
// header; a record without one goes to a file named after its topic.
func TestTemplateFilename(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	task, err := start(t, filepath.Join(dir, "${filename}"))
	if err != nil {
		t.Fatal(err)
	}
	if !task.ReadsHeaders() {
		t.Fatal("the task does not ask for headers")
	}
	task.Open(ctx, nil)
	batch := topicRecs("logs", 0, "a1", "b1", "a2", "none")
	for i, f := range []string{"/var/log/nginx/a.log", "/srv/b.log", "/var/log/nginx/a.log"} {
		batch[i].Headers = []connect.Header{{Key: "tributary.source", Value: []byte("x")}, {Key: "file", Value: []byte(f)}}
	}
	if err := task.Put(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if _, err := task.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a.log": "a1\na2\n", "b.log": "b1\n", "logs": "none\n"} {
		if got := read(t, filepath.Join(dir, name)); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}
