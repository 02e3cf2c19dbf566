package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
)

func TestGetOffsetsSuite(t *testing.T) {
	forEachCluster(t, func(t *testing.T, addr string, c toolCluster) {
		run := func(args ...string) toolResult {
			t.Helper()
			return runTool(t, "", append([]string{"get-offsets", "--bootstrap-server", addr}, args...)...)
		}
		// go-many has 12 partitions: Kafka sorts them as text, so 10 and
		// 11 come before 2.
		kafkatest.CreateTopic(t, addr, "go-many", 12)
		kafkatest.CreateTopic(t, addr, "go-one", 1)
		base := time.UnixMilli(1_700_000_000_000)
		fillPartitions(t, addr, "go-many", base, 3, 1, 4)
		fillPartitions(t, addr, "go-one", base, 5)

		r := run("--topic", "go-many")
		want := "go-many:0:3\ngo-many:1:1\ngo-many:10:0\ngo-many:11:0\ngo-many:2:4\ngo-many:3:0\ngo-many:4:0\ngo-many:5:0\ngo-many:6:0\ngo-many:7:0\ngo-many:8:0\ngo-many:9:0\n"
		if r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Fatalf("latest: %v", r)
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--topic", "go-one", "--time", "-1"}, "go-one:0:5\n"},
			{[]string{"--topic", "go-one", "--time", "earliest"}, "go-one:0:0\n"},
			{[]string{"--topic", "go-one", "--time", "-2"}, "go-one:0:0\n"},
			// The records of go-one are a second apart from base.
			{[]string{"--topic", "go-one", "--time", "1700000002000"}, "go-one:0:2\n"},
			{[]string{"--topic", "go-one", "--time", "1700000002001"}, "go-one:0:3\n"},
			{[]string{"--topic", "go-one", "--time", "0"}, "go-one:0:0\n"},
			// After the last record: no offset, no line.
			{[]string{"--topic", "go-one", "--time", "1700000099000"}, ""},
			{[]string{"--topic", "go-one", "--time", "max-timestamp"}, "go-one:0:4\n"},
			{[]string{"--topic", "go-many", "--partitions", "0,2"}, "go-many:0:3\ngo-many:2:4\n"},
			{[]string{"--topic", "go-.*", "--partitions", "0"}, "go-many:0:3\ngo-one:0:5\n"},
			{[]string{"--topic-partitions", "go-many:1-3,go-one"}, "go-many:1:1\ngo-many:2:4\ngo-one:0:5\n"},
			{[]string{"--topic-partitions", "go-many:10-,go-one:0"}, "go-many:10:0\ngo-many:11:0\ngo-one:0:5\n"},
			{[]string{"--topic-partitions", "go-many:-1", "--time", "earliest"}, "go-many:0:0\n"},
		} {
			r := run(tc.args...)
			if r.code != 0 || r.stdout != tc.want {
				t.Errorf("%q: %v\nwant\n%s", tc.args, r, tc.want)
			}
		}

		if c.internalTopicConfig != "" {
			k, v, _ := strings.Cut(c.internalTopicConfig, "=")
			adm := kadm.NewClient(kafkatest.Client(t, addr))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{k: &v}, "go-internal"); err != nil {
				t.Fatal(err)
			}
			if r := run("--topic", "go-internal"); r.code != 0 || r.stdout != "go-internal:0:0\n" {
				t.Errorf("internal topic: %v", r)
			}
			if r := run("--topic", "go-internal", "--exclude-internal-topics"); r.code != 1 || !strings.Contains(r.stderr, "could not match any topic-partitions") {
				t.Errorf("--exclude-internal-topics: %v", r)
			}
		}

		for _, tc := range []struct {
			args   []string
			code   int
			stderr string
		}{
			{[]string{"--topic", "no-such-topic"}, 1, "Error: could not match any topic-partitions with the specified filters (--topic no-such-topic)\n"},
			{[]string{"--topic", "go-one", "--partitions", "7"}, 1, "Error: could not match any topic-partitions with the specified filters (--topic go-one --partitions 7)\n"},
			{[]string{"--topic", "go-one", "--time", "yesterday"}, 2, "Error: malformed time argument yesterday. Please use -1 or latest"},
			{[]string{"--topic", "go-one", "--topic-partitions", "go-one:0"}, 2, "Error: --topic-partitions cannot be used with --topic or --partitions\n"},
			{[]string{"--topics", "go-one"}, 2, "Error: unknown flag: --topics (did you mean --topic?)\n"},
		} {
			r := run(tc.args...)
			if r.code != tc.code || !strings.HasPrefix(r.stderr, tc.stderr) || r.stdout != "" {
				t.Errorf("%q: %v\nwant exit %d and %q", tc.args, r, tc.code, tc.stderr)
			}
		}
	})
}

func TestGetOffsetsNoBroker(t *testing.T) {
	addr := kafkatest.ClosedAddr(t)
	r := runTool(t, "", "get-offsets", "--bootstrap-server", addr, "--topic", "x")
	if r.code != 1 || !strings.Contains(r.stderr, addr) {
		t.Fatalf("%v", r)
	}
}
