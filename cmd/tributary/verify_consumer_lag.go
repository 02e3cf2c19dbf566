package main

import (
	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/consumerlag"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
)

func newVerifyConsumerLagCmd(a *app) *cobra.Command {
	var o consumerlag.Options
	cmd := &cobra.Command{
		Use:   "verify-consumer-lag",
		Short: "Check that consumer groups keep up: exit 1 when a partition lags more than --max-lag",
		Long: `Print each group's partitions with the columns of kafka-consumer-groups.sh
--describe (CURRENT-OFFSET, LOG-END-OFFSET, LAG) and exit 1 when a partition
lags more than --max-lag records or a group has no committed offsets, for
cron jobs, scripts and monitoring probes.

The partitions checked are every partition of each --topic, or else of each
topic the group has committed offsets for. A partition without a committed
offset lags by its whole log.`,
		Example: `  tributary verify-consumer-lag --bootstrap-server localhost:9092 --group connect-local-file-sink --max-lag 1000
  tributary verify-consumer-lag --group g1 --group g2 --topic log-test --max-lag 0`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Logger = a.log
			return consumerlag.Run(cmd.Context(), o, a.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Bootstrap, "bootstrap-server", toolclient.DefaultBootstrap, "the Kafka broker(s) to connect to, host:port[,host:port...]")
	f.StringVar(&o.CommandConfig, "command-config", "", "property file of admin client settings")
	f.StringArrayVar(&o.Groups, "group", nil, "a consumer group to check (repeatable; required)")
	f.StringArrayVar(&o.Topics, "topic", nil, "a topic to check every partition of (repeatable); the group's committed topics when not given")
	f.Int64Var(&o.MaxLag, "max-lag", 0, "the largest lag, in records, that a partition may have")
	return cmd
}
