package broker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/broker/storage"
)

// cleanerProps make the cleaner look for work every 20 ms.
var cleanerProps = []string{"log.cleaner.backoff.ms=20"}

// partitionLog is the log of partition 0 of topic.
func partitionLog(t *testing.T, tb *testBroker, topic string) *storage.Log {
	t.Helper()
	tp := tb.b.topics().byName[topic]
	if tp == nil || len(tp.parts) == 0 || tp.parts[0].log == nil {
		t.Fatalf("no log for %s", topic)
	}
	return tp.parts[0].log
}

// waitCleaned waits until the cleaner has cleaned the log up to its
// active segment.
func waitCleaned(t *testing.T, l *storage.Log, until int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for l.CleanerCheckpoint() < until {
		if time.Now().After(deadline) {
			t.Fatalf("cleaner checkpoint %d, want %d", l.CleanerCheckpoint(), until)
		}
		time.Sleep(5 * time.Millisecond) // polling an observable state
	}
}

// produceVersions writes versions values of each of keys keys, in order
// key0..keyN-1 per version, one record a request, and then a last record
// "end", larger than segment.bytes, so that every version lies in a
// sealed segment and the active segment holds "end" alone.
func produceVersions(t *testing.T, cl *kgo.Client, topic string, keys, versions int) {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	for v := 0; v < versions; v++ {
		var recs []*kgo.Record
		for k := 0; k < keys; k++ {
			recs = append(recs, &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "key%d", k), Value: fmt.Appendf(nil, "v%d", v)})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte("end"), Value: incompressible(4096)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// incompressible returns n random bytes.
func incompressible(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// consumeAll reads the partition from its start to its end with kgo.
func consumeAll(t *testing.T, addr, topic string, end int64) []*kgo.Record {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := testCtx(t, 30*time.Second)
	var out []*kgo.Record
	for len(out) == 0 || out[len(out)-1].Offset < end-1 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("consume: %v", err)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

func TestCompactedTopic(t *testing.T) {
	tb := startBroker(t, cleanerProps...)
	topic := "compacted"
	createTopic(t, tb.addr, topic, 1, map[string]*string{
		"cleanup.policy": kadm.StringPtr("compact"),
		"segment.bytes":  kadm.StringPtr("2048"),
	})
	cl := newClient(t, tb.addr, kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0))
	const keys, versions = 20, 30
	produceVersions(t, cl, topic, keys, versions)
	l := partitionLog(t, tb, topic)
	end := l.EndOffset()
	if end != keys*versions+1 {
		t.Fatalf("end %d", end)
	}
	// Wait for the cleaner to reach the active segment.
	active := end - 1
	waitCleaned(t, l, active)

	recs := consumeAll(t, tb.addr, topic, end)
	latest := map[string]string{}
	below := map[string]int{}
	for _, r := range recs {
		latest[string(r.Key)] = string(r.Value)
		if r.Offset < active {
			below[string(r.Key)]++
		}
	}
	for k := 0; k < keys; k++ {
		key := fmt.Sprintf("key%d", k)
		if latest[key] != fmt.Sprintf("v%d", versions-1) {
			t.Fatalf("%s = %q", key, latest[key])
		}
	}
	for k, n := range below {
		if n > 1 {
			t.Fatalf("key %s appears %d times below the active segment (base %d)", k, n, active)
		}
	}
	if len(recs) >= keys*versions/2 {
		t.Fatalf("%d records read: not compacted", len(recs))
	}
	t.Logf("read %d of %d records", len(recs), end)

	// ListOffsets: the start stays, the end too.
	adm := kadm.NewClient(cl)
	ctx := testCtx(t, 30*time.Second)
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := starts.Lookup(topic, 0); s.Offset != 0 {
		t.Fatalf("start offset %d", s.Offset)
	}
	if e, _ := ends.Lookup(topic, 0); e.Offset != end {
		t.Fatalf("end offset %d, want %d", e.Offset, end)
	}

	// A record without a key is refused.
	err = cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("no key")}).FirstErr()
	if !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("keyless record: %v", err)
	}

	// sarama reads the compacted log too, from a gap.
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	consumer, err := sarama.NewConsumer([]string{tb.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var got []int64
	timeout := time.After(30 * time.Second)
	for len(got) == 0 || got[len(got)-1] < end-1 {
		select {
		case m := <-pc.Messages():
			got = append(got, m.Offset)
		case err := <-pc.Errors():
			t.Fatal(err)
		case <-timeout:
			t.Fatalf("sarama read %d records", len(got))
		}
	}
	var want []int64
	for _, r := range recs {
		if r.Offset >= 1 {
			want = append(want, r.Offset)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sarama offsets %v, want %v", got, want)
	}

	// The compacted log survives a restart as it is.
	tb.restart()
	recs2 := consumeAll(t, tb.addr, topic, end)
	if len(recs2) != len(recs) {
		t.Fatalf("after a restart: %d records, before %d", len(recs2), len(recs))
	}
}

func TestCompactionEnabledByAlterConfigs(t *testing.T) {
	tb := startBroker(t, cleanerProps...)
	topic := "later-compacted"
	createTopic(t, tb.addr, topic, 1, map[string]*string{"segment.bytes": kadm.StringPtr("1024")})
	cl := newClient(t, tb.addr, kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0))
	ctx := testCtx(t, time.Minute)
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("keyless, before compaction")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	produceVersions(t, cl, topic, 5, 20)
	l := partitionLog(t, tb, topic)
	end := l.EndOffset()
	adm := kadm.NewClient(cl)
	resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "cleanup.policy", Value: kadm.StringPtr("compact,delete")}}, topic)
	if err != nil || resp[0].Err != nil {
		t.Fatalf("alter configs: %v %v", err, resp)
	}
	if !l.Options().Compact || !l.Options().Delete {
		t.Fatalf("options after alter: %+v", l.Options())
	}
	waitCleaned(t, l, end-1)
	recs := consumeAll(t, tb.addr, topic, end)
	count := map[string]int{}
	for _, r := range recs {
		count[string(r.Key)]++
		if r.Key == nil {
			t.Fatalf("the keyless record at %d was kept", r.Offset)
		}
	}
	for k := 0; k < 5; k++ {
		if n := count[fmt.Sprintf("key%d", k)]; n > 2 {
			t.Fatalf("key%d read %d times", k, n)
		}
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("keyless")}).FirstErr(); !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("keyless record after alter: %v", err)
	}
	// Back to delete: keyless records are taken again.
	resp, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "cleanup.policy", Value: kadm.StringPtr("delete")}}, topic)
	if err != nil || resp[0].Err != nil {
		t.Fatalf("alter configs: %v %v", err, resp)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("keyless")}).FirstErr(); err != nil {
		t.Fatalf("keyless record on a delete topic: %v", err)
	}
}

func TestCleanerDisabled(t *testing.T) {
	tb := startBroker(t, "log.cleaner.enable=false", "log.cleaner.backoff.ms=1")
	topic := "uncleaned"
	createTopic(t, tb.addr, topic, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact"), "segment.bytes": kadm.StringPtr("1024")})
	cl := newClient(t, tb.addr, kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0))
	produceVersions(t, cl, topic, 3, 10)
	// The cleaner goroutine does not exist: a pass run here is the first.
	l := partitionLog(t, tb, topic)
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if l.CleanerCheckpoint() != 0 {
		t.Fatalf("cleaned with log.cleaner.enable=false: checkpoint %d", l.CleanerCheckpoint())
	}
	res, err := l.Clean(context.Background(), time.Now(), false)
	if err != nil || !res.Cleaned || res.FirstDirty != 0 {
		t.Fatalf("clean: %+v %v", res, err)
	}
}

func TestCompactionConfigs(t *testing.T) {
	tb := startBroker(t, "log.cleaner.delete.retention.ms=1000", "log.cleaner.min.compaction.lag.ms=5")
	topic := "compaction-configs"
	createTopic(t, tb.addr, topic, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact"), "min.cleanable.dirty.ratio": kadm.StringPtr("0.25")})
	l := partitionLog(t, tb, topic)
	o := l.Options()
	if !o.Compact || o.Delete || o.MinCleanableRatio != 0.25 || o.DeleteRetention != time.Second || o.MinCompactionLag != 5*time.Millisecond {
		t.Fatalf("options: %+v", o)
	}
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 30*time.Second)
	resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "min.cleanable.dirty.ratio", Value: kadm.StringPtr("1.5")}}, topic)
	if err == nil && (len(resp) != 1 || !errors.Is(resp[0].Err, kerr.InvalidConfig)) {
		t.Fatalf("ratio 1.5: %+v", resp)
	}
	resp, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "delete.retention.ms", Value: kadm.StringPtr("7")}}, topic)
	if err != nil || resp[0].Err != nil {
		t.Fatalf("alter delete.retention.ms: %v %+v", err, resp)
	}
	if got := l.Options().DeleteRetention; got != 7*time.Millisecond {
		t.Fatalf("delete.retention.ms after alter: %v", got)
	}
	rc, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rc.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range c.Configs {
		if cfg.Key == "min.compaction.lag.ms" && (cfg.Value == nil || *cfg.Value != "5") {
			t.Fatalf("min.compaction.lag.ms described as %v", cfg.MaybeValue())
		}
	}
}

// TestCompactedTopicTransactions: the cleaner drops aborted records, keeps
// committed ones, and read_committed and read_uncommitted consumers both
// read the compacted log to its end.
func TestCompactedTopicTransactions(t *testing.T) {
	tb := startBroker(t, cleanerProps...)
	topic := "compacted-txn"
	createTopic(t, tb.addr, topic, 1, map[string]*string{
		"cleanup.policy": kadm.StringPtr("compact"),
		"segment.bytes":  kadm.StringPtr("1024"),
	})
	cl := txnProducer(t, tb.addr, "compactor")
	ctx := testCtx(t, time.Minute)
	txn := func(commit bool, value string, keys int, big bool) {
		t.Helper()
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < keys; k++ {
			v := []byte(value)
			if big {
				v = incompressible(2048)
			}
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "key%d", k), Value: v}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	txn(true, "first", 10, false)
	txn(false, "aborted", 10, false)
	txn(true, "third", 5, false)
	// key0 once more, larger than a segment: it is alone in its segment,
	// and its commit marker alone in the active one.
	txn(true, "", 1, true)
	l := partitionLog(t, tb, topic)
	end := l.EndOffset()
	waitCleaned(t, l, end-1)
	for _, committed := range []bool{true, false} {
		iso := kgo.ReadUncommitted()
		if committed {
			iso = kgo.ReadCommitted()
		}
		cons := newClient(t, tb.addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(iso))
		got := map[string][]string{}
		last := int64(-1)
		for last < end-2 {
			fs := cons.PollFetches(ctx)
			if err := fs.Err(); err != nil {
				t.Fatal(err)
			}
			for _, r := range fs.Records() {
				v := string(r.Value)
				if len(v) > 10 {
					v = "big"
				}
				got[string(r.Key)] = append(got[string(r.Key)], v)
				last = r.Offset
			}
		}
		want := map[string][]string{
			"key0": {"big"}, "key1": {"third"}, "key2": {"third"}, "key3": {"third"}, "key4": {"third"},
			"key5": {"first"}, "key6": {"first"}, "key7": {"first"}, "key8": {"first"}, "key9": {"first"},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("read_committed %v: %v, want %v", committed, got, want)
		}
	}
}
