package topics

import (
	"context"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

// TestRun drives each action against the bundled broker over TCP.
func TestRun(t *testing.T) {
	addr := kafkatest.StartBroker(t)
	run := func(o Options) (stdout, stderr string, err error) {
		t.Helper()
		o.Bootstrap = addr
		o.ExcludeInternal = true
		var out, errb strings.Builder
		err = Run(context.Background(), o, &out, &errb)
		return out.String(), errb.String(), err
	}

	out, errOut, err := run(Options{Create: true, Topic: "metrics.by_host", Partitions: 2, ReplicationFactor: -1,
		Configs: []string{"retention.ms=1000"}, Zookeeper: "localhost:2181", Changed: kafkatest.Changed("partitions", "config")})
	wantOut := "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.\nCreated topic metrics.by_host.\n"
	wantErr := "Warning: --zookeeper localhost:2181 is not used: tributary talks to the broker at " + addr + " (--bootstrap-server) instead.\n"
	if err != nil || out != wantOut || errOut != wantErr {
		t.Fatalf("create: %v\nstdout %q\nstderr %q", err, out, errOut)
	}
	if _, _, err := run(Options{Create: true, Topic: "metrics_by.host", Partitions: -1, ReplicationFactor: -1}); err == nil ||
		err.Error() != "Topic 'metrics_by.host' collides with existing topic: metrics.by_host (INVALID_TOPIC_EXCEPTION: The request attempted to perform an operation on an invalid topic.)" {
		t.Fatalf("colliding name: %v", err)
	}
	if _, _, err := run(Options{Create: true, Topic: "no spaces", Partitions: -1, ReplicationFactor: -1}); err == nil ||
		err.Error() != `Topic name "no spaces" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'` || usage.Is(err) {
		t.Fatalf("illegal name: %v", err)
	}

	if out, _, err := run(Options{List: true}); err != nil || out != "metrics.by_host\n" {
		t.Fatalf("list: %v %q", err, out)
	}
	if _, _, err := run(Options{Alter: true, Topic: "metrics.by_host", Partitions: 3, Changed: kafkatest.Changed("partitions")}); err != nil {
		t.Fatalf("alter: %v", err)
	}
	out, _, err = run(Options{Describe: true, Topic: "metrics.*"})
	if err != nil || !strings.Contains(out, "\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=1000") || strings.Count(out, "\tTopic: metrics.by_host\tPartition: ") != 3 {
		t.Fatalf("describe: %v %q", err, out)
	}
	if _, _, err := run(Options{Delete: true, Topic: "metrics.by_host"}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, _, err := run(Options{Delete: true, Topic: "never-was"}); err == nil || err.Error() != "Topic 'never-was' does not exist as expected" {
		t.Fatalf("delete of a missing topic: %v", err)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		o    Options
		want string // "" for none
	}{
		{Options{}, "exactly one action"},
		{Options{List: true, Describe: true}, "exactly one action"},
		{Options{Create: true}, "--topic is required with --create"},
		{Options{Alter: true, Topic: "t"}, "--alter needs --partitions"},
		{Options{List: true, Partitions: 2, Changed: kafkatest.Changed("partitions")}, "--partitions can only be used with --create or --alter"},
		{Options{Create: true, Topic: "t", IfExists: true, Changed: kafkatest.Changed("if-exists")}, "--if-exists can only be used with --alter or --delete or --describe"},
		{Options{Create: true, Topic: "t", Partitions: 0, Changed: kafkatest.Changed("partitions")}, "--partitions must be greater than 0"},
		{Options{Create: true, Topic: "t", Configs: []string{"novalue"}}, `invalid topic config "novalue"`},
		{Options{List: true, Topic: "("}, "not a valid regular expression"},
		{Options{Create: true, Topic: "t", Partitions: -1, ReplicationFactor: -1}, ""},
		{Options{Alter: true, Topic: "t", Partitions: 2, Changed: kafkatest.Changed("partitions")}, ""},
	}
	for _, tt := range tests {
		err := tt.o.Check()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.o, err)
		case tt.want != "" && (err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: err %v, want a usage error saying %q", tt.o, err, tt.want)
		}
	}
}

func TestWriteTopicDescription(t *testing.T) {
	d := topicDescription{
		Name:    "Teste",
		ID:      [16]byte{0xfb, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14},
		Configs: []string{"segment.bytes=1073741824", "retention.ms=1000"},
		Partitions: []partitionDescription{
			{Partition: 0, Leader: 1, Replicas: []int32{1}, ISR: []int32{1}},
			{Partition: 1, Leader: -1, Replicas: []int32{1, 2}, ISR: nil},
		},
	}
	var b strings.Builder
	writeTopicDescription(&b, d, true)
	want := "Topic: Teste\tTopicId: -_8BAgMEBQYHCAkKCwwNDg\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: segment.bytes=1073741824,retention.ms=1000\n" +
		"\tTopic: Teste\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\n" +
		"\tTopic: Teste\tPartition: 1\tLeader: none\tReplicas: 1,2\tIsr: \n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}

	b.Reset()
	writeTopicDescription(&b, topicDescription{Name: "old", Partitions: d.Partitions[:1]}, false)
	if want := "Topic: old\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: \n"; b.String() != want {
		t.Fatalf("without ID, topic line only: %q", b.String())
	}
}

func TestTopicFilter(t *testing.T) {
	tests := []struct {
		expr  string
		match []string
		miss  []string
	}{
		{"orders", []string{"orders"}, []string{"orders2", "my-orders"}},
		{"ord.*", []string{"orders", "ord"}, []string{"my-orders"}},
		{"a,b", []string{"a", "b"}, []string{"ab", "c"}},
		{`"a|b"`, []string{"a", "b"}, []string{"ab"}},
	}
	for _, tt := range tests {
		f, err := topicFilter(tt.expr)
		if err != nil {
			t.Fatalf("%q: %v", tt.expr, err)
		}
		for _, m := range tt.match {
			if !f(m) {
				t.Errorf("%q does not match %q", tt.expr, m)
			}
		}
		for _, m := range tt.miss {
			if f(m) {
				t.Errorf("%q matches %q", tt.expr, m)
			}
		}
	}
}

func TestParseTopicConfigs(t *testing.T) {
	m, err := parseTopicConfigs([]string{"retention.ms=1000", " cleanup.policy = compact "})
	if err != nil || *m["retention.ms"] != "1000" || *m["cleanup.policy"] != "compact" || len(m) != 2 {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"novalue", "=1", "a=b=c"} {
		if _, err := parseTopicConfigs([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
