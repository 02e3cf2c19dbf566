package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/broker"
	"github.com/tributary-io/tributary/config"
)

// brokerStopTimeout bounds a clean shutdown: requests in progress get this
// long to finish before connections are cut.
const brokerStopTimeout = 30 * time.Second

func newBrokerCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "broker [server.properties]",
		Short: "Run the bundled single-node Kafka broker (kafka-server-start.sh)",
		Long: `Run the bundled single-node Kafka broker until SIGINT or SIGTERM.

The optional file uses Kafka's server.properties keys (listeners,
advertised.listeners, log.dirs, num.partitions, log.retention.hours, ...);
Kafka's keys that mean nothing to a single node are accepted; keys it
does not know are a warning naming the key most likely meant. Without a
file the broker listens on PLAINTEXT://127.0.0.1:9092 and keeps its data in
/tmp/kafka-logs. Each log dir is locked while the broker runs.`,
		Example: `  tributary broker testdata/server.properties
  tributary broker testdata/kafka/server.properties
  tributary broker`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			props := config.FromMap("defaults", nil)
			if len(args) == 1 {
				var err error
				if props, err = config.Load(args[0]); err != nil {
					return err
				}
			}
			vals, err := broker.Definitions().Parse(props)
			if err != nil {
				return err
			}
			cfg, err := broker.ParseConfig(vals)
			if err != nil {
				return err
			}
			for _, k := range broker.UnusedKeys(vals, cfg) {
				config.WarnUnknownKey(a.log, vals.Source(), k, broker.Definitions().Closest(k))
			}
			cfg.Logger, cfg.LogLevel = a.log, a.level
			b, err := broker.New(cfg)
			if err != nil {
				return err
			}
			if err := b.Start(cmd.Context()); err != nil {
				return err
			}
			defer serveBrokerStatusPage(b, a.log)()
			<-cmd.Context().Done()
			a.log.Info("stopping the broker")
			ctx, cancel := context.WithTimeout(context.Background(), brokerStopTimeout)
			defer cancel()
			return b.Close(ctx)
		},
	}
}
