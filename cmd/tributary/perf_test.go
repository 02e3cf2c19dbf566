package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	producerSummary = regexp.MustCompile(`(?m)^(\d+) records sent, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99.9th\.$`)
	consumerHeader  = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n"
	consumerValues  = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, ([\d.]+), [\d.]+, (\d+), [\d.]+, \d+, \d+, [\d.]+, [\d.]+$`)
)

func TestPerfSuite(t *testing.T) {
	forEachCluster(t, func(t *testing.T, addr string, c toolCluster) {
		t.Run("record-size", func(t *testing.T) {
			mustCreateTopic(t, addr, "perf-size", 1)
			r := runTool(t, "", "producer-perf-test", "--topic", "perf-size", "--num-records", "3000", "--record-size", "100",
				"--throughput", "-1", "--producer-props", "bootstrap.servers="+addr, "acks=1", "linger.ms=5")
			m := producerSummary.FindStringSubmatch(r.stdout)
			if r.code != 0 || m == nil || m[1] != "3000" {
				t.Fatalf("%v", r)
			}
			recs := readTopic(t, addr, "perf-size", 3000)
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
			mustCreateTopic(t, addr, "perf-file", 1)
			file := filepath.Join(t.TempDir(), "payloads.txt")
			if err := os.WriteFile(file, []byte("alpha;beta;gamma"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runTool(t, "", "producer-perf-test", "--topic", "perf-file", "--num-records", "30", "--payload-file", file,
				"--payload-delimiter", ";", "--throughput", "-1", "--bootstrap-server", addr)
			if r.code != 0 || !strings.Contains(r.stdout, "Reading payloads from: "+file+"\nNumber of messages read: 3\n") || producerSummary.FindString(r.stdout) == "" {
				t.Fatalf("%v", r)
			}
			for _, v := range values(readTopic(t, addr, "perf-file", 30)) {
				if v != "alpha" && v != "beta" && v != "gamma" {
					t.Fatalf("payload %q", v)
				}
			}
		})

		t.Run("payload-monotonic and producer.config", func(t *testing.T) {
			mustCreateTopic(t, addr, "perf-mono", 1)
			file := filepath.Join(t.TempDir(), "producer.properties")
			if err := os.WriteFile(file, []byte("bootstrap.servers="+addr+"\nacks=all\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runTool(t, "", "producer-perf-test", "--topic", "perf-mono", "--num-records", "5", "--payload-monotonic", "--throughput", "-1", "--producer.config", file)
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			if got := strings.Join(values(readTopic(t, addr, "perf-mono", 5)), ","); got != "0,1,2,3,4" {
				t.Fatalf("%s", got)
			}
		})

		t.Run("throughput", func(t *testing.T) {
			mustCreateTopic(t, addr, "perf-slow", 1)
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
			mustCreateTopic(t, addr, "perf-opts", 1)
			produceRecords(t, addr, valueRecords("perf-opts", "a", "b", "c", "d")...)
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
			if got := committed(t, addr, "perf-from-file", "perf-opts", 1); got[0] != 4 {
				t.Fatalf("group.id from --consumer.config: committed %v", got)
			}
			r = runTool(t, "", "consumer-perf-test", "--bootstrap-server", addr, "--topic", "perf-opts", "--messages", "4", "--group", "perf-named")
			if r.code != 0 || consumerValues.FindString(r.stdout) == "" {
				t.Fatalf("%v", r)
			}
			if got := committed(t, addr, "perf-named", "perf-opts", 1); got[0] != 4 {
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
		{[]string{"consumer-perf-test", "--topic", "t", "--messages", "1", "--date-format", "yyyy-QQ"}, `letter 'Q' is not supported`},
		{[]string{"consumer-perf-test", "--topic", "t", "--messages", "1", "--no-such-flag"}, "unknown flag: --no-such-flag"},
	}
	for _, tt := range tests {
		r := runTool(t, "", tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: want exit 2 saying %q, got %v", tt.args, tt.want, r)
		}
	}
}

func TestProduceStats(t *testing.T) {
	var b strings.Builder
	start := time.Unix(1000, 0)
	s := newProduceStats(&b, 4, start)
	s.record(10*time.Millisecond, 1024*1024, start.Add(time.Second))
	s.record(30*time.Millisecond, 1024*1024, start.Add(2*time.Second))
	if b.String() != "" {
		t.Fatalf("window printed early: %q", b.String())
	}
	s.record(20*time.Millisecond, 1024*1024, start.Add(5*time.Second))
	want := "3 records sent, 0.6 records/sec (0.60 MB/sec), 20.0 ms avg latency, 30.0 ms max latency.\n"
	if b.String() != want {
		t.Fatalf("window %q, want %q", b.String(), want)
	}
	b.Reset()
	s.record(40*time.Millisecond, 1024*1024, start.Add(6*time.Second))
	s.printTotal(start.Add(8 * time.Second))
	want = "4 records sent, 0.500000 records/sec (0.50 MB/sec), 25.00 ms avg latency, 40.00 ms max latency, 30 ms 50th, 40 ms 95th, 40 ms 99th, 40 ms 99.9th.\n"
	if b.String() != want {
		t.Fatalf("total %q, want %q", b.String(), want)
	}
}

func TestProduceStatsSampling(t *testing.T) {
	s := newProduceStats(&strings.Builder{}, 1_500_000, time.Now())
	if s.sampling != 3 {
		t.Fatalf("sampling %d", s.sampling)
	}
	for i := range 9 {
		s.record(time.Duration(i)*time.Millisecond, 1, s.start)
	}
	if !slices.Equal(s.latencies, []int{0, 3, 6}) {
		t.Fatalf("sampled %v", s.latencies)
	}
}

func TestPercentiles(t *testing.T) {
	var l []int
	for i := 1000; i > 0; i-- {
		l = append(l, i)
	}
	if got := percentiles(l, 0.5, 0.95, 0.99, 0.999); !slices.Equal(got, []int{501, 951, 991, 1000}) {
		t.Fatalf("%v", got)
	}
	if got := percentiles(nil, 0.5); got[0] != 0 {
		t.Fatalf("%v", got)
	}
}

func TestThrottler(t *testing.T) {
	start := time.Unix(0, 0)
	if d := (&throttler{target: -1, start: start}).pause(1e9, start.Add(time.Second)); d != 0 {
		t.Fatalf("-1 throttled: %v", d)
	}
	th := &throttler{target: 100, start: start}
	if d := th.pause(50, start.Add(time.Second)); d != 0 {
		t.Fatalf("under the rate: %v", d)
	}
	// Above the rate: 10ms a record.
	if d := th.pause(200, start.Add(time.Second)); d != 10*time.Millisecond {
		t.Fatalf("over the rate: %v", d)
	}
	th = &throttler{target: 1000, start: start}
	if d := th.pause(2000, start.Add(time.Second)); d != 0 {
		t.Fatalf("1ms deficit is kept for later, got %v", d)
	}
	if d := th.pause(2001, start.Add(time.Second)); d != 2*time.Millisecond {
		t.Fatalf("deficit of 2ms: %v", d)
	}
}

func TestJavaDate(t *testing.T) {
	at := time.Date(2024, 3, 5, 7, 8, 9, 45_000_000, time.UTC)
	tests := map[string]string{
		"yyyy-MM-dd HH:mm:ss:SSS":   "2024-03-05 07:08:09:045",
		"yyyy-MM-dd'T'HH:mm:ss.SSS": "2024-03-05T07:08:09.045",
		"dd/MM/yy h:mm a":           "05/03/24 7:08 AM",
		"MMM d, yyyy":               "Mar 5, 2024",
		"yyyy-MM-dd'T'HH:mm:ssXXX":  "2024-03-05T07:08:09Z",
		"'at' HH 'o''clock'":        "at 07 o'clock",
	}
	for pattern, want := range tests {
		d, err := newJavaDate(pattern)
		if err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		if got := d.format(at); got != want {
			t.Errorf("%s: %q, want %q", pattern, got, want)
		}
	}
	for _, bad := range []string{"yyyy-QQ", "HHmmssSSS", "'open"} {
		if _, err := newJavaDate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
