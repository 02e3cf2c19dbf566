package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connect/kafkaclient"
)

type consoleConsumerOptions struct {
	bootstrap         string
	topic             string
	include           string
	fromBeginning     bool
	group             string
	partition         int32
	offset            string
	maxMessages       int64
	timeoutMs         int64
	skipOnError       bool
	isolationLevel    string
	consumerKVs       []string
	consumerConfig    string
	properties        []string
	formatterProps    []string
	formatterConfig   string
	keyDeserializer   string
	valueDeserializer string
}

func newConsoleConsumerCmd(a *app) *cobra.Command {
	var o consoleConsumerOptions
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
  tributary console-consumer --bootstrap-server localhost:9092 --topic log-test --group g1 --property print.key=true`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			props, err := o.consumerProps(cmd.Flags())
			if err != nil {
				return err
			}
			fprops, err := loadProps(o.formatterConfig)
			if err != nil {
				return err
			}
			if o.keyDeserializer != "" {
				fprops["key.deserializer"] = o.keyDeserializer
			}
			if o.valueDeserializer != "" {
				fprops["value.deserializer"] = o.valueDeserializer
			}
			kv, err := parseKeyValues(append(o.formatterProps, o.properties...))
			if err != nil {
				return usageError{err}
			}
			for k, v := range kv {
				fprops[k] = v
			}
			format, err := newRecordFormatter(fprops)
			if err != nil {
				return usageError{err}
			}
			return runConsoleConsumer(cmd.Context(), a, o, props, format)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.bootstrap, "bootstrap-server", defaultBootstrap, "the Kafka broker(s) to connect to, host:port[,host:port...]")
	f.StringVar(&o.topic, "topic", "", "the topic to consume")
	f.StringVar(&o.include, "include", "", "a regular expression of the topics to consume (instead of --topic)")
	f.BoolVar(&o.fromBeginning, "from-beginning", false, "without a committed offset, start at the earliest record rather than the latest")
	f.StringVar(&o.group, "group", "", "the consumer group to join; it commits the offsets of what was printed")
	f.Int32Var(&o.partition, "partition", 0, "consume only this partition (without a group), from the end unless --offset or --from-beginning")
	f.StringVar(&o.offset, "offset", "latest", "with --partition: where to start, earliest, latest or an offset")
	f.Int64Var(&o.maxMessages, "max-messages", -1, "exit after printing this many records (default: keep consuming)")
	f.Int64Var(&o.timeoutMs, "timeout-ms", -1, "exit when no record arrives for this many milliseconds (default: wait forever)")
	f.BoolVar(&o.skipOnError, "skip-message-on-error", false, "when a record cannot be printed (a deserializer fails), skip it instead of stopping")
	f.StringVar(&o.isolationLevel, "isolation-level", "read_uncommitted", "read_committed hides records of aborted and open transactions; read_uncommitted shows all")
	f.StringArrayVar(&o.consumerKVs, "consumer-property", nil, "a consumer property key=value, such as fetch.max.wait.ms=100 (repeatable)")
	f.StringVar(&o.consumerConfig, "consumer.config", "", "consumer property file; --consumer-property takes precedence")
	f.StringArrayVar(&o.properties, "property", nil, "a formatter property key=value: print.key, print.value, print.timestamp, print.partition, print.offset, print.headers, key.separator, line.separator, headers.separator, null.literal, key.deserializer, value.deserializer (repeatable)")
	f.StringArrayVar(&o.formatterProps, "formatter-property", nil, "the newer name of --property")
	f.StringVar(&o.formatterConfig, "formatter-config", "", "property file of formatter properties; --property takes precedence")
	f.StringVar(&o.keyDeserializer, "key-deserializer", "", "Kafka deserializer class for keys, e.g. org.apache.kafka.common.serialization.LongDeserializer")
	f.StringVar(&o.valueDeserializer, "value-deserializer", "", "Kafka deserializer class for values")
	return cmd
}

// consumerProps checks the flags and merges the consumer's properties as
// Kafka's console consumer does: --consumer.config, then
// --consumer-property, then the flags.
func (o *consoleConsumerOptions) consumerProps(f *pflag.FlagSet) (map[string]string, error) {
	if (o.topic == "") == (o.include == "") {
		return nil, usageErrorf("exactly one of --topic and --include is required")
	}
	partition := f.Changed("partition")
	switch {
	case partition && o.topic == "":
		return nil, usageErrorf("the topic is required when partition is specified")
	case partition && o.fromBeginning && f.Changed("offset"):
		return nil, usageErrorf("options from-beginning and offset cannot be specified together")
	case !partition && f.Changed("offset"):
		return nil, usageErrorf("the partition is required when offset is specified")
	case partition && o.partition < 0:
		return nil, usageErrorf("--partition %d is not a partition number", o.partition)
	}
	if _, err := startOffset(o.offset); err != nil {
		return nil, err
	}
	if o.include != "" {
		if _, err := regexp.Compile(o.include); err != nil {
			return nil, usageErrorf("--include %q is not a valid regular expression: %v", o.include, err)
		}
	}

	props, err := loadProps(o.consumerConfig)
	if err != nil {
		return nil, err
	}
	kv, err := parseKeyValues(o.consumerKVs)
	if err != nil {
		return nil, usageError{err}
	}
	for k, v := range kv {
		props[k] = v
	}

	// A group may come from --group, the file or --consumer-property; they
	// must agree.
	groups := map[string]bool{}
	if o.group != "" {
		groups[o.group] = true
	}
	if g := props["group.id"]; g != "" {
		groups[g] = true
	}
	if len(groups) > 1 {
		var names []string
		for g := range groups {
			names = append(names, "'"+g+"'")
		}
		sort.Strings(names)
		return nil, usageErrorf("the group ids given with --group, --consumer-property and --consumer.config do not match: %s", strings.Join(names, ", "))
	}
	if len(groups) == 1 && partition {
		return nil, usageErrorf("options group and partition cannot be specified together")
	}

	if reset, set := props["auto.offset.reset"]; set {
		if o.fromBeginning && reset != "earliest" {
			return nil, usageErrorf("can't simultaneously specify --from-beginning and 'auto.offset.reset=%s', please remove one option", reset)
		}
	} else if o.fromBeginning {
		props["auto.offset.reset"] = "earliest"
	} else {
		props["auto.offset.reset"] = "latest"
	}
	props["bootstrap.servers"] = o.bootstrap
	if _, set := props["client.id"]; !set {
		props["client.id"] = "console-consumer"
	}
	if _, set := props["isolation.level"]; f.Changed("isolation-level") || !set {
		props["isolation.level"] = o.isolationLevel
	}
	if _, set := props["max.partition.fetch.bytes"]; !set {
		// Larger fetches than Kafka's 1 MiB: franz-go has one fetch in
		// flight per broker, and printing a long topic is a fifth faster.
		props["max.partition.fetch.bytes"] = strconv.Itoa(4 << 20)
	}
	switch {
	case partition:
		delete(props, "group.id")
	case len(groups) == 0:
		// A group of its own, whose offsets are not worth keeping.
		props["group.id"] = fmt.Sprintf("console-consumer-%d", rand.IntN(100000))
		if _, set := props["enable.auto.commit"]; !set {
			props["enable.auto.commit"] = "false"
		}
	case o.group != "":
		props["group.id"] = o.group
	}
	return props, nil
}

// startOffset parses --offset.
func startOffset(s string) (kgo.Offset, error) {
	switch strings.ToLower(s) {
	case "earliest":
		return kgo.NewOffset().AtStart(), nil
	case "latest":
		return kgo.NewOffset().AtEnd(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return kgo.Offset{}, usageErrorf("the provided offset value '%s' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long", s)
	}
	return kgo.NewOffset().At(n), nil
}

func runConsoleConsumer(ctx context.Context, a *app, o consoleConsumerOptions, props map[string]string, format *recordFormatter) error {
	var extra []kgo.Opt
	_, inGroup := props["group.id"]
	commit := inGroup && props["enable.auto.commit"] != "false"
	switch {
	case !inGroup:
		at, _ := startOffset(o.offset)
		if o.fromBeginning {
			at = kgo.NewOffset().AtStart()
		}
		extra = append(extra, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{o.topic: {o.partition: at}}))
	case o.include != "":
		extra = append(extra, kgo.ConsumeRegex(), kgo.ConsumeTopics("^(?:"+o.include+")$"))
	default:
		extra = append(extra, kgo.ConsumeTopics(o.topic))
	}
	if commit {
		// Commit exactly what was printed: marks, committed every
		// auto.commit.interval.ms and once more at exit.
		extra = append(extra, kgo.AutoCommitMarks())
	}
	cl, err := a.toolClient(ctx, props, kafkaclient.Consumer, extra...)
	if err != nil {
		return err
	}
	defer cl.Close()

	c := &consoleConsumer{
		o:      o,
		format: format,
		cl:     cl,
		commit: commit,
		out:    bufio.NewWriterSize(a.stdout, 256<<10),
		a:      a,
	}
	err = c.consume(ctx)
	if ferr := c.out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write output: %w", ferr)
	}
	if commit {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if cerr := cl.CommitMarkedOffsets(cctx); cerr != nil && err == nil {
			err = fmt.Errorf("commit offsets of group %s: %w", props["group.id"], cerr)
		}
		cancel()
	}
	fmt.Fprintf(a.stderr, "Processed a total of %d messages\n", c.count)
	return err
}

type consoleConsumer struct {
	o      consoleConsumerOptions
	format *recordFormatter
	cl     *kgo.Client
	commit bool
	out    *bufio.Writer
	a      *app
	count  int64
	buf    []byte
}

// consume prints records until the context ends (SIGINT), --max-messages
// are printed, --timeout-ms passes without a record, or an error stops it.
func (c *consoleConsumer) consume(ctx context.Context) error {
	idle := time.Duration(c.o.timeoutMs) * time.Millisecond
	for c.o.maxMessages < 0 || c.count < c.o.maxMessages {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if c.o.timeoutMs >= 0 {
			pctx, cancel = context.WithTimeout(ctx, idle)
		}
		want := -1
		if c.o.maxMessages >= 0 {
			want = int(c.o.maxMessages - c.count)
		}
		fetches := c.cl.PollRecords(pctx, want)
		timedOut := pctx.Err() != nil && ctx.Err() == nil
		cancel()
		if fetches.IsClientClosed() || ctx.Err() != nil && fetches.NumRecords() == 0 {
			return nil
		}
		if err := c.print(fetches); err != nil {
			return err
		}
		if err := c.out.Flush(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		for _, fe := range fetches.Errors() {
			var loss *kgo.ErrDataLoss
			switch {
			case errors.Is(fe.Err, context.Canceled), errors.Is(fe.Err, context.DeadlineExceeded):
			case errors.As(fe.Err, &loss), kerr.IsRetriable(fe.Err):
				c.a.log.Warn("fetch", "topic", fe.Topic, "partition", fe.Partition, "err", fe.Err)
			default:
				return fmt.Errorf("consume topic %s partition %d: %w", fe.Topic, fe.Partition, fe.Err)
			}
		}
		if timedOut && fetches.NumRecords() == 0 {
			c.a.log.Debug("no record within --timeout-ms", "timeout", idle)
			return nil
		}
	}
	return nil
}

// print writes the polled records, then marks them for commit.
func (c *consoleConsumer) print(fetches kgo.Fetches) error {
	type tp struct {
		t string
		p int32
	}
	var (
		printed map[tp]*kgo.Record // the last printed record of each partition
		err     error
	)
	if c.commit {
		printed = make(map[tp]*kgo.Record)
	}
	fetches.EachRecord(func(r *kgo.Record) {
		if err != nil {
			return
		}
		c.count++
		var ferr error
		c.buf, ferr = c.format.appendRecord(c.buf[:0], r)
		switch {
		case ferr == nil:
			_, err = c.out.Write(c.buf)
		case c.o.skipOnError:
			c.a.log.Error("Error processing message, skipping this message", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", ferr)
		default:
			err = fmt.Errorf("record at offset %d of topic %s partition %d: %w", r.Offset, r.Topic, r.Partition, ferr)
			return
		}
		if c.commit {
			printed[tp{r.Topic, r.Partition}] = r
		}
	})
	if len(printed) > 0 {
		if ferr := c.out.Flush(); ferr == nil {
			for _, r := range printed {
				c.cl.MarkCommitRecords(r)
			}
		}
	}
	return err
}
