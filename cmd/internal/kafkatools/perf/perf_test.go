package perf

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

// TestRun produces to the bundled broker over TCP and consumes what was
// produced, checking the figures' format and counts.
func TestRun(t *testing.T) {
	addr := kafkatest.StartBroker(t)
	kafkatest.CreateTopic(t, addr, "perf-run", 1)
	var out strings.Builder
	err := RunProducer(context.Background(), ProducerOptions{Topic: "perf-run", NumRecords: 500, PayloadMonotonic: true, Throughput: -1,
		ProducerProps: []string{"bootstrap.servers=" + addr, "acks=1"}, Changed: kafkatest.Changed("topic", "num-records", "payload-monotonic", "throughput")}, &out)
	summary := regexp.MustCompile(`(?m)^500 records sent, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99.9th\.$`)
	if err != nil || !summary.MatchString(out.String()) {
		t.Fatalf("producer: %v\n%s", err, out.String())
	}
	if recs := kafkatest.ReadTopic(t, addr, "perf-run", 500); string(recs[499].Value) != "499" {
		t.Fatalf("record 499: %q", recs[499].Value)
	}

	out.Reset()
	err = RunConsumer(context.Background(), ConsumerOptions{Bootstrap: addr, Topic: "perf-run", Messages: 500, Group: "perf-run-g", FetchSize: 1 << 20,
		ReportingInterval: 5000, DateFormat: "yyyy-MM-dd HH:mm:ss:SSS", TimeoutMs: 10000, Changed: kafkatest.Changed("messages")}, &out)
	values := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, [\d.]+, [\d.]+, 500, [\d.]+, \d+, \d+, [\d.]+, [\d.]+$`)
	if err != nil || !strings.HasPrefix(out.String(), "start.time, end.time, data.consumed.in.MB,") || !values.MatchString(out.String()) {
		t.Fatalf("consumer: %v\n%s", err, out.String())
	}
	if got := kafkatest.Committed(t, addr, "perf-run-g", "perf-run", 1); got[0] != 500 {
		t.Fatalf("committed %v, want 500", got)
	}
}

func TestOptionErrors(t *testing.T) {
	producer := func(o ProducerOptions) error { return RunProducer(context.Background(), o, &strings.Builder{}) }
	consumer := func(o ConsumerOptions) error { return RunConsumer(context.Background(), o, &strings.Builder{}) }
	all := kafkatest.Changed("topic", "num-records", "throughput", "record-size")
	tests := []struct {
		err  error
		want string
	}{
		{producer(ProducerOptions{NumRecords: 1, RecordSize: 1, Bootstrap: "x:1", Changed: kafkatest.Changed("num-records", "throughput", "record-size")}), "argument --topic is required"},
		{producer(ProducerOptions{Topic: "t", NumRecords: 1, Bootstrap: "x:1", Changed: kafkatest.Changed("topic", "num-records", "throughput")}), "exactly one of --record-size, --payload-file and --payload-monotonic"},
		{producer(ProducerOptions{Topic: "t", NumRecords: 0, RecordSize: 1, Bootstrap: "x:1", Changed: all}), "--num-records should be greater than zero"},
		{producer(ProducerOptions{Topic: "t", NumRecords: 1, RecordSize: 1, Changed: all}), "either --producer-props or --producer.config must be specified"},
		{producer(ProducerOptions{Topic: "t", NumRecords: 1, RecordSize: 1, ProducerProps: []string{"acks"}, Changed: all}), "invalid property: acks"},
		{consumer(ConsumerOptions{Messages: 1, FetchSize: 1, ReportingInterval: 1, Changed: kafkatest.Changed("messages")}), "exactly one of --topic and --include is required"},
		{consumer(ConsumerOptions{Topic: "t", FetchSize: 1, ReportingInterval: 1}), "--messages is required"},
		{consumer(ConsumerOptions{Topic: "t", Messages: 1, FetchSize: 1, ReportingInterval: 1, DateFormat: "yyyy-QQ", Changed: kafkatest.Changed("messages")}), `date format "yyyy-QQ": Illegal pattern character 'Q'`},
	}
	for _, tt := range tests {
		if tt.err == nil || !usage.Is(tt.err) || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("err %v, want a usage error saying %q", tt.err, tt.want)
		}
	}
}
