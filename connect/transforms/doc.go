// Package transforms is Kafka Connect's Single Message Transforms (KIP-66)
// and their predicates (KIP-585) for Tributary's records: a topic, a key
// and a value, headers and a timestamp. A chain of transformations that
// work on the record as a whole (routers, Filter, headers) sees the key
// and value as bytes; a chain with a field-level transformation sees them
// as values of Connect's data model with their schemas (package data), as
// Kafka's do (see Record and Chain.Typed).
//
// A connector file names its transformations in order and configures each
// under its alias, as in Kafka:
//
//	transforms=route,drophealth
//	transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
//	transforms.route.regex=(.*)-raw
//	transforms.route.replacement=$1-clean
//	transforms.drophealth.type=org.apache.kafka.connect.transforms.Filter
//	transforms.drophealth.predicate=health
//	predicates=health
//	predicates.health.type=io.tributary.connect.transforms.predicates.ValueMatches
//	predicates.health.pattern=GET /health
//
// A transformation with transforms.<alias>.predicate=<p> applies only to
// the records that predicate p matches (with transforms.<alias>.negate=true,
// to those it does not match); the others pass through unchanged.
//
// Transformations (class, keys):
//
//	org.apache.kafka.connect.transforms.RegexRouter      regex, replacement
//	org.apache.kafka.connect.transforms.TimestampRouter  topic.format (${topic}-${timestamp}), timestamp.format (yyyyMMdd)
//	org.apache.kafka.connect.transforms.Filter           (none): drops the record
//	org.apache.kafka.connect.transforms.InsertHeader     header, value.literal
//	org.apache.kafka.connect.transforms.DropHeaders      headers
//
// Field-level transformations, each as <class>$Key and <class>$Value
// (ValueToKey has one class), with Kafka's keys, defaults and messages,
// on values with a schema and without:
//
//	Cast                spec (field:type,... or type), replace.null.with.default
//	ExtractField        field, field.syntax.version (V1, V2: nested paths), replace.null.with.default
//	Flatten             delimiter (.)
//	HeaderFrom          fields, headers, operation (move, copy), replace.null.with.default
//	HoistField          field
//	InsertField         topic.field, partition.field, offset.field (sinks), timestamp.field, static.field, static.value, replace.null.with.default
//	MaskField           fields, replacement, replace.null.with.default
//	ReplaceField        exclude, include, renames (and the former blacklist, whitelist), replace.null.with.default
//	SetSchemaMetadata   schema.name, schema.version, replace.null.with.default
//	TimestampConverter  field, target.type, format, unix.precision, replace.null.with.default
//	ValueToKey          fields, replace.null.with.default
//
// Predicates (class, keys):
//
//	org.apache.kafka.connect.transforms.predicates.TopicNameMatches   pattern
//	org.apache.kafka.connect.transforms.predicates.HasHeaderKey       name
//	org.apache.kafka.connect.transforms.predicates.RecordIsTombstone  (none)
//	io.tributary.connect.transforms.predicates.ValueMatches           pattern
//
// ValueMatches is Tributary's own: it matches a record whose value (for a
// file source, the line) contains a match of the regular expression, the
// way Filebeat's include_lines and exclude_lines do; a null value never
// matches. Each class is also accepted by its simple name (RegexRouter).
//
// Differences from Kafka, all stated: regular expressions are Go's RE2
// syntax, which is Java's without backreferences and lookaround (a pattern
// Go cannot compile is refused when the connector is validated, naming the
// key); RegexRouter's replacement is Java's ($1, ${name}, \$ for a dollar);
// TimestampRouter's timestamp.format knows SimpleDateFormat's letters G, y,
// M, L, d, D, E, u, a, H, k, K, h, m, s, S, z, Z and X (Java's Y, w, W and F
// are refused), in UTC as Kafka formats it. A source record's timestamp is
// the time the worker read it (Kafka's FileStreamSource gives none, and its
// TimestampRouter then fails).
//
// Differences in the field-level transformations: HeaderFrom writes a header's value as Kafka's
// SimpleHeaderConverter would (its bytes are what the record carries);
// the JVM's default time zone, where Kafka uses it, is the worker's.
package transforms
