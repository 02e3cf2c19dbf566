package connect_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
	"github.com/tributary-io/tributary/connectors/filesink"
	"github.com/tributary-io/tributary/connectors/filesource"
)

// startKfake starts franz-go's kfake, an independent Kafka implementation,
// as the external cluster.
func startKfake(t testing.TB) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

func registry(t testing.TB) *connect.Registry {
	reg := connect.NewRegistry()
	for _, p := range []connect.Plugin{filesource.Plugin("test"), filesink.Plugin("test")} {
		if err := reg.Register(p); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// testLogger is the worker's log in a test: on stderr with
// CONNECT_TEST_LOG set, else kept (from Info up) and printed only if the
// test fails, so that a failure seen once says what the worker did.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("CONNECT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	buf := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker log (the last 64 KiB):\n%s", buf.tail(64<<10))
		}
	})
	return slog.New(slog.NewTextHandler(buf, nil))
}

// logBuffer keeps what a logger writes, for concurrent writers.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.b.Bytes()
	return string(b[max(0, len(b)-n):])
}

// workerProps is a worker file for tests: the cluster, the offsets file in
// dir, REST on a free port, fast flushes.
func workerProps(addr, dir string, extra ...string) *config.Props {
	m := map[string]string{
		"bootstrap.servers":            addr,
		"offset.storage.file.filename": filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms":     "200",
		"listeners":                    "http://127.0.0.1:0",
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return config.FromMap(filepath.Join(dir, "worker.properties"), m)
}

// newWorker builds, but does not start, a worker of the worker file props.
func newWorker(t testing.TB, props *config.Props) *connect.Worker {
	t.Helper()
	return newWorkerLogging(t, props, testLogger(t))
}

// newWorkerLogging is newWorker logging to log.
func newWorkerLogging(t testing.TB, props *config.Props, log *slog.Logger) *connect.Worker {
	t.Helper()
	vals, err := connect.WorkerDef().Parse(props)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := connect.ParseWorkerConfig(vals)
	if err != nil {
		t.Fatal(err)
	}
	w, err := connect.NewWorker(cfg, registry(t), log, connect.WithProgressInterval(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func startWorker(t testing.TB, props *config.Props, connectors ...*config.Props) *connect.Worker {
	t.Helper()
	w := newWorker(t, props)
	ctx := context.Background()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	for _, c := range connectors {
		if err := w.StartConnector(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func sourceProps(dir, file, topic string, extra ...string) *config.Props {
	m := map[string]string{
		"name":            "src",
		"connector.class": "FileStreamSource",
		"file":            file,
		"topic":           topic,
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return config.FromMap(filepath.Join(dir, "source.properties"), m)
}

func sinkProps(dir, file, topic string, extra ...string) *config.Props {
	m := map[string]string{
		"name":            "sink",
		"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
		"file":            file,
		"topics":          topic,
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return config.FromMap(filepath.Join(dir, "sink.properties"), m)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitForFile(t testing.TB, path string, want []byte) {
	t.Helper()
	var got []byte
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, _ = os.ReadFile(path)
		if bytes.Equal(got, want) {
			return
		}
		if len(got) > len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: got %d bytes, want %d\n%s", path, len(got), len(want), diffLines(got, want))
}

func diffLines(got, want []byte) string {
	g := strings.Split(string(got), "\n")
	w := strings.Split(string(want), "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("first difference at line %d:\n got  %q\n want %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}

func appendLines(t testing.TB, path string, from, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "line %06d the quick brown fox\n", i)
	}
	appendFile(t, path, b.Bytes())
	return b.Bytes()
}

// appendFile appends b to the file at path, creating it.
func appendFile(t testing.TB, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func consumeAll(t testing.TB, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
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
			t.Fatalf("consumed %d of %d records from %s", len(out), n, topic)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

func TestPipelineKfake(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	want := appendLines(t, in, 0, 500)
	w := startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "lines"), sinkProps(dir, out, "lines"))
	waitForFile(t, out, want)
	want = append(want, appendLines(t, in, 500, 300)...)
	waitForFile(t, out, want)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "connect.offsets"))
	if err != nil {
		t.Fatal(err)
	}
	wantKey := fmt.Sprintf(`{"key":["src",{"filename":%q}],"value":{"position":%d,`, in, len(want))
	if !strings.Contains(string(b), wantKey) {
		t.Fatalf("offsets file:\n%s\nwant an entry starting %s", b, wantKey)
	}
}

func TestJSONEnvelopeEndToEnd(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	lines := "plain line\nwith \"quotes\" and \\ and \ttab\nünïcödé\n"
	os.WriteFile(in, []byte(lines), 0o644)
	// Kafka's stock worker settings.
	wp := workerProps(addr, dir,
		"key.converter=org.apache.kafka.connect.json.JsonConverter",
		"value.converter=org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable=true",
		"value.converter.schemas.enable=true")
	startWorker(t, wp, sourceProps(dir, in, "json"), sinkProps(dir, out, "json"))
	waitForFile(t, out, []byte(lines))
	recs := consumeAll(t, addr, "json", 3)
	want := []string{
		`{"schema":{"type":"string","optional":false},"payload":"plain line"}`,
		`{"schema":{"type":"string","optional":false},"payload":"with \"quotes\" and \\ and \ttab"}`,
		`{"schema":{"type":"string","optional":false},"payload":"ünïcödé"}`,
	}
	for i, r := range recs {
		if string(r.Value) != want[i] {
			t.Errorf("record %d: %s\nwant %s", i, r.Value, want[i])
		}
		if r.Key != nil {
			t.Errorf("record %d: key %q, want null", i, r.Key)
		}
		var pos string
		for _, h := range r.Headers {
			if h.Key == connect.HeaderPosition {
				pos = string(h.Value)
			}
		}
		start, end := len(strings.Join(strings.SplitAfter(lines, "\n")[:i], "")), len(strings.Join(strings.SplitAfter(lines, "\n")[:i+1], ""))
		if wantPos := fmt.Sprintf("%d:%d", end, end-start); pos != wantPos {
			t.Errorf("record %d: position header %q, want %s", i, pos, wantPos)
		}
	}
}

// TestRestartMidStream stops and starts the worker while lines are being
// appended: the sink file ends equal to the source file.
func TestRestartMidStream(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	var want []byte
	want = append(want, appendLines(t, in, 0, 2000)...)
	for round := range 3 {
		w := startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "lines"), sinkProps(dir, out, "lines"))
		for i := range 5 {
			want = append(want, appendLines(t, in, 2000+round*500+i*100, 100)...)
		}
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "lines"), sinkProps(dir, out, "lines"))
	waitForFile(t, out, want)
}

// TestLostFlushesDoNotDuplicate rewinds both halves to what a kill -9 would
// leave: an offsets file older than what was sent, and a sink file longer
// than what was committed. The restarted worker neither repeats nor loses
// a line.
func TestLostFlushesDoNotDuplicate(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	offsets := filepath.Join(dir, "connect.offsets")
	want := appendLines(t, in, 0, 1000)
	w := startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "lines"), sinkProps(dir, out, "lines"))
	waitForFile(t, out, want)
	w.Close(context.Background())
	saved, err := os.ReadFile(offsets)
	if err != nil {
		t.Fatal(err)
	}

	w = startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "lines"), sinkProps(dir, out, "lines"))
	want = append(want, appendLines(t, in, 1000, 1000)...)
	waitForFile(t, out, want)
	w.Close(context.Background())

	// The last offset flush "never happened", and the sink wrote lines it
	// never committed.
	os.WriteFile(offsets, saved, 0o644)
	f, _ := os.OpenFile(out, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("written after the last commit\n")
	f.Close()

	startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "lines"), sinkProps(dir, out, "lines"))
	want = append(want, appendLines(t, in, 2000, 10)...)
	waitForFile(t, out, want)
	recs := consumeAll(t, addr, "lines", 2010)
	if len(recs) != 2010 {
		t.Fatalf("topic holds %d records, want 2010", len(recs))
	}
}

// TestPipelineReusedBatches sends many more batches than the source keeps
// for reuse, with the JSON converter (whose bytes live in the batch's
// arena): every record in the topic carries its own value and position, and
// the sink file is the source file.
func TestPipelineReusedBatches(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	const n = 20000
	want := appendLines(t, in, 0, n)
	startWorker(t, workerProps(addr, dir, "value.converter=org.apache.kafka.connect.json.JsonConverter"),
		sourceProps(dir, in, "reuse", "batch.size=100"), sinkProps(dir, out, "reuse"))
	waitForFile(t, out, want)
	recs := consumeAll(t, addr, "reuse", n)
	var pos int
	for i, r := range recs[:n] {
		line := fmt.Sprintf("line %06d the quick brown fox", i)
		start := pos
		pos += len(line) + 1
		if got, wantV := string(r.Value), `{"schema":{"type":"string","optional":false},"payload":"`+line+`"}`; got != wantV {
			t.Fatalf("record %d: value %s, want %s", i, got, wantV)
		}
		var hp string
		for _, h := range r.Headers {
			if h.Key == connect.HeaderPosition {
				hp = string(h.Value)
			}
		}
		if hp != fmt.Sprintf("%d:%d", pos, pos-start) {
			t.Fatalf("record %d: position header %q, want %d:%d", i, hp, pos, pos-start)
		}
	}
}

// BenchmarkPipeline measures the worker's source and sink loops together
// against kfake (in this process, so its allocations count too): each
// iteration appends 5000 lines and waits until the sink file has them.
func BenchmarkPipeline(b *testing.B) {
	addr := startKfake(b)
	dir := b.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	appendLines(b, in, 0, 1)
	startWorker(b, workerProps(addr, dir, "offset.flush.interval.ms=10000"), sourceProps(dir, in, "bench"), sinkProps(dir, out, "bench"))
	waitFor(b, 30*time.Second, "the first line", func() bool { return fileSize(out) > 0 })
	size := fileSize(out)
	const lines = 5000
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		data := appendLines(b, in, 1+i*lines, lines)
		size += int64(len(data))
		b.SetBytes(int64(len(data)))
		deadline := time.Now().Add(60 * time.Second)
		for fileSize(out) < size {
			if time.Now().After(deadline) {
				b.Fatalf("sink file has %d bytes, want %d", fileSize(out), size)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// TestPositionHeadersOff: with position.headers=false records carry no
// headers, and the cost is the one documented: after a lost offset flush
// (what kill -9 leaves) the lines since the stored offset are sent again.
// Nothing is lost.
func TestPositionHeadersOff(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.log")
	offsets := filepath.Join(dir, "connect.offsets")
	src := sourceProps(dir, in, "bare", "position.headers=false")
	lines := func(b []byte) []string { return strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n") }

	first := appendLines(t, in, 0, 1000)
	w := startWorker(t, workerProps(addr, dir), src)
	recs := consumeAll(t, addr, "bare", 1000)
	for i, r := range recs {
		if len(r.Headers) != 0 {
			t.Fatalf("record %d carries headers %v with position.headers=false", i, r.Headers)
		}
	}
	w.Close(context.Background())
	saved, err := os.ReadFile(offsets)
	if err != nil {
		t.Fatal(err)
	}
	second := appendLines(t, in, 1000, 1000)
	w = startWorker(t, workerProps(addr, dir), src)
	consumeAll(t, addr, "bare", 2000)
	w.Close(context.Background())

	os.WriteFile(offsets, saved, 0o644) // the last flush "never happened"
	third := appendLines(t, in, 2000, 10)
	startWorker(t, workerProps(addr, dir), src)
	recs = consumeAll(t, addr, "bare", 3010)
	var want []string
	for _, b := range [][]byte{first, second, second, third} {
		for _, l := range lines(b) {
			want = append(want, strings.TrimSuffix(l, "\n"))
		}
	}
	if len(recs) != len(want) {
		t.Fatalf("topic holds %d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		if string(r.Value) != want[i] {
			t.Fatalf("record %d is %q, want %q (the lines since the stored offset once more, then the new ones)", i, r.Value, want[i])
		}
	}
}
