package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
)

// toolCluster is a broker the client-facing suites of the command-line
// tools run against: every suite runs once per entry.
type toolCluster struct {
	name  string
	start func(testing.TB) string
	// internalTopicConfig, when set, is a --config that makes a created
	// topic internal (to test --exclude-internal).
	internalTopicConfig string
}

func toolClusters() []toolCluster {
	return []toolCluster{
		{name: "kfake", start: func(t testing.TB) string { return startKfake(t) }, internalTopicConfig: "kfake.is_internal=true"},
		{name: "bundled", start: func(t testing.TB) string { return startBroker(t) }},
	}
}

// forEachCluster runs the suite as a subtest against every tool cluster.
func forEachCluster(t *testing.T, suite func(t *testing.T, addr string, c toolCluster)) {
	for _, c := range toolClusters() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			suite(t, c.start(t), c)
		})
	}
}

type toolResult struct {
	code           int
	stdout, stderr string
}

func (r toolResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// runTool runs one tributary command line in-process with the given stdin.
func runTool(t testing.TB, stdin string, args ...string) toolResult {
	t.Helper()
	return runToolCtx(t, context.Background(), stdin, args...)
}

// runToolCtx is runTool whose command context is ctx: cancelling ctx is
// what SIGINT does to a command.
func runToolCtx(t testing.TB, ctx context.Context, stdin string, args ...string) toolResult {
	t.Helper()
	var out, errb lockedBuffer
	a := &app{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	code := a.execute(ctx, a.root(), args)
	return toolResult{code, out.String(), errb.String()}
}

func TestTopicsSuite(t *testing.T) {
	forEachCluster(t, func(t *testing.T, addr string, c toolCluster) {
		bs := []string{"topics", "--bootstrap-server", addr}
		run := func(args ...string) toolResult {
			t.Helper()
			return runTool(t, "", append(bs, args...)...)
		}

		t.Run("create", func(t *testing.T) {
			r := run("--create", "--topic", "orders", "--partitions", "3", "--replication-factor", "1", "--config", "retention.ms=3600000", "--config", "cleanup.policy = delete")
			if r.code != 0 || r.stdout != "Created topic orders.\n" || r.stderr != "" {
				t.Fatalf("%v", r)
			}
			r = run("--describe", "--topic", "orders")
			want := regexp.MustCompile(`^Topic: orders\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: (.*)\n` +
				`\tTopic: orders\tPartition: 0\tLeader: (\d+)\tReplicas: (\d+)\tIsr: (\d+)\n` +
				`\tTopic: orders\tPartition: 1\tLeader: \d+\tReplicas: \d+\tIsr: \d+\n` +
				`\tTopic: orders\tPartition: 2\tLeader: \d+\tReplicas: \d+\tIsr: \d+\n$`)
			m := want.FindStringSubmatch(r.stdout)
			if r.code != 0 || m == nil {
				t.Fatalf("describe: %v", r)
			}
			if !strings.Contains(m[1], "retention.ms=3600000") || !strings.Contains(m[1], "cleanup.policy=delete") {
				t.Errorf("configs %q lack the overrides", m[1])
			}
			if m[2] != m[3] || m[3] != m[4] {
				t.Errorf("leader, replicas, isr = %s %s %s", m[2], m[3], m[4])
			}
		})

		t.Run("create defaults", func(t *testing.T) {
			// Without --partitions and --replication-factor the broker's
			// defaults apply.
			if r := run("--create", "--topic", "defaults"); r.code != 0 {
				t.Fatalf("%v", r)
			}
			r := run("--describe", "--topic", "defaults")
			if r.code != 0 || !strings.Contains(r.stdout, "\tReplicationFactor: 1\t") || !strings.Contains(r.stdout, "\tPartition: 0\t") {
				t.Fatalf("%v", r)
			}
		})

		t.Run("exists", func(t *testing.T) {
			if r := run("--create", "--topic", "twice"); r.code != 0 {
				t.Fatalf("first: %v", r)
			}
			r := run("--create", "--topic", "twice")
			if r.code != 1 || r.stderr != "Error: Topic 'twice' already exists.\n" || r.stdout != "" {
				t.Fatalf("second: %v", r)
			}
			r = run("--create", "--topic", "twice", "--if-not-exists")
			if r.code != 0 || r.stdout != "" || r.stderr != "" {
				t.Fatalf("--if-not-exists: %v", r)
			}
		})

		t.Run("illegal name", func(t *testing.T) {
			r := run("--create", "--topic", "no spaces")
			if r.code != 1 || r.stderr != "Error: Topic name \"no spaces\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'\n" {
				t.Fatalf("%v", r)
			}
			r = run("--create", "--topic", strings.Repeat("x", 250))
			if r.code != 1 || !strings.Contains(r.stderr, "can't be longer than 249 characters") {
				t.Fatalf("%v", r)
			}
			r = run("--create", "--topic", "..")
			if r.code != 1 || r.stderr != "Error: Topic name cannot be \".\" or \"..\"\n" {
				t.Fatalf("%v", r)
			}
		})

		t.Run("collision warning", func(t *testing.T) {
			r := run("--create", "--topic", "metrics.by_host")
			want := "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.\nCreated topic metrics.by_host.\n"
			if r.code != 0 || r.stdout != want {
				t.Fatalf("%v", r)
			}
			if r := run("--create", "--topic", "metrics.plain"); strings.Contains(r.stdout, "WARNING") {
				t.Fatalf("warned without '_': %v", r)
			}
		})

		t.Run("zookeeper", func(t *testing.T) {
			r := run("--create", "--zookeeper", "localhost:2181", "--replication-factor", "1", "--partitions", "1", "--topic", "Teste")
			wantErr := "Warning: --zookeeper localhost:2181 is not used: tributary talks to the broker at " + addr + " (--bootstrap-server) instead.\n"
			if r.code != 0 || r.stdout != "Created topic Teste.\n" || r.stderr != wantErr {
				t.Fatalf("%v", r)
			}
		})

		t.Run("list", func(t *testing.T) {
			for _, n := range []string{"list-b", "list-a", "list-c"} {
				kafkatest.CreateTopic(t, addr, n, 1)
			}
			r := run("--list")
			if r.code != 0 || !strings.Contains(r.stdout, "list-a\nlist-b\nlist-c\n") {
				t.Fatalf("%v", r)
			}
			r = run("--list", "--topic", "list-[ab]")
			if r.code != 0 || r.stdout != "list-a\nlist-b\n" {
				t.Fatalf("regex: %v", r)
			}
			r = run("--list", "--topic", "list-a,list-c")
			if r.code != 0 || r.stdout != "list-a\nlist-c\n" {
				t.Fatalf("comma list: %v", r)
			}
		})

		t.Run("exclude internal", func(t *testing.T) {
			if c.internalTopicConfig == "" {
				t.Skip("this broker has no way to create an internal topic")
			}
			if r := run("--create", "--topic", "hidden-internal", "--config", c.internalTopicConfig); r.code != 0 {
				t.Fatalf("%v", r)
			}
			kafkatest.CreateTopic(t, addr, "shown-plain", 1)
			if r := run("--list"); !strings.Contains(r.stdout, "shown-plain\n") || strings.Contains(r.stdout, "hidden-internal") {
				t.Fatalf("default list shows internal topics: %v", r)
			}
			if r := run("--list", "--exclude-internal=false"); !strings.Contains(r.stdout, "hidden-internal\n") {
				t.Fatalf("--exclude-internal=false hides them: %v", r)
			}
			if r := run("--describe", "--topic", "hidden-.*"); r.code != 1 {
				t.Fatalf("describe of an internal topic by default: %v", r)
			}
			if r := run("--describe", "--topic", "hidden-.*", "--exclude-internal=false"); r.code != 0 || !strings.HasPrefix(r.stdout, "Topic: hidden-internal\t") {
				t.Fatalf("%v", r)
			}
		})

		t.Run("describe all and overrides", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "desc-plain", 2)
			r := run("--create", "--topic", "desc-override", "--config", "retention.ms=1000")
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			r = run("--describe")
			if r.code != 0 || !strings.Contains(r.stdout, "Topic: desc-plain\t") || !strings.Contains(r.stdout, "Topic: desc-override\t") {
				t.Fatalf("%v", r)
			}
			r = run("--describe", "--topics-with-overrides", "--topic", "desc-.*")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "Topic: desc-override\t") || strings.Count(r.stdout, "\n") != 1 {
				t.Fatalf("--topics-with-overrides: %v", r)
			}
		})

		t.Run("alter", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "grow", 1)
			if r := run("--alter", "--topic", "grow", "--partitions", "4"); r.code != 0 || r.stdout != "" {
				t.Fatalf("%v", r)
			}
			r := run("--describe", "--topic", "grow")
			if !strings.Contains(r.stdout, "PartitionCount: 4\t") || !strings.Contains(r.stdout, "\tPartition: 3\t") {
				t.Fatalf("%v", r)
			}
			r = run("--alter", "--topic", "grow", "--partitions", "2")
			if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: ") || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("shrinking: %v", r)
			}
			r = run("--alter", "--topic", "no-such-topic", "--partitions", "2")
			if r.code != 1 || r.stderr != "Error: Topic 'no-such-topic' does not exist as expected\n" {
				t.Fatalf("%v", r)
			}
			if r := run("--alter", "--topic", "no-such-topic", "--partitions", "2", "--if-exists"); r.code != 0 {
				t.Fatalf("--if-exists: %v", r)
			}
		})

		t.Run("delete", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "doomed", 1)
			if r := run("--delete", "--topic", "doomed"); r.code != 0 || r.stdout != "" {
				t.Fatalf("%v", r)
			}
			kafkatest.Eventually(t, 10*time.Second, "deleted topic disappears from --list", func() bool {
				return !strings.Contains(run("--list").stdout, "doomed\n")
			})
			r := run("--delete", "--topic", "doomed")
			if r.code != 1 || r.stderr != "Error: Topic 'doomed' does not exist as expected\n" {
				t.Fatalf("%v", r)
			}
			if r := run("--delete", "--topic", "doomed", "--if-exists"); r.code != 0 {
				t.Fatalf("--if-exists: %v", r)
			}
			if r := run("--describe", "--topic", "doomed", "--if-exists"); r.code != 0 || r.stdout != "" {
				t.Fatalf("describe --if-exists: %v", r)
			}
		})
	})
}

func TestTopicsUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"topics"}, "exactly one action"},
		{[]string{"topics", "--list", "--describe"}, "exactly one action"},
		{[]string{"topics", "--create"}, "--topic is required with --create"},
		{[]string{"topics", "--delete"}, "--topic is required with --delete"},
		{[]string{"topics", "--alter", "--topic", "t"}, "--alter needs --partitions"},
		{[]string{"topics", "--list", "--partitions", "2"}, "--partitions can only be used with --create or --alter"},
		{[]string{"topics", "--alter", "--topic", "t", "--partitions", "2", "--replication-factor", "1"}, "--replication-factor can only be used with --create"},
		{[]string{"topics", "--list", "--config", "a=b"}, "--config can only be used with --create"},
		{[]string{"topics", "--list", "--if-not-exists"}, "--if-not-exists can only be used with --create"},
		{[]string{"topics", "--create", "--topic", "t", "--if-exists"}, "--if-exists can only be used with --alter or --delete or --describe"},
		{[]string{"topics", "--create", "--topic", "t", "--exclude-internal"}, "--exclude-internal can only be used with --list or --describe"},
		{[]string{"topics", "--list", "--topics-with-overrides"}, "--topics-with-overrides can only be used with --describe"},
		{[]string{"topics", "--create", "--topic", "t", "--partitions", "0"}, "--partitions must be greater than 0"},
		{[]string{"topics", "--create", "--topic", "t", "--replication-factor", "0"}, "--replication-factor must be between 1 and 32767"},
		{[]string{"topics", "--create", "--topic", "t", "--config", "novalue"}, `invalid topic config "novalue"`},
		{[]string{"topics", "--list", "--topic", "("}, "not a valid regular expression"},
		{[]string{"topics", "--list", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"topics", "--list", "extra"}, `unknown command "extra"`},
	}
	for _, tt := range tests {
		r := runTool(t, "", tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: want exit 2 saying %q, got %v", tt.args, tt.want, r)
		}
	}
}

// TestTopicsUnreachable: a broker that is not there is reported in one
// line within seconds, with the default address when none is given.
func TestTopicsUnreachable(t *testing.T) {
	addr := kafkatest.ClosedAddr(t)
	start := time.Now()
	r := runTool(t, "", "topics", "--bootstrap-server", addr, "--list")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: cannot reach a broker at "+addr+": ") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("%v", r)
	}
	if d := time.Since(start); d > toolclient.ReachTimeout+2*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestTopicsDefaultBootstrap(t *testing.T) {
	cmd := newTopicsCmd(&app{})
	if got := cmd.Flags().Lookup("bootstrap-server").DefValue; got != "localhost:9092" {
		t.Fatalf("default --bootstrap-server %q", got)
	}
}
