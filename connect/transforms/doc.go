// Package transforms is Kafka Connect's Single Message Transforms (KIP-66)
// and their predicates (KIP-585) for Tributary's records, which carry
// bytes: a topic, a key and a value (nil for null), headers and a
// timestamp.
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
// Field-level transformations (Cast, ExtractField, Flatten, HoistField,
// InsertField, MaskField, ReplaceField, SetSchemaMetadata,
// TimestampConverter, ValueToKey, HeaderFrom) are not here: they need
// Connect's typed data model, and these records carry bytes.
package transforms
