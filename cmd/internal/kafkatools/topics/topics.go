// Package topics is the logic of `tributary topics`, Kafka's
// kafka-topics.sh: create, list, describe, alter (add partitions to) and
// delete topics through the admin API of any Kafka-compatible broker, with
// Kafka's flags, checks, messages and output.
//
// Run takes the tool's Options (one field per flag) and does one action:
//
//	err := topics.Run(ctx, topics.Options{Bootstrap: "localhost:9092", List: true}, os.Stdout, os.Stderr)
//
// Misuse of the flags comes back as a usage error (package usage) before
// any broker is contacted.
package topics

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
	"github.com/tributary-io/tributary/config"
)

// Options are the flags of kafka-topics.sh, each field named after its
// flag.
type Options struct {
	Bootstrap     string // --bootstrap-server
	Zookeeper     string // --zookeeper: accepted, warned about, not used
	CommandConfig string // --command-config: admin client property file

	// The action: exactly one is set.
	Create, List, Describe, Delete, Alter bool

	Topic               string   // --topic: a name with Create, else a regular expression
	Partitions          int32    // --partitions; -1: the broker's default
	ReplicationFactor   int16    // --replication-factor; -1: the broker's default
	Configs             []string // --config name=value overrides of a new topic
	IfNotExists         bool     // --if-not-exists
	IfExists            bool     // --if-exists
	ExcludeInternal     bool     // --exclude-internal
	TopicsWithOverrides bool     // --topics-with-overrides

	// Changed reports whether a flag (named without dashes, as
	// "partitions") was given on the command line, which some checks
	// depend on; nil means none was.
	Changed func(flag string) bool
	// Logger receives the client's messages; nil discards them.
	Logger *slog.Logger
}

func (o *Options) changed(flag string) bool { return o.Changed != nil && o.Changed(flag) }

// Check validates the combination of flags, as kafka-topics.sh does. Its
// errors are usage errors.
func (o *Options) Check() error {
	actions := 0
	for _, b := range []bool{o.Create, o.List, o.Describe, o.Delete, o.Alter} {
		if b {
			actions++
		}
	}
	if actions != 1 {
		return usage.Errorf("command must include exactly one action: --list, --describe, --create, --alter or --delete")
	}
	if o.Topic == "" && (o.Create || o.Delete || o.Alter) {
		return usage.Errorf("--topic is required with --%s", o.action())
	}
	only := func(flag string, allowed ...string) error {
		if o.changed(flag) && !slices.Contains(allowed, o.action()) {
			return usage.Errorf("--%s can only be used with --%s", flag, strings.Join(allowed, " or --"))
		}
		return nil
	}
	for _, err := range []error{
		only("partitions", "create", "alter"),
		only("replication-factor", "create"),
		only("config", "create"),
		only("if-not-exists", "create"),
		only("if-exists", "alter", "delete", "describe"),
		only("exclude-internal", "list", "describe"),
		only("topics-with-overrides", "describe"),
	} {
		if err != nil {
			return err
		}
	}
	if o.Alter && !o.changed("partitions") {
		return usage.Errorf("--alter needs --partitions")
	}
	if o.changed("partitions") && o.Partitions < 1 {
		return usage.Errorf("--partitions must be greater than 0")
	}
	if o.changed("replication-factor") && o.ReplicationFactor < 1 {
		return usage.Errorf("--replication-factor must be between 1 and %d", 32767)
	}
	if _, err := parseTopicConfigs(o.Configs); err != nil {
		return usage.Wrap(err)
	}
	if !o.Create && o.Topic != "" {
		if _, err := topicFilter(o.Topic); err != nil {
			return usage.Wrap(err)
		}
	}
	return nil
}

func (o *Options) action() string {
	switch {
	case o.Create:
		return "create"
	case o.List:
		return "list"
	case o.Describe:
		return "describe"
	case o.Delete:
		return "delete"
	}
	return "alter"
}

// Run checks the options, then does their action against the broker:
// what Kafka's tool prints goes to stdout, warnings to stderr.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) error {
	if err := o.Check(); err != nil {
		return err
	}
	toolclient.WarnZookeeper(stderr, o.Zookeeper, o.Bootstrap)
	cl, err := toolclient.Admin(ctx, o.Logger, o.CommandConfig, o.Bootstrap, "")
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, toolclient.AdminTimeout)
	defer cancel()

	switch {
	case o.Create:
		return o.create(ctx, adm, stdout)
	case o.List:
		names, err := o.matchingTopics(ctx, adm)
		if err != nil {
			return err
		}
		for _, n := range names {
			fmt.Fprintln(stdout, n)
		}
		return nil
	case o.Describe:
		return o.describe(ctx, adm, stdout)
	case o.Delete:
		names, err := o.existingTopics(ctx, adm)
		if err != nil || len(names) == 0 {
			return err
		}
		resps, err := adm.DeleteTopics(ctx, names...)
		if err != nil {
			return err
		}
		for _, n := range names {
			if r := resps[n]; r.Err != nil {
				return topicError(n, r.Err, r.ErrMessage)
			}
		}
		return nil
	default:
		names, err := o.existingTopics(ctx, adm)
		if err != nil || len(names) == 0 {
			return err
		}
		resps, err := adm.UpdatePartitions(ctx, int(o.Partitions), names...)
		if err != nil {
			return err
		}
		for _, n := range names {
			if r := resps[n]; r.Err != nil {
				return topicError(n, r.Err, r.ErrMessage)
			}
		}
		return nil
	}
}

func (o *Options) create(ctx context.Context, adm *kadm.Client, stdout io.Writer) error {
	if err := config.TopicName(o.Topic); err != nil {
		return err
	}
	if w := config.TopicCollisionWarning(o.Topic); w != "" {
		fmt.Fprintln(stdout, w)
	}
	configs, _ := parseTopicConfigs(o.Configs) // checked in Check
	resp, err := adm.CreateTopic(ctx, o.Partitions, o.ReplicationFactor, configs, o.Topic)
	if err == nil {
		err = resp.Err
	}
	switch {
	case errors.Is(err, kerr.TopicAlreadyExists) && o.IfNotExists:
		return nil
	case err != nil:
		return topicError(o.Topic, err, resp.ErrMessage)
	}
	fmt.Fprintf(stdout, "Created topic %s.\n", o.Topic)
	return nil
}

// matchingTopics lists the topics that --topic matches (all when it is not
// given), sorted, internal topics excluded unless --exclude-internal=false.
func (o *Options) matchingTopics(ctx context.Context, adm *kadm.Client) ([]string, error) {
	var (
		details kadm.TopicDetails
		err     error
	)
	if o.ExcludeInternal {
		details, err = adm.ListTopics(ctx)
	} else {
		details, err = adm.ListTopicsWithInternal(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	match := func(string) bool { return true }
	if o.Topic != "" {
		match, _ = topicFilter(o.Topic) // checked in Check
	}
	var names []string
	for _, d := range details {
		if d.Err != nil || !match(d.Topic) {
			continue
		}
		if o.ExcludeInternal && (d.IsInternal || isInternalTopic(d.Topic)) {
			continue
		}
		names = append(names, d.Topic)
	}
	slices.Sort(names)
	return names, nil
}

// existingTopics is matchingTopics, failing when --topic matches nothing
// unless --if-exists is given.
func (o *Options) existingTopics(ctx context.Context, adm *kadm.Client) ([]string, error) {
	names, err := o.matchingTopics(ctx, adm)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 && o.Topic != "" && !o.IfExists {
		return nil, fmt.Errorf("Topic '%s' does not exist as expected", o.Topic) //nolint:staticcheck // Kafka's message
	}
	return names, nil
}

func (o *Options) describe(ctx context.Context, adm *kadm.Client, stdout io.Writer) error {
	names, err := o.existingTopics(ctx, adm)
	if err != nil || len(names) == 0 {
		return err
	}
	md, err := adm.Metadata(ctx, names...)
	if err != nil {
		return fmt.Errorf("describe topics: %w", err)
	}
	configs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return fmt.Errorf("describe topic configs: %w", err)
	}
	var b strings.Builder
	for _, n := range names {
		d, ok := md.Topics[n]
		if !ok || d.Err != nil || len(d.Partitions) == 0 {
			continue // deleted since it was listed
		}
		td := topicDescription{Name: n, ID: d.ID}
		if rc, err := configs.On(n, nil); err == nil && rc.Err == nil {
			for _, c := range rc.Configs {
				if c.Source == kmsg.ConfigSourceDefaultConfig {
					continue
				}
				v := "null"
				if c.Value != nil {
					v = *c.Value
				}
				td.Configs = append(td.Configs, c.Key+"="+v)
			}
		} else if err == nil {
			return topicError(n, rc.Err, rc.ErrMessage)
		}
		if o.TopicsWithOverrides && len(td.Configs) == 0 {
			continue
		}
		for _, p := range d.Partitions.Sorted() {
			td.Partitions = append(td.Partitions, partitionDescription{
				Partition: p.Partition, Leader: p.Leader, Replicas: p.Replicas, ISR: p.ISR,
			})
		}
		writeTopicDescription(&b, td, !o.TopicsWithOverrides)
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}

type topicDescription struct {
	Name       string
	ID         [16]byte
	Configs    []string // name=value of the configs that are not defaults
	Partitions []partitionDescription
}

type partitionDescription struct {
	Partition, Leader int32
	Replicas, ISR     []int32
}

// writeTopicDescription writes Kafka's describe output for one topic: the
// topic line, then (unless only the topic line is wanted) one line per
// partition.
func writeTopicDescription(b *strings.Builder, d topicDescription, partitions bool) {
	b.WriteString("Topic: " + d.Name)
	if d.ID != ([16]byte{}) {
		// Kafka prints topic IDs as URL-safe base64 without padding.
		b.WriteString("\tTopicId: " + base64.RawURLEncoding.EncodeToString(d.ID[:]))
	}
	rf := 0
	if len(d.Partitions) > 0 {
		rf = len(d.Partitions[0].Replicas)
	}
	fmt.Fprintf(b, "\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s\n", len(d.Partitions), rf, strings.Join(d.Configs, ","))
	if !partitions {
		return
	}
	for _, p := range d.Partitions {
		leader := "none"
		if p.Leader >= 0 {
			leader = strconv.Itoa(int(p.Leader))
		}
		fmt.Fprintf(b, "\tTopic: %s\tPartition: %d\tLeader: %s\tReplicas: %s\tIsr: %s\n",
			d.Name, p.Partition, leader, joinInt32s(p.Replicas), joinInt32s(p.ISR))
	}
}

func joinInt32s(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

// topicError turns a broker's per-topic error into Kafka's message for it.
func topicError(topic string, err error, msg string) error {
	switch {
	case errors.Is(err, kerr.TopicAlreadyExists):
		return fmt.Errorf("Topic '%s' already exists.", topic) //nolint:staticcheck // Kafka's message
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return fmt.Errorf("Topic '%s' does not exist as expected", topic) //nolint:staticcheck // Kafka's message
	case msg != "":
		return fmt.Errorf("%s (%w)", msg, err)
	}
	return fmt.Errorf("topic %s: %w", topic, err)
}

// parseTopicConfigs parses --config name=value overrides.
func parseTopicConfigs(kvs []string) (map[string]*string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := make(map[string]*string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || strings.Contains(v, "=") {
			return nil, fmt.Errorf("invalid topic config %q: configs must be in the format \"key=val\"", kv)
		}
		m[k] = &v
	}
	return m, nil
}

// topicFilter compiles --topic as Kafka's include list: a regular
// expression (commas mean "or", quotes around it are dropped) that must
// match the whole topic name.
func topicFilter(expr string) (func(string) bool, error) {
	expr = strings.ReplaceAll(strings.TrimSpace(expr), ",", "|")
	expr = strings.ReplaceAll(expr, " ", "")
	expr = strings.Trim(expr, `"'`)
	re, err := regexp.Compile("^(?:" + expr + ")$")
	if err != nil {
		return nil, fmt.Errorf("--topic %q is not a valid regular expression: %w", expr, err)
	}
	return re.MatchString, nil
}

// isInternalTopic reports Kafka's internal topics by name, for brokers
// that do not flag them in metadata.
func isInternalTopic(name string) bool {
	return name == "__consumer_offsets" || name == "__transaction_state"
}
