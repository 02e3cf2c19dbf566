package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKafkaConnectSkipAndLogToDLQ is Apache Kafka's connect system test
// test_skip_and_log_to_dlq, as ours: a source worker ships 1000 lines,
// every other one a broken JSON object ({"some_key:1} lacks a quote), with
// the StringConverter; a sink worker reads them with a schemaless
// JsonConverter and errors.log.*, a dead letter queue my-connector-errors
// (replication factor 1) and the case's errors.tolerance.
//   - all: the output file holds exactly the good objects, as Java prints
//     a Map ({some_key=0}), and the queue holds every broken line, in order;
//   - none: the sink task fails on the first broken line, the output file
//     never holds the good objects, and the queue holds that line alone.
func TestKafkaConnectSkipAndLogToDLQ(t *testing.T) {
	for _, c := range toolClusters() {
		for _, tolerance := range []string{"all", "none"} {
			t.Run(c.name+"/"+tolerance, func(t *testing.T) {
				t.Parallel()
				testSkipAndLogToDLQ(t, c.start(t), tolerance)
			})
		}
	}
}

func testSkipAndLogToDLQ(t *testing.T, addr, tolerance string) {
	const topic, dlq = "test", "my-connector-errors"
	if r := runTool(t, "", "topics", "--bootstrap-server", addr, "--create", "--topic", topic,
		"--partitions", "1", "--replication-factor", "1"); r.code != 0 {
		t.Fatalf("topics --create:\n%s", r)
	}
	var lines, good, bad []string
	for i := range 1000 {
		if i%2 == 0 {
			lines = append(lines, fmt.Sprintf(`{"some_key":%d}`, i))
			good = append(good, fmt.Sprintf("{some_key=%d}", i))
		} else {
			lines = append(lines, fmt.Sprintf(`{"some_key:%d}`, i))
			bad = append(bad, lines[i])
		}
	}

	dir := t.TempDir()
	in, out := filepath.Join(dir, "connect.input"), filepath.Join(dir, "connect.output")
	worker := func(role string) string {
		return writeProps(t, filepath.Join(dir, role+"-worker.properties"),
			"bootstrap.servers="+addr,
			"key.converter=org.apache.kafka.connect.json.JsonConverter",
			"value.converter=org.apache.kafka.connect.json.JsonConverter",
			"key.converter.schemas.enable=true", "value.converter.schemas.enable=true",
			"offset.storage.file.filename="+filepath.Join(dir, role+".offsets"),
			"listeners=http://127.0.0.1:0")
	}
	sourceConn := writeProps(t, filepath.Join(dir, "source.properties"),
		"name=local-file-source", "connector.class=org.apache.kafka.connect.file.FileStreamSourceConnector",
		"tasks.max=1", "file="+in, "topic="+topic,
		"key.converter=org.apache.kafka.connect.storage.StringConverter",
		"value.converter=org.apache.kafka.connect.storage.StringConverter")
	sinkConn := writeProps(t, filepath.Join(dir, "sink.properties"),
		"name=local-file-sink", "connector.class=org.apache.kafka.connect.file.FileStreamSinkConnector",
		"tasks.max=1", "file="+out, "topics="+topic,
		"key.converter=org.apache.kafka.connect.json.JsonConverter",
		"value.converter=org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable=False", "value.converter.schemas.enable=False",
		"errors.log.enable=true", "errors.log.include.messages=true",
		"errors.deadletterqueue.topic.name="+dlq, "errors.deadletterqueue.topic.replication.factor=1",
		"errors.tolerance="+tolerance)
	source := startCS(t, dir, worker("source"), sourceConn)
	sink := startCS(t, dir, worker("sink"), sinkConn)
	appendLines(t, in, lines)

	wantOut := strings.Join(good, "\n") + "\n"
	wantDLQ := bad
	if tolerance == "all" {
		waitKafkaConnectOutput(t, out, []byte(wantOut), source, sink)
	} else {
		wantDLQ = bad[:1]
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(sink.stderr.String(), `msg="task failed"`) {
			if time.Now().After(deadline) {
				t.Fatalf("the sink task did not fail:\n%s", sink.stderr.String())
			}
			time.Sleep(20 * time.Millisecond) // polling the log, not a synchronisation
		}
		if !strings.Contains(sink.stderr.String(), "converting the value of test/0@1") {
			t.Errorf("the failure does not name the record:\n%s", sink.stderr.String())
		}
		if b, _ := os.ReadFile(out); string(b) == wantOut {
			t.Errorf("with errors.tolerance=none the good records reached the output file")
		}
	}
	var got []string
	for _, v := range consumeValues(t, addr, dlq, len(wantDLQ)) {
		got = append(got, string(v))
	}
	if strings.Join(got, ",") != strings.Join(wantDLQ, ",") {
		t.Fatalf("dead letter queue holds %d records, want %d: %.200q", len(got), len(wantDLQ), got)
	}
	if !strings.Contains(sink.stderr.String(), `msg="bad record"`) || !strings.Contains(sink.stderr.String(), `value="{\"some_key:1}"`) {
		t.Errorf("errors.log.include.messages: no bad record logged with its value:\n%.2000s", sink.stderr.String())
	}
}
