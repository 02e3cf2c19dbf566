// Package consoleproducer is the logic of `tributary console-producer`,
// Kafka's kafka-console-producer.sh: it reads its input line by line and
// publishes each line as one record, in order, parsed as Kafka's
// LineMessageReader does: with parse.key=true a line is key<TAB>value, with
// parse.headers=true it starts with h1:v1,h2:v2<TAB> (Options.Properties
// sets these and the separators).
//
// Its flags map to Options, which Run merges into Kafka producer
// properties with Kafka's precedence: --producer.config, then
// --producer-property, then the dedicated flags. A person typing at a
// terminal gets Kafka's '>' prompt; piped input is sent in bulk. The end
// of input, or ctx ending (SIGINT), sends what was read and returns.
package consoleproducer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
	"github.com/tributary-io/tributary/connect/kafkaclient"
)

// defaultMaxMessageBytes is Kafka's default max.message.bytes, used when the
// broker does not tell a topic's limit.
const defaultMaxMessageBytes = 1048588

// minBatchBytes is the smallest batch franz-go accepts.
const minBatchBytes = 512

// Options are the flags of kafka-console-producer.sh, each field named
// after its flag.
type Options struct {
	Bootstrap          string   // --bootstrap-server (or --broker-list); "": the properties or localhost:9092
	Zookeeper          string   // --zookeeper: accepted, warned about, not used
	Topic              string   // --topic
	Properties         []string // --property key=value of the line reader
	ReaderConfig       string   // --reader-config: line reader property file
	ProducerProperties []string // --producer-property key=value
	ProducerConfig     string   // --producer.config
	Compression        string   // --compression-codec
	Acks               string   // --request-required-acks
	Sync               bool     // --sync
	BatchSize          int32    // --batch-size, used when given
	LingerMs           int64    // --timeout

	// Changed reports whether a flag (named without dashes, as
	// "batch-size") was given on the command line, which decides whether
	// it overrides a property; nil means none was.
	Changed func(flag string) bool
	// Logger receives the client's messages; nil discards them.
	Logger *slog.Logger
}

func (o *Options) changed(flag string) bool { return o.Changed != nil && o.Changed(flag) }

// producerProps merges the producer's properties as Kafka's console
// producer does: --producer.config, then --producer-property, then the
// dedicated flags (those given, or whose key no property set).
func (o *Options) producerProps() (map[string]string, error) {
	props, err := toolclient.Properties(o.ProducerConfig, o.ProducerProperties)
	if err != nil {
		return nil, err
	}
	switch {
	case o.Bootstrap != "":
		props["bootstrap.servers"] = o.Bootstrap
	case props["bootstrap.servers"] == "":
		props["bootstrap.servers"] = toolclient.DefaultBootstrap
	}
	merge := func(flag, key, value string) {
		if _, set := props[key]; o.changed(flag) || !set {
			props[key] = value
		}
	}
	if _, err := kafkaclient.Compression(o.Compression); err != nil {
		return nil, usage.Errorf("--compression-codec %q %v", o.Compression, err)
	}
	merge("compression-codec", "compression.type", strings.ToLower(o.Compression))
	merge("request-required-acks", "acks", o.Acks)
	merge("timeout", "linger.ms", strconv.FormatInt(o.LingerMs, 10))
	if o.changed("batch-size") {
		props["batch.size"] = strconv.Itoa(int(o.BatchSize))
	}
	if _, set := props["client.id"]; !set {
		props["client.id"] = "console-producer"
	}
	if _, set := props["delivery.timeout.ms"]; !set {
		props["delivery.timeout.ms"] = "120000" // Kafka's default: a dead broker does not hang the exit
	}
	return props, nil
}

// lineReader builds the line reader from --reader-config and --property,
// the latter taking precedence.
func (o *Options) lineReader() (*lineReader, error) {
	readerProps, err := toolclient.Properties(o.ReaderConfig, o.Properties)
	if err != nil {
		return nil, err
	}
	reader, err := newLineReader(o.Topic, readerProps)
	return reader, usage.Wrap(err)
}

// Run checks the options, then sends stdin's lines; the prompt goes to
// stdout when stdin is a terminal, and lines that could not be sent are
// reported on stderr. A line that cannot be sent is reported with its
// number and the others still go; Run then fails. A line that cannot be
// parsed (parse.key without a separator) stops the input, as in Kafka;
// what was read before it is still sent.
func Run(ctx context.Context, o Options, stdin io.Reader, stdout, stderr io.Writer) error {
	if o.Topic == "" {
		return usage.Errorf("--topic is required")
	}
	props, err := o.producerProps()
	if err != nil {
		return err
	}
	reader, err := o.lineReader()
	if err != nil {
		return err
	}
	toolclient.WarnZookeeper(stderr, o.Zookeeper, props["bootstrap.servers"])
	// The batch size limits the largest record franz-go sends, so it is the
	// topic's max.message.bytes (read from the broker once connected), or
	// --batch-size when that is smaller.
	var batchSize int32
	if v, ok := props["batch.size"]; ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n <= 0 {
			return usage.Errorf("batch.size: %q is not a positive number", v)
		}
		batchSize = max(int32(n), minBatchBytes)
		delete(props, "batch.size")
	}
	var batchMax atomic.Int32
	batchMax.Store(defaultMaxMessageBytes)
	cl, err := toolclient.New(ctx, o.Logger, props, kafkaclient.Producer,
		kgo.ProducerBatchMaxBytesFn(func(string) int32 { return batchMax.Load() }),
		kgo.DefaultProduceTopic(o.Topic))
	if err != nil {
		return err
	}
	defer cl.Close()

	limit, limitKnown := topicMaxMessageBytes(ctx, cl, o.Topic)
	batchMax.Store(limit)
	why := fmt.Sprintf("the %d bytes topic %s accepts (max.message.bytes)", limit, o.Topic)
	if !limitKnown {
		why = fmt.Sprintf("the %d bytes a batch may hold", limit)
	}
	if batchSize > 0 && batchSize < limit {
		batchMax.Store(batchSize)
		why = fmt.Sprintf("--batch-size %d", batchSize)
	}

	rep := &sendReport{w: stderr, topic: o.Topic, tooLarge: why}
	lines := make(chan lineChunk, 4)
	go readLines(reader, stdin, stdout, lines) // owned by Run: ends at end of input (or with the process)

	send := func(c lineChunk) {
		for i, rec := range c.recs {
			lineNo := c.first + i
			if o.Sync {
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
		return fmt.Errorf("%d line(s) not sent to topic %s", n, o.Topic)
	}
	return nil
}

// topicMaxMessageBytes asks the broker for the topic's max.message.bytes.
// When the broker cannot say (an unknown topic, an old broker), Kafka's
// default is returned with known false.
func topicMaxMessageBytes(ctx context.Context, cl *kgo.Client, topic string) (limit int32, known bool) {
	ctx, cancel := context.WithTimeout(ctx, toolclient.ReachTimeout)
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
// At a terminal each line is prompted with '>' on stdout.
func readLines(reader *lineReader, stdin io.Reader, stdout io.Writer, out chan<- lineChunk) {
	defer close(out)
	prompt := isTerminal(stdin)
	br := bufio.NewReaderSize(stdin, 64<<10)
	const chunkLines = 1024
	c := lineChunk{first: 1}
	lineNo := 0
	for {
		if prompt {
			fmt.Fprint(stdout, ">")
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
