package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
)

func TestLogDirsSuite(t *testing.T) {
	forEachCluster(t, func(t *testing.T, addr string, c toolCluster) {
		run := func(args ...string) toolResult {
			t.Helper()
			return runTool(t, "", append([]string{"log-dirs", "--bootstrap-server", addr}, args...)...)
		}
		kafkatest.CreateTopic(t, addr, "ld-a", 2)
		kafkatest.CreateTopic(t, addr, "ld-b", 1)
		kafkatest.Produce(t, addr, &kgo.Record{Topic: "ld-a", Partition: 1, Value: []byte("some bytes on disk")})

		r := run("--describe", "--topic-list", "ld-a")
		lines := strings.Split(r.stdout, "\n")
		if r.code != 0 || len(lines) != 4 || lines[0] != "Querying brokers for log directories information" || lines[3] != "" {
			t.Fatalf("%v", r)
		}
		var got struct {
			Version int
			Brokers []struct {
				Broker  int32
				LogDirs []struct {
					LogDir     string
					Error      *string
					Partitions []struct {
						Partition string
						Size      int64
						OffsetLag int64
						IsFuture  bool
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(lines[2]), &got); err != nil {
			t.Fatalf("%v: %s", err, lines[2])
		}
		if got.Version != 1 || len(got.Brokers) != 1 || len(got.Brokers[0].LogDirs) == 0 {
			t.Fatalf("%+v", got)
		}
		id := got.Brokers[0].Broker
		if want := "Received log directory information from brokers " + itoa(id); lines[1] != want {
			t.Errorf("%q, want %q", lines[1], want)
		}
		sizes := map[string]int64{}
		for _, d := range got.Brokers[0].LogDirs {
			if d.LogDir == "" || d.Error != nil {
				t.Errorf("log dir %+v", d)
			}
			for _, p := range d.Partitions {
				sizes[p.Partition] = p.Size
				if p.OffsetLag != 0 || p.IsFuture {
					t.Errorf("partition %+v", p)
				}
			}
		}
		if _, ok := sizes["ld-a-0"]; !ok || sizes["ld-a-1"] <= 0 || len(sizes) != 2 {
			t.Errorf("sizes %v: want ld-a-0 and ld-a-1 (with bytes) only", sizes)
		}
		if !strings.HasPrefix(lines[2], `{"brokers":[{"broker":`+itoa(id)+`,"logDirs":[{"partitions":[{"partition":"ld-a-0","size":`) {
			t.Errorf("keys not in Kafka's order: %s", lines[2])
		}

		r = run("--describe", "--broker-list", itoa(id))
		if r.code != 0 || !strings.Contains(r.stdout, `"partition":"ld-b-0"`) {
			t.Errorf("all topics: %v", r)
		}
		r = run("--describe", "--broker-list", "99")
		if want := "Error: ERROR: The given brokers do not exist from --broker-list: 99. Current existent brokers: " + itoa(id) + "\n"; r.code != 1 || r.stderr != want || r.stdout != "" {
			t.Errorf("unknown broker: %v\nwant %q", r, want)
		}
		if r := run("--topic-list", "ld-a"); r.code != 2 || r.stderr != "Error: missing required argument \"[describe]\"\nRun 'tributary log-dirs --help' for usage.\n" {
			t.Errorf("without --describe: %v", r)
		}
		if r := run("--describe", "--broker-list", "one"); r.code != 2 || !strings.HasPrefix(r.stderr, `Error: --broker-list "one": "one" is not a broker id`) {
			t.Errorf("bad broker id: %v", r)
		}
	})
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
