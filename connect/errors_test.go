package connect_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSinkBadRecordsToDeadLetterQueue (KIP-298): records the value
// converter cannot read. With errors.tolerance=all they are skipped and
// sent, as they were and with Kafka's __connect.errors.* headers, to the
// dead letter queue, which the worker creates (on one broker, with the
// broker's replication factor); the good ones reach the file. With none,
// the task fails on the first one, naming it, after sending it to the
// queue too, and nothing of its batch is written.
func TestSinkBadRecordsToDeadLetterQueue(t *testing.T) {
	for _, tc := range []struct {
		tolerance string
		wantFile  string
	}{
		{"all", "good one\ngood two\n"},
		// As in Kafka, the batch it came in is not put: nothing from the
		// bad record on, nor the records before it in that batch.
		{"none", ""},
	} {
		t.Run(tc.tolerance, func(t *testing.T) {
			addr := startBundledBroker(t)
			dir := t.TempDir()
			cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("in"),
				kgo.RecordPartitioner(kgo.ManualPartitioner()))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			bad := &kgo.Record{Value: []byte("not json"), Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("test")}}}
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(`"good one"`)}, bad, &kgo.Record{Value: []byte(`"good two"`)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out.txt")
			w := startWorker(t, workerProps(addr, dir,
				"value.converter=org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable=false"),
				sinkProps(dir, out, "in", "errors.tolerance="+tc.tolerance, "errors.log.enable=true",
					"errors.deadletterqueue.topic.name=dlq", "errors.deadletterqueue.context.headers.enable=true"))

			dlq := consumeAll(t, addr, "dlq", 1)
			if len(dlq) != 1 || string(dlq[0].Value) != "not json" {
				t.Fatalf("dead letter queue: %v", dlq)
			}
			headers := map[string]string{}
			for _, h := range dlq[0].Headers {
				headers[h.Key] = string(h.Value)
			}
			for k, v := range map[string]string{
				"origin": "test", "__connect.errors.topic": "in", "__connect.errors.partition": "0", "__connect.errors.offset": "1",
				"__connect.errors.connector.name": "sink", "__connect.errors.task.id": "0", "__connect.errors.stage": "VALUE_CONVERTER",
				"__connect.errors.class.name":           "org.apache.kafka.connect.json.JsonConverter",
				"__connect.errors.exception.class.name": "org.apache.kafka.connect.errors.DataException",
			} {
				if headers[k] != v {
					t.Errorf("header %s = %q, want %q", k, headers[k], v)
				}
			}
			if headers["__connect.errors.exception.message"] == "" {
				t.Error("no exception message header")
			}
			if tc.tolerance == "all" {
				waitForFile(t, out, []byte(tc.wantFile))
				return
			}
			var st status
			waitFor(t, 30*time.Second, "the sink task FAILED", func() bool {
				getJSON(t, "http://"+w.RESTAddr()+"/connectors/sink/status", &st)
				return len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED"
			})
			if !strings.Contains(st.Tasks[0].Trace, "converting the value of in/0@1") {
				t.Errorf("trace does not name the record: %s", st.Tasks[0].Trace)
			}
			if b, _ := os.ReadFile(out); string(b) != tc.wantFile {
				t.Errorf("file %q, want %q", b, tc.wantFile)
			}
		})
	}
}
