package connect_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTopicCreationGroupsEndToEnd: sources create their topics with the
// settings of their topic creation group (KIP-158) on the bundled broker:
// partitions and topic configs as the group says.
func TestTopicCreationGroupsEndToEnd(t *testing.T) {
	addr := startBundledBroker(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.log")
	os.WriteFile(in, []byte("one\n"), 0o644)
	groups := []string{
		"topic.creation.default.partitions=2", "topic.creation.default.replication.factor=1",
		"topic.creation.groups=compacted", "topic.creation.compacted.include=state-.*",
		"topic.creation.compacted.partitions=3", "topic.creation.compacted.cleanup.policy=compact",
	}
	src := func(name string) []string { return append([]string{"name=" + name}, groups...) }
	a, b := sourceProps(dir, in, "state-users", src("a")...), sourceProps(dir, in, "access", src("b")...)
	startWorker(t, workerProps(addr, dir), a, b)

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := map[string]struct {
		parts   int
		cleanup string
	}{"state-users": {3, "compact"}, "access": {2, "delete"}}
	waitFor(t, 30*time.Second, "both topics created", func() bool {
		td, err := adm.ListTopics(ctx, "state-users", "access")
		return err == nil && len(td["state-users"].Partitions) > 0 && len(td["access"].Partitions) > 0
	})
	td, err := adm.ListTopics(ctx, "state-users", "access")
	if err != nil {
		t.Fatal(err)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "state-users", "access")
	if err != nil {
		t.Fatal(err)
	}
	for topic, w := range want {
		if n := len(td[topic].Partitions); n != w.parts {
			t.Errorf("%s: %d partitions, want %d", topic, n, w.parts)
		}
		rc, err := rcs.On(topic, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rc.Configs {
			if c.Key == "cleanup.policy" && (c.Value == nil || *c.Value != w.cleanup) {
				t.Errorf("%s: cleanup.policy %v, want %s", topic, c.Value, w.cleanup)
			}
		}
	}
}
