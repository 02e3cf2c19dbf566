package main

import (
	"strings"
	"testing"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
)

func TestConfigsSuite(t *testing.T) {
	forEachCluster(t, func(t *testing.T, addr string, c toolCluster) {
		run := func(args ...string) toolResult {
			t.Helper()
			return runTool(t, "", append([]string{"configs", "--bootstrap-server", addr}, args...)...)
		}
		kafkatest.CreateTopic(t, addr, "cf", 1)

		t.Run("topics", func(t *testing.T) {
			r := run("--alter", "--entity-type", "topics", "--entity-name", "cf", "--add-config", "retention.ms=3600000,cleanup.policy=[compact,delete]")
			if r.code != 0 || r.stdout != "Completed updating config for topic cf.\n" || r.stderr != "" {
				t.Fatalf("%v", r)
			}
			r = run("--describe", "--entity-type", "topics", "--entity-name", "cf")
			lines := strings.Split(r.stdout, "\n")
			if r.code != 0 || len(lines) != 4 || lines[0] != "Dynamic configs for topic cf are:" ||
				!strings.HasPrefix(lines[1], "  cleanup.policy=compact,delete sensitive=false synonyms={") ||
				!strings.HasPrefix(lines[2], "  retention.ms=3600000 sensitive=false synonyms={") {
				t.Fatalf("describe: %v", r)
			}
			if c.name == "bundled" && lines[2] != "  retention.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=3600000, DEFAULT_CONFIG:log.retention.hours=168}" {
				t.Errorf("synonyms: %q", lines[2])
			}
			r = run("--describe", "--topic", "cf", "--all")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "All configs for topic cf are:\n") || !strings.Contains(r.stdout, "\n  segment.bytes=") {
				t.Fatalf("--all: %v", r)
			}
			// Every topic, when none is named.
			r = run("--describe", "--entity-type", "topics")
			if r.code != 0 || !strings.Contains(r.stdout, "Dynamic configs for topic cf are:\n") {
				t.Fatalf("all topics: %v", r)
			}
			r = run("--alter", "--topic", "cf", "--delete-config", "retention.ms,segment.ms")
			if r.code != 1 || r.stderr != "Error: invalid config(s): segment.ms (not set for topic cf)\n" {
				t.Fatalf("delete of an unset config: %v", r)
			}
			r = run("--alter", "--topic", "cf", "--delete-config", "retention.ms")
			if r.code != 0 || r.stdout != "Completed updating config for topic cf.\n" {
				t.Fatalf("delete: %v", r)
			}
			r = run("--describe", "--topic", "cf")
			if r.code != 0 || strings.Contains(r.stdout, "retention.ms") || !strings.Contains(r.stdout, "cleanup.policy") {
				t.Fatalf("after delete: %v", r)
			}
			r = run("--describe", "--topic", "no-such-topic")
			if r.code != 1 || r.stderr != "Error: the topic 'no-such-topic' does not exist\n" {
				t.Errorf("unknown topic: %v", r)
			}
			r = run("--alter", "--topic", "cf", "--add-config", "retention.ms=soon")
			if c.name == "bundled" && (r.code != 1 || !strings.Contains(r.stderr, "Error: alter the configs of topic cf: INVALID_CONFIG")) {
				t.Errorf("bad value: %v", r)
			}
		})

		t.Run("brokers", func(t *testing.T) {
			r := run("--alter", "--entity-type", "brokers", "--entity-default", "--add-config", "log.retention.ms=86400000")
			if r.code != 0 || r.stdout != "Completed updating default config for brokers in the cluster.\n" {
				t.Fatalf("%v", r)
			}
			if c.name != "bundled" { // kfake lists no cluster-wide dynamic configs
				return
			}
			r = run("--describe", "--broker-defaults")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "Default configs for brokers in the cluster are:\n  log.retention.ms=86400000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=86400000") {
				t.Fatalf("describe default: %v", r)
			}
			r = run("--alter", "--broker", "1", "--add-config", "log.retention.ms=86400001")
			if r.code != 0 || r.stdout != "Completed updating config for broker 1.\n" {
				t.Fatalf("%v", r)
			}
			r = run("--describe", "--entity-type", "brokers")
			want := "Dynamic configs for broker 1 are:\n" +
				"  log.retention.ms=86400001 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=86400001, DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=86400000, DEFAULT_CONFIG:log.retention.hours=168}\n" +
				"Default configs for brokers in the cluster are:\n" +
				"  log.retention.ms=86400000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=86400000, DEFAULT_CONFIG:log.retention.hours=168}\n"
			if r.code != 0 || r.stdout != want {
				t.Fatalf("describe: %v\nwant\n%s", r, want)
			}
			r = run("--alter", "--broker", "1", "--delete-config", "log.retention.ms")
			if r.code != 0 {
				t.Fatalf("delete: %v", r)
			}
			r = run("--describe", "--broker", "1")
			if r.code != 0 || r.stdout != "Dynamic configs for broker 1 are:\n" {
				t.Fatalf("after delete: %v", r)
			}
			r = run("--describe", "--broker-logger", "1")
			if want := "Dynamic configs for broker-logger 1 are:\n  root=INFO sensitive=false synonyms={}\n"; r.code != 0 || r.stdout != want {
				t.Errorf("broker loggers: %v\nwant\n%s", r, want)
			}
			r = run("--alter", "--broker-logger", "1", "--add-config", "root=DEBUG")
			if r.code != 0 || r.stdout != "Completed updating config for broker-logger 1.\n" {
				t.Errorf("alter broker logger: %v", r)
			}
			r = run("--describe", "--broker-logger", "1")
			if !strings.Contains(r.stdout, "  root=DEBUG ") {
				t.Errorf("broker loggers after the change: %v", r)
			}
			r = run("--alter", "--broker-logger", "1", "--add-config", "kafka.server.KafkaApis=DEBUG")
			if r.code != 1 || r.stderr != "Error: invalid broker logger(s): kafka.server.KafkaApis\n" {
				t.Errorf("alter an unknown logger: %v", r)
			}
		})

		t.Run("users and clients", func(t *testing.T) {
			r := run("--alter", "--entity-type", "users", "--entity-name", "alice", "--add-config", "consumer_byte_rate=1048576,producer_byte_rate=20000000")
			if r.code != 0 || r.stdout != "Completed updating config for user alice.\n" {
				t.Fatalf("%v", r)
			}
			r = run("--alter", "--user", "alice", "--add-config", "SCRAM-SHA-256=[iterations=8192,password=alice-secret]")
			if r.code != 0 || r.stdout != "Completed updating config for user alice.\n" {
				t.Fatalf("scram: %v", r)
			}
			r = run("--describe", "--entity-type", "users", "--entity-name", "alice")
			want := "Quota configs for user-principal 'alice' are consumer_byte_rate=1048576.0, producer_byte_rate=2.0E7\n" +
				"SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192\n"
			if r.code != 0 || r.stdout != want {
				t.Fatalf("describe: %v\nwant\n%s", r, want)
			}
			r = run("--alter", "--entity-type", "users", "--entity-name", "alice", "--entity-type", "clients", "--entity-default", "--add-config", "request_percentage=50")
			if r.code != 0 || r.stdout != "Completed updating config for user alice.\n" {
				t.Fatalf("user's clients: %v", r)
			}
			r = run("--alter", "--client-defaults", "--add-config", "producer_byte_rate=1000")
			if r.code != 0 || r.stdout != "Completed updating default config for clients in the cluster.\n" {
				t.Fatalf("client defaults: %v", r)
			}
			r = run("--describe", "--client-defaults")
			if r.code != 0 || r.stdout != "Quota configs for the default client-id are producer_byte_rate=1000.0\n" {
				t.Fatalf("describe client defaults: %v", r)
			}
			r = run("--alter", "--user", "alice", "--delete-config", "consumer_byte_rate,request_percentage")
			if r.code != 1 || r.stderr != "Error: invalid config(s): request_percentage (not set for user-principal 'alice')\n" {
				t.Errorf("delete of an unset quota: %v", r)
			}
			r = run("--alter", "--user", "alice", "--delete-config", "SCRAM-SHA-256")
			if r.code != 0 {
				t.Fatalf("delete scram: %v", r)
			}
			r = run("--describe", "--user", "alice")
			if r.code != 0 || r.stdout != "Quota configs for user-principal 'alice' are consumer_byte_rate=1048576.0, producer_byte_rate=2.0E7\n" {
				t.Errorf("after deleting the credential: %v", r)
			}
			for _, tc := range []struct {
				args []string
				msg  string
			}{
				{[]string{"--alter", "--user", "alice", "--add-config", "retention.ms=1"}, "Error: only quota and SCRAM credential configs can be added for 'users' using --bootstrap-server. Unexpected config names: retention.ms\n"},
				{[]string{"--alter", "--client", "app", "--add-config", "SCRAM-SHA-256=[password=x]"}, "Error: only quota configs can be added for 'clients' using --bootstrap-server. Unexpected config names: SCRAM-SHA-256\n"},
				{[]string{"--alter", "--user", "alice", "--add-config", "SCRAM-SHA-256=[iterations=100,password=x]"}, "Error: iterations 100 is less than the minimum 4096 required for SCRAM-SHA-256\n"},
				{[]string{"--alter", "--user", "alice", "--add-config", "SCRAM-SHA-256=secret"}, "Error: invalid credential property SCRAM-SHA-256=secret: want [iterations=N,]password=P\n"},
				{[]string{"--alter", "--user-defaults", "--add-config", "SCRAM-SHA-256=[password=x]"}, "Error: the use of --entity-default or --user-defaults is not allowed with User SCRAM Credentials using --bootstrap-server\n"},
				{[]string{"--alter", "--user", "alice", "--add-config", "producer_byte_rate=fast"}, "Error: cannot parse quota configuration value for producer_byte_rate: fast\n"},
			} {
				r := run(tc.args...)
				if r.code != 2 || !strings.HasPrefix(r.stderr, tc.msg) {
					t.Errorf("%q: %v\nwant %q", tc.args, r, tc.msg)
				}
			}
		})

		t.Run("usage", func(t *testing.T) {
			for _, tc := range []struct {
				args []string
				msg  string
			}{
				{[]string{"--entity-type", "topics"}, "Error: command must include exactly one action: --describe, --alter\n"},
				{[]string{"--describe", "--entity-type", "groups"}, "Error: invalid entity type groups, the entity type must be one of topics, clients, users, brokers, broker-loggers with a --bootstrap-server argument\n"},
				{[]string{"--describe", "--entity-typ", "topics"}, "Error: unknown flag: --entity-typ (did you mean --entity-type?)\n"},
				{[]string{"--describe", "--zookeeper", "localhost:2181", "--topic", "cf"}, "Error: --zookeeper localhost:2181: configs are read and changed through the broker only; use --bootstrap-server\n"},
				{[]string{"--alter", "--topic", "cf", "--add-config", "retention.ms"}, "Error: invalid entity config: all configs to be added must be in the format \"key=val\" (\"retention.ms\" is not)\n"},
				{[]string{"--alter", "--topic", "cf", "--add-config-file", "/nonexistent/topic.properties"}, "Error: "},
			} {
				r := run(tc.args...)
				if r.code == 0 || !strings.HasPrefix(r.stderr, tc.msg) {
					t.Errorf("%q: %v\nwant %q", tc.args, r, tc.msg)
				}
			}
		})
	})
}
