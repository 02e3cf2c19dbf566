package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
)

func TestVerifyConsumerLagSuite(t *testing.T) {
	forEachCluster(t, func(t *testing.T, addr string, c toolCluster) {
		run := func(args ...string) toolResult {
			t.Helper()
			return runTool(t, "", append([]string{"verify-consumer-lag", "--bootstrap-server", addr}, args...)...)
		}
		kafkatest.CreateTopic(t, addr, "lag-t", 2)
		kafkatest.CreateTopic(t, addr, "lag-other", 1)
		fillPartitions(t, addr, "lag-t", time.Now(), 10, 4)
		fillPartitions(t, addr, "lag-other", time.Now(), 3)
		commitOffsets(t, addr, "lag-g", "lag-t", 7, 4) // lags 3 and 0
		commitOffsets(t, addr, "lag-caught-up", "lag-t", 10, 4)

		table := "\n" +
			"GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG\n" +
			"lag-g           lag-t           0          7               10              3\n" +
			"lag-g           lag-t           1          4               4               0\n"
		r := run("--group", "lag-g", "--max-lag", "3")
		if r.code != 0 || r.stdout != table+"\nConsumer group 'lag-g' is within --max-lag 3: its largest lag is 3 (lag-t-0).\n" || r.stderr != "" {
			t.Fatalf("within: %v", r)
		}
		r = run("--group", "lag-g", "--max-lag", "2")
		if r.code != 1 || r.stdout != table || r.stderr != "Error: consumer lag check failed: consumer group 'lag-g' lags more than --max-lag 2 on lag-t-0 (lag 3)\n" {
			t.Fatalf("over: %v", r)
		}
		// Every group is checked and reported.
		r = run("--group", "lag-caught-up", "--group", "lag-g", "--group", "lag-nobody")
		if r.code != 1 || !strings.Contains(r.stdout, "Consumer group 'lag-caught-up' is within --max-lag 0: its largest lag is 0 (lag-t-0).\n") ||
			r.stderr != "Error: consumer lag check failed: consumer group 'lag-g' lags more than --max-lag 0 on lag-t-0 (lag 3); consumer group 'lag-nobody' has no committed offsets\n" {
			t.Fatalf("three groups: %v", r)
		}
		// --topic checks every partition of the topic, committed or not.
		r = run("--group", "lag-g", "--topic", "lag-other", "--max-lag", "100")
		if r.code != 1 || !strings.Contains(r.stderr, "consumer group 'lag-g' has no committed offsets for lag-other") {
			t.Fatalf("--topic without commits: %v", r)
		}
		commitOffsets(t, addr, "lag-part", "lag-t", 9)
		r = run("--group", "lag-part", "--topic", "lag-t", "--max-lag", "3")
		if r.code != 1 || !strings.Contains(r.stdout, "lag-part        lag-t           1          -               4               4\n") ||
			!strings.Contains(r.stderr, "on lag-t-1 (lag 4)") {
			t.Fatalf("uncommitted partition: %v", r)
		}

		for _, tc := range []struct {
			args   []string
			code   int
			stderr string
		}{
			{[]string{"--max-lag", "3"}, 2, "Error: missing required argument \"[group]\"\n"},
			{[]string{"--group", "lag-g", "--max-lag", "-1"}, 2, "Error: --max-lag -1: must be 0 or more\n"},
			{[]string{"--group", "lag-g", "--max-lag", "ten"}, 2, "Error: invalid argument \"ten\" for \"--max-lag\" flag"},
			{[]string{"--group", "lag-g", "--topic", "no-such-topic"}, 1, "Error: topic 'no-such-topic' does not exist\n"},
		} {
			r := run(tc.args...)
			if r.code != tc.code || !strings.HasPrefix(r.stderr, tc.stderr) {
				t.Errorf("%q: %v\nwant exit %d and %q", tc.args, r, tc.code, tc.stderr)
			}
		}
	})
}
