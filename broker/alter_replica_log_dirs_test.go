package broker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// alterLogDirs sends one AlterReplicaLogDirs request with kadm and returns
// each partition's error by "topic-partition".
func alterLogDirs(t *testing.T, ctx context.Context, adm *kadm.Client, moves map[string]kadm.TopicsSet) map[string]error {
	t.Helper()
	var req kadm.AlterReplicaLogDirsReq
	for dir, s := range moves {
		req.Add(dir, s)
	}
	resps, err := adm.AlterBrokerReplicaLogDirs(ctx, 1, req)
	if err != nil {
		t.Fatalf("AlterReplicaLogDirs: %v", err)
	}
	got := map[string]error{}
	resps.Each(func(r kadm.AlterReplicaLogDirsResponse) {
		got[r.Topic+"-"+strconv.Itoa(int(r.Partition))] = r.Err
	})
	return got
}

// logDirOf returns the log dir DescribeLogDirs places topic-partition in.
func logDirOf(t *testing.T, ctx context.Context, adm *kadm.Client, topic string, p int32) string {
	t.Helper()
	ds, err := adm.DescribeBrokerLogDirs(ctx, 1, kadm.TopicsSet{topic: {p: {}}})
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	ds.Each(func(d kadm.DescribedLogDir) {
		if _, ok := d.Topics.Lookup(topic, p); ok {
			dirs = append(dirs, d.Dir)
		}
	})
	if len(dirs) != 1 {
		t.Fatalf("%s-%d is in log dirs %v, want exactly one", topic, p, dirs)
	}
	return dirs[0]
}

// TestAlterReplicaLogDirs: with two log dirs, a partition asked to stay
// where it is succeeds; one asked to move is refused with
// KAFKA_STORAGE_ERROR and stays, serving its records, across a restart;
// a dir outside log.dirs (a relative path of one included) is
// LOG_DIR_NOT_FOUND, an unknown partition REPLICA_NOT_AVAILABLE, a topic
// name too long for a moving replica's folder INVALID_TOPIC_EXCEPTION; a
// failed log dir, or a partition on it, KAFKA_STORAGE_ERROR. An empty
// request gets an empty answer. (sarama has no AlterReplicaLogDirs.)
func TestAlterReplicaLogDirs(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	tb := startBrokerIn(t, root, "log.dirs="+a+","+b)
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, tb.addr, "t", 2, nil) // t-0 in a, t-1 in b
	cl := newClient(t, tb.addr, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	produceSync(t, cl, "t", "v0", "v1")
	adm := kadm.NewClient(cl)
	if logDirOf(t, ctx, adm, "t", 0) != a || logDirOf(t, ctx, adm, "t", 1) != b {
		t.Fatal("partition placement is not t-0 in a, t-1 in b")
	}

	rel, err := filepath.Rel(mustGetwd(t), a)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 220)
	got := alterLogDirs(t, ctx, adm, map[string]kadm.TopicsSet{
		a:                            {"t": {0: {}, 1: {}}, "nope": {0: {}}, long: {0: {}}},
		filepath.Join(root, "other"): {"u": {0: {}}},
		rel:                          {"v": {3: {}}},
	})
	want := map[string]error{
		"t-0":       nil,
		"t-1":       kerr.KafkaStorageError,
		"nope-0":    kerr.ReplicaNotAvailable,
		long + "-0": kerr.InvalidTopicException,
		"u-0":       kerr.LogDirNotFound,
		"v-3":       kerr.LogDirNotFound,
	}
	if len(got) != len(want) {
		t.Fatalf("answers for %d partitions, want %d: %v", len(got), len(want), got)
	}
	for tp, w := range want {
		if g := got[tp]; !errors.Is(g, w) && !(g == nil && w == nil) {
			t.Errorf("%s: %v, want %v", tp, g, w)
		}
	}
	// A partition that does not exist in an existing topic.
	if got := alterLogDirs(t, ctx, adm, map[string]kadm.TopicsSet{b: {"t": {7: {}}}}); !errors.Is(got["t-7"], kerr.ReplicaNotAvailable) {
		t.Errorf("t-7: %v, want REPLICA_NOT_AVAILABLE", got["t-7"])
	}

	// Empty lists: nothing to answer.
	for _, req := range []*kmsg.AlterReplicaLogDirsRequest{
		kmsg.NewPtrAlterReplicaLogDirsRequest(),
		{Dirs: []kmsg.AlterReplicaLogDirsRequestDir{{Dir: a}}},
		{Dirs: []kmsg.AlterReplicaLogDirsRequestDir{{Dir: a, Topics: []kmsg.AlterReplicaLogDirsRequestDirTopic{{Topic: "t"}}}}},
	} {
		for _, v := range []int16{0, 2} {
			r := *req
			r.Version = v
			resp, err := r.RequestWith(ctx, cl)
			if err != nil || len(resp.Topics) != 0 {
				t.Errorf("empty request v%d: %+v, %v", v, resp, err)
			}
		}
	}

	// The refused move left everything in place, across a restart too.
	cl.Close()
	tb.restart()
	adm = newAdmin(t, tb.addr)
	if d := logDirOf(t, ctx, adm, "t", 1); d != b {
		t.Errorf("after the refused move and a restart t-1 is in %s, want %s", d, b)
	}
	if recs := consumeN(t, tb.addr, "t", 2); len(recs) != 2 {
		t.Fatalf("%d records after the refused move", len(recs))
	}

	// A failed log dir: b loses t-1's folder, so b is offline.
	tb.stop()
	if err := os.RemoveAll(filepath.Join(b, "t-1")); err != nil {
		t.Fatal(err)
	}
	tb.start()
	adm = newAdmin(t, tb.addr)
	got = alterLogDirs(t, ctx, adm, map[string]kadm.TopicsSet{b: {"t": {0: {}}}})
	if !errors.Is(got["t-0"], kerr.KafkaStorageError) {
		t.Errorf("t-0 to the offline dir: %v, want KAFKA_STORAGE_ERROR", got["t-0"])
	}
	got = alterLogDirs(t, ctx, adm, map[string]kadm.TopicsSet{a: {"t": {1: {}}}})
	if !errors.Is(got["t-1"], kerr.KafkaStorageError) {
		t.Errorf("offline t-1 to a: %v, want KAFKA_STORAGE_ERROR", got["t-1"])
	}
	got = alterLogDirs(t, ctx, adm, map[string]kadm.TopicsSet{a: {"t": {0: {}}}})
	if got["t-0"] != nil {
		t.Errorf("t-0 stays in a while b is offline: %v", got["t-0"])
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// TestAlterReplicaLogDirsACLs: AlterReplicaLogDirs needs ALTER on the
// cluster: without it every partition listed is
// CLUSTER_AUTHORIZATION_FAILED; a super user, and alice once granted
// ALTER on the cluster, get the real answers.
func TestAlterReplicaLogDirsACLs(t *testing.T) {
	dir := t.TempDir()
	tb := startBrokerIn(t, dir, aclProps()...)
	ctx := testCtx(t, 60*time.Second)
	admin := kadm.NewClient(aclClient(t, tb.addr, "admin"))
	if _, err := admin.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	alice := kadm.NewClient(aclClient(t, tb.addr, "alice"))
	moves := map[string]kadm.TopicsSet{dir: {"orders": {0: {}}, "other": {1: {}}}, "/elsewhere": {"more": {2: {}}}}
	got := alterLogDirs(t, ctx, alice, moves)
	if len(got) != 3 {
		t.Fatalf("alice, denied: answers %v, want 3", got)
	}
	for tp, err := range got {
		if !errors.Is(err, kerr.ClusterAuthorizationFailed) {
			t.Errorf("alice, denied, %s: %v, want CLUSTER_AUTHORIZATION_FAILED", tp, err)
		}
	}
	check := func(who string, adm *kadm.Client) {
		t.Helper()
		got := alterLogDirs(t, ctx, adm, moves)
		if got["orders-0"] != nil || !errors.Is(got["other-1"], kerr.ReplicaNotAvailable) || !errors.Is(got["more-2"], kerr.LogDirNotFound) {
			t.Errorf("%s: %v", who, got)
		}
	}
	check("admin", admin)
	res, err := admin.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").AllowHosts().Clusters().Operations(kadm.OpAlter).ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("grant alice ALTER on the cluster: %v %v", res, err)
	}
	check("alice with ALTER on the cluster", alice)
}
