// Package getoffsets is the logic of `tributary get-offsets`, Kafka's
// kafka-get-offsets.sh (GetOffsetShell): the offsets of topic partitions
// at a point in time (the latest, the earliest, that of the largest
// timestamp, or the first at or after a timestamp), printed as
// topic:partition:offset, one line per partition, sorted as Kafka sorts
// them (by "topic-partition" as text).
//
// Partitions are chosen as Kafka's tool chooses them: --topic (a regular
// expression matching whole names) and --partitions (ids), or
// --topic-partitions, a comma-separated list of patterns
// topic-regex[:partition | :lower-upper | :lower- | :-upper] (lower
// inclusive, upper exclusive). A partition with no offset for the time
// asked (a timestamp after its last record) is left out; one whose leader
// answers with an error is reported on stderr and skipped.
package getoffsets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

// Options are the flags of kafka-get-offsets.sh, each named after its
// flag.
type Options struct {
	Bootstrap             string // --bootstrap-server
	CommandConfig         string // --command-config: admin client property file
	Topic                 string // --topic: a regular expression; "" for every topic
	Partitions            string // --partitions: comma-separated ids; "" for every partition
	TopicPartitions       string // --topic-partitions: comma-separated patterns
	Time                  string // --time: -1/latest, -2/earliest, -3/max-timestamp, -4/earliest-local, -5/latest-tiered, or a timestamp in ms
	ExcludeInternalTopics bool   // --exclude-internal-topics

	// Changed reports whether a flag (named without dashes) was given on
	// the command line; nil means none was.
	Changed func(flag string) bool
	// Logger receives the client's messages; nil discards them.
	Logger *slog.Logger
}

func (o *Options) changed(flag string) bool { return o.Changed != nil && o.Changed(flag) }

// ParseTime turns a --time value into the timestamp of a ListOffsets
// request: -1 to -5 for Kafka's named times, else milliseconds since the
// epoch.
func ParseTime(s string) (int64, error) {
	switch s {
	case "latest":
		return -1, nil
	case "earliest":
		return -2, nil
	case "max-timestamp":
		return -3, nil
	case "earliest-local":
		return -4, nil
	case "latest-tiered":
		return -5, nil
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, usage.Errorf("malformed time argument %s. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp", s)
	}
	if ts < -5 {
		return 0, usage.Errorf("--time %d: a timestamp is at least 0; -1 to -5 name latest, earliest, max-timestamp, earliest-local and latest-tiered", ts)
	}
	return ts, nil
}

// filter is one rule choosing partitions: a topic pattern and a partition
// range [lower, upper).
type filter struct {
	topic        *regexp.Regexp
	lower, upper int32
	ids          map[int32]bool // --partitions; nil for the range
}

func (f filter) allows(topic string, p int32) bool {
	if !f.topic.MatchString(topic) {
		return false
	}
	if f.ids != nil {
		return len(f.ids) == 0 || f.ids[p]
	}
	return p >= f.lower && p < f.upper
}

// topicRegexp compiles a topic pattern as Kafka's IncludeList does (commas
// are alternatives, spaces and surrounding quotes dropped), matching whole
// names.
func topicRegexp(raw string) (*regexp.Regexp, error) {
	s := strings.TrimSpace(raw)
	s = strings.ReplaceAll(s, ",", "|")
	s = strings.ReplaceAll(s, " ", "")
	s = strings.TrimLeft(s, `"'`)
	s = strings.TrimRight(s, `"'`)
	re, err := regexp.Compile("^(?:" + s + ")$")
	if err != nil {
		return nil, usage.Errorf("%s is an invalid regex: %v", s, err)
	}
	return re, nil
}

var rulePattern = regexp.MustCompile(`^([^:,]*)(?::(?:([0-9]*)|(?:([0-9]*)-([0-9]*))))?$`)

// parseRule parses one --topic-partitions pattern.
func parseRule(spec string) (filter, error) {
	m := rulePattern.FindStringSubmatch(spec)
	if m == nil {
		return filter{}, usage.Errorf("invalid rule specification: %s", spec)
	}
	topic := m[1]
	if topic == "" {
		topic = ".*"
	}
	re, err := topicRegexp(topic)
	if err != nil {
		return filter{}, err
	}
	f := filter{topic: re, lower: 0, upper: math.MaxInt32}
	num := func(s string) (int32, error) {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return 0, usage.Errorf("invalid rule specification: %s: partition %s out of range", spec, s)
		}
		return int32(n), nil
	}
	switch {
	case m[2] != "":
		p, err := num(m[2])
		if err != nil {
			return filter{}, err
		}
		f.lower, f.upper = p, p+1
	default:
		if m[3] != "" {
			if f.lower, err = num(m[3]); err != nil {
				return filter{}, err
			}
		}
		if m[4] != "" {
			if f.upper, err = num(m[4]); err != nil {
				return filter{}, err
			}
		}
	}
	return f, nil
}

// filters returns the rules the options choose partitions by.
func (o *Options) filters() ([]filter, error) {
	if o.changed("topic-partitions") || o.TopicPartitions != "" {
		var fs []filter
		for _, spec := range strings.Split(o.TopicPartitions, ",") {
			f, err := parseRule(spec)
			if err != nil {
				return nil, err
			}
			fs = append(fs, f)
		}
		return fs, nil
	}
	topic := o.Topic
	if topic == "" {
		topic = ".*"
	}
	re, err := topicRegexp(topic)
	if err != nil {
		return nil, err
	}
	ids := map[int32]bool{}
	if o.Partitions != "" {
		for _, s := range strings.Split(o.Partitions, ",") {
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				return nil, usage.Errorf("--partitions expects a comma separated list of numeric partition ids, but received: %s", o.Partitions)
			}
			ids[int32(n)] = true
		}
	}
	return []filter{{topic: re, ids: ids}}, nil
}

// Check validates the options.
func (o *Options) Check() error {
	if (o.changed("topic-partitions") || o.TopicPartitions != "") && (o.changed("topic") || o.changed("partitions") || o.Topic != "" || o.Partitions != "") {
		return usage.Errorf("--topic-partitions cannot be used with --topic or --partitions")
	}
	if _, err := ParseTime(o.Time); err != nil {
		return err
	}
	_, err := o.filters()
	return err
}

// Run prints the offsets the options ask for.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) error {
	if err := o.Check(); err != nil {
		return err
	}
	ts, _ := ParseTime(o.Time)
	filters, _ := o.filters()
	cl, err := toolclient.Admin(ctx, o.Logger, o.CommandConfig, o.Bootstrap, "GetOffsetShell")
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, toolclient.AdminTimeout)
	defer cancel()

	adm := kadm.NewClient(cl)
	var topics kadm.TopicDetails
	if o.ExcludeInternalTopics {
		topics, err = adm.ListTopics(ctx)
	} else {
		topics, err = adm.ListTopicsWithInternal(ctx)
	}
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	n := 0
	for _, td := range topics.Sorted() {
		if td.Err != nil {
			continue
		}
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = td.Topic
		for _, pd := range td.Partitions.Sorted() {
			if !allowed(filters, td.Topic, pd.Partition) {
				continue
			}
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition = pd.Partition
			rp.CurrentLeaderEpoch = -1
			rp.Timestamp = ts
			rt.Partitions = append(rt.Partitions, rp)
			n++
		}
		if len(rt.Partitions) > 0 {
			req.Topics = append(req.Topics, rt)
		}
	}
	if n == 0 {
		return fmt.Errorf("could not match any topic-partitions with the specified filters (%s)", o.describeFilters())
	}

	type result struct {
		topic     string
		partition int32
		offset    int64
	}
	var results []result
	var errs []error
	for _, shard := range cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			errs = append(errs, fmt.Errorf("list offsets: %w", shard.Err))
			continue
		}
		resp := shard.Resp.(*kmsg.ListOffsetsResponse)
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					fmt.Fprintf(stderr, "Skip getting offsets for topic-partition %s-%d due to error: %v\n", t.Topic, p.Partition, err)
					continue
				}
				if p.Offset == -1 {
					continue
				}
				results = append(results, result{t.Topic, p.Partition, p.Offset})
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	sort.Slice(results, func(i, j int) bool {
		return fmt.Sprintf("%s-%d", results[i].topic, results[i].partition) < fmt.Sprintf("%s-%d", results[j].topic, results[j].partition)
	})
	var b strings.Builder
	for _, r := range results {
		fmt.Fprintf(&b, "%s:%d:%d\n", r.topic, r.partition, r.offset)
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}

// describeFilters names the filters for an error.
func (o *Options) describeFilters() string {
	if o.TopicPartitions != "" {
		return "--topic-partitions " + o.TopicPartitions
	}
	var parts []string
	if o.Topic != "" {
		parts = append(parts, "--topic "+o.Topic)
	}
	if o.Partitions != "" {
		parts = append(parts, "--partitions "+o.Partitions)
	}
	if o.ExcludeInternalTopics {
		parts = append(parts, "--exclude-internal-topics")
	}
	if len(parts) == 0 {
		return "the cluster has no topics"
	}
	return strings.Join(parts, " ")
}

func allowed(filters []filter, topic string, p int32) bool {
	for _, f := range filters {
		if f.allows(topic, p) {
			return true
		}
	}
	return false
}
