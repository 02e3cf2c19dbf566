package consoleproducer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

// defaults are the options of a command line that gives no flag: the
// flags' defaults.
func defaults() Options {
	return Options{Compression: "none", Acks: "-1", BatchSize: 16384, LingerMs: 1000}
}

// TestProducerProps: the dedicated flags become Kafka producer properties,
// with Kafka's precedence.
func TestProducerProps(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.properties")
	if err := os.WriteFile(file, []byte("linger.ms=7\nacks=1\nclient.id=from-file\nbootstrap.servers=file:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		set  func(o *Options)
		want map[string]string
	}{
		{"no flags", func(o *Options) {},
			map[string]string{"bootstrap.servers": "localhost:9092", "acks": "-1", "linger.ms": "1000", "compression.type": "none", "client.id": "console-producer", "delivery.timeout.ms": "120000"}},
		{"--bootstrap-server s:1", func(o *Options) { o.Bootstrap = "s:1" }, map[string]string{"bootstrap.servers": "s:1"}},
		{"--timeout 5 --request-required-acks 0 --batch-size 4096 --compression-codec zstd", func(o *Options) {
			o.LingerMs, o.Acks, o.BatchSize, o.Compression = 5, "0", 4096, "zstd"
			o.Changed = kafkatest.Changed("timeout", "request-required-acks", "batch-size", "compression-codec")
		}, map[string]string{"linger.ms": "5", "acks": "0", "batch.size": "4096", "compression.type": "zstd"}},
		{"--producer-property linger.ms=9 acks=all", func(o *Options) { o.ProducerProperties = []string{"linger.ms=9", "acks=all"} },
			map[string]string{"linger.ms": "9", "acks": "all"}},
		{"--producer-property linger.ms=9 --timeout 3", func(o *Options) {
			o.ProducerProperties, o.LingerMs, o.Changed = []string{"linger.ms=9"}, 3, kafkatest.Changed("timeout")
		}, map[string]string{"linger.ms": "3"}},
		{"--producer.config", func(o *Options) { o.ProducerConfig = file },
			map[string]string{"linger.ms": "7", "acks": "1", "client.id": "from-file", "bootstrap.servers": "file:1"}},
		{"--producer.config --producer-property acks=0 --bootstrap-server s:1", func(o *Options) {
			o.ProducerConfig, o.ProducerProperties, o.Bootstrap = file, []string{"acks=0"}, "s:1"
		}, map[string]string{"linger.ms": "7", "acks": "0", "bootstrap.servers": "s:1"}},
	}
	for _, tt := range tests {
		o := defaults()
		tt.set(&o)
		got, err := o.producerProps()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, got[k], v)
			}
		}
		if _, set := got["batch.size"]; set != (tt.want["batch.size"] != "") {
			t.Errorf("%s: batch.size set = %v", tt.name, set)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		set  func(o *Options)
		want string
	}{
		{func(o *Options) { o.Topic = "" }, "--topic is required"},
		{func(o *Options) { o.Compression = "brotli" }, `--compression-codec "brotli" is not one of none, gzip, snappy, lz4, zstd`},
		{func(o *Options) { o.Properties = []string{"parse.headers=true", "headers.delimiter=,"} }, "headers.delimiter and headers.separator may not be equal"},
		{func(o *Options) { o.Properties = []string{"=x"} }, `invalid property "=x"`},
	}
	for _, tt := range tests {
		o := defaults()
		o.Topic = "t"
		tt.set(&o)
		err := Run(context.Background(), o, strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
		if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err %v, want a usage error saying %q", o, err, tt.want)
		}
	}
}

// TestRun sends lines to the bundled broker over TCP, keys and values
// parsed, and reports a line over the topic's limit by its number while
// the others still go.
func TestRun(t *testing.T) {
	addr := kafkatest.StartBroker(t)
	o := defaults()
	o.Bootstrap, o.Topic, o.Properties = addr, "cp-run", []string{"parse.key=true", "key.separator=:"}
	var out, errb strings.Builder
	if err := Run(context.Background(), o, strings.NewReader("k1:v1\nk2:v2\n:v3"), &out, &errb); err != nil || out.String() != "" || errb.String() != "" {
		t.Fatalf("%v, stdout %q, stderr %q", err, out.String(), errb.String())
	}
	recs := kafkatest.ReadTopic(t, addr, "cp-run", 3)
	for i, want := range []string{"k1=v1", "k2=v2", "=v3"} {
		if got := string(recs[i].Key) + "=" + string(recs[i].Value); got != want {
			t.Errorf("record %d: %q, want %q", i, got, want)
		}
	}

	o = defaults()
	o.Bootstrap, o.Topic, o.BatchSize, o.Changed = addr, "cp-run", 1000, kafkatest.Changed("batch-size")
	errb.Reset()
	err := Run(context.Background(), o, strings.NewReader("short\n"+strings.Repeat("b", 1500)+"\nshort again\n"), &out, &errb)
	if err == nil || err.Error() != "1 line(s) not sent to topic cp-run" ||
		errb.String() != "Error: line 2 was not sent to topic cp-run: its record of 1500 bytes is larger than --batch-size 1000\n" {
		t.Fatalf("%v, stderr %q", err, errb.String())
	}
	if recs := kafkatest.ReadTopic(t, addr, "cp-run", 5); string(recs[3].Value) != "short" || string(recs[4].Value) != "short again" {
		t.Fatalf("%q %q", recs[3].Value, recs[4].Value)
	}
}
