package transforms_test

// Kafka's ExtractFieldTest, HoistFieldTest, InsertFieldTest, ValueToKeyTest
// and HeaderFromTest, as table tests over Parse and Chain.Apply.

import (
	"bytes"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connect/data"
	"github.com/tributary-io/tributary/connect/transforms"
)

func moveOptionalDefault(s *data.Schema, def any) *data.Schema {
	c := s.Clone()
	c.Optional, c.Default = true, def
	return c
}

// moveCase is one record through one transformation: the wanted record,
// or the wanted error (its text).
type moveCase struct {
	name  string
	class string
	keys  []string
	in    transforms.Record
	want  transforms.Record
	err   string
}

func moveRun(t *testing.T, cases []moveCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := typedChain(t, tc.class, tc.keys...)
			r := tc.in
			r.Typed = true
			keep, err := c.Apply(&r)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("no error; want %q", tc.err)
				}
				var se *transforms.StepError
				if !errors.As(err, &se) || se.Err.Error() != tc.err {
					t.Fatalf("error %q; want %q", err, tc.err)
				}
				return
			}
			if err != nil || !keep {
				t.Fatalf("Apply: %v, %v", keep, err)
			}
			moveCheck(t, r, tc.want)
		})
	}
}

func moveCheck(t *testing.T, got, want transforms.Record) {
	t.Helper()
	if !got.KeySchema.Equal(want.KeySchema) {
		t.Errorf("key schema %v %+v; want %v %+v", got.KeySchema, got.KeySchema, want.KeySchema, want.KeySchema)
	}
	if !data.Equal(got.KeyData, want.KeyData) {
		t.Errorf("key %s (%T); want %s", data.AppendJava(nil, got.KeyData), got.KeyData, data.AppendJava(nil, want.KeyData))
	}
	if !got.ValueSchema.Equal(want.ValueSchema) {
		t.Errorf("value schema %v %+v; want %v %+v", got.ValueSchema, got.ValueSchema, want.ValueSchema, want.ValueSchema)
	}
	if !data.Equal(got.ValueData, want.ValueData) {
		t.Errorf("value %s (%T); want %s", data.AppendJava(nil, got.ValueData), got.ValueData, data.AppendJava(nil, want.ValueData))
	}
	if got.Topic != want.Topic {
		t.Errorf("topic %q; want %q", got.Topic, want.Topic)
	}
	if !moveHeadersEqual(got.Headers, want.Headers) {
		t.Errorf("headers %s; want %s", moveHeadersText(got.Headers), moveHeadersText(want.Headers))
	}
}

func moveHeadersEqual(a, b []kgo.RecordHeader) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || !bytes.Equal(a[i].Value, b[i].Value) || (a[i].Value == nil) != (b[i].Value == nil) {
			return false
		}
	}
	return true
}

func moveHeadersText(hs []kgo.RecordHeader) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h.Key + "=")
		if h.Value == nil {
			b.WriteString("<null>")
		} else {
			b.WriteString("'" + string(h.Value) + "'")
		}
		b.WriteString(" ")
	}
	return b.String()
}

const (
	moveExtractKey   = transforms.ExtractFieldClass + "$Key"
	moveExtractValue = transforms.ExtractFieldClass + "$Value"
	moveHoistKey     = transforms.HoistFieldClass + "$Key"
	moveHoistValue   = transforms.HoistFieldClass + "$Value"
	moveInsertKey    = transforms.InsertFieldClass + "$Key"
	moveInsertValue  = transforms.InsertFieldClass + "$Value"
	moveHeaderKey    = transforms.HeaderFromClass + "$Key"
	moveHeaderValue  = transforms.HeaderFromClass + "$Value"
)

func TestMoveExtractField(t *testing.T) {
	magic := data.StructSchema("", false, "magic", data.Int32Schema)
	foo := data.StructSchema("", false, "foo", data.Int32Schema)
	nested := data.StructSchema("", false, "magic", foo)
	optMagic := data.StructSchema("", true, "magic", data.Int32Schema)
	withDefault := data.StructSchema("", false, "optional_with_default", moveOptionalDefault(data.Int32Schema, int32(42)))
	value := transforms.Record{Topic: "test", ValueData: "v"}
	key := func(s *data.Schema, v any) transforms.Record {
		r := value
		r.KeySchema, r.KeyData = s, v
		return r
	}
	val := func(s *data.Schema, v any) transforms.Record {
		return transforms.Record{Topic: "test", ValueSchema: s, ValueData: v}
	}
	moveRun(t, []moveCase{
		{name: "schemaless", class: moveExtractKey, keys: []string{"field=magic"},
			in: key(nil, mkMap("magic", int32(42))), want: key(nil, int32(42))},
		{name: "schemaless and nested path", class: moveExtractKey, keys: []string{"field=magic.foo", "field.syntax.version=V2"},
			in: key(nil, mkMap("magic", mkMap("foo", int32(42)))), want: key(nil, int32(42))},
		{name: "V1 reads a dotted name as one field", class: moveExtractKey, keys: []string{"field=magic.foo"},
			in: key(nil, mkMap("magic.foo", int32(7), "magic", mkMap("foo", int32(42)))), want: key(nil, int32(7))},
		{name: "v2 is case-insensitive; backticks hold dots", class: moveExtractKey, keys: []string{"field=`foo.bar`.baz", "field.syntax.version=v2"},
			in: key(nil, mkMap("foo.bar", mkMap("baz", "x"))), want: key(nil, "x")},
		{name: "escaped backtick inside backticks", class: moveExtractKey, keys: []string{"field=`a\\\\`.b`.c", "field.syntax.version=V2"},
			in: key(nil, mkMap("a`.b", mkMap("c", "y"))), want: key(nil, "y")},
		{name: "trailing dot is an empty last step", class: moveExtractKey, keys: []string{"field=a.", "field.syntax.version=V2"},
			in: key(nil, mkMap("a", mkMap("", "e"))), want: key(nil, "e")},
		{name: "null schemaless", class: moveExtractKey, keys: []string{"field=magic"},
			in: key(nil, nil), want: key(nil, nil)},
		{name: "with schema", class: moveExtractKey, keys: []string{"field=magic"},
			in: key(magic, mkStruct(t, magic, "magic", int32(42))), want: key(data.Int32Schema, int32(42))},
		{name: "with schema and nested path", class: moveExtractKey, keys: []string{"field=magic.foo", "field.syntax.version=V2"},
			in: key(nested, mkStruct(t, nested, "magic", mkStruct(t, foo, "foo", int32(42)))), want: key(data.Int32Schema, int32(42))},
		{name: "null with schema", class: moveExtractKey, keys: []string{"field=magic"},
			in: key(optMagic, nil), want: key(data.Int32Schema, nil)},
		{name: "nonexistent field schemaless is null", class: moveExtractKey, keys: []string{"field=nonexistent"},
			in: key(nil, mkMap("magic", int32(42))), want: key(nil, nil)},
		{name: "nonexistent nested field schemaless is null", class: moveExtractKey, keys: []string{"field=magic.nonexistent", "field.syntax.version=V2"},
			in: key(nil, mkMap("magic", mkMap("foo", int32(42)))), want: key(nil, nil)},
		{name: "nonexistent field with schema fails", class: moveExtractKey, keys: []string{"field=nonexistent"},
			in: key(magic, mkStruct(t, magic, "magic", int32(42))), err: "Unknown field: nonexistent"},
		{name: "nonexistent nested field with schema fails", class: moveExtractKey, keys: []string{"field=magic.nonexistent", "field.syntax.version=V2"},
			in: key(nested, mkStruct(t, nested, "magic", mkStruct(t, foo, "foo", int32(42)))), err: "Unknown field: magic.nonexistent"},
		{name: "unset optional key, default used", class: moveExtractKey, keys: []string{"field=optional_with_default", "replace.null.with.default=true"},
			in: key(withDefault, mkStruct(t, withDefault)), want: key(withDefault.Fields[0].Schema, int32(42))},
		{name: "unset optional key, null kept", class: moveExtractKey, keys: []string{"field=optional_with_default", "replace.null.with.default=false"},
			in: key(withDefault, mkStruct(t, withDefault)), want: key(withDefault.Fields[0].Schema, nil)},
		{name: "unset optional field, default used", class: moveExtractValue, keys: []string{"field=optional_with_default"},
			in: val(withDefault, mkStruct(t, withDefault)), want: val(withDefault.Fields[0].Schema, int32(42))},
		{name: "unset optional field, null kept", class: moveExtractValue, keys: []string{"field=optional_with_default", "replace.null.with.default=false"},
			in: val(withDefault, mkStruct(t, withDefault)), want: val(withDefault.Fields[0].Schema, nil)},
		{name: "schemaless value not a map", class: moveExtractValue, keys: []string{"field=magic"},
			in: val(nil, "text"), err: "Only Map objects supported in absence of schema for [field extraction], found: java.lang.String"},
		{name: "schema'd value not a struct", class: moveExtractValue, keys: []string{"field=magic"},
			in: val(data.Int32Schema, int32(1)), err: "Only Struct objects supported for [field extraction], found: java.lang.Integer"},
		{name: "nested step not a map", class: moveExtractValue, keys: []string{"field=magic.foo", "field.syntax.version=V2"},
			in: val(nil, mkMap("magic", int32(5))), err: "Only Map objects supported in absence of schema for [nested field access], found: java.lang.Integer"},
	})
}

func TestMoveHoistField(t *testing.T) {
	hoisted := data.StructSchema("", false, "magic", data.Int32Schema)
	moveRun(t, []moveCase{
		{name: "schemaless", class: moveHoistKey, keys: []string{"field=magic"},
			in: transforms.Record{KeyData: int32(42)}, want: transforms.Record{KeyData: mkMap("magic", int32(42))}},
		{name: "schemaless null", class: moveHoistValue, keys: []string{"field=magic"},
			in: transforms.Record{}, want: transforms.Record{ValueData: mkMap("magic", nil)}},
		{name: "with schema", class: moveHoistKey, keys: []string{"field=magic"},
			in:   transforms.Record{KeySchema: data.Int32Schema, KeyData: int32(42)},
			want: transforms.Record{KeySchema: hoisted, KeyData: mkStruct(t, hoisted, "magic", int32(42))}},
		{name: "value with schema keeps the key", class: moveHoistValue, keys: []string{"field=magic"},
			in:   transforms.Record{KeyData: "k", ValueSchema: data.Int32Schema, ValueData: int32(42)},
			want: transforms.Record{KeyData: "k", ValueSchema: hoisted, ValueData: mkStruct(t, hoisted, "magic", int32(42))}},
		{name: "null for a required schema", class: moveHoistValue, keys: []string{"field=magic"},
			in:  transforms.Record{ValueSchema: data.Int32Schema},
			err: `Invalid value: null used for required field: "magic", schema type: INT32`},
	})
	// The schemaless result is a mutable java.util.HashMap.
	c := typedChain(t, moveHoistKey, "field=magic")
	r := transforms.Record{Typed: true, KeyData: int32(420)}
	if _, err := c.Apply(&r); err != nil {
		t.Fatal(err)
	}
	m := r.KeyData.(*data.Map)
	m.Put("k", "v")
	if !data.Equal(m, mkMap("k", "v", "magic", int32(420))) || data.JavaClass(m) != "java.util.HashMap" {
		t.Errorf("key %s", data.AppendJava(nil, m))
	}
}

func TestMoveInsertField(t *testing.T) {
	all := []string{"topic.field=topic_field!", "timestamp.field=timestamp_field?", "static.field=instance_id", "static.value=my-instance-id"}
	v1 := int32(1)
	simple := &data.Schema{Type: data.StructType, Name: "name", Version: &v1, Doc: "doc",
		Fields: []data.Field{{Name: "magic", Schema: data.OptionalInt64Schema}}}
	inserted := simple.Clone()
	inserted.Fields = append(inserted.Fields,
		data.Field{Name: "topic_field", Index: 1, Schema: data.StringSchema},
		data.Field{Name: "timestamp_field", Index: 2, Schema: data.TimestampSchema(true)},
		data.Field{Name: "instance_id", Index: 3, Schema: data.OptionalStringSchema})
	magicDefault := moveOptionalDefault(data.Int64Schema, int64(42))
	withDefault := &data.Schema{Type: data.StructType, Name: "name", Version: &v1, Doc: "doc",
		Fields: []data.Field{{Name: "magic_with_default", Schema: magicDefault}}}
	withDefaultOut := withDefault.Clone()
	withDefaultOut.Fields = append(withDefaultOut.Fields,
		data.Field{Name: "topic_field", Index: 1, Schema: data.StringSchema},
		data.Field{Name: "timestamp_field", Index: 2, Schema: data.TimestampSchema(true)},
		data.Field{Name: "instance_id", Index: 3, Schema: data.OptionalStringSchema})
	partOff := simple.Clone()
	partOff.Fields = append(partOff.Fields,
		data.Field{Name: "partition_field", Index: 1, Schema: data.Int32Schema},
		data.Field{Name: "offset_field", Index: 2, Schema: data.OptionalInt64Schema})
	ts789 := time.UnixMilli(789)
	ts123 := time.UnixMilli(123)
	moveRun(t, []moveCase{
		{name: "top level struct required", class: moveInsertValue, keys: []string{"topic.field=topic_field"},
			in:  transforms.Record{ValueSchema: data.Int32Schema, ValueData: int32(42)},
			err: "Only Struct objects supported for [field insertion], found: java.lang.Integer"},
		{name: "schemaless value must be a map", class: moveInsertValue, keys: []string{"topic.field=topic_field"},
			in:  transforms.Record{ValueData: int32(42)},
			err: "Only Map objects supported in absence of schema for [field insertion], found: java.lang.Integer"},
		{name: "copy schema and insert configured fields", class: moveInsertValue, keys: all,
			in: transforms.Record{Topic: "test", Timestamp: ts789, ValueSchema: simple, ValueData: mkStruct(t, simple, "magic", int64(42))},
			want: transforms.Record{Topic: "test", ValueSchema: inserted, ValueData: mkStruct(t, inserted,
				"magic", int64(42), "topic_field", "test", "timestamp_field", ts789, "instance_id", "my-instance-id")}},
		{name: "schema'd record without a timestamp leaves it null", class: moveInsertValue, keys: all,
			in: transforms.Record{Topic: "test", ValueSchema: simple, ValueData: mkStruct(t, simple)},
			want: transforms.Record{Topic: "test", ValueSchema: inserted, ValueData: mkStruct(t, inserted,
				"topic_field", "test", "instance_id", "my-instance-id")}},
		{name: "schemaless insert configured fields", class: moveInsertValue, keys: all,
			in: transforms.Record{Topic: "test", Timestamp: ts123, ValueData: mkMap("magic", int64(42))},
			want: transforms.Record{Topic: "test", ValueData: mkMap("magic", int64(42), "topic_field", "test",
				"timestamp_field", int64(123), "instance_id", "my-instance-id")}},
		{name: "a sink record's partition and offset", class: moveInsertValue,
			keys: []string{"partition.field=partition_field!", "offset.field=offset_field"},
			in:   transforms.Record{Topic: "test", Sink: true, Partition: 3, Offset: 1234, ValueSchema: simple, ValueData: mkStruct(t, simple, "magic", int64(1))},
			want: transforms.Record{Topic: "test", Sink: true, Partition: 3, Offset: 1234, ValueSchema: partOff, ValueData: mkStruct(t, partOff,
				"magic", int64(1), "partition_field", int32(3), "offset_field", int64(1234))}},
		{name: "a sink record's partition and offset, schemaless", class: moveInsertValue,
			keys: []string{"partition.field=partition_field", "offset.field=offset_field"},
			in:   transforms.Record{Topic: "test", Sink: true, Partition: 3, Offset: 1234, ValueData: mkMap("magic", int64(1))},
			want: transforms.Record{Topic: "test", Sink: true, Partition: 3, Offset: 1234, ValueData: mkMap("magic", int64(1), "partition_field", int32(3), "offset_field", int64(1234))}},
		{name: "a source record has no partition yet", class: moveInsertValue, keys: []string{"partition.field=partition_field"},
			in:   transforms.Record{Topic: "test", ValueData: mkMap("magic", int64(1))},
			want: transforms.Record{Topic: "test", ValueData: mkMap("magic", int64(1))}},
		{name: "a source record has no offset", class: moveInsertValue, keys: []string{"offset.field=offset_field"},
			in:  transforms.Record{Topic: "test", ValueData: mkMap("magic", int64(1))},
			err: "Only SinkRecord supported for [field insertion], found: org.apache.kafka.connect.source.SourceRecord"},
		{name: "tombstone without schema unchanged", class: moveInsertValue, keys: all,
			in: transforms.Record{Topic: "test"}, want: transforms.Record{Topic: "test"}},
		{name: "tombstone with schema unchanged", class: moveInsertValue, keys: all,
			in: transforms.Record{Topic: "test", ValueSchema: simple}, want: transforms.Record{Topic: "test", ValueSchema: simple}},
		{name: "key fields into tombstone event", class: moveInsertKey, keys: all,
			in:   transforms.Record{Topic: "test", KeyData: mkMap("magic", int64(42))},
			want: transforms.Record{Topic: "test", KeyData: mkMap("magic", int64(42), "topic_field", "test", "instance_id", "my-instance-id")}},
		{name: "null key leaves record unchanged", class: moveInsertKey, keys: all,
			in:   transforms.Record{Topic: "test", ValueData: mkMap("magic", int64(42))},
			want: transforms.Record{Topic: "test", ValueData: mkMap("magic", int64(42))}},
		{name: "unset optional field, default used", class: moveInsertValue, keys: append(all[:4:4], "replace.null.with.default=true"),
			in: transforms.Record{Topic: "test", Timestamp: ts789, ValueSchema: withDefault, ValueData: mkStruct(t, withDefault)},
			want: transforms.Record{Topic: "test", ValueSchema: withDefaultOut, ValueData: mkStruct(t, withDefaultOut,
				"magic_with_default", int64(42), "topic_field", "test", "timestamp_field", ts789, "instance_id", "my-instance-id")}},
		{name: "unset optional field, null kept", class: moveInsertValue, keys: append(all[:4:4], "replace.null.with.default=false"),
			in: transforms.Record{Topic: "test", Timestamp: ts789, ValueSchema: withDefault, ValueData: mkStruct(t, withDefault)},
			want: transforms.Record{Topic: "test", ValueSchema: withDefaultOut, ValueData: mkStruct(t, withDefaultOut,
				"topic_field", "test", "timestamp_field", ts789, "instance_id", "my-instance-id")}},
		{name: "inserted name taken", class: moveInsertValue, keys: []string{"topic.field=magic"},
			in:  transforms.Record{Topic: "test", ValueSchema: simple, ValueData: mkStruct(t, simple)},
			err: "Cannot create field because of field name duplication magic"},
	})
	// The schema made of one input schema is made once.
	c := typedChain(t, moveInsertValue, all...)
	r1 := transforms.Record{Typed: true, Topic: "test", ValueSchema: simple, ValueData: mkStruct(t, simple)}
	r2 := r1
	if _, err := c.Apply(&r1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(&r2); err != nil {
		t.Fatal(err)
	}
	if r1.ValueSchema != r2.ValueSchema {
		t.Error("the output schema is not cached")
	}
}

func TestMoveValueToKey(t *testing.T) {
	abc := data.StructSchema("", false, "a", data.Int32Schema, "b", data.Int32Schema, "c", data.Int32Schema)
	ab := data.StructSchema("", false, "a", data.Int32Schema, "b", data.Int32Schema)
	withDefault := data.StructSchema("", false, "optional_with_default", moveOptionalDefault(data.Int32Schema, int32(42)))
	keyOfDefault := data.StructSchema("", false, "optional_with_default", withDefault.Fields[0].Schema)
	abcValue := mkStruct(t, abc, "a", int32(1), "b", int32(2), "c", int32(3))
	schemaless := mkMap("a", int32(1), "b", int32(2), "c", int32(3))
	defValue := mkStruct(t, withDefault)
	moveRun(t, []moveCase{
		{name: "schemaless", class: transforms.ValueToKeyClass, keys: []string{"fields=a,b"},
			in:   transforms.Record{KeyData: "old", ValueData: schemaless},
			want: transforms.Record{KeyData: mkMap("a", int32(1), "b", int32(2)), ValueData: schemaless}},
		{name: "schemaless missing field is null", class: "ValueToKey", keys: []string{"fields=a,zz"},
			in:   transforms.Record{ValueData: schemaless},
			want: transforms.Record{KeyData: mkMap("a", int32(1), "zz", nil), ValueData: schemaless}},
		{name: "with schema", class: transforms.ValueToKeyClass, keys: []string{"fields=a,b"},
			in:   transforms.Record{ValueSchema: abc, ValueData: abcValue},
			want: transforms.Record{KeySchema: ab, KeyData: mkStruct(t, ab, "a", int32(1), "b", int32(2)), ValueSchema: abc, ValueData: abcValue}},
		{name: "non-existing field", class: transforms.ValueToKeyClass, keys: []string{"fields=not_exist"},
			in: transforms.Record{ValueSchema: abc, ValueData: abcValue}, err: "Field does not exist: not_exist"},
		{name: "replace null with default", class: transforms.ValueToKeyClass, keys: []string{"fields=optional_with_default"},
			in:   transforms.Record{ValueSchema: withDefault, ValueData: defValue},
			want: transforms.Record{KeySchema: keyOfDefault, KeyData: mkStruct(t, keyOfDefault, "optional_with_default", int32(42)), ValueSchema: withDefault, ValueData: defValue}},
		{name: "keep null", class: transforms.ValueToKeyClass, keys: []string{"fields=optional_with_default", "replace.null.with.default=false"},
			in:   transforms.Record{ValueSchema: withDefault, ValueData: defValue},
			want: transforms.Record{KeySchema: keyOfDefault, KeyData: mkStruct(t, keyOfDefault), ValueSchema: withDefault, ValueData: defValue}},
		{name: "schemaless null value", class: transforms.ValueToKeyClass, keys: []string{"fields=a"},
			in: transforms.Record{}, err: "Only Map objects supported in absence of schema for [copying fields from value to key], found: null"},
		{name: "schema'd null value", class: transforms.ValueToKeyClass, keys: []string{"fields=a"},
			in: transforms.Record{ValueSchema: abc}, err: "Only Struct objects supported for [copying fields from value to key], found: null"},
	})
	c := typedChain(t, transforms.ValueToKeyClass, "fields=a,b")
	r := transforms.Record{Typed: true, ValueData: schemaless}
	if _, err := c.Apply(&r); err != nil {
		t.Fatal(err)
	}
	if got := data.JavaClass(r.KeyData); got != "java.util.HashMap" {
		t.Errorf("key class %s", got)
	}
}

// moveHeaderCase is one of Kafka's HeaderFromTest scenarios: the fields
// of the key or value before and after, and the headers added.
type moveHeaderCase struct {
	name            string
	fields, headers string
	operation       string
	withDefault     bool
	in, out         []moveField
	added           []kgo.RecordHeader
}

type moveField struct {
	name   string
	schema *data.Schema
	value  any
}

func TestMoveHeaderFrom(t *testing.T) {
	str := data.StringSchema
	inner := data.StructSchema("", false, "foo", str)
	innerValue := mkStruct(t, inner, "foo", "foo-value")
	optDef := moveOptionalDefault(data.StringSchema, "default")
	f1 := moveField{"field1", str, "field1-value"}
	f2 := moveField{"field2", str, "field2-value"}
	h := func(k, v string) kgo.RecordHeader { return kgo.RecordHeader{Key: k, Value: []byte(v)} }
	cases := []moveHeaderCase{
		{"basic copy", "field1", "inserted1", "copy", true, []moveField{f1, f2}, []moveField{f1, f2},
			[]kgo.RecordHeader{h("inserted1", "field1-value")}},
		{"basic move", "field1", "inserted1", "move", true, []moveField{f1, f2}, []moveField{f2},
			[]kgo.RecordHeader{h("inserted1", "field1-value")}},
		{"copy with preexisting header", "field1", "header1", "copy", true, []moveField{f1, f2}, []moveField{f1, f2},
			[]kgo.RecordHeader{h("header1", "field1-value")}},
		{"move with preexisting header", "field1", "header1", "move", true, []moveField{f1, f2}, []moveField{f2},
			[]kgo.RecordHeader{h("header1", "field1-value")}},
		{"copy with struct value", "field1", "inserted1", "copy", true, []moveField{{"field1", inner, innerValue}, f2}, []moveField{{"field1", inner, innerValue}, f2},
			[]kgo.RecordHeader{h("inserted1", `{"foo":"foo-value"}`)}},
		{"move with struct value", "field1", "inserted1", "move", true, []moveField{{"field1", inner, innerValue}, f2}, []moveField{f2},
			[]kgo.RecordHeader{h("inserted1", `{"foo":"foo-value"}`)}},
		{"two headers from same field", "field1,field1", "inserted1,inserted2", "move", true, []moveField{f1, f2}, []moveField{f2},
			[]kgo.RecordHeader{h("inserted1", "field1-value"), h("inserted2", "field1-value")}},
		{"two fields to same header", "field1,field2", "inserted1,inserted1", "move", true, []moveField{f1, f2}, nil,
			[]kgo.RecordHeader{h("inserted1", "field1-value"), h("inserted1", "field2-value")}},
		{"copy null field without default", "field1,field2", "inserted1,inserted2", "copy", false,
			[]moveField{{"field1", optDef, "field1-value"}, {"field2", optDef, nil}},
			[]moveField{{"field1", optDef, "field1-value"}, {"field2", optDef, nil}},
			[]kgo.RecordHeader{h("inserted1", "field1-value"), {Key: "inserted2"}}},
		{"move null field without default", "field1,field2", "inserted1,inserted2", "move", false,
			[]moveField{{"field1", optDef, "field1-value"}, {"field2", optDef, nil}}, nil,
			[]kgo.RecordHeader{h("inserted1", "field1-value"), {Key: "inserted2"}}},
	}
	existing := []kgo.RecordHeader{h("header1", "existing-value")}
	var runs []moveCase
	for _, key := range []bool{true, false} {
		class, other := moveHeaderValue, "key"
		if key {
			class, other = moveHeaderKey, "value"
		}
		for _, schemaful := range []bool{false, true} {
			for _, hc := range cases {
				build := func(fs []moveField) (*data.Schema, any) {
					if !schemaful {
						m := data.NewMap(len(fs))
						for _, f := range fs {
							m.Put(f.name, f.value)
						}
						return nil, m
					}
					s := &data.Schema{Type: data.StructType}
					for _, f := range fs {
						if err := s.AddField(f.name, f.schema); err != nil {
							t.Fatal(err)
						}
					}
					st := data.NewStruct(s)
					for _, f := range fs {
						if err := st.Put(f.name, f.value); err != nil {
							t.Fatal(err)
						}
					}
					return s, st
				}
				inS, inV := build(hc.in)
				outS, outV := build(hc.out)
				in := transforms.Record{Topic: "topic", Headers: existing}
				want := transforms.Record{Topic: "topic", Headers: append(existing[:1:1], hc.added...)}
				if key {
					in.KeySchema, in.KeyData, in.ValueData = inS, inV, other
					want.KeySchema, want.KeyData, want.ValueData = outS, outV, other
				} else {
					in.ValueSchema, in.ValueData, in.KeyData = inS, inV, other
					want.ValueSchema, want.ValueData, want.KeyData = outS, outV, other
				}
				name := hc.name + map[bool]string{true: " $Key", false: " $Value"}[key] + map[bool]string{true: " with schema", false: " schemaless"}[schemaful]
				runs = append(runs, moveCase{name: name, class: class, in: in, want: want, keys: []string{
					"fields=" + hc.fields, "headers=" + hc.headers, "operation=" + hc.operation,
					"replace.null.with.default=" + map[bool]string{true: "true", false: "false"}[hc.withDefault]}})
			}
		}
	}
	// Tributary's own: the default of a null field, when asked for, and
	// what Kafka's SimpleHeaderConverter makes of each kind of value.
	defS := data.StructSchema("", false, "f", optDef)
	defV := mkStruct(t, defS)
	linked := mkMap("q", `a"b\c`, "n", nil)
	linked.Linked = true
	kinds := mkMap(
		"i8", int8(-3), "i64", int64(1)<<40, "f32", float32(1.5), "f64", 1e21, "bool", true,
		"bytes", []byte{1, 2, 3}, "list", []any{"a", int32(1), nil, []byte{255}}, "map", linked,
		"dec", data.Decimal{Unscaled: big.NewInt(150), Scale: 2},
		"ts", time.Date(2026, 3, 7, 14, 5, 9, 123e6, time.UTC), "date", time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC),
		"time", time.UnixMilli(50709123).UTC(), "struct", innerValue)
	kindNames := "i8,i64,f32,f64,bool,bytes,list,map,dec,ts,date,time,struct"
	runs = append(runs,
		moveCase{name: "copy a null field's default", class: moveHeaderValue,
			keys: []string{"fields=f", "headers=h", "operation=copy"},
			in:   transforms.Record{ValueSchema: defS, ValueData: defV},
			want: transforms.Record{ValueSchema: defS, ValueData: defV, Headers: []kgo.RecordHeader{h("h", "default")}}},
		moveCase{name: "move keeps the other fields' defaults", class: moveHeaderValue,
			keys: []string{"fields=g", "headers=h", "operation=move"},
			in: transforms.Record{ValueSchema: data.StructSchema("", false, "f", optDef, "g", str),
				ValueData: mkStruct(t, data.StructSchema("", false, "f", optDef, "g", str), "g", "x")},
			want: transforms.Record{ValueSchema: defS, ValueData: mkStruct(t, defS, "f", "default"), Headers: []kgo.RecordHeader{h("h", "x")}}},
		moveCase{name: "header text of each kind of value", class: moveHeaderValue,
			keys: []string{"fields=" + kindNames, "headers=" + kindNames, "operation=copy"},
			in:   transforms.Record{ValueData: kinds},
			want: transforms.Record{ValueData: kinds, Headers: []kgo.RecordHeader{
				h("i8", "-3"), h("i64", "1099511627776"), h("f32", "1.5"), h("f64", "1.0E21"), h("bool", "true"),
				h("bytes", "AQID"), h("list", `["a",1,null,"/w=="]`), h("map", `{"q":"a\"b\\c","n":null}`),
				h("dec", "1.50"), h("ts", "2026-03-07T14:05:09.123Z"), h("date", "2026-03-07"), h("time", "14:05:09.123Z"),
				h("struct", `{"foo":"foo-value"}`)}}},
		moveCase{name: "schemaless null value", class: moveHeaderValue,
			keys: []string{"fields=a", "headers=b", "operation=move"},
			in:   transforms.Record{}, err: "Only Map objects supported in absence of schema for [header move], found: null"},
		moveCase{name: "schema'd value not a struct", class: moveHeaderKey,
			keys: []string{"fields=a", "headers=b", "operation=copy"},
			in:   transforms.Record{KeySchema: str, KeyData: "s"}, err: "Only Struct objects supported for [header copy], found: java.lang.String"},
		moveCase{name: "schema'd missing field", class: moveHeaderValue,
			keys: []string{"fields=nope", "headers=b", "operation=copy"},
			in:   transforms.Record{ValueSchema: defS, ValueData: defV}, err: "Field does not exist: nope"},
	)
	moveRun(t, runs)

	// The record's own headers are not changed in place.
	c := typedChain(t, moveHeaderValue, "fields=a", "headers=b", "operation=copy")
	own := make([]kgo.RecordHeader, 1, 4)
	own[0] = h("x", "y")
	r := transforms.Record{Typed: true, ValueData: mkMap("a", "1"), Headers: own}
	if _, err := c.Apply(&r); err != nil {
		t.Fatal(err)
	}
	if len(r.Headers) != 2 || own[:2][1].Key != "" {
		t.Errorf("headers %s; the given slice was written", moveHeadersText(r.Headers))
	}
}

func TestMoveConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		class string
		keys  []string
		want  string
	}{
		{moveExtractValue, nil, "c.properties: transforms.x.field: missing required key"},
		{moveExtractValue, []string{"field=a", "field.syntax.version=V3"}, `c.properties: transforms.x.field.syntax.version: "V3" must be one of V1, V2`},
		{moveExtractValue, []string{"field=`foo.bar", "field.syntax.version=V2"},
			"c.properties: transforms.x.field: \"`foo.bar\" Incomplete backtick pair in path: [`foo.bar], consider adding a backslash before backtick at position 0 to escape it"},
		{moveExtractValue, []string{"field=a.`b\\\\`", "field.syntax.version=V2"},
			"Incomplete backtick pair in path: [a.`b\\`], consider adding a backslash before backtick at position 2 to escape it"},
		{moveHoistKey, nil, "c.properties: transforms.x.field: missing required key"},
		{moveInsertValue, nil, `c.properties: transforms.x.type: "org.apache.kafka.connect.transforms.InsertField$Value" sets none of topic.field, partition.field, offset.field, timestamp.field and static.field: No field insertion configured`},
		{moveInsertValue, []string{"static.field=instance_id!"}, `c.properties: transforms.x.static.field: "instance_id!" is set without static.value: No value specified for static field: instance_id`},
		{transforms.ValueToKeyClass, nil, "c.properties: transforms.x.fields: missing required key"},
		{transforms.ValueToKeyClass, []string{"fields="}, `c.properties: transforms.x.fields: "" Empty list`},
		{moveHeaderKey, []string{"fields=foo,bar", "headers=foo", "operation=copy"},
			`c.properties: transforms.x.headers: "foo" 'fields' config must have the same number of elements as 'headers' config.`},
		{moveHeaderValue, []string{"fields=foo", "headers=foo,bar", "operation=copy"},
			"'fields' config must have the same number of elements as 'headers' config."},
		{moveHeaderValue, []string{"fields=", "headers=", "operation=copy"}, `transforms.x.fields: "" Empty list`},
		{moveHeaderValue, []string{"fields=a", "headers=b", "operation=MOVE"}, `transforms.x.operation: "MOVE" String must be one of: move, copy`},
		{moveHeaderValue, []string{"fields=a", "headers=b"}, "transforms.x.operation: missing required key"},
	} {
		_, err := tryChain(tc.class, tc.keys...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v; want %q", tc.class, tc.keys, err, tc.want)
		}
	}
}

func TestMoveClassesTyped(t *testing.T) {
	for _, tc := range []struct {
		class string
		keys  []string
	}{
		{moveExtractKey, []string{"field=a"}}, {moveExtractValue, []string{"field=a"}}, {"ExtractField$Value", []string{"field=a"}},
		{moveHoistKey, []string{"field=a"}}, {moveHoistValue, []string{"field=a"}},
		{moveInsertKey, []string{"topic.field=a"}}, {moveInsertValue, []string{"static.field=a", "static.value="}},
		{transforms.ValueToKeyClass, []string{"fields=a"}},
		{moveHeaderKey, []string{"fields=a", "headers=b", "operation=copy"}}, {moveHeaderValue, []string{"fields=a", "headers=b", "operation=move"}},
	} {
		typedChain(t, tc.class, tc.keys...) // fails unless Chain.Typed()
	}
	if _, err := tryChain(transforms.ValueToKeyClass+"$Value", "fields=a"); err == nil {
		t.Error("ValueToKey$Value: no error; Kafka has no such class")
	}
}
