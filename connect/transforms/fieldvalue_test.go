package transforms_test

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/connect/data"
	"github.com/tributary-io/tributary/connect/transforms"
)

// valueRun applies the chain to a value-side record of schema s and value v.
func valueRun(t *testing.T, c *transforms.Chain, s *data.Schema, v any) (*data.Schema, any, error) {
	t.Helper()
	r := transforms.Record{Typed: true, Topic: "t", KeySchema: data.StringSchema, KeyData: "key", ValueSchema: s, ValueData: v}
	keep, err := c.Apply(&r)
	if err != nil {
		return nil, nil, err
	}
	if !keep {
		t.Fatal("record dropped")
	}
	if r.KeySchema != data.StringSchema || r.KeyData != "key" {
		t.Fatalf("key changed: %v %v", r.KeySchema, r.KeyData)
	}
	return r.ValueSchema, r.ValueData, nil
}

func valueDec(unscaled int64, scale int32) data.Decimal {
	return data.Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
}

func valueJava(v any) string { return string(data.AppendJava(nil, v)) }

func valueCheckErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

func valueGet(t *testing.T, v any, name string) any {
	t.Helper()
	st, ok := v.(*data.Struct)
	if !ok {
		t.Fatalf("not a struct: %T", v)
	}
	x, err := st.GetWithoutDefault(name)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func valueParseErr(t *testing.T, cls string, keys ...string) string {
	t.Helper()
	_, err := tryChain(cls, keys...)
	if err == nil {
		t.Fatalf("%s %v: no error", cls, keys)
	}
	return err.Error()
}

const (
	valueCastV = transforms.CastClass + "$Value"
	valueCastK = transforms.CastClass + "$Key"
	valueMaskV = transforms.MaskFieldClass + "$Value"
	valueRepV  = transforms.ReplaceFieldClass + "$Value"
	valueRepK  = transforms.ReplaceFieldClass + "$Key"
	valueSetV  = transforms.SetSchemaMetadataClass + "$Value"
	valueSetK  = transforms.SetSchemaMetadataClass + "$Key"
)

func TestValueConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cls  string
		keys []string
		want string
	}{
		{valueCastV, nil, "transforms.x.spec: missing required key"},
		{valueCastV, []string{"spec="}, "transforms.x.spec: \"\" Must specify at least one field to cast."},
		{valueCastV, []string{"spec=foo:faketype"}, "transforms.x.spec: \"foo:faketype\" Invalid type found in casting spec: faketype"},
		{valueCastV, []string{"spec=foo:array"}, "Cast transformation does not support casting to ARRAY; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"},
		{valueCastK, []string{"spec=array"}, "Cast transformation does not support casting to ARRAY"},
		{valueCastK, []string{"spec=foo:bytes"}, "Cast transformation does not support casting to BYTES"},
		{valueCastK, []string{"spec=foo:int8:extra"}, "transforms.x.spec: \"foo:int8:extra\" Invalid cast mapping: foo:int8:extra"},
		{valueCastK, []string{"spec=foo:int8,int32"}, "Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec"},
		{valueCastV, []string{"spec=int8", "replace.null.with.default=maybe"}, "transforms.x.replace.null.with.default"},
		{valueMaskV, nil, "transforms.x.fields: missing required key"},
		{valueMaskV, []string{"fields="}, "transforms.x.fields: \"\" Empty list"},
		{valueMaskV, []string{"fields=a", "replacement="}, "transforms.x.replacement: \"\" String must be non-empty"},
		{valueRepV, []string{"renames=abc"}, "transforms.x.renames: \"abc\" Invalid rename mapping: abc"},
		{valueRepV, []string{"renames=a:b,c:d:e"}, "Invalid rename mapping: c:d:e"},
		{valueSetV, nil, "transforms.x.schema.name: \"\" Neither schema name nor version configured"},
		{valueSetK, []string{"schema.version=x"}, "transforms.x.schema.version"},
	} {
		got := valueParseErr(t, tc.cls, tc.keys...)
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s %v: error %q does not contain %q", tc.cls, tc.keys, got, tc.want)
		}
	}
}

func TestValueCastWhole(t *testing.T) {
	for _, tc := range []struct {
		spec   string
		schema *data.Schema // nil: schemaless
		in     any
		want   any
	}{
		{"int8", data.Int32Schema, int32(42), int8(42)},
		{"int16", data.Int32Schema, int32(42), int16(42)},
		{"int32", data.Int32Schema, int32(42), int32(42)},
		{"int64", data.Int32Schema, int32(42), int64(42)},
		{"float32", data.Int32Schema, int32(42), float32(42)},
		{"float64", data.Int32Schema, int32(42), float64(42)},
		{"boolean", data.Int32Schema, int32(42), true},
		{"boolean", data.Int32Schema, int32(0), false},
		{"string", data.Int32Schema, int32(42), "42"},
		{"STRING", data.DecimalSchema(0, false), valueDec(42, 0), "42"},
		{"string", data.DecimalSchema(2, false), valueDec(-12345, 2), "-123.45"},
		{"float64", data.DecimalSchema(2, false), valueDec(-12345, 2), -123.45},
		{"int8", nil, int64(42), int8(42)},
		{"int16", nil, int64(42), int16(42)},
		{"int32", nil, int64(42), int32(42)},
		{"int64", nil, int64(42), int64(42)},
		{"float32", nil, int64(42), float32(42)},
		{"float64", nil, int64(42), float64(42)},
		{"boolean", nil, int64(42), true},
		{"boolean", nil, int64(0), false},
		{"string", nil, int64(42), "42"},
		{"string", nil, 1.0e10, "1.0E10"},
		{"string", nil, true, "true"},
		{"string", nil, []byte{0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}, "/ty6mHZUMhA="},
		// Java's narrowing: wrap for integers, saturate for floats.
		{"int8", nil, int64(300), int8(44)},
		{"int8", nil, 300.7, int8(44)},
		{"int32", nil, 1e20, int32(2147483647)},
		{"int64", nil, -1e30, int64(-9223372036854775808)},
		{"boolean", nil, 0.5, false},
		// Strings parsed as Java does.
		{"int16", nil, "-123", int16(-123)},
		{"int8", nil, "+12", int8(12)},
		{"float64", nil, " 1.5d ", 1.5},
		{"float32", nil, "1e40", float32(inf32())},
		{"float64", nil, "-Infinity", negInf64()},
		{"boolean", nil, "TRUE", true},
		{"boolean", nil, "yes", false},
		{"int32", nil, true, int32(1)},
		{"float32", nil, false, float32(0)},
	} {
		c := typedChain(t, valueCastV, "spec="+tc.spec)
		s, v, err := valueRun(t, c, tc.schema, tc.in)
		if err != nil {
			t.Errorf("%s of %v: %v", tc.spec, tc.in, err)
			continue
		}
		if !data.Equal(v, tc.want) {
			t.Errorf("%s of %v (%T): got %v (%T), want %v (%T)", tc.spec, tc.in, tc.in, v, v, tc.want, tc.want)
		}
		if tc.schema == nil {
			if s != nil {
				t.Errorf("%s: schemaless got schema %v", tc.spec, s)
			}
		} else if want, _ := data.ParseType(tc.spec); s == nil || s.Type != want {
			t.Errorf("%s: schema %v", tc.spec, s)
		}
	}
}

func inf32() float32 { return float32(negInf64() * -1) }
func negInf64() float64 {
	var zero float64
	return -1 / zero
}

func TestValueCastKeyAndNulls(t *testing.T) {
	c := typedChain(t, valueCastK, "spec=int8")
	r := transforms.Record{Typed: true, KeySchema: data.Int32Schema, KeyData: int32(42), ValueSchema: data.StringSchema, ValueData: "bogus"}
	if _, err := c.Apply(&r); err != nil {
		t.Fatal(err)
	}
	if r.KeySchema.Type != data.Int8 || r.KeyData != int8(42) || r.ValueData != "bogus" {
		t.Fatalf("got %v %v %v", r.KeySchema, r.KeyData, r.ValueData)
	}
	r = transforms.Record{Typed: true, KeyData: int64(42)}
	if _, err := c.Apply(&r); err != nil || r.KeySchema != nil || r.KeyData != int8(42) {
		t.Fatalf("schemaless key: %v %v %v", r.KeySchema, r.KeyData, err)
	}
	// A null value is left alone, schema and all.
	for _, s := range []*data.Schema{nil, data.StringSchema} {
		c := typedChain(t, valueCastV, "spec=foo:int64")
		gs, v, err := valueRun(t, c, s, nil)
		if err != nil || v != nil || gs != s {
			t.Fatalf("null value: %v %v %v", gs, v, err)
		}
	}
}

func TestValueCastWholeDefault(t *testing.T) {
	c := typedChain(t, valueCastV, "spec=int32")
	in := &data.Schema{Type: data.Float32, Default: float32(-42.125), Name: "n", Doc: "d"}
	s, v, err := valueRun(t, c, in, float32(42.125))
	if err != nil {
		t.Fatal(err)
	}
	if v != int32(42) || s.Type != data.Int32 || s.Default != int32(-42) || s.Name != "n" || s.Doc != "d" {
		t.Fatalf("got %v %+v", v, s)
	}
}

func TestValueCastErrors(t *testing.T) {
	for _, tc := range []struct {
		spec   string
		schema *data.Schema
		in     any
		want   string
	}{
		{"int8", nil, []any{"foo"}, "Cast transformation does not support casting from ARRAY; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]"},
		{"int8", nil, mkMap("a", int64(1)), "Cast transformation does not support casting from MAP"},
		{"int8", nil, valueDec(1, 0), "Cast transformation was passed a value of type class java.math.BigDecimal which is not supported by Connect's data API"},
		{"int8", nil, "abc", "Value (abc) was out of range for requested data type"},
		{"int8", nil, "300", "Value (300) was out of range for requested data type"},
		{"float64", nil, "inf", "Value (inf) was out of range for requested data type"},
		{"int32", nil, []byte("x"), "Unexpected type in Cast transformation: class [B"},
		{"a:int8", nil, "str", "Only Map objects supported in absence of schema for [cast types], found: java.lang.String"},
		{"a:int8", data.Int32Schema, int32(1), "Cannot list fields on non-struct type"},
		{"int64", data.DateSchema(false), time.UnixMilli(1), "Kafka Connect Date type should not have any time fields set to non-zero values."},
	} {
		c := typedChain(t, valueCastV, "spec="+tc.spec)
		_, _, err := valueRun(t, c, tc.schema, tc.in)
		valueCheckErr(t, err, tc.want)
		var de *data.Error
		if !errorsAs(err, &de) {
			t.Errorf("%v: not a data.Error: %T", err, err)
		}
	}
}

func errorsAs(err error, target **data.Error) bool {
	for err != nil {
		if e, ok := err.(*data.Error); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestValueCastFieldsWithSchema(t *testing.T) {
	const day = 24 * 60 * 60 * 1000
	bytes := []byte{0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}
	schema := data.StructSchema("rec", false,
		"int8", data.Int8Schema,
		"int16", data.OptionalInt16Schema,
		"int32", &data.Schema{Type: data.Int32, Default: int32(2)},
		"int64", data.Int64Schema,
		"float32", data.Float32Schema,
		"float64", &data.Schema{Type: data.Float64, Default: -1.125},
		"boolean", data.BooleanSchema,
		"string", data.StringSchema,
		"bigdecimal", data.DecimalSchema(0, false),
		"date", data.DateSchema(false),
		"optional", data.OptionalFloat32Schema,
		"timestamp", data.TimestampSchema(false),
		"bytes", data.BytesSchema,
		"unchanged", data.StringSchema,
	)
	in := mkStruct(t, schema, "int8", int8(8), "int16", int16(16), "int32", int32(32), "int64", int64(64),
		"float32", float32(32), "float64", -64.0, "boolean", true, "bigdecimal", valueDec(42, 0),
		"date", time.UnixMilli(day), "string", "42", "timestamp", time.UnixMilli(0), "bytes", bytes, "unchanged", "u")
	c := typedChain(t, valueCastV, "spec=int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32,bigdecimal:string,date:string,optional:int32,timestamp:int64,bytes:string")
	s, v, err := valueRun(t, c, schema, in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"int8": int16(8), "int16": int32(16), "int32": int64(32), "int64": true, "float32": 32.0,
		"float64": true, "boolean": int8(1), "string": int32(42), "bigdecimal": "42",
		"date": time.UnixMilli(day).Local().Format("2006-01-02"), "optional": nil, "timestamp": int64(0),
		"bytes": "/ty6mHZUMhA=", "unchanged": "u",
	}
	for name, w := range want {
		if got := valueGet(t, v, name); !data.Equal(got, w) {
			t.Errorf("%s: got %v (%T), want %v (%T)", name, got, got, w, w)
		}
	}
	if s.Name != "rec" || s.Field("int32").Schema.Default != int64(2) || s.Field("float64").Schema.Default != true ||
		!s.Field("int16").Schema.Optional || !s.Field("optional").Schema.Optional || s.Field("optional").Schema.Type != data.Int32 ||
		s.Field("unchanged").Schema != data.StringSchema {
		t.Errorf("schema: %+v", s.Fields)
	}
	if err := v.(*data.Struct).Validate(); err != nil {
		t.Error(err)
	}
}

func TestValueCastLogical(t *testing.T) {
	const day, hour = 24 * 60 * 60 * 1000, 60 * 60 * 1000
	schema := data.StructSchema("", false,
		"date_to_int32", data.DateSchema(false),
		"timestamp_to_int64", data.TimestampSchema(false),
		"time_to_int64", data.TimeSchema(false),
		"decimal_to_int32", data.DecimalSchema(0, false),
		"timestamp_to_float64", data.TimestampSchema(false),
		"null_timestamp_to_int32", data.TimestampSchema(true),
		"time", data.TimeSchema(false),
		"ts", data.TimestampSchema(false),
	)
	ts := time.UnixMilli(day*20000 + 1234)
	in := mkStruct(t, schema, "date_to_int32", time.UnixMilli(day), "timestamp_to_int64", time.UnixMilli(0),
		"time_to_int64", time.UnixMilli(1), "decimal_to_int32", valueDec(2147483648, 0),
		"timestamp_to_float64", time.UnixMilli(9223372036854775807), "time", time.UnixMilli(hour), "ts", ts)
	c := typedChain(t, valueCastV, "spec=date_to_int32:int32,timestamp_to_int64:int64,time_to_int64:int64,decimal_to_int32:int32,timestamp_to_float64:float64,null_timestamp_to_int32:int32,time:string,ts:string")
	_, v, err := valueRun(t, c, schema, in)
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range map[string]any{
		"date_to_int32": int32(1), "timestamp_to_int64": int64(0), "time_to_int64": int64(1),
		"decimal_to_int32": int32(-2147483648), "timestamp_to_float64": 9.223372036854776e18, "null_timestamp_to_int32": nil,
		"time": time.UnixMilli(hour).Local().Format("15:04:05.000Z"),
		"ts":   ts.Local().Format("2006-01-02T15:04:05.000Z"),
	} {
		if got := valueGet(t, v, name); !data.Equal(got, w) {
			t.Errorf("%s: got %v (%T), want %v (%T)", name, got, got, w, w)
		}
	}
}

func TestValueCastReplaceNullWithDefault(t *testing.T) {
	schema := data.StructSchema("", false, "magic", &data.Schema{Type: data.Int32, Optional: true, Default: int32(10)})
	for _, tc := range []struct {
		conf string
		want any
	}{{"true", "10"}, {"false", nil}} {
		c := typedChain(t, valueCastV, "spec=magic:string", "replace.null.with.default="+tc.conf)
		s, v, err := valueRun(t, c, schema, mkStruct(t, schema, "magic", nil))
		if err != nil {
			t.Fatal(err)
		}
		if s.Field("magic").Schema.Type != data.String || s.Field("magic").Schema.Default != "10" {
			t.Errorf("schema %+v", s.Field("magic").Schema)
		}
		if got := valueGet(t, v, "magic"); got != tc.want {
			t.Errorf("%s: got %v", tc.conf, got)
		}
	}
}

func TestValueCastSchemalessFields(t *testing.T) {
	in := mkMap("int8", int64(8), "float", 1.5, "string", "42", "keep", "k")
	c := typedChain(t, valueCastV, "spec=int8:int16, float:string ,string:int64,missing:int8")
	_, v, err := valueRun(t, c, nil, in)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(*data.Map)
	want := mkMap("int8", int16(8), "float", "1.5", "string", int64(42), "keep", "k", "missing", nil)
	if !data.Equal(m, want) {
		t.Fatalf("got %s", valueJava(m))
	}
	if m.Linked || !data.Equal(in, mkMap("int8", int64(8), "float", 1.5, "string", "42", "keep", "k")) {
		t.Fatalf("input changed: %s", valueJava(in))
	}
}

func TestValueMaskField(t *testing.T) {
	schema := data.StructSchema("", false,
		"magic", data.Int32Schema, "bool", data.BooleanSchema, "byte", data.Int8Schema, "short", data.Int16Schema,
		"int", data.Int32Schema, "long", data.Int64Schema, "float", data.Float32Schema, "double", data.Float64Schema,
		"string", data.StringSchema, "date", data.DateSchema(false), "time", data.TimeSchema(false),
		"timestamp", data.TimestampSchema(false), "decimal", data.DecimalSchema(0, false),
		"array", data.ArraySchema(data.Int32Schema, false), "map", data.MapSchema(data.StringSchema, data.StringSchema, false),
		"withDefault", &data.Schema{Type: data.String, Optional: true, Default: "default"},
	)
	now := time.UnixMilli(1700000000000)
	withSchema := func() *data.Struct {
		return mkStruct(t, schema, "magic", int32(42), "bool", true, "byte", int8(42), "short", int16(42), "int", int32(42),
			"long", int64(42), "float", float32(42), "double", 42.0, "string", "hmm", "date", time.UnixMilli(19000*86400000),
			"time", time.UnixMilli(1000), "timestamp", now, "decimal", valueDec(42, 0), "array", []any{int32(1), int32(2)},
			"map", mkMap("what", "what"))
	}
	schemaless := func() *data.Map {
		return mkMap("magic", int64(42), "bool", true, "byte", int8(42), "short", int16(42), "int", int32(42),
			"long", int64(42), "float", float32(42), "double", 42.0, "string", "55.121.20.20", "date", now,
			"bigdec", valueDec(420, 1), "list", []any{int64(42)}, "map", mkMap("key", "value"))
	}
	empties := map[string]any{"magic": int32(42), "bool": false, "byte": int8(0), "short": int16(0), "int": int32(0),
		"long": int64(0), "float": float32(0), "double": 0.0, "string": "", "date": time.UnixMilli(0),
		"time": time.UnixMilli(0), "timestamp": time.UnixMilli(0), "decimal": valueDec(0, 0), "bigdec": valueDec(0, 0),
		"array": []any{}, "list": []any{}, "map": data.NewMap(0), "withDefault": nil}

	t.Run("with schema", func(t *testing.T) {
		var fields []string
		for _, f := range schema.Fields {
			if f.Name != "magic" {
				fields = append(fields, f.Name)
			}
		}
		c := typedChain(t, valueMaskV, "fields="+strings.Join(fields, ","), "replace.null.with.default=false")
		s, v, err := valueRun(t, c, schema, withSchema())
		if err != nil {
			t.Fatal(err)
		}
		if s != schema {
			t.Error("schema changed")
		}
		for _, f := range schema.Fields {
			if got := valueGet(t, v, f.Name); !data.Equal(got, empties[f.Name]) {
				t.Errorf("%s: got %v (%T)", f.Name, got, got)
			}
		}
	})
	t.Run("schemaless", func(t *testing.T) {
		in := schemaless()
		var fields []string
		for _, k := range in.Keys {
			if k != "magic" {
				fields = append(fields, k.(string))
			}
		}
		c := typedChain(t, valueMaskV, "fields="+strings.Join(fields, ","))
		_, v, err := valueRun(t, c, nil, in)
		if err != nil {
			t.Fatal(err)
		}
		m := v.(*data.Map)
		for _, k := range in.Keys {
			got, _ := m.Get(k)
			want := empties[k.(string)]
			if k == "magic" {
				want = int64(42)
			}
			if !data.Equal(got, want) {
				t.Errorf("%s: got %v (%T)", k, got, got)
			}
		}
	})
	t.Run("replace null with default", func(t *testing.T) {
		c := typedChain(t, valueMaskV, "fields=withDefault")
		_, v, err := valueRun(t, c, schema, withSchema())
		if err != nil {
			t.Fatal(err)
		}
		if got := valueGet(t, v, "withDefault"); got != "" {
			t.Errorf("got %v", got)
		}
	})
	for _, tc := range []struct {
		field, repl string
		schemaless  bool
		want        any
		err         string
	}{
		{"short", "123", true, int16(123), ""},
		{"byte", "123", true, int8(123), ""},
		{"int", "123", true, int32(123), ""},
		{"long", "123", true, int64(123), ""},
		{"float", "123", true, float32(123), ""},
		{"double", "123", true, 123.0, ""},
		{"string", "123", true, "123", ""},
		{"bigdec", "123.0", true, valueDec(1230, 1), ""},
		{"int", "1.5e2", true, int32(150), ""},
		{"short", "123", false, int16(123), ""},
		{"byte", "123", false, int8(123), ""},
		{"int", "123", false, int32(123), ""},
		{"long", "123", false, int64(123), ""},
		{"float", "123.0", false, float32(123), ""},
		{"double", "123.0", false, 123.0, ""},
		{"string", "123", false, "123", ""},
		{"decimal", "123.0", false, valueDec(1230, 1), ""},
		{"date", "x", true, nil, "Cannot mask value of type class java.util.Date with custom replacement."},
		{"bool", "false", true, nil, "Cannot mask value of type class java.lang.Boolean with custom replacement."},
		{"list", "123", true, nil, "Cannot mask value of type class java.util.ArrayList with custom replacement."},
		{"map", "123", true, nil, "Cannot mask value of type class java.util.HashMap with custom replacement."},
		{"time", "1", false, nil, "Cannot mask value of type class java.util.Date with custom replacement."},
		{"timestamp", "1", false, nil, "Cannot mask value of type class java.util.Date with custom replacement."},
		{"array", "1", false, nil, "Cannot mask value of type class java.util.ArrayList with custom replacement."},
		{"byte", "foo", true, nil, "Unable to convert foo (class java.lang.String) to a number"},
		{"double", "foo", true, nil, "Unable to convert foo (class java.lang.String) to a number"},
		{"bigdec", "foo", true, nil, "Unable to convert foo (class java.lang.String) to number"},
		{"string,int", "foo", true, nil, "Unable to convert foo (class java.lang.String) to a number"},
	} {
		c := typedChain(t, valueMaskV, "fields="+tc.field, "replacement="+tc.repl)
		var v any
		var err error
		if tc.schemaless {
			_, v, err = valueRun(t, c, nil, schemaless())
		} else {
			_, v, err = valueRun(t, c, schema, withSchema())
		}
		if tc.err != "" {
			valueCheckErr(t, err, tc.err)
			continue
		}
		if err != nil {
			t.Errorf("%s=%s: %v", tc.field, tc.repl, err)
			continue
		}
		var got any
		if tc.schemaless {
			got, _ = v.(*data.Map).Get(tc.field)
		} else {
			got = valueGet(t, v, tc.field)
		}
		if !data.Equal(got, tc.want) {
			t.Errorf("%s=%s: got %v (%T), want %v", tc.field, tc.repl, got, got, tc.want)
		}
	}
	t.Run("errors", func(t *testing.T) {
		c := typedChain(t, valueMaskV, "fields=a")
		_, _, err := valueRun(t, c, nil, "str")
		valueCheckErr(t, err, "Only Map objects supported in absence of schema for [mask fields], found: java.lang.String")
		_, _, err = valueRun(t, c, data.StringSchema, "str")
		valueCheckErr(t, err, "Only Struct objects supported for [mask fields], found: java.lang.String")
		_, _, err = valueRun(t, c, nil, mkMap("a", []byte("x")))
		valueCheckErr(t, err, "Cannot mask value of type: class [B")
	})
}

func TestValueReplaceField(t *testing.T) {
	schema := data.StructSchema("rec", false, "dont", data.StringSchema, "abc", data.Int32Schema, "foo", data.BooleanSchema, "etc", data.StringSchema)
	full := func() *data.Struct {
		return mkStruct(t, schema, "dont", "whatever", "abc", int32(42), "foo", true, "etc", "etc")
	}
	for _, tc := range []struct {
		name string
		keys []string
		in   any // *data.Map or *data.Struct
		want string
	}{
		{"schemaless exclude and renames", []string{"exclude=dont", "renames=abc:xyz,foo:bar"},
			mkMap("dont", "whatever", "abc", int64(42), "foo", true, "etc", "etc"), "{xyz=42, etc=etc, bar=true}"}, // Java's HashMap(4) order
		{"schemaless blacklist alias", []string{"blacklist=dont"},
			mkMap("dont", "whatever", "abc", int64(42)), "{abc=42}"},
		{"schemaless exclude wins over blacklist", []string{"exclude=abc", "blacklist=dont"},
			mkMap("dont", "whatever", "abc", int64(42)), "{dont=whatever}"},
		{"schemaless whitelist alias, exclude first", []string{"whitelist=abc,foo", "exclude=foo"},
			mkMap("dont", "whatever", "abc", int64(42), "foo", true), "{abc=42}"},
		{"with schema include and renames", []string{"include=abc,foo", "renames=abc:xyz,foo:bar"},
			full(), "Struct{xyz=42,bar=true}"},
		{"with schema whitelist alias", []string{"whitelist=etc"}, full(), "Struct{etc=etc}"},
		{"with schema nothing set", nil, full(), "Struct{dont=whatever,abc=42,foo=true,etc=etc}"},
	} {
		c := typedChain(t, valueRepV, tc.keys...)
		var s *data.Schema
		if st, ok := tc.in.(*data.Struct); ok {
			s = st.Schema
		}
		gs, v, err := valueRun(t, c, s, tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := valueJava(v); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
		if s != nil {
			if gs.Name != "rec" || v.(*data.Struct).Schema != gs {
				t.Errorf("%s: schema %+v", tc.name, gs)
			}
			if err := v.(*data.Struct).Validate(); err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		} else if gs != nil || v.(*data.Map).Linked {
			t.Errorf("%s: schemaless result %v", tc.name, gs)
		}
	}
	t.Run("tombstones", func(t *testing.T) {
		c := typedChain(t, valueRepV, "include=abc,foo", "renames=abc:xyz,foo:bar")
		for _, s := range []*data.Schema{nil, schema} {
			gs, v, err := valueRun(t, c, s, nil)
			if err != nil || v != nil || gs != s {
				t.Errorf("got %v %v %v", gs, v, err)
			}
		}
	})
	t.Run("replace null with default", func(t *testing.T) {
		ks := data.StructSchema("", false, "abc", &data.Schema{Type: data.Int32, Optional: true, Default: int32(42)})
		for _, tc := range []struct {
			conf string
			want any
		}{{"true", int32(42)}, {"false", nil}} {
			c := typedChain(t, valueRepK, "include=abc", "renames=abc:optional_with_default", "replace.null.with.default="+tc.conf)
			r := transforms.Record{Typed: true, KeySchema: ks, KeyData: mkStruct(t, ks, "abc", nil)}
			if _, err := c.Apply(&r); err != nil {
				t.Fatal(err)
			}
			if len(r.KeySchema.Fields) != 1 || valueGet(t, r.KeyData, "optional_with_default") != tc.want || r.ValueData != nil {
				t.Errorf("%s: got %v", tc.conf, valueJava(r.KeyData))
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		c := typedChain(t, valueRepV, "renames=abc:foo")
		_, _, err := valueRun(t, c, nil, "str")
		valueCheckErr(t, err, "Only Map objects supported in absence of schema for [field replacement], found: java.lang.String")
		_, _, err = valueRun(t, c, data.StringSchema, "str")
		valueCheckErr(t, err, "Only Struct objects supported for [field replacement], found: java.lang.String")
		_, _, err = valueRun(t, c, schema, full())
		valueCheckErr(t, err, "Cannot create field because of field name duplication foo")
	})
}

func TestValueSetSchemaMetadata(t *testing.T) {
	v42 := int32(42)
	t.Run("name, version, both", func(t *testing.T) {
		for _, tc := range []struct {
			keys    []string
			name    string
			version *int32
		}{
			{[]string{"schema.name=foo"}, "foo", nil},
			{[]string{"schema.version=42"}, "", &v42},
			{[]string{"schema.name=foo", "schema.version=42"}, "foo", &v42},
		} {
			c := typedChain(t, valueSetV, tc.keys...)
			s, v, err := valueRun(t, c, &data.Schema{Type: data.Int32, Doc: "d"}, int32(7))
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != tc.name || (s.Version == nil) != (tc.version == nil) || (s.Version != nil && *s.Version != *tc.version) ||
				s.Doc != "d" || v != int32(7) {
				t.Errorf("%v: got %+v %v", tc.keys, s, v)
			}
		}
	})
	t.Run("struct", func(t *testing.T) {
		for _, tc := range []struct {
			conf string
			want any
		}{{"true", "default"}, {"false", nil}} {
			schema := data.StructSchema("old", false, "stringField", &data.Schema{Type: data.String, Optional: true, Default: "default"}, "intField", data.Int32Schema)
			in := mkStruct(t, schema, "intField", int32(42))
			c := typedChain(t, valueSetV, "schema.name=foo", "schema.version=42", "replace.null.with.default="+tc.conf)
			s, v, err := valueRun(t, c, schema, in)
			if err != nil {
				t.Fatal(err)
			}
			st := v.(*data.Struct)
			if s.Name != "foo" || *s.Version != 42 || st.Schema != s || schema.Name != "old" {
				t.Errorf("schema %+v", s)
			}
			if got := valueGet(t, st, "stringField"); got != tc.want {
				t.Errorf("%s: stringField %v", tc.conf, got)
			}
			if valueGet(t, st, "intField") != int32(42) || st.Validate() != nil {
				t.Errorf("struct %s", valueJava(st))
			}
		}
	})
	t.Run("key, decimal, null value, errors", func(t *testing.T) {
		c := typedChain(t, valueSetK, "schema.name=foo")
		r := transforms.Record{Typed: true, KeySchema: data.DecimalSchema(2, true), KeyData: valueDec(1, 2)}
		if _, err := c.Apply(&r); err != nil || r.KeySchema.Name != "foo" || r.KeySchema.Parameters["scale"] != "2" ||
			!r.KeySchema.Optional || !data.Equal(r.KeyData, valueDec(1, 2)) {
			t.Errorf("decimal key: %+v %v", r.KeySchema, err)
		}
		cv := typedChain(t, valueSetV, "schema.name=foo")
		s, v, err := valueRun(t, cv, nil, nil)
		if err != nil || s != nil || v != nil {
			t.Errorf("null: %v %v %v", s, v, err)
		}
		s, v, err = valueRun(t, cv, data.OptionalStringSchema, nil)
		if err != nil || s.Name != "foo" || v != nil {
			t.Errorf("null value with schema: %v %v %v", s, v, err)
		}
		_, _, err = valueRun(t, cv, nil, int64(42))
		valueCheckErr(t, err, "Schema required for [updating schema metadata]")
		ms := data.MapSchema(data.StringSchema, data.Int32Schema, false)
		s, _, err = valueRun(t, cv, ms, mkMap("a", int32(1)))
		if err != nil || s.Key != data.StringSchema || s.Value != data.Int32Schema || s.Name != "foo" {
			t.Errorf("map: %+v %v", s, err)
		}
	})
}
