package connect_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Apache Kafka's FileStreamSourceConnectorIntegrationTest and
// FileStreamSinkConnectorIntegrationTest (connect/file/src/test/java/org/
// apache/kafka/connect/file/integration), scenario by scenario and with
// their assertions, against a real worker over HTTP, once on the bundled
// broker and once on kfake. As in Kafka's EmbeddedConnectCluster, the
// worker's converters are StringConverter and connectors are created with
// PUT /connectors/{name}/config.

const (
	fiConnector = "test-connector"
	fiTopic     = "test-topic"
	fiLines     = 5 // NUM_LINES and NUM_MESSAGES
	fiTimeout   = 15 * time.Second
)

// fileCluster is one test's worker and cluster (Kafka's
// EmbeddedConnectCluster).
type fileCluster struct {
	t    *testing.T
	addr string // the cluster
	base string // the worker's REST API
	dir  string
}

// fileClusters runs test once on each cluster.
func fileClusters(t *testing.T, test func(*testing.T, *fileCluster)) {
	for _, backend := range []struct {
		name  string
		start func(testing.TB) string
	}{{"bundled", startBundledBroker}, {"kfake", startKfake}} {
		t.Run(backend.name, func(t *testing.T) {
			dir := t.TempDir()
			addr := backend.start(t)
			w := startWorker(t, workerProps(addr, dir, "rest.connector.writes.enable=true",
				"key.converter=org.apache.kafka.connect.storage.StringConverter",
				"value.converter=org.apache.kafka.connect.storage.StringConverter"))
			fc := &fileCluster{t: t, addr: addr, base: "http://" + w.RESTAddr(), dir: dir}
			fc.createTopic(fiTopic)
			test(t, fc)
		})
	}
}

func (fc *fileCluster) admin() *kadm.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(fc.addr))
	if err != nil {
		fc.t.Fatal(err)
	}
	fc.t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func (fc *fileCluster) createTopic(topic string) {
	fc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fiTimeout)
	defer cancel()
	if _, err := fc.admin().CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		fc.t.Fatalf("create topic %s: %v", topic, err)
	}
}

// configureConnector is PUT /connectors/{name}/config.
func (fc *fileCluster) configureConnector(cfg map[string]string) {
	fc.t.Helper()
	var b strings.Builder
	b.WriteString("{")
	first := true
	for k, v := range cfg {
		if !first {
			b.WriteString(",")
		}
		first = false
		fmt.Fprintf(&b, "%q:%q", k, v)
	}
	b.WriteString("}")
	if code, body := httpDo(fc.t, "PUT", fc.base+"/connectors/"+fiConnector+"/config", b.String()); code != 201 {
		fc.t.Fatalf("configure connector: %d %s", code, body)
	}
}

// do sends a request that must answer want.
func (fc *fileCluster) do(method, path, body string, want int) []byte {
	fc.t.Helper()
	code, b := httpDo(fc.t, method, fc.base+path, body)
	if code != want {
		fc.t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	return b
}

// stop is stopConnector and assertConnectorIsStopped.
func (fc *fileCluster) stop() {
	fc.t.Helper()
	fc.do("PUT", "/connectors/"+fiConnector+"/stop", "", 204)
	fc.assertStopped("Connector did not stop in time")
}

// resume is resumeConnector and assertConnectorAndExactlyNumTasksAreRunning.
func (fc *fileCluster) resume() {
	fc.t.Helper()
	fc.do("PUT", "/connectors/"+fiConnector+"/resume", "", 202)
	fc.assertRunning(1, "Connector and task did not resume in time")
}

// startSource creates the source of createTempFile(NUM_LINES), waits for
// it to run and for its records; it returns the file.
func (fc *fileCluster) startSource() string {
	fc.t.Helper()
	file := fc.sourceFile()
	fc.configureConnector(sourceConfig(file))
	fc.assertRunning(1, "Connector and task did not start in time")
	fc.consume(fiLines)
	return file
}

// startSink is the sink tests' start: NUM_MESSAGES messages in the topic,
// the sink running and its file holding them; it returns the file.
func (fc *fileCluster) startSink() string {
	fc.t.Helper()
	fc.produceMessages(fiTopic)
	out := filepath.Join(fc.t.TempDir(), "test-file")
	fc.configureConnector(sinkConfig(fiTopic, out))
	fc.assertRunning(1, "Connector and task did not start in time")
	fc.verifyLinesInFile(out, fiLines, true)
	return out
}

// assertRunning is assertConnectorAndExactlyNumTasksAreRunning.
func (fc *fileCluster) assertRunning(tasks int, msg string) {
	fc.t.Helper()
	fc.waitStatus(msg, func(st status) bool {
		if st.Connector.State != "RUNNING" || len(st.Tasks) != tasks {
			return false
		}
		for _, tk := range st.Tasks {
			if tk.State != "RUNNING" {
				return false
			}
		}
		return true
	})
}

// assertStopped is assertConnectorIsStopped.
func (fc *fileCluster) assertStopped(msg string) {
	fc.t.Helper()
	fc.waitStatus(msg, func(st status) bool { return st.Connector.State == "STOPPED" && len(st.Tasks) == 0 })
}

func (fc *fileCluster) waitStatus(msg string, ok func(status) bool) {
	fc.t.Helper()
	deadline := time.Now().Add(fiTimeout)
	for {
		var st status
		getJSON(fc.t, fc.base+"/connectors/"+fiConnector+"/status", &st)
		if ok(st) {
			return
		}
		if time.Now().After(deadline) {
			fc.t.Fatalf("%s: %+v", msg, st)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

// alterOffsets is PATCH /connectors/{name}/offsets with one entry.
func (fc *fileCluster) alterOffsets(partition, offset string) {
	fc.t.Helper()
	b := fc.do("PATCH", "/connectors/"+fiConnector+"/offsets", `{"offsets":[{"partition":`+partition+`,"offset":`+offset+`}]}`, 200)
	if !strings.Contains(string(b), `"message":"The offsets for this connector have been altered successfully"`) {
		fc.t.Fatalf("alter offsets: %s", b)
	}
}

func (fc *fileCluster) resetOffsets() {
	fc.t.Helper()
	b := fc.do("DELETE", "/connectors/"+fiConnector+"/offsets", "", 200)
	if !strings.Contains(string(b), `"message":"The offsets for this connector have been reset successfully"`) {
		fc.t.Fatalf("reset offsets: %s", b)
	}
}

// consume is Kafka's consume(n, timeout, topic): at least n records, the
// first ones of the topic.
func (fc *fileCluster) consume(n int) []string {
	fc.t.Helper()
	var out []string
	for _, r := range consumeAll(fc.t, fc.addr, fiTopic, n) {
		out = append(out, string(r.Value))
	}
	return out
}

// consumeAll is Kafka's consumeAll: every record in the topic now.
func (fc *fileCluster) consumeAll() int {
	fc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fiTimeout)
	defer cancel()
	ends, err := fc.admin().ListEndOffsets(ctx, fiTopic)
	if err != nil {
		fc.t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return len(fc.consume(int(n)))
}

// sourceFile is createTempFile(NUM_LINES).
func (fc *fileCluster) sourceFile() string {
	path := filepath.Join(fc.dir, "source.txt")
	var b bytes.Buffer
	for i := range fiLines {
		fmt.Fprintf(&b, "Line %d\n", i)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		fc.t.Fatal(err)
	}
	return path
}

func sourceConfig(file string) map[string]string {
	return map[string]string{"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "topic": fiTopic, "file": file}
}

func assertLines(t *testing.T, got []string, from int, want ...string) {
	t.Helper()
	for i, w := range want {
		if got[from+i] != w {
			t.Fatalf("record %d: %q, want %q (all: %q)", from+i, got[from+i], w, got)
		}
	}
}

func lineN(i int) string { return fmt.Sprintf("Line %d", i) }

func TestIntegrationFileStreamSourceSimpleSource(t *testing.T) {
	fileClusters(t, func(t *testing.T, fc *fileCluster) {
		fc.configureConnector(sourceConfig(fc.sourceFile()))
		fc.assertRunning(1, "Connector and task did not start in time")
		got := fc.consume(fiLines)
		for i := range fiLines {
			assertLines(t, got, i, lineN(i))
		}
	})
}

func TestIntegrationFileStreamSourceStopResumeSavedOffset(t *testing.T) {
	fileClusters(t, func(t *testing.T, fc *fileCluster) {
		file := fc.startSource()
		fc.stop()
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := fiLines; i < 2*fiLines; i++ {
			fmt.Fprintf(f, "Line %d\n", i)
		}
		f.Close()

		fc.resume()
		got := fc.consume(2 * fiLines)
		for i := range 2 * fiLines {
			assertLines(t, got, i, lineN(i))
		}
		// Exactly 2*NUM_LINES: it went on from where it stopped.
		if n := fc.consumeAll(); n != 2*fiLines {
			t.Fatalf("%d records in the topic, want %d", n, 2*fiLines)
		}
	})
}

func TestIntegrationFileStreamSourceAlterOffsets(t *testing.T) {
	fileClusters(t, func(t *testing.T, fc *fileCluster) {
		file := fc.startSource()
		fc.stop()
		// Make the connector read the last line again: 28 is where "Line 4" starts.
		fc.alterOffsets(`{"filename":`+quote(file)+`}`, `{"position":28}`)

		fc.resume()
		got := fc.consume(fiLines + 1)
		for i := range fiLines {
			assertLines(t, got, i, lineN(i))
		}
		assertLines(t, got, fiLines, lineN(fiLines-1)) // sourced again
	})
}

func TestIntegrationFileStreamSourceResetOffsets(t *testing.T) {
	fileClusters(t, func(t *testing.T, fc *fileCluster) {
		fc.startSource()
		fc.stop()
		fc.resetOffsets()

		fc.resume()
		got := fc.consume(2 * fiLines)
		for i := range fiLines {
			assertLines(t, got, i, lineN(i))
		}
		for i := range fiLines {
			assertLines(t, got, fiLines+i, lineN(i)) // the same lines again
		}
		if n := fc.consumeAll(); n != 2*fiLines {
			t.Fatalf("%d records in the topic, want %d", n, 2*fiLines)
		}
	})
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// sinkSetup is the sink test's setup: NUM_MESSAGES messages in the topic.
func (fc *fileCluster) produceMessages(topic string) {
	var msgs []string
	for i := range fiLines {
		msgs = append(msgs, fmt.Sprintf("Message %d", i))
	}
	produceValues(fc.t, fc.addr, topic, msgs...)
}

func sinkConfig(topics, file string) map[string]string {
	return map[string]string{"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "topics": topics, "file": file}
}

// verifyLinesInFile waits for numLines lines in the file, each starting
// with "Message " (and, when linear, "Message 0", "Message 1", ...), then
// asserts that exactly numLines are there.
func (fc *fileCluster) verifyLinesInFile(path string, numLines int, linear bool) {
	fc.t.Helper()
	deadline := time.Now().Add(fiTimeout)
	for {
		b, _ := os.ReadFile(path)
		sc := bufio.NewScanner(bytes.NewReader(b))
		i := 0
		for sc.Scan() {
			line := sc.Text()
			if linear && line != fmt.Sprintf("Message %d", i) || !strings.HasPrefix(line, "Message ") {
				fc.t.Fatalf("line %d: %q", i+1, line)
			}
			i++
		}
		if i >= numLines {
			if i != numLines {
				fc.t.Fatalf("%d lines in %s, want %d:\n%s", i, path, numLines, b)
			}
			return
		}
		if time.Now().After(deadline) {
			fc.t.Fatalf("Expected to read %d lines from the file; %d there", numLines, i)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

func TestIntegrationFileStreamSinkSimpleSink(t *testing.T) {
	fileClusters(t, func(t *testing.T, fc *fileCluster) {
		fc.startSink()
	})
}

func TestIntegrationFileStreamSinkAlterOffsets(t *testing.T) {
	fileClusters(t, func(t *testing.T, fc *fileCluster) {
		out := fc.startSink()
		fc.stop()
		// The last message is processed again.
		fc.alterOffsets(`{"kafka_topic":"`+fiTopic+`","kafka_partition":0}`, fmt.Sprintf(`{"kafka_offset":%d}`, fiLines-1))

		fc.resume()
		fc.verifyLinesInFile(out, fiLines+1, false)
	})
}

func TestIntegrationFileStreamSinkResetOffsets(t *testing.T) {
	fileClusters(t, func(t *testing.T, fc *fileCluster) {
		out := fc.startSink()
		fc.stop()
		fc.resetOffsets()

		fc.resume()
		fc.verifyLinesInFile(out, 2*fiLines, false) // every message again
	})
}

// TestIntegrationFileStreamSinkMultipleTopicsWithMultipleTasks: Kafka's
// sink makes tasks.max tasks; ours makes one, which writes the one file
// (its exactly-once position is that file's size), so the task assertion
// is 1 where Kafka's is 2. The lines are Kafka's.
func TestIntegrationFileStreamSinkMultipleTopicsWithMultipleTasks(t *testing.T) {
	fileClusters(t, func(t *testing.T, fc *fileCluster) {
		fc.produceMessages(fiTopic)
		topic2 := "test-topic-2"
		fc.createTopic(topic2)
		fc.produceMessages(topic2)
		out := filepath.Join(t.TempDir(), "test-file")
		cfg := sinkConfig(fiTopic+","+topic2, out)
		cfg["tasks.max"] = "2"
		fc.configureConnector(cfg)
		fc.assertRunning(1, "Connector and task did not start in time")
		fc.verifyLinesInFile(out, 2*fiLines, false)
	})
}
