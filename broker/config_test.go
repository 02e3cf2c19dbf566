package broker

import (
	"math"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/config"
)

// TestKafkaStockFilesStartTheBroker loads Kafka's own server.properties
// files: every key parses, unknown ones are reported, and the broker
// starts from them (on a free port and a temporary log dir).
func TestKafkaStockFilesStartTheBroker(t *testing.T) {
	for _, tt := range []struct {
		file       string
		listeners  string // override, for a free port
		unknown    string // one of the keys reported as unused
		logDir     string
		advertised string
	}{
		{"../testdata/server.properties", "PLAINTEXT://127.0.0.1:0", "", "testdata/output/tributary-logs", ""},
		{"../testdata/kafka/server.properties", "PLAINTEXT://127.0.0.1:0", "zookeeper.connect", "/tmp/kafka-logs", ""},
		{"../testdata/kafka/kraft-server.properties", "PLAINTEXT://:0,CONTROLLER://:9093", "process.roles", "/tmp/kraft-combined-logs", "localhost"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			props, err := config.Load(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			vals, err := Definitions().Parse(props)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := ParseConfig(vals)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.LogDirs[0] != tt.logDir {
				t.Fatalf("log dirs %v", cfg.LogDirs)
			}
			if tt.unknown != "" && !strings.Contains(strings.Join(vals.Unknown(), ","), tt.unknown) {
				t.Fatalf("unknown keys %v lack %s", vals.Unknown(), tt.unknown)
			}
			for _, l := range cfg.Listeners {
				if l.Name == "CONTROLLER" {
					t.Fatal("controller listener kept")
				}
			}
			props.Set("listeners", tt.listeners)
			props.Set("log.dirs", t.TempDir())
			if tt.advertised != "" {
				props.Set("advertised.listeners", "PLAINTEXT://localhost:0,CONTROLLER://localhost:9093")
			}
			vals, err = Definitions().Parse(props)
			if err != nil {
				t.Fatal(err)
			}
			if cfg, err = ParseConfig(vals); err != nil {
				t.Fatal(err)
			}
			b, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Start(testCtx(t, 30*time.Second)); err != nil {
				t.Fatal(err)
			}
			defer b.Close(testCtx(t, 30*time.Second))
			if len(b.listeners) != 1 {
				t.Fatalf("%d listeners", len(b.listeners))
			}
			adv := b.listeners[0].advHost
			if adv == "" || adv == "0.0.0.0" || adv == "::" || (tt.advertised != "" && adv != tt.advertised) {
				t.Fatalf("advertises host %q", adv)
			}
			// A client works through the address it is given.
			createTopic(t, b.Addr(), "stock", 1, nil)
			produceSync(t, newClient(t, b.Addr()), "stock", "x")
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tt := range []struct{ props, want string }{
		{"listeners=SSL://:9093", "an SSL listener needs a key and certificate"},
		{"listeners=TLS://:9093", "uses security protocol TLS"},
		{"max.connections.per.ip.overrides=nocount", "is not host:count"},
		{"max.connections=0", "at least 1"},
		{"socket.request.max.bytes=5", "at least 10"},
		{"listeners=PLAINTEXT://127.0.0.1:9092\nadvertised.listeners=PLAINTEXT://0.0.0.0:9092", "unspecified address"},
		{"listeners=nonsense", "not NAME://host:port"},
		{"default.replication.factor=3", "must be 1"},
		{"emulate.kafka.version=9.9", "not a Kafka release"},
		{"log.segment.bytes=10", "at least 14"},
		{"listeners=CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER", "leaves no listener"},
	} {
		props, err := config.ParseString("server.properties", tt.props)
		if err != nil {
			t.Fatal(err)
		}
		vals, err := Definitions().Parse(props)
		if err == nil {
			_, err = ParseConfig(vals)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "server.properties: ") {
			t.Errorf("%q: got %v, want %q", tt.props, err, tt.want)
		}
	}
}

func TestRetentionKeysPrecedence(t *testing.T) {
	for _, tt := range []struct{ props, want string }{
		{"", "604800000"},
		{"log.retention.hours=1", "3600000"},
		{"log.retention.hours=1\nlog.retention.minutes=2", "120000"},
		{"log.retention.minutes=2\nlog.retention.ms=5", "5"},
		{"log.retention.hours=-1", "-1"},
	} {
		props, _ := config.ParseString("s", tt.props)
		vals, err := Definitions().Parse(props)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := ParseConfig(vals)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.TopicDefaults["retention.ms"]; got != tt.want {
			t.Errorf("%q: retention.ms %s, want %s", tt.props, got, tt.want)
		}
	}
}

// TestLocalhostListensOnBothLoopbacks: clients resolving localhost to ::1
// first connect as well as those resolving it to 127.0.0.1.
func TestLocalhostListensOnBothLoopbacks(t *testing.T) {
	tb := startBroker(t, "listeners=PLAINTEXT://localhost:0")
	l := tb.b.listeners[0]
	if l.advHost != "localhost" {
		t.Fatalf("advertises %q", l.advHost)
	}
	port := strconv.Itoa(l.port)
	addrs := []string{"127.0.0.1"}
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil { // the machine has IPv6 loopback
		ln.Close()
		addrs = append(addrs, "::1")
		if len(l.nls) < 2 {
			t.Fatalf("only %d address bound for localhost", len(l.nls))
		}
	}
	for _, a := range addrs {
		c := dialRaw(t, net.JoinHostPort(a, port))
		md := kmsg.NewPtrMetadataRequest()
		md.Version = 9
		resp := c.roundTrip(md).(*kmsg.MetadataResponse)
		if resp.Brokers[0].Host != "localhost" || int(resp.Brokers[0].Port) != l.port {
			t.Fatalf("via %s: broker %+v", a, resp.Brokers[0])
		}
	}
}

func TestListenersDefaultToLoopback(t *testing.T) {
	vals, err := Definitions().Parse(config.FromMap("defaults", nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(vals)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Listeners) != 1 || cfg.Listeners[0].Host != "127.0.0.1" || cfg.Listeners[0].SecurityProtocol != "PLAINTEXT" {
		t.Fatalf("default listeners %+v", cfg.Listeners)
	}
	// A listener with port 0 on the default host binds the loopback only.
	tb := startBroker(t)
	host, _, _ := strings.Cut(tb.addr, ":")
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Fatalf("bound %s", tb.addr)
	}
	if cfg.MaxConnections != math.MaxInt32 || cfg.MaxConnectionsPerIP != math.MaxInt32 || cfg.ConnectionsMaxIdle != 10*time.Minute || cfg.SocketRequestMaxBytes != 104857600 {
		t.Fatalf("limits %d %d %v %d", cfg.MaxConnections, cfg.MaxConnectionsPerIP, cfg.ConnectionsMaxIdle, cfg.SocketRequestMaxBytes)
	}
}
