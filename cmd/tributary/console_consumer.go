package main

import (
	"slices"

	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/consoleconsumer"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
)

func newConsoleConsumerCmd(a *app) *cobra.Command {
	var (
		o                          consoleconsumer.Options
		properties, formatterProps []string
	)
	cmd := &cobra.Command{
		Use:   "console-consumer",
		Short: "Print the records of topics on standard output (kafka-console-consumer.sh)",
		Long: `Print the records of a topic (or of the topics an --include expression
matches) on standard output, one a line, as Kafka's kafka-console-consumer.sh
does, and keep printing as records arrive until stopped by SIGINT,
--max-messages or --timeout-ms. Then "Processed a total of N messages" goes
to standard error.

With --group the consumer joins that group and commits what it printed;
without, it joins a group of its own and commits nothing. --property
print.key=true and the other print.* properties choose what is printed.`,
		Example: `  tributary console-consumer --bootstrap-server localhost:9092 --topic Teste --from-beginning
  tributary console-consumer --bootstrap-server localhost:9092 --topic log-test --group g1 --property print.key=true
  tributary console-consumer --bootstrap-server localhost:9092 --topic Teste --partition 0 --offset 42 --max-messages 10`,
		Annotations: signalExitAnnotations(),
		Args:        usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.FormatterProperties = append(slices.Clone(formatterProps), properties...) // --property wins
			o.Changed, o.Logger = cmd.Flags().Changed, a.log
			return consoleconsumer.Run(cmd.Context(), o, a.stdout, a.stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Bootstrap, "bootstrap-server", toolclient.DefaultBootstrap, "the Kafka broker(s) to connect to, host:port[,host:port...]")
	addZookeeperFlag(f, &o.Zookeeper)
	f.StringVar(&o.Topic, "topic", "", "the topic to consume")
	f.StringVar(&o.Include, "include", "", "a regular expression of the topics to consume (instead of --topic)")
	f.BoolVar(&o.FromBeginning, "from-beginning", false, "without a committed offset, start at the earliest record rather than the latest")
	f.StringVar(&o.Group, "group", "", "the consumer group to join; it commits the offsets of what was printed")
	f.Int32Var(&o.Partition, "partition", 0, "consume only this partition (without a group), from the end unless --offset or --from-beginning")
	f.StringVar(&o.Offset, "offset", "latest", "with --partition: where to start, earliest, latest or an offset")
	f.Int64Var(&o.MaxMessages, "max-messages", -1, "exit after printing this many records; -1: keep consuming")
	f.Int64Var(&o.TimeoutMs, "timeout-ms", -1, "exit when no record arrives for this many milliseconds; -1: wait forever")
	f.BoolVar(&o.SkipOnError, "skip-message-on-error", false, "when a record cannot be printed (a deserializer fails), skip it instead of stopping")
	f.StringVar(&o.IsolationLevel, "isolation-level", "read_uncommitted", "read_committed hides records of aborted and open transactions; read_uncommitted shows all")
	f.StringArrayVar(&o.ConsumerProperties, "consumer-property", nil, "a consumer property key=value, such as fetch.max.wait.ms=100 (repeatable)")
	f.StringVar(&o.ConsumerConfig, "consumer.config", "", "consumer property file; --consumer-property takes precedence")
	f.StringArrayVar(&properties, "property", nil, "a formatter property key=value: print.key, print.value, print.timestamp, print.partition, print.offset, print.headers, key.separator, line.separator, headers.separator, null.literal, key.deserializer, value.deserializer (repeatable)")
	f.StringArrayVar(&formatterProps, "formatter-property", nil, "the newer name of --property")
	f.StringVar(&o.FormatterConfig, "formatter-config", "", "property file of formatter properties; --property takes precedence")
	f.StringVar(&o.KeyDeserializer, "key-deserializer", "", "Kafka deserializer class for keys, e.g. org.apache.kafka.common.serialization.LongDeserializer")
	f.StringVar(&o.ValueDeserializer, "value-deserializer", "", "Kafka deserializer class for values")
	return cmd
}
