package broker

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

func strp(s string) *string { return &s }

// throttleHook records the throttle times a client is told.
type throttleHook struct {
	mu     sync.Mutex
	got    []time.Duration
	before int
}

func (h *throttleHook) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, after bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, d)
	if !after {
		h.before++
	}
}

func (h *throttleHook) max() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	var m time.Duration
	for _, d := range h.got {
		m = max(m, d)
	}
	return m
}

func quotaValues(t *testing.T, qs kadm.DescribedClientQuotas) map[string]map[string]float64 {
	t.Helper()
	out := map[string]map[string]float64{}
	for _, q := range qs {
		k := ""
		for _, c := range q.Entity {
			n := "<default>"
			if c.Name != nil {
				n = *c.Name
			}
			k += c.Type + "=" + n + ";"
		}
		out[k] = map[string]float64{}
		for _, v := range q.Values {
			out[k][v.Key] = v.Value
		}
	}
	return out
}

// TestClientQuotasKadm: AlterClientQuotas and DescribeClientQuotas with
// franz-go's kadm: every kind of entity, Kafka's errors, validate-only,
// match types and strict, removal, and the quotas survive a restart.
func TestClientQuotasKadm(t *testing.T) {
	tb := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	adm := newAdmin(t, tb.addr)
	user := func(n *string) kadm.ClientQuotaEntityComponent {
		return kadm.ClientQuotaEntityComponent{Type: "user", Name: n}
	}
	client := func(n *string) kadm.ClientQuotaEntityComponent {
		return kadm.ClientQuotaEntityComponent{Type: "client-id", Name: n}
	}
	set := func(k string, v float64) kadm.AlterClientQuotaOp { return kadm.AlterClientQuotaOp{Key: k, Value: v} }
	entries := []kadm.AlterClientQuotaEntry{
		{Entity: kadm.ClientQuotaEntity{user(strp("alice"))}, Ops: []kadm.AlterClientQuotaOp{set("producer_byte_rate", 1000), set("request_percentage", 12.5)}},
		{Entity: kadm.ClientQuotaEntity{user(nil)}, Ops: []kadm.AlterClientQuotaOp{set("consumer_byte_rate", 2000)}},
		{Entity: kadm.ClientQuotaEntity{user(strp("alice")), client(strp("app"))}, Ops: []kadm.AlterClientQuotaOp{set("producer_byte_rate", 3000)}},
		{Entity: kadm.ClientQuotaEntity{client(nil)}, Ops: []kadm.AlterClientQuotaOp{set("controller_mutation_rate", 5)}},
		{Entity: kadm.ClientQuotaEntity{client(strp("app"))}, Ops: []kadm.AlterClientQuotaOp{set("consumer_byte_rate", 4000)}},
	}
	// Validate-only changes nothing.
	res, err := adm.ValidateAlterClientQuotas(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("validate %v: %v %s", r.Entity, r.Err, r.ErrMessage)
		}
	}
	if qs, err := adm.DescribeClientQuotas(ctx, false, nil); err != nil || len(qs) != 0 {
		t.Fatalf("after validate-only: %v %v", qs, err)
	}
	res, err = adm.AlterClientQuotas(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(entries) {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("alter %v: %v %s", r.Entity, r.Err, r.ErrMessage)
		}
	}

	// Kafka's errors, each entry on its own.
	bad := []kadm.AlterClientQuotaEntry{
		{Entity: kadm.ClientQuotaEntity{user(strp("bob"))}, Ops: []kadm.AlterClientQuotaOp{set("unknown_rate", 1)}},
		{Entity: kadm.ClientQuotaEntity{{Type: "group", Name: strp("g")}}, Ops: []kadm.AlterClientQuotaOp{set("producer_byte_rate", 1)}},
		{Entity: kadm.ClientQuotaEntity{user(strp("bob"))}, Ops: []kadm.AlterClientQuotaOp{set("producer_byte_rate", 0)}},
		{Entity: kadm.ClientQuotaEntity{user(strp("bob"))}, Ops: []kadm.AlterClientQuotaOp{set("consumer_byte_rate", -5)}},
		{Entity: kadm.ClientQuotaEntity{user(strp("bob"))}, Ops: []kadm.AlterClientQuotaOp{set("producer_byte_rate", 1.5)}},
		{Entity: kadm.ClientQuotaEntity{user(strp("bob")), user(strp("carol"))}, Ops: []kadm.AlterClientQuotaOp{set("producer_byte_rate", 1)}},
		{Entity: kadm.ClientQuotaEntity{}, Ops: []kadm.AlterClientQuotaOp{set("producer_byte_rate", 1)}},
		{Entity: kadm.ClientQuotaEntity{user(strp("bob"))}, Ops: []kadm.AlterClientQuotaOp{set("producer_byte_rate", 5), set("consumer_byte_rate", 5)}}, // fine
	}
	res, err = adm.AlterClientQuotas(ctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		var want error = kerr.InvalidRequest
		if i == len(res)-1 {
			want = nil
		}
		if !errors.Is(r.Err, want) || (want != nil && r.ErrMessage == "") {
			t.Errorf("entry %d %v: got %v %q, want %v", i, r.Entity, r.Err, r.ErrMessage, want)
		}
	}

	describe := func(strict bool, comps ...kadm.DescribeClientQuotaComponent) map[string]map[string]float64 {
		t.Helper()
		qs, err := adm.DescribeClientQuotas(ctx, strict, comps)
		if err != nil {
			t.Fatal(err)
		}
		return quotaValues(t, qs)
	}
	all := describe(false)
	if len(all) != 6 || all["user=alice;"]["request_percentage"] != 12.5 || all["user=alice;client-id=app;"]["producer_byte_rate"] != 3000 ||
		all["client-id=<default>;"]["controller_mutation_rate"] != 5 || all["user=<default>;"]["consumer_byte_rate"] != 2000 {
		t.Fatalf("all: %v", all)
	}
	exactAlice := kadm.DescribeClientQuotaComponent{Type: "user", MatchName: strp("alice"), MatchType: 0}
	if got := describe(false, exactAlice); len(got) != 2 || got["user=alice;"] == nil || got["user=alice;client-id=app;"] == nil {
		t.Fatalf("user=alice: %v", got)
	}
	if got := describe(true, exactAlice); len(got) != 1 || got["user=alice;"]["producer_byte_rate"] != 1000 {
		t.Fatalf("strict user=alice: %v", got)
	}
	if got := describe(true, kadm.DescribeClientQuotaComponent{Type: "user", MatchType: 1}); len(got) != 1 || got["user=<default>;"] == nil {
		t.Fatalf("strict default user: %v", got)
	}
	if got := describe(false, kadm.DescribeClientQuotaComponent{Type: "client-id", MatchType: 2}); len(got) != 3 {
		t.Fatalf("any client-id: %v", got)
	}
	if got := describe(true, kadm.DescribeClientQuotaComponent{Type: "user", MatchType: 2}); len(got) != 3 {
		t.Fatalf("strict any user: %v", got)
	}
	if got := describe(true, kadm.DescribeClientQuotaComponent{Type: "user", MatchType: 2}, kadm.DescribeClientQuotaComponent{Type: "client-id", MatchName: strp("app")}); len(got) != 1 {
		t.Fatalf("strict user any, client-id=app: %v", got)
	}
	for _, comps := range [][]kadm.DescribeClientQuotaComponent{
		{{Type: "group", MatchType: 2}},
		{{Type: "user", MatchType: 2}, {Type: "user", MatchType: 1}},
		{{Type: "user", MatchType: 0}},
	} {
		if _, err := adm.DescribeClientQuotas(ctx, false, comps); !errors.Is(err, kerr.InvalidRequest) {
			t.Errorf("describe %v: %v, want INVALID_REQUEST", comps, err)
		}
	}

	// Removing every key removes the entity.
	res, err = adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{Entity: kadm.ClientQuotaEntity{user(strp("bob"))},
		Ops: []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Remove: true}, {Key: "consumer_byte_rate", Remove: true}}}})
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}

	tb.restart()
	adm = newAdmin(t, tb.addr)
	after := describe(false)
	if len(after) != 5 || after["user=bob;"] != nil || after["client-id=app;"]["consumer_byte_rate"] != 4000 || after["user=alice;"]["request_percentage"] != 12.5 {
		t.Fatalf("after restart: %v", after)
	}
	if _, err := os.Stat(filepath.Join(tb.dir, quotasFile)); err != nil {
		t.Fatal(err)
	}
}

// TestClientQuotasSarama: sarama's ClusterAdmin sets, describes and
// removes quotas.
func TestClientQuotasSarama(t *testing.T) {
	tb := startBroker(t)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_3_0_0
	ca, err := sarama.NewClusterAdmin([]string{tb.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	ent := []sarama.QuotaEntityComponent{{EntityType: sarama.QuotaEntityUser, MatchType: sarama.QuotaMatchExact, Name: "alice"},
		{EntityType: sarama.QuotaEntityClientID, MatchType: sarama.QuotaMatchDefault}}
	if err := ca.AlterClientQuotas(ent, sarama.ClientQuotasOp{Key: "producer_byte_rate", Value: 1048576}, false); err != nil {
		t.Fatal(err)
	}
	if err := ca.AlterClientQuotas(ent, sarama.ClientQuotasOp{Key: "consumer_byte_rate", Value: 2048}, false); err != nil {
		t.Fatal(err)
	}
	if err := ca.AlterClientQuotas(ent, sarama.ClientQuotasOp{Key: "nope", Value: 1}, false); err == nil {
		t.Fatal("unknown key accepted")
	}
	got, err := ca.DescribeClientQuotas([]sarama.QuotaFilterComponent{{EntityType: sarama.QuotaEntityUser, MatchType: sarama.QuotaMatchExact, Match: "alice"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Entity) != 2 || got[0].Values["producer_byte_rate"] != 1048576 || got[0].Values["consumer_byte_rate"] != 2048 ||
		got[0].Entity[1].MatchType != sarama.QuotaMatchDefault || got[0].Entity[0].Name != "alice" {
		t.Fatalf("described %+v", got)
	}
	if err := ca.AlterClientQuotas(ent, sarama.ClientQuotasOp{Key: "consumer_byte_rate", Remove: true}, false); err != nil {
		t.Fatal(err)
	}
	got, err = ca.DescribeClientQuotas([]sarama.QuotaFilterComponent{{EntityType: sarama.QuotaEntityClientID, MatchType: sarama.QuotaMatchDefault}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("strict default client-id: %+v", got)
	}
	got, err = ca.DescribeClientQuotas(nil, false)
	if err != nil || len(got) != 1 || len(got[0].Values) != 1 {
		t.Fatalf("all: %+v %v", got, err)
	}
}

// TestClientQuotaThrottlesProduceAndFetch: a producer with client id
// "slow" under producer_byte_rate=1024 produces 20 KiB and is told a
// throttle time; client id "fast" is not; a consumer under
// consumer_byte_rate=1024 fetching them is throttled too, and still gets
// every record.
func TestClientQuotaThrottlesProduceAndFetch(t *testing.T) {
	tb := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, tb.addr, "q", 1, nil)
	adm := newAdmin(t, tb.addr)
	res, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{
		{Entity: kadm.ClientQuotaEntity{{Type: "client-id", Name: strp("slow")}}, Ops: []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: 1024}}},
		{Entity: kadm.ClientQuotaEntity{{Type: "client-id", Name: strp("slowc")}}, Ops: []kadm.AlterClientQuotaOp{{Key: "consumer_byte_rate", Value: 1024}}},
	})
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatal(err, res)
	}
	value := make([]byte, 1024)
	rand.Read(value)
	produce := func(id string) *throttleHook {
		h := &throttleHook{}
		cl := newClient(t, tb.addr, kgo.ClientID(id), kgo.WithHooks(h), kgo.DefaultProduceTopic("q"),
			kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerLinger(0))
		recs := make([]*kgo.Record, 20)
		for i := range recs {
			recs[i] = &kgo.Record{Value: value}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		cl.Close()
		return h
	}
	if h := produce("slow"); h.max() <= 0 || h.before != 0 {
		t.Fatalf("slow producer: throttles %v (%d before the response)", h.got, h.before)
	}
	if h := produce("fast"); len(h.got) != 0 {
		t.Fatalf("fast producer throttled: %v", h.got)
	}

	consume := func(id string) *throttleHook {
		h := &throttleHook{}
		cl := newClient(t, tb.addr, kgo.ClientID(id), kgo.WithHooks(h), kgo.ConsumeTopics("q"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		n := 0
		for n < 40 {
			fs := cl.PollFetches(ctx)
			if err := fs.Err0(); err != nil {
				t.Fatal(err)
			}
			n += fs.NumRecords()
		}
		cl.Close()
		return h
	}
	if h := consume("slowc"); h.max() <= 0 {
		t.Fatalf("slow consumer not throttled: %v", h.got)
	}
	if h := consume("fastc"); len(h.got) != 0 {
		t.Fatalf("fast consumer throttled: %v", h.got)
	}
}

// TestClientQuotaThrottleRawProduce reads ThrottleMillis from raw produce
// responses, v9 (KIP-219: answered at once, then the connection is
// muted) and v5 (answered after the throttle time), under a (user,
// client-id) quota of the unauthenticated user ANONYMOUS; another client
// id of the same user has no quota and reads 0.
func TestClientQuotaThrottleRawProduce(t *testing.T) {
	tb := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	createTopic(t, tb.addr, "raw", 1, nil)
	adm := newAdmin(t, tb.addr)
	res, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{
		{Entity: kadm.ClientQuotaEntity{{Type: "user", Name: strp("ANONYMOUS")}, {Type: "client-id", Name: strp("raw")}}, Ops: []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: 1024}}},
	})
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	// One batch of 20 KiB, taken from what a producer writes.
	src := newClient(t, tb.addr, kgo.DefaultProduceTopic("raw"), kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxVersions(kversion.V2_8_0()))
	if err := src.ProduceSync(ctx, &kgo.Record{Value: bytes.Repeat([]byte("y"), 20<<10)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fr := kmsg.NewPtrFetchRequest()
	fr.MaxWaitMillis, fr.MaxBytes = 0, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "raw"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	fr.Topics = append(fr.Topics, ft)
	fresp, err := fr.RequestWith(ctx, src)
	if err != nil || len(fresp.Topics) != 1 || len(fresp.Topics[0].Partitions[0].RecordBatches) == 0 {
		t.Fatal(err, fresp)
	}
	batch := fresp.Topics[0].Partitions[0].RecordBatches

	for _, tc := range []struct {
		id      string
		version int16
		want    bool
	}{{"raw", 9, true}, {"raw", 5, true}, {"other", 9, false}} {
		vs := kversion.V2_8_0()
		if tc.version == 5 {
			vs = kversion.V1_0_0()
		}
		cl := newClient(t, tb.addr, kgo.ClientID(tc.id), kgo.MaxVersions(vs))
		got := int32(0)
		for range 2 { // the second, at least, is over the quota
			req := kmsg.NewPtrProduceRequest()
			req.Acks, req.TimeoutMillis = -1, 5000
			rt := kmsg.NewProduceRequestTopic()
			rt.Topic = "raw"
			rp := kmsg.NewProduceRequestTopicPartition()
			rp.Records = batch
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
				t.Fatalf("%s v%d: %v", tc.id, tc.version, kerr.ErrorForCode(code))
			}
			if resp.Version != tc.version {
				t.Fatalf("produce v%d sent, want v%d", resp.Version, tc.version)
			}
			got = max(got, resp.ThrottleMillis)
		}
		if (got > 0) != tc.want {
			t.Errorf("client %s v%d: ThrottleMillis %d", tc.id, tc.version, got)
		}
		cl.Close()
	}
}

// TestClientQuotaPrecedenceAndRate checks Kafka's order of quota entities
// and the sampled rate's throttle time.
func TestClientQuotaPrecedenceAndRate(t *testing.T) {
	s := &quotaStore{quotas: map[quotaEntity]map[string]float64{}, sensors: map[sensorKey]*rateSensor{}}
	name := func(n string) quotaPart { return quotaPart{Set: true, Name: n} }
	def := quotaPart{Set: true, Default: true}
	steps := []struct {
		e    quotaEntity
		want sensorKey
	}{
		{quotaEntity{Client: def}, sensorKey{producerByteRate, "", "app"}},
		{quotaEntity{Client: name("app")}, sensorKey{producerByteRate, "", "app"}},
		{quotaEntity{User: def}, sensorKey{producerByteRate, "alice", ""}},
		{quotaEntity{def, def}, sensorKey{producerByteRate, "alice", "app"}},
		{quotaEntity{def, name("app")}, sensorKey{producerByteRate, "alice", "app"}},
		{quotaEntity{User: name("alice")}, sensorKey{producerByteRate, "alice", ""}},
		{quotaEntity{name("alice"), def}, sensorKey{producerByteRate, "alice", "app"}},
		{quotaEntity{name("alice"), name("app")}, sensorKey{producerByteRate, "alice", "app"}},
	}
	for i, st := range steps {
		// Each more specific entity takes over from the ones before.
		if msg, err := s.alter(st.e, []quotaOp{{key: producerByteRate, value: float64(i + 1)}}, false); msg != "" || err != nil {
			t.Fatal(msg, err)
		}
		bound, k, ok := s.quotaFor(producerByteRate, "alice", "app")
		if !ok || bound != float64(i+1) || k != st.want {
			t.Fatalf("step %d (%s): bound %v key %+v", i, st.e, bound, k)
		}
		if _, _, ok := s.quotaFor(consumerByteRate, "alice", "app"); ok {
			t.Fatal("consumer quota found")
		}
	}
	if bound, _, _ := s.quotaFor(producerByteRate, "bob", "other"); bound != 4 { // users/<default>/clients/<default>
		t.Fatalf("bob: %v", bound)
	}

	// Kafka's rate: the first window is counted as 10 whole samples;
	// 20480 bytes at once against 1024/s is 2048/s, a throttle of
	// (2048-1024)/1024*10s capped at one sample window.
	var r rateSensor
	if d := r.record(10240, 1000, 1024); d != 0 {
		t.Fatalf("at the quota: %v", d)
	}
	if d := r.record(10240, 1000, 1024); d != quotaWindowSize {
		t.Fatalf("over: %v", d)
	}
	var r2 rateSensor
	if d := r2.record(11264, 1000, 1024); d != 1000*time.Millisecond {
		t.Fatalf("10%% over: %v", d) // (1126.4-1024)/1024*10000 = 1000
	}
	var r3 rateSensor
	if d := r3.record(10752, 1000, 1024); d != 500*time.Millisecond {
		t.Fatalf("5%% over: %v", d)
	}
	// After the whole window has passed, the old samples are forgotten.
	if d := r3.record(1, 1000+quotaWindowNum*1000, 1024); d != 0 {
		t.Fatalf("later: %v", d)
	}
}

// TestClientQuotasACL: DescribeClientQuotas needs DESCRIBE_CONFIGS on the
// cluster and AlterClientQuotas ALTER_CONFIGS, else
// CLUSTER_AUTHORIZATION_FAILED.
func TestClientQuotasACL(t *testing.T) {
	tb := startBroker(t, aclProps()...)
	ctx := testCtx(t, 60*time.Second)
	admin := kadm.NewClient(aclClient(t, tb.addr, "admin"))
	alice := kadm.NewClient(aclClient(t, tb.addr, "alice"))
	entry := []kadm.AlterClientQuotaEntry{{Entity: kadm.ClientQuotaEntity{{Type: "user", Name: strp("alice")}}, Ops: []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: 1e6}}}}
	if _, err := alice.DescribeClientQuotas(ctx, false, nil); !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("describe: %v", err)
	}
	res, err := alice.AlterClientQuotas(ctx, entry)
	if err != nil || len(res) != 1 || !errors.Is(res[0].Err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alter: %v %+v", err, res)
	}
	acl := kadm.NewACLs().Allow("User:alice").AllowHosts().Clusters().Operations(kadm.OpDescribeConfigs, kadm.OpAlterConfigs).ResourcePatternType(kadm.ACLPatternLiteral)
	if r, err := admin.CreateACLs(ctx, acl); err != nil || r[0].Err != nil {
		t.Fatal(err, r)
	}
	res, err = alice.AlterClientQuotas(ctx, entry)
	if err != nil || res[0].Err != nil {
		t.Fatalf("alter allowed: %v %+v", err, res)
	}
	qs, err := alice.DescribeClientQuotas(ctx, false, nil)
	if err != nil || len(qs) != 1 {
		t.Fatalf("describe allowed: %v %v", qs, err)
	}
}
