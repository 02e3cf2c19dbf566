package kafkaclient

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func client(t *testing.T, props map[string]string, role Role) *kgo.Client {
	t.Helper()
	res, err := Options(props, role)
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}, res.Opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestProducerOptions(t *testing.T) {
	cl := client(t, map[string]string{
		"bootstrap.servers":   "a:9092, b:9093",
		"client.id":           "my-producer",
		"linger.ms":           "5",
		"batch.size":          "16384",
		"max.request.size":    "65536",
		"compression.type":    "zstd",
		"delivery.timeout.ms": "30000",
		"key.serializer":      "org.apache.kafka.common.serialization.StringSerializer",
	}, Producer)
	if got := cl.OptValue(kgo.ClientID); got != "my-producer" {
		t.Errorf("client.id = %v", got)
	}
	if got := cl.OptValue(kgo.ProducerLinger); got != 5*time.Millisecond {
		t.Errorf("linger = %v", got)
	}
	// max.request.size caps a batch (and a record); batch.size, a batching
	// target in Kafka, must not: Kafka's habit batch.size=16384 would make
	// every longer record fail.
	if got := cl.OptValue(kgo.ProducerBatchMaxBytes); got != int32(65536) {
		t.Errorf("batch max = %v", got)
	}
	if got := cl.OptValue(kgo.RecordDeliveryTimeout); got != 30*time.Second {
		t.Errorf("delivery timeout = %v", got)
	}
	if got := cl.OptValue(kgo.RequiredAcks); got != kgo.AllISRAcks() {
		t.Errorf("acks = %v", got)
	}
	if got := cl.OptValue(kgo.DisableIdempotentWrite); got != false {
		t.Errorf("idempotence disabled = %v, want enabled by default", got)
	}
	if got := cl.OptValue(kgo.SeedBrokers); len(got.([]string)) != 2 {
		t.Errorf("seeds = %v", got)
	}
}

func TestAcksAndIdempotence(t *testing.T) {
	cl := client(t, map[string]string{"acks": "1"}, Producer)
	if got := cl.OptValue(kgo.RequiredAcks); got != kgo.LeaderAck() {
		t.Errorf("acks = %v", got)
	}
	if got := cl.OptValue(kgo.DisableIdempotentWrite); got != true {
		t.Errorf("acks=1 must turn idempotence off, got disabled=%v", got)
	}
	cl = client(t, map[string]string{"acks": "all", "enable.idempotence": "false"}, Producer)
	if got := cl.OptValue(kgo.DisableIdempotentWrite); got != true {
		t.Errorf("enable.idempotence=false ignored")
	}
	_, err := Options(map[string]string{"acks": "0", "enable.idempotence": "true"}, Producer)
	if err == nil || !strings.Contains(err.Error(), "enable.idempotence") {
		t.Errorf("acks=0 with idempotence: %v", err)
	}
}

func TestConsumerOptions(t *testing.T) {
	res, err := Options(map[string]string{
		"group.id":                      "g1",
		"auto.offset.reset":             "earliest",
		"enable.auto.commit":            "false",
		"session.timeout.ms":            "10000",
		"partition.assignment.strategy": "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
		"isolation.level":               "read_committed",
		"linger.ms":                     "5", // a producer key: ignored here
	}, Consumer)
	if err != nil {
		t.Fatal(err)
	}
	if res.GroupID != "g1" {
		t.Errorf("group = %q", res.GroupID)
	}
	if len(res.Ignored) != 1 || res.Ignored[0] != "linger.ms" {
		t.Errorf("ignored = %v", res.Ignored)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}, res.Opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if got := cl.OptValue(kgo.ConsumerGroup); got != "g1" {
		t.Errorf("group = %v", got)
	}
	if got := cl.OptValue(kgo.SessionTimeout); got != 10*time.Second {
		t.Errorf("session timeout = %v", got)
	}
	if got := cl.OptValue(kgo.DisableAutoCommit); got != true {
		t.Errorf("auto commit disabled = %v", got)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		props map[string]string
		role  Role
		want  string
	}{
		{map[string]string{"bootstrap.servers": " , "}, Admin, `bootstrap.servers: "," names no broker`},
		{map[string]string{"bootstrap.servers": "localhost"}, Admin, `bootstrap.servers: "localhost" has "localhost", which lacks a port (host:port)`},
		{map[string]string{"acks": "2"}, Producer, `acks: "2" is not one of all, -1, 0, 1`},
		{map[string]string{"linger.ms": "soon"}, Producer, `linger.ms: "soon" is not a number of milliseconds`},
		{map[string]string{"batch.size": "0"}, Producer, `batch.size: "0" is not a positive number`},
		{map[string]string{"compression.type": "brotli"}, Producer, `compression.type: "brotli" is not one of none, gzip, snappy, lz4, zstd`},
		{map[string]string{"auto.offset.reset": "middle"}, Consumer, `auto.offset.reset: "middle" is not one of earliest, latest, none`},
		{map[string]string{"enable.auto.commit": "yes"}, Consumer, `enable.auto.commit: "yes" is not a boolean (true or false)`},
		{map[string]string{"partition.assignment.strategy": "magic"}, Consumer, `partition.assignment.strategy: "magic" has "magic", which is not one of range, roundrobin, sticky, cooperative-sticky`},
		{map[string]string{"security.protocol": "TLS"}, Admin, `security.protocol: "TLS" is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL`},
	}
	for _, tt := range tests {
		_, err := Options(tt.props, tt.role)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%v: got %v, want %q", tt.props, err, tt.want)
		}
	}
}

func TestLoggerDemotesInfo(t *testing.T) {
	var buf bytes.Buffer
	l := Logger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if l.Level() != kgo.LogLevelWarn {
		t.Fatalf("level = %v, want warn at slog info", l.Level())
	}
	l.Log(kgo.LogLevelInfo, "assigning partitions")
	l.Log(kgo.LogLevelWarn, "broker unreachable", "broker", "1")
	out := buf.String()
	if strings.Contains(out, "assigning") || !strings.Contains(out, `level=WARN msg="broker unreachable" client=kgo broker=1`) {
		t.Fatalf("log output %q", out)
	}
}
