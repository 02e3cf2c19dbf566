package broker

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestCreateTopicsChecks(t *testing.T) {
	tb := startBroker(t, "num.partitions=2")
	c := dialRaw(t, tb.addr)
	create := func(validateOnly bool, topics ...kmsg.CreateTopicsRequestTopic) []kmsg.CreateTopicsResponseTopic {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.Version, req.ValidateOnly, req.Topics = 7, validateOnly, topics
		return c.roundTrip(req).(*kmsg.CreateTopicsResponse).Topics
	}
	topic := func(name string, n int32, rf int16, configs ...string) kmsg.CreateTopicsRequestTopic {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, n, rf
		for i := 0; i+1 < len(configs); i += 2 {
			v := configs[i+1]
			rt.Configs = append(rt.Configs, kmsg.CreateTopicsRequestTopicConfig{Name: configs[i], Value: &v})
		}
		return rt
	}
	r := create(false, topic("rf3", 1, 3))[0]
	if r.ErrorCode != kerr.InvalidReplicationFactor.Code || r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, "only 1 broker") {
		t.Fatalf("rf 3: %s %v", errName(r.ErrorCode), r.ErrorMessage)
	}
	r = create(true, topic("checked", -1, -1, "retention.ms", "1000"))[0]
	if r.ErrorCode != 0 || r.NumPartitions != 2 || r.ReplicationFactor != 1 {
		t.Fatalf("validate only: %s %+v", errName(r.ErrorCode), r)
	}
	if md, _ := newAdmin(t, tb.addr).ListTopics(testCtx(t, 5*time.Second), "checked"); md["checked"].Err == nil {
		t.Fatal("validate_only created the topic")
	}
	for _, tt := range []struct {
		rt   kmsg.CreateTopicsRequestTopic
		code int16
	}{
		{topic("badcfg", 1, 1, "no.such.config", "1"), kerr.InvalidConfig.Code},
		{topic("badval", 1, 1, "retention.ms", "soon"), kerr.InvalidConfig.Code},
		{topic("badval2", 1, 1, "compression.type", "gzip"), kerr.InvalidConfig.Code},
		{topic("zero", 0, 1), kerr.InvalidPartitions.Code},
		{topic("rf0", 1, 0), kerr.InvalidReplicationFactor.Code},
	} {
		if r := create(false, tt.rt)[0]; r.ErrorCode != tt.code || r.ErrorMessage == nil {
			t.Errorf("%s: %s, want %s", tt.rt.Topic, errName(r.ErrorCode), errName(tt.code))
		}
	}
	r = create(false, topic("made", 3, 1, "cleanup.policy", "delete", "message.timestamp.type", "LogAppendTime"))[0]
	if r.ErrorCode != 0 || r.TopicID == ([16]byte{}) || r.NumPartitions != 3 {
		t.Fatalf("create: %s %+v", errName(r.ErrorCode), r)
	}
	if r := create(false, topic("made", 1, 1))[0]; r.ErrorCode != kerr.TopicAlreadyExists.Code {
		t.Fatalf("again: %s", errName(r.ErrorCode))
	}
	if r := create(false, topic("a.b", 1, 1))[0]; r.ErrorCode != 0 {
		t.Fatalf("a.b: %s", errName(r.ErrorCode))
	}
	if r := create(false, topic("a_b", 1, 1))[0]; r.ErrorCode != kerr.InvalidTopicException.Code {
		t.Fatalf("collision: %s", errName(r.ErrorCode))
	}
	// LogAppendTime took effect.
	cl := newClient(t, tb.addr)
	rec := &kgo.Record{Topic: "made", Value: []byte("x"), Timestamp: time.Unix(1, 0)}
	if err := cl.ProduceSync(testCtx(t, 10*time.Second), rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
	got := consumeN(t, tb.addr, "made", 1)[0]
	if d := time.Since(got.Timestamp); d < 0 || d > time.Minute || got.Attrs.TimestampType() != 1 {
		t.Fatalf("LogAppendTime topic: record timestamp %v, type %d", got.Timestamp, got.Attrs.TimestampType())
	}
}

func TestTopicAdministration(t *testing.T) {
	tb := startBroker(t)
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 30*time.Second)
	createTopic(t, tb.addr, "adm", 1, nil)

	// CreatePartitions.
	if _, err := adm.CreatePartitions(ctx, 2, "adm"); err != nil {
		t.Fatal(err)
	}
	resp, err := adm.UpdatePartitions(ctx, 2, "adm")
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := resp.On("adm", nil); r.Err == nil || !strings.Contains(r.Err.Error(), "INVALID_PARTITIONS") {
		t.Fatalf("shrink to 2 of 3: %v", r.Err)
	}
	md, _ := adm.ListTopics(ctx, "adm")
	if n := len(md["adm"].Partitions); n != 3 {
		t.Fatalf("%d partitions, want 3", n)
	}
	cl := newClient(t, tb.addr, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "adm", Partition: 2, Value: []byte("p2")}).FirstErr(); err != nil {
		t.Fatalf("produce to a new partition: %v", err)
	}

	// IncrementalAlterConfigs, applied at once.
	small := "200"
	ar, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &small}}, "adm")
	if err != nil || ar[0].Err != nil {
		t.Fatalf("alter: %v %v", err, ar)
	}
	big := &kgo.Record{Topic: "adm", Value: make([]byte, 500)}
	if err := cl.ProduceSync(ctx, big).FirstErr(); err == nil || !strings.Contains(err.Error(), "MESSAGE_TOO_LARGE") {
		t.Fatalf("after max.message.bytes=200, a 500-byte record: %v", err)
	}
	ar, _ = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "max.message.bytes"}, {Op: kadm.AppendConfig, Name: "cleanup.policy", Value: strPtr("compact")}}, "adm")
	if ar[0].Err != nil {
		t.Fatal(ar[0].Err)
	}
	bad, _ := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "segment.bytes", Value: strPtr("-5")}}, "adm")
	if bad[0].Err == nil {
		t.Fatal("segment.bytes=-5 accepted")
	}
	rc, err := adm.DescribeTopicConfigs(ctx, "adm")
	if err != nil {
		t.Fatal(err)
	}
	cfgs, _ := rc.On("adm", nil)
	got := map[string]kadm.Config{}
	for _, c := range cfgs.Configs {
		got[c.Key] = c
	}
	if c := got["cleanup.policy"]; c.MaybeValue() != "delete,compact" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("cleanup.policy %q from %v", c.MaybeValue(), c.Source)
	}
	if c := got["max.message.bytes"]; c.MaybeValue() != "1048588" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("max.message.bytes %q from %v", c.MaybeValue(), c.Source)
	}
	if c := got["retention.ms"]; c.MaybeValue() != "604800000" {
		t.Fatalf("retention.ms %q", c.MaybeValue())
	}

	// Broker configs, with their sources.
	bc, err := adm.DescribeBrokerConfigs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bcfg := map[string]kadm.Config{}
	for _, rc := range bc {
		for _, c := range rc.Configs {
			bcfg[c.Key] = c
		}
	}
	if c := bcfg["log.dirs"]; c.MaybeValue() != tb.dir || c.Source != kmsg.ConfigSourceStaticBrokerConfig {
		t.Fatalf("log.dirs %q %v", c.MaybeValue(), c.Source)
	}
	if c := bcfg["num.partitions"]; c.MaybeValue() != "1" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("num.partitions %q %v", c.MaybeValue(), c.Source)
	}

	// DeleteTopics: gone from metadata and from disk, recreatable.
	dr, err := adm.DeleteTopics(ctx, "adm")
	if err != nil || dr["adm"].Err != nil {
		t.Fatalf("delete: %v %v", err, dr)
	}
	md, _ = adm.ListTopics(ctx)
	if _, ok := md["adm"]; ok {
		t.Fatal("deleted topic still listed")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, _ := filepath.Glob(filepath.Join(tb.dir, "*-delete"))
		p, _ := filepath.Glob(filepath.Join(tb.dir, "adm-*"))
		if len(m) == 0 && len(p) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("partition folders remain: %v %v", m, p)
		}
		time.Sleep(10 * time.Millisecond)
	}
	dr, _ = adm.DeleteTopics(ctx, "adm")
	if !strings.Contains(dr["adm"].Err.Error(), "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Fatalf("delete again: %v", dr["adm"].Err)
	}
	createTopic(t, tb.addr, "adm", 1, nil)
	tb.restart()
	md, _ = newAdmin(t, tb.addr).ListTopics(testCtx(t, 10*time.Second))
	if len(md["adm"].Partitions) != 1 {
		t.Fatalf("recreated topic after restart: %+v", md["adm"])
	}
}

func strPtr(s string) *string { return &s }

func TestMetadataAutoCreate(t *testing.T) {
	tb := startBroker(t, "num.partitions=3")
	c := dialRaw(t, tb.addr)
	md := func(version int16, allow bool, names ...string) []kmsg.MetadataResponseTopic {
		req := kmsg.NewPtrMetadataRequest()
		req.Version, req.AllowAutoTopicCreation = version, allow
		for _, n := range names {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = &n
			req.Topics = append(req.Topics, rt)
		}
		return c.roundTrip(req).(*kmsg.MetadataResponse).Topics
	}
	if r := md(9, false, "nope")[0]; r.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("allow=false: %s", errName(r.ErrorCode))
	}
	r := md(12, true, "auto")[0]
	if r.ErrorCode != 0 || len(r.Partitions) != 3 || r.TopicID == ([16]byte{}) {
		t.Fatalf("auto-created: %s %+v", errName(r.ErrorCode), r)
	}
	// v3 has no flag: creation is implied.
	if r := md(3, false, "old-auto")[0]; r.ErrorCode != 0 {
		t.Fatalf("v3: %s", errName(r.ErrorCode))
	}
	// Lookup by topic id (v12).
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	req.Topics = []kmsg.MetadataRequestTopic{{TopicID: r.TopicID}}
	byID := c.roundTrip(req).(*kmsg.MetadataResponse).Topics
	if len(byID) != 1 || byID[0].Topic == nil || *byID[0].Topic != "auto" {
		t.Fatalf("by id: %+v", byID)
	}
	// An empty partition reports start and end 0.
	ends, _ := newAdmin(t, tb.addr).ListEndOffsets(testCtx(t, 5*time.Second), "auto")
	starts, _ := newAdmin(t, tb.addr).ListStartOffsets(testCtx(t, 5*time.Second), "auto")
	ends.Each(func(o kadm.ListedOffset) {
		if s, _ := starts.Lookup("auto", o.Partition); o.Offset != 0 || s.Offset != 0 || o.Err != nil {
			t.Errorf("empty partition %d: start %d end %d %v", o.Partition, s.Offset, o.Offset, o.Err)
		}
	})

	off := startBroker(t, "auto.create.topics.enable=false")
	c = dialRaw(t, off.addr)
	if r := md(9, true, "nope")[0]; r.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("auto.create.topics.enable=false: %s", errName(r.ErrorCode))
	}
}

func TestListOffsetsByTimestamp(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "times", 1, nil)
	cl := newClient(t, tb.addr, kgo.ProducerLinger(0))
	base := time.UnixMilli(1_700_000_000_000)
	for i := range 20 {
		r := &kgo.Record{Topic: "times", Value: []byte{byte(i)}, Timestamp: base.Add(time.Duration(i*10) * time.Millisecond)}
		if err := cl.ProduceSync(testCtx(t, 10*time.Second), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 10*time.Second)
	for _, tt := range []struct{ ms, want int64 }{
		{base.UnixMilli(), 0},
		{base.UnixMilli() + 15, 2},
		{base.UnixMilli() + 190, 19},
		{base.UnixMilli() - 1000, 0},
	} {
		res, err := adm.ListOffsetsAfterMilli(ctx, tt.ms, "times")
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := res.Lookup("times", 0); o.Offset != tt.want || o.Err != nil {
			t.Errorf("after %d: offset %d (%v), want %d", tt.ms-base.UnixMilli(), o.Offset, o.Err, tt.want)
		}
	}
	// After the last timestamp: no record, offset -1 from the broker
	// (kadm maps it to the end offset).
	c := dialRaw(t, tb.addr)
	lo := kmsg.NewPtrListOffsetsRequest()
	lo.Version = 7
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = "times"
	for _, ts := range []int64{base.UnixMilli() + 10_000, -3} {
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.Timestamp = ts
		lt.Partitions = []kmsg.ListOffsetsRequestTopicPartition{lp}
		lo.Topics = []kmsg.ListOffsetsRequestTopic{lt}
		p := c.roundTrip(lo).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
		switch ts {
		case -3:
			if p.Offset != 19 || p.Timestamp != base.UnixMilli()+190 {
				t.Errorf("max timestamp: %d@%d", p.Offset, p.Timestamp)
			}
		default:
			if p.Offset != -1 || p.Timestamp != -1 || p.ErrorCode != 0 {
				t.Errorf("beyond the last timestamp: %d@%d %s", p.Offset, p.Timestamp, errName(p.ErrorCode))
			}
		}
	}
}

// TestListOffsetsRepeatedPartition: a partition named twice in one request,
// in one topic entry or across two entries of the same topic, is
// INVALID_REQUEST wherever it is named; the other partitions are answered.
func TestListOffsetsRepeatedPartition(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "dup", 3, nil)
	c := dialRaw(t, tb.addr)
	entry := func(parts ...int32) kmsg.ListOffsetsRequestTopic {
		lt := kmsg.NewListOffsetsRequestTopic()
		lt.Topic = "dup"
		for _, p := range parts {
			lp := kmsg.NewListOffsetsRequestTopicPartition()
			lp.Partition, lp.Timestamp = p, -1
			lt.Partitions = append(lt.Partitions, lp)
		}
		return lt
	}
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version = 5
	req.Topics = []kmsg.ListOffsetsRequestTopic{entry(0, 1), entry(0), entry(2, 2)}
	resp := c.roundTrip(req).(*kmsg.ListOffsetsResponse)
	got := map[int32][]int16{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			got[rp.Partition] = append(got[rp.Partition], rp.ErrorCode)
		}
	}
	bad := kerr.InvalidRequest.Code
	if fmt.Sprint(got[0]) != fmt.Sprint([]int16{bad, bad}) || fmt.Sprint(got[1]) != "[0]" || fmt.Sprint(got[2]) != fmt.Sprint([]int16{bad, bad}) {
		t.Fatalf("error codes by partition %v; want 0 and 2 refused wherever named, 1 answered", got)
	}
}

func TestSmallAPIs(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "s", 1, nil)
	produceSync(t, newClient(t, tb.addr), "s", "1", "2", "3")
	c := dialRaw(t, tb.addr)

	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.Version, fc.CoordinatorKeys = 4, []string{"g1", "g2"}
	fr := c.roundTrip(fc).(*kmsg.FindCoordinatorResponse)
	if len(fr.Coordinators) != 2 || fr.Coordinators[1].Key != "g2" || fr.Coordinators[0].NodeID != 1 || fr.Coordinators[0].Port == 0 {
		t.Fatalf("find coordinator v4: %+v", fr)
	}
	fc = kmsg.NewPtrFindCoordinatorRequest()
	fc.Version, fc.CoordinatorKey = 0, "g"
	if fr := c.roundTrip(fc).(*kmsg.FindCoordinatorResponse); fr.ErrorCode != 0 || fr.NodeID != 1 {
		t.Fatalf("find coordinator v0: %+v", fr)
	}
	fc.Version, fc.CoordinatorType = 3, 1
	if fr := c.roundTrip(fc).(*kmsg.FindCoordinatorResponse); fr.ErrorCode != 0 || fr.NodeID != 1 {
		t.Fatalf("transaction coordinator: %+v", fr)
	}
	fc.CoordinatorType = 2
	if fr := c.roundTrip(fc).(*kmsg.FindCoordinatorResponse); fr.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("share coordinator: %s", errName(fr.ErrorCode))
	}

	oe := kmsg.NewPtrOffsetForLeaderEpochRequest()
	oe.Version = 4
	ot := kmsg.NewOffsetForLeaderEpochRequestTopic()
	ot.Topic = "s"
	op := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	op.LeaderEpoch, op.CurrentLeaderEpoch = 0, 0
	ot.Partitions = append(ot.Partitions, op)
	oe.Topics = append(oe.Topics, ot)
	if p := c.roundTrip(oe).(*kmsg.OffsetForLeaderEpochResponse).Topics[0].Partitions[0]; p.ErrorCode != 0 || p.EndOffset != 3 || p.LeaderEpoch != 0 {
		t.Fatalf("offset for leader epoch: %+v", p)
	}

	dc := kmsg.NewPtrDescribeClusterRequest()
	dc.Version = 1
	dr := c.roundTrip(dc).(*kmsg.DescribeClusterResponse)
	if dr.ErrorCode != 0 || len(dr.Brokers) != 1 || dr.ClusterID == "" || dr.ControllerID != 1 {
		t.Fatalf("describe cluster: %+v", dr)
	}
	dc.EndpointType = 2
	if dr := c.roundTrip(dc).(*kmsg.DescribeClusterResponse); dr.ErrorCode != kerr.UnsupportedEndpointType.Code {
		t.Fatalf("controllers: %s", errName(dr.ErrorCode))
	}

	ip := kmsg.NewPtrInitProducerIDRequest()
	txn := "txn"
	ip.TransactionalID = &txn
	ip.TransactionTimeoutMillis = 0
	if r := c.roundTrip(ip).(*kmsg.InitProducerIDResponse); r.ErrorCode != kerr.InvalidTransactionTimeout.Code {
		t.Fatalf("transactional init without a timeout: %s", errName(r.ErrorCode))
	}
	ip.TransactionTimeoutMillis = 60000
	if r := c.roundTrip(ip).(*kmsg.InitProducerIDResponse); r.ErrorCode != 0 || r.ProducerID < 0 || r.ProducerEpoch != 0 {
		t.Fatalf("transactional init: %s %d/%d", errName(r.ErrorCode), r.ProducerID, r.ProducerEpoch)
	}
}

func TestConsumerGroupThroughBroker(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "grp", 2, nil)
	produceSync(t, newClient(t, tb.addr), "grp", "a", "b", "c", "d")
	cl := newClient(t, tb.addr, kgo.ConsumerGroup("g"), kgo.ConsumeTopics("grp"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := testCtx(t, 30*time.Second)
	n := 0
	for n < 4 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of 4 in the group", n)
		}
		n += len(fs.Records())
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	offs, err := newAdmin(t, tb.addr).FetchOffsets(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
	if sum != 4 {
		t.Fatalf("committed offsets add up to %d", sum)
	}
	if _, err := os.Stat(filepath.Join(tb.dir, groupDir)); err != nil {
		t.Fatalf("group state folder: %v", err)
	}
}
