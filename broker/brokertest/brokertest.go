// Package brokertest starts the bundled broker for tests of other
// packages, which then reach it over TCP like any cluster.
package brokertest

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/broker"
	"github.com/tributary-io/tributary/config"
)

// Start starts the bundled broker on a free port of 127.0.0.1 with its data
// in t.TempDir(), and closes it when the test ends. props are "key=value"
// server.properties entries on top of those defaults (for example
// "num.partitions=3"); group.initial.rebalance.delay.ms is 0.
func Start(t testing.TB, props ...string) *broker.Broker {
	t.Helper()
	m := map[string]string{
		"listeners":                        "PLAINTEXT://127.0.0.1:0",
		"log.dirs":                         t.TempDir(),
		"group.initial.rebalance.delay.ms": "0",
	}
	for _, kv := range props {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("broker property %q is not key=value", kv)
		}
		m[k] = v
	}
	vals, err := broker.Definitions().Parse(config.FromMap("test broker", m))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := broker.ParseConfig(vals)
	if err != nil {
		t.Fatal(err)
	}
	// Its own level, at INFO, as `tributary broker` has: BROKER_LOGGER
	// configs read and change it. The lines go nowhere.
	level := new(slog.LevelVar)
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level}))
	cfg.LogLevel = level
	b, err := broker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	return b
}
