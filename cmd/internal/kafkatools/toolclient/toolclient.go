// Package toolclient gives Kafka's command-line tools their client: it
// gathers Kafka client properties the way the tools take them (a property
// file such as --command-config, key=value arguments such as
// --consumer-property) and builds a franz-go client from them that has
// been seen to reach a broker.
//
// A tool pointed at the wrong address fails within ReachTimeout with one
// error line naming the address, not after minutes of retries; until a
// broker has answered, the client's own complaints about failed
// connections are logged at debug level only.
//
// WarnZookeeper is the one warning every tool gives an old habit, a
// --zookeeper address: ZooKeeper is not used, the broker is.
package toolclient

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/kafkaclient"
)

// DefaultBootstrap is the broker the tools talk to when none is named, as
// Kafka's tools do.
const DefaultBootstrap = "localhost:9092"

// ReachTimeout bounds how long a tool waits for the first answer of a
// broker before it gives up with one clear error.
const ReachTimeout = 5 * time.Second

// AdminTimeout bounds the admin requests of a tool once a broker has
// answered.
const AdminTimeout = 30 * time.Second

// WarnZookeeper writes to w the warning a tool gives for --zookeeper, the
// flag Kafka's tools took before they talked to brokers: the address is
// accepted and not used, and the tool talks to bootstrap instead. It writes
// nothing when zookeeper is "".
func WarnZookeeper(w io.Writer, zookeeper, bootstrap string) {
	if zookeeper == "" {
		return
	}
	fmt.Fprintf(w, "Warning: --zookeeper %s is not used: tributary talks to the broker at %s (--bootstrap-server) instead.\n", zookeeper, bootstrap)
}

// Admin builds the admin client of a command-line tool: the properties of
// its --command-config file (commandConfig, "" for none), with
// bootstrap.servers from --bootstrap-server and, unless the file sets one,
// client.id clientID ("" leaves franz-go's).
func Admin(ctx context.Context, log *slog.Logger, commandConfig, bootstrap, clientID string) (*kgo.Client, error) {
	props, err := Properties(commandConfig, nil)
	if err != nil {
		return nil, err
	}
	props["bootstrap.servers"] = bootstrap
	if props["client.id"] == "" && clientID != "" {
		props["client.id"] = clientID
	}
	return New(ctx, log, props, kafkaclient.Admin)
}

// New builds a franz-go client for role from Kafka client properties
// (bootstrap.servers and the rest, as kafkaclient translates them) and
// extra options, and checks that a broker answers within ReachTimeout. A
// property that cannot be translated is a usage error. log receives the
// client's messages; nil discards them.
func New(ctx context.Context, log *slog.Logger, props map[string]string, role kafkaclient.Role, extra ...kgo.Opt) (*kgo.Client, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res, err := kafkaclient.Options(props, role)
	if err != nil {
		return nil, usage.Wrap(err)
	}
	if len(res.Ignored) > 0 {
		log.Debug("client properties with no effect", "keys", res.Ignored)
	}
	logger := &startupLogger{Logger: kafkaclient.Logger(log)}
	logger.quiet.Store(true)
	opts := append([]kgo.Opt{kgo.WithLogger(logger)}, res.Opts...)
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, usage.Wrap(err)
	}
	if err := kafkaclient.Reachable(ctx, cl, ReachTimeout); err != nil {
		cl.Close()
		return nil, err
	}
	logger.quiet.Store(false)
	return cl, nil
}

// startupLogger logs the client's messages at debug level while quiet:
// until a broker has answered, failures to connect are what the one error
// line reports.
type startupLogger struct {
	kgo.Logger
	quiet atomic.Bool
}

func (l *startupLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	if l.quiet.Load() {
		level = kgo.LogLevelDebug
	}
	l.Logger.Log(level, msg, keyvals...)
}

// Properties gathers the properties of a tool as Kafka's tools do: those
// of a property file (--command-config, --producer.config,
// --consumer.config, --formatter-config, --reader-config; none when file
// is ""), then key=value arguments over them (--producer-property,
// --consumer-property, --property). In an argument the value is everything
// after the first '=', and a key without '=' has an empty value; an
// argument without a key is a usage error.
func Properties(file string, kvs []string) (map[string]string, error) {
	props := map[string]string{}
	if file != "" {
		p, err := config.Load(file)
		if err != nil {
			return nil, err
		}
		props = p.Map()
	}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			return nil, usage.Errorf("invalid property %q: want key=value", kv)
		}
		props[k] = v
	}
	return props, nil
}
