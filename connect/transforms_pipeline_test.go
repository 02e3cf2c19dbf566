package connect_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/config"
)

// accessLines appends n access-log lines to path, those for which health
// says so health checks (GET /health), and returns the others.
func accessLines(t testing.TB, path string, from, n int, health func(i int) bool) []byte {
	t.Helper()
	var all, kept bytes.Buffer
	for i := from; i < from+n; i++ {
		if health(i) {
			fmt.Fprintf(&all, "10.0.0.%d - - [07/Mar/2026:14:05:%02d +0000] \"GET /health HTTP/1.1\" 200 2\n", i%250, i%60)
			continue
		}
		line := fmt.Sprintf("192.168.1.%d - - [07/Mar/2026:14:05:%02d +0000] \"GET /page/%d HTTP/1.1\" 200 %d\n", i%250, i%60, i, 100+i)
		all.WriteString(line)
		kept.WriteString(line)
	}
	appendFile(t, path, all.Bytes())
	return kept.Bytes()
}

func everyThird(i int) bool { return i%3 == 2 }

// routeAndFilter are the README's transforms: access-log lines go to the
// topic web-access instead of access, and health checks are dropped.
var routeAndFilter = []string{
	"transforms=route,drophealth",
	"transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter",
	"transforms.route.regex=access(.*)",
	"transforms.route.replacement=web-access$1",
	"transforms.drophealth.type=org.apache.kafka.connect.transforms.Filter",
	"transforms.drophealth.predicate=health",
	"predicates=health",
	"predicates.health.type=io.tributary.connect.transforms.predicates.ValueMatches",
	"predicates.health.pattern=\"GET /health",
}

// storedPosition reads the source offset of file from an offsets file.
func storedPosition(t testing.TB, offsets, file string) string {
	t.Helper()
	b, err := os.ReadFile(offsets)
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf(`{"key":["src",{"filename":%q}],"value":{"position":`, file)
	i := bytes.LastIndex(b, []byte(key))
	if i < 0 {
		t.Fatalf("offsets file has no entry for %s:\n%s", file, b)
	}
	rest := b[i+len(key):]
	return string(rest[:bytes.IndexAny(rest, ",}")])
}

// TestTransformsRouteAndFilterAccessLog runs an access log through
// RegexRouter (to another topic) and Filter with the value-regex predicate
// (health checks dropped), on the bundled broker and kfake: the routed
// topic and the sink's file hold exactly the other lines, in order; the
// file's offset goes past dropped lines (the last ones of the file among
// them, and a batch of nothing else); a clean restart and a restart from an
// older offsets file (a crash) send nothing twice and lose nothing.
func TestTransformsRouteAndFilterAccessLog(t *testing.T) {
	for _, cluster := range []struct {
		name  string
		start func(testing.TB) string
	}{{"bundled", startBundledBroker}, {"kfake", startKfake}} {
		t.Run(cluster.name, func(t *testing.T) {
			addr := cluster.start(t)
			dir := t.TempDir()
			in, out := filepath.Join(dir, "access.log"), filepath.Join(dir, "out.txt")
			offsets := filepath.Join(dir, "connect.offsets")
			src := func() *config.Props { return sourceProps(dir, in, "access", routeAndFilter...) }
			snk := func() *config.Props { return sinkProps(dir, out, "web-access") }

			want := accessLines(t, in, 0, 600, everyThird) // ends with a health check
			w := startWorker(t, workerProps(addr, dir), src(), snk())
			waitForFile(t, out, want)
			// A poll of health checks alone: its offset is stored after
			// the earlier ones.
			accessLines(t, in, 600, 50, func(int) bool { return true })
			size := fileSize(in)
			waitFor(t, 30*time.Second, "the offset to pass the dropped lines", func() bool {
				b, _ := os.ReadFile(offsets)
				return bytes.Contains(b, fmt.Appendf(nil, `"position":%d,`, size))
			})
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := storedPosition(t, offsets, in); got != fmt.Sprint(size) {
				t.Fatalf("stored position %s, want the file's size %d", got, size)
			}
			saved, err := os.ReadFile(offsets)
			if err != nil {
				t.Fatal(err)
			}
			n := bytes.Count(want, []byte("\n"))

			// Clean restart: nothing read again is sent again.
			w = startWorker(t, workerProps(addr, dir), src(), snk())
			want = append(want, accessLines(t, in, 650, 400, everyThird)...)
			waitForFile(t, out, want)
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}

			// A crash: the offsets flushes since saved never happened. The
			// restart finds what reached Kafka through the dropped lines.
			if err := os.WriteFile(offsets, saved, 0o644); err != nil {
				t.Fatal(err)
			}
			startWorker(t, workerProps(addr, dir), src(), snk())
			want = append(want, accessLines(t, in, 1050, 30, everyThird)...)
			waitForFile(t, out, want)

			n = bytes.Count(want, []byte("\n"))
			recs := consumeAll(t, addr, "web-access", n)
			if len(recs) != n {
				t.Fatalf("web-access holds %d records, want %d", len(recs), n)
			}
			lines := strings.SplitAfter(string(want), "\n")
			for i, r := range recs {
				if string(r.Value)+"\n" != lines[i] {
					t.Fatalf("record %d: %q, want %q", i, r.Value, lines[i])
				}
			}
		})
	}
}

// TestTransformsValidation: a connector file with bad transforms is refused
// with every problem named by file and key; the transforms.* and
// predicates.* keys in use draw no unknown-key warning, a misspelt one
// does.
func TestTransformsValidation(t *testing.T) {
	dir := t.TempDir()
	w := newWorker(t, workerProps("127.0.0.1:1", dir))
	bad := sourceProps(dir, filepath.Join(dir, "in"), "t",
		"transforms=a,b,c",
		"transforms.a.type=org.apache.kafka.connect.transforms.Nope",
		"transforms.b.type=RegexRouter",
		"transforms.b.regex=(",
		"transforms.c.type=Filter",
		"transforms.c.predicate=missing",
	)
	err := w.ValidateConnector(bad)
	var ce *config.Error
	if err == nil || !errors.As(err, &ce) {
		t.Fatalf("err = %v, want config errors", err)
	}
	for _, want := range []string{
		"source.properties: transforms.a.type: \"org.apache.kafka.connect.transforms.Nope\" Class org.apache.kafka.connect.transforms.Nope could not be found",
		"source.properties: transforms.b.regex: \"(\" is not a valid regular expression",
		"source.properties: transforms.b.replacement: missing required key",
		"source.properties: transforms.c.predicate: \"missing\" names a predicate that is not in predicates",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\ndoes not say %s", err, want)
		}
	}

	addr := startKfake(t)
	var logs logBuffer
	w = newWorkerLogging(t, workerProps(addr, dir), slog.New(slog.NewTextHandler(&logs, nil)))
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	in := filepath.Join(dir, "in.log")
	os.WriteFile(in, nil, 0o644)
	good := sourceProps(dir, in, "access", append(routeAndFilter, "transforms.route.replacment=typo")...)
	if err := w.StartConnector(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	got := logs.tail(1 << 20)
	if !strings.Contains(got, "The configuration 'transforms.route.replacment' was supplied but isn't a known config") {
		t.Errorf("no warning for the misspelt key:\n%s", got)
	}
	for _, k := range []string{"'transforms'", "'transforms.route.regex'", "'predicates.health.pattern'", "'transforms.drophealth.predicate'"} {
		if strings.Contains(got, "The configuration "+k) {
			t.Errorf("warned about %s, which is used:\n%s", k, got)
		}
	}
}

// TestTransformsRouteToIllegalTopic: a record routed to a name Kafka
// refuses fails the task, naming the record, the topic and Kafka's reason;
// nothing is sent and the offset does not move.
func TestTransformsRouteToIllegalTopic(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.log")
	appendLines(t, in, 0, 3)
	w := startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "lines",
		"transforms=r",
		"transforms.r.type=RegexRouter",
		"transforms.r.regex=lines",
		"transforms.r.replacement=bad topic"))
	var body string
	waitFor(t, 30*time.Second, "the task to fail", func() bool {
		resp, err := http.Get("http://" + w.RESTAddr() + "/connectors/src/status")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, `"FAILED"`)
	})
	for _, want := range []string{`record at position 0 of {\"filename\":`, `the transforms route it to topic \"bad topic\"`, "contains a character other than ASCII alphanumerics"} {
		if !strings.Contains(body, want) {
			t.Errorf("status %s\ndoes not say %s", body, want)
		}
	}
	w.Close(context.Background())
	if b, _ := os.ReadFile(filepath.Join(dir, "connect.offsets")); bytes.Contains(b, []byte(`"position"`)) {
		t.Errorf("an offset was stored: %s", b)
	}
}

// TestTransformsOnTheSink: a sink's transforms run after conversion,
// before the file is written; dropped records are committed like written
// ones, so a restart writes nothing twice.
func TestTransformsOnTheSink(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	snk := func() *config.Props {
		return sinkProps(dir, out, "lines",
			"transforms=odd",
			"transforms.odd.type=Filter",
			"transforms.odd.predicate=odd",
			"predicates=odd",
			"predicates.odd.type=io.tributary.connect.transforms.predicates.ValueMatches",
			"predicates.odd.pattern=^line [0-9]*[13579]\\b")
	}
	even := func(all []byte) []byte {
		var b bytes.Buffer
		for i, l := range strings.SplitAfter(string(all), "\n") {
			if i%2 == 0 {
				b.WriteString(l)
			}
		}
		return b.Bytes()
	}
	want := even(appendLines(t, in, 0, 400))
	w := startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "lines"), snk())
	waitForFile(t, out, want)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "lines"), snk())
	want = append(want, even(appendLines(t, in, 400, 100))...)
	waitForFile(t, out, want)
}
