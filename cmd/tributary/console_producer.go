package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/consoleproducer"
)

func newConsoleProducerCmd(a *app) *cobra.Command {
	var o consoleproducer.Options
	cmd := &cobra.Command{
		Use:   "console-producer",
		Short: "Read lines from standard input and publish them to a topic (kafka-console-producer.sh)",
		Long: `Read standard input line by line and publish each line as one record, in
order, as Kafka's kafka-console-producer.sh does. End of input sends what is
left and exits; so does SIGINT. With --property parse.key=true a line is
key<TAB>value; with parse.headers=true it starts with h1:v1,h2:v2<TAB>.`,
		Example: `  tributary console-producer --bootstrap-server localhost:9092 --topic Teste
  tributary console-producer --broker-list localhost:9092 --topic Teste --property parse.key=true --property key.separator=:`,
		Annotations: signalExitAnnotations(),
		Args:        usageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := optionalFlagValue(cmd.Flags(), "compression-codec", &o.Compression, args); err != nil {
				return err
			}
			o.Changed, o.Logger = cmd.Flags().Changed, a.log
			return consoleproducer.Run(cmd.Context(), o, a.stdin, a.stdout, a.stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Bootstrap, "bootstrap-server", "", "the Kafka broker(s) to connect to, host:port[,host:port...] (default localhost:9092)")
	addBrokerListFlag(f)
	addZookeeperFlag(f, &o.Zookeeper)
	f.StringVar(&o.Topic, "topic", "", "the topic to produce to (required)")
	f.StringArrayVar(&o.Properties, "property", nil, "a line reader property key=value: parse.key, key.separator, parse.headers, headers.delimiter, headers.separator, headers.key.separator, ignore.error, null.marker (repeatable)")
	f.StringVar(&o.ReaderConfig, "reader-config", "", "property file of line reader properties; --property takes precedence")
	f.StringArrayVar(&o.ProducerProperties, "producer-property", nil, "a producer property key=value, such as linger.ms=5 (repeatable)")
	f.StringVar(&o.ProducerConfig, "producer.config", "", "producer property file; --producer-property takes precedence")
	f.StringVar(&o.Compression, "compression-codec", "none", "compression: none, gzip, snappy, lz4 or zstd; given without a value, gzip")
	f.Lookup("compression-codec").NoOptDefVal = "gzip"
	f.StringVar(&o.Acks, "request-required-acks", "-1", "the acks the producer requires: -1 (all), 0 or 1")
	f.BoolVar(&o.Sync, "sync", false, "send each line and wait for its acknowledgement before reading the next")
	f.Int32Var(&o.BatchSize, "batch-size", 16384, "bytes per batch (batch.size); franz-go cannot send a record larger than its batch, so when given, longer lines are reported and skipped")
	f.Int64Var(&o.LingerMs, "timeout", 1000, "how long in ms a record may wait for more records to fill its batch (linger.ms)")
	return cmd
}

// optionalFlagValue gives a flag with an optional value (Kafka's
// --compression-codec, --state) the value that follows it as a separate
// argument: pflag only binds --flag=value, and leaves "--flag value" as a
// positional argument. Any other positional argument is a usage error.
func optionalFlagValue(f *pflag.FlagSet, name string, dst *string, args []string) error {
	fl := f.Lookup(name)
	if len(args) == 1 && fl.Changed && *dst == fl.NoOptDefVal && !strings.HasPrefix(args[0], "-") {
		*dst = args[0]
		return nil
	}
	if len(args) > 0 {
		return usageErrorf("unexpected argument %q", args[0])
	}
	return nil
}
