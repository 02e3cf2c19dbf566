package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connect/kafkaclient"
)

// defaultMaxMessageBytes is Kafka's default max.message.bytes, used when the
// broker does not tell a topic's limit.
const defaultMaxMessageBytes = 1048588

// minBatchBytes is the smallest batch franz-go accepts.
const minBatchBytes = 512

type consoleProducerOptions struct {
	bootstrap      string
	brokerList     string
	topic          string
	properties     []string
	readerConfig   string
	producerKVs    []string
	producerConfig string
	compression    string
	acks           string
	sync           bool
	batchSize      int32
	lingerMs       int64
}

func newConsoleProducerCmd(a *app) *cobra.Command {
	var o consoleProducerOptions
	cmd := &cobra.Command{
		Use:   "console-producer",
		Short: "Read lines from standard input and publish them to a topic (kafka-console-producer.sh)",
		Long: `Read standard input line by line and publish each line as one record, in
order, as Kafka's kafka-console-producer.sh does. End of input sends what is
left and exits; so does SIGINT. With --property parse.key=true a line is
key<TAB>value; with parse.headers=true it starts with h1:v1,h2:v2<TAB>.`,
		Example: `  tributary console-producer --bootstrap-server localhost:9092 --topic Teste
  tributary console-producer --broker-list localhost:9092 --topic Teste --property parse.key=true --property key.separator=:`,
		Args: usageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := optionalFlagValue(cmd.Flags(), "compression-codec", &o.compression, args); err != nil {
				return err
			}
			if o.topic == "" {
				return usageErrorf("--topic is required")
			}
			props, err := o.producerProps(cmd.Flags())
			if err != nil {
				return err
			}
			readerProps, err := loadProps(o.readerConfig)
			if err != nil {
				return err
			}
			kv, err := parseKeyValues(o.properties)
			if err != nil {
				return usageError{err}
			}
			for k, v := range kv {
				readerProps[k] = v
			}
			reader, err := newLineReader(o.topic, readerProps)
			if err != nil {
				return usageError{err}
			}
			return runConsoleProducer(cmd.Context(), a, o, props, reader)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.bootstrap, "bootstrap-server", "", "the Kafka broker(s) to connect to, host:port[,host:port...] (default localhost:9092)")
	f.StringVar(&o.brokerList, "broker-list", "", "the older name of --bootstrap-server; ignored when --bootstrap-server is given")
	f.StringVar(&o.topic, "topic", "", "the topic to produce to (required)")
	f.StringArrayVar(&o.properties, "property", nil, "a line reader property key=value: parse.key, key.separator, parse.headers, headers.delimiter, headers.separator, headers.key.separator, ignore.error, null.marker (repeatable)")
	f.StringVar(&o.readerConfig, "reader-config", "", "property file of line reader properties; --property takes precedence")
	f.StringArrayVar(&o.producerKVs, "producer-property", nil, "a producer property key=value, such as linger.ms=5 (repeatable)")
	f.StringVar(&o.producerConfig, "producer.config", "", "producer property file; --producer-property takes precedence")
	f.StringVar(&o.compression, "compression-codec", "none", "compression: none, gzip, snappy, lz4 or zstd; given without a value, gzip")
	f.Lookup("compression-codec").NoOptDefVal = "gzip"
	f.StringVar(&o.acks, "request-required-acks", "-1", "the acks the producer requires: -1 (all), 0 or 1")
	f.BoolVar(&o.sync, "sync", false, "send each line and wait for its acknowledgement before reading the next")
	f.Int32Var(&o.batchSize, "batch-size", 16384, "bytes per batch (batch.size); franz-go cannot send a record larger than its batch, so when given, longer lines are reported and skipped")
	f.Int64Var(&o.lingerMs, "timeout", 1000, "how long in ms a record may wait for more records to fill its batch (linger.ms)")
	return cmd
}

// producerProps merges the producer's properties as Kafka's console
// producer does: --producer.config, then --producer-property, then the
// dedicated flags (those given, or whose key no property set).
func (o *consoleProducerOptions) producerProps(f *pflag.FlagSet) (map[string]string, error) {
	props, err := loadProps(o.producerConfig)
	if err != nil {
		return nil, err
	}
	kv, err := parseKeyValues(o.producerKVs)
	if err != nil {
		return nil, usageError{err}
	}
	for k, v := range kv {
		props[k] = v
	}
	switch {
	case o.bootstrap != "":
		props["bootstrap.servers"] = o.bootstrap
	case o.brokerList != "":
		props["bootstrap.servers"] = o.brokerList
	case props["bootstrap.servers"] == "":
		props["bootstrap.servers"] = defaultBootstrap
	}
	merge := func(flag, key, value string) {
		if _, set := props[key]; f.Changed(flag) || !set {
			props[key] = value
		}
	}
	if _, err := kafkaclient.Compression(o.compression); err != nil {
		return nil, usageErrorf("--compression-codec %q %v", o.compression, err)
	}
	merge("compression-codec", "compression.type", strings.ToLower(o.compression))
	merge("request-required-acks", "acks", o.acks)
	merge("timeout", "linger.ms", strconv.FormatInt(o.lingerMs, 10))
	if f.Changed("batch-size") {
		props["batch.size"] = strconv.Itoa(int(o.batchSize))
	}
	if _, set := props["client.id"]; !set {
		props["client.id"] = "console-producer"
	}
	if _, set := props["delivery.timeout.ms"]; !set {
		props["delivery.timeout.ms"] = "120000" // Kafka's default: a dead broker does not hang the exit
	}
	return props, nil
}

// runConsoleProducer sends stdin's lines. A line that cannot be sent is
// reported with its number and the others still go; the command then exits
// with 1. A line that cannot be parsed (parse.key without a separator)
// stops the input, as in Kafka; what was read before it is still sent.
func runConsoleProducer(ctx context.Context, a *app, o consoleProducerOptions, props map[string]string, reader *lineReader) error {
	// The batch size limits the largest record franz-go sends, so it is the
	// topic's max.message.bytes (read from the broker once connected), or
	// --batch-size when that is smaller.
	var batchSize int32
	if v, ok := props["batch.size"]; ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n <= 0 {
			return usageErrorf("batch.size: %q is not a positive number", v)
		}
		batchSize = max(int32(n), minBatchBytes)
		delete(props, "batch.size")
	}
	var batchMax atomic.Int32
	batchMax.Store(defaultMaxMessageBytes)
	cl, err := a.toolClient(ctx, props, kafkaclient.Producer,
		kgo.ProducerBatchMaxBytesFn(func(string) int32 { return batchMax.Load() }),
		kgo.DefaultProduceTopic(o.topic))
	if err != nil {
		return err
	}
	defer cl.Close()

	limit, limitKnown := topicMaxMessageBytes(ctx, cl, o.topic)
	batchMax.Store(limit)
	why := fmt.Sprintf("the %d bytes topic %s accepts (max.message.bytes)", limit, o.topic)
	if !limitKnown {
		why = fmt.Sprintf("the %d bytes a batch may hold", limit)
	}
	if batchSize > 0 && batchSize < limit {
		batchMax.Store(batchSize)
		why = fmt.Sprintf("--batch-size %d", batchSize)
	}

	rep := &sendReport{w: a.stderr, topic: o.topic, tooLarge: why}
	lines := make(chan lineChunk, 4)
	go readLines(a, reader, lines) // owned by this command: ends at end of input (or with the process)

	send := func(c lineChunk) {
		for i, rec := range c.recs {
			lineNo := c.first + i
			if o.sync {
				// Not cancelled by SIGINT: a line that was read is sent.
				if err := cl.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
					rep.fail(lineNo, rec, err)
				}
				continue
			}
			cl.Produce(context.Background(), rec, func(r *kgo.Record, err error) {
				if err != nil {
					rep.fail(lineNo, r, err)
				}
			})
		}
	}
	var parseErr error
loop:
	for {
		select {
		case <-ctx.Done():
			// SIGINT: send the lines already read, then stop.
			for {
				select {
				case c, ok := <-lines:
					if ok && parseErr == nil {
						send(c)
						parseErr = c.err
						continue
					}
				default:
				}
				break loop
			}
		case c, ok := <-lines:
			if !ok {
				break loop
			}
			send(c)
			if c.err != nil {
				parseErr = c.err
				break loop
			}
		}
	}
	// Send what was read, however the input ended. Records have a delivery
	// timeout, so this ends.
	if err := cl.Flush(context.Background()); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if parseErr != nil {
		return parseErr
	}
	if n := rep.failures(); n > 0 {
		return fmt.Errorf("%d line(s) not sent to topic %s", n, o.topic)
	}
	return nil
}

// topicMaxMessageBytes asks the broker for the topic's max.message.bytes.
// When the broker cannot say (an unknown topic, an old broker), Kafka's
// default is returned with known false.
func topicMaxMessageBytes(ctx context.Context, cl *kgo.Client, topic string) (limit int32, known bool) {
	ctx, cancel := context.WithTimeout(ctx, reachTimeout)
	defer cancel()
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return defaultMaxMessageBytes, false
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		return defaultMaxMessageBytes, false
	}
	for _, c := range rc.Configs {
		if c.Key == "max.message.bytes" && c.Value != nil {
			if n, err := strconv.ParseInt(*c.Value, 10, 32); err == nil && n >= minBatchBytes {
				return int32(n), true
			}
		}
	}
	return defaultMaxMessageBytes, false
}

// lineChunk is a run of parsed lines; err, if set, is the parse error of the
// line after the last record, which ends the input.
type lineChunk struct {
	recs  []*kgo.Record
	first int // line number of recs[0]
	err   error
}

// readLines reads stdin, parses each line into a record and sends them in
// chunks: a chunk is sent when it is full or when reading further would
// wait for input, so typed lines go at once and piped input goes in bulk.
func readLines(a *app, reader *lineReader, out chan<- lineChunk) {
	defer close(out)
	prompt := isTerminal(a.stdin)
	br := bufio.NewReaderSize(a.stdin, 64<<10)
	const chunkLines = 1024
	c := lineChunk{first: 1}
	lineNo := 0
	for {
		if prompt {
			fmt.Fprint(a.stdout, ">")
		}
		line, err := br.ReadString('\n')
		if line == "" && err != nil {
			break
		}
		lineNo++
		line = strings.TrimSuffix(line, "\n")
		line = strings.TrimSuffix(line, "\r")
		rec, perr := reader.record(line, lineNo)
		if perr != nil {
			c.err = perr
			break
		}
		c.recs = append(c.recs, rec)
		if len(c.recs) == chunkLines || br.Buffered() == 0 || err != nil {
			out <- c
			c = lineChunk{first: lineNo + 1}
		}
		if err != nil {
			break
		}
	}
	if len(c.recs) > 0 || c.err != nil {
		out <- c
	}
}

// sendReport reports lines that could not be sent, each with its number.
// Promises run on the client's goroutines, so it locks.
type sendReport struct {
	w        io.Writer
	topic    string
	tooLarge string

	mu     sync.Mutex
	failed int
}

func (s *sendReport) fail(lineNo int, r *kgo.Record, err error) {
	reason := err.Error()
	if errors.Is(err, kerr.MessageTooLarge) {
		reason = fmt.Sprintf("its record of %d bytes is larger than %s", len(r.Key)+len(r.Value), s.tooLarge)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed++
	fmt.Fprintf(s.w, "Error: line %d was not sent to topic %s: %s\n", lineNo, s.topic, reason)
}

func (s *sendReport) failures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// parseKeyValues parses key=value arguments as Kafka's tools do: the value
// is everything after the first '=', and a key without '=' has an empty
// value.
func parseKeyValues(kvs []string) (map[string]string, error) {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid property %q: want key=value", kv)
		}
		m[k] = v
	}
	return m, nil
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
