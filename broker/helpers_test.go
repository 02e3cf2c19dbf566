package broker

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/config"
)

var long = flag.Bool("long", false, "run the long variants of the broker tests")

// testBroker is an in-process broker over a folder that outlives it, so a
// test can restart it on the same data.
type testBroker struct {
	t     testing.TB
	dir   string
	props []string
	b     *Broker
	addr  string
}

// testLogger shows broker logs when TRIBUTARY_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("TRIBUTARY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}

func brokerConfig(t testing.TB, dir string, props ...string) Config {
	t.Helper()
	cfg, err := testConfig(dir, props...)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func testConfig(dir string, props ...string) (Config, error) {
	m := map[string]string{
		"listeners":                        "PLAINTEXT://127.0.0.1:0",
		"log.dirs":                         dir,
		"group.initial.rebalance.delay.ms": "0",
	}
	for _, kv := range props {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Config{}, fmt.Errorf("property %q is not key=value", kv)
		}
		m[k] = v
	}
	vals, err := Definitions().Parse(config.FromMap("test", m))
	if err != nil {
		return Config{}, err
	}
	cfg, err := ParseConfig(vals)
	cfg.Logger = testLogger()
	return cfg, err
}

// startBroker starts a broker with data in a new temporary folder.
func startBroker(t testing.TB, props ...string) *testBroker {
	t.Helper()
	return startBrokerIn(t, t.TempDir(), props...)
}

func startBrokerIn(t testing.TB, dir string, props ...string) *testBroker {
	t.Helper()
	tb := &testBroker{t: t, dir: dir, props: props}
	tb.start()
	t.Cleanup(func() { tb.stop() })
	return tb
}

func (tb *testBroker) start() {
	tb.t.Helper()
	b, err := New(brokerConfig(tb.t, tb.dir, tb.props...))
	if err != nil {
		tb.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		tb.t.Fatal(err)
	}
	tb.b, tb.addr = b, b.Addr()
}

func (tb *testBroker) stop() {
	tb.t.Helper()
	if tb.b == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tb.b.Close(ctx); err != nil {
		tb.t.Errorf("close: %v", err)
	}
	tb.b = nil
}

// restart stops the broker cleanly and starts it again on the same data
// (the listener gets a new port).
func (tb *testBroker) restart() {
	tb.t.Helper()
	tb.stop()
	tb.start()
}

func newClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func newAdmin(t testing.TB, addr string) *kadm.Client {
	return kadm.NewClient(newClient(t, addr))
}

func createTopic(t testing.TB, addr, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := newAdmin(t, addr).CreateTopic(ctx, partitions, 1, configs, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", topic, err, resp.Err)
	}
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func filepathGlob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

func readFile(name string) ([]byte, error) { return os.ReadFile(name) }

// TestMain stops the broker shared by fuzz inputs, if one was started.
func TestMain(m *testing.M) {
	code := m.Run()
	if fuzzBroker != nil {
		fuzzBroker.Close(context.Background())
		os.RemoveAll(fuzzDir)
	}
	os.Exit(code)
}
