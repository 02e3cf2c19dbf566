package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
)

// commitOffsets commits offsets for a group without members (generation
// -1), which creates the group as Empty.
func commitOffsets(t testing.TB, addr, group, topic string, offsets ...int64) {
	t.Helper()
	adm := kadm.NewClient(kafkatest.Client(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var os kadm.Offsets
	for p, o := range offsets {
		os.AddOffset(topic, int32(p), o, -1)
	}
	if err := adm.CommitAllOffsets(ctx, group, os); err != nil {
		t.Fatalf("commit %s: %v", group, err)
	}
}

// fillPartitions writes n[p] records to each partition p of the topic, the
// i-th of a partition with timestamp base + i seconds.
func fillPartitions(t testing.TB, addr, topic string, base time.Time, n ...int) {
	t.Helper()
	var recs []*kgo.Record
	for p, count := range n {
		for i := range count {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(p), Value: fmt.Appendf(nil, "%d-%d", p, i), Timestamp: base.Add(time.Duration(i) * time.Second)})
		}
	}
	kafkatest.Produce(t, addr, recs...)
}

// activeMember joins the group with a franz-go consumer of the topic and
// waits until it is assigned all the topic's partitions.
func activeMember(t testing.TB, addr, group, topic string, partitions int) *kgo.Client {
	t.Helper()
	assigned := make(chan struct{}, 16)
	cl := kafkatest.Client(t, addr, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.ClientID("member-client"),
		kgo.DisableAutoCommit(), kgo.Balancers(kgo.RangeBalancer()),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			if len(m[topic]) == partitions {
				assigned <- struct{}{}
			}
		}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { // polls to keep the member in its group; ends at cleanup
		defer close(done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-assigned:
	case <-time.After(30 * time.Second):
		t.Fatalf("group %s: member not assigned %d partitions within 30s", group, partitions)
	}
	return cl
}

func TestConsumerGroupsSuite(t *testing.T) {
	forEachCluster(t, func(t *testing.T, addr string, c toolCluster) {
		groups := func(args ...string) toolResult {
			t.Helper()
			return runTool(t, "", append([]string{"consumer-groups", "--bootstrap-server", addr}, args...)...)
		}

		t.Run("list", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cg-list", 1)
			commitOffsets(t, addr, "cg-list-b", "cg-list", 0)
			commitOffsets(t, addr, "cg-list-a", "cg-list", 0)
			r := groups("--list")
			if r.code != 0 || !strings.Contains(r.stdout, "cg-list-a\ncg-list-b\n") {
				t.Fatalf("%v", r)
			}
			r = groups("--list", "--state")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "GROUP           STATE\n") || !strings.Contains(r.stdout, "\ncg-list-a       Empty\n") {
				t.Fatalf("--state: %v", r)
			}
			r = groups("--list", "--state", "stable")
			if r.code != 0 || strings.Contains(r.stdout, "cg-list-a") || !strings.HasPrefix(r.stdout, "GROUP           STATE\n") {
				t.Fatalf("--state stable: %v", r)
			}
			r = groups("--list", "--state=Empty,Stable")
			if r.code != 0 || !strings.Contains(r.stdout, "cg-list-b       Empty\n") {
				t.Fatalf("--state=Empty,Stable: %v", r)
			}
		})

		t.Run("describe without members", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cg-empty", 2)
			fillPartitions(t, addr, "cg-empty", time.Now(), 5, 3)
			commitOffsets(t, addr, "cg-empty-g", "cg-empty", 2)
			r := groups("--describe", "--group", "cg-empty-g")
			want := "\n" +
				"GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n" +
				"cg-empty-g      cg-empty        0          2               5               3               -               -               -\n"
			if r.code != 0 || r.stdout != want || r.stderr != "\nConsumer group 'cg-empty-g' has no active members.\n" {
				t.Fatalf("got\n%q\nwant\n%q\n%v", r.stdout, want, r)
			}
			r = groups("--describe", "--group", "cg-empty-g", "--members")
			if r.code != 0 || r.stdout != "" || r.stderr != "\nConsumer group 'cg-empty-g' has no active members.\n" {
				t.Fatalf("--members: %v", r)
			}
		})

		t.Run("describe active group", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cg-active", 2)
			fillPartitions(t, addr, "cg-active", time.Now(), 5, 3)
			member := activeMember(t, addr, "cg-active-g", "cg-active", 2)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var commitErr error
			member.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{"cg-active": {0: {Epoch: -1, Offset: 2}}},
				func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
					if err == nil {
						for _, t := range resp.Topics {
							for _, p := range t.Partitions {
								if err == nil {
									err = kerr.ErrorForCode(p.ErrorCode)
								}
							}
						}
					}
					commitErr = err
				})
			if commitErr != nil {
				t.Fatal(commitErr)
			}
			r := groups("--describe", "--group", "cg-active-g")
			row := regexp.MustCompile(`(?m)^cg-active-g +cg-active +(\d) +(\S+) +(\d+) +(\S+) +(\S+) +(\S+) +member-client$`)
			rows := row.FindAllStringSubmatch(r.stdout, -1)
			if r.code != 0 || r.stderr != "" || len(rows) != 2 || !strings.HasPrefix(r.stdout, "\nGROUP ") {
				t.Fatalf("%v", r)
			}
			// partition, current, end, lag
			if got := strings.Join(rows[0][1:5], " "); got != "0 2 5 3" {
				t.Errorf("partition 0: %s", got)
			}
			if got := strings.Join(rows[1][1:5], " "); got != "1 - 3 -" {
				t.Errorf("partition 1: %s", got)
			}
			if rows[0][5] == "-" || rows[0][5] != rows[1][5] || !strings.Contains(rows[0][6], "127.0.0.1") {
				t.Errorf("consumer %q host %q", rows[0][5], rows[0][6])
			}

			r = groups("--describe", "--group", "cg-active-g", "--members", "--verbose")
			members := regexp.MustCompile(`^\nGROUP +CONSUMER-ID +HOST +CLIENT-ID +#PARTITIONS +ASSIGNMENT\ncg-active-g +\S+ +\S*127\.0\.0\.1\S* +member-client +2 +cg-active\(0,1\)\n$`)
			if r.code != 0 || !members.MatchString(r.stdout) {
				t.Fatalf("--members --verbose: %q", r.stdout)
			}
			r = groups("--describe", "--group", "cg-active-g", "--members")
			if r.code != 0 || strings.Contains(r.stdout, "ASSIGNMENT") || !strings.Contains(r.stdout, " 2               \n") {
				t.Fatalf("--members: %q", r.stdout)
			}

			r = groups("--describe", "--group", "cg-active-g", "--state")
			state := regexp.MustCompile(`^\nGROUP +COORDINATOR \(ID\) +ASSIGNMENT-STRATEGY +STATE +#MEMBERS\ncg-active-g +\S+:\d+  \(\d+\) +range +Stable +1\n$`)
			if r.code != 0 || !state.MatchString(r.stdout) {
				t.Fatalf("--state: %q", r.stdout)
			}

			r = groups("--describe", "--all-groups")
			if r.code != 0 || !strings.Contains(r.stdout, "\ncg-active-g ") {
				t.Fatalf("--all-groups: %v", r)
			}

			r = groups("--delete", "--group", "cg-active-g")
			if r.code != 1 || !strings.Contains(r.stderr, "Error: Deletion of some consumer groups failed:\n* Group 'cg-active-g' could not be deleted due to: NON_EMPTY_GROUP") {
				t.Fatalf("delete of an active group: %v", r)
			}
			r = groups("--reset-offsets", "--group", "cg-active-g", "--topic", "cg-active", "--to-earliest", "--execute")
			if r.code != 1 || !strings.Contains(r.stderr, "Error: Assignments can only be reset if the group 'cg-active-g' is inactive, but the current state is Stable.\n") {
				t.Fatalf("reset of an active group: %v", r)
			}
		})

		t.Run("describe unknown group", func(t *testing.T) {
			r := groups("--describe", "--group", "cg-no-such-group")
			if r.code != 1 || r.stdout != "" || r.stderr != "Error: Consumer group 'cg-no-such-group' does not exist.\n" {
				t.Fatalf("%v", r)
			}
		})

		t.Run("delete", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cg-del", 1)
			commitOffsets(t, addr, "cg-del-1", "cg-del", 0)
			commitOffsets(t, addr, "cg-del-2", "cg-del", 0)
			r := groups("--delete", "--group", "cg-del-1", "--group", "cg-del-2")
			if r.code != 0 || r.stdout != "Deletion of requested consumer groups ('cg-del-1', 'cg-del-2') was successful.\n" {
				t.Fatalf("%v", r)
			}
			if r := groups("--list"); strings.Contains(r.stdout, "cg-del-") {
				t.Fatalf("deleted groups still listed: %v", r)
			}
		})

		t.Run("delete offsets", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cg-deloff", 2)
			kafkatest.CreateTopic(t, addr, "cg-deloff-keep", 1)
			commitOffsets(t, addr, "cg-deloff-g", "cg-deloff", 0, 0)
			commitOffsets(t, addr, "cg-deloff-g", "cg-deloff-keep", 0)
			r := groups("--delete-offsets", "--group", "cg-deloff-g", "--topic", "cg-deloff")
			want := "Request succeeded for deleting offsets from group cg-deloff-g.\n" +
				"\nTOPIC           PARTITION  STATUS         " +
				"\ncg-deloff       0          Successful     " +
				"\ncg-deloff       1          Successful     \n"
			if r.code != 0 || r.stdout != want {
				t.Fatalf("got %q\n%v", r.stdout, r)
			}
			if got := kafkatest.Committed(t, addr, "cg-deloff-g", "cg-deloff", 2); got[0] != -1 || got[1] != -1 {
				t.Fatalf("offsets left: %v", got)
			}
			if got := kafkatest.Committed(t, addr, "cg-deloff-g", "cg-deloff-keep", 1); got[0] != 0 {
				t.Fatalf("other topic's offsets deleted: %v", got)
			}
		})

		t.Run("reset offsets", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cg-reset", 2)
			base := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
			fillPartitions(t, addr, "cg-reset", base, 10, 10)
			commitOffsets(t, addr, "cg-reset-g", "cg-reset", 5, 5)
			reset := func(args ...string) toolResult {
				t.Helper()
				return groups(append([]string{"--reset-offsets", "--group", "cg-reset-g"}, args...)...)
			}
			plan := func(o0, o1 int64) string {
				return "\nGROUP           TOPIC           PARTITION  NEW-OFFSET" +
					fmt.Sprintf("\ncg-reset-g      cg-reset        0          %d", o0) +
					fmt.Sprintf("\ncg-reset-g      cg-reset        1          %d\n", o1)
			}
			check := func(args []string, o0, o1 int64) {
				t.Helper()
				r := reset(args...)
				if r.code != 0 || r.stdout != plan(o0, o1) {
					t.Fatalf("%v: got %q\n%v", args, r.stdout, r)
				}
			}

			check([]string{"--topic", "cg-reset", "--to-earliest", "--dry-run"}, 0, 0)
			if got := kafkatest.Committed(t, addr, "cg-reset-g", "cg-reset", 2); got[0] != 5 || got[1] != 5 {
				t.Fatalf("--dry-run changed the offsets: %v", got)
			}
			r := reset("--topic", "cg-reset", "--to-earliest")
			if r.code != 0 || r.stdout != plan(0, 0) || !strings.HasPrefix(r.stderr, "WARN: No action will be performed as the --execute option is missing.") {
				t.Fatalf("neither --dry-run nor --execute: %v", r)
			}
			check([]string{"--topic", "cg-reset", "--to-earliest", "--execute"}, 0, 0)
			if got := kafkatest.Committed(t, addr, "cg-reset-g", "cg-reset", 2); got[0] != 0 || got[1] != 0 {
				t.Fatalf("--execute: committed %v", got)
			}
			check([]string{"--all-topics", "--to-latest", "--execute"}, 10, 10)
			check([]string{"--topic", "cg-reset", "--shift-by", "-3", "--execute"}, 7, 7)
			check([]string{"--topic", "cg-reset", "--to-current", "--dry-run"}, 7, 7)
			check([]string{"--topic", "cg-reset", "--to-offset", "4", "--execute"}, 4, 4)
			check([]string{"--topic", "cg-reset", "--shift-by", "100", "--dry-run"}, 10, 10)
			check([]string{"--topic", "cg-reset", "--to-offset", "99", "--dry-run"}, 10, 10)
			check([]string{"--topic", "cg-reset", "--to-datetime", base.Add(3500 * time.Millisecond).UTC().Format("2006-01-02T15:04:05.000"), "--dry-run"}, 4, 4)
			zoned := base.Add(6 * time.Second).In(time.FixedZone("", 3600)).Format("2006-01-02T15:04:05.000-07:00")
			check([]string{"--topic", "cg-reset", "--to-datetime", zoned, "--dry-run"}, 6, 6)
			check([]string{"--topic", "cg-reset", "--by-duration", "PT1H", "--dry-run"}, 0, 0)

			r = reset("--topic", "cg-reset", "--by-duration", "PT1M", "--dry-run")
			if r.code != 0 || !strings.Contains(r.stdout, "\nWarn: Partition 0 from topic cg-reset is empty. Falling back to latest known offset.\n") ||
				!strings.HasSuffix(r.stdout, plan(10, 10)) {
				t.Fatalf("--by-duration after the last record: %v", r)
			}

			// Scope: some partitions only.
			r = reset("--topic", "cg-reset:1", "--to-offset", "2", "--execute")
			if r.code != 0 || r.stdout != "\nGROUP           TOPIC           PARTITION  NEW-OFFSET\ncg-reset-g      cg-reset        1          2\n" {
				t.Fatalf("--topic t:1: %v", r)
			}
			if got := kafkatest.Committed(t, addr, "cg-reset-g", "cg-reset", 2); got[0] != 4 || got[1] != 2 {
				t.Fatalf("--topic t:1: committed %v", got)
			}

			// Export, then reset from the exported file.
			r = reset("--topic", "cg-reset", "--to-offset", "8", "--export", "--dry-run")
			if r.code != 0 || r.stdout != "cg-reset,0,8\ncg-reset,1,8\n" {
				t.Fatalf("--export: %v", r)
			}
			file := filepath.Join(t.TempDir(), "plan.csv")
			if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			check([]string{"--from-file", file, "--execute"}, 8, 8)
			if got := kafkatest.Committed(t, addr, "cg-reset-g", "cg-reset", 2); got[0] != 8 || got[1] != 8 {
				t.Fatalf("--from-file: committed %v", got)
			}

			r = reset("--topic", "cg-reset:7", "--to-earliest", "--dry-run")
			if r.code != 1 || !strings.Contains(r.stderr, `Error: The partitions "cg-reset-7" do not exist`) {
				t.Fatalf("unknown partition: %v", r)
			}
			kafkatest.CreateTopic(t, addr, "cg-reset-uncommitted", 1)
			r = reset("--topic", "cg-reset-uncommitted", "--shift-by", "1", "--dry-run")
			if r.code != 1 || !strings.Contains(r.stderr, "cannot shift offset for partition cg-reset-uncommitted-0 since there is no current committed offset") {
				t.Fatalf("shift without a commit: %v", r)
			}
		})

		t.Run("reset all groups", func(t *testing.T) {
			kafkatest.CreateTopic(t, addr, "cg-resetall", 1)
			fillPartitions(t, addr, "cg-resetall", time.Now(), 3)
			commitOffsets(t, addr, "cg-resetall-1", "cg-resetall", 1)
			commitOffsets(t, addr, "cg-resetall-2", "cg-resetall", 2)
			r := groups("--reset-offsets", "--all-groups", "--topic", "cg-resetall", "--to-latest", "--export", "--dry-run")
			if r.code != 0 || !strings.Contains(r.stdout, "cg-resetall-1,cg-resetall,0,3\ncg-resetall-2,cg-resetall,0,3\n") {
				t.Fatalf("%v", r)
			}
		})
	})
}

func TestConsumerGroupsUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "exactly one action"},
		{[]string{"--list", "--describe"}, "exactly one action"},
		{[]string{"--describe"}, "--describe takes one of these options: --all-groups, --group"},
		{[]string{"--describe", "--group", "g", "--members", "--state"}, "at most one of these options: --members, --offsets, --state"},
		{[]string{"--describe", "--group", "g", "--state", "Stable"}, "--describe does not take a value for --state"},
		{[]string{"--list", "--state", "sleeping"}, "invalid state list 'sleeping'. Valid states are: PreparingRebalance, CompletingRebalance, Stable, Dead, Empty"},
		{[]string{"--list", "--group", "g"}, "--group can only be used with"},
		{[]string{"--list", "--members"}, "--members can only be used with --describe"},
		{[]string{"--describe", "--group", "g", "--topic", "t"}, "--topic can only be used with --reset-offsets or --delete-offsets"},
		{[]string{"--describe", "--group", "g", "--all-groups"}, "--group and --all-groups cannot be used together"},
		{[]string{"--delete"}, "--delete takes one of these options"},
		{[]string{"--delete", "--group", "g", "--topic", "t"}, "does not support topic-specific offset deletion"},
		{[]string{"--delete-offsets", "--group", "g"}, "--delete-offsets takes the following options"},
		{[]string{"--reset-offsets", "--group", "g", "--topic", "t"}, "--reset-offsets requires exactly one of"},
		{[]string{"--reset-offsets", "--group", "g", "--topic", "t", "--to-earliest", "--to-latest"}, "--reset-offsets requires exactly one of"},
		{[]string{"--reset-offsets", "--group", "g", "--to-earliest"}, "one of the reset scopes should be defined: --all-topics, --topic"},
		{[]string{"--reset-offsets", "--group", "g", "--topic", "t", "--to-earliest", "--dry-run", "--execute"}, "only accepts one of --execute and --dry-run"},
		{[]string{"--reset-offsets", "--group", "g", "--topic", "t:x", "--to-earliest"}, "invalid partition 'x' specified in topic arg 't:x'"},
		{[]string{"--reset-offsets", "--group", "g", "--topic", "t", "--to-datetime", "yesterday"}, "does not contain a 'T'"},
		{[]string{"--reset-offsets", "--group", "g", "--topic", "t", "--by-duration", "1h"}, "is not an ISO-8601 duration"},
		{[]string{"--describe", "--group", "g", "--to-earliest"}, "--to-earliest can only be used with --reset-offsets"},
		{[]string{"--describe", "--group", "g", "--execute"}, "--execute can only be used with --reset-offsets"},
		{[]string{"--list", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"--list", "extra", "args"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		r := runTool(t, "", append([]string{"consumer-groups"}, tt.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: want exit 2 saying %q, got %v", tt.args, tt.want, r)
		}
	}
}

func TestConsumerGroupsUnreachable(t *testing.T) {
	addr := kafkatest.ClosedAddr(t)
	r := runTool(t, "", "consumer-groups", "--bootstrap-server", addr, "--list")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: cannot reach a broker at "+addr) || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("%v", r)
	}
}
