package main

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/perf"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
)

func newProducerPerfTestCmd(a *app) *cobra.Command {
	var o perf.ProducerOptions
	cmd := &cobra.Command{
		Use:   "producer-perf-test",
		Short: "Measure how fast records can be produced (kafka-producer-perf-test.sh)",
		Long: `Produce --num-records records of --record-size random bytes (or lines of
--payload-file) as fast as --throughput allows (-1: no limit), printing a line
every five seconds and a summary with Kafka's figures: records/sec, MB/sec,
average and maximum latency and the 50th, 95th, 99th and 99.9th percentiles.
--producer-props takes any number of key=value producer properties.`,
		Example:     `  tributary producer-perf-test --topic perf --num-records 1000000 --record-size 100 --throughput -1 --producer-props bootstrap.servers=localhost:9092 acks=1`,
		Annotations: signalExitAnnotations(),
		Args:        cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// --producer-props takes several values, as Kafka's does: the
			// key=value words after it arrive as arguments.
			if len(args) > 0 && !cmd.Flags().Changed("producer-props") {
				return usageErrorf("unexpected argument %q", args[0])
			}
			for _, arg := range args {
				if !strings.Contains(arg, "=") {
					return usageErrorf("unexpected argument %q: producer properties are key=value", arg)
				}
			}
			o.ProducerProps = append(o.ProducerProps, args...)
			o.Changed, o.Logger = cmd.Flags().Changed, a.log
			return perf.RunProducer(cmd.Context(), o, a.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Topic, "topic", "", "produce records to this topic (required)")
	f.Int64Var(&o.NumRecords, "num-records", 0, "number of records to produce (required)")
	f.IntVar(&o.RecordSize, "record-size", 0, "size of each record in bytes")
	f.StringVar(&o.PayloadFile, "payload-file", "", "file of payloads, one picked at random for each record")
	f.StringVar(&o.PayloadDelimiter, "payload-delimiter", `\n`, "what separates the payloads of --payload-file")
	f.BoolVar(&o.PayloadMonotonic, "payload-monotonic", false, "payloads are the increasing numbers 0, 1, 2...")
	f.Float64Var(&o.Throughput, "throughput", 0, "at most this many records per second; -1 for no limit (required)")
	f.StringArrayVar(&o.ProducerProps, "producer-props", nil, "producer properties key=value ..., such as bootstrap.servers=localhost:9092 acks=1")
	f.StringVar(&o.ProducerConfig, "producer.config", "", "producer property file; --producer-props take precedence")
	f.StringVar(&o.Bootstrap, "bootstrap-server", "", "the Kafka broker(s) to connect to (instead of bootstrap.servers in --producer-props)")
	return cmd
}

func newConsumerPerfTestCmd(a *app) *cobra.Command {
	var o perf.ConsumerOptions
	cmd := &cobra.Command{
		Use:   "consumer-perf-test",
		Short: "Measure how fast records can be consumed (kafka-consumer-perf-test.sh)",
		Long: `Consume --messages records of a topic in a consumer group and print Kafka's
summary: start and end time, MB and records consumed and per second, the
time spent joining the group, and the rates over the fetch time alone.`,
		Example:     `  tributary consumer-perf-test --bootstrap-server localhost:9092 --topic perf --messages 1000000`,
		Annotations: signalExitAnnotations(),
		Args:        usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Changed, o.Logger = cmd.Flags().Changed, a.log
			return perf.RunConsumer(cmd.Context(), o, a.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Bootstrap, "bootstrap-server", toolclient.DefaultBootstrap, "the Kafka broker(s) to connect to, host:port[,host:port...]")
	addBrokerListFlag(f)
	f.StringVar(&o.Topic, "topic", "", "the topic to consume")
	f.StringVar(&o.Include, "include", "", "a regular expression of the topics to consume (instead of --topic)")
	f.Int64Var(&o.Messages, "messages", 0, "the number of records to consume (required)")
	f.StringVar(&o.Group, "group", fmt.Sprintf("perf-consumer-%d", rand.IntN(100000)), "the consumer group")
	f.Int32Var(&o.FetchSize, "fetch-size", 1024*1024, "the bytes to fetch per partition in one request (max.partition.fetch.bytes)")
	f.BoolVar(&o.FromLatest, "from-latest", false, "without a committed offset, start at the latest record rather than the earliest")
	f.StringVar(&o.ConsumerConfig, "consumer.config", "", "consumer property file")
	f.BoolVar(&o.ShowDetailedStats, "show-detailed-stats", false, "print figures every --reporting-interval")
	f.Int64Var(&o.ReportingInterval, "reporting-interval", 5000, "ms between detailed figures")
	f.StringVar(&o.DateFormat, "date-format", "yyyy-MM-dd HH:mm:ss:SSS", "java.text.SimpleDateFormat pattern of the printed times")
	f.BoolVar(&o.HideHeader, "hide-header", false, "do not print the header line")
	f.Int64Var(&o.TimeoutMs, "timeout", 10000, "the longest time in ms to wait between two records before giving up")
	return cmd
}
