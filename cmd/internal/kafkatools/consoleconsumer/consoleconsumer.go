// Package consoleconsumer is the logic of `tributary console-consumer`,
// Kafka's kafka-console-consumer.sh: it prints the records of a topic (or
// of the topics a regular expression matches) on standard output, one a
// line, formatted as Kafka's DefaultMessageFormatter does, until its
// context ends, a number of records is printed or none arrives for a
// while.
//
// Its flags map to Options, which Run merges into Kafka consumer
// properties with Kafka's precedence: --consumer.config, then
// --consumer-property, then the dedicated flags. With a group it commits
// exactly what it printed; without one it joins a group of its own and
// commits nothing. Misuse of the flags comes back as a usage error
// (package usage) before any broker is contacted.
package consoleconsumer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
	"github.com/tributary-io/tributary/connect/kafkaclient"
)

// Options are the flags of kafka-console-consumer.sh, each field named
// after its flag.
type Options struct {
	Bootstrap          string   // --bootstrap-server
	Zookeeper          string   // --zookeeper: accepted, warned about, not used
	Topic              string   // --topic
	Include            string   // --include: a regular expression of topics, instead of Topic
	FromBeginning      bool     // --from-beginning
	Group              string   // --group
	Partition          int32    // --partition (without a group)
	Offset             string   // --offset: earliest, latest or a number, with Partition
	MaxMessages        int64    // --max-messages; negative: no limit
	TimeoutMs          int64    // --timeout-ms without a record; negative: wait forever
	SkipOnError        bool     // --skip-message-on-error
	IsolationLevel     string   // --isolation-level
	ConsumerProperties []string // --consumer-property key=value
	ConsumerConfig     string   // --consumer.config
	// FormatterProperties are the key=value formatter properties of
	// --formatter-property and --property, later ones taking precedence.
	FormatterProperties []string
	FormatterConfig     string // --formatter-config
	KeyDeserializer     string // --key-deserializer
	ValueDeserializer   string // --value-deserializer

	// Changed reports whether a flag (named without dashes, as
	// "partition") was given on the command line, which some checks and
	// defaults depend on; nil means none was.
	Changed func(flag string) bool
	// Logger receives warnings about fetches and the client's messages;
	// nil discards them.
	Logger *slog.Logger
}

func (o *Options) changed(flag string) bool { return o.Changed != nil && o.Changed(flag) }

// Run checks the options, then prints records on stdout until ctx ends
// (SIGINT), MaxMessages are printed, TimeoutMs passes without a record or
// an error stops it. "Processed a total of N messages" goes to stderr at
// the end, as in Kafka.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) error {
	props, err := o.consumerProps()
	if err != nil {
		return err
	}
	format, err := o.formatter()
	if err != nil {
		return err
	}
	toolclient.WarnZookeeper(stderr, o.Zookeeper, o.Bootstrap)
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var extra []kgo.Opt
	_, inGroup := props["group.id"]
	commit := inGroup && props["enable.auto.commit"] != "false"
	switch {
	case !inGroup:
		at, _ := startOffset(o.Offset)
		if o.FromBeginning {
			at = kgo.NewOffset().AtStart()
		}
		extra = append(extra, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{o.Topic: {o.Partition: at}}))
	case o.Include != "":
		extra = append(extra, kgo.ConsumeRegex(), kgo.ConsumeTopics("^(?:"+o.Include+")$"))
	default:
		extra = append(extra, kgo.ConsumeTopics(o.Topic))
	}
	if commit {
		// Commit exactly what was printed: marks, committed every
		// auto.commit.interval.ms and once more at exit.
		extra = append(extra, kgo.AutoCommitMarks())
	}
	cl, err := toolclient.New(ctx, log, props, kafkaclient.Consumer, extra...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if o.Topic != "" && !strings.EqualFold(props["allow.auto.create.topics"], "true") {
		o.warnMissing(ctx, cl, log)
	}

	c := &consumer{
		o:      o,
		format: format,
		cl:     cl,
		commit: commit,
		out:    bufio.NewWriterSize(stdout, 256<<10),
		log:    log,
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
	fmt.Fprintf(stderr, "Processed a total of %d messages\n", c.count)
	return err
}

// consumerProps checks the flags and merges the consumer's properties as
// Kafka's console consumer does: --consumer.config, then
// --consumer-property, then the flags.
func (o *Options) consumerProps() (map[string]string, error) {
	if (o.Topic == "") == (o.Include == "") {
		return nil, usage.Errorf("exactly one of --topic and --include is required")
	}
	partition := o.changed("partition")
	switch {
	case partition && o.Topic == "":
		return nil, usage.Errorf("the topic is required when partition is specified")
	case partition && o.FromBeginning && o.changed("offset"):
		return nil, usage.Errorf("options from-beginning and offset cannot be specified together")
	case !partition && o.changed("offset"):
		return nil, usage.Errorf("the partition is required when offset is specified")
	case partition && o.Partition < 0:
		return nil, usage.Errorf("--partition %d is not a partition number", o.Partition)
	}
	if _, err := startOffset(o.Offset); err != nil {
		return nil, err
	}
	if o.Include != "" {
		if _, err := regexp.Compile(o.Include); err != nil {
			return nil, usage.Errorf("--include %q is not a valid regular expression: %v", o.Include, err)
		}
	}

	props, err := toolclient.Properties(o.ConsumerConfig, o.ConsumerProperties)
	if err != nil {
		return nil, err
	}

	// A group may come from --group, the file or --consumer-property; they
	// must agree.
	groups := map[string]bool{}
	if o.Group != "" {
		groups[o.Group] = true
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
		return nil, usage.Errorf("the group ids given with --group, --consumer-property and --consumer.config do not match: %s", strings.Join(names, ", "))
	}
	if len(groups) == 1 && partition {
		return nil, usage.Errorf("options group and partition cannot be specified together")
	}

	if reset, set := props["auto.offset.reset"]; set {
		if o.FromBeginning && reset != "earliest" {
			return nil, usage.Errorf("can't simultaneously specify --from-beginning and 'auto.offset.reset=%s', please remove one option", reset)
		}
	} else if o.FromBeginning {
		props["auto.offset.reset"] = "earliest"
	} else {
		props["auto.offset.reset"] = "latest"
	}
	props["bootstrap.servers"] = o.Bootstrap
	if _, set := props["client.id"]; !set {
		props["client.id"] = "console-consumer"
	}
	if _, set := props["isolation.level"]; o.changed("isolation-level") || !set {
		props["isolation.level"] = o.IsolationLevel
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
	case o.Group != "":
		props["group.id"] = o.Group
	}
	return props, nil
}

// formatter builds the record formatter from --formatter-config, the
// deserializer flags and the formatter properties, in that order of
// precedence (the last wins).
func (o *Options) formatter() (*recordFormatter, error) {
	var kvs []string
	if o.KeyDeserializer != "" {
		kvs = append(kvs, "key.deserializer="+o.KeyDeserializer)
	}
	if o.ValueDeserializer != "" {
		kvs = append(kvs, "value.deserializer="+o.ValueDeserializer)
	}
	fprops, err := toolclient.Properties(o.FormatterConfig, append(kvs, o.FormatterProperties...))
	if err != nil {
		return nil, err
	}
	format, err := newRecordFormatter(fprops)
	return format, usage.Wrap(err)
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
		return kgo.Offset{}, usage.Errorf("the provided offset value '%s' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long", s)
	}
	return kgo.NewOffset().At(n), nil
}

// warnMissing says once that the topic to consume (or, with --partition,
// the partition) does not exist: the consumer waits for it, and without a
// word it would look stuck. Kafka's console consumer logs the broker's
// UNKNOWN_TOPIC_OR_PARTITION in the same case.
func (o *Options) warnMissing(ctx context.Context, cl *kgo.Client, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, toolclient.AdminTimeout)
	defer cancel()
	md, err := kadm.NewClient(cl).Metadata(ctx, o.Topic)
	if err != nil {
		log.Debug("metadata of the topic to consume", "topic", o.Topic, "err", err)
		return
	}
	t, ok := md.Topics[o.Topic]
	switch {
	case !ok || errors.Is(t.Err, kerr.UnknownTopicOrPartition):
		log.Warn("topic does not exist (yet); waiting for it", "topic", o.Topic)
	case t.Err != nil || !o.changed("partition"):
	case !hasPartition(t.Partitions, o.Partition):
		log.Warn("partition does not exist (yet); waiting for it", "topic", o.Topic, "partition", o.Partition, "partitions", len(t.Partitions))
	}
}

func hasPartition(ps kadm.PartitionDetails, p int32) bool {
	_, ok := ps[p]
	return ok
}

// consumer is one run of the console consumer.
type consumer struct {
	o      Options
	format *recordFormatter
	cl     *kgo.Client
	commit bool
	out    *bufio.Writer
	log    *slog.Logger
	count  int64
	buf    []byte
}

// consume prints records until the context ends (SIGINT), --max-messages
// are printed, --timeout-ms passes without a record, or an error stops it.
func (c *consumer) consume(ctx context.Context) error {
	idle := time.Duration(c.o.TimeoutMs) * time.Millisecond
	for c.o.MaxMessages < 0 || c.count < c.o.MaxMessages {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if c.o.TimeoutMs >= 0 {
			pctx, cancel = context.WithTimeout(ctx, idle)
		}
		want := -1
		if c.o.MaxMessages >= 0 {
			want = int(c.o.MaxMessages - c.count)
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
				c.log.Warn("fetch", "topic", fe.Topic, "partition", fe.Partition, "err", fe.Err)
			default:
				return fmt.Errorf("consume topic %s partition %d: %w", fe.Topic, fe.Partition, fe.Err)
			}
		}
		if timedOut && fetches.NumRecords() == 0 {
			c.log.Debug("no record within --timeout-ms", "timeout", idle)
			return nil
		}
	}
	return nil
}

// print writes the polled records, then marks them for commit.
func (c *consumer) print(fetches kgo.Fetches) error {
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
		case c.o.SkipOnError:
			c.log.Error("Error processing message, skipping this message", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", ferr)
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
