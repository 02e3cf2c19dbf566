package transforms_test

// Kafka's FlattenTest and TimestampConverterTest, as table tests.

import (
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/data"
	"github.com/tributary-io/tributary/connect/transforms"
)

// flatChain parses a properties text into a chain, which must be typed.
func flatChain(t *testing.T, text string) *transforms.Chain {
	t.Helper()
	p, err := config.ParseString("c.properties", text)
	if err != nil {
		t.Fatal(err)
	}
	c, unused, err := transforms.Parse(p)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(unused) > 0 {
		t.Fatalf("unused keys %v", unused)
	}
	if !c.Typed() {
		t.Fatal("Chain.Typed() is false")
	}
	return c
}

// flatParseErr parses a properties text that must fail, and returns the
// error's text.
func flatParseErr(t *testing.T, text string) string {
	t.Helper()
	p, err := config.ParseString("c.properties", text)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err = transforms.Parse(p); err == nil {
		t.Fatalf("Parse of %q: no error", text)
	}
	return err.Error()
}

// flatConf is a properties text of one transformation t of class cls with
// the keys given as key=value lines.
func flatConf(cls string, kv ...string) string {
	s := "transforms=t\ntransforms.t.type=" + cls + "\n"
	for _, l := range kv {
		s += "transforms.t." + l + "\n"
	}
	return s
}

// flatApply applies c to a typed record of the value (schema may be nil).
func flatApply(t *testing.T, c *transforms.Chain, schema *data.Schema, v any) (*transforms.Record, error) {
	t.Helper()
	r := &transforms.Record{Topic: "topic", Typed: true, ValueSchema: schema, ValueData: v}
	keep, err := c.Apply(r)
	if err == nil && !keep {
		t.Fatal("record dropped")
	}
	return r, err
}

func flatGet(t *testing.T, v any, name string) any {
	t.Helper()
	switch x := v.(type) {
	case *data.Struct:
		got, err := x.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		return got
	case *data.Map:
		got, _ := x.Get(name)
		return got
	}
	t.Fatalf("%T is neither a Struct nor a Map", v)
	return nil
}

func flatKeysOf(m *data.Map) string {
	var ks []string
	for _, k := range m.Keys {
		ks = append(ks, k.(string))
	}
	return strings.Join(ks, ",")
}

func flatStringSchema(optional bool, def any) *data.Schema {
	return &data.Schema{Type: data.String, Optional: optional, Default: def}
}

func TestFlattenConfig(t *testing.T) {
	for _, cls := range []string{"org.apache.kafka.connect.transforms.Flatten$Value", "Flatten$Key",
		"org.apache.kafka.connect.transforms.TimestampConverter$Key", "TimestampConverter$Value"} {
		conf := flatConf(cls)
		if strings.Contains(cls, "Timestamp") {
			conf = flatConf(cls, "target.type=unix")
		}
		flatChain(t, conf)
	}
	if msg := flatParseErr(t, flatConf("Flatten")); !strings.Contains(msg, "could not be found") {
		t.Errorf("Flatten without $Key/$Value: %s", msg)
	}
}

func TestFlattenSchemaless(t *testing.T) {
	supported := mkMap("int8", int8(8), "int16", int16(16), "int32", int32(32), "int64", int64(64),
		"float32", float32(32), "float64", float64(64), "boolean", true, "string", "stringy", "bytes", []byte("bytes"))
	// Kafka iterates a HashMap in its hash order: the output, a
	// LinkedHashMap, keeps that order.
	var hashOrder []string
	for _, i := range supported.Order() {
		hashOrder = append(hashOrder, "A#B#"+supported.Keys[i].(string))
	}
	for _, tc := range []struct {
		name      string
		delimiter string
		in        any
		want      *data.Map // nil: in unchanged
		order     string    // "": the order of want
		err       string
	}{
		{name: "top level map required", in: int64(42),
			err: "Only Map objects supported in absence of schema for [flattening], found: java.lang.Long"},
		{name: "nested map with delimiter", delimiter: "#",
			in: mkMap("A", mkMap("B", supported)),
			want: mkLinkedMap("A#B#int8", int8(8), "A#B#int16", int16(16), "A#B#int32", int32(32), "A#B#int64", int64(64),
				"A#B#float32", float32(32), "A#B#float64", float64(64), "A#B#boolean", true, "A#B#string", "stringy", "A#B#bytes", []byte("bytes")),
			order: strings.Join(hashOrder, ",")},
		{name: "optional field map", in: mkMap("B", mkMap("opt_int32", nil)),
			want: mkLinkedMap("B.opt_int32", nil)},
		{name: "array kept as it is", in: mkMap("foo", []any{"bar", mkMap("baz", mkMap("lfg", "lfg"))}),
			want: mkLinkedMap("foo", []any{"bar", mkMap("baz", mkMap("lfg", "lfg"))})},
		{name: "tombstone passes", in: nil},
		{name: "map with null fields keeps its order",
			in:   mkLinkedMap("firstNull", nil, "firstNonNull", "nonNull", "secondNull", nil, "secondNonNull", "alsoNonNull", "thirdNonNull", nil),
			want: mkLinkedMap("firstNull", nil, "firstNonNull", "nonNull", "secondNull", nil, "secondNonNull", "alsoNonNull", "thirdNonNull", nil)},
		{name: "struct in a map", in: mkLinkedMap("a", mkLinkedMap("s", mkStruct(t, data.StructSchema("", false, "x", data.Int32Schema), "x", int32(1)))),
			err: "Flatten transformation does not support class org.apache.kafka.connect.data.Struct for record without schemas (for field a.s)."},
		{name: "decimal in a map", in: mkLinkedMap("d", data.Decimal{Unscaled: big.NewInt(1), Scale: 2}),
			err: "Flatten transformation was passed a value of type class java.math.BigDecimal which is not supported by Connect's data API"},
		{name: "date in a map", in: mkLinkedMap("d", time.UnixMilli(0).UTC()),
			err: "Flatten transformation was passed a value of type class java.util.Date which is not supported by Connect's data API"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var kv []string
			if tc.delimiter != "" {
				kv = append(kv, "delimiter="+tc.delimiter)
			}
			c := flatChain(t, flatConf("org.apache.kafka.connect.transforms.Flatten$Value", kv...))
			r, err := flatApply(t, c, nil, tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.ValueSchema != nil {
				t.Errorf("schema %v, want none", r.ValueSchema)
			}
			if tc.want == nil {
				if !data.Equal(r.ValueData, tc.in) {
					t.Errorf("value %s, want it unchanged", data.AppendJava(nil, r.ValueData))
				}
				return
			}
			got, ok := r.ValueData.(*data.Map)
			if !ok || !got.Linked {
				t.Fatalf("value %T (%s), want a LinkedHashMap", r.ValueData, data.JavaClass(r.ValueData))
			}
			if !data.Equal(got, tc.want) {
				t.Errorf("value %s, want %s", data.AppendJava(nil, got), data.AppendJava(nil, tc.want))
			}
			order := tc.order
			if order == "" {
				order = flatKeysOf(tc.want)
			}
			if flatKeysOf(got) != order {
				t.Errorf("keys in order %s, want %s", flatKeysOf(got), order)
			}
		})
	}
}

func TestFlattenKey(t *testing.T) {
	c := flatChain(t, flatConf("org.apache.kafka.connect.transforms.Flatten$Key"))
	r := &transforms.Record{Topic: "topic", Typed: true, KeyData: mkMap("A", mkMap("B", int32(12)))}
	if _, err := c.Apply(r); err != nil {
		t.Fatal(err)
	}
	if r.KeySchema != nil || !data.Equal(r.KeyData, mkLinkedMap("A.B", int32(12))) {
		t.Errorf("key %v %s, want schemaless {A.B=12}", r.KeySchema, data.AppendJava(nil, r.KeyData))
	}
	if r.ValueData != nil || r.ValueSchema != nil {
		t.Error("value changed")
	}
}

func TestFlattenWithSchema(t *testing.T) {
	supportedSchema := data.StructSchema("", false, "int8", data.Int8Schema, "int16", data.Int16Schema, "int32", data.Int32Schema,
		"int64", data.Int64Schema, "float32", data.Float32Schema, "float64", data.Float64Schema, "boolean", data.BooleanSchema,
		"string", data.StringSchema, "bytes", data.BytesSchema)
	oneLevel := data.StructSchema("", false, "B", supportedSchema)
	twoLevel := data.StructSchema("", false, "A", oneLevel)
	supported := mkStruct(t, supportedSchema, "int8", int8(8), "int16", int16(16), "int32", int32(32), "int64", int64(64),
		"float32", float32(32), "float64", float64(64), "boolean", true, "string", "stringy", "bytes", []byte("bytes"))
	nested := mkStruct(t, twoLevel, "A", mkStruct(t, oneLevel, "B", supported))
	flatNested := data.StructSchema("", false, "A.B.int8", data.Int8Schema, "A.B.int16", data.Int16Schema, "A.B.int32", data.Int32Schema,
		"A.B.int64", data.Int64Schema, "A.B.float32", data.Float32Schema, "A.B.float64", data.Float64Schema, "A.B.boolean", data.BooleanSchema,
		"A.B.string", data.StringSchema, "A.B.bytes", data.BytesSchema)

	optInt32 := data.StructSchema("", false, "opt_int32", data.OptionalInt32Schema)
	optFieldOuter := data.StructSchema("", false, "B", optInt32)
	optStruct := data.StructSchema("", true, "opt_int32", data.OptionalInt32Schema)
	optNestedOuter := data.StructSchema("", false, "B", optStruct)

	lfg := data.StructSchema("", false, "lfg", data.StringSchema)
	inner := data.StructSchema("", false, "baz", lfg)
	arrSchema := &data.Schema{Type: data.Array, Value: inner, Doc: "durk"}
	withArray := data.StructSchema("", false, "foo", arrSchema)
	arrValue := mkStruct(t, withArray, "foo", []any{mkStruct(t, inner, "baz", mkStruct(t, lfg, "lfg", "lfg"))})

	// An optional struct with a default: its fields become optional and
	// take their defaults from it unless they have their own.
	defaulted := data.StructSchema("", true, "req_field", data.StringSchema, "opt_field", flatStringSchema(true, "child_default"))
	defaulted.Default = mkStruct(t, defaulted, "req_field", "req_default")

	tomb := data.StructSchema("name", false, "magic", data.OptionalInt64Schema)
	tomb.Version, tomb.Doc = new(int32), "doc"
	*tomb.Version = 1

	nulls := data.StructSchema("", false, "firstNull", data.OptionalStringSchema, "firstNonNull", data.OptionalStringSchema,
		"secondNull", data.OptionalStringSchema, "secondNonNull", data.OptionalStringSchema, "thirdNonNull", data.OptionalStringSchema)
	nullsValue := mkStruct(t, nulls, "firstNonNull", "nonNull", "secondNonNull", "alsoNonNull")

	// A nested struct in a named, versioned, documented top level; a
	// parent with a default; a required field under an optional parent.
	named := data.StructSchema("com.example.Outer", false, "id", data.Int64Schema,
		"inner", data.StructSchema("", true, "a", data.Int32Schema, "t", data.TimestampSchema(false)),
		"tags", data.ArraySchema(data.StringSchema, true))
	named.Version, named.Doc = new(int32), "outer doc"
	*named.Version = 3
	namedFlat := data.StructSchema("com.example.Outer", false, "id", data.Int64Schema,
		"inner_a", data.OptionalInt32Schema, "inner_t", data.TimestampSchema(true), "tags", data.ArraySchema(data.StringSchema, true))
	namedFlat.Version, namedFlat.Doc = new(int32), "outer doc"
	*namedFlat.Version = 3

	withMap := data.StructSchema("", false, "A", data.StructSchema("", false, "m", data.MapSchema(data.StringSchema, data.StringSchema, false)))
	dup := data.StructSchema("", false, "a", data.StructSchema("", false, "b", data.Int32Schema), "a.b", data.Int32Schema)

	for _, tc := range []struct {
		name       string
		delimiter  string
		schema     *data.Schema
		in         any
		wantSchema *data.Schema // nil: unchanged
		want       any
		check      func(t *testing.T, got any)
		err        string
	}{
		{name: "top level struct required", schema: data.Int32Schema, in: int32(42),
			err: "Only Struct objects supported for [flattening], found: java.lang.Integer"},
		{name: "nested struct", schema: twoLevel, in: nested, wantSchema: flatNested,
			want: mkStruct(t, flatNested, "A.B.int8", int8(8), "A.B.int16", int16(16), "A.B.int32", int32(32), "A.B.int64", int64(64),
				"A.B.float32", float32(32), "A.B.float64", float64(64), "A.B.boolean", true, "A.B.string", "stringy", "A.B.bytes", []byte("bytes"))},
		{name: "nested struct with delimiter", delimiter: "_", schema: twoLevel, in: nested, check: func(t *testing.T, got any) {
			if v := flatGet(t, got, "A_B_string"); v != "stringy" {
				t.Errorf("A_B_string = %v", v)
			}
		}},
		{name: "optional field struct", schema: optFieldOuter, in: mkStruct(t, optFieldOuter, "B", mkStruct(t, optInt32)),
			wantSchema: data.StructSchema("", false, "B.opt_int32", data.OptionalInt32Schema),
			want:       data.NewStruct(data.StructSchema("", false, "B.opt_int32", data.OptionalInt32Schema))},
		{name: "optional struct null value passes", schema: optStruct, in: nil},
		{name: "optional nested struct null", schema: optNestedOuter, in: mkStruct(t, optNestedOuter),
			wantSchema: data.StructSchema("", false, "B.opt_int32", data.OptionalInt32Schema),
			want:       data.NewStruct(data.StructSchema("", false, "B.opt_int32", data.OptionalInt32Schema))},
		{name: "array with schema kept", schema: withArray, in: arrValue, wantSchema: withArray, want: arrValue},
		{name: "optional and default values nested", schema: defaulted, in: data.NewStruct(defaulted),
			wantSchema: data.StructSchema("", false, "req_field", flatStringSchema(true, "req_default"),
				"opt_field", flatStringSchema(true, "child_default")),
			check: func(t *testing.T, got any) {
				// Nulls read as the flattened fields' defaults.
				if v := flatGet(t, got, "req_field"); v != "req_default" {
					t.Errorf("req_field = %v", v)
				}
				if v := flatGet(t, got, "opt_field"); v != "child_default" {
					t.Errorf("opt_field = %v", v)
				}
			}},
		{name: "tombstone with schema passes", schema: tomb, in: nil},
		{name: "struct with null fields", schema: nulls, in: nullsValue, wantSchema: nulls, want: nullsValue},
		{name: "named top level, optional parent, array", schema: named,
			in:        mkStruct(t, named, "id", int64(7), "inner", mkStruct(t, named.Fields[1].Schema, "a", int32(1), "t", time.UnixMilli(5).UTC()), "tags", []any{"x"}),
			delimiter: "_", wantSchema: namedFlat,
			want: mkStruct(t, namedFlat, "id", int64(7), "inner_a", int32(1), "inner_t", time.UnixMilli(5).UTC(), "tags", []any{"x"})},
		{name: "map with schema", schema: withMap, in: mkStruct(t, withMap, "A", mkStruct(t, withMap.Fields[0].Schema, "m", mkMap())),
			err: "Flatten transformation does not support MAP for record with schemas (for field A.m)."},
		{name: "flattened names collide", schema: dup, in: data.NewStruct(dup),
			err: "Cannot create field because of field name duplication a.b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var kv []string
			if tc.delimiter != "" {
				kv = append(kv, "delimiter="+tc.delimiter)
			}
			c := flatChain(t, flatConf("Flatten$Value", kv...))
			r, err := flatApply(t, c, tc.schema, tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.ValueSchema == nil || r.ValueSchema.Type != data.StructType {
				t.Fatalf("schema %v, want a STRUCT", r.ValueSchema)
			}
			if tc.wantSchema == nil && tc.check == nil {
				if r.ValueSchema != tc.schema || !data.Equal(r.ValueData, tc.in) {
					t.Errorf("record changed: %v %s", r.ValueSchema, data.AppendJava(nil, r.ValueData))
				}
				return
			}
			if tc.wantSchema != nil && !r.ValueSchema.Equal(tc.wantSchema) {
				t.Errorf("schema %+v, want %+v", r.ValueSchema, tc.wantSchema)
			}
			if tc.want != nil && !data.Equal(r.ValueData, tc.want) {
				t.Errorf("value %s, want %s", data.AppendJava(nil, r.ValueData), data.AppendJava(nil, tc.want))
			}
			if st, ok := r.ValueData.(*data.Struct); !ok {
				t.Fatalf("value %T, want a Struct", r.ValueData)
			} else if err := data.Validate(r.ValueSchema, st); err != nil {
				t.Errorf("value does not fit its schema: %v", err)
			}
			if tc.check != nil {
				tc.check(t, r.ValueData)
			}
		})
	}
}

// Kafka's TimestampConverterTest instants: 1970-01-02 00:00:01.234 UTC and
// its date and time parts.
var (
	flatEpoch        = time.UnixMilli(0).UTC()
	flatTime         = time.UnixMilli(1234).UTC()
	flatDate         = time.UnixMilli(86400000).UTC()
	flatDatePlusTime = time.UnixMilli(86401234).UTC()
)

const (
	flatUnix       = int64(86401234)
	flatUnixMicros = flatUnix*1000 + 123
	flatUnixNanos  = flatUnixMicros*1000 + 456
	flatUnixSecs   = int64(86401)
	flatFmt        = "yyyy MM dd HH mm ss SSS z"
	flatString     = "1970 01 02 00 00 01 234 UTC"
)

func TestTimestampConverterConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   []string
		err  string // "": valid
	}{
		{"no target type", nil, "transforms.t.target.type"},
		{"invalid target type", []string{"target.type=invalid"}, "String must be one of: string, unix, Date, Time, Timestamp"},
		{"target type is case sensitive", []string{"target.type=date"}, "String must be one of: string, unix, Date, Time, Timestamp"},
		{"invalid unix precision", []string{"target.type=unix", "unix.precision=invalid"},
			"String must be one of: nanoseconds, microseconds, milliseconds, seconds"},
		{"valid unix precision", []string{"target.type=unix", "unix.precision=seconds"}, ""},
		{"missing format", []string{"target.type=string"},
			"TimestampConverter requires format option to be specified when using string timestamps"},
		{"blank format", []string{"target.type=string", "format=  "},
			"TimestampConverter requires format option to be specified when using string timestamps"},
		{"invalid format", []string{"target.type=string", "format=bad-format"},
			"TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: bad-format"},
		{"unterminated quote", []string{"target.type=Timestamp", "format=yyyy'T"},
			"TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: yyyy'T"},
		{"all keys", []string{"target.type=string", "format=yyyy-MM-dd'T'HH:mm:ss.SSSX", "field=ts",
			"unix.precision=nanoseconds", "replace.null.with.default=false"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := flatConf("org.apache.kafka.connect.transforms.TimestampConverter$Value", tc.kv...)
			if tc.err == "" {
				flatChain(t, conf)
				return
			}
			if msg := flatParseErr(t, conf); !strings.Contains(msg, tc.err) {
				t.Errorf("error %q, want %q", msg, tc.err)
			}
		})
	}
}

func TestTimestampConverterSchemaless(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kv     []string
		in     any
		want   any
		err    string
		linked bool
	}{
		{name: "identity", kv: []string{"target.type=Timestamp"}, in: flatDatePlusTime, want: flatDatePlusTime},
		{name: "timestamp to Date", kv: []string{"target.type=Date"}, in: flatDatePlusTime, want: flatDate},
		{name: "timestamp to Time", kv: []string{"target.type=Time"}, in: flatDatePlusTime, want: flatTime},
		{name: "timestamp to unix", kv: []string{"target.type=unix"}, in: flatDatePlusTime, want: flatUnix},
		{name: "timestamp to string", kv: []string{"target.type=string", "format=" + flatFmt}, in: flatDatePlusTime, want: flatString},
		{name: "Date to timestamp", kv: []string{"target.type=Timestamp"}, in: flatDate, want: flatDate},
		{name: "Time to timestamp", kv: []string{"target.type=Timestamp"}, in: flatTime, want: flatTime},
		{name: "unix to timestamp", kv: []string{"target.type=Timestamp"}, in: flatUnix, want: flatDatePlusTime},
		{name: "string to timestamp", kv: []string{"target.type=Timestamp", "format=" + flatFmt}, in: flatString, want: flatDatePlusTime},
		{name: "string to unix micros", kv: []string{"target.type=unix", "unix.precision=microseconds", "format=" + flatFmt},
			in: flatString, want: int64(86401234000)},
		{name: "string to unix nanos", kv: []string{"target.type=unix", "unix.precision=nanoseconds", "format=" + flatFmt},
			in: flatString, want: int64(86401234000000)},
		{name: "string to unix seconds", kv: []string{"target.type=unix", "unix.precision=seconds", "format=" + flatFmt},
			in: flatString, want: flatUnixSecs},
		{name: "unix seconds to string", kv: []string{"target.type=string", "unix.precision=seconds", "format=yyyy-MM-dd'T'HH:mm:ss.SSSXXX"},
			in: flatUnixSecs, want: "1970-01-02T00:00:01.000Z"},
		{name: "string with an offset to timestamp", kv: []string{"target.type=Timestamp", "format=yyyy-MM-dd HH:mm:ss Z"},
			in: "1970-01-02 02:00:01 +0200", want: time.UnixMilli(86401000).UTC()},
		{name: "string of month and day names to Date", kv: []string{"target.type=Date", "format=EEE, d MMM yyyy hh:mm a"},
			in: "Fri, 2 Jan 1970 11:30 PM", want: flatDate},
		{name: "before the epoch to Time", kv: []string{"target.type=Time"}, in: time.UnixMilli(-1).UTC(), want: time.UnixMilli(86399999).UTC()},
		{name: "before the epoch to Date", kv: []string{"target.type=Date"}, in: time.UnixMilli(-1).UTC(), want: time.UnixMilli(-86400000).UTC()},
		{name: "field", kv: []string{"target.type=Date", "field=ts"}, in: mkMap("ts", flatDatePlusTime),
			want: mkMap("ts", flatDate)},
		{name: "absent field is added as null", kv: []string{"target.type=Date", "field=ts"}, in: mkLinkedMap("other", "x"),
			want: mkMap("other", "x", "ts", nil)},
		{name: "null value", kv: []string{"target.type=string", "format=" + flatFmt}, in: nil, want: nil},
		{name: "null value with field", kv: []string{"target.type=unix", "field=ts"}, in: nil, want: nil},
		{name: "field of a non-map", kv: []string{"target.type=unix", "field=ts"}, in: "x",
			err: "Only Map objects supported in absence of schema for [converting timestamp formats], found: java.lang.String"},
		{name: "unsupported type", kv: []string{"target.type=unix"}, in: int32(1),
			err: "TimestampConverter does not support class java.lang.Integer objects as timestamps"},
		{name: "unparsable string", kv: []string{"target.type=unix", "format=" + flatFmt}, in: "1970-01-02",
			err: "Could not parse timestamp: value (1970-01-02) does not match pattern (yyyy MM dd HH mm ss SSS z)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := flatChain(t, flatConf("TimestampConverter$Value", tc.kv...))
			r, err := flatApply(t, c, nil, tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.ValueSchema != nil {
				t.Errorf("schema %v, want none", r.ValueSchema)
			}
			if !data.Equal(r.ValueData, tc.want) {
				t.Errorf("value %#v, want %#v", r.ValueData, tc.want)
			}
			if m, ok := r.ValueData.(*data.Map); ok && m.Linked {
				t.Error("a field's map is a HashMap in Kafka (new HashMap<>(value))")
			}
		})
	}
}

func TestTimestampConverterWithSchema(t *testing.T) {
	fieldSchema := func(ts *data.Schema, optional bool) *data.Schema {
		return data.StructSchema("", optional, "ts", ts, "other", data.StringSchema)
	}
	unixField := fieldSchema(data.Int64Schema, false)
	withDefault := fieldSchema(&data.Schema{Type: data.Int64, Optional: true, Default: int64(0)}, false)
	onlyTs := data.StructSchema("", false, "ts", data.Int64Schema)
	tsOnly := data.StructSchema("", false, "ts", data.TimestampSchema(false))
	defStruct := fieldSchema(data.Int64Schema, true)
	defStruct.Default = mkStruct(t, defStruct, "ts", flatUnix, "other", "d")
	defWant := fieldSchema(data.TimestampSchema(false), true)
	defWant.Default = mkStruct(t, defWant, "ts", flatDatePlusTime, "other", "d")

	type tcase struct {
		name       string
		kv         []string
		schema     *data.Schema
		in         any
		wantSchema *data.Schema
		want       any
		err        string
	}
	cases := []tcase{
		{name: "identity", kv: []string{"target.type=Timestamp"}, schema: data.TimestampSchema(false), in: flatDatePlusTime,
			wantSchema: data.TimestampSchema(false), want: flatDatePlusTime},
		{name: "timestamp to Date", kv: []string{"target.type=Date"}, schema: data.TimestampSchema(false), in: flatDatePlusTime,
			wantSchema: data.DateSchema(false), want: flatDate},
		{name: "timestamp to Time", kv: []string{"target.type=Time"}, schema: data.TimestampSchema(false), in: flatDatePlusTime,
			wantSchema: data.TimeSchema(false), want: flatTime},
		{name: "timestamp to unix", kv: []string{"target.type=unix"}, schema: data.TimestampSchema(false), in: flatDatePlusTime,
			wantSchema: data.Int64Schema, want: flatUnix},
		{name: "timestamp to string", kv: []string{"target.type=string", "format=" + flatFmt}, schema: data.TimestampSchema(false),
			in: flatDatePlusTime, wantSchema: data.StringSchema, want: flatString},
		{name: "Date to timestamp", kv: []string{"target.type=Timestamp"}, schema: data.DateSchema(false), in: flatDate,
			wantSchema: data.TimestampSchema(false), want: flatDate},
		{name: "Time to timestamp", kv: []string{"target.type=Timestamp"}, schema: data.TimeSchema(false), in: flatTime,
			wantSchema: data.TimestampSchema(false), want: flatTime},
		{name: "unix to timestamp", kv: []string{"target.type=Timestamp"}, schema: data.Int64Schema, in: flatUnix,
			wantSchema: data.TimestampSchema(false), want: flatDatePlusTime},
		{name: "string to timestamp", kv: []string{"target.type=Timestamp", "format=" + flatFmt}, schema: data.StringSchema,
			in: flatString, wantSchema: data.TimestampSchema(false), want: flatDatePlusTime},
		{name: "field", kv: []string{"target.type=Timestamp", "field=ts"}, schema: unixField,
			in: mkStruct(t, unixField, "ts", flatUnix, "other", "test"), wantSchema: fieldSchema(data.TimestampSchema(false), false),
			want: mkStruct(t, fieldSchema(data.TimestampSchema(false), false), "ts", flatDatePlusTime, "other", "test")},
		{name: "field micros", kv: []string{"target.type=Timestamp", "field=ts", "unix.precision=microseconds"}, schema: onlyTs,
			in: mkStruct(t, onlyTs, "ts", flatUnixMicros), wantSchema: tsOnly, want: mkStruct(t, tsOnly, "ts", flatDatePlusTime)},
		{name: "field nanos", kv: []string{"target.type=Timestamp", "field=ts", "unix.precision=nanoseconds"}, schema: onlyTs,
			in: mkStruct(t, onlyTs, "ts", flatUnixNanos), wantSchema: tsOnly, want: mkStruct(t, tsOnly, "ts", flatDatePlusTime)},
		{name: "field seconds", kv: []string{"target.type=Timestamp", "field=ts", "unix.precision=seconds"}, schema: onlyTs,
			in: mkStruct(t, onlyTs, "ts", flatUnixSecs), wantSchema: tsOnly, want: mkStruct(t, tsOnly, "ts", time.UnixMilli(86401000).UTC())},
		{name: "null field without default replacement", kv: []string{"target.type=Timestamp", "field=ts", "replace.null.with.default=false"},
			schema: withDefault, in: mkStruct(t, withDefault, "other", "test"), wantSchema: fieldSchema(data.TimestampSchema(true), false),
			want: mkStruct(t, fieldSchema(data.TimestampSchema(true), false), "other", "test")},
		{name: "null field replaced by its default", kv: []string{"target.type=Timestamp", "field=ts"},
			schema: withDefault, in: mkStruct(t, withDefault, "other", "test"), wantSchema: fieldSchema(data.TimestampSchema(true), false),
			want: mkStruct(t, fieldSchema(data.TimestampSchema(true), false), "ts", flatEpoch, "other", "test")},
		{name: "struct default converted", kv: []string{"target.type=Timestamp", "field=ts"}, schema: defStruct,
			in: mkStruct(t, defStruct, "ts", flatUnix, "other", "x"), wantSchema: defWant,
			want: mkStruct(t, defWant, "ts", flatDatePlusTime, "other", "x")},
		{name: "unknown schema type", kv: []string{"target.type=unix"}, schema: data.Int32Schema, in: int32(1),
			err: "Schema Schema{INT32} does not correspond to a known timestamp type format"},
		{name: "unknown schema type of a null", kv: []string{"target.type=unix"}, schema: data.OptionalInt32Schema, in: nil,
			err: "Schema Schema{INT32} does not correspond to a known timestamp type format"},
		{name: "Date schema of a string", kv: []string{"target.type=unix"}, schema: data.DateSchema(false), in: "x",
			err: "Expected Date to be a java.util.Date, but found class java.lang.String"},
		{name: "field of a non-struct", kv: []string{"target.type=unix", "field=ts"}, schema: data.StringSchema, in: "x",
			err: "Only Struct objects supported for [converting timestamp formats], found: java.lang.String"},
	}
	// Kafka's null conversions: a null value or field of every source
	// type gives a null of the target type's optional schema.
	optional := []*data.Schema{data.OptionalInt64Schema, data.TimeSchema(true), data.DateSchema(true), data.OptionalStringSchema, data.TimestampSchema(true)}
	for _, target := range []struct {
		name   string
		schema *data.Schema
	}{{"Timestamp", data.TimestampSchema(true)}, {"unix", data.OptionalInt64Schema}, {"Time", data.TimeSchema(true)},
		{"Date", data.DateSchema(true)}, {"string", data.OptionalStringSchema}} {
		for _, from := range optional {
			kv := []string{"target.type=" + target.name, "format=" + flatFmt}
			cases = append(cases, tcase{name: "null value " + from.String() + " to " + target.name, kv: kv,
				schema: from, in: nil, wantSchema: target.schema, want: nil})
			in, want := fieldSchema(from, false), fieldSchema(target.schema, false)
			kv = append(kv, "field=ts")
			cases = append(cases, tcase{name: "null field " + from.String() + " to " + target.name, kv: kv,
				schema: in, in: mkStruct(t, in, "other", "test"), wantSchema: want, want: mkStruct(t, want, "other", "test")})
			cases = append(cases, tcase{name: "null struct " + from.String() + " to " + target.name, kv: kv,
				schema: fieldSchema(from, true), in: nil, wantSchema: fieldSchema(target.schema, true), want: nil})
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := flatChain(t, flatConf("org.apache.kafka.connect.transforms.TimestampConverter$Value", tc.kv...))
			r, err := flatApply(t, c, tc.schema, tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !flatSchemaEqual(r.ValueSchema, tc.wantSchema) {
				t.Errorf("schema %+v, want %+v", r.ValueSchema, tc.wantSchema)
			}
			if !flatValueEqual(r.ValueData, tc.want) {
				t.Errorf("value %s, want %s", data.AppendJava(nil, r.ValueData), data.AppendJava(nil, tc.want))
			}
			if r.ValueData != nil {
				if err := data.Validate(r.ValueSchema, r.ValueData); err != nil {
					t.Errorf("value does not fit its schema: %v", err)
				}
			}
		})
	}
}

func TestTimestampConverterKey(t *testing.T) {
	c := flatChain(t, flatConf("org.apache.kafka.connect.transforms.TimestampConverter$Key", "target.type=Timestamp"))
	r := &transforms.Record{Topic: "topic", Typed: true, KeyData: flatDatePlusTime, ValueData: "v"}
	if _, err := c.Apply(r); err != nil {
		t.Fatal(err)
	}
	if r.KeySchema != nil || !data.Equal(r.KeyData, flatDatePlusTime) || r.ValueData != "v" {
		t.Errorf("key %v %v, value %v", r.KeySchema, r.KeyData, r.ValueData)
	}
	c = flatChain(t, flatConf("TimestampConverter$Key", "target.type=unix", "field=ts"))
	r = &transforms.Record{Topic: "topic", Typed: true, KeyData: mkMap("ts", flatDatePlusTime)}
	if _, err := c.Apply(r); err != nil {
		t.Fatal(err)
	}
	if !data.Equal(r.KeyData, mkMap("ts", flatUnix)) {
		t.Errorf("key %s", data.AppendJava(nil, r.KeyData))
	}
}

// TestTimestampConverterFormats checks formatting and parsing of the
// pattern letters known here, both ways.
func TestTimestampConverterFormats(t *testing.T) {
	at := time.Date(2026, 3, 7, 14, 5, 9, 123e6, time.UTC)
	for _, tc := range []struct{ format, text string }{
		{"yyyyMMdd", "20260307"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2026-03-07T14:05:09.123+0000"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2026-03-07T14:05:09.123Z"},
		{"EEEE, MMMM d, yyyy h:mm:ss.SSS a zzzz", "Saturday, March 7, 2026 2:05:09.123 PM Coordinated Universal Time"},
		{"G yyyy DDD u kk:mm:ss.SSS z", "AD 2026 066 6 14:05:09.123 UTC"},
		{"yy-MM-dd KK:mm:ss.SSS a ''z''", "26-03-07 02:05:09.123 PM 'UTC'"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			c := flatChain(t, flatConf("TimestampConverter$Value", "target.type=string", "format="+tc.format))
			r, err := flatApply(t, c, data.TimestampSchema(false), at)
			if err != nil {
				t.Fatal(err)
			}
			if r.ValueData != tc.text {
				t.Errorf("formatted %q, want %q", r.ValueData, tc.text)
			}
			c = flatChain(t, flatConf("TimestampConverter$Value", "target.type=Timestamp", "format="+tc.format))
			r, err = flatApply(t, c, data.StringSchema, tc.text)
			if err != nil {
				t.Fatal(err)
			}
			want := at
			if tc.format == "yyyyMMdd" {
				want = time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)
			}
			if !data.Equal(r.ValueData, want) {
				t.Errorf("parsed %v, want %v", r.ValueData, want)
			}
		})
	}
}

// flatSchemaEqual compares schemas as Schema.Equal does, except that a
// struct default (whose schema is the schema itself, which Equal would
// compare without end) is compared by its values.
func flatSchemaEqual(a, b *data.Schema) bool {
	da, oka := a.Default.(*data.Struct)
	db, okb := b.Default.(*data.Struct)
	if !oka && !okb {
		return a.Equal(b)
	}
	if oka != okb || da.Schema != a || db.Schema != b {
		return false
	}
	ca, cb := a.Clone(), b.Clone()
	ca.Default, cb.Default = nil, nil
	return ca.Equal(cb) && slices.EqualFunc(da.Values, db.Values, data.Equal)
}

// flatValueEqual is data.Equal, with the schemas of structs compared by
// flatSchemaEqual.
func flatValueEqual(a, b any) bool {
	sa, oka := a.(*data.Struct)
	sb, okb := b.(*data.Struct)
	if !oka || !okb {
		return data.Equal(a, b)
	}
	return flatSchemaEqual(sa.Schema, sb.Schema) && slices.EqualFunc(sa.Values, sb.Values, data.Equal)
}
