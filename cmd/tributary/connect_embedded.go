package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/tributary-io/tributary/broker"
	"github.com/tributary-io/tributary/cmd/internal/gcsettings"
	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

// embeddedBroker is the bundled broker run in-process for a worker file
// without bootstrap.servers.
type embeddedBroker struct {
	addr  string
	close func(ctx context.Context) error
}

// workerDef is the definition set of a worker file: the worker's keys,
// which connect declares, and the bundled broker's, which the broker
// declares (broker.EmbeddedKeys). Here is where the two meet.
func workerDef() *config.Def {
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

// embeddedBrokerConfig builds the bundled broker's configuration from the
// worker file's broker.* keys (brokerProps); errors name those keys. unused
// are the broker.* keys the broker does not use, with their prefix.
func embeddedBrokerConfig(worker *config.Values, offsetsFile string) (cfg broker.Config, unused []string, err error) {
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

// startEmbeddedBroker starts the bundled broker in this process with the
// worker file's broker.* keys, and logs its address.
func startEmbeddedBroker(ctx context.Context, a *app, worker *config.Values, offsetsFile string) (*embeddedBroker, error) {
	gcsettings.Apply(a.log)
	cfg, unused, err := embeddedBrokerConfig(worker, offsetsFile)
	if err != nil {
		return nil, err
	}
	warnUnusedBrokerKeys(a.log, worker, unused)
	cfg.Logger = a.log.With("component", "broker")
	b, err := broker.New(cfg)
	if err != nil {
		return nil, prefixKeys(err)
	}
	if err := b.Start(ctx); err != nil {
		b.Close(context.Background())
		return nil, fmt.Errorf("bundled broker: %w", err)
	}
	a.log.Info("bundled broker started; other tools can use it with --bootstrap-server "+b.Addr(), "address", b.Addr(), "log.dirs", strings.Join(cfg.LogDirs, ","))
	return &embeddedBroker{addr: b.Addr(), close: b.Close}, nil
}
