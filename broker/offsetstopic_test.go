package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/tributary-io/tributary/broker/group"
)

// offsetsView reads __consumer_offsets from the start with a franz-go
// consumer, decoding keys and values with kmsg, until done says it has
// seen enough. It returns the last value of each key: "group topic
// partition" -> committed offset, "group" -> generation; a tombstone
// removes the key. Every record must be in its group's partition.
func offsetsView(t *testing.T, addr string, partitions int32, done func(map[string]int64) bool) map[string]int64 {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(offsetsTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	ctx := testCtx(t, 30*time.Second)
	state := map[string]int64{}
	for !done(state) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("__consumer_offsets: waited for the expected state, have %v", state)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Logf("fetch %s-%d: %v", topic, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			var name, grp string
			switch {
			case len(r.Key) >= 2 && r.Key[1] <= 1 && r.Key[0] == 0:
				var k kmsg.OffsetCommitKey
				if err := k.ReadFrom(r.Key); err != nil {
					t.Fatalf("offset commit key %x: %v", r.Key, err)
				}
				grp, name = k.Group, fmt.Sprintf("%s %s %d", k.Group, k.Topic, k.Partition)
				if r.Value != nil {
					var v kmsg.OffsetCommitValue
					if err := v.ReadFrom(r.Value); err != nil {
						t.Fatalf("offset commit value %x: %v", r.Value, err)
					}
					if v.Version != 3 || v.CommitTimestamp <= 0 {
						t.Errorf("offset commit value %+v", v)
					}
					state[name] = v.Offset
				}
			case len(r.Key) >= 2 && r.Key[1] == 2 && r.Key[0] == 0:
				var k kmsg.GroupMetadataKey
				if err := k.ReadFrom(r.Key); err != nil {
					t.Fatalf("group metadata key %x: %v", r.Key, err)
				}
				grp, name = k.Group, k.Group
				if r.Value != nil {
					var v kmsg.GroupMetadataValue
					if err := v.ReadFrom(r.Value); err != nil {
						t.Fatalf("group metadata value %x: %v", r.Value, err)
					}
					state[name] = int64(v.Generation)
				}
			default:
				t.Fatalf("unknown key %x", r.Key)
			}
			if r.Value == nil {
				delete(state, name)
			}
			if want := group.OffsetsTopicPartition(grp, partitions); r.Partition != want {
				t.Errorf("group %s in partition %d, want %d", grp, r.Partition, want)
			}
		})
	}
	return state
}

func commitOffsets(t *testing.T, adm *kadm.Client, grp, topic string, offsets ...int64) {
	t.Helper()
	os := kadm.Offsets{}
	for p, o := range offsets {
		os.Add(kadm.Offset{Topic: topic, Partition: int32(p), At: o, LeaderEpoch: -1})
	}
	resp, err := adm.CommitOffsets(testCtx(t, 10*time.Second), grp, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("commit %s: %v", grp, err)
	}
}

// TestOffsetsTopicHasCommits: a franz-go consumer of __consumer_offsets,
// decoding with kmsg's key and value types, sees every group's commits
// (several groups, several partitions, a consumer group with its
// metadata), a deleted group's tombstones, and all of it again after a
// restart, with what was committed after the restart. (Before, the topic
// did not exist and a consumer saw nothing.)
func TestOffsetsTopicHasCommits(t *testing.T) {
	const parts = 7
	tb := startBroker(t, fmt.Sprintf("offsets.topic.num.partitions=%d", parts))
	createTopic(t, tb.addr, "orders", 3, nil)
	adm := kadm.NewClient(newClient(t, tb.addr))
	want := map[string]int64{}
	for i := range 6 {
		grp := fmt.Sprintf("group-%d", i)
		commitOffsets(t, adm, grp, "orders", int64(i), int64(10+i), int64(20+i))
		for p := range 3 {
			want[fmt.Sprintf("%s orders %d", grp, p)] = int64(10*p + i)
		}
	}
	// A consumer group: its metadata (generation) and its commits.
	prod := newClient(t, tb.addr)
	produceSync(t, prod, "orders", "a", "b", "c", "d")
	cons := newClient(t, tb.addr, kgo.ConsumeTopics("orders"), kgo.ConsumerGroup("live"), kgo.DisableAutoCommit())
	ctx := testCtx(t, 30*time.Second)
	got := 0
	for got < 4 {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("consumer group got no records")
		}
		got += len(fs.Records())
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	committed := cons.CommittedOffsets()
	for p, o := range committed["orders"] {
		want[fmt.Sprintf("live orders %d", p)] = o.Offset
	}
	matches := func(want map[string]int64) func(map[string]int64) bool {
		return func(s map[string]int64) bool {
			for k, v := range want {
				if s[k] != v {
					return false
				}
			}
			return s["live"] >= 1
		}
	}
	state := offsetsView(t, tb.addr, parts, matches(want))
	for k := range state {
		if _, ok := want[k]; !ok && k != "live" {
			t.Errorf("unexpected key %q in the topic", k)
		}
	}

	// Delete a group (tombstones), restart, commit more.
	cons.Close()
	if _, err := adm.DeleteGroups(testCtx(t, 10*time.Second), "group-0"); err != nil {
		t.Fatal(err)
	}
	for p := range 3 {
		delete(want, fmt.Sprintf("group-0 orders %d", p))
	}
	tb.restart()
	adm = kadm.NewClient(newClient(t, tb.addr))
	commitOffsets(t, adm, "group-1", "orders", 101, 102, 103)
	commitOffsets(t, adm, "after-restart", "orders", 7)
	want["group-1 orders 0"], want["group-1 orders 1"], want["group-1 orders 2"] = 101, 102, 103
	want["after-restart orders 0"] = 7
	state = offsetsView(t, tb.addr, parts, matches(want))
	for k := range state {
		if _, ok := want[k]; !ok && k != "live" {
			t.Errorf("after the restart: unexpected key %q (a deleted group's keys must be tombstoned)", k)
		}
	}
}

// TestOffsetsTopicIsInternalAndReadOnly: sarama's Metadata shows
// __consumer_offsets as internal with its partitions; clients may not
// produce to it, delete it or add partitions, and creating it is
// TOPIC_ALREADY_EXISTS.
func TestOffsetsTopicIsInternalAndReadOnly(t *testing.T) {
	tb := startBroker(t, "offsets.topic.num.partitions=5")
	adm := kadm.NewClient(newClient(t, tb.addr))
	createTopic(t, tb.addr, "whatever", 1, nil)
	commitOffsets(t, adm, "g", "whatever", 1) // the first commit creates it

	scfg := sarama.NewConfig()
	scfg.Version = sarama.V2_8_0_0
	sc, err := sarama.NewClient([]string{tb.addr}, scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	br, err := sc.Controller()
	if err != nil {
		t.Fatal(err)
	}
	md, err := br.GetMetadata(&sarama.MetadataRequest{Version: 5, Topics: []string{offsetsTopic}})
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Err != sarama.ErrNoError || !md.Topics[0].IsInternal || len(md.Topics[0].Partitions) != 5 {
		t.Fatalf("sarama metadata of %s: %+v", offsetsTopic, md.Topics)
	}
	all, err := br.GetMetadata(&sarama.MetadataRequest{Version: 5, AllowAutoTopicCreation: false})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tm := range all.Topics {
		if tm.Name == offsetsTopic {
			found = tm.IsInternal
		} else if tm.IsInternal {
			t.Errorf("topic %s is internal", tm.Name)
		}
	}
	if !found {
		t.Error("all-topics Metadata does not list the internal __consumer_offsets")
	}

	// Produce is refused as Kafka refuses it.
	prod := newClient(t, tb.addr, kgo.RecordRetries(0), kgo.ProducerLinger(0))
	res := prod.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Topic: offsetsTopic, Partition: 0, Value: []byte("x")})
	if err := res.FirstErr(); !errors.Is(err, kerr.InvalidTopicException) {
		t.Fatalf("produce to %s: %v", offsetsTopic, err)
	}
	req := produceRequest(9, -1, offsetsTopic, 0, testBatch(1, -1, -1, -1, 3))
	presp, err := req.RequestWith(testCtx(t, 10*time.Second), newClient(t, tb.addr, kgo.MaxVersions(kversion.V3_0_0())))
	if err != nil {
		t.Fatal(err)
	}
	if p := presp.Topics[0].Partitions[0]; p.ErrorCode != kerr.InvalidTopicException.Code || p.ErrorMessage == nil || *p.ErrorMessage != "Cannot append to internal topic __consumer_offsets" {
		t.Fatalf("produce: %v %v", kerr.ErrorForCode(p.ErrorCode), p.ErrorMessage)
	}

	ctx := testCtx(t, 10*time.Second)
	dr, err := adm.DeleteTopics(ctx, offsetsTopic)
	if err != nil {
		t.Fatal(err)
	}
	if r := dr[offsetsTopic]; !errors.Is(r.Err, kerr.InvalidTopicException) || !strings.Contains(r.ErrMessage, "internal topic") {
		t.Fatalf("delete %s: %v %q", offsetsTopic, r.Err, r.ErrMessage)
	}
	cr, err := adm.CreatePartitions(ctx, 10, offsetsTopic)
	if err != nil {
		t.Fatal(err)
	}
	if r := cr[offsetsTopic]; !errors.Is(r.Err, kerr.InvalidTopicException) {
		t.Fatalf("create partitions of %s: %v", offsetsTopic, r.Err)
	}
	ct, err := adm.CreateTopic(ctx, 1, 1, nil, offsetsTopic)
	if !errors.Is(err, kerr.TopicAlreadyExists) && !errors.Is(ct.Err, kerr.TopicAlreadyExists) {
		t.Fatalf("create %s: %v %v", offsetsTopic, err, ct.Err)
	}
	// Still there, with its commits.
	offsetsView(t, tb.addr, 5, func(s map[string]int64) bool { return s["g whatever 0"] == 1 })
}

// TestOffsetsTopicAutoCreate: a Metadata request naming __consumer_offsets
// never makes an ordinary topic of it: with auto-creation allowed it is
// created as the internal topic, with offsets.topic.num.partitions
// partitions, as Kafka does; with auto.create.topics.enable=false it is
// unknown until the coordinator first needs it.
func TestOffsetsTopicAutoCreate(t *testing.T) {
	metadata := func(addr string, create bool) kmsg.MetadataResponseTopic {
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(offsetsTopic)
		req.Topics, req.AllowAutoTopicCreation = append(req.Topics, rt), create
		resp, err := req.RequestWith(testCtx(t, 10*time.Second), newClient(t, addr))
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0]
	}
	tb := startBroker(t, "offsets.topic.num.partitions=3")
	if mt := metadata(tb.addr, true); mt.ErrorCode != 0 || !mt.IsInternal || len(mt.Partitions) != 3 {
		t.Fatalf("auto-created %s: %v internal=%v partitions=%d", offsetsTopic, kerr.ErrorForCode(mt.ErrorCode), mt.IsInternal, len(mt.Partitions))
	}

	tb2 := startBroker(t, "offsets.topic.num.partitions=3", "auto.create.topics.enable=false")
	if mt := metadata(tb2.addr, true); mt.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("%s with auto-creation disabled: %v", offsetsTopic, kerr.ErrorForCode(mt.ErrorCode))
	}
	createTopic(t, tb2.addr, "t", 1, nil)
	commitOffsets(t, kadm.NewClient(newClient(t, tb2.addr)), "g", "t", 5)
	if mt := metadata(tb2.addr, false); mt.ErrorCode != 0 || !mt.IsInternal || len(mt.Partitions) != 3 {
		t.Fatalf("%s after a commit: %v internal=%v", offsetsTopic, kerr.ErrorForCode(mt.ErrorCode), mt.IsInternal)
	}
}

// TestOffsetsTopicConsumeRegex: a franz-go group consumer of every topic
// (ConsumeRegex ".*") keeps working once __consumer_offsets exists.
func TestOffsetsTopicConsumeRegex(t *testing.T) {
	tb := startBroker(t, "offsets.topic.num.partitions=3")
	createTopic(t, tb.addr, "x", 1, nil)
	commitOffsets(t, kadm.NewClient(newClient(t, tb.addr)), "other", "x", 1)
	createTopic(t, tb.addr, "rx-a", 2, nil)
	produceSync(t, newClient(t, tb.addr), "rx-a", "1", "2", "3")
	cl := newClient(t, tb.addr, kgo.ConsumeRegex(), kgo.ConsumeTopics(".*"), kgo.ConsumerGroup("rx"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := testCtx(t, 30*time.Second)
	seen := map[string]int{}
	for seen["rx-a"] < 3 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("regex consumer saw %v", seen)
		}
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("fetch %s-%d: %v", topic, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) { seen[r.Topic]++ })
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestDeletedTopicNotAutoCreatedAtOnce: a Metadata request with
// auto-creation right after a topic is deleted does not bring it back
// (UNKNOWN_TOPIC_OR_PARTITION); once deletedTopicNoAutoCreate has passed it
// does, and CreateTopics works at any time.
func TestDeletedTopicNotAutoCreatedAtOnce(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "gone", 2, nil)
	createTopic(t, tb.addr, "again", 1, nil)
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 10*time.Second)
	for _, name := range []string{"gone", "again"} {
		if r, err := adm.DeleteTopics(ctx, name); err != nil || r[name].Err != nil {
			t.Fatalf("delete %s: %v %v", name, err, r[name].Err)
		}
	}
	metadata := func(name string) int16 {
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(name)
		req.Topics, req.AllowAutoTopicCreation = append(req.Topics, rt), true
		resp, err := req.RequestWith(ctx, newClient(t, tb.addr))
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].ErrorCode
	}
	if code := metadata("gone"); code != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("metadata of a topic deleted a moment ago: %v", kerr.ErrorForCode(code))
	}
	if tb.b.topics().byName["gone"] != nil {
		t.Fatal("the deleted topic was auto-created again")
	}
	if r, err := adm.CreateTopic(ctx, 1, 1, nil, "again"); err != nil || r.Err != nil {
		t.Fatalf("CreateTopics of a topic deleted a moment ago: %v %v", err, r.Err)
	}
	// Later, auto-creation works again.
	tb.b.topics().deleted["gone"] = time.Now().Add(-deletedTopicNoAutoCreate)
	if code := metadata("gone"); code != 0 {
		t.Fatalf("metadata of a topic deleted long ago: %v", kerr.ErrorForCode(code))
	}
}
