package main

import (
	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/topics"
)

func newTopicsCmd(a *app) *cobra.Command {
	var o topics.Options
	cmd := &cobra.Command{
		Use:   "topics",
		Short: "Create, delete, describe, or change a topic (kafka-topics.sh)",
		Long: `Create, delete, describe, or change a topic, with the flags and output of
Kafka's kafka-topics.sh. Exactly one action is required: --create, --list,
--describe, --alter or --delete.`,
		Example: `  tributary topics --bootstrap-server localhost:9092 --create --topic Teste --partitions 1 --replication-factor 1
  tributary topics --bootstrap-server localhost:9092 --list
  tributary topics --bootstrap-server localhost:9092 --describe --topic Teste
  tributary topics --bootstrap-server localhost:9092 --alter --topic Teste --partitions 3
  tributary topics --bootstrap-server localhost:9092 --delete --topic Teste`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Changed, o.Logger = cmd.Flags().Changed, a.log
			return topics.Run(cmd.Context(), o, a.stdout, a.stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Bootstrap, "bootstrap-server", toolclient.DefaultBootstrap, "the Kafka broker(s) to connect to, host:port[,host:port...]")
	addZookeeperFlag(f, &o.Zookeeper)
	f.StringVar(&o.CommandConfig, "command-config", "", "property file of admin client settings")
	f.BoolVar(&o.Create, "create", false, "create a new topic")
	f.BoolVar(&o.List, "list", false, "list all available topics")
	f.BoolVar(&o.Describe, "describe", false, "list details for the given topics")
	f.BoolVar(&o.Delete, "delete", false, "delete a topic")
	f.BoolVar(&o.Alter, "alter", false, "alter the number of partitions of a topic")
	f.StringVar(&o.Topic, "topic", "", "the topic to create, alter, describe or delete; a regular expression except with --create")
	f.Int32Var(&o.Partitions, "partitions", -1, "the number of partitions for the topic being created or altered; -1: the broker's num.partitions")
	f.Int16Var(&o.ReplicationFactor, "replication-factor", -1, "the replication factor of the topic being created; -1: the broker's default.replication.factor")
	f.StringArrayVar(&o.Configs, "config", nil, "a topic configuration override name=value for the topic being created (repeatable)")
	f.BoolVar(&o.IfNotExists, "if-not-exists", false, "with --create: do not fail if the topic already exists")
	f.BoolVar(&o.IfExists, "if-exists", false, "with --alter, --delete or --describe: act only if the topic exists")
	f.BoolVar(&o.ExcludeInternal, "exclude-internal", true, "exclude internal topics when listing or describing; --exclude-internal=false shows them")
	f.BoolVar(&o.TopicsWithOverrides, "topics-with-overrides", false, "with --describe: only show topics that have overridden configs")
	return cmd
}
