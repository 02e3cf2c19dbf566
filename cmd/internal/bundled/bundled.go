// Package bundled runs the bundled broker for connect-standalone's embedded
// default: a worker file without bootstrap.servers. It is where the
// worker's keys (declared by connect) and the bundled broker's (declared by
// the broker, broker.* in the worker file) meet: WorkerDef combines them,
// Config builds the broker's configuration from the worker file, and Start
// starts the broker in this process, or finds a Kafka broker already
// answering on its port (the walkthrough's `tributary broker`) and uses
// that instead.
package bundled

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/broker"
	"github.com/tributary-io/tributary/cmd/internal/gcsettings"
	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
	"github.com/tributary-io/tributary/connect/kafkaclient"
)

// Broker is the bundled broker run in-process for a worker file
// without bootstrap.servers.
type Broker struct {
	// Addr is the broker's address, for bootstrap.servers.
	Addr string
	// Close stops it (nothing, for a broker found already running).
	Close func(ctx context.Context) error
}

// WorkerDef is the definition set of a worker file: the worker's keys,
// which connect declares, and the bundled broker's, which the broker
// declares (broker.EmbeddedKeys). Here is where the two meet.
func WorkerDef() *config.Def {
	w := connect.WorkerDef()
	return w.With(w.Name(), broker.EmbeddedKeys()...)
}

// brokerProps returns the server properties of the bundled broker: the
// worker file's broker.* keys without the prefix, with the broker's
// default listeners (127.0.0.1:9092) and log.dirs beside the offsets file
// unless they are set.
func brokerProps(worker *config.Values, offsetsFile string) *config.Props {
	m := worker.WithPrefix(broker.EmbeddedPrefix)
	if strings.TrimSpace(m["listeners"]) == "" {
		listeners, _ := broker.Definitions().Lookup("listeners")
		m["listeners"] = listeners.Default
	}
	if strings.TrimSpace(m["group.initial.rebalance.delay.ms"]) == "" {
		// One worker is the only member: no reason to wait for others.
		m["group.initial.rebalance.delay.ms"] = "0"
	}
	if strings.TrimSpace(m["log.dirs"]) == "" && strings.TrimSpace(m["log.dir"]) == "" {
		m["log.dirs"] = filepath.Join(filepath.Dir(offsetsFile), "tributary-logs")
	}
	return config.FromMap(worker.Source(), m)
}

// prefixKeys makes errors about server properties name the worker file's
// broker.* keys.
func prefixKeys(err error) error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var ce *config.Error
		if errors.As(e, &ce) {
			c := *ce
			c.Key = broker.EmbeddedPrefix + c.Key
			out = append(out, &c)
			return
		}
		out = append(out, e)
	}
	walk(err)
	return errors.Join(out...)
}

// Config builds the bundled broker's configuration from the
// worker file's broker.* keys (brokerProps); errors name those keys. unused
// are the broker.* keys the broker does not use, with their prefix.
func Config(worker *config.Values, offsetsFile string) (cfg broker.Config, unused []string, err error) {
	vals, err := broker.Definitions().Parse(brokerProps(worker, offsetsFile))
	if err != nil {
		return broker.Config{}, nil, prefixKeys(err)
	}
	cfg, err = broker.ParseConfig(vals)
	if err != nil {
		return broker.Config{}, nil, prefixKeys(err)
	}
	for _, k := range broker.UnusedKeys(vals, cfg) {
		unused = append(unused, broker.EmbeddedPrefix+k)
	}
	return cfg, unused, nil
}

// warnUnusedBrokerKeys warns of the worker file's broker.* keys that the
// bundled broker does not use, with the key each most likely meant.
func warnUnusedBrokerKeys(log *slog.Logger, worker *config.Values, unused []string) {
	for _, k := range unused {
		meant := broker.Definitions().Closest(strings.TrimPrefix(k, broker.EmbeddedPrefix))
		if meant != "" {
			meant = broker.EmbeddedPrefix + meant
		}
		config.WarnUnknownKey(log, worker.Source(), k, meant)
	}
}

// Start starts the bundled broker in this process with the
// worker file's broker.* keys, and logs its address.
func Start(ctx context.Context, log *slog.Logger, worker *config.Values, offsetsFile string) (*Broker, error) {
	gcsettings.Apply(log)
	cfg, unused, err := Config(worker, offsetsFile)
	if err != nil {
		return nil, err
	}
	warnUnusedBrokerKeys(log, worker, unused)
	if addr, err := brokerAlreadyThere(ctx, cfg); err != nil || addr != "" {
		if err != nil {
			return nil, err
		}
		log.Info("a Kafka broker already answers on "+addr+"; using it instead of starting the bundled broker (set bootstrap.servers to say so, or broker.listeners to start the bundled one elsewhere)", "bootstrap.servers", addr)
		return &Broker{Addr: addr, Close: func(context.Context) error { return nil }}, nil
	}
	cfg.Logger = log.With("component", "broker")
	b, err := broker.New(cfg)
	if err != nil {
		return nil, prefixKeys(err)
	}
	if err := b.Start(ctx); err != nil {
		b.Close(context.Background())
		if errors.Is(err, syscall.EADDRINUSE) {
			err = fmt.Errorf("%w; %s", err, waysOut(cfg))
		}
		return nil, fmt.Errorf("bundled broker: %w", err)
	}
	log.Info("bundled broker started; other tools can use it with --bootstrap-server "+b.Addr(), "address", b.Addr(), "log.dirs", strings.Join(cfg.LogDirs, ","))
	return &Broker{Addr: b.Addr(), Close: b.Close}, nil
}

// brokerAlreadyThere looks at the bundled broker's first listener before
// starting it: when a Kafka broker already answers there (the walkthrough's
// `tributary broker` of step 1, or a local Kafka), it returns its address
// so the worker uses it. A port taken by something that does not speak
// Kafka is an error saying how to get past it. Port 0 (any free port) is
// never taken.
func brokerAlreadyThere(ctx context.Context, cfg broker.Config) (string, error) {
	if len(cfg.Listeners) == 0 || cfg.Listeners[0].Port == 0 {
		return "", nil
	}
	l := cfg.Listeners[0]
	host := l.Host
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(l.Port))
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", nil // nothing there: the bundled broker takes the port
	}
	conn.Close()
	if p := strings.ToUpper(l.SecurityProtocol); p != "" && p != "PLAINTEXT" {
		return "", fmt.Errorf("bundled broker: %s is already in use; %s", addr, waysOut(cfg))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return "", err
	}
	defer cl.Close()
	if err := kafkaclient.Reachable(ctx, cl, 3*time.Second); err != nil {
		return "", fmt.Errorf("bundled broker: %s is in use by something that does not answer as a Kafka broker (%v); %s", addr, err, waysOut(cfg))
	}
	return addr, nil
}

// waysOut says how to run the worker when the bundled broker's port is
// taken.
func waysOut(cfg broker.Config) string {
	port := 0
	if len(cfg.Listeners) > 0 {
		port = cfg.Listeners[0].Port
	}
	return fmt.Sprintf("either set bootstrap.servers to use the cluster that holds port %d, or give the bundled broker another port with broker.listeners=PLAINTEXT://127.0.0.1:<port> (--override broker.listeners=PLAINTEXT://127.0.0.1:0 picks a free one)", port)
}
