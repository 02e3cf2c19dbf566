package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
)

func valueRecords(topic string, vs ...string) []*kgo.Record {
	recs := make([]*kgo.Record, len(vs))
	for i, v := range vs {
		recs[i] = &kgo.Record{Topic: topic, Value: []byte(v)}
	}
	return recs
}

func TestConsoleConsumerSuite(t *testing.T) {
	forEachCluster(t, func(t *testing.T, addr string, c toolCluster) {
		consume := func(args ...string) toolResult {
			t.Helper()
			return runTool(t, "", append([]string{"console-consumer", "--bootstrap-server", addr}, args...)...)
		}

		t.Run("from beginning", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cc-basic", 1)
			kafkatest.Produce(t, addr, valueRecords("cc-basic", "one", "two", "three")...)
			r := consume("--topic", "cc-basic", "--from-beginning", "--max-messages", "3")
			if r.code != 0 || r.stdout != "one\ntwo\nthree\n" || r.stderr != "Processed a total of 3 messages\n" {
				t.Fatalf("%v", r)
			}
			r = consume("--topic", "cc-basic", "--from-beginning", "--max-messages", "2")
			if r.code != 0 || r.stdout != "one\ntwo\n" || r.stderr != "Processed a total of 2 messages\n" {
				t.Fatalf("--max-messages 2: %v", r)
			}
		})

		t.Run("latest by default", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cc-latest", 1)
			kafkatest.Produce(t, addr, valueRecords("cc-latest", "old")...)
			r := consumeWhileProducing(t, addr, "cc-latest", 0, "console-consumer", "--bootstrap-server", addr, "--topic", "cc-latest", "--max-messages", "1")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "fresh-") || strings.Contains(r.stdout, "old") {
				t.Fatalf("%v", r)
			}
		})

		t.Run("timeout", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cc-idle", 1)
			kafkatest.Produce(t, addr, valueRecords("cc-idle", "a", "b")...)
			start := time.Now()
			r := consume("--topic", "cc-idle", "--from-beginning", "--timeout-ms", "1500")
			if r.code != 0 || r.stdout != "a\nb\n" || r.stderr != "Processed a total of 2 messages\n" {
				t.Fatalf("%v", r)
			}
			if d := time.Since(start); d < 1500*time.Millisecond || d > 20*time.Second {
				t.Fatalf("exited after %v", d)
			}
		})

		t.Run("group commits", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cc-group", 1)
			kafkatest.Produce(t, addr, valueRecords("cc-group", "r0", "r1", "r2", "r3", "r4")...)
			r := consume("--topic", "cc-group", "--group", "g-commit", "--from-beginning", "--max-messages", "3")
			if r.code != 0 || r.stdout != "r0\nr1\nr2\n" {
				t.Fatalf("%v", r)
			}
			if got := kafkatest.Committed(t, addr, "g-commit", "cc-group", 1); got[0] != 3 {
				t.Fatalf("committed %v, want 3: exactly what was printed", got)
			}
			// A second run resumes at the committed offset.
			r = consume("--topic", "cc-group", "--group", "g-commit", "--from-beginning", "--max-messages", "2")
			if r.code != 0 || r.stdout != "r3\nr4\n" {
				t.Fatalf("resume: %v", r)
			}
			if got := kafkatest.Committed(t, addr, "g-commit", "cc-group", 1); got[0] != 5 {
				t.Fatalf("committed %v, want 5", got)
			}
		})

		t.Run("no group no commits", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cc-ephemeral", 1)
			kafkatest.Produce(t, addr, valueRecords("cc-ephemeral", "e0", "e1")...)
			r := consume("--topic", "cc-ephemeral", "--from-beginning", "--max-messages", "2")
			if r.code != 0 || r.stdout != "e0\ne1\n" {
				t.Fatalf("%v", r)
			}
			adm := kadm.NewClient(kafkatest.Client(t, addr))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			groups, err := adm.ListGroups(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range groups.Groups() {
				if strings.HasPrefix(g, "console-consumer-") {
					if got := kafkatest.Committed(t, addr, g, "cc-ephemeral", 1); got[0] != -1 {
						t.Errorf("group %s committed %v", g, got)
					}
				}
			}
		})

		t.Run("consumer-property and consumer.config", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cc-props", 1)
			kafkatest.Produce(t, addr, valueRecords("cc-props", "p0", "p1")...)
			r := consume("--topic", "cc-props", "--consumer-property", "group.id=g-prop", "--consumer-property", "auto.offset.reset=earliest", "--max-messages", "1")
			if r.code != 0 || r.stdout != "p0\n" {
				t.Fatalf("%v", r)
			}
			if got := kafkatest.Committed(t, addr, "g-prop", "cc-props", 1); got[0] != 1 {
				t.Fatalf("group.id from --consumer-property: committed %v", got)
			}
			file := filepath.Join(t.TempDir(), "consumer.properties")
			if err := os.WriteFile(file, []byte("group.id=g-prop\nenable.auto.commit=false\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r = consume("--topic", "cc-props", "--consumer.config", file, "--max-messages", "1")
			if r.code != 0 || r.stdout != "p1\n" {
				t.Fatalf("--consumer.config: %v", r)
			}
			if got := kafkatest.Committed(t, addr, "g-prop", "cc-props", 1); got[0] != 1 {
				t.Fatalf("enable.auto.commit=false still committed: %v", got)
			}
		})

		t.Run("partition and offset", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cc-parts", 2)
			var recs []*kgo.Record
			for i := range 4 {
				recs = append(recs, &kgo.Record{Topic: "cc-parts", Partition: 0, Value: fmt.Appendf(nil, "p0-%d", i)})
				recs = append(recs, &kgo.Record{Topic: "cc-parts", Partition: 1, Value: fmt.Appendf(nil, "p1-%d", i)})
			}
			kafkatest.Produce(t, addr, recs...)
			r := consume("--topic", "cc-parts", "--partition", "1", "--offset", "2", "--max-messages", "2")
			if r.code != 0 || r.stdout != "p1-2\np1-3\n" {
				t.Fatalf("--offset 2: %v", r)
			}
			r = consume("--topic", "cc-parts", "--partition", "0", "--offset", "earliest", "--max-messages", "4")
			if r.code != 0 || r.stdout != "p0-0\np0-1\np0-2\np0-3\n" {
				t.Fatalf("--offset earliest: %v", r)
			}
			r = consume("--topic", "cc-parts", "--partition", "0", "--from-beginning", "--max-messages", "1")
			if r.code != 0 || r.stdout != "p0-0\n" {
				t.Fatalf("--from-beginning: %v", r)
			}
			r = consumeWhileProducing(t, addr, "cc-parts", 1, "console-consumer", "--bootstrap-server", addr, "--topic", "cc-parts", "--partition", "1", "--offset", "latest", "--max-messages", "1")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "fresh-") {
				t.Fatalf("--offset latest: %v", r)
			}
			r = consumeWhileProducing(t, addr, "cc-parts", 1, "console-consumer", "--bootstrap-server", addr, "--topic", "cc-parts", "--partition", "1", "--max-messages", "1")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "fresh-") {
				t.Fatalf("--partition without --offset starts at the end: %v", r)
			}
		})

		t.Run("include", func(t *testing.T) {
			for _, n := range []string{"inc-a", "inc-b", "inc-other-x"} {
				kafkatest.CreateTopic(t, addr, n, 1)
				kafkatest.Produce(t, addr, valueRecords(n, "from "+n)...)
			}
			r := consume("--include", "inc-[ab]", "--from-beginning", "--max-messages", "2")
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			slices.Sort(lines)
			if r.code != 0 || strings.Join(lines, ",") != "from inc-a,from inc-b" {
				t.Fatalf("%v", r)
			}
		})

		t.Run("print properties", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cc-print", 1)
			ts := time.UnixMilli(1700000000123)
			kafkatest.Produce(t, addr,
				&kgo.Record{Topic: "cc-print", Key: []byte("k1"), Value: []byte("v1"), Timestamp: ts, Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("x")}, {Key: "n"}}},
				&kgo.Record{Topic: "cc-print", Value: []byte("v2"), Timestamp: ts},
			)
			r := consume("--topic", "cc-print", "--from-beginning", "--max-messages", "2",
				"--property", "print.key=true", "--property", "print.timestamp=true", "--property", "print.partition=true",
				"--property", "print.offset=true", "--property", "print.headers=true", "--property", "key.separator= | ",
				"--property", "line.separator=;\n", "--property", "null.literal=NIL", "--property", "headers.separator=&")
			want := "CreateTime:1700000000123 | Partition:0 | Offset:0 | h:x&n:NIL | k1 | v1;\n" +
				"CreateTime:1700000000123 | Partition:0 | Offset:1 | NO_HEADERS | NIL | v2;\n"
			if r.code != 0 || r.stdout != want {
				t.Fatalf("got %q\nwant %q\n%v", r.stdout, want, r)
			}
			r = consume("--topic", "cc-print", "--from-beginning", "--max-messages", "1", "--formatter-property", "print.key=true", "--property", "print.value=false")
			if r.code != 0 || r.stdout != "k1\n" {
				t.Fatalf("print.value=false: %v", r)
			}
			file := filepath.Join(t.TempDir(), "formatter.properties")
			if err := os.WriteFile(file, []byte("print.offset=true\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r = consume("--topic", "cc-print", "--from-beginning", "--max-messages", "1", "--formatter-config", file)
			if r.code != 0 || r.stdout != "Offset:0\tv1\n" {
				t.Fatalf("--formatter-config: %v", r)
			}
		})

		t.Run("deserializers and skip-message-on-error", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cc-longs", 1)
			long := func(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
			kafkatest.Produce(t, addr,
				&kgo.Record{Topic: "cc-longs", Key: []byte{0, 0, 0, 7}, Value: long(42)},
				&kgo.Record{Topic: "cc-longs", Value: []byte("abc")},
				&kgo.Record{Topic: "cc-longs", Value: long(-1)},
			)
			r := consume("--topic", "cc-longs", "--from-beginning", "--max-messages", "3",
				"--value-deserializer", "org.apache.kafka.common.serialization.LongDeserializer")
			if r.code != 1 || r.stdout != "42\n" || !strings.Contains(r.stderr, "Size of data received by LongDeserializer is not 8") ||
				!strings.Contains(r.stderr, "Processed a total of 2 messages\n") {
				t.Fatalf("without --skip-message-on-error: %v", r)
			}
			r = consume("--topic", "cc-longs", "--from-beginning", "--max-messages", "3", "--skip-message-on-error",
				"--value-deserializer", "org.apache.kafka.common.serialization.LongDeserializer",
				"--key-deserializer", "org.apache.kafka.common.serialization.IntegerDeserializer", "--property", "print.key=true")
			if r.code != 0 || r.stdout != "7\t42\nnull\t-1\n" || !strings.Contains(r.stderr, "Error processing message, skipping this message") {
				t.Fatalf("--skip-message-on-error: %v", r)
			}
		})

		t.Run("isolation level", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cc-txn", 1)
			kafkatest.Produce(t, addr, valueRecords("cc-txn", "committed")...)
			txn := kafkatest.Client(t, addr, kgo.TransactionalID("cc-txn-producer"), kgo.DefaultProduceTopic("cc-txn"))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := txn.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			if err := txn.ProduceSync(ctx, &kgo.Record{Value: []byte("open transaction")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			r := consume("--topic", "cc-txn", "--from-beginning", "--max-messages", "2")
			if r.code != 0 || r.stdout != "committed\nopen transaction\n" {
				t.Fatalf("read_uncommitted: %v", r)
			}
			r = consume("--topic", "cc-txn", "--from-beginning", "--isolation-level", "read_committed", "--timeout-ms", "1500")
			if r.code != 0 || r.stdout != "committed\n" {
				t.Fatalf("read_committed: %v", r)
			}
		})

		t.Run("sigint", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cc-sigint", 1)
			kafkatest.Produce(t, addr, valueRecords("cc-sigint", "s0", "s1")...)
			ctx, cancel := context.WithCancel(context.Background())
			var out, errb lockedBuffer
			a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
			done := make(chan int)
			go func() {
				done <- a.execute(ctx, a.root(), []string{"console-consumer", "--bootstrap-server", addr, "--topic", "cc-sigint", "--from-beginning", "--group", "g-sigint"})
			}()
			kafkatest.Eventually(t, 15*time.Second, "both records printed", func() bool { return out.String() == "s0\ns1\n" })
			cancel()
			select {
			case code := <-done:
				if code != 0 || errb.String() != "Processed a total of 2 messages\n" {
					t.Fatalf("exit %d, stderr %q", code, errb.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no exit within 20s of SIGINT")
			}
			if got := kafkatest.Committed(t, addr, "g-sigint", "cc-sigint", 1); got[0] != 2 {
				t.Fatalf("committed %v, want 2", got)
			}
		})
	})
}

// consumeWhileProducing runs a consumer command while writing "fresh-N"
// records to the partition every 50ms, so that a consumer that starts at
// the end of the log gets some once it has found its position.
func consumeWhileProducing(t *testing.T, addr, topic string, partition int32, args ...string) toolResult {
	t.Helper()
	done := make(chan toolResult)
	go func() { done <- runTool(t, "", args...) }()
	cl := kafkatest.Client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	deadline := time.After(30 * time.Second)
	for i := 0; ; i++ {
		select {
		case r := <-done:
			return r
		case <-deadline:
			t.Fatal("consumer did not exit within 30s")
		case <-time.After(50 * time.Millisecond):
			cl.Produce(context.Background(), &kgo.Record{Topic: topic, Partition: partition, Value: fmt.Appendf(nil, "fresh-%d", i)}, nil)
		}
	}
}

func TestConsoleConsumerUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "exactly one of --topic and --include is required"},
		{[]string{"--topic", "t", "--include", "x"}, "exactly one of --topic and --include is required"},
		{[]string{"--include", "x", "--partition", "0"}, "the topic is required when partition is specified"},
		{[]string{"--topic", "t", "--offset", "3"}, "the partition is required when offset is specified"},
		{[]string{"--topic", "t", "--partition", "0", "--offset", "3", "--from-beginning"}, "options from-beginning and offset cannot be specified together"},
		{[]string{"--topic", "t", "--partition", "0", "--offset", "soon"}, "the provided offset value 'soon' is incorrect"},
		{[]string{"--topic", "t", "--partition", "0", "--group", "g"}, "options group and partition cannot be specified together"},
		{[]string{"--topic", "t", "--group", "a", "--consumer-property", "group.id=b"}, "do not match: 'a', 'b'"},
		{[]string{"--topic", "t", "--from-beginning", "--consumer-property", "auto.offset.reset=latest"}, "can't simultaneously specify --from-beginning and 'auto.offset.reset=latest'"},
		{[]string{"--include", "("}, "--include \"(\" is not a valid regular expression"},
		{[]string{"--topic", "t", "--property", "value.deserializer=com.example.Mine"}, `unknown deserializer "com.example.Mine"`},
		{[]string{"--topic", "t", "--isolation-level", "dirty"}, `isolation.level: "dirty" is not one of read_committed, read_uncommitted`},
		{[]string{"--topic", "t", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"--topic", "t", "extra"}, `unknown command "extra"`},
	}
	for _, tt := range tests {
		r := runTool(t, "", append([]string{"console-consumer"}, tt.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: want exit 2 saying %q, got %v", tt.args, tt.want, r)
		}
	}
}

func TestConsoleConsumerUnreachable(t *testing.T) {
	addr := kafkatest.ClosedAddr(t)
	start := time.Now()
	r := runTool(t, "", "console-consumer", "--bootstrap-server", addr, "--topic", "t")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: cannot reach a broker at "+addr) || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("%v", r)
	}
	if d := time.Since(start); d > toolclient.ReachTimeout+2*time.Second {
		t.Fatalf("took %v", d)
	}
}
