package connect_test

import (
	"bytes"
	"context"
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
	"github.com/tributary-io/tributary/connect/data"
)

// structuredLines is the README's example of field-level transforms on a
// source: each access-log line becomes a Struct {line, host, read_at},
// written by the JsonConverter with its schema.
var structuredLines = []string{
	"value.converter=org.apache.kafka.connect.json.JsonConverter",
	"value.converter.schemas.enable=true",
	"transforms=wrap,host,readat",
	"transforms.wrap.type=org.apache.kafka.connect.transforms.HoistField$Value",
	"transforms.wrap.field=line",
	"transforms.host.type=org.apache.kafka.connect.transforms.InsertField$Value",
	"transforms.host.static.field=host",
	"transforms.host.static.value=web-1",
	"transforms.readat.type=org.apache.kafka.connect.transforms.InsertField$Value",
	"transforms.readat.timestamp.field=read_at",
}

// lineBack is the sink's side: the line taken out of the Struct again.
var lineBack = []string{
	"value.converter=org.apache.kafka.connect.json.JsonConverter",
	"value.converter.schemas.enable=true",
	"transforms=line",
	"transforms.line.type=org.apache.kafka.connect.transforms.ExtractField$Value",
	"transforms.line.field=line",
}

// TestFieldTransformsPipeline: a source wraps each line into a Struct with
// HoistField and adds fields with InsertField; the topic holds the
// JsonConverter's envelope of that Struct (schema and payload, as Kafka
// writes them); a sink takes the line out with ExtractField and its file
// is the source file again, on the bundled broker and kfake, across a
// clean restart and a crash (an older offsets file) with nothing lost or
// written twice.
func TestFieldTransformsPipeline(t *testing.T) {
	for _, cluster := range []struct {
		name  string
		start func(testing.TB) string
	}{{"bundled", startBundledBroker}, {"kfake", startKfake}} {
		t.Run(cluster.name, func(t *testing.T) {
			addr := cluster.start(t)
			dir := t.TempDir()
			in, out := filepath.Join(dir, "access.log"), filepath.Join(dir, "out.txt")
			offsets := filepath.Join(dir, "connect.offsets")
			src := func() *config.Props { return sourceProps(dir, in, "access", structuredLines...) }
			snk := func() *config.Props { return sinkProps(dir, out, "access", lineBack...) }
			start := time.Now().Add(-time.Second)

			want := accessLines(t, in, 0, 300, func(int) bool { return false })
			w := startWorker(t, workerProps(addr, dir), src(), snk())
			waitForFile(t, out, want)
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			saved, err := os.ReadFile(offsets)
			if err != nil {
				t.Fatal(err)
			}
			w = startWorker(t, workerProps(addr, dir), src(), snk())
			want = append(want, accessLines(t, in, 300, 200, func(int) bool { return false })...)
			waitForFile(t, out, want)
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			// A crash: the flushes since saved never happened.
			if err := os.WriteFile(offsets, saved, 0o644); err != nil {
				t.Fatal(err)
			}
			startWorker(t, workerProps(addr, dir), src(), snk())
			want = append(want, accessLines(t, in, 500, 50, func(int) bool { return false })...)
			waitForFile(t, out, want)

			lines := strings.SplitAfter(string(want), "\n")
			n := len(lines) - 1
			recs := consumeAll(t, addr, "access", n)
			if len(recs) != n {
				t.Fatalf("access holds %d records, want %d", len(recs), n)
			}
			wantSchema := `{"type":"struct","fields":[{"type":"string","optional":false,"field":"line"},` +
				`{"type":"string","optional":true,"field":"host"},` +
				`{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"read_at"}],"optional":false}`
			for i, r := range recs {
				if !bytes.HasPrefix(r.Value, []byte(`{"schema":`+wantSchema+`,"payload":{"line":`)) {
					t.Fatalf("record %d: %s", i, r.Value)
				}
				s, v, err := data.DecodeJSON(r.Value, true)
				if err != nil || s == nil {
					t.Fatalf("record %d: %v", i, err)
				}
				st := v.(*data.Struct)
				line, _ := st.Get("line")
				host, _ := st.Get("host")
				at, _ := st.Get("read_at")
				if line != strings.TrimSuffix(lines[i], "\n") || host != "web-1" {
					t.Fatalf("record %d: %s", i, data.AppendJava(nil, st))
				}
				if ts, ok := at.(time.Time); !ok || ts.Before(start) || ts.After(time.Now()) {
					t.Fatalf("record %d: read_at %v", i, at)
				}
			}
		})
	}
}

// TestSourceTransformErrors: a line the transforms fail on (Cast of a
// non-number) fails the task with errors.tolerance=none, naming the record
// and Kafka's message, with nothing after it sent and no offset stored;
// with all it is skipped (logged with errors.log.enable), the others are
// sent, and the offset passes it.
func TestSourceTransformErrors(t *testing.T) {
	addr := startKfake(t)
	cast := []string{
		"transforms=n",
		"transforms.n.type=org.apache.kafka.connect.transforms.Cast$Value",
		"transforms.n.spec=int32",
		"value.converter=org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable=false",
	}
	t.Run("none", func(t *testing.T) {
		dir := t.TempDir()
		in := filepath.Join(dir, "in.log")
		appendFile(t, in, []byte("1\n2\nthree\n4\n"))
		w := startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "numbers-none", cast...))
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
		for _, want := range []string{`record at position 4 of {\"filename\":`, "Cast", "three"} {
			if !strings.Contains(body, want) {
				t.Errorf("status %s\ndoes not say %s", body, want)
			}
		}
	})
	t.Run("all", func(t *testing.T) {
		dir := t.TempDir()
		in := filepath.Join(dir, "in.log")
		appendFile(t, in, []byte("1\n2\nthree\n4\n"))
		var logs logBuffer
		w := newWorkerLogging(t, workerProps(addr, dir), slog.New(slog.NewTextHandler(&logs, nil)))
		if err := w.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := w.StartConnector(context.Background(), sourceProps(dir, in, "numbers-all",
			append(cast, "errors.tolerance=all", "errors.log.enable=true")...)); err != nil {
			t.Fatal(err)
		}
		recs := consumeAll(t, addr, "numbers-all", 3)
		var got []string
		for _, r := range recs {
			got = append(got, string(r.Value))
		}
		if fmt.Sprint(got) != "[1 2 4]" {
			t.Errorf("sent %q, want 1, 2 and 4 as JSON numbers", got)
		}
		waitFor(t, 30*time.Second, "the offset to pass the bad line", func() bool {
			b, _ := os.ReadFile(filepath.Join(dir, "connect.offsets"))
			return bytes.Contains(b, fmt.Appendf(nil, `"position":%d,`, fileSize(in)))
		})
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if l := logs.tail(1 << 20); !strings.Contains(l, "bad record skipped") || !strings.Contains(l, "three") {
			t.Errorf("log does not report the skipped line:\n%s", l)
		}
	})
}
