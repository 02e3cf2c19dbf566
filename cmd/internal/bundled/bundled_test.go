package bundled

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/broker"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

// TestWorkerDefEmbeddedKeys: the worker file's definitions are connect's
// worker keys and the broker's embedded keys, nothing else; broker.* keys
// other than those two stay unknown to the worker (they are server
// properties of the bundled broker), as do keys nobody defines.
func TestWorkerDefEmbeddedKeys(t *testing.T) {
	var want []string
	for _, k := range connect.WorkerDef().Keys() {
		if strings.HasPrefix(k.Name, broker.EmbeddedPrefix) {
			t.Errorf("connect declares the broker key %s", k.Name)
		}
		want = append(want, k.Name)
	}
	for _, k := range broker.EmbeddedKeys() {
		want = append(want, k.Name)
	}
	var got []string
	for _, k := range WorkerDef().Keys() {
		got = append(got, k.Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("worker file keys %v, want %v", got, want)
	}
	if WorkerDef().Name() != "worker" {
		t.Errorf("definition set %q, want worker", WorkerDef().Name())
	}
	vals, err := WorkerDef().Parse(config.FromMap("w.properties", map[string]string{
		"offset.storage.file.filename": "x",
		"broker.listeners":             "PLAINTEXT://127.0.0.1:0",
		"broker.num.partitions":        "3",
		"no.such.key":                  "1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := vals.Unknown(), []string{"broker.num.partitions", "no.such.key"}; !slices.Equal(got, want) {
		t.Errorf("unknown keys %v, want %v", got, want)
	}
}

// TestEmbeddedBrokerConfig: the bundled broker listens on the broker's
// default address and keeps its data beside the offsets file unless the
// worker file's broker.* keys say otherwise; errors in those keys name
// them with their prefix.
func TestEmbeddedBrokerConfig(t *testing.T) {
	dir := t.TempDir()
	offsets := filepath.Join(dir, "connect.offsets")
	parse := func(props map[string]string) (*config.Values, error) {
		props["offset.storage.file.filename"] = offsets
		return WorkerDef().Parse(config.FromMap("w.properties", props))
	}
	vals, err := parse(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := Config(vals, offsets)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Listeners) != 1 || cfg.Listeners[0].String() != "PLAINTEXT://127.0.0.1:9092" {
		t.Errorf("default listeners %v", cfg.Listeners)
	}
	if want := filepath.Join(dir, "tributary-logs"); !slices.Equal(cfg.LogDirs, []string{want}) {
		t.Errorf("default log dirs %v, want %s", cfg.LogDirs, want)
	}
	if cfg.GroupInitialRebalanceDelay != 0 {
		t.Errorf("group.initial.rebalance.delay.ms %v, want 0", cfg.GroupInitialRebalanceDelay)
	}

	vals, err = parse(map[string]string{"broker.listeners": " ", "broker.log.dirs": filepath.Join(dir, "data"), "broker.num.partitions": "4",
		"broker.group.initial.rebalance.delay.ms": "50"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _, err = Config(vals, offsets); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Listeners) != 1 || cfg.Listeners[0].String() != "PLAINTEXT://127.0.0.1:9092" {
		t.Errorf("blank broker.listeners: %v, want the default", cfg.Listeners)
	}
	if !slices.Equal(cfg.LogDirs, []string{filepath.Join(dir, "data")}) || cfg.NumPartitions != 4 || cfg.GroupInitialRebalanceDelay != 50*time.Millisecond {
		t.Errorf("log dirs %v, partitions %d, delay %v", cfg.LogDirs, cfg.NumPartitions, cfg.GroupInitialRebalanceDelay)
	}

	// A key the broker's definitions refuse, and a listener its
	// configuration refuses.
	for _, tc := range []struct{ key, value, want string }{
		{"broker.num.partitions", "0", `w.properties: broker.num.partitions: "0" must be at least 1`},
		{"broker.listeners", "nonsense", `w.properties: broker.listeners: "nonsense" is not NAME://host:port`},
	} {
		vals, err := parse(map[string]string{tc.key: tc.value})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Config(vals, offsets); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: error %v, want it to say %q", tc.key, tc.value, err, tc.want)
		}
	}
}

// TestStartFindsBrokerThere: when a Kafka broker already answers on the
// bundled broker's port (the walkthrough's `tributary broker`, or kfake,
// a broker we did not write), Start uses it and says so; a port held by
// something that is not Kafka is an error naming the port and both ways
// out; a free port gets the bundled broker.
func TestStartFindsBrokerThere(t *testing.T) {
	dir := t.TempDir()
	offsets := filepath.Join(dir, "connect.offsets")
	worker := func(listener string) *config.Values {
		v, err := WorkerDef().Parse(config.FromMap("w.properties", map[string]string{
			"offset.storage.file.filename": offsets, "broker.listeners": listener}))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ctx := context.Background()
	for name, addr := range map[string]string{"tributary broker": kafkatest.StartBroker(t), "kfake": kafkatest.StartKfake(t)} {
		var logs kafkatest.Buffer
		b, err := Start(ctx, slog.New(slog.NewTextHandler(&logs, nil)), worker("PLAINTEXT://"+addr), offsets)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b.Addr != addr || !strings.Contains(logs.String(), "a Kafka broker already answers on "+addr) {
			t.Errorf("%s at %s: Start gave %s; log:\n%s", name, addr, b.Addr, logs.String())
		}
		if err := b.Close(ctx); err != nil {
			t.Errorf("%s: close: %v", name, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "tributary-logs")); err == nil {
			t.Fatalf("%s: the bundled broker was started beside it", name)
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // a server that accepts and says nothing; ends with ln
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	_, err = Start(ctx, slog.New(slog.DiscardHandler), worker("PLAINTEXT://"+ln.Addr().String()), offsets)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, want := range []string{ln.Addr().String() + " is in use by something that does not answer as a Kafka broker",
		"set bootstrap.servers to use the cluster that holds port " + port, "broker.listeners=PLAINTEXT://127.0.0.1:<port>"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Start on a port held by a non-Kafka server: %v\nwant it to say %q", err, want)
		}
	}

	b, err := Start(ctx, slog.New(slog.DiscardHandler), worker("PLAINTEXT://127.0.0.1:0"), offsets)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	kafkatest.CreateTopic(t, b.Addr, "here", 1)
	if _, err := os.Stat(filepath.Join(dir, "tributary-logs", "here-0")); err != nil {
		t.Fatalf("the bundled broker does not keep its data beside the offsets file: %v", err)
	}
}
