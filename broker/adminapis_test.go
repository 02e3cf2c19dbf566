package broker

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// An API the broker does not advertise closes the connection (Kafka's
// behaviour); it used to get a body without any error, which kafkactl
// read as "ACL created" (CreateAcls is served now, with per-creation
// results: without an authorizer each is SECURITY_DISABLED).
func TestUnsupportedAPIClosesConnection(t *testing.T) {
	tb := startBroker(t)
	c := dialRaw(t, tb.addr)
	req := kmsg.NewPtrCreateACLsRequest()
	req.Version = 2
	for _, p := range []string{"User:a", "User:b"} {
		cr := kmsg.NewCreateACLsRequestCreation()
		cr.ResourceType, cr.ResourceName, cr.ResourcePatternType = kmsg.ACLResourceTypeTopic, "t", kmsg.ACLResourcePatternTypeLiteral
		cr.Principal, cr.Host, cr.Operation, cr.PermissionType = p, "*", kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
		req.Creations = append(req.Creations, cr)
	}
	resp := c.roundTrip(req).(*kmsg.CreateACLsResponse)
	if len(resp.Results) != 2 || resp.Results[0].ErrorCode != kerr.SecurityDisabled.Code || resp.Results[1].ErrorCode != kerr.SecurityDisabled.Code {
		t.Fatalf("CreateAcls without an authorizer: %+v", resp)
	}
	// An API not served at all: AlterPartition, which Kafka's brokers
	// send their controller and never advertise to clients.
	ap := kmsg.NewPtrAlterPartitionRequest()
	ap.Version = 0
	c.send(ap)
	c.expectClosed()

	// A served API at a version not served whose response could not
	// carry an error: Fetch v3 naming no partition.
	c = dialRaw(t, tb.addr)
	f := kmsg.NewPtrFetchRequest()
	f.Version = 3
	c.send(f)
	c.expectClosed()

	// Produce v0-2 are advertised and refused per partition: kept.
	c = dialRaw(t, tb.addr)
	createTopic(t, tb.addr, "t", 1, nil)
	if p := producePartition(t, c.roundTrip(produceRequest(2, 1, "t", 0, testBatch(1, -1, 0, 0, 1)))); p.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("produce v2: %s", errName(p.ErrorCode))
	}
}

// fillOne gives every list of structs in v one default element,
// recursively, so that a request names one item at every level.
func fillOne(v reflect.Value, depth int) {
	if depth > 6 {
		return
	}
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		switch {
		case f.Kind() == reflect.Struct:
			fillOne(f, depth+1)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			s := reflect.MakeSlice(f.Type(), 1, 1)
			if d := s.Index(0).Addr().MethodByName("Default"); d.IsValid() {
				d.Call(nil)
			}
			fillOne(s.Index(0), depth+1)
			f.Set(s)
		}
	}
}

// leavesCovered checks that every innermost item of v (a list element
// with no list elements under it) has a non-zero ErrorCode on its path
// from the top.
func leavesCovered(v reflect.Value, covered bool) bool {
	covered = covered || ownError(v)
	leaf := true
	var walk func(v reflect.Value) bool
	walk = func(v reflect.Value) bool {
		for i := range v.NumField() {
			f := v.Field(i)
			if !v.Type().Field(i).IsExported() {
				continue
			}
			switch {
			case f.Kind() == reflect.Struct:
				if !walk(f) {
					return false
				}
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
				for j := range f.Len() {
					leaf = false
					if !leavesCovered(f.Index(j), covered) {
						return false
					}
				}
			}
		}
		return true
	}
	return walk(v) && (!leaf || covered)
}

// For every served key at every version not served, with one item at
// every level of the request: the broker answers only when each item of
// the error response carries an error, and closes otherwise. Produce
// v0-2 must stay answered per partition.
func TestUnsupportedVersionErrorEveryItem(t *testing.T) {
	answered, closed := 0, 0
	for key, v := range buildVersions("") {
		proto := kmsg.RequestForKey(key)
		for ver := int16(0); ver <= proto.MaxVersion(); ver++ {
			if ver >= v.min && ver <= v.max {
				continue
			}
			req := kmsg.RequestForKey(key)
			req.SetVersion(ver)
			fillOne(reflect.ValueOf(req).Elem(), 0)
			resp := errorResponse(req, kerr.UnsupportedVersion.Code, "x")
			// What goes on the wire: fields of other versions dropped.
			wire := req.ResponseKind()
			wire.SetVersion(ver)
			if err := wire.ReadFrom(resp.AppendTo(nil)); err != nil {
				t.Fatalf("%s v%d: %v", kmsg.NameForKey(key), ver, err)
			}
			rv := reflect.ValueOf(wire).Elem()
			if !refusesEveryItem(req, resp) {
				closed++
				if key == 0 {
					t.Errorf("Produce v%d would close the connection", ver)
				}
				continue
			}
			answered++
			if !leavesCovered(rv, false) {
				t.Errorf("%s v%d: answered, but an item carries no error: %+v", kmsg.NameForKey(key), ver, resp)
			}
		}
	}
	// An empty request (Metadata for all topics) cannot be refused.
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 12
	if refusesEveryItem(md, errorResponse(md, kerr.UnsupportedVersion.Code, "x")) {
		t.Error("an error response without any error code is answered")
	}
	if answered == 0 || closed == 0 {
		t.Fatalf("answered %d, closed %d", answered, closed)
	}
}

func TestAdminDeleteRecords(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "d", 1, nil)
	cl := newClient(t, tb.addr)
	var vals []string
	for range 40 {
		vals = append(vals, "value-of-some-length-to-fill-segments")
	}
	produceSync(t, cl, "d", vals...)
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 30*time.Second)

	del := func(topic string, at int64) kadm.DeleteRecordsResponse {
		t.Helper()
		var os kadm.Offsets
		os.Add(kadm.Offset{Topic: topic, Partition: 0, At: at})
		rs, err := adm.DeleteRecords(ctx, os)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := rs.Lookup(topic, 0)
		if !ok {
			t.Fatalf("no response for %s", topic)
		}
		return r
	}
	if r := del("d", 25); r.Err != nil || r.LowWatermark != 25 {
		t.Fatalf("delete to 25: %+v", r)
	}
	if r := del("d", 41); !errors.Is(r.Err, kerr.OffsetOutOfRange) {
		t.Fatalf("delete beyond the high watermark: %+v", r)
	}
	if r := del("d", 10); r.Err != nil || r.LowWatermark != 25 {
		t.Fatalf("delete below the start: %+v", r)
	}
	// The internal __consumer_offsets keeps its records.
	if err := adm.CommitAllOffsets(ctx, "g", kadm.OffsetsFromRecords(kgo.Record{Topic: "d", Partition: 0, Offset: 30})); err != nil {
		t.Fatal(err)
	}
	if r := del("__consumer_offsets", 0); !errors.Is(r.Err, kerr.InvalidTopicException) {
		t.Fatalf("delete records of __consumer_offsets: %+v", r)
	}
	// Unknown partitions, asked directly (kadm drops them itself).
	dr := kmsg.NewPtrDeleteRecordsRequest()
	dr.Version = 2
	for _, name := range []string{"d", "nope"} {
		rt := kmsg.NewDeleteRecordsRequestTopic()
		rt.Topic = name
		rt.Partitions = []kmsg.DeleteRecordsRequestTopicPartition{{Partition: 3, Offset: 1}}
		dr.Topics = append(dr.Topics, rt)
	}
	for _, rt := range dialRaw(t, tb.addr).roundTrip(dr).(*kmsg.DeleteRecordsResponse).Topics {
		if p := rt.Partitions[0]; p.ErrorCode != kerr.UnknownTopicOrPartition.Code || p.LowWatermark != -1 {
			t.Fatalf("%s-3: %s %d", rt.Topic, errName(p.ErrorCode), p.LowWatermark)
		}
	}
	start := func() int64 {
		t.Helper()
		lo, err := newAdmin(t, tb.addr).ListStartOffsets(ctx, "d")
		if err != nil {
			t.Fatal(err)
		}
		o, _ := lo.Lookup("d", 0)
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		return o.Offset
	}
	if s := start(); s != 25 {
		t.Fatalf("earliest offset %d", s)
	}
	// A fetch below the start is OFFSET_OUT_OF_RANGE.
	fetchAt := func(off int64) int16 {
		t.Helper()
		c := dialRaw(t, tb.addr)
		f := kmsg.NewPtrFetchRequest()
		f.Version, f.MaxBytes = 11, 1<<20
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic = "d"
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.FetchOffset, fp.PartitionMaxBytes, fp.CurrentLeaderEpoch = off, 1<<20, -1
		ft.Partitions = append(ft.Partitions, fp)
		f.Topics = append(f.Topics, ft)
		fr := c.roundTrip(f).(*kmsg.FetchResponse)
		p := fr.Topics[0].Partitions[0]
		if p.ErrorCode == 0 && p.LogStartOffset != 25 {
			t.Fatalf("log start offset %d in fetch", p.LogStartOffset)
		}
		return p.ErrorCode
	}
	if code := fetchAt(24); code != kerr.OffsetOutOfRange.Code {
		t.Fatalf("fetch at 24: %s", errName(code))
	}
	if code := fetchAt(25); code != 0 {
		t.Fatalf("fetch at 25: %s", errName(code))
	}
	// Across a restart.
	tb.restart()
	adm = newAdmin(t, tb.addr)
	if s := start(); s != 25 {
		t.Fatalf("earliest offset after restart %d", s)
	}
	// -1: up to the high watermark.
	if r := del("d", -1); r.Err != nil || r.LowWatermark != 40 {
		t.Fatalf("delete to the high watermark: %+v", r)
	}
}

func TestAdminDescribeLogDirs(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "ld", 2, nil)
	produceSync(t, newClient(t, tb.addr, kgo.DefaultProduceTopic("ld"), kgo.RecordPartitioner(kgo.ManualPartitioner())), "ld", "a", "b", "c")
	want := tb.b.topics().byName["ld"].parts[0].log.Size() + tb.b.topics().byName["ld"].parts[1].log.Size()
	if want == 0 {
		t.Fatal("nothing written")
	}
	abs, _ := filepath.Abs(tb.dir)
	ds, err := newAdmin(t, tb.addr).DescribeAllLogDirs(testCtx(t, 30*time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := ds[tb.b.cfg.NodeID][abs]
	if !ok || d.Err != nil {
		t.Fatalf("log dir %s: %+v", abs, ds)
	}
	if d.Topics.Size() != want || len(d.Topics["ld"]) != 2 {
		t.Fatalf("size %d, want %d: %+v", d.Topics.Size(), want, d.Topics)
	}
	if d.TotalBytes <= 0 || d.UsableBytes <= 0 || d.UsableBytes > d.TotalBytes {
		t.Fatalf("total %d usable %d", d.TotalBytes, d.UsableBytes)
	}

	// sarama, at its own version.
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_3_0_0
	ca, err := sarama.NewClusterAdmin([]string{tb.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	got, err := ca.DescribeLogDirs([]int32{tb.b.cfg.NodeID})
	if err != nil {
		t.Fatal(err)
	}
	dirs := got[tb.b.cfg.NodeID]
	if len(dirs) != 1 || dirs[0].Path != abs || dirs[0].ErrorCode != sarama.ErrNoError {
		t.Fatalf("sarama: %+v", dirs)
	}
	var size int64
	for _, tp := range dirs[0].Topics {
		for _, p := range tp.Partitions {
			size += p.Size
		}
	}
	if size != want {
		t.Fatalf("sarama: size %d, want %d", size, want)
	}
}

func TestAdminElectAndReassign(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "e", 2, nil)
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 30*time.Second)
	s := kadm.TopicsSet{}
	s.Add("e", 0, 1)
	s.Add("gone", 0)
	rs, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []int32{0, 1} {
		if r := rs["e"][p]; !errors.Is(r.Err, kerr.ElectionNotNeeded) {
			t.Fatalf("e-%d: %+v", p, r)
		}
	}
	if r := rs["gone"][0]; !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("gone-0: %+v", r)
	}
	// Null topics: every topic, no partition needing an election.
	all, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ps, ok := all["e"]; !ok || len(ps) != 0 {
		t.Fatalf("all: %+v", all)
	}

	ls, err := adm.ListPartitionReassignments(ctx, nil)
	if err != nil || len(ls) != 0 {
		t.Fatalf("list: %+v %v", ls, err)
	}
	var req kadm.AlterPartitionAssignmentsReq
	req.Assign("e", 0, []int32{tb.b.cfg.NodeID})
	req.Assign("e", 1, []int32{tb.b.cfg.NodeID + 1})
	req.Assign("gone", 0, []int32{tb.b.cfg.NodeID})
	ar, err := adm.AlterPartitionAssignments(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if r := ar["e"][0]; r.Err != nil {
		t.Fatalf("same replicas: %+v", r)
	}
	if r := ar["e"][1]; !errors.Is(r.Err, kerr.InvalidReplicaAssignment) {
		t.Fatalf("other broker: %+v", r)
	}
	if r := ar["gone"][0]; !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("unknown topic: %+v", r)
	}
	var cancel kadm.AlterPartitionAssignmentsReq
	cancel.Assign("e", 0, nil)
	ar, err = adm.AlterPartitionAssignments(ctx, cancel)
	if err != nil {
		t.Fatal(err)
	}
	if r := ar["e"][0]; !errors.Is(r.Err, kerr.NoReassignmentInProgress) {
		t.Fatalf("cancel: %+v", r)
	}
	ls, err = adm.ListPartitionReassignments(ctx, s)
	if err != nil || len(ls) != 0 {
		t.Fatalf("list after: %+v %v", ls, err)
	}
}

func TestAdminDescribeProducers(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "p", 1, nil)
	cl := newClient(t, tb.addr) // idempotent by default
	recs := produceSync(t, cl, "p", "a", "b", "c")
	ctx := testCtx(t, 30*time.Second)
	s := kadm.TopicsSet{}
	s.Add("p", 0)
	ds, err := newAdmin(t, tb.addr).DescribeProducers(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	dp := ds["p"].Partitions[0]
	if dp.Err != nil || len(dp.ActiveProducers) != 1 {
		t.Fatalf("p-0: %+v", dp)
	}
	var ap kadm.DescribedProducer
	for _, p := range dp.ActiveProducers {
		ap = p
	}
	last := recs[len(recs)-1]
	if ap.ProducerID != last.ProducerID || ap.ProducerEpoch != last.ProducerEpoch || ap.LastSequence != 2 || ap.LastTimestamp != last.Timestamp.UnixMilli() {
		t.Fatalf("producer %+v, last record pid %d epoch %d ts %d", ap, last.ProducerID, last.ProducerEpoch, last.Timestamp.UnixMilli())
	}
	if ap.CoordinatorEpoch != -1 || ap.CurrentTxnStartOffset != -1 {
		t.Fatalf("transaction fields: %+v", ap)
	}
	// An unknown partition, asked directly (kadm drops it itself).
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = "p", []int32{5}
	req.Topics = append(req.Topics, rt)
	r := dialRaw(t, tb.addr).roundTrip(req).(*kmsg.DescribeProducersResponse)
	if g := r.Topics[0].Partitions[0]; g.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("p-5: %s", errName(g.ErrorCode))
	}
}

func TestAdminDescribeQuorum(t *testing.T) {
	tb := startBroker(t)
	c := dialRaw(t, tb.addr)
	req := kmsg.NewPtrDescribeQuorumRequest()
	req.Version = 2
	for _, name := range []string{metadataTopic, "other"} {
		rt := kmsg.NewDescribeQuorumRequestTopic()
		rt.Topic = name
		rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{{Partition: 0}}
		req.Topics = append(req.Topics, rt)
	}
	resp := c.roundTrip(req).(*kmsg.DescribeQuorumResponse)
	if resp.ErrorCode != 0 || len(resp.Topics) != 2 {
		t.Fatalf("%+v", resp)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || p.LeaderID != tb.b.cfg.NodeID || len(p.CurrentVoters) != 1 || p.CurrentVoters[0].ReplicaID != tb.b.cfg.NodeID || len(p.Observers) != 0 {
		t.Fatalf("metadata partition: %+v", p)
	}
	if p.CurrentVoters[0].LastCaughtUpTimestamp <= 0 {
		t.Fatalf("voter: %+v", p.CurrentVoters[0])
	}
	if o := resp.Topics[1].Partitions[0]; o.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("other topic: %s", errName(o.ErrorCode))
	}
	if len(resp.Nodes) != 1 || resp.Nodes[0].NodeID != tb.b.cfg.NodeID || len(resp.Nodes[0].Listeners) != 1 || resp.Nodes[0].Listeners[0].Port == 0 {
		t.Fatalf("nodes: %+v", resp.Nodes)
	}
}
