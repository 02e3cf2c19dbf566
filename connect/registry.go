package connect

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/transforms"
)

// PluginType says whether a connector class is a source or a sink.
type PluginType int

const (
	// Source connectors write to Kafka.
	Source PluginType = iota
	// Sink connectors read from Kafka.
	Sink
)

func (t PluginType) String() string {
	if t == Sink {
		return "sink"
	}
	return "source"
}

// Plugin describes one connector class.
type Plugin struct {
	// Class is the full class name, as Kafka spells it
	// (org.apache.kafka.connect.file.FileStreamSourceConnector).
	Class string
	// Aliases are the other names connector.class accepts
	// (FileStreamSource, FileStreamSourceConnector).
	Aliases []string
	// TaskClass is the class of its tasks as Kafka spells it
	// (org.apache.kafka.connect.file.FileStreamSourceTask): the task.class
	// of each task configuration that the REST API shows.
	TaskClass string
	Type      PluginType
	Version   string
	// Def declares every key of the connector's file, the common ones
	// included (see SourceDef and SinkDef). It drives validation, error
	// messages, REST validation and the documentation.
	Def *config.Def
	// New returns a new connector: a SourceConnector or a SinkConnector,
	// according to Type.
	New func() Connector
}

// Registry holds the connector classes a worker can run. Classes are
// registered explicitly by the program that builds the worker.
type Registry struct {
	plugins []*Plugin
	byName  map[string]*Plugin
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byName: map[string]*Plugin{}}
}

// Register adds a connector class. A name (class or alias) registered twice
// is an error.
func (r *Registry) Register(p Plugin) error {
	if p.Class == "" || p.Def == nil || p.New == nil {
		return fmt.Errorf("connect: plugin %q needs a class, a definition and a constructor", p.Class)
	}
	pp := &p
	names := append([]string{p.Class}, p.Aliases...)
	for _, n := range names {
		if _, dup := r.byName[n]; dup {
			return fmt.Errorf("connect: connector class %s registered twice", n)
		}
	}
	for _, n := range names {
		r.byName[n] = pp
	}
	r.plugins = append(r.plugins, pp)
	return nil
}

// Lookup finds a connector class by its class name or one of its aliases.
func (r *Registry) Lookup(name string) (*Plugin, bool) {
	p, ok := r.byName[strings.TrimSpace(name)]
	return p, ok
}

// Plugins returns the registered classes, sorted by class name.
func (r *Registry) Plugins() []*Plugin {
	out := append([]*Plugin(nil), r.plugins...)
	sort.Slice(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	return out
}

func (r *Registry) names() string {
	var ns []string
	for n := range r.byName {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return strings.Join(ns, ", ")
}

var commonKeys = []config.Key{
	{Name: "name", Type: config.String, Required: true, Validate: config.NonEmpty(),
		Doc: "Unique name of the connector."},
	{Name: "connector.class", Type: config.Class, Required: true, Validate: config.NonEmpty(),
		Doc: "Connector class: the full Kafka class name or its short alias."},
	{Name: "tasks.max", Type: config.Int, Default: "1", HasDefault: true, Validate: config.AtLeast(1),
		Doc: "Most tasks to run for this connector (the file connectors always run one)."},
	{Name: "key.converter", Importance: config.Low, Type: config.Class,
		Doc: "Overrides the worker's key.converter for this connector. The connector's key.converter.* settings (such as key.converter.schemas.enable) apply only to a converter named here; without one, the worker's converter runs with the worker's settings, as in Kafka."},
	{Name: "value.converter", Importance: config.Low, Type: config.Class,
		Doc: "Overrides the worker's value.converter for this connector. The connector's value.converter.* settings apply only to a converter named here; without one, the worker's converter runs with the worker's settings, as in Kafka."},
	{Name: "header.converter", Importance: config.Low, Type: config.Class,
		Doc: "Overrides the worker's header.converter for this connector; the same classes are accepted."},
	{Name: transforms.TransformsKey, Importance: config.Low, Type: config.List,
		Doc: "Aliases of the Single Message Transforms to apply to each record, in order (KIP-66): transforms.<alias>.type names the class (of org.apache.kafka.connect.transforms: RegexRouter, TimestampRouter, Filter, InsertHeader, DropHeaders, and the field-level Cast, ExtractField, Flatten, HeaderFrom, HoistField, InsertField, MaskField, ReplaceField, SetSchemaMetadata, TimestampConverter with $Key or $Value, and ValueToKey), transforms.<alias>.* its keys, and transforms.<alias>.predicate (with transforms.<alias>.negate) the predicate that decides which records it applies to. A source applies them before records are converted and sent (a line is a STRING), a sink after conversion and before writing. See package connect/transforms."},
	{Name: "tasks.max.enforce", Importance: config.Low, Type: config.Bool, Default: "true", HasDefault: true,
		Doc: "(Deprecated in Kafka) Whether a connector may not give more task configs than tasks.max. The file connectors give one, so it always holds."},
	{Name: "config.action.reload", Importance: config.Low, Type: config.String, Default: "restart", HasDefault: true, Validate: config.OneOf("none", "restart"),
		Doc: "What to do when a config provider says a value changed: restart or none. The file, directory and environment providers here give no time to live, so no reload is ever asked for; the key is accepted for Kafka's files."},
	{Name: transforms.PredicatesKey, Importance: config.Low, Type: config.List,
		Doc: "Aliases of the predicates the transforms use (KIP-585): predicates.<alias>.type names the class (TopicNameMatches, HasHeaderKey, RecordIsTombstone of org.apache.kafka.connect.transforms.predicates, or Tributary's io.tributary.connect.transforms.predicates.ValueMatches, a regular expression found in the value), predicates.<alias>.* its keys."},
}

// SourceDef returns the definition set of a source connector class: the keys
// every source connector has, then keys.
func SourceDef(name string, keys ...config.Key) *config.Def {
	common := append(append([]config.Key(nil), commonKeys...),
		config.Key{Name: "topic.creation.default.partitions", Type: config.Int, Default: "-1", HasDefault: true,
			Validate: func(v any) error {
				if n := v.(int); n < 1 && n != -1 {
					return fmt.Errorf("must be -1 (the broker's default) or at least 1")
				}
				return nil
			},
			Doc: "Partitions of topics the worker creates for this connector (-1: the broker's num.partitions)."},
		config.Key{Name: "topic.creation.default.replication.factor", Type: config.Int, Default: "-1", HasDefault: true,
			Validate: func(v any) error {
				if n := v.(int); n < 1 && n != -1 {
					return fmt.Errorf("must be -1 (the broker's default) or at least 1")
				}
				return nil
			},
			Doc: "Replication factor of topics the worker creates for this connector (-1: the broker's default)."},
		config.Key{Name: "topic.creation.groups", Importance: config.Low, Type: config.List,
			Doc: "Topic creation groups (KIP-158), in order: a topic the connector writes is created with the settings of the first group whose topic.creation.<group>.include (names or regular expressions) matches it and whose .exclude does not, else with topic.creation.default.*. A group's .partitions and .replication.factor default to the default group's; its other topic.creation.<group>.* keys are topic configs (cleanup.policy, retention.ms, ...)."},
		config.Key{Name: "exactly.once.support", Importance: config.Medium, Type: config.String, Default: "requested", HasDefault: true, Validate: config.OneOf("requested", "required"),
			Doc: "Kafka's exactly-once source support (KIP-618) applies to distributed workers with exactly.once.source.support=enabled; a standalone worker ignores it, as Kafka's does. Tributary's file source gets exactly-once delivery from its position headers instead (see position.headers)."},
		config.Key{Name: "transaction.boundary", Importance: config.Medium, Type: config.String, Default: "poll", HasDefault: true, Validate: config.OneOf("poll", "interval", "connector"),
			Doc: "Kafka's transaction boundary for exactly-once sources (KIP-618); accepted and unused, as on Kafka's standalone worker."},
		config.Key{Name: "transaction.boundary.interval.ms", Importance: config.Low, Type: config.Long,
			Doc: "With transaction.boundary=interval in Kafka's distributed mode; accepted and unused here."},
		config.Key{Name: "offsets.storage.topic", Importance: config.Low, Type: config.String,
			Doc: "A connector-specific offsets topic in Kafka's distributed mode (KIP-618); a standalone worker keeps offsets in offset.storage.file.filename, as Kafka's does, so it is accepted and unused."},
		config.Key{Name: "position.headers", Importance: config.Medium, Type: config.Bool, Default: "true", HasDefault: true,
			Doc: "Whether each record carries the headers tributary.source (the file's identity) and tributary.position (its end:length in the file). " +
				"They let a restart after a crash (kill -9) find the records that reached Kafka after the last offset flush and go on after them. " +
				"With false, records are about 60 bytes smaller, but a restart after a crash sends again what was sent since the last flush " +
				"(up to offset.flush.interval.ms of lines): duplicates, never a loss. A clean stop flushes offsets and sends nothing twice either way."},
	)
	common = append(common, errorKeys(false)...)
	return config.NewDef(name, common...).With(name, keys...)
}

// SinkDef returns the definition set of a sink connector class: the keys
// every sink connector has (topics, topics.regex), then keys.
func SinkDef(name string, keys ...config.Key) *config.Def {
	common := append(append([]config.Key(nil), commonKeys...),
		config.Key{Name: "topics", Type: config.List, Validate: config.Topic(),
			Doc: "Topics to consume, comma-separated. Set this or topics.regex."},
		config.Key{Name: "topics.regex", Type: config.String,
			Doc: "Regular expression of the topics to consume. Set this or topics."},
	)
	common = append(common, errorKeys(true)...)
	return config.NewDef(name, common...).With(name, keys...)
}
