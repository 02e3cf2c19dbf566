package transforms

import (
	"errors"
	"regexp"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/config"
)

// Class names of the transformations and predicates.
const (
	RegexRouterClass       = "org.apache.kafka.connect.transforms.RegexRouter"
	TimestampRouterClass   = "org.apache.kafka.connect.transforms.TimestampRouter"
	FilterClass            = "org.apache.kafka.connect.transforms.Filter"
	InsertHeaderClass      = "org.apache.kafka.connect.transforms.InsertHeader"
	DropHeadersClass       = "org.apache.kafka.connect.transforms.DropHeaders"
	TopicNameMatchesClass  = "org.apache.kafka.connect.transforms.predicates.TopicNameMatches"
	HasHeaderKeyClass      = "org.apache.kafka.connect.transforms.predicates.HasHeaderKey"
	RecordIsTombstoneClass = "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"
	ValueMatchesClass      = "io.tributary.connect.transforms.predicates.ValueMatches"
)

// transformClasses are the transformations a connector can name, with
// Kafka's keys, defaults and docs.
var transformClasses = slices.Concat(recordClasses, moveClasses, valueClasses, flattenClasses)

// recordClasses work on a record's topic, headers or whole: either form.
var recordClasses = []class{
	{name: RegexRouterClass, keys: []config.Key{
		regexKey("regex", "Regular expression to use for matching."),
		{Name: "replacement", Type: config.String, Required: true, Doc: "Replacement string."},
	}, transform: newRegexRouter},
	{name: TimestampRouterClass, keys: []config.Key{
		{Name: "topic.format", Type: config.String, Default: "${topic}-${timestamp}", HasDefault: true,
			Doc: "Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively."},
		{Name: "timestamp.format", Type: config.String, Default: "yyyyMMdd", HasDefault: true,
			Doc: "Format string for the timestamp that is compatible with java.text.SimpleDateFormat."},
	}, transform: newTimestampRouter},
	{name: FilterClass, transform: func(keyValues) (Transformation, error) { return filter{}, nil }},
	{name: InsertHeaderClass, keys: []config.Key{
		{Name: "header", Type: config.String, Required: true, Doc: "The name of the header."},
		{Name: "value.literal", Type: config.String, Required: true, Doc: "The literal value that is to be set as the header value on all records."},
	}, transform: func(v keyValues) (Transformation, error) {
		return insertHeader{key: v.String("header"), value: []byte(v.String("value.literal"))}, nil
	}},
	{name: DropHeadersClass, keys: []config.Key{
		{Name: "headers", Type: config.List, Required: true, Doc: "The name of the headers to be removed.",
			Validate: func(v any) error {
				if len(v.([]string)) == 0 {
					return errors.New("Empty list") //nolint:staticcheck // Kafka's message
				}
				return nil
			}},
	}, transform: func(v keyValues) (Transformation, error) {
		d := dropHeaders{}
		for _, h := range v.List("headers") {
			d[h] = true
		}
		return d, nil
	}},
}

// predicateClasses are the predicates a connector can name.
var predicateClasses = []class{
	{name: TopicNameMatchesClass, keys: []config.Key{
		regexKey("pattern", "A Java regular expression for matching against the name of a record's topic."),
	}, predicate: func(v keyValues) (Predicate, error) {
		re, err := fullMatch(v.String("pattern"))
		return topicNameMatches{re}, err
	}},
	{name: HasHeaderKeyClass, keys: []config.Key{
		{Name: "name", Type: config.String, Required: true, Validate: config.NonEmpty(), Doc: "The header name."},
	}, predicate: func(v keyValues) (Predicate, error) { return hasHeaderKey(v.String("name")), nil }},
	{name: RecordIsTombstoneClass, predicate: func(keyValues) (Predicate, error) { return recordIsTombstone{}, nil }},
	{name: ValueMatchesClass, keys: []config.Key{
		regexKey("pattern", "A regular expression (RE2 syntax) that a record's value contains a match of: the line, for a file source."),
	}, predicate: func(v keyValues) (Predicate, error) {
		re, err := regexp.Compile(v.String("pattern"))
		return valueMatches{re}, err
	}},
}

// filter is Kafka's Filter: it drops every record it is applied to.
type filter struct{}

func (filter) Apply(*Record) (bool, error) { return false, nil }

// insertHeader is Kafka's InsertHeader: it adds a header with a literal
// value (after any of that name).
type insertHeader struct {
	key   string
	value []byte
}

func (t insertHeader) Apply(r *Record) (bool, error) {
	r.Headers = append(r.Headers[:len(r.Headers):len(r.Headers)], kgo.RecordHeader{Key: t.key, Value: t.value})
	return true, nil
}

// dropHeaders is Kafka's DropHeaders: it removes every header with one of
// the names.
type dropHeaders map[string]bool

func (t dropHeaders) Apply(r *Record) (bool, error) {
	var out []kgo.RecordHeader
	for _, h := range r.Headers {
		if !t[h.Key] {
			out = append(out, h)
		}
	}
	r.Headers = out
	return true, nil
}

// topicNameMatches is Kafka's TopicNameMatches: the pattern matches the
// whole topic name.
type topicNameMatches struct{ re *regexp.Regexp }

func (p topicNameMatches) Test(r *Record) bool { return p.re.MatchString(r.Topic) }

// hasHeaderKey is Kafka's HasHeaderKey: the record has a header of that
// name.
type hasHeaderKey string

func (p hasHeaderKey) Test(r *Record) bool {
	for _, h := range r.Headers {
		if h.Key == string(p) {
			return true
		}
	}
	return false
}

// recordIsTombstone is Kafka's RecordIsTombstone: the value is null.
type recordIsTombstone struct{}

func (recordIsTombstone) Test(r *Record) bool { return r.ValueIsNull() }

// valueMatches is Tributary's ValueMatches: the value contains a match of
// the pattern; a null value does not match.
type valueMatches struct{ re *regexp.Regexp }

func (p valueMatches) Test(r *Record) bool {
	v := r.ValueText()
	return v != nil && p.re.Match(v)
}
