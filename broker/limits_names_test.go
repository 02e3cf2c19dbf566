package broker

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/config"
)

// treeOf lists every path under root, relative to it.
func treeOf(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, rel)
		return nil
	})
	return out
}

var hostileNames = []string{
	"../escape", "../../etc/passwd", "a/b", `a\b`, "/abs", "a\x00b", "\x00", ".", "..",
	strings.Repeat("n", 250), strings.Repeat("n", 10000), "sp ace", "tab\t", "new\nline", "ü", "*", "a:b",
}

func TestHostileTopicNamesNeverReachTheFilesystem(t *testing.T) {
	root := t.TempDir()
	logs := filepath.Join(root, "logs")
	tb := startBrokerIn(t, logs)
	ctx := testCtx(t, time.Minute)
	adm := newAdmin(t, tb.addr)

	resp, err := adm.CreateTopics(ctx, 1, 1, nil, hostileNames...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range hostileNames {
		r, ok := resp[name]
		if !ok || !errorIs(r.Err, kerr.InvalidTopicException) {
			t.Errorf("create %q: %v", name, r.Err)
		}
	}
	// Metadata with auto-creation, produce and fetch name them too.
	c := dialRaw(t, tb.addr)
	md := kmsg.NewPtrMetadataRequest()
	md.Version, md.AllowAutoTopicCreation = 9, true
	for _, name := range hostileNames {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(name)
		md.Topics = append(md.Topics, rt)
	}
	for _, st := range c.roundTrip(md).(*kmsg.MetadataResponse).Topics {
		if st.ErrorCode != kerr.InvalidTopicException.Code {
			t.Errorf("metadata %q: %s", *st.Topic, errName(st.ErrorCode))
		}
	}
	for _, name := range hostileNames {
		p := producePartition(t, c.roundTrip(produceRequest(9, 1, name, 0, testBatch(1, -1, 0, 0, 5))))
		if p.ErrorCode == 0 {
			t.Errorf("produce to %q accepted", name)
		}
	}
	// The longest legal name works and stays inside the log dir.
	longest := strings.Repeat("L", config.MaxTopicNameLength)
	createTopic(t, tb.addr, longest, 1, nil)

	tb.restart()
	got := treeOf(t, root)
	for _, p := range got {
		if p != "." && p != "logs" && !strings.HasPrefix(p, "logs"+string(filepath.Separator)) {
			t.Errorf("a path outside the log dir: %q", p)
		}
		if strings.Contains(p, "escape") || strings.Contains(p, "passwd") || strings.Contains(p, "nnnnnnnnnn") {
			t.Errorf("a hostile name reached the file system: %q", p)
		}
	}
	if !slices.Contains(got, filepath.Join("logs", longest+"-0")) {
		t.Errorf("the 249-character topic has no folder: %v", got)
	}
	if _, err := os.Stat(filepath.Join(root, "..", "escape-0")); err == nil {
		t.Error("a folder was created above the log dir")
	}
}

// TestIllegalTopicNameMessages: CreateTopics refuses an illegal name with
// Kafka's message for it, as kafka-topics.sh would print it.
func TestIllegalTopicNameMessages(t *testing.T) {
	tb := startBroker(t)
	ctx := testCtx(t, time.Minute)
	adm := newAdmin(t, tb.addr)
	long := strings.Repeat("x", 250)
	for name, want := range map[string]string{
		"":       "Topic name is illegal, it can't be empty",
		".":      `Topic name cannot be "." or ".."`,
		"..":     `Topic name cannot be "." or ".."`,
		long:     "Topic name is illegal, it can't be longer than 249 characters, topic name: " + long,
		"sp ace": `Topic name "sp ace" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`,
	} {
		r, _ := adm.CreateTopic(ctx, 1, 1, nil, name)
		if !errorIs(r.Err, kerr.InvalidTopicException) || r.ErrMessage != want {
			t.Errorf("create %q: %v %q, want %q", name, r.Err, r.ErrMessage, want)
		}
	}
}

func errorIs(err error, want *kerr.Error) bool {
	ke, ok := err.(*kerr.Error)
	return ok && ke.Code == want.Code
}

func TestTopicNameCollisions(t *testing.T) {
	tb := startBroker(t)
	ctx := testCtx(t, time.Minute)
	adm := newAdmin(t, tb.addr)
	createTopic(t, tb.addr, "metrics.cpu", 1, nil)
	r, _ := adm.CreateTopic(ctx, 1, 1, nil, "metrics_cpu")
	if !errorIs(r.Err, kerr.InvalidTopicException) || r.ErrMessage != "Topic 'metrics_cpu' collides with existing topic: metrics.cpu" {
		t.Fatalf("metrics_cpu after metrics.cpu: %v %q", r.Err, r.ErrMessage)
	}
	// On a case-sensitive file system names differing in case are two
	// topics, as in Kafka on Linux.
	if fold, _ := caseInsensitive(tb.dir); !fold {
		createTopic(t, tb.addr, "Orders", 1, nil)
		createTopic(t, tb.addr, "orders", 1, nil)
	}
}

func TestTopicNamesDifferingInCaseOnCaseInsensitiveFS(t *testing.T) {
	dir := t.TempDir()
	start := func() *Broker {
		cfg := brokerConfig(t, dir)
		cfg.assumeCaseInsensitive = true
		b, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Start(testCtx(t, time.Minute)); err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := start()
	defer func() { b.Close(context.Background()) }()
	ctx := testCtx(t, time.Minute)
	adm := newAdmin(t, b.Addr())
	createTopic(t, b.Addr(), "Orders", 1, nil)
	for _, name := range []string{"orders", "ORDERS", "oRders"} {
		r, _ := adm.CreateTopic(ctx, 1, 1, nil, name)
		if !errorIs(r.Err, kerr.InvalidTopicException) || !strings.Contains(r.ErrMessage, "ignores case") {
			t.Fatalf("create %s after Orders: %v %q", name, r.Err, r.ErrMessage)
		}
	}
	// Case and '.'/'_' together.
	createTopic(t, b.Addr(), "a.B", 1, nil)
	if r, _ := adm.CreateTopic(ctx, 1, 1, nil, "A_b"); !errorIs(r.Err, kerr.InvalidTopicException) {
		t.Fatalf("A_b after a.B: %v", r.Err)
	}
	// Auto-creation through Metadata is refused the same way.
	c := dialRaw(t, b.Addr())
	md := kmsg.NewPtrMetadataRequest()
	md.Version, md.AllowAutoTopicCreation = 9, true
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("ORDERS")
	md.Topics = append(md.Topics, rt)
	if st := c.roundTrip(md).(*kmsg.MetadataResponse).Topics[0]; st.ErrorCode != kerr.InvalidTopicException.Code {
		t.Fatalf("metadata ORDERS: %s", errName(st.ErrorCode))
	}
	// After a restart the rule still holds.
	b.Close(context.Background())
	b = start()
	adm = newAdmin(t, b.Addr())
	if r, _ := adm.CreateTopic(ctx, 1, 1, nil, "orders"); !errorIs(r.Err, kerr.InvalidTopicException) {
		t.Fatalf("orders after restart: %v", r.Err)
	}
	ents, _ := os.ReadDir(dir)
	var folders []string
	for _, e := range ents {
		if e.IsDir() && strings.HasSuffix(e.Name(), "-0") {
			folders = append(folders, e.Name())
		}
	}
	slices.Sort(folders)
	if !slices.Equal(folders, []string{"Orders-0", "a.B-0"}) {
		t.Fatalf("partition folders %v", folders)
	}
}

// Group ids live inside the offsets log (and the records of the
// __consumer_offsets topic), never in a path: hostile ones commit, fetch
// back and survive a restart without creating a file.
func TestHostileGroupIDsAreHarmless(t *testing.T) {
	root := t.TempDir()
	tb := startBrokerIn(t, filepath.Join(root, "logs"))
	createTopic(t, tb.addr, "g", 1, nil)
	before := treeOf(t, root)
	ctx := testCtx(t, time.Minute)
	groups := []string{"../../escape", "a/b", `a\b`, "a\x00b", ".", "..", strings.Repeat("g", 10000), "__consumer_offsets", "ü-ü", "new\nline"}
	commit := func(adm *kadm.Client, group string, at int64) {
		t.Helper()
		os := kadm.Offsets{}
		os.Add(kadm.Offset{Topic: "g", Partition: 0, At: at, LeaderEpoch: -1})
		r, err := adm.CommitOffsets(ctx, group, os)
		if err != nil || r.Error() != nil {
			t.Fatalf("commit for %q: %v %v", group, err, r.Error())
		}
	}
	fetch := func(adm *kadm.Client, group string) int64 {
		t.Helper()
		r, err := adm.FetchOffsets(ctx, group)
		if err != nil || r.Error() != nil {
			t.Fatalf("fetch for %q: %v %v", group, err, r.Error())
		}
		o, _ := r.Lookup("g", 0)
		return o.At
	}
	adm := newAdmin(t, tb.addr)
	for i, g := range groups {
		commit(adm, g, int64(i))
	}
	tb.restart()
	adm = newAdmin(t, tb.addr)
	for i, g := range groups {
		if at := fetch(adm, g); at != int64(i) {
			t.Errorf("group %q: offset %d after restart, want %d", g, at, i)
		}
	}
	after := treeOf(t, root)
	sep := string(filepath.Separator)
	for _, p := range after {
		inLogs, ok := strings.CutPrefix(p, "logs"+sep)
		allowed := slices.Contains(before, p) || ok && (!strings.Contains(inLogs, sep) ||
			strings.HasPrefix(inLogs, "__consumer_offsets"+sep) || strings.HasPrefix(inLogs, "g-0"+sep) ||
			partitionDirName.MatchString(strings.Split(inLogs, sep)[0]) && strings.HasPrefix(inLogs, "__consumer_offsets-"))
		if !allowed {
			t.Errorf("new path %q", p)
		}
		if strings.Contains(p, "escape") || strings.Contains(p, "gggggggg") {
			t.Errorf("a group id reached the file system: %q", p)
		}
	}
	// Listing and describing them works too.
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if _, ok := listed[g]; !ok {
			t.Errorf("group %q not listed", g)
		}
	}
}
