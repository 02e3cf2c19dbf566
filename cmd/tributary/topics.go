package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/kafkaclient"
)

// defaultBootstrap is the broker the tools talk to when none is named, as
// Kafka's tools do.
const defaultBootstrap = "localhost:9092"

// reachTimeout bounds how long a tool waits for the first answer of a
// broker before it gives up with one clear error.
const reachTimeout = 5 * time.Second

// adminTimeout bounds each admin request once a broker has answered.
const adminTimeout = 30 * time.Second

type topicsOptions struct {
	bootstrap     string
	zookeeper     string
	commandConfig string

	create, list, describe, del, alter bool

	topic             string
	partitions        int32
	replicationFactor int16
	configs           []string
	ifNotExists       bool
	ifExists          bool
	excludeInternal   bool
	withOverrides     bool
}

func newTopicsCmd(a *app) *cobra.Command {
	var o topicsOptions
	cmd := &cobra.Command{
		Use:   "topics",
		Short: "Create, delete, describe, or change a topic (kafka-topics.sh)",
		Long: `Create, delete, describe, or change a topic, with the flags and output of
Kafka's kafka-topics.sh. Exactly one action is required: --create, --list,
--describe, --alter or --delete.`,
		Example: `  tributary topics --bootstrap-server localhost:9092 --create --topic Teste --partitions 1 --replication-factor 1
  tributary topics --bootstrap-server localhost:9092 --list
  tributary topics --bootstrap-server localhost:9092 --describe --topic Teste`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(cmd.Flags()); err != nil {
				return err
			}
			return o.run(cmd.Context(), a)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.bootstrap, "bootstrap-server", defaultBootstrap, "the Kafka broker(s) to connect to, host:port[,host:port...]")
	f.StringVar(&o.zookeeper, "zookeeper", "", "accepted for old habits and not used: the tool talks to --bootstrap-server")
	f.StringVar(&o.commandConfig, "command-config", "", "property file of admin client settings")
	f.BoolVar(&o.create, "create", false, "create a new topic")
	f.BoolVar(&o.list, "list", false, "list all available topics")
	f.BoolVar(&o.describe, "describe", false, "list details for the given topics")
	f.BoolVar(&o.del, "delete", false, "delete a topic")
	f.BoolVar(&o.alter, "alter", false, "alter the number of partitions of a topic")
	f.StringVar(&o.topic, "topic", "", "the topic to create, alter, describe or delete; a regular expression except with --create")
	f.Int32Var(&o.partitions, "partitions", -1, "the number of partitions for the topic being created or altered (default: the broker's num.partitions)")
	f.Int16Var(&o.replicationFactor, "replication-factor", -1, "the replication factor of the topic being created (default: the broker's default.replication.factor)")
	f.StringArrayVar(&o.configs, "config", nil, "a topic configuration override name=value for the topic being created (repeatable)")
	f.BoolVar(&o.ifNotExists, "if-not-exists", false, "with --create: do not fail if the topic already exists")
	f.BoolVar(&o.ifExists, "if-exists", false, "with --alter, --delete or --describe: act only if the topic exists")
	f.BoolVar(&o.excludeInternal, "exclude-internal", true, "exclude internal topics when listing or describing; --exclude-internal=false shows them")
	f.BoolVar(&o.withOverrides, "topics-with-overrides", false, "with --describe: only show topics that have overridden configs")
	return cmd
}

// check validates the combination of flags, as kafka-topics.sh does.
func (o *topicsOptions) check(f *pflag.FlagSet) error {
	actions := 0
	for _, b := range []bool{o.create, o.list, o.describe, o.del, o.alter} {
		if b {
			actions++
		}
	}
	if actions != 1 {
		return usageErrorf("command must include exactly one action: --list, --describe, --create, --alter or --delete")
	}
	if o.topic == "" && (o.create || o.del || o.alter) {
		return usageErrorf("--topic is required with --%s", o.action())
	}
	only := func(flag string, allowed ...string) error {
		if f.Changed(flag) && !slices.Contains(allowed, o.action()) {
			return usageErrorf("--%s can only be used with --%s", flag, strings.Join(allowed, " or --"))
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
	if o.alter && !f.Changed("partitions") {
		return usageErrorf("--alter needs --partitions")
	}
	if f.Changed("partitions") && o.partitions < 1 {
		return usageErrorf("--partitions must be greater than 0")
	}
	if f.Changed("replication-factor") && o.replicationFactor < 1 {
		return usageErrorf("--replication-factor must be between 1 and %d", 32767)
	}
	if _, err := parseTopicConfigs(o.configs); err != nil {
		return usageError{err}
	}
	if !o.create && o.topic != "" {
		if _, err := topicFilter(o.topic); err != nil {
			return usageError{err}
		}
	}
	return nil
}

func (o *topicsOptions) action() string {
	switch {
	case o.create:
		return "create"
	case o.list:
		return "list"
	case o.describe:
		return "describe"
	case o.del:
		return "delete"
	}
	return "alter"
}

func (o *topicsOptions) run(ctx context.Context, a *app) error {
	if o.zookeeper != "" {
		fmt.Fprintf(a.stderr, "Warning: --zookeeper %s is not used: tributary talks to the broker at %s (--bootstrap-server) instead.\n", o.zookeeper, o.bootstrap)
	}
	props, err := loadProps(o.commandConfig)
	if err != nil {
		return err
	}
	props["bootstrap.servers"] = o.bootstrap
	cl, err := a.toolClient(ctx, props, kafkaclient.Admin)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()

	switch {
	case o.create:
		return o.runCreate(ctx, a, adm)
	case o.list:
		names, err := o.matchingTopics(ctx, adm)
		if err != nil {
			return err
		}
		for _, n := range names {
			fmt.Fprintln(a.stdout, n)
		}
		return nil
	case o.describe:
		return o.runDescribe(ctx, a, adm)
	case o.del:
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
		resps, err := adm.UpdatePartitions(ctx, int(o.partitions), names...)
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

func (o *topicsOptions) runCreate(ctx context.Context, a *app, adm *kadm.Client) error {
	if err := validateTopicName(o.topic); err != nil {
		return err
	}
	if hasCollisionChars(o.topic) {
		fmt.Fprintln(a.stdout, "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.")
	}
	configs, _ := parseTopicConfigs(o.configs) // checked in check
	resp, err := adm.CreateTopic(ctx, o.partitions, o.replicationFactor, configs, o.topic)
	if err == nil {
		err = resp.Err
	}
	switch {
	case errors.Is(err, kerr.TopicAlreadyExists) && o.ifNotExists:
		return nil
	case err != nil:
		return topicError(o.topic, err, resp.ErrMessage)
	}
	fmt.Fprintf(a.stdout, "Created topic %s.\n", o.topic)
	return nil
}

// matchingTopics lists the topics that --topic matches (all when it is not
// given), sorted, internal topics excluded unless --exclude-internal=false.
func (o *topicsOptions) matchingTopics(ctx context.Context, adm *kadm.Client) ([]string, error) {
	var (
		details kadm.TopicDetails
		err     error
	)
	if o.excludeInternal {
		details, err = adm.ListTopics(ctx)
	} else {
		details, err = adm.ListTopicsWithInternal(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	match := func(string) bool { return true }
	if o.topic != "" {
		match, _ = topicFilter(o.topic) // checked in check
	}
	var names []string
	for _, d := range details {
		if d.Err != nil || !match(d.Topic) {
			continue
		}
		if o.excludeInternal && (d.IsInternal || isInternalTopic(d.Topic)) {
			continue
		}
		names = append(names, d.Topic)
	}
	slices.Sort(names)
	return names, nil
}

// existingTopics is matchingTopics, failing when --topic matches nothing
// unless --if-exists is given.
func (o *topicsOptions) existingTopics(ctx context.Context, adm *kadm.Client) ([]string, error) {
	names, err := o.matchingTopics(ctx, adm)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 && o.topic != "" && !o.ifExists {
		return nil, fmt.Errorf("Topic '%s' does not exist as expected", o.topic) //nolint:staticcheck // Kafka's message
	}
	return names, nil
}

func (o *topicsOptions) runDescribe(ctx context.Context, a *app, adm *kadm.Client) error {
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
		if o.withOverrides && len(td.Configs) == 0 {
			continue
		}
		for _, p := range d.Partitions.Sorted() {
			td.Partitions = append(td.Partitions, partitionDescription{
				Partition: p.Partition, Leader: p.Leader, Replicas: p.Replicas, ISR: p.ISR,
			})
		}
		writeTopicDescription(&b, td, !o.withOverrides)
	}
	_, err = io.WriteString(a.stdout, b.String())
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

// maxTopicNameLength is Kafka's limit on the length of a topic name.
const maxTopicNameLength = 249

// validateTopicName applies Kafka's rules for topic names, with Kafka's
// messages.
func validateTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("Topic name is illegal, it can't be empty") //nolint:staticcheck // Kafka's message
	case name == "." || name == "..":
		return errors.New("Topic name cannot be \".\" or \"..\"") //nolint:staticcheck // Kafka's message
	case len(name) > maxTopicNameLength:
		return fmt.Errorf("Topic name is illegal, it can't be longer than %d characters, topic name: %s", maxTopicNameLength, name) //nolint:staticcheck // Kafka's message
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("Topic name %q is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name) //nolint:staticcheck // Kafka's message
		}
	}
	return nil
}

// hasCollisionChars reports whether a topic name has both '.' and '_',
// which collide in Kafka's metric names.
func hasCollisionChars(name string) bool {
	return strings.Contains(name, ".") && strings.Contains(name, "_")
}

// isInternalTopic reports Kafka's internal topics by name, for brokers
// that do not flag them in metadata.
func isInternalTopic(name string) bool {
	return name == "__consumer_offsets" || name == "__transaction_state"
}

// loadProps reads a property file given to a tool (--command-config,
// --producer.config, --consumer.config); an empty path gives no properties.
func loadProps(path string) (map[string]string, error) {
	if path == "" {
		return map[string]string{}, nil
	}
	p, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return p.Map(), nil
}

// toolClient builds a franz-go client from Kafka client properties and
// checks that a broker answers within reachTimeout. A property that cannot
// be translated is a usage error.
func (a *app) toolClient(ctx context.Context, props map[string]string, role kafkaclient.Role, extra ...kgo.Opt) (*kgo.Client, error) {
	res, err := kafkaclient.Options(props, role)
	if err != nil {
		return nil, usageError{err}
	}
	if len(res.Ignored) > 0 {
		a.log.Debug("client properties with no effect", "keys", res.Ignored)
	}
	logger := &startupLogger{Logger: kafkaclient.Logger(a.log)}
	logger.quiet.Store(true)
	opts := append([]kgo.Opt{kgo.WithLogger(logger)}, res.Opts...)
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, usageError{err}
	}
	if err := kafkaclient.Reachable(ctx, cl, reachTimeout); err != nil {
		cl.Close()
		return nil, err
	}
	logger.quiet.Store(false)
	return cl, nil
}

// startupLogger logs the client's messages at debug level while quiet:
// until a broker has answered, failures to connect are what the one error
// line reports.
type startupLogger struct {
	kgo.Logger
	quiet atomic.Bool
}

func (l *startupLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	if l.quiet.Load() {
		level = kgo.LogLevelDebug
	}
	l.Logger.Log(level, msg, keyvals...)
}
