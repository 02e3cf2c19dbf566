// Package configs is the logic of `tributary configs`, Kafka's
// kafka-configs.sh (ConfigCommand): describe and alter the dynamic
// configs of topics, brokers (one, or the cluster-wide default) and
// broker loggers, the quotas of users and clients, and users' SCRAM
// credentials, through the admin API of any Kafka-compatible broker, with
// Kafka's flags, checks and output:
//
//	Dynamic configs for topic orders are:
//	  retention.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=3600000, STATIC_BROKER_CONFIG:log.retention.hours=168, DEFAULT_CONFIG:log.retention.hours=168}
//	Quota configs for user-principal 'alice' are consumer_byte_rate=1048576.0
//	SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192
//	Completed updating config for topic orders.
//
// An entity is named with --entity-type and --entity-name (or
// --entity-default), or with Kafka's shortcuts (--topic, --broker,
// --broker-defaults, --broker-logger, --user, --user-defaults, --client,
// --client-defaults). Users and clients may be given together, for the
// quotas of one user's clients.
//
// Where this differs from Kafka's tool: broker configs are altered with
// IncrementalAlterConfigs (Kafka's tool replaces the broker's whole
// dynamic config with the older AlterConfigs); --describe of all the
// entities of a type lists them sorted; ips, client-metrics and groups
// are not offered; ZooKeeper is never used (--zookeeper is refused, as
// Kafka 4 does).
package configs

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
	"github.com/tributary-io/tributary/config"
)

// Entity types, as Kafka names them.
const (
	Topics        = "topics"
	Brokers       = "brokers"
	BrokerLoggers = "broker-loggers"
	Users         = "users"
	Clients       = "clients"
)

// EntityTypes are the entity types the tool handles.
var EntityTypes = []string{Topics, Clients, Users, Brokers, BrokerLoggers}

// Options are the flags of kafka-configs.sh, each named after its flag.
type Options struct {
	Bootstrap     string // --bootstrap-server
	CommandConfig string // --command-config: admin client property file

	Describe, Alter bool // the action: exactly one
	All             bool // --all: with --describe, every config, not only dynamic ones

	// EntityTypes are the --entity-type values, in order.
	EntityTypes []string
	// EntityNames are the --entity-name values, with "" for each
	// --entity-default, in command line order.
	EntityNames []string

	// Kafka's shortcuts for --entity-type T --entity-name N.
	Topic, Broker, BrokerLogger, User, Client string
	// Kafka's shortcuts for --entity-type T --entity-default.
	BrokerDefaults, UserDefaults, ClientDefaults bool

	AddConfig     string   // --add-config k1=v1,k2=[v1,v2]
	AddConfigFile string   // --add-config-file: a property file of configs to add
	DeleteConfig  []string // --delete-config k1,k2

	// Changed reports whether a flag (named without dashes) was given on
	// the command line; nil means none was.
	Changed func(flag string) bool
	// Logger receives the client's messages; nil discards them.
	Logger *slog.Logger
}

func (o *Options) changed(flag string) bool { return o.Changed != nil && o.Changed(flag) }

// shortcut is one of Kafka's entity flags.
type shortcut struct {
	flag, entityType string
	name             *string // nil for a --xxx-defaults flag
	given            bool
}

func (o *Options) shortcuts() []shortcut {
	return []shortcut{
		{"topic", Topics, &o.Topic, o.changed("topic") || o.Topic != ""},
		{"client", Clients, &o.Client, o.changed("client") || o.Client != ""},
		{"user", Users, &o.User, o.changed("user") || o.User != ""},
		{"broker", Brokers, &o.Broker, o.changed("broker") || o.Broker != ""},
		{"broker-logger", BrokerLoggers, &o.BrokerLogger, o.changed("broker-logger") || o.BrokerLogger != ""},
		{"client-defaults", Clients, nil, o.ClientDefaults},
		{"user-defaults", Users, nil, o.UserDefaults},
		{"broker-defaults", Brokers, nil, o.BrokerDefaults},
	}
}

// types are the entity types of the command line, as Kafka gathers them:
// --entity-type values, then shortcuts.
func (o *Options) types() []string {
	types := slices.Clone(o.EntityTypes)
	for _, s := range o.shortcuts() {
		if s.given && s.name != nil {
			types = append(types, s.entityType)
		}
	}
	for _, s := range o.shortcuts() {
		if s.given && s.name == nil {
			types = append(types, s.entityType)
		}
	}
	return types
}

// names are the entity names, "" for a default.
func (o *Options) names() []string {
	names := slices.Clone(o.EntityNames)
	for _, s := range o.shortcuts() {
		if s.given && s.name != nil {
			names = append(names, *s.name)
		}
	}
	for _, s := range o.shortcuts() {
		if s.given && s.name == nil {
			names = append(names, "")
		}
	}
	return names
}

// Check validates the options as Kafka's ConfigCommand does.
func (o *Options) Check() error {
	if o.Describe == o.Alter {
		return usage.Errorf("command must include exactly one action: --describe, --alter")
	}
	if o.Describe {
		for _, f := range []string{"add-config", "add-config-file", "delete-config"} {
			if o.changed(f) {
				return usage.Errorf("--%s can only be used with --alter", f)
			}
		}
	}
	if o.Alter && o.All {
		return usage.Errorf("--all can only be used with --describe")
	}
	types, names := o.types(), o.names()
	seen := map[string]bool{}
	for _, t := range types {
		if seen[t] {
			return usage.Errorf("duplicate entity type(s) specified: %s", t)
		}
		seen[t] = true
		if !slices.Contains(EntityTypes, t) {
			return usage.Errorf("invalid entity type %s, the entity type must be one of %s with a --bootstrap-server argument", t, strings.Join(EntityTypes, ", "))
		}
	}
	if len(types) == 0 {
		return usage.Errorf("at least one entity type must be specified")
	}
	if len(types) > 1 && !(len(types) == 2 && seen[Users] && seen[Clients]) {
		return usage.Errorf("only '%s' and '%s' entity types may be specified together", Users, Clients)
	}
	generic := len(o.EntityTypes) > 0 || len(o.EntityNames) > 0
	for _, s := range o.shortcuts() {
		if s.given && generic {
			return usage.Errorf("--entity-{type,name,default} should not be used in conjunction with specific entity flags")
		}
	}
	if len(names) > len(types) {
		return usage.Errorf("more entity names specified than entity types")
	}
	hasName := slices.ContainsFunc(names, func(n string) bool { return n != "" })
	hasDefault := slices.Contains(names, "")
	if types[0] == Brokers || types[0] == BrokerLoggers {
		for _, n := range names {
			if n == "" {
				continue
			}
			if _, err := strconv.ParseInt(n, 10, 32); err != nil {
				return usage.Errorf("the entity name for %s must be a valid integer broker id, but it is: %s", types[0], n)
			}
		}
	}
	if types[0] == Topics {
		for _, n := range names {
			if n == "" {
				continue
			}
			if err := config.TopicName(n); err != nil {
				return usage.Wrap(err)
			}
		}
	}
	if o.Describe {
		if hasDefault && (types[0] == Topics || types[0] == BrokerLoggers) {
			return usage.Errorf("--entity-default must not be specified with --describe of %s", strings.Join(types, ","))
		}
		if types[0] == BrokerLoggers && !hasName {
			return usage.Errorf("an entity name must be specified with --describe of %s", strings.Join(types, ","))
		}
	}
	if o.Alter {
		switch types[0] {
		case Users, Clients, Brokers:
			if !hasName && !hasDefault {
				return usage.Errorf("an entity-name or default entity must be specified with --alter of users, clients or brokers")
			}
		default:
			if !hasName {
				return usage.Errorf("an entity name must be specified with --alter of %s", strings.Join(types, ","))
			}
		}
		if len(names) != len(types) {
			return usage.Errorf("an entity name must be specified for every entity type")
		}
		if o.AddConfig != "" && o.AddConfigFile != "" {
			return usage.Errorf("only one of --add-config or --add-config-file must be specified")
		}
		if o.AddConfig == "" && o.AddConfigFile == "" && len(o.DeleteConfig) == 0 {
			return usage.Errorf("at least one of --add-config, --add-config-file, or --delete-config must be specified with --alter")
		}
		if o.AddConfig != "" {
			if _, err := ParseAddConfig(o.AddConfig); err != nil {
				return err
			}
		}
	}
	return nil
}

// Run checks the options and does their action.
func Run(ctx context.Context, o Options, stdout io.Writer) error {
	if err := o.Check(); err != nil {
		return err
	}
	cl, err := toolclient.Admin(ctx, o.Logger, o.CommandConfig, o.Bootstrap, "")
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, toolclient.AdminTimeout)
	defer cancel()
	t := &tool{o: &o, cl: cl, adm: kadm.NewClient(cl), out: stdout}
	if o.Alter {
		return t.alter(ctx)
	}
	return t.describe(ctx)
}

// tool is one run of the command.
type tool struct {
	o   *Options
	cl  *kgo.Client
	adm *kadm.Client
	out io.Writer
}

// singular is Kafka's name of one entity of a type ("topic", "broker").
func singular(entityType string) string { return strings.TrimSuffix(entityType, "s") }
