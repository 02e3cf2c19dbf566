package transforms

// ExtractField, HoistField, InsertField, ValueToKey and HeaderFrom: the
// transformations that move a record's fields in, out or across (Kafka's
// classes of those names, with their keys, defaults, docs and messages).
//
// Differences from Kafka, all deliberate:
//   - HeaderFrom writes a header's value as bytes, the text Kafka's
//     SimpleHeaderConverter makes of it (Values.convertToString); dates in
//     UTC where Kafka uses the JVM's default time zone. A schema'd field
//     that does not exist fails with "Field does not exist: x" where Kafka
//     fails with a NullPointerException.
//   - ExtractField with field.syntax.version=V2 and an empty field reads
//     the field named "" where Kafka fails on every record; a path through
//     a schema that is not a STRUCT fails with "Unknown field: ..." where
//     Kafka says "Cannot look up fields on non-struct type".
//   - InsertField's errors for a file with no field to insert, or a
//     static.field without static.value, name the file's key and end with
//     Kafka's message.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/data"
)

// Class names of the field-moving transformations (the $Key and $Value
// variants are these names followed by $Key or $Value).
const (
	ExtractFieldClass = "org.apache.kafka.connect.transforms.ExtractField"
	HoistFieldClass   = "org.apache.kafka.connect.transforms.HoistField"
	InsertFieldClass  = "org.apache.kafka.connect.transforms.InsertField"
	ValueToKeyClass   = "org.apache.kafka.connect.transforms.ValueToKey"
	HeaderFromClass   = "org.apache.kafka.connect.transforms.HeaderFrom"
)

// moveClasses: ExtractField, HoistField, InsertField, ValueToKey,
// HeaderFrom.
var moveClasses = slices.Concat(
	sides(ExtractFieldClass, class{keys: []config.Key{
		{Name: "field", Type: config.String, Required: true, Doc: "Field name to extract."},
		moveReplaceNullKey(),
		{Name: "field.syntax.version", Type: config.String, Default: "V1", HasDefault: true,
			Validate: config.OneOf("V1", "V2"), Doc: moveSyntaxDoc},
	}}, newExtractField),
	sides(HoistFieldClass, class{keys: []config.Key{
		{Name: "field", Type: config.String, Required: true,
			Doc: "Field name for the single field that will be created in the resulting Struct or Map."},
	}}, func(s side, v keyValues) (Transformation, error) {
		return &hoistField{side: s, field: v.String("field"), cache: &schemaCache{}}, nil
	}),
	sides(InsertFieldClass, class{keys: []config.Key{
		{Name: "topic.field", Type: config.String, Doc: "Field name for Kafka topic. " + moveOptionalityDoc},
		{Name: "partition.field", Type: config.String, Doc: "Field name for Kafka partition. " + moveOptionalityDoc},
		{Name: "offset.field", Type: config.String, Doc: "Field name for Kafka offset - only applicable to sink connectors.<br/>" + moveOptionalityDoc},
		{Name: "timestamp.field", Type: config.String, Doc: "Field name for record timestamp. " + moveOptionalityDoc},
		{Name: "static.field", Type: config.String, Doc: "Field name for static data field. " + moveOptionalityDoc},
		{Name: "static.value", Type: config.String, Doc: "Static field value, if field name configured."},
		moveReplaceNullKey(),
	}}, newInsertField),
	[]class{{name: ValueToKeyClass, typed: true, keys: []config.Key{
		{Name: "fields", Type: config.List, Required: true, Validate: moveNonEmptyList,
			Doc: "Field names on the record value to extract as the record key."},
		moveReplaceNullKey(),
	}, transform: func(v keyValues) (Transformation, error) {
		return &valueToKey{fields: v.List("fields"), withDefault: v.Bool("replace.null.with.default"), cache: &schemaCache{}}, nil
	}}},
	sides(HeaderFromClass, class{keys: []config.Key{
		{Name: "fields", Type: config.List, Required: true, Validate: moveNonEmptyList,
			Doc: "Field names in the record whose values are to be copied or moved to headers."},
		{Name: "headers", Type: config.List, Required: true, Validate: moveNonEmptyList,
			Doc: "Header names, in the same order as the field names listed in the fields configuration property."},
		{Name: "operation", Type: config.String, Required: true, Validate: moveOperationValid,
			Doc: "Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value)."},
		moveReplaceNullKey(),
	}}, newHeaderFrom),
)

const moveOptionalityDoc = "Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default)."

const moveSyntaxDoc = "Defines the version of the syntax to access fields. " +
	"If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. " +
	"If set to `V2`, the syntax will support accessing nested elements. " +
	"To access nested elements, dotted notation is used. " +
	"If dots are already included in the field name, " +
	"then backtick pairs can be used to wrap field names containing dots. " +
	"E.g. to access the subfield `baz` from a field named \"foo.bar\" in a struct/map " +
	"the following format can be used to access its elements: \"`foo.bar`.baz\"."

func moveReplaceNullKey() config.Key {
	return config.Key{Name: "replace.null.with.default", Type: config.Bool, Default: "true", HasDefault: true,
		Doc: "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."}
}

// moveNonEmptyList is Kafka's NonEmptyListValidator.
func moveNonEmptyList(v any) error {
	if l, ok := v.([]string); ok && len(l) == 0 {
		return errors.New("Empty list") //nolint:staticcheck // Kafka's message
	}
	return nil
}

// moveOperationValid is Kafka's ValidString.in("move", "copy"): case
// matters.
func moveOperationValid(v any) error {
	if s, _ := v.(string); s != "move" && s != "copy" {
		return errors.New("String must be one of: move, copy")
	}
	return nil
}

// moveFieldValue reads a struct's field, its default for a null when
// withDefault (replace.null.with.default).
func moveFieldValue(st *data.Struct, name string, withDefault bool) (any, error) {
	if withDefault {
		return st.Get(name)
	}
	return st.GetWithoutDefault(name)
}

// ---- ExtractField

// extractField is Kafka's ExtractField: the side becomes one field of its
// Struct or Map (a null stays null).
type extractField struct {
	side        side
	original    string
	path        []string // one step, or more with field.syntax.version=V2
	withDefault bool
}

const extractPurpose = "field extraction"

func newExtractField(s side, v keyValues) (Transformation, error) {
	t := &extractField{side: s, original: v.String("field"), withDefault: v.Bool("replace.null.with.default")}
	t.path = []string{t.original}
	if strings.EqualFold(v.String("field.syntax.version"), "V2") {
		p, err := moveParsePath(t.original)
		if err != nil {
			return nil, &config.Error{Source: v.Source(), Key: v.Key("field"), Value: t.original, Reason: err.Error()}
		}
		t.path = p
	}
	return t, nil
}

// moveParsePath splits a V2 field path (Kafka's SingleFieldPath) into its
// steps: dots separate them; a step in backticks may hold dots, and a
// backtick followed by a dot inside it is escaped by a backslash.
func moveParsePath(path string) ([]string, error) {
	var steps []string
	i := 0
	for i < len(path) {
		if path[i] != '`' {
			j := strings.IndexByte(path[i:], '.')
			if j < 0 {
				steps = append(steps, path[i:])
				break
			}
			steps = append(steps, path[i:i+j])
			i += j + 1
			continue
		}
		open := i
		i++
		start := i
		var b strings.Builder
		for {
			j := strings.IndexByte(path[i:], '`')
			if j < 0 {
				return nil, moveIncompleteBacktick(path, open)
			}
			i += j
			escaped := path[i-1] == '\\'
			if i >= len(path)-1 { // the path's last character
				if escaped {
					return nil, moveIncompleteBacktick(path, open)
				}
				b.WriteString(path[start:i])
				steps = append(steps, b.String())
				i++
				break
			}
			if path[i+1] != '.' { // part of the name; look further
				i++
				continue
			}
			if escaped { // \`. is a backtick and a dot of the name
				b.WriteString(path[start : i-1])
				b.WriteByte('`')
				i++
				start = i
				continue
			}
			b.WriteString(path[start:i])
			steps = append(steps, b.String())
			i += 2
			break
		}
	}
	if strings.HasSuffix(path, ".") {
		steps = append(steps, "")
	}
	if len(steps) == 0 {
		steps = []string{""}
	}
	return steps, nil
}

func moveIncompleteBacktick(path string, at int) error {
	pos := len(utf16.Encode([]rune(path[:at])))                                                                                                     // Java's index
	return fmt.Errorf("Incomplete backtick pair in path: [%s], consider adding a backslash before backtick at position %d to escape it", path, pos) //nolint:staticcheck // Kafka's message
}

func (t *extractField) Apply(r *Record) (bool, error) {
	schema, v := t.side.get(r)
	last := t.path[len(t.path)-1]
	if schema == nil {
		m, err := requireMapOrNull(v, extractPurpose)
		if err != nil {
			return false, err
		}
		var out any
		for _, step := range t.path[:len(t.path)-1] {
			if m == nil {
				break
			}
			next, _ := m.Get(step)
			if m, err = requireMapOrNull(next, "nested field access"); err != nil {
				return false, err
			}
		}
		if m != nil {
			out, _ = m.Get(last)
		}
		t.side.set(r, nil, out)
		return true, nil
	}
	st, err := requireStructOrNull(v, extractPurpose)
	if err != nil {
		return false, err
	}
	// The field's schema, along the path.
	cur := schema
	var field *data.Field
	for i, step := range t.path {
		if field = cur.Field(step); field == nil {
			break
		}
		if i < len(t.path)-1 {
			cur = field.Schema
		}
	}
	if field == nil {
		return false, errors.New("Unknown field: " + t.original) //nolint:staticcheck // Kafka's message
	}
	var out any
	for _, step := range t.path[:len(t.path)-1] {
		if st == nil {
			break
		}
		if st.Schema.Field(step) == nil {
			st = nil
			break
		}
		next, err := st.Get(step)
		if err != nil {
			return false, err
		}
		if st, err = requireStructOrNull(next, "nested field access"); err != nil {
			return false, err
		}
	}
	if st != nil && st.Schema.Field(last) != nil {
		if out, err = moveFieldValue(st, last, t.withDefault); err != nil {
			return false, err
		}
	}
	t.side.set(r, field.Schema, out)
	return true, nil
}

// ---- HoistField

// hoistField is Kafka's HoistField: the side becomes the one field of a
// new Struct (schema'd) or Map (schemaless).
type hoistField struct {
	side  side
	field string
	cache *schemaCache
}

func (t *hoistField) Apply(r *Record) (bool, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		m := data.NewMap(1)
		m.Put(t.field, v)
		t.side.set(r, nil, m)
		return true, nil
	}
	out, _ := t.cache.get(schema, func() (*data.Schema, error) {
		return data.StructSchema("", false, t.field, schema), nil
	})
	st := data.NewStruct(out)
	if err := st.Put(t.field, v); err != nil {
		return false, err
	}
	t.side.set(r, out, st)
	return true, nil
}

// ---- InsertField

// insertField is Kafka's InsertField: fields from the record's topic and
// timestamp and a static value are added to the side's Struct or Map (a
// null stays null).
type insertField struct {
	side                     side
	topic, partition, offset moveSpec
	timestamp, static        moveSpec
	staticValue              string
	withDefault              bool
	cache                    *schemaCache
}

// moveSpec is one field to insert: its name and whether its schema is
// optional; the zero moveSpec is no field.
type moveSpec struct {
	name          string
	set, optional bool
}

// parseMoveSpec reads "name", "name?" (optional, as without suffix) or
// "name!" (required).
func parseMoveSpec(v keyValues, key string) moveSpec {
	if !v.IsSet(key) {
		return moveSpec{}
	}
	s := v.String(key)
	if n, ok := strings.CutSuffix(s, "?"); ok {
		return moveSpec{name: n, set: true, optional: true}
	}
	if n, ok := strings.CutSuffix(s, "!"); ok {
		return moveSpec{name: n, set: true}
	}
	return moveSpec{name: s, set: true, optional: true}
}

const insertPurpose = "field insertion"

func newInsertField(s side, v keyValues) (Transformation, error) {
	t := &insertField{side: s,
		topic:       parseMoveSpec(v, "topic.field"),
		partition:   parseMoveSpec(v, "partition.field"),
		offset:      parseMoveSpec(v, "offset.field"),
		timestamp:   parseMoveSpec(v, "timestamp.field"),
		static:      parseMoveSpec(v, "static.field"),
		staticValue: v.String("static.value"),
		withDefault: v.Bool("replace.null.with.default"),
		cache:       &schemaCache{},
	}
	if !t.topic.set && !t.partition.set && !t.offset.set && !t.timestamp.set && !t.static.set {
		class, _ := v.vals.Props().Get(v.Key("type"))
		return nil, &config.Error{Source: v.Source(), Key: v.Key("type"), Value: class,
			Reason: "sets none of topic.field, partition.field, offset.field, timestamp.field and static.field: No field insertion configured"}
	}
	if t.static.set && !v.IsSet("static.value") {
		return nil, &config.Error{Source: v.Source(), Key: v.Key("static.field"), Value: v.String("static.field"),
			Reason: "is set without static.value: No value specified for static field: " + t.static.name}
	}
	return t, nil
}

func (t *insertField) Apply(r *Record) (bool, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return true, nil
	}
	hasTS := !r.Timestamp.IsZero()
	if t.offset.set && !r.Sink {
		return false, data.Errorf("Only SinkRecord supported for [%s], found: org.apache.kafka.connect.source.SourceRecord", insertPurpose)
	}
	if schema == nil {
		m, err := requireMap(v, insertPurpose)
		if err != nil {
			return false, err
		}
		out := data.CopyMap(m)
		if t.topic.set {
			out.Put(t.topic.name, r.Topic)
		}
		if t.partition.set && r.Sink {
			out.Put(t.partition.name, r.Partition)
		}
		if t.offset.set {
			out.Put(t.offset.name, r.Offset)
		}
		if t.timestamp.set && hasTS {
			out.Put(t.timestamp.name, r.Timestamp.UnixMilli())
		}
		if t.static.set {
			out.Put(t.static.name, t.staticValue)
		}
		t.side.set(r, nil, out)
		return true, nil
	}
	st, err := requireStruct(v, insertPurpose)
	if err != nil {
		return false, err
	}
	outSchema, err := t.cache.get(st.Schema, func() (*data.Schema, error) { return t.schema(st.Schema) })
	if err != nil {
		return false, err
	}
	out := data.NewStruct(outSchema)
	for _, f := range st.Schema.Fields {
		fv, err := moveFieldValue(st, f.Name, t.withDefault)
		if err != nil {
			return false, err
		}
		if err := out.Put(f.Name, fv); err != nil {
			return false, err
		}
	}
	if t.topic.set {
		if err := out.Put(t.topic.name, r.Topic); err != nil {
			return false, err
		}
	}
	if t.partition.set && r.Sink {
		if err := out.Put(t.partition.name, r.Partition); err != nil {
			return false, err
		}
	}
	if t.offset.set {
		if err := out.Put(t.offset.name, r.Offset); err != nil {
			return false, err
		}
	}
	if t.timestamp.set && hasTS {
		if err := out.Put(t.timestamp.name, time.UnixMilli(r.Timestamp.UnixMilli()).UTC()); err != nil {
			return false, err
		}
	}
	if t.static.set {
		if err := out.Put(t.static.name, t.staticValue); err != nil {
			return false, err
		}
	}
	t.side.set(r, outSchema, out)
	return true, nil
}

// schema is the input's fields followed by the inserted ones.
func (t *insertField) schema(in *data.Schema) (*data.Schema, error) {
	out := copySchemaBasics(in)
	out.Type = data.StructType
	for _, f := range in.Fields {
		if err := out.AddField(f.Name, f.Schema); err != nil {
			return nil, err
		}
	}
	add := func(s moveSpec, optional, required *data.Schema) error {
		if !s.set {
			return nil
		}
		if s.optional {
			return out.AddField(s.name, optional)
		}
		return out.AddField(s.name, required)
	}
	if err := add(t.topic, data.OptionalStringSchema, data.StringSchema); err != nil {
		return nil, err
	}
	if err := add(t.partition, data.OptionalInt32Schema, data.Int32Schema); err != nil {
		return nil, err
	}
	if err := add(t.offset, data.OptionalInt64Schema, data.Int64Schema); err != nil {
		return nil, err
	}
	if err := add(t.timestamp, data.TimestampSchema(true), data.TimestampSchema(false)); err != nil {
		return nil, err
	}
	if err := add(t.static, data.OptionalStringSchema, data.StringSchema); err != nil {
		return nil, err
	}
	return out, nil
}

// ---- ValueToKey

// valueToKey is Kafka's ValueToKey: the key becomes a Struct or Map of
// some of the value's fields.
type valueToKey struct {
	fields      []string
	withDefault bool
	cache       *schemaCache
}

const valueToKeyPurpose = "copying fields from value to key"

func (t *valueToKey) Apply(r *Record) (bool, error) {
	if r.ValueSchema == nil {
		m, err := requireMap(r.ValueData, valueToKeyPurpose)
		if err != nil {
			return false, err
		}
		key := data.NewMap(len(t.fields))
		key.Capacity = 1 // new HashMap<>(n): a table of the power of two at least n
		for key.Capacity < len(t.fields) {
			key.Capacity <<= 1
		}
		for _, f := range t.fields {
			fv, _ := m.Get(f)
			key.Put(f, fv)
		}
		r.KeySchema, r.KeyData = nil, key
		return true, nil
	}
	st, err := requireStruct(r.ValueData, valueToKeyPurpose)
	if err != nil {
		return false, err
	}
	keySchema, err := t.cache.get(st.Schema, func() (*data.Schema, error) {
		ks := &data.Schema{Type: data.StructType}
		for _, f := range t.fields {
			vf := st.Schema.Field(f)
			if vf == nil {
				return nil, data.Errorf("Field does not exist: %s", f)
			}
			if err := ks.AddField(f, vf.Schema); err != nil {
				return nil, err
			}
		}
		return ks, nil
	})
	if err != nil {
		return false, err
	}
	key := data.NewStruct(keySchema)
	for _, f := range t.fields {
		fv, err := moveFieldValue(st, f, t.withDefault)
		if err != nil {
			return false, err
		}
		if err := key.Put(f, fv); err != nil {
			return false, err
		}
	}
	r.KeySchema, r.KeyData = keySchema, key
	r.ValueSchema = st.Schema
	return true, nil
}

// ---- HeaderFrom

// headerFrom is Kafka's HeaderFrom: fields of the side are copied or moved
// into headers (after the record's own).
type headerFrom struct {
	side            side
	fields, headers []string
	move            bool
	withDefault     bool
	cache           *schemaCache
}

func newHeaderFrom(s side, v keyValues) (Transformation, error) {
	fields, headers := v.List("fields"), v.List("headers")
	if len(fields) != len(headers) {
		return nil, &config.Error{Source: v.Source(), Key: v.Key("headers"), Value: strings.Join(headers, ","),
			Reason: "'fields' config must have the same number of elements as 'headers' config."}
	}
	return &headerFrom{side: s, fields: fields, headers: headers, move: v.String("operation") == "move",
		withDefault: v.Bool("replace.null.with.default"), cache: &schemaCache{}}, nil
}

func (t *headerFrom) purpose() string {
	if t.move {
		return "header move"
	}
	return "header copy"
}

func (t *headerFrom) Apply(r *Record) (bool, error) {
	schema, v := t.side.get(r)
	headers := make([]kgo.RecordHeader, len(r.Headers), len(r.Headers)+len(t.fields))
	copy(headers, r.Headers)
	if schema == nil {
		m, err := requireMap(v, t.purpose())
		if err != nil {
			return false, err
		}
		out := data.CopyMap(m)
		for i, f := range t.fields {
			fv, _ := m.Get(f)
			if t.move {
				out.Delete(f)
			}
			headers = append(headers, kgo.RecordHeader{Key: t.headers[i], Value: moveHeaderBytes(fv)})
		}
		t.side.set(r, nil, out)
		r.Headers = headers
		return true, nil
	}
	st, err := requireStruct(v, t.purpose())
	if err != nil {
		return false, err
	}
	outSchema, out := schema, st
	if t.move {
		outSchema, _ = t.cache.get(schema, func() (*data.Schema, error) {
			s := copySchemaBasics(schema)
			s.Type = data.StructType
			for _, f := range schema.Fields {
				if !moveContains(t.fields, f.Name) {
					s.Fields = append(s.Fields, data.Field{Name: f.Name, Index: len(s.Fields), Schema: f.Schema})
				}
			}
			return s, nil
		})
		out = data.NewStruct(outSchema)
		for _, f := range outSchema.Fields {
			fv, err := moveFieldValue(st, f.Name, t.withDefault)
			if err != nil {
				return false, err
			}
			if err := out.Put(f.Name, fv); err != nil {
				return false, err
			}
		}
	}
	for i, f := range t.fields {
		if schema.Field(f) == nil {
			return false, data.Errorf("Field does not exist: %s", f)
		}
		fv, err := moveFieldValue(st, f, t.withDefault)
		if err != nil {
			return false, err
		}
		headers = append(headers, kgo.RecordHeader{Key: t.headers[i], Value: moveHeaderBytes(fv)})
	}
	t.side.set(r, outSchema, out)
	r.Headers = headers
	return true, nil
}

func moveContains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// moveHeaderBytes is the header value Kafka's SimpleHeaderConverter
// writes for v: nil for a null, else Values.convertToString's text.
func moveHeaderBytes(v any) []byte {
	if v == nil {
		return nil
	}
	return appendMoveValuesText(nil, v, false)
}

// appendMoveValuesText is Kafka's Values.append: a string as itself
// (quoted and escaped when inside a list, map or struct), bytes in
// base64, numbers and booleans as Java prints them, a list as [a,b], a
// map as {k:v} in Java's order, a struct as {"field":value} in field
// order (a null field as its default), a date in ISO 8601.
func appendMoveValuesText(dst []byte, v any, embedded bool) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		if !embedded {
			return append(dst, x...)
		}
		dst = append(dst, '"')
		for i := 0; i < len(x); i++ {
			if x[i] == '\\' || x[i] == '"' {
				dst = append(dst, '\\')
			}
			dst = append(dst, x[i])
		}
		return append(dst, '"')
	case []byte:
		if embedded {
			dst = append(dst, '"')
		}
		dst = base64.StdEncoding.AppendEncode(dst, x)
		if embedded {
			dst = append(dst, '"')
		}
		return dst
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendMoveValuesText(dst, e, true)
		}
		return append(dst, ']')
	case *data.Map:
		dst = append(dst, '{')
		for i, at := range x.Order() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendMoveValuesText(dst, x.Keys[at], true)
			dst = append(dst, ':')
			dst = appendMoveValuesText(dst, x.Values[at], true)
		}
		return append(dst, '}')
	case *data.Struct:
		dst = append(dst, '{')
		for i, f := range x.Schema.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendMoveValuesText(dst, f.Name, true)
			dst = append(dst, ':')
			fv, _ := x.Get(f.Name)
			dst = appendMoveValuesText(dst, fv, true)
		}
		return append(dst, '}')
	case time.Time:
		// Values.dateFormatFor: a time of day before the epoch's second
		// day, a date at midnight, else a timestamp.
		const day = 24 * 60 * 60 * 1000
		ms := x.UnixMilli()
		u := time.UnixMilli(ms).UTC()
		switch {
		case ms < day:
			return u.AppendFormat(dst, "15:04:05.000Z")
		case ms%day == 0:
			return u.AppendFormat(dst, "2006-01-02")
		}
		return u.AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	}
	// Numbers (Decimal as BigDecimal.toString) and booleans.
	return data.AppendJava(dst, v)
}
