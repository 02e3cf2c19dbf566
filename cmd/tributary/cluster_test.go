package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tributary-io/tributary/broker"
	"github.com/tributary-io/tributary/config"
)

// startKfake starts franz-go's kfake, an independent implementation of the
// Kafka protocol, on a free port and returns its address. Tests run the same
// client-facing suite against it and against the bundled broker, to show the
// tools work against a broker this project did not write.
func startKfake(t testing.TB, opts ...kfake.Opt) string {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation()}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// startBroker starts the bundled broker in-process on a free port of
// 127.0.0.1, with its data in t.TempDir(), and returns its address. props
// are "key=value" server.properties entries on top of those defaults (for
// example "num.partitions=3"). The broker is closed when the test ends.
func startBroker(t testing.TB, props ...string) string {
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
	return b.Addr()
}

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
	binaryDir  string
)

// TestMain removes the binary built for end-to-end tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// tributaryBinary builds the real tributary binary once per test run (with
// the race detector when the tests run with it) and returns its path.
func tributaryBinary(t testing.TB) string {
	t.Helper()
	binaryOnce.Do(func() {
		binaryDir, binaryErr = os.MkdirTemp("", "tributary-bin-")
		if binaryErr != nil {
			return
		}
		binaryPath = filepath.Join(binaryDir, "tributary")
		args := []string{"build", "-o", binaryPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			binaryErr = &buildError{err: err, out: string(out)}
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }
