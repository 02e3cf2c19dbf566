package consoleconsumer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

// defaults are the options of a command line that gives no flag: the
// flags' defaults.
func defaults() Options {
	return Options{Bootstrap: "localhost:9092", Offset: "latest", MaxMessages: -1, TimeoutMs: -1, IsolationLevel: "read_uncommitted"}
}

// TestConsumerProps: the flags become Kafka consumer properties, with
// Kafka's precedence and defaults.
func TestConsumerProps(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.properties")
	if err := os.WriteFile(file, []byte("client.id=from-file\nisolation.level=read_committed\nfetch.max.wait.ms=100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		set  func(o *Options)
		want map[string]string
	}{
		{"--topic t", func(o *Options) {}, map[string]string{"bootstrap.servers": "localhost:9092", "client.id": "console-consumer", "auto.offset.reset": "latest",
			"isolation.level": "read_uncommitted", "enable.auto.commit": "false", "max.partition.fetch.bytes": "4194304"}},
		{"--from-beginning --group g", func(o *Options) { o.FromBeginning, o.Group = true, "g" },
			map[string]string{"auto.offset.reset": "earliest", "group.id": "g", "enable.auto.commit": ""}},
		{"--partition 0", func(o *Options) { o.Changed = kafkatest.Changed("partition") }, map[string]string{"group.id": ""}},
		{"--isolation-level read_committed --bootstrap-server b:1", func(o *Options) {
			o.IsolationLevel, o.Bootstrap, o.Changed = "read_committed", "b:1", kafkatest.Changed("isolation-level", "bootstrap-server")
		}, map[string]string{"isolation.level": "read_committed", "bootstrap.servers": "b:1"}},
		{"--consumer.config", func(o *Options) { o.ConsumerConfig = file },
			map[string]string{"client.id": "from-file", "isolation.level": "read_committed", "fetch.max.wait.ms": "100"}},
		{"--consumer.config --consumer-property client.id=mine --isolation-level read_uncommitted", func(o *Options) {
			o.ConsumerConfig, o.ConsumerProperties, o.Changed = file, []string{"client.id=mine"}, kafkatest.Changed("isolation-level")
		}, map[string]string{"client.id": "mine", "isolation.level": "read_uncommitted"}},
		{"--consumer-property max.partition.fetch.bytes=1048576 auto.offset.reset=earliest", func(o *Options) {
			o.ConsumerProperties = []string{"max.partition.fetch.bytes=1048576", "auto.offset.reset=earliest"}
		}, map[string]string{"max.partition.fetch.bytes": "1048576", "auto.offset.reset": "earliest"}},
	}
	for _, tt := range tests {
		o := defaults()
		o.Topic = "t"
		tt.set(&o)
		props, err := o.consumerProps()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for k, v := range tt.want {
			if props[k] != v {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, props[k], v)
			}
		}
		if tt.want["group.id"] == "" && !o.changed("partition") && !strings.HasPrefix(props["group.id"], "console-consumer-") {
			t.Errorf("%s: group %q, want an ephemeral console-consumer-N", tt.name, props["group.id"])
		}
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		set  func(o *Options)
		want string
	}{
		{func(o *Options) {}, "exactly one of --topic and --include is required"},
		{func(o *Options) { o.Include, o.Changed = "x", kafkatest.Changed("partition") }, "the topic is required when partition is specified"},
		{func(o *Options) { o.Topic, o.Offset, o.Changed = "t", "3", kafkatest.Changed("offset") }, "the partition is required when offset is specified"},
		{func(o *Options) { o.Topic, o.Offset, o.Changed = "t", "soon", kafkatest.Changed("partition", "offset") }, "the provided offset value 'soon' is incorrect"},
		{func(o *Options) { o.Topic, o.Group, o.ConsumerProperties = "t", "a", []string{"group.id=b"} }, "do not match: 'a', 'b'"},
		{func(o *Options) {
			o.Topic, o.FormatterProperties = "t", []string{"value.deserializer=com.example.Mine"}
		}, `unknown deserializer "com.example.Mine"`},
	}
	for _, tt := range tests {
		o := defaults()
		tt.set(&o)
		err := Run(context.Background(), o, &strings.Builder{}, &strings.Builder{})
		if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err %v, want a usage error saying %q", o, err, tt.want)
		}
	}
}

// TestRun consumes from the bundled broker over TCP: a group commits
// exactly what was printed, and a second run resumes there.
func TestRun(t *testing.T) {
	addr := kafkatest.StartBroker(t)
	kafkatest.CreateTopic(t, addr, "cc-run", 1)
	var recs []*kgo.Record
	for _, v := range []string{"r0", "r1", "r2", "r3"} {
		recs = append(recs, &kgo.Record{Topic: "cc-run", Key: []byte("k-" + v), Value: []byte(v)})
	}
	kafkatest.Produce(t, addr, recs...)
	consume := func(max int64) (string, string) {
		t.Helper()
		o := defaults()
		o.Bootstrap, o.Topic, o.Group, o.FromBeginning, o.MaxMessages = addr, "cc-run", "g-run", true, max
		o.FormatterProperties = []string{"print.key=true", "print.offset=true"}
		var out, errb strings.Builder
		if err := Run(context.Background(), o, &out, &errb); err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String()
	}
	if out, errOut := consume(3); out != "Offset:0\tk-r0\tr0\nOffset:1\tk-r1\tr1\nOffset:2\tk-r2\tr2\n" || errOut != "Processed a total of 3 messages\n" {
		t.Fatalf("stdout %q stderr %q", out, errOut)
	}
	if got := kafkatest.Committed(t, addr, "g-run", "cc-run", 1); got[0] != 3 {
		t.Fatalf("committed %v, want 3", got)
	}
	if out, _ := consume(1); out != "Offset:3\tk-r3\tr3\n" {
		t.Fatalf("resume: %q", out)
	}
}
