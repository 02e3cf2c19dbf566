package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Apache Kafka's system test tests/kafkatest/tests/connect/connect_test.py
// (ConnectStandaloneFileTest), redone with our binary, against the bundled
// broker and against kfake.
//
// test_file_source_and_sink: two standalone workers, one running only the
// file source and one only the file sink, share a broker whose topic "test"
// is created beforehand (1 partition, replication factor 1). Both worker
// files declare the FileConfigProvider, and both connectors name their topic
// as ${file:<external file>:topic.external}. The worker files always set the
// JsonConverter for keys and values, with schemas.enable set to the case's
// value; the StringConverter case instead overrides the converters in the
// connector files. The sink's connector file always sets
// key/value.converter.schemas.enable=True, which, as in Kafka, applies only
// to a converter the connector file names. Lines appended to the input file
// must reach the output file exactly; after a clean restart of both workers,
// more lines are appended, and the output file must hold all of them once.
// Last, the topic holds exactly one record per line, in the converter's
// format.
//
// test_skip_and_log_to_dlq is TestKafkaConnectSkipAndLogToDLQ
// (kafka_connect_dlq_test.go).

// kafkaConnectCase is one parameterisation of test_file_source_and_sink.
type kafkaConnectCase struct {
	name string
	// schemas is what the worker template renders for
	// key/value.converter.schemas.enable: Jinja's
	// {{ schemas|default(True)|string|lower }} of True, False or None.
	schemas string
	// connectorConverter, when set, is the key and value converter both
	// connector files name.
	connectorConverter string
	// record is what the topic must hold for one line.
	record func(line string) []byte
}

func kafkaConnectCases() []kafkaConnectCase {
	jsonString := func(s string) []byte {
		b, err := json.Marshal(s)
		if err != nil {
			panic(err)
		}
		return b
	}
	return []kafkaConnectCase{
		{
			name:    "JsonConverter_schemas_true",
			schemas: "true",
			record: func(line string) []byte {
				return append(append([]byte(`{"schema":{"type":"string","optional":false},"payload":`), jsonString(line)...), '}')
			},
		},
		{
			name:    "JsonConverter_schemas_false",
			schemas: "false",
			record:  jsonString,
		},
		{
			// schemas=None in Kafka's test: the worker file says "none",
			// which no converter reads, as both connectors override it.
			name:               "StringConverter",
			schemas:            "none",
			connectorConverter: "org.apache.kafka.connect.storage.StringConverter",
			record:             func(line string) []byte { return []byte(line) },
		},
	}
}

func TestKafkaConnectFileSourceAndSink(t *testing.T) {
	for _, c := range toolClusters() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range kafkaConnectCases() {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					testKafkaConnectFileSourceAndSink(t, c.start(t), tc)
				})
			}
		})
	}
}

func testKafkaConnectFileSourceAndSink(t *testing.T, addr string, tc kafkaConnectCase) {
	const topic = "test"
	firstLines := []string{"foo", "bar", "baz"}
	secondLines := []string{"razz", "ma", "tazz"}

	if r := runTool(t, "", "topics", "--bootstrap-server", addr, "--create", "--topic", topic,
		"--partitions", "1", "--replication-factor", "1"); r.code != 0 {
		t.Fatalf("topics --create:\n%s", r)
	}

	dir := t.TempDir()
	in, out := filepath.Join(dir, "connect.input"), filepath.Join(dir, "connect.output")
	external := writeProps(t, filepath.Join(dir, "connect-external-configs.properties"), "topic.external="+topic)
	topicRef := "${file:" + external + ":topic.external}"

	// One worker file per process, each with its own offsets file and a
	// REST listener on a free port (both run on one machine here).
	worker := func(role string) string {
		return writeProps(t, filepath.Join(dir, role+"-worker.properties"),
			"bootstrap.servers="+addr,
			"key.converter=org.apache.kafka.connect.json.JsonConverter",
			"value.converter=org.apache.kafka.connect.json.JsonConverter",
			"key.converter.schemas.enable="+tc.schemas,
			"value.converter.schemas.enable="+tc.schemas,
			"offset.storage.file.filename="+filepath.Join(dir, role+".offsets"),
			"request.timeout.ms=30000",
			"config.providers=file",
			"config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider",
			"plugin.discovery=service_load",
			"listeners=http://127.0.0.1:0")
	}
	var converters []string
	if tc.connectorConverter != "" {
		converters = []string{"key.converter=" + tc.connectorConverter, "value.converter=" + tc.connectorConverter}
	}
	errorsKeys := []string{"errors.log.enable=true", "errors.log.include.messages=true", "errors.tolerance=none"}
	sourceConn := writeProps(t, filepath.Join(dir, "connect-file-source.properties"), concat(
		[]string{
			"name=local-file-source",
			"connector.class=org.apache.kafka.connect.file.FileStreamSourceConnector",
			"tasks.max=1",
			"file=" + in,
			"topic=" + topicRef,
		},
		converters,
		errorsKeys)...)
	sinkConn := writeProps(t, filepath.Join(dir, "connect-file-sink.properties"), concat(
		[]string{
			"name=local-file-sink",
			"connector.class=org.apache.kafka.connect.file.FileStreamSinkConnector",
			"tasks.max=1",
			"file=" + out,
			"topics=" + topicRef,
		},
		converters,
		[]string{"key.converter.schemas.enable=True", "value.converter.schemas.enable=True"},
		errorsKeys)...)
	sourceWorker, sinkWorker := worker("source"), worker("sink")

	// The input file does not exist yet when the workers start, as in
	// Kafka's test, where the first echo >> creates it.
	source := startCS(t, dir, sourceWorker, sourceConn)
	sink := startCS(t, dir, sinkWorker, sinkConn)

	want := appendLines(t, in, firstLines)
	waitKafkaConnectOutput(t, out, want, source, sink)

	// A clean restart of both picks up where each left off: only the new
	// lines are processed.
	for _, p := range []*csProc{source, sink} {
		if code := p.stop(t); code != 0 {
			t.Fatalf("exit %d after SIGTERM:\n%s", code, p.stderr.String())
		}
	}
	source = startCS(t, dir, sourceWorker, sourceConn)
	sink = startCS(t, dir, sinkWorker, sinkConn)

	want = append(want, appendLines(t, in, secondLines)...)
	waitKafkaConnectOutput(t, out, want, source, sink)

	// The topic holds one record per line, in the converter's format.
	lines := concat(firstLines, secondLines)
	values := consumeValues(t, addr, topic, len(lines))
	for i, line := range lines {
		wantV := tc.record(line)
		gotV := values[i]
		if tc.connectorConverter == "" { // JSON: compare as Kafka does, after decoding
			var b bytes.Buffer
			if err := json.Compact(&b, gotV); err != nil {
				t.Errorf("record %d: %q is not JSON: %v", i, gotV, err)
				continue
			}
			gotV = b.Bytes()
		}
		if !bytes.Equal(gotV, wantV) {
			t.Errorf("record %d in %s: %s, want %s", i, topic, gotV, wantV)
		}
	}
}

func concat(parts ...[]string) []string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

// appendLines appends the lines, each ended by a newline, to path (creating
// it) and returns what it wrote.
func appendLines(t testing.TB, path string, lines []string) []byte {
	t.Helper()
	b := []byte(strings.Join(lines, "\n") + "\n")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// waitKafkaConnectOutput waits for the sink's output file to be exactly
// want, showing both workers' logs if it never is.
func waitKafkaConnectOutput(t *testing.T, out string, want []byte, source, sink *csProc) {
	t.Helper()
	defer func() { // runs also when csWaitFile fails the test
		if t.Failed() {
			t.Logf("source worker:\n%s", source.stderr.String())
		}
	}()
	// csWaitFile watches (and shows the log of) the sink; a source that
	// exits would leave it waiting until its deadline.
	select {
	case <-source.done:
		t.Fatalf("source worker exited (%v):\n%s", source.err, source.stderr.String())
	default:
	}
	csWaitFile(t, sink, out, want)
}

// consumeValues reads the first n records of the single-partition topic
// from the start and checks that there are no more.
func consumeValues(t testing.TB, addr, topic string, n int) [][]byte {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var values [][]byte
	for len(values) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: %d records before the deadline, want %d", topic, len(values), n)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset != int64(len(values)) {
				t.Errorf("%s: record at offset %d, want %d", topic, r.Offset, len(values))
			}
			values = append(values, r.Value)
		})
	}
	if len(values) != n {
		t.Fatalf("%s holds %d records, want %d: %q", topic, len(values), n, values)
	}
	// The sink has every line, so the source produced them all: the end
	// offset is final.
	if end := endOffset(t, cl, topic); end != int64(n) {
		t.Fatalf("%s ends at offset %d, want %d", topic, end, n)
	}
	return values
}

func endOffset(t testing.TB, cl *kgo.Client, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	o, ok := ends.Lookup(topic, 0)
	if !ok {
		t.Fatalf("list end offsets of %s: no partition 0", topic)
	}
	return o.Offset
}
