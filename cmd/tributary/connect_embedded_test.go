package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/broker"
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
	for _, k := range workerDef().Keys() {
		got = append(got, k.Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("worker file keys %v, want %v", got, want)
	}
	if workerDef().Name() != "worker" {
		t.Errorf("definition set %q, want worker", workerDef().Name())
	}
	vals, err := workerDef().Parse(config.FromMap("w.properties", map[string]string{
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
		return workerDef().Parse(config.FromMap("w.properties", props))
	}
	vals, err := parse(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := embeddedBrokerConfig(vals, offsets)
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
	if cfg, _, err = embeddedBrokerConfig(vals, offsets); err != nil {
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
		if _, _, err := embeddedBrokerConfig(vals, offsets); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: error %v, want it to say %q", tc.key, tc.value, err, tc.want)
		}
	}
}
