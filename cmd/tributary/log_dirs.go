package main

import (
	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/logdirs"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
)

func newLogDirsCmd(a *app) *cobra.Command {
	var o logdirs.Options
	cmd := &cobra.Command{
		Use:   "log-dirs",
		Short: "Describe the log directories of brokers: partitions and their size (kafka-log-dirs.sh)",
		Long: `Ask brokers for their log directories and print, as Kafka's kafka-log-dirs.sh
does, one line of JSON with each directory's partitions, their size in bytes
and offset lag. --describe is required.`,
		Example: `  tributary log-dirs --bootstrap-server localhost:9092 --describe
  tributary log-dirs --bootstrap-server localhost:9092 --describe --topic-list log-test,Teste --broker-list 1`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Logger = a.log
			return logdirs.Run(cmd.Context(), o, a.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Bootstrap, "bootstrap-server", toolclient.DefaultBootstrap, "the Kafka broker(s) to connect to, host:port[,host:port...]")
	f.StringVar(&o.CommandConfig, "command-config", "", "property file of admin client settings")
	f.BoolVar(&o.Describe, "describe", false, "describe the log directories of the brokers (required)")
	f.StringVar(&o.TopicList, "topic-list", "", "comma-separated topics to show; all topics when not given")
	f.StringVar(&o.BrokerList, "broker-list", "", "comma-separated broker ids to query; all brokers when not given")
	return cmd
}
