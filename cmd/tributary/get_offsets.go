package main

import (
	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/getoffsets"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
)

func newGetOffsetsCmd(a *app) *cobra.Command {
	var o getoffsets.Options
	cmd := &cobra.Command{
		Use:   "get-offsets",
		Short: "Print the offsets of topic partitions at a time (kafka-get-offsets.sh)",
		Long: `Print topic:partition:offset for each chosen partition, with the flags and
output of Kafka's kafka-get-offsets.sh. --time is latest (-1, the default),
earliest (-2), max-timestamp (-3, the offset of the record with the largest
timestamp), earliest-local (-4), latest-tiered (-5), or a timestamp in
milliseconds: the first offset whose record is at least that old. A
partition with no such offset is left out.

Partitions are chosen by --topic (a regular expression) and --partitions
(ids), or by --topic-partitions: comma-separated patterns
topic-regex[:partition | :lower-upper | :lower- | :-upper], the upper bound
exclusive. Without either, every partition of every topic.`,
		Example: `  tributary get-offsets --bootstrap-server localhost:9092 --topic log-test
  tributary get-offsets --bootstrap-server localhost:9092 --topic-partitions 'log-.*:0-2' --time earliest
  tributary get-offsets --bootstrap-server localhost:9092 --topic log-test --time 1700000000000`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Changed, o.Logger = cmd.Flags().Changed, a.log
			return getoffsets.Run(cmd.Context(), o, a.stdout, a.stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Bootstrap, "bootstrap-server", toolclient.DefaultBootstrap, "the Kafka broker(s) to connect to, host:port[,host:port...]")
	f.StringVar(&o.CommandConfig, "command-config", "", "property file of admin client settings")
	f.StringVar(&o.Topic, "topic", "", "the topic(s) to get offsets for, a regular expression; all topics when not given")
	f.StringVar(&o.Partitions, "partitions", "", "comma-separated partition ids; all partitions when not given")
	f.StringVar(&o.TopicPartitions, "topic-partitions", "", "comma-separated topic-partition patterns, as topic1:1,topic2:0-3,topic3,topic4:5-,topic5:-3 (not with --topic or --partitions)")
	f.StringVar(&o.Time, "time", "latest", "-1 or latest, -2 or earliest, -3 or max-timestamp, -4 or earliest-local, -5 or latest-tiered, or a timestamp in ms")
	f.BoolVar(&o.ExcludeInternalTopics, "exclude-internal-topics", false, "leave out internal topics (included by default)")
	_ = cmd.RegisterFlagCompletionFunc("time", cobra.FixedCompletions([]string{"latest", "earliest", "max-timestamp", "earliest-local", "latest-tiered"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
