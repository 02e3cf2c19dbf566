package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
)

var (
	producerSummary = regexp.MustCompile(`(?m)^(\d+) records sent, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99.9th\.$`)
	consumerHeader  = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n"
	consumerValues  = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, ([\d.]+), (?:[\d.]+|Infinity), (\d+), (?:[\d.]+|Infinity), \d+, -?\d+, (?:[\d.]+|Infinity|NaN|-Infinity), (?:[\d.]+|Infinity|NaN|-Infinity)$`)
)

func TestPerfSuite(t *testing.T) {
	forEachCluster(t, func(t *testing.T, addr string, c toolCluster) {
		t.Run("record-size", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "perf-size", 1)
			r := runTool(t, "", "producer-perf-test", "--topic", "perf-size", "--num-records", "3000", "--record-size", "100",
				"--throughput", "-1", "--producer-props", "bootstrap.servers="+addr, "acks=1", "linger.ms=5")
			m := producerSummary.FindStringSubmatch(r.stdout)
			if r.code != 0 || m == nil || m[1] != "3000" {
				t.Fatalf("%v", r)
			}
			recs := kafkatest.ReadTopic(t, addr, "perf-size", 3000)
			if len(recs[0].Value) != 100 || strings.Trim(string(recs[2999].Value), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
				t.Fatalf("payload %q", recs[0].Value)
			}

			r = runTool(t, "", "consumer-perf-test", "--bootstrap-server", addr, "--topic", "perf-size", "--messages", "3000")
			m = consumerValues.FindStringSubmatch(r.stdout)
			if r.code != 0 || !strings.HasPrefix(r.stdout, consumerHeader) || m == nil || m[2] != "3000" || m[1] != "0.2861" {
				t.Fatalf("consumer: %v", r)
			}
		})

		t.Run("payload-file", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "perf-file", 1)
			file := filepath.Join(t.TempDir(), "payloads.txt")
			if err := os.WriteFile(file, []byte("alpha;beta;gamma"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runTool(t, "", "producer-perf-test", "--topic", "perf-file", "--num-records", "30", "--payload-file", file,
				"--payload-delimiter", ";", "--throughput", "-1", "--bootstrap-server", addr)
			if r.code != 0 || !strings.Contains(r.stdout, "Reading payloads from: "+file+"\nNumber of messages read: 3\n") || producerSummary.FindString(r.stdout) == "" {
				t.Fatalf("%v", r)
			}
			for _, v := range values(kafkatest.ReadTopic(t, addr, "perf-file", 30)) {
				if v != "alpha" && v != "beta" && v != "gamma" {
					t.Fatalf("payload %q", v)
				}
			}
		})

		t.Run("payload-monotonic and producer.config", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "perf-mono", 1)
			file := filepath.Join(t.TempDir(), "producer.properties")
			if err := os.WriteFile(file, []byte("bootstrap.servers="+addr+"\nacks=all\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runTool(t, "", "producer-perf-test", "--topic", "perf-mono", "--num-records", "5", "--payload-monotonic", "--throughput", "-1", "--producer.config", file)
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			if got := strings.Join(values(kafkatest.ReadTopic(t, addr, "perf-mono", 5)), ","); got != "0,1,2,3,4" {
				t.Fatalf("%s", got)
			}
		})

		t.Run("throughput", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "perf-slow", 1)
			start := time.Now()
			r := runTool(t, "", "producer-perf-test", "--topic", "perf-slow", "--num-records", "60", "--record-size", "10", "--throughput", "50", "--producer-props", "bootstrap.servers="+addr)
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			// 60 records at 50 a second take over a second.
			if d := time.Since(start); d < time.Second {
				t.Fatalf("60 records at --throughput 50 took %v", d)
			}
		})

		t.Run("consumer options", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "perf-opts", 1)
			kafkatest.Produce(t, addr, valueRecords("perf-opts", "a", "b", "c", "d")...)
			file := filepath.Join(t.TempDir(), "consumer.properties")
			if err := os.WriteFile(file, []byte("group.id=perf-from-file\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runTool(t, "", "consumer-perf-test", "--bootstrap-server", addr, "--topic", "perf-opts", "--messages", "4",
				"--hide-header", "--fetch-size", "1000", "--consumer.config", file, "--date-format", "yyyy/MM/dd'T'HH.mm.ss.SSS")
			line := regexp.MustCompile(`^\d{4}/\d\d/\d\dT\d\d\.\d\d\.\d\d\.\d{3}, \d{4}/\d\d/\d\dT\d\d\.\d\d\.\d\d\.\d{3}, [\d.]+, [\d.]+, 4, `)
			if r.code != 0 || !line.MatchString(r.stdout) {
				t.Fatalf("%v", r)
			}
			if got := kafkatest.Committed(t, addr, "perf-from-file", "perf-opts", 1); got[0] != 4 {
				t.Fatalf("group.id from --consumer.config: committed %v", got)
			}
			r = runTool(t, "", "consumer-perf-test", "--bootstrap-server", addr, "--topic", "perf-opts", "--messages", "4", "--group", "perf-named")
			if r.code != 0 || consumerValues.FindString(r.stdout) == "" {
				t.Fatalf("%v", r)
			}
			if got := kafkatest.Committed(t, addr, "perf-named", "perf-opts", 1); got[0] != 4 {
				t.Fatalf("--group: committed %v", got)
			}

			start := time.Now()
			r = runTool(t, "", "consumer-perf-test", "--bootstrap-server", addr, "--topic", "perf-opts", "--messages", "10", "--from-latest", "--timeout", "1000")
			if r.code != 0 || !strings.Contains(r.stdout, "WARNING: Exiting before consuming the expected number of messages: timeout (1000 ms) exceeded.") {
				t.Fatalf("--from-latest --timeout: %v", r)
			}
			if m := consumerValues.FindStringSubmatch(r.stdout); m == nil || m[2] != "0" {
				t.Fatalf("--from-latest read old records: %v", r)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Fatalf("--timeout 1000 took %v", d)
			}

			r = runTool(t, "", "consumer-perf-test", "--bootstrap-server", addr, "--include", "perf-op.*", "--messages", "4",
				"--show-detailed-stats", "--reporting-interval", "1")
			detailed := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, 0, [\d.]+, [\d.]+, \d+, [\d.]+, \d+, -?\d+, [\d.]+, [\d.]+$`)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "time, threadId, data.consumed.in.MB,") || !detailed.MatchString(r.stdout) {
				t.Fatalf("--show-detailed-stats: %v", r)
			}
		})
	})
}

func TestPerfUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"producer-perf-test", "--num-records", "1", "--record-size", "1", "--throughput", "-1", "--bootstrap-server", "x:1"}, "argument --topic is required"},
		{[]string{"producer-perf-test", "--topic", "t", "--record-size", "1", "--throughput", "-1", "--bootstrap-server", "x:1"}, "argument --num-records is required"},
		{[]string{"producer-perf-test", "--topic", "t", "--num-records", "1", "--record-size", "1", "--bootstrap-server", "x:1"}, "argument --throughput is required"},
		{[]string{"producer-perf-test", "--topic", "t", "--num-records", "1", "--throughput", "-1", "--bootstrap-server", "x:1"}, "exactly one of --record-size, --payload-file and --payload-monotonic"},
		{[]string{"producer-perf-test", "--topic", "t", "--num-records", "1", "--record-size", "1", "--payload-monotonic", "--throughput", "-1", "--bootstrap-server", "x:1"}, "exactly one of --record-size"},
		{[]string{"producer-perf-test", "--topic", "t", "--num-records", "0", "--record-size", "1", "--throughput", "-1", "--bootstrap-server", "x:1"}, "--num-records should be greater than zero"},
		{[]string{"producer-perf-test", "--topic", "t", "--num-records", "1", "--record-size", "0", "--throughput", "-1", "--bootstrap-server", "x:1"}, "--record-size should be greater than zero"},
		{[]string{"producer-perf-test", "--topic", "t", "--num-records", "1", "--record-size", "1", "--throughput", "-1"}, "either --producer-props or --producer.config must be specified"},
		{[]string{"producer-perf-test", "--topic", "t", "--num-records", "1", "--record-size", "1", "--throughput", "-1", "--producer-props", "acks"}, "invalid property: acks"},
		{[]string{"producer-perf-test", "--topic", "t", "--num-records", "1", "--record-size", "1", "--throughput", "-1", "--producer-props", "a=1", "stray"}, `unexpected argument "stray"`},
		{[]string{"producer-perf-test", "--topic", "t", "--num-records", "1", "--record-size", "1", "--throughput", "-1", "--bootstrap-server", "x:1", "a=1"}, `unexpected argument "a=1"`},
		{[]string{"consumer-perf-test", "--messages", "1"}, "exactly one of --topic and --include is required"},
		{[]string{"consumer-perf-test", "--topic", "t"}, "--messages is required"},
		{[]string{"consumer-perf-test", "--topic", "t", "--messages", "0"}, "--messages should be greater than zero"},
		{[]string{"consumer-perf-test", "--topic", "t", "--messages", "1", "--date-format", "yyyy-QQ"}, `date format "yyyy-QQ": Illegal pattern character 'Q'`},
		{[]string{"consumer-perf-test", "--topic", "t", "--messages", "1", "--no-such-flag"}, "unknown flag: --no-such-flag"},
	}
	for _, tt := range tests {
		r := runTool(t, "", tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: want exit 2 saying %q, got %v", tt.args, tt.want, r)
		}
	}
}
