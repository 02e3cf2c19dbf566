package filesource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

const javaLog = `2026-12-04 10:00:00 INFO started
2026-12-04 10:00:01 ERROR request failed
java.lang.IllegalStateException: boom
	at com.example.Handler.serve(Handler.java:42)
	at com.example.Main.main(Main.java:7)
Caused by: java.io.IOException: disk full
	at com.example.Store.write(Store.java:13)
	... 2 more
2026-12-04 10:00:02 INFO next
`

const pythonLog = `ERROR:root:job failed
Traceback (most recent call last):
  File "job.py", line 3, in <module>
    run()
  File "job.py", line 2, in run
    raise ValueError("bad input")
ValueError: bad input
INFO:root:retrying
`

const goLog = `2026/12/04 10:00:00 serving
panic: runtime error: index out of range [3] with length 3

goroutine 1 [running]:
main.lookup(...)
	/src/main.go:12
main.main()
	/src/main.go:7 +0x1d
exit status 2
2026/12/04 10:00:05 restarted
`

func events(t *testing.T, content string, n int, kv ...string) []string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "app.log")
	write(t, p, content)
	task := startTask(t, append([]string{"file=" + p, "multiline.timeout.ms=100"}, kv...)...)
	recs := collect(t, task, n)
	for i := 1; i < len(recs); i++ {
		if recs[i].Start != recs[i-1].Position {
			t.Fatalf("event %d starts at %d, the one before ends at %d", i, recs[i].Start, recs[i-1].Position)
		}
	}
	if last := recs[len(recs)-1]; last.Position != int64(len(content)) || last.Proof == "" {
		t.Fatalf("last event ends at %d (proof %q), the file at %d", last.Position, last.Proof, len(content))
	}
	none(t, task)
	return values(recs)
}

func TestMultilinePresets(t *testing.T) {
	cases := []struct {
		preset, content string
		want            []string
	}{
		{"java", javaLog, []string{
			"2026-12-04 10:00:00 INFO started",
			strings.Join(strings.Split(javaLog, "\n")[1:8], "\n"),
			"2026-12-04 10:00:02 INFO next",
		}},
		{"python", pythonLog, []string{
			strings.Join(strings.Split(pythonLog, "\n")[:7], "\n"),
			"INFO:root:retrying",
		}},
		{"go", goLog, []string{
			"2026/12/04 10:00:00 serving",
			strings.Join(strings.Split(goLog, "\n")[1:9], "\n"),
			"2026/12/04 10:00:05 restarted",
		}},
	}
	for _, c := range cases {
		t.Run(c.preset, func(t *testing.T) {
			got := events(t, c.content, len(c.want), "multiline.preset="+c.preset)
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
				t.Fatalf("got\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

func TestMultilineSettings(t *testing.T) {
	dated := "2026-12-04 one\ncontinued\n  more\n2026-12-04 two\n2026-12-04 three\nx\n"
	got := events(t, dated, 3, `multiline.pattern=^\d{4}-`, "multiline.negate=true")
	want := []string{"2026-12-04 one\ncontinued\n  more", "2026-12-04 two", "2026-12-04 three\nx"}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("negate after: got %q, want %q", got, want)
	}

	cont := "a \\\nb \\\nc\nd\ne \\\nf\n"
	got = events(t, cont, 3, `multiline.pattern=\\$`, "multiline.match=before")
	want = []string{"a \\\nb \\\nc", "d", "e \\\nf"}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("before: got %q, want %q", got, want)
	}

	long := "head\n\tat 1\n\tat 2\n\tat 3\n\tat 4\n\tat 5\n"
	got = events(t, long, 2, "multiline.preset=java", "multiline.max.lines=4")
	want = []string{"head\n\tat 1\n\tat 2\n\tat 3", "\tat 4\n\tat 5"}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("max.lines: got %q, want %q", got, want)
	}
	got = events(t, long, 3, "multiline.preset=java", "multiline.max.bytes=12")
	want = []string{"head\n\tat 1", "\tat 2\n\tat 3", "\tat 4\n\tat 5"}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("max.bytes: got %q, want %q", got, want)
	}
}

// TestMultilineWaitsForTheEnd: an event is not sent while its last line
// may still come, and is sent once the next event starts or the file is
// idle for multiline.timeout.ms.
func TestMultilineWaitsForTheEnd(t *testing.T) {
	p := filepath.Join(t.TempDir(), "app.log")
	write(t, p, "ERROR failed\njava.lang.Exception: x\n")
	task := startTask(t, "file="+p, "multiline.preset=java", "multiline.timeout.ms=60000")
	none(t, task)
	write(t, p, "\tat a.B.c(B.java:1)\nINFO next\n")
	recs := collect(t, task, 1)
	if string(recs[0].Value) != "ERROR failed\njava.lang.Exception: x\n\tat a.B.c(B.java:1)" || recs[0].Start != 0 {
		t.Fatalf("got %q from %d", recs[0].Value, recs[0].Start)
	}
	none(t, task)
}

// TestMultilineRestart: a restart never splits or repeats an event: the
// stored position is the end of an event, and an event whose end had not
// come is read again whole.
func TestMultilineRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	write(t, path, javaLog[:strings.Index(javaLog, "Caused by")])
	p := &produced{path: path}
	task := startRun(t, p, "file="+path, "multiline.preset=java", "multiline.timeout.ms=60000")
	recs := collect(t, task, 1)
	p.note(recs)
	p.store(recs[0])
	none(t, task) // the trace's end has not come
	task.Stop()

	write(t, path, javaLog[strings.Index(javaLog, "Caused by"):])
	task = startRun(t, p, "file="+path, "multiline.preset=java", "multiline.timeout.ms=100")
	got := collectRun(t, task, p, 2)
	want := []string{strings.Join(strings.Split(javaLog, "\n")[1:8], "\n"), "2026-12-04 10:00:02 INFO next"}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestMultilineRotation: the event being read when the file is rotated
// ends with the file.
func TestMultilineRotation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	write(t, p, "ERROR failed\n\tat a.B.c(B.java:1)\n")
	task := startTask(t, "file="+p, "multiline.preset=java", "multiline.timeout.ms=60000")
	none(t, task)
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	write(t, p, "\tat continued.in.the.new(File.java:1)\nINFO new\n")
	recs := collect(t, task, 2)
	if got := values(recs); got[0] != "ERROR failed\n\tat a.B.c(B.java:1)" || got[1] != "\tat continued.in.the.new(File.java:1)" {
		t.Fatalf("got %q", got)
	}
}

func TestMultilineConfigErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "app.log")
	for _, c := range []struct{ kv, key string }{
		{"multiline.pattern=(", "multiline.pattern"},
		{"multiline.max.bytes=2000000", "multiline.max.bytes"},
		{"multiline.preset=cobol", "multiline.preset"},
		{"multiline.match=around", "multiline.match"},
	} {
		m := map[string]string{"name": "src", "connector.class": "FileStreamSource", "topic": "t", "file": p, "multiline.pattern": "x"}
		k, v, _ := strings.Cut(c.kv, "=")
		m[k] = v
		_, err := tryConfig(t, m)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: got %v, want an error naming %s", c.kv, err, c.key)
		}
	}
}

// tryConfig parses and starts a task of the settings m.
func tryConfig(t *testing.T, m map[string]string) (*Task, error) {
	t.Helper()
	vals, err := Def().Parse(config.FromMap("source.properties", m))
	if err != nil {
		return nil, err
	}
	task := &Task{}
	if err := task.Start(context.Background(), &connect.SourceTaskContext{Connector: "src", Config: vals}); err != nil {
		return nil, err
	}
	t.Cleanup(func() { task.Stop() })
	return task, nil
}
