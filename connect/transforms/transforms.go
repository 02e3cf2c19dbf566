package transforms

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/data"
)

// Record is what a transformation sees and changes. A transformation that
// changes Headers builds a new slice: the one it was given may be shared
// with the record it came from.
//
// A record has one of two forms. In the bytes form (Typed false) Key and
// Value are the key and value as bytes (for a sink, the Java text the
// converter made of them), nil for a null. In the typed form (Typed true,
// for a chain that works on fields: Chain.Typed) KeyData and ValueData are
// values of Connect's data model with their schemas (package data), and
// Key and Value are unused.
type Record struct {
	Topic     string
	Key       []byte
	Value     []byte
	Headers   []kgo.RecordHeader
	Timestamp time.Time // zero: the record has none
	// Sink: a sink's record (Kafka's SinkRecord), whose Partition and
	// Offset are those it was read from. A source's record has neither
	// (its partition is chosen after the transforms, as in Kafka).
	Sink      bool
	Partition int32
	Offset    int64

	Typed                  bool
	KeySchema, ValueSchema *data.Schema // nil: schemaless
	KeyData, ValueData     any
}

// ValueIsNull says whether the record's value is a null, in either form.
func (r *Record) ValueIsNull() bool {
	if r.Typed {
		return r.ValueData == nil
	}
	return r.Value == nil
}

// ValueText returns the value as bytes: in the typed form its Java text
// (for a string, the string), nil for a null.
func (r *Record) ValueText() []byte {
	if !r.Typed {
		return r.Value
	}
	if r.ValueData == nil {
		return nil
	}
	if s, ok := r.ValueData.(string); ok {
		return []byte(s)
	}
	return data.AppendJava(nil, r.ValueData)
}

// Transformation changes one record. It returns false to drop it.
type Transformation interface {
	Apply(r *Record) (keep bool, err error)
}

// Predicate tests one record.
type Predicate interface {
	Test(r *Record) bool
}

// Config keys of a connector file.
const (
	TransformsKey = "transforms"
	PredicatesKey = "predicates"
)

// Chain is a connector's transformations, in order. The nil Chain keeps
// every record unchanged. A Chain is safe for concurrent use.
type Chain struct {
	steps []step
}

type step struct {
	alias, class string
	typed        bool // the class works on fields (class.typed)
	t            Transformation
	pred         Predicate // nil: applies to every record
	negate       bool
}

// StepError is a transformation's failure on one record.
type StepError struct {
	Alias, Class string
	Err          error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("transformation %s (%s): %v", e.Alias, e.Class, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Apply runs the transformations in order on r. It returns false when one
// drops the record (the later ones are not run); an error is a
// *StepError.
func (c *Chain) Apply(r *Record) (bool, error) {
	if c == nil {
		return true, nil
	}
	for i := range c.steps {
		s := &c.steps[i]
		if s.pred != nil && s.pred.Test(r) == s.negate {
			continue
		}
		keep, err := s.t.Apply(r)
		if err != nil {
			return false, &StepError{Alias: s.alias, Class: s.class, Err: err}
		}
		if !keep {
			return false, nil
		}
	}
	return true, nil
}

// Typed says whether the chain works on records of the typed form (one of
// its transformations reads or changes fields); the caller then gives it
// records of that form.
func (c *Chain) Typed() bool {
	if c == nil {
		return false
	}
	for _, s := range c.steps {
		if s.typed {
			return true
		}
	}
	return false
}

// Len is the number of transformations.
func (c *Chain) Len() int {
	if c == nil {
		return 0
	}
	return len(c.steps)
}

// Route returns the topic that the chain gives a record of topic with no
// key, value or headers, stamped at ts: where records of topic go when the
// routing depends on the topic (and time) alone. A record the chain drops
// or fails keeps topic.
func (c *Chain) Route(topic string, ts time.Time) string {
	r := Record{Topic: topic, Value: []byte{}, Timestamp: ts}
	if keep, err := c.Apply(&r); !keep || err != nil {
		return topic
	}
	return r.Topic
}

// class is one transformation or predicate class: its keys (without the
// alias prefix) and how to build it from their values.
type class struct {
	name      string
	typed     bool // works on fields: needs records of the typed form
	keys      []config.Key
	transform func(v keyValues) (Transformation, error)
	predicate func(v keyValues) (Predicate, error)
}

// keyValues reads one alias's keys.
type keyValues struct {
	vals   *config.Values
	prefix string
}

func (k keyValues) String(name string) string { return k.vals.String(k.prefix + name) }
func (k keyValues) List(name string) []string { return k.vals.List(k.prefix + name) }
func (k keyValues) Int(name string) int       { return k.vals.Int(k.prefix + name) }
func (k keyValues) Long(name string) int64    { return k.vals.Long(k.prefix + name) }
func (k keyValues) Bool(name string) bool     { return k.vals.Bool(k.prefix + name) }
func (k keyValues) IsSet(name string) bool    { return k.vals.IsSet(k.prefix + name) }
func (k keyValues) Source() string            { return k.vals.Source() }

// Key returns the full name of one of the alias's keys, for messages.
func (k keyValues) Key(name string) string { return k.prefix + name }

// find returns the class named name, by its full name or its simple name.
func find(classes []class, name string) (*class, bool) {
	name = strings.TrimSpace(name)
	for i := range classes {
		c := &classes[i]
		if c.name == name || c.name[strings.LastIndexByte(c.name, '.')+1:] == name {
			return c, true
		}
	}
	return nil, false
}

func classNames(classes []class) string {
	var ns []string
	for _, c := range classes {
		ns = append(ns, c.name)
	}
	return strings.Join(ns, ", ")
}

// Parse reads a connector file's transforms and predicates. It returns the
// chain (nil when there are no transformations), the transforms.* and
// predicates.* keys of the file that no transformation or predicate reads
// (sorted, to be warned about), and every problem found, each a
// *config.Error naming the file and key.
func Parse(props *config.Props) (*Chain, []string, error) {
	source := props.Source()
	used := map[string]bool{}
	var errs []error
	list := func(key string) []string {
		raw, _ := props.Get(key)
		var out []string
		for _, a := range strings.Split(raw, ",") {
			if a = strings.TrimSpace(a); a != "" {
				out = append(out, a)
			}
		}
		return out
	}
	// build parses one alias's keys: type, the class's own and extra.
	build := func(kind, prefix string, classes []class, extra ...config.Key) (*class, *config.Values) {
		typeKey := prefix + "type"
		used[typeKey] = true
		raw, ok := props.Get(typeKey)
		if !ok || strings.TrimSpace(raw) == "" {
			errs = append(errs, &config.Error{Source: source, Key: typeKey, Value: raw, Reason: "is missing; set it to the class of the " + kind + ", one of " + classNames(classes)})
			return nil, nil
		}
		c, ok := find(classes, raw)
		if !ok {
			errs = append(errs, &config.Error{Source: source, Key: typeKey, Value: raw, Reason: "Class " + strings.TrimSpace(raw) + " could not be found: not a " + kind + " known here; known: " + classNames(classes)})
			return nil, nil
		}
		keys := make([]config.Key, 0, len(c.keys)+len(extra))
		for _, k := range append(slices.Clone(c.keys), extra...) {
			k.Name = prefix + k.Name
			used[k.Name] = true
			keys = append(keys, k)
		}
		vals, err := config.NewDef(c.name, keys...).Parse(props)
		if err != nil {
			errs = append(errs, err)
			return nil, nil
		}
		return c, vals
	}
	preds := map[string]Predicate{}
	predAliases := list(PredicatesKey)
	for _, alias := range predAliases {
		prefix := PredicatesKey + "." + alias + "."
		c, vals := build("predicate", prefix, predicateClasses)
		if c == nil {
			continue
		}
		p, err := c.predicate(keyValues{vals, prefix})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		preds[alias] = p
	}
	var steps []step
	for _, alias := range list(TransformsKey) {
		prefix := TransformsKey + "." + alias + "."
		predKey, negKey := prefix+"predicate", prefix+"negate"
		if neg, ok := props.Get(negKey); ok {
			if p, _ := props.Get(predKey); strings.TrimSpace(p) == "" {
				errs = append(errs, &config.Error{Source: source, Key: negKey, Value: neg, Reason: "Config '" + negKey + "' was provided but there is no config '" + predKey + "' defining a predicate to be negated."})
			}
		}
		c, vals := build("transformation", prefix, transformClasses, stepKeys...)
		if c == nil {
			continue
		}
		t, err := c.transform(keyValues{vals, prefix})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s := step{alias: alias, class: c.name, typed: c.typed, t: t, negate: vals.Bool(negKey)}
		if pa := strings.TrimSpace(vals.String(predKey)); pa != "" {
			p, ok := preds[pa]
			if !ok {
				if !slices.Contains(predAliases, pa) {
					errs = append(errs, &config.Error{Source: source, Key: predKey, Value: pa, Reason: "names a predicate that is not in " + PredicatesKey + " (" + strings.Join(predAliases, ",") + ")"})
				}
				continue // else its own error is reported
			}
			s.pred = p
		}
		steps = append(steps, s)
	}
	var unused []string
	for _, k := range props.Keys() {
		if (strings.HasPrefix(k, TransformsKey+".") || strings.HasPrefix(k, PredicatesKey+".")) && !used[k] {
			unused = append(unused, k)
		}
	}
	slices.Sort(unused)
	if len(errs) > 0 {
		return nil, unused, errors.Join(errs...)
	}
	if len(steps) == 0 {
		return nil, unused, nil
	}
	return &Chain{steps: steps}, unused, nil
}

// Group is the keys of one transformation or predicate alias of a
// connector file, as Kafka's REST validate call lists them: the group
// "Transforms: <alias>" (type, the class's own keys, predicate and negate)
// or "Predicates: <alias>" (type, the class's keys).
type Group struct {
	Name string
	Keys []config.Key
}

// Groups returns the groups of the aliases that props names in transforms
// and predicates, in their order; an alias whose type is missing or
// unknown has its type key alone.
func Groups(props *config.Props) []Group {
	var out []Group
	add := func(kind, listKey, groupPrefix string, classes []class, extra ...config.Key) {
		raw, _ := props.Get(listKey)
		for _, alias := range strings.Split(raw, ",") {
			if alias = strings.TrimSpace(alias); alias == "" {
				continue
			}
			prefix := listKey + "." + alias + "."
			g := Group{Name: groupPrefix + ": " + alias}
			g.Keys = append(g.Keys, config.Key{Name: prefix + "type", Type: config.Class, Required: true,
				Doc: "Class for the '" + alias + "' " + kind + "."})
			if t, ok := props.Get(prefix + "type"); ok {
				if c, ok := find(classes, t); ok {
					for _, k := range c.keys {
						k.Name = prefix + k.Name
						g.Keys = append(g.Keys, k)
					}
				}
			}
			for _, k := range extra {
				k.Name = prefix + k.Name
				g.Keys = append(g.Keys, k)
			}
			out = append(out, g)
		}
	}
	add("transformation", TransformsKey, "Transforms", transformClasses, stepKeys...)
	add("predicate", PredicatesKey, "Predicates", predicateClasses)
	return out
}

// stepKeys are the keys every transformation alias takes besides its
// class's.
var stepKeys = []config.Key{
	{Name: "predicate", Type: config.String, Importance: config.Medium,
		Doc: "The alias of a predicate used to determine whether to apply this transformation."},
	{Name: "negate", Type: config.Bool, Default: "false", HasDefault: true, Importance: config.Medium,
		Doc: "Whether the configured predicate should be negated."},
}

// regexKey is a key holding a regular expression: Go's RE2 syntax.
func regexKey(name, doc string) config.Key {
	return config.Key{Name: name, Type: config.String, Required: true, Doc: doc,
		Validate: func(v any) error {
			if _, err := regexp.Compile(v.(string)); err != nil {
				return fmt.Errorf("is not a valid regular expression: %w", err)
			}
			return nil
		}}
}

// fullMatch compiles re so that it matches a whole string, as Java's
// Matcher.matches does.
func fullMatch(re string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + re + `)$`)
}
