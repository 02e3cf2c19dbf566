package main

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
)

func zookeeperWarning(addr string) string {
	return "Warning: --zookeeper localhost:2181 is not used: tributary talks to the broker at " + addr + " (--bootstrap-server) instead.\n"
}

// TestKafkaPrimerLines runs command lines of Kafka primers word for word
// (host aside) with the real binary against the bundled broker: the old
// --zookeeper and --broker-list flags work, --zookeeper with its one
// warning, and Ctrl-C (SIGINT) ends the console tools with Kafka's exit
// code 130, SIGTERM with 143.
func TestKafkaPrimerLines(t *testing.T) {
	w := &walkthrough{t: t, bin: tributaryBinary(t), addr: startBroker(t), dir: t.TempDir()}
	kafkatest.CreateTopic(t, w.addr, "Teste", 1)
	warning := zookeeperWarning(w.addr)

	producer := w.start(t, "console-producer", "--broker-list", w.addr, "--zookeeper", "localhost:2181", "--topic", "Teste")
	producer.typeLine(t, "This is a message")
	kafkatest.ReadTopic(t, w.addr, "Teste", 1) // the producer is up and sending
	producer.cmd.Process.Signal(syscall.SIGINT)
	if code := producer.exit(t, 30*time.Second); code != 130 || producer.stderr.String() != warning {
		t.Fatalf("console-producer: exit %d after SIGINT, want 130; stderr %q, want %q", code, producer.stderr.String(), warning)
	}

	consumer := w.start(t, "console-consumer", "--bootstrap-server", w.addr, "--zookeeper", "localhost:2181", "--topic", "Teste", "--from-beginning")
	consumer.waitOutput(t, "This is a message\n")
	consumer.cmd.Process.Signal(syscall.SIGINT)
	if code := consumer.exit(t, 30*time.Second); code != 130 || consumer.stderr.String() != warning+"Processed a total of 1 messages\n" {
		t.Fatalf("console-consumer: exit %d after SIGINT, want 130; stderr %q", code, consumer.stderr.String())
	}

	consumer = w.start(t, "console-consumer", "--bootstrap-server", w.addr, "--topic", "Teste", "--from-beginning", "--group", "primer")
	consumer.waitOutput(t, "This is a message\n")
	consumer.cmd.Process.Signal(syscall.SIGTERM)
	if code := consumer.exit(t, 30*time.Second); code != 143 || consumer.stderr.String() != "Processed a total of 1 messages\n" {
		t.Fatalf("console-consumer: exit %d after SIGTERM, want 143; stderr %q", code, consumer.stderr.String())
	}

	r := w.run(t, "consumer-groups", "--zookeeper", "localhost:2181", "--bootstrap-server", w.addr, "--list")
	if r.code != 0 || !slices.Contains(strings.Split(r.stdout, "\n"), "primer") || r.stderr != warning {
		t.Fatalf("consumer-groups --zookeeper: %v", r)
	}
}

// TestBrokerList: --broker-list means --bootstrap-server in the tools where
// Kafka had it (console-producer, consumer-perf-test), and yields to
// --bootstrap-server wherever that is on the line; the tools that never
// had it refuse it.
func TestBrokerList(t *testing.T) {
	addr := startBroker(t)
	closed := kafkatest.ClosedAddr(t)
	kafkatest.CreateTopic(t, addr, "old-names", 1)
	orders := [][]string{
		{"--broker-list", addr},
		{"--broker-list", closed, "--bootstrap-server", addr},
		{"--bootstrap-server", addr, "--broker-list", closed},
	}
	for _, args := range orders {
		r := runTool(t, "line\n", append([]string{"console-producer", "--topic", "old-names"}, args...)...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("console-producer %v: %v", args, r)
		}
	}
	kafkatest.ReadTopic(t, addr, "old-names", 3)

	for _, args := range orders {
		r := runTool(t, "", append([]string{"consumer-perf-test", "--topic", "old-names", "--messages", "3", "--hide-header"}, args...)...)
		if f := strings.Split(r.stdout, ", "); r.code != 0 || len(f) < 5 || f[4] != "3" {
			t.Fatalf("consumer-perf-test %v: %v", args, r)
		}
	}

	for _, tool := range []string{"console-consumer", "topics", "consumer-groups", "producer-perf-test"} {
		r := runTool(t, "", tool, "--broker-list", addr)
		if r.code != 2 || !strings.HasPrefix(r.stderr, "Error: unknown flag: --broker-list\n") {
			t.Errorf("%s --broker-list: %v", tool, r)
		}
	}
}

// TestMistypedFlagsAndCommands: an unknown flag is a usage error (exit 2)
// that names the flag most likely meant; an unknown command names the
// command (cobra's suggestion).
func TestMistypedFlagsAndCommands(t *testing.T) {
	tests := []struct {
		args []string
		want string // the first line of stderr
	}{
		{[]string{"console-consumer", "--bootstrap-servers", "localhost:9092", "--topic", "t"}, "Error: unknown flag: --bootstrap-servers (did you mean --bootstrap-server?)"},
		{[]string{"console-consumer", "--topic", "t", "--from-begining"}, "Error: unknown flag: --from-begining (did you mean --from-beginning?)"},
		{[]string{"console-consumer", "--topic", "t", "-from-beginning"}, "Error: unknown shorthand flag: 'f' in -from-beginning (did you mean --from-beginning?)"},
		{[]string{"console-producer", "--topci=t"}, "Error: unknown flag: --topci (did you mean --topic?)"},
		{[]string{"topics", "--lsit"}, "Error: unknown flag: --lsit (did you mean --list?)"},
		{[]string{"consumer-groups", "--describe", "--gruop", "g"}, "Error: unknown flag: --gruop (did you mean --group?)"},
		{[]string{"consumer-perf-test", "--messsages", "3"}, "Error: unknown flag: --messsages (did you mean --messages?)"},
		{[]string{"topics", "--log-levle", "debug"}, "Error: unknown flag: --log-levle (did you mean --log-level?)"},
		{[]string{"console-consumer", "--no-such-flag"}, "Error: unknown flag: --no-such-flag"},
		{[]string{"tpoics", "--list"}, `Error: unknown command "tpoics" for "tributary"`},
	}
	for _, tt := range tests {
		r := runTool(t, "", tt.args...)
		if first, _, _ := strings.Cut(r.stderr, "\n"); r.code != 2 || first != tt.want {
			t.Errorf("%v: want exit 2 and %q, got %v", tt.args, tt.want, r)
		}
	}
	for cmd, meant := range map[string]string{"tpoics": "topics", "console-consmer": "console-consumer", "consumer-group": "consumer-groups"} {
		r := runTool(t, "", cmd)
		if r.code != 2 || !strings.Contains(r.stderr, "Did you mean this?\n\t"+meant+"\n") {
			t.Errorf("%s: want exit 2 suggesting %s, got %v", cmd, meant, r)
		}
	}
}

// TestConsoleConsumerMissingTopic: a console consumer of a topic that does
// not exist says so once and keeps waiting; it prints the topic's records
// once the topic is created.
func TestConsoleConsumerMissingTopic(t *testing.T) {
	addr := startBroker(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb lockedBuffer
	done := make(chan int)
	go func() {
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
		done <- a.execute(ctx, a.root(), []string{"console-consumer", "--bootstrap-server", addr, "--topic", "later", "--from-beginning"})
	}()
	warned := regexp.MustCompile(`level=WARN msg="topic does not exist \(yet\); waiting for it" topic=later\n`)
	kafkatest.Eventually(t, 15*time.Second, "the warning", func() bool { return warned.MatchString(errb.String()) })

	kafkatest.CreateTopic(t, addr, "later", 1)
	kafkatest.Produce(t, addr, &kgo.Record{Topic: "later", Value: []byte("here now")})
	kafkatest.Eventually(t, 60*time.Second, "the record printed", func() bool { return out.String() == "here now\n" })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	if n := len(warned.FindAllString(errb.String(), -1)); n != 1 || !strings.HasSuffix(errb.String(), "\nProcessed a total of 1 messages\n") {
		t.Fatalf("%d warnings, stderr:\n%s", n, errb.String())
	}
}

// TestConsoleConsumerMissingPartition: --partition of a partition the topic
// does not have is said once too.
func TestConsoleConsumerMissingPartition(t *testing.T) {
	addr := startBroker(t)
	kafkatest.CreateTopic(t, addr, "one-partition", 1)
	r := runTool(t, "", "console-consumer", "--bootstrap-server", addr, "--topic", "one-partition", "--partition", "3", "--timeout-ms", "200")
	if r.code != 0 || strings.Count(r.stderr, `level=WARN msg="partition does not exist (yet); waiting for it" topic=one-partition partition=3 partitions=1`) != 1 {
		t.Fatalf("%v", r)
	}
	// An existing partition: no warning.
	r = runTool(t, "", "console-consumer", "--bootstrap-server", addr, "--topic", "one-partition", "--partition", "0", "--timeout-ms", "200")
	if r.code != 0 || r.stderr != "Processed a total of 0 messages\n" {
		t.Fatalf("%v", r)
	}
}
