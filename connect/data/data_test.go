package data

import (
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMapOrder(t *testing.T) {
	ints := func(ks ...int32) *Map {
		m := NewMap(len(ks))
		for _, k := range ks {
			m.Put(k, "v")
		}
		return m
	}
	keysInOrder := func(m *Map) []any {
		var out []any
		for _, i := range m.Order() {
			out = append(out, m.Keys[i])
		}
		return out
	}
	// Integer's hash is its value: buckets of a 16-bucket table.
	if got, want := keysInOrder(ints(20, 3, 17)), []any{int32(17), int32(3), int32(20)}; !slices.Equal(got, want) {
		t.Errorf("HashMap order %v, want %v", got, want)
	}
	// A LinkedHashMap keeps insertion order.
	lm := ints(20, 3, 17)
	lm.Linked = true
	if got, want := keysInOrder(lm), []any{int32(20), int32(3), int32(17)}; !slices.Equal(got, want) {
		t.Errorf("LinkedHashMap order %v, want %v", got, want)
	}
	// 12 keys fit 16 buckets when put one by one (threshold 12), but new
	// HashMap<>(m) sizes its table for 12/0.75+1 = 17: 32 buckets, where
	// 16 no longer shares bucket 0's place ahead of 1.
	keys := []int32{16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	put := ints(keys...)
	if got := keysInOrder(put); got[0] != int32(16) {
		t.Errorf("put order %v, want 16 first", got)
	}
	cp := CopyMap(put)
	if got := keysInOrder(cp); got[len(got)-1] != int32(16) {
		t.Errorf("copied order %v, want 16 last", got)
	}
	// Strings: Java's String.hashCode ("a" 97, "b" 98, "aa" 3104 → bucket 0).
	sm := NewMap(3)
	sm.Put("b", int64(1))
	sm.Put("aa", int64(2))
	sm.Put("a", int64(3))
	if got := string(AppendJava(nil, sm)); got != "{aa=2, a=3, b=1}" {
		t.Errorf("string map prints %s", got)
	}
}

func TestAppendJava(t *testing.T) {
	inner := StructSchema("inner", true, "x", OptionalInt32Schema)
	outer := StructSchema("outer", false, "name", StringSchema, "n", OptionalInt64Schema, "in", inner, "tags", ArraySchema(StringSchema, true))
	in := NewStruct(inner)
	if err := in.Put("x", int32(7)); err != nil {
		t.Fatal(err)
	}
	st := NewStruct(outer)
	for name, v := range map[string]any{"name": "web", "in": in, "tags": []any{"a", "b"}} {
		if err := st.Put(name, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, "null"},
		{"text", "text"},
		{int8(-3), "-3"},
		{int64(1) << 40, "1099511627776"},
		{float32(0.1), "0.1"},
		{1e10, "1.0E10"},
		{true, "true"},
		{[]any{int64(1), nil, "x"}, "[1, null, x]"},
		{Decimal{big.NewInt(1230), 2}, "12.30"},
		{Decimal{big.NewInt(-15), -2}, "-1.5E+3"},
		{st, "Struct{name=web,in=Struct{x=7},tags=[a, b]}"}, // n is null: left out
	} {
		if got := string(AppendJava(nil, tc.v)); got != tc.want {
			t.Errorf("AppendJava(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	s := StructSchema("s", false, "a", StringSchema, "b", OptionalInt32Schema)
	st := NewStruct(s)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{st.Put("c", "x"), "c is not a valid field name"},
		{st.Put("a", int32(1)), `Invalid Java object for schema with type STRING: class java.lang.Integer for field: "a"`},
		{st.Validate(), `Invalid value: null used for required field: "a", schema type: STRING`},
		{Validate(StringSchema, nil), "Invalid value: null used for required value, schema type: STRING"},
		{Validate(DecimalSchema(2, false), int64(1)), `Invalid Java object for schema "org.apache.kafka.connect.data.Decimal" with type BYTES: class java.lang.Long for value`},
		{Validate(ArraySchema(Int32Schema, false), []any{int32(1), "x"}), `Invalid Java object for schema with type INT32: class java.lang.String for element of array value`},
		{Validate(StructSchema("other", false, "a", StringSchema), st), "Struct schemas do not match."},
	} {
		if tc.err == nil || tc.err.Error() != tc.want {
			t.Errorf("got %v, want %q", tc.err, tc.want)
		}
	}
	if err := st.Put("a", "ok"); err != nil {
		t.Fatal(err)
	}
	if err := st.Validate(); err != nil {
		t.Errorf("valid struct: %v", err)
	}
}

// TestJSONSchemaText: the envelope's schema as Kafka's JsonConverter writes
// it (asJsonSchema): type first, then the type's parts, optional, name,
// version, doc, parameters, default; a struct field's name last.
func TestJSONSchemaText(t *testing.T) {
	s := StructSchema("com.example.Line", false,
		"line", StringSchema,
		"n", &Schema{Type: Int32, Optional: true, Default: int32(5)},
		"price", DecimalSchema(2, true),
		"tags", MapSchema(StringSchema, OptionalInt64Schema, false))
	v := int32(3)
	s.Version = &v
	s.Doc = "a log line"
	want := `{"type":"struct","fields":[` +
		`{"type":"string","optional":false,"field":"line"},` +
		`{"type":"int32","optional":true,"default":5,"field":"n"},` +
		`{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"price"},` +
		`{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int64","optional":true},"optional":false,"field":"tags"}` +
		`],"optional":false,"name":"com.example.Line","version":3,"doc":"a log line"}`
	if got := string(AppendSchemaJSON(nil, s)); got != want {
		t.Errorf("schema JSON\n got %s\nwant %s", got, want)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	s := StructSchema("rec", false,
		"line", StringSchema,
		"n", OptionalInt32Schema,
		"small", Int8Schema,
		"f", Float32Schema,
		"raw", OptionalBytesSchema,
		"price", DecimalSchema(2, false),
		"day", DateSchema(false),
		"at", TimeSchema(false),
		"ts", TimestampSchema(false),
		"byid", MapSchema(Int32Schema, StringSchema, false),
		"list", ArraySchema(OptionalStringSchema, false))
	st := NewStruct(s)
	day := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	m := NewMap(2)
	m.Put(int32(2), "two")
	m.Put(int32(1), "one")
	for name, v := range map[string]any{
		"line": "GET / \"quoted\"\n", "small": int8(-1), "f": float32(1.5), "raw": []byte{0, 0xff},
		"price": Decimal{big.NewInt(-12345), 2}, "day": day, "at": time.UnixMilli(45296789).UTC(),
		"ts": time.UnixMilli(1764806400123).UTC(), "byid": m, "list": []any{"a", nil},
	} {
		if err := st.Put(name, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	b, err := AppendJSON(nil, s, st, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"byid":[[1,"one"],[2,"two"]]`) || !strings.Contains(string(b), `"day":20791`) || !strings.Contains(string(b), `"price":"z8c="`) {
		t.Errorf("payload: %s", b)
	}
	gs, gv, err := DecodeJSON(b, true)
	if err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	if !gs.Equal(s) {
		t.Errorf("schema after a round trip differs:\n%s", AppendSchemaJSON(nil, gs))
	}
	if !Equal(gv, st) {
		t.Errorf("value after a round trip: %s, want %s", AppendJava(nil, gv), AppendJava(nil, st))
	}
	// A Date with a time of day is refused, as Kafka's Date.fromLogical.
	bad := NewStruct(StructSchema("d", false, "day", DateSchema(false)))
	bad.Values[0] = day.Add(time.Hour)
	if _, err := AppendJSON(nil, bad.Schema, bad, false); err == nil || !strings.Contains(err.Error(), "Date type should not have any time fields") {
		t.Errorf("date with time: %v", err)
	}
	// A required null without default is Kafka's conversion error.
	if _, err := AppendJSON(nil, StringSchema, nil, false); err == nil || !strings.Contains(err.Error(), "null value for field that is required") {
		t.Errorf("required null: %v", err)
	}
	// Without a schema: an integer is a Long, other numbers Doubles.
	_, v, err := DecodeJSON([]byte(` {"a":1,"b":[2.5,"x",null,true]} `), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(AppendJava(nil, v)); got != "{a=1, b=[2.5, x, null, true]}" {
		t.Errorf("schemaless: %s", got)
	}
	out, err := AppendJSON(nil, nil, v, false)
	if err != nil || string(out) != `{"a":1,"b":[2.5,"x",null,true]}` {
		t.Errorf("schemaless out: %s, %v", out, err)
	}
}

func TestTwosComplement(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 127, 128, -128, -129, 255, -256, 1 << 40, -(1 << 40)} {
		b := twosComplement(big.NewInt(n))
		if got := fromTwosComplement(b); got.Int64() != n {
			t.Errorf("%d: %x reads back as %v", n, b, got)
		}
		if want := new(big.Int).SetInt64(n); len(b) > 1 && (b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0) {
			t.Errorf("%v: %x is not the shortest", want, b)
		}
	}
}

func FuzzSchemalessJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,2.5,"x"]`, `"s"`, `null`, `{"k":{"n":[true,false]}}`, `1e400`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, v, err := DecodeJSON(b, false)
		if err != nil {
			return
		}
		out, err := AppendJSON(nil, nil, v, false)
		if err != nil {
			if v == nil {
				return
			}
			t.Fatalf("%q decodes but does not encode: %v", b, err)
		}
		if v == nil {
			return
		}
		_, v2, err := DecodeJSON(out, false)
		if err != nil {
			t.Fatalf("%q re-encoded as %q, which does not decode: %v", b, out, err)
		}
		if a, b2 := AppendJava(nil, v), AppendJava(nil, v2); string(a) != string(b2) {
			t.Fatalf("%q: Java text %q, after a round trip %q", b, a, b2)
		}
	})
}
