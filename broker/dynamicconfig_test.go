package broker

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// configsOf describes one resource and returns its configs by name.
func configsOf(t *testing.T, cl *kgo.Client, typ kmsg.ConfigResourceType, name string) map[string]kmsg.DescribeConfigsResponseResourceConfig {
	t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.IncludeSynonyms = true
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = typ, name
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Resources[0]
	if r.ErrorCode != 0 {
		t.Fatalf("describe %v %q: code %d %v", typ, name, r.ErrorCode, r.ErrorMessage)
	}
	out := map[string]kmsg.DescribeConfigsResponseResourceConfig{}
	for _, c := range r.Configs {
		out[c.Name] = c
	}
	return out
}

func valueOf(c kmsg.DescribeConfigsResponseResourceConfig) string {
	if c.Value == nil {
		return "<nil>"
	}
	return *c.Value
}

func wantConfig(t *testing.T, cfgs map[string]kmsg.DescribeConfigsResponseResourceConfig, name, value string, src kmsg.ConfigSource) {
	t.Helper()
	c, ok := cfgs[name]
	if !ok {
		t.Fatalf("%s not described", name)
	}
	if valueOf(c) != value || c.Source != src {
		t.Fatalf("%s = %q from %v, want %q from %v", name, valueOf(c), c.Source, value, src)
	}
}

func alterErr(t *testing.T, rs kadm.AlterConfigsResponses, err error) error {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("%d responses", len(rs))
	}
	if rs[0].Err != nil {
		return &alterError{rs[0].Err, rs[0].ErrMessage}
	}
	return nil
}

type alterError struct {
	err error
	msg string
}

func (e *alterError) Error() string {
	var ke *kerr.Error
	if errors.As(e.err, &ke) {
		return ke.Message + ": " + e.msg
	}
	return e.err.Error() + ": " + e.msg
}

// TestAlterConfigsLegacyTopic: AlterConfigs (33) replaces a topic's
// whole set of configs, through kadm's AlterTopicConfigsState.
func TestAlterConfigsLegacyTopic(t *testing.T) {
	tb := startBroker(t)
	ctx := testCtx(t, 30*time.Second)
	createTopic(t, tb.addr, "legacy", 1, map[string]*string{"retention.ms": strPtr("1000"), "segment.bytes": strPtr("100000")})
	cl := newClient(t, tb.addr, kgo.ProducerBatchCompression(kgo.NoCompression()))
	adm := kadm.NewClient(cl)

	// validate only: nothing changes.
	rs, err := adm.ValidateAlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: strPtr("200")}}, "legacy")
	if err := alterErr(t, rs, err); err != nil {
		t.Fatal(err)
	}
	cfgs := configsOf(t, cl, kmsg.ConfigResourceTypeTopic, "legacy")
	wantConfig(t, cfgs, "retention.ms", "1000", kmsg.ConfigSourceDynamicTopicConfig)

	rs, err = adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: strPtr("200")}, {Name: "cleanup.policy", Value: strPtr("Delete,Compact")}}, "legacy")
	if err := alterErr(t, rs, err); err != nil {
		t.Fatal(err)
	}
	cfgs = configsOf(t, cl, kmsg.ConfigResourceTypeTopic, "legacy")
	wantConfig(t, cfgs, "max.message.bytes", "200", kmsg.ConfigSourceDynamicTopicConfig)
	wantConfig(t, cfgs, "cleanup.policy", "delete,compact", kmsg.ConfigSourceDynamicTopicConfig)
	wantConfig(t, cfgs, "retention.ms", "604800000", kmsg.ConfigSourceDefaultConfig) // not given: reverted
	wantConfig(t, cfgs, "segment.bytes", "1073741824", kmsg.ConfigSourceDefaultConfig)
	err = cl.ProduceSync(ctx, &kgo.Record{Topic: "legacy", Value: make([]byte, 500)}).FirstErr()
	if err == nil || !strings.Contains(err.Error(), "MESSAGE_TOO_LARGE") {
		t.Fatalf("500 bytes after max.message.bytes=200: %v", err)
	}

	for _, c := range []struct {
		cfg  kadm.AlterConfig
		want string
	}{
		{kadm.AlterConfig{Name: "segment.bytes", Value: strPtr("-5")}, "INVALID_CONFIG: invalid value -5 for configuration segment.bytes"},
		{kadm.AlterConfig{Name: "no.such.config", Value: strPtr("1")}, "INVALID_CONFIG: unknown topic config name: no.such.config"},
	} {
		rs, err = adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{c.cfg}, "legacy")
		if err := alterErr(t, rs, err); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s=%s: %v, want %s", c.cfg.Name, *c.cfg.Value, err, c.want)
		}
	}
	rs, err = adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: strPtr("5")}}, "missing")
	if err := alterErr(t, rs, err); err == nil || !strings.Contains(err.Error(), "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Fatalf("unknown topic: %v", err)
	}

	// Unsupported resource types and duplicates, with the raw request.
	req := kmsg.NewPtrAlterConfigsRequest()
	for _, r := range []struct {
		typ  kmsg.ConfigResourceType
		name string
	}{{kmsg.ConfigResourceTypeBrokerLogger, "1"}, {kmsg.ConfigResourceTypeClientMetrics, "sub"}, {kmsg.ConfigResourceTypeTopic, "dup"}, {kmsg.ConfigResourceTypeTopic, "dup"}} {
		rr := kmsg.NewAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = r.typ, r.name
		req.Resources = append(req.Resources, rr)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp.Resources {
		if r.ErrorCode != kerr.InvalidRequest.Code {
			t.Fatalf("%v %q: code %d", r.ResourceType, r.ResourceName, r.ErrorCode)
		}
	}

	// Persisted in topics.json.
	tb.restart()
	cl = newClient(t, tb.addr)
	cfgs = configsOf(t, cl, kmsg.ConfigResourceTypeTopic, "legacy")
	wantConfig(t, cfgs, "max.message.bytes", "200", kmsg.ConfigSourceDynamicTopicConfig)
	wantConfig(t, cfgs, "retention.ms", "604800000", kmsg.ConfigSourceDefaultConfig)
}

// TestAlterConfigsDynamicBroker: IncrementalAlterConfigs on BROKER
// resources changes the dynamic broker configs, which take effect at once,
// are described with their sources and survive a restart.
func TestAlterConfigsDynamicBroker(t *testing.T) {
	tb := startBroker(t, "log.retention.hours=48")
	ctx := testCtx(t, 30*time.Second)
	createTopic(t, tb.addr, "plain", 1, nil)
	createTopic(t, tb.addr, "own", 1, map[string]*string{"max.message.bytes": strPtr("100000")})
	cl := newClient(t, tb.addr, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerBatchMaxBytes(1<<20))
	adm := kadm.NewClient(cl)
	produce := func(topic string, n int) error {
		return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: make([]byte, n)}).FirstErr()
	}
	if err := produce("plain", 2000); err != nil {
		t.Fatal(err)
	}

	// message.max.bytes for this broker: live for topics without their own.
	rs, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "message.max.bytes", Value: strPtr("1000")}}, 1)
	if err := alterErr(t, rs, err); err != nil {
		t.Fatal(err)
	}
	if err := produce("plain", 2000); err == nil || !strings.Contains(err.Error(), "MESSAGE_TOO_LARGE") {
		t.Fatalf("2000 bytes after message.max.bytes=1000: %v", err)
	}
	if err := produce("own", 2000); err != nil {
		t.Fatalf("a topic with its own max.message.bytes: %v", err)
	}
	// The cluster default: log.retention.ms over server.properties' hours.
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: strPtr("5000")}})
	if err := alterErr(t, rs, err); err != nil {
		t.Fatal(err)
	}
	topic := configsOf(t, cl, kmsg.ConfigResourceTypeTopic, "plain")
	wantConfig(t, topic, "retention.ms", "5000", kmsg.ConfigSourceDynamicDefaultBrokerConfig)
	wantConfig(t, topic, "max.message.bytes", "1000", kmsg.ConfigSourceDynamicBrokerConfig)
	if opts := tb.b.topics().byName["plain"].parts[0].log.Options(); opts.RetentionTime != 5*time.Second || opts.MaxMessageBytes != 1000 {
		t.Fatalf("log options %v %d", opts.RetentionTime, opts.MaxMessageBytes)
	}
	var syn []string
	for _, s := range topic["retention.ms"].ConfigSynonyms {
		syn = append(syn, s.Name+"="+valueOf(kmsg.DescribeConfigsResponseResourceConfig{Value: s.Value})+"/"+s.Source.String())
	}
	if got := strings.Join(syn, " "); got != "log.retention.ms=5000/DYNAMIC_DEFAULT_BROKER_CONFIG log.retention.hours=48/STATIC_BROKER_CONFIG log.retention.hours=168/DEFAULT_CONFIG" {
		t.Fatalf("retention.ms synonyms: %s", got)
	}

	check := func(cl *kgo.Client) {
		t.Helper()
		node := configsOf(t, cl, kmsg.ConfigResourceTypeBroker, "1")
		wantConfig(t, node, "message.max.bytes", "1000", kmsg.ConfigSourceDynamicBrokerConfig)
		wantConfig(t, node, "log.retention.ms", "5000", kmsg.ConfigSourceDynamicDefaultBrokerConfig)
		wantConfig(t, node, "log.retention.hours", "48", kmsg.ConfigSourceStaticBrokerConfig)
		if node["message.max.bytes"].ReadOnly || !node["log.retention.hours"].ReadOnly {
			t.Fatal("read-only flags")
		}
		var syn []string
		for _, s := range node["log.retention.ms"].ConfigSynonyms {
			syn = append(syn, s.Name+"/"+s.Source.String())
		}
		if got := strings.Join(syn, " "); got != "log.retention.ms/DYNAMIC_DEFAULT_BROKER_CONFIG log.retention.hours/STATIC_BROKER_CONFIG log.retention.hours/DEFAULT_CONFIG" {
			t.Fatalf("log.retention.ms synonyms: %s", got)
		}
		def := configsOf(t, cl, kmsg.ConfigResourceTypeBroker, "")
		wantConfig(t, def, "message.max.bytes", "1048588", kmsg.ConfigSourceDefaultConfig)
		wantConfig(t, def, "log.retention.ms", "5000", kmsg.ConfigSourceDynamicDefaultBrokerConfig)
		bc, err := kadm.NewClient(cl).DescribeBrokerConfigs(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range bc[0].Configs {
			if c.Key == "message.max.bytes" {
				found = c.MaybeValue() == "1000" && c.Source == kmsg.ConfigSourceDynamicBrokerConfig
			}
		}
		if !found {
			t.Fatal("kadm DescribeBrokerConfigs: message.max.bytes not dynamic")
		}
	}
	check(cl)

	// Refusals.
	for _, c := range []struct {
		cfgs   []kadm.AlterConfig
		broker []int32
		want   string
	}{
		{[]kadm.AlterConfig{{Name: "num.partitions", Value: strPtr("3")}, {Name: "log.retention.hours", Value: strPtr("1")}}, nil,
			"INVALID_CONFIG: Cannot update these configs dynamically: [log.retention.hours, num.partitions]"},
		{[]kadm.AlterConfig{{Name: "message.max.bytes", Value: strPtr("lots")}}, []int32{1},
			"INVALID_CONFIG: Invalid value lots for configuration message.max.bytes: is not a number"},
		{[]kadm.AlterConfig{{Name: "max.connections", Value: strPtr("0")}}, []int32{1},
			"INVALID_CONFIG: Invalid value 0 for configuration max.connections: must be at least 1"},
		{[]kadm.AlterConfig{{Name: "message.max.bytes", Value: strPtr("5")}}, []int32{7},
			"Unexpected broker id, expected 1 or empty string, but received 7"},
	} {
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		rr := kmsg.NewIncrementalAlterConfigsRequestResource()
		rr.ResourceType = kmsg.ConfigResourceTypeBroker
		if len(c.broker) > 0 {
			rr.ResourceName = "7"
			if c.broker[0] == 1 {
				rr.ResourceName = "1"
			}
		}
		for _, a := range c.cfgs {
			rc := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			rc.Name, rc.Value = a.Name, a.Value
			rr.Configs = append(rr.Configs, rc)
		}
		req.Resources = append(req.Resources, rr)
		resp, err := req.RequestWith(ctx, cl.Broker(1)) // kgo would route broker 7's to broker 7
		if err != nil {
			t.Fatal(err)
		}
		r := resp.Resources[0]
		got := ""
		if r.ErrorMessage != nil {
			got = *r.ErrorMessage
		}
		if r.ErrorCode == 0 || !strings.Contains(kmsgErr(r.ErrorCode)+": "+got, c.want) {
			t.Fatalf("%v: %d %s, want %s", c.cfgs, r.ErrorCode, got, c.want)
		}
	}
	rs, err = adm.ValidateAlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "message.max.bytes", Value: strPtr("5")}}, 1)
	if err := alterErr(t, rs, err); err != nil {
		t.Fatal(err)
	}
	check(cl)

	// Persisted: a restart reads them back over server.properties.
	if _, err := os.Stat(filepath.Join(tb.dir, dynamicConfigsFile)); err != nil {
		t.Fatal(err)
	}
	tb.restart()
	cl = newClient(t, tb.addr, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerBatchMaxBytes(1<<20))
	check(cl)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "plain", Value: make([]byte, 2000)}).FirstErr(); err == nil || !strings.Contains(err.Error(), "MESSAGE_TOO_LARGE") {
		t.Fatalf("after restart, 2000 bytes: %v", err)
	}

	// DELETE reverts to the next layer, live.
	adm = kadm.NewClient(cl)
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "message.max.bytes"}}, 1)
	if err := alterErr(t, rs, err); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "plain", Value: make([]byte, 2000)}).FirstErr(); err != nil {
		t.Fatalf("after DELETE message.max.bytes: %v", err)
	}
	topic = configsOf(t, cl, kmsg.ConfigResourceTypeTopic, "plain")
	wantConfig(t, topic, "max.message.bytes", "1048588", kmsg.ConfigSourceDefaultConfig)
}

func kmsgErr(code int16) string {
	if err := kerr.TypedErrorForCode(code); err != nil {
		return err.Message
	}
	return "no error"
}

// TestAlterConfigsLegacyBroker: AlterConfigs (33) on BROKER resources,
// through kadm's AlterBrokerConfigsState and sarama: the set given
// replaces the resource's dynamic configs.
func TestAlterConfigsLegacyBroker(t *testing.T) {
	tb := startBroker(t)
	ctx := testCtx(t, 30*time.Second)
	cl := newClient(t, tb.addr)
	adm := kadm.NewClient(cl)
	rs, err := adm.AlterBrokerConfigsState(ctx, []kadm.AlterConfig{{Name: "log.retention.bytes", Value: strPtr("123456")}, {Name: "log.segment.bytes", Value: strPtr("65536")}})
	if err := alterErr(t, rs, err); err != nil {
		t.Fatal(err)
	}
	rs, err = adm.AlterBrokerConfigsState(ctx, []kadm.AlterConfig{{Name: "log.roll.ms", Value: strPtr("60000")}}, 1)
	if err := alterErr(t, rs, err); err != nil {
		t.Fatal(err)
	}
	node := configsOf(t, cl, kmsg.ConfigResourceTypeBroker, "1")
	wantConfig(t, node, "log.retention.bytes", "123456", kmsg.ConfigSourceDynamicDefaultBrokerConfig)
	wantConfig(t, node, "log.roll.ms", "60000", kmsg.ConfigSourceDynamicBrokerConfig)

	// The whole set is replaced: log.segment.bytes goes back to its default.
	rs, err = adm.AlterBrokerConfigsState(ctx, []kadm.AlterConfig{{Name: "log.retention.bytes", Value: strPtr("654321")}})
	if err := alterErr(t, rs, err); err != nil {
		t.Fatal(err)
	}
	rs, err = adm.AlterBrokerConfigsState(ctx, []kadm.AlterConfig{{Name: "auto.create.topics.enable", Value: strPtr("false")}}, 1)
	if err := alterErr(t, rs, err); err == nil || !strings.Contains(err.Error(), "Cannot update these configs dynamically: [auto.create.topics.enable]") {
		t.Fatalf("auto.create.topics.enable: %v", err)
	}
	node = configsOf(t, cl, kmsg.ConfigResourceTypeBroker, "1")
	wantConfig(t, node, "log.retention.bytes", "654321", kmsg.ConfigSourceDynamicDefaultBrokerConfig)
	wantConfig(t, node, "log.segment.bytes", "1073741824", kmsg.ConfigSourceDefaultConfig)
	wantConfig(t, node, "log.roll.ms", "60000", kmsg.ConfigSourceDynamicBrokerConfig)

	// sarama's ClusterAdmin.AlterConfig is AlterConfigs too.
	scfg := sarama.NewConfig()
	scfg.Version = sarama.V2_8_0_0
	sa, err := sarama.NewClusterAdmin([]string{tb.addr}, scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	if err := sa.CreateTopic("sar", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
	if err := sa.AlterConfig(sarama.TopicResource, "sar", map[string]*string{"retention.ms": strPtr("86400000")}, false); err != nil {
		t.Fatal(err)
	}
	if err := sa.AlterConfig(sarama.BrokerResource, "1", map[string]*string{"max.connections.per.ip": strPtr("500")}, false); err != nil {
		t.Fatal(err)
	}
	err = sa.AlterConfig(sarama.BrokerResource, "1", map[string]*string{"listeners": strPtr("PLAINTEXT://:1")}, false)
	if err == nil || !strings.Contains(err.Error(), "Cannot update these configs dynamically: [listeners]") {
		t.Fatalf("sarama listeners: %v", err)
	}
	topic := configsOf(t, cl, kmsg.ConfigResourceTypeTopic, "sar")
	wantConfig(t, topic, "retention.ms", "86400000", kmsg.ConfigSourceDynamicTopicConfig)
	wantConfig(t, topic, "retention.bytes", "654321", kmsg.ConfigSourceDynamicDefaultBrokerConfig)
	node = configsOf(t, cl, kmsg.ConfigResourceTypeBroker, "1")
	wantConfig(t, node, "max.connections.per.ip", "500", kmsg.ConfigSourceDynamicBrokerConfig)
	wantConfig(t, node, "log.roll.ms", "<nil>", kmsg.ConfigSourceDefaultConfig) // replaced by sarama's set
	tb.b.connMu.Lock()
	perIP := tb.b.cfg.MaxConnectionsPerIP
	tb.b.connMu.Unlock()
	if perIP != 500 {
		t.Fatalf("max.connections.per.ip in effect: %d", perIP)
	}
}

// TestAlterConfigsMaxConnectionsLive: lowering max.connections makes new
// connections wait; raising it lets a waiting one in, without a restart.
func TestAlterConfigsMaxConnectionsLive(t *testing.T) {
	tb := startBroker(t)
	ctx := testCtx(t, 30*time.Second)
	cl := newClient(t, tb.addr)
	adm := kadm.NewClient(cl)
	set := func(v string) {
		t.Helper()
		rs, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "max.connections", Value: &v}}, 1)
		if err := alterErr(t, rs, err); err != nil {
			t.Fatal(err)
		}
	}
	set("1") // the admin's connections stay open
	apiVersions := func(c net.Conn) {
		t.Helper()
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = 0
		if _, err := c.Write(kmsg.NewRequestFormatter(kmsg.FormatterClientID("t")).AppendRequest(nil, req, 7)); err != nil {
			t.Fatal(err)
		}
	}
	// The listener reserved its slot before the change: one more
	// connection is served, as Kafka accepts before it counts.
	first, err := net.Dial("tcp", tb.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	apiVersions(first)
	first.SetReadDeadline(time.Now().Add(20 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(first, size[:]); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", tb.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	apiVersions(c)
	// Not answered while the broker is at max.connections (the assertion
	// of an absence needs a bound).
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := io.ReadFull(c, size[:]); err == nil {
		t.Fatal("a connection beyond max.connections=1 was served")
	}
	set("1000")
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, size[:]); err != nil {
		t.Fatalf("after max.connections=1000: %v", err)
	}
}

// TestDescribeConfigsClientMetrics: a CLIENT_METRICS resource without a
// subscription is described with Kafka's defaults, not refused.
func TestDescribeConfigsClientMetrics(t *testing.T) {
	tb := startBroker(t)
	cl := newClient(t, tb.addr)
	cfgs := configsOf(t, cl, kmsg.ConfigResourceTypeClientMetrics, "my-subscription")
	wantConfig(t, cfgs, "interval.ms", "300000", kmsg.ConfigSourceDefaultConfig)
	wantConfig(t, cfgs, "metrics", "", kmsg.ConfigSourceDefaultConfig)
	wantConfig(t, cfgs, "match", "", kmsg.ConfigSourceDefaultConfig)
	if len(cfgs) != 3 {
		t.Fatalf("%d configs", len(cfgs))
	}
	req := kmsg.NewPtrDescribeConfigsRequest()
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType = kmsg.ConfigResourceTypeClientMetrics
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Resources[0].ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("empty name: code %d", resp.Resources[0].ErrorCode)
	}
}
