package broker

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestBrokerLoggers: kafka-configs.sh --broker-logger against the broker.
// DescribeConfigs lists the root logger at the process's level; a SET
// changes the level the broker logs at, in Kafka's level names; what Kafka
// refuses (another logger, a level that is not one, DELETE of root,
// APPEND, another node id) is refused with Kafka's errors and changes
// nothing; validate-only changes nothing.
func TestBrokerLoggers(t *testing.T) {
	cfg := brokerConfig(t, t.TempDir())
	level := new(slog.LevelVar)
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level}))
	cfg.LogLevel = level
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	cl := newClient(t, b.Addr())

	describe := func(name string) (string, error) {
		t.Helper()
		req := kmsg.NewPtrDescribeConfigsRequest()
		rr := kmsg.NewDescribeConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeBrokerLogger, name
		req.Resources = append(req.Resources, rr)
		kresp, err := cl.Broker(1).Request(ctx, req) // to this node, whatever the name
		if err != nil {
			t.Fatal(err)
		}
		r := kresp.(*kmsg.DescribeConfigsResponse).Resources[0]
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return "", err
		}
		if len(r.Configs) != 1 || r.Configs[0].Name != "root" || r.Configs[0].Source != kmsg.ConfigSourceDynamicBrokerLoggerConfig {
			t.Fatalf("configs %+v, want root alone, DYNAMIC_BROKER_LOGGER_CONFIG", r.Configs)
		}
		return *r.Configs[0].Value, nil
	}
	alter := func(validateOnly bool, name string, op kmsg.IncrementalAlterConfigOp, logger, value string) error {
		t.Helper()
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.ValidateOnly = validateOnly
		rr := kmsg.NewIncrementalAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeBrokerLogger, name
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Op, c.Value = logger, op, &value
		rr.Configs = append(rr.Configs, c)
		req.Resources = append(req.Resources, rr)
		kresp, err := cl.Broker(1).Request(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return kerr.ErrorForCode(kresp.(*kmsg.IncrementalAlterConfigsResponse).Resources[0].ErrorCode)
	}

	if v, err := describe("1"); err != nil || v != "INFO" {
		t.Fatalf("root is %q, %v; want INFO", v, err)
	}
	if err := alter(false, "1", kmsg.IncrementalAlterConfigOpSet, "root", "debug"); err != nil {
		t.Fatal(err)
	}
	if level.Level() != slog.LevelDebug || !b.log.Enabled(ctx, slog.LevelDebug) {
		t.Fatalf("level %v after SET root=DEBUG", level.Level())
	}
	if v, _ := describe("1"); v != "DEBUG" {
		t.Fatalf("root is %q after SET, want DEBUG", v)
	}
	if err := alter(true, "1", kmsg.IncrementalAlterConfigOpSet, "root", "OFF"); err != nil || level.Level() != slog.LevelDebug {
		t.Fatalf("validate-only: %v, level %v", err, level.Level())
	}
	if err := alter(false, "1", kmsg.IncrementalAlterConfigOpSet, "root", "OFF"); err != nil {
		t.Fatal(err)
	}
	if v, _ := describe("1"); v != "OFF" || b.log.Enabled(ctx, slog.LevelError) {
		t.Fatalf("root is %q after SET OFF (errors logged: %v)", v, b.log.Enabled(ctx, slog.LevelError))
	}
	for _, c := range []struct {
		name, logger, value string
		op                  kmsg.IncrementalAlterConfigOp
		want                error
	}{
		{"1", "kafka.server.KafkaApis", "INFO", kmsg.IncrementalAlterConfigOpSet, kerr.InvalidConfig},
		{"1", "root", "LOUD", kmsg.IncrementalAlterConfigOpSet, kerr.InvalidConfig},
		{"1", "root", "", kmsg.IncrementalAlterConfigOpDelete, kerr.InvalidConfig},
		{"1", "root", "INFO", kmsg.IncrementalAlterConfigOpAppend, kerr.InvalidRequest},
		{"2", "root", "INFO", kmsg.IncrementalAlterConfigOpSet, kerr.InvalidRequest},
		{"", "root", "INFO", kmsg.IncrementalAlterConfigOpSet, kerr.InvalidRequest},
	} {
		if err := alter(false, c.name, c.op, c.logger, c.value); err != c.want {
			t.Errorf("%s %s %s=%s on %q: %v, want %v", c.op, c.logger, c.logger, c.value, c.name, err, c.want)
		}
	}
	if v, _ := describe("1"); v != "OFF" {
		t.Fatalf("root is %q after refused changes, want OFF", v)
	}
	if _, err := describe("2"); err != kerr.InvalidRequest {
		t.Fatalf("describe broker-logger 2: %v, want INVALID_REQUEST", err)
	}
}

// TestBrokerLoggersNotOwned: without Config.LogLevel the root logger's
// level is read from the logger and a SET is refused.
func TestBrokerLoggersNotOwned(t *testing.T) {
	tb := startBroker(t)
	cl := newClient(t, tb.addr)
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	rr := kmsg.NewIncrementalAlterConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeBrokerLogger, "1"
	c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	v := "DEBUG"
	c.Name, c.Op, c.Value = "root", kmsg.IncrementalAlterConfigOpSet, &v
	rr.Configs = append(rr.Configs, c)
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.Resources[0].ErrorCode); err != kerr.InvalidRequest {
		t.Fatalf("SET without a level of its own: %v, want INVALID_REQUEST", err)
	}
}
