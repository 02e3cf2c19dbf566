package connect

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/connect/data"
)

func TestJSONConverterEnvelope(t *testing.T) {
	c, err := NewConverter(JSONConverterClass, true)
	if err != nil {
		t.Fatal(err)
	}
	got := string(c.FromConnect(nil, []byte(`GET "/" a\b`)))
	want := `{"schema":{"type":"string","optional":false},"payload":"GET \"/\" a\\b"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if c.FromConnect(nil, nil) != nil {
		t.Fatal("a null value must stay null")
	}
	for _, line := range []string{"plain", "", `q"uote`, "tab\there", "ctl\x01", "é ü 日本", "bad\xffutf8", "back\\slash"} {
		enc := c.FromConnect(nil, []byte(line))
		if !json.Valid(enc) {
			t.Fatalf("%q: invalid JSON %s", line, enc)
		}
		dec, err := c.ToConnect(enc)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ToValidUTF8(line, "\ufffd")
		if string(dec) != want {
			t.Errorf("%q: round trip gave %q", line, dec)
		}
	}
}

func TestJSONConverterToConnect(t *testing.T) {
	withSchema, _ := NewConverter("JsonConverter", true)
	noSchema, _ := NewConverter(JSONConverterClass, false)
	cases := []struct {
		c       Converter
		in, out string
		err     bool
	}{
		{withSchema, `{"schema":{"type":"string","optional":false},"payload":"x"}`, "x", false},
		{withSchema, `{"payload":"y","schema":null}`, "y", false},
		{withSchema, `{"schema":{"type":"int32"},"payload":42}`, "42", false},
		{withSchema, `{"schema":null,"payload":{"a": 1}}`, `{a=1}`, false},
		{withSchema, `"bare"`, "", true},
		{withSchema, `{"payload":"x"}`, "", true},
		{withSchema, `not json`, "", true},
		{noSchema, `"bare \u00e9"`, "bare é", false},
		{noSchema, `[1, 2]`, "[1, 2]", false},
	}
	for _, tc := range cases {
		got, err := tc.c.ToConnect([]byte(tc.in))
		if (err != nil) != tc.err || string(got) != tc.out {
			t.Errorf("%s: got %q, %v", tc.in, got, err)
		}
	}
	if v, err := withSchema.ToConnect([]byte(`{"schema":null,"payload":null}`)); err != nil || v != nil {
		t.Errorf("null payload: %q %v", v, err)
	}
	if v, _ := noSchema.ToConnect(nil); v != nil {
		t.Error("null bytes must be a null value")
	}
}

func TestStringAndByteArrayConverters(t *testing.T) {
	for _, class := range []string{StringConverterClass, ByteArrayConverterClass, "StringConverter"} {
		c, err := NewConverter(class, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.FromConnect(nil, []byte("a\xffb")); string(got) != "a\xffb" {
			t.Errorf("%s: %q", class, got)
		}
		if got, _ := c.ToConnect([]byte("x")); string(got) != "x" {
			t.Errorf("%s: %q", class, got)
		}
	}
	if _, err := NewConverter("com.example.AvroConverter", false); err == nil {
		t.Fatal("unknown converter accepted")
	}
}

func BenchmarkJSONFromConnect(b *testing.B) {
	c, _ := NewConverter(JSONConverterClass, true)
	line := []byte(`192.0.2.39 - - [12/Mar/2026:14:02:12 +0000] "PUT /index.html HTTP/1.1" 304 - "https://duckduckgo.com/" "Mozilla/5.0"`)
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		buf = c.FromConnect(buf[:0], line)
	}
}

func BenchmarkJSONToConnect(b *testing.B) {
	c, _ := NewConverter(JSONConverterClass, true)
	enc := c.FromConnect(nil, []byte(`192.0.2.39 - - [12/Mar/2026:14:02:12 +0000] GET /index.html HTTP/1.1 304 - https://duckduckgo.com/`))
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		c.ToConnect(enc)
	}
}

// TestJavaText: what the JsonConverter's values print as in Java, as
// Kafka's FileStreamSink writes them. The expected texts were printed by
// Java 25 (HashMap.toString, Double.toString, Float.toString) and read off
// Kafka's Struct.toString.
func TestJavaText(t *testing.T) {
	noSchema := jsonConverter{}
	withSchema := jsonConverter{schemas: true}
	dec := func(scale int) string {
		return `{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"` + strconv.Itoa(scale) + `"}}`
	}
	env := func(schema, payload string) string {
		return `{"schema":` + schema + `,"payload":` + payload + `}`
	}
	cases := []struct {
		c       Converter
		in, out string
		err     bool
	}{
		{noSchema, `"foo"`, "foo", false},
		{noSchema, `"tab\t\u00e9"`, "tab\té", false},
		{noSchema, `""`, "", false},
		{noSchema, `42`, "42", false},
		{noSchema, `-0`, "0", false},
		{noSchema, `12345678901234567890`, "-6101065172474983726", false}, // BigInteger.longValue
		{noSchema, `1.5`, "1.5", false},
		{noSchema, `1.0`, "1.0", false},
		{noSchema, `1e5`, "100000.0", false},
		{noSchema, `1e7`, "1.0E7", false},
		{noSchema, `9999999.0`, "9999999.0", false},
		{noSchema, `0.001`, "0.001", false},
		{noSchema, `0.0009999`, "9.999E-4", false},
		{noSchema, `-1.25e-7`, "-1.25E-7", false},
		{noSchema, `1e23`, "1.0E23", false},
		{noSchema, `123456789012.0`, "1.23456789012E11", false},
		{noSchema, `0.30000000000000004`, "0.30000000000000004", false},
		{noSchema, `5e-324`, "4.9E-324", false},
		{noSchema, `1e400`, "Infinity", false},
		{noSchema, `-0.0`, "-0.0", false},
		{noSchema, `true`, "true", false},
		{noSchema, `null`, "", false},
		{noSchema, `[]`, "[]", false},
		{noSchema, `{}`, "{}", false},
		{noSchema, `["a", 1, null, [true]]`, "[a, 1, null, [true]]", false},
		{noSchema, `{"some_key":0}`, "{some_key=0}", false},
		{noSchema, `{"payload":1,"schema":1}`, "{schema=1, payload=1}", false},
		{noSchema, `{"type":1,"optional":1}`, "{optional=1, type=1}", false},
		{noSchema, `{"one":1,"two":2,"three":3}`, "{one=1, two=2, three=3}", false},
		{noSchema, `{"BB":1,"Aa":2}`, "{BB=1, Aa=2}", false}, // one bucket: insertion order
		{noSchema, `{"Aa":1,"BB":2}`, "{Aa=1, BB=2}", false},
		{noSchema, `{"a":1,"b":2,"a":3}`, "{a=3, b=2}", false}, // Jackson: first place, last value
		{noSchema, `{"k0":1,"k1":1,"k2":1,"k3":1,"k4":1,"k5":1,"k6":1,"k7":1,"k8":1,"k9":1,"k10":1,"k11":1,"k12":1,"k13":1,"k14":1}`,
			"{k0=1, k1=1, k2=1, k3=1, k4=1, k5=1, k11=1, k6=1, k10=1, k7=1, k13=1, k8=1, k12=1, k9=1, k14=1}", false},
		{noSchema, `{"zeta":1,"alpha":1,"mid":1,"Zürich":1,"日本":1,"😀x":1,"name":1,"id":1,"value":1,"timestamp":1,"host":1,"level":1,"msg":1}`,
			"{zeta=1, msg=1, level=1, mid=1, 日本=1, 😀x=1, Zürich=1, alpha=1, name=1, host=1, id=1, value=1, timestamp=1}", false},
		// Ten keys in one bucket of 16: the table grows as Java's does.
		{noSchema, `{"c6":1,"c10":1,"c21":1,"c32":1,"c43":1,"c54":1,"c65":1,"c76":1,"c87":1,"c98":1}`,
			"{c10=1, c32=1, c54=1, c76=1, c98=1, c21=1, c43=1, c65=1, c87=1, c6=1}", false},
		{noSchema, `{"m":{"x":[1.5,"s"]}}`, "{m={x=[1.5, s]}}", false},
		{noSchema, " { \"a\" :\t[ 1 , { } , [ ] ] }\n", "{a=[1, {}, []]}", false},
		{noSchema, `{"k\u0041":"q\"\\"}`, `{kA=q"\}`, false},
		{noSchema, ` [ "x" , null,-2E2 ] `, "[x, null, -200.0]", false},

		{withSchema, env(`{"type":"string"}`, `"plain"`), "plain", false},
		{withSchema, env(`{"type":"struct","fields":[{"field":"a","type":"int32"},{"field":"b","type":"string","optional":true},{"field":"c","type":"boolean"}]}`, `{"c":true,"a":7}`),
			"Struct{a=7,c=true}", false}, // a null field is left out
		{withSchema, env(`{"type":"struct","fields":[{"field":"n","type":"struct","fields":[{"field":"x","type":"double"}]},{"field":"l","type":"array","items":{"type":"int64"}}]}`, `{"n":{"x":2},"l":[1,2]}`),
			"Struct{n=Struct{x=2.0},l=[1, 2]}", false},
		{withSchema, env(`{"type":"struct","fields":[{"field":"d","type":"int32","default":5}]}`, `{}`), "Struct{d=5}", false},
		{withSchema, env(`{"type":"struct","fields":[{"field":"d","type":"int32"}]}`, `{}`), "", true},
		{withSchema, env(`{"type":"int8"}`, `300`), "44", false},
		{withSchema, env(`{"type":"int16"}`, `1.9`), "1", false},
		{withSchema, env(`{"type":"float"}`, `0.1`), "0.1", false},
		{withSchema, env(`{"type":"float"}`, `16777216`), "1.6777216E7", false},
		{withSchema, env(`{"type":"double"}`, `0.1`), "0.1", false},
		{withSchema, env(`{"type":"bytes"}`, `"aGk="`), "hi", false},
		{withSchema, env(`{"type":"map","keys":{"type":"string"},"values":{"type":"int32"}}`, `{"two":2,"one":1}`), "{one=1, two=2}", false},
		{withSchema, env(`{"type":"map","keys":{"type":"int32"},"values":{"type":"string"}}`, `[[1,"a"],[2,"b"]]`), "{1=a, 2=b}", false},
		{withSchema, env(`{"type":"string","optional":true}`, `null`), "", false},
		{withSchema, env(`{"type":"string"}`, `null`), "", true},
		{withSchema, env(`{"type":"string","default":"d"}`, `null`), "d", false},
		{withSchema, env(`{"type":"string"}`, `5`), "", true},
		{withSchema, env(`{"type":"nope"}`, `5`), "", true},
		{withSchema, env(`{"optional":true}`, `5`), "", true},
		{withSchema, env(`null`, `{"a":[1,2.5]}`), "{a=[1, 2.5]}", false},

		// Logical types; BigDecimal texts printed by Java 25.
		{withSchema, env(dec(2), `"BM4="`), "12.30", false},
		{withSchema, env(dec(3), `"+w=="`), "-0.005", false},
		{withSchema, env(dec(10), `"ew=="`), "1.23E-8", false},
		{withSchema, env(dec(-2), `"Dw=="`), "1.5E+3", false},
		{withSchema, env(dec(2), `12.30`), "12.30", false}, // decimal.format=NUMERIC
		{withSchema, env(dec(2), `1.5e3`), "1.5E+3", false},
		{withSchema, env(dec(2), `-0.0`), "0.0", false},
		{withSchema, env(dec(2), `0.000001`), "0.000001", false},
		{withSchema, env(dec(2), `0.0000001`), "1E-7", false},
		{withSchema, env(dec(2), `"not base64"`), "", true},
		{withSchema, env(`{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal"}`, `"BM4="`), "", true},
		{withSchema, env(`{"type":"int32","name":"org.apache.kafka.connect.data.Date"}`, `19000`), time.UnixMilli(19000 * 86400000).Format(data.JavaDateLayout), false},
		{withSchema, env(`{"type":"int32","name":"org.apache.kafka.connect.data.Time"}`, `45296789`), time.UnixMilli(45296789).Format(data.JavaDateLayout), false},
		{withSchema, env(`{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp"}`, `1733320000123`), time.UnixMilli(1733320000123).Format(data.JavaDateLayout), false},
		{withSchema, env(`{"type":"int32","name":"com.example.Custom"}`, `7`), "7", false},
	}
	for _, tc := range cases {
		got, err := tc.c.ToConnect([]byte(tc.in))
		if (err != nil) != tc.err || string(got) != tc.out {
			t.Errorf("%s: got %q, %v; want %q", tc.in, got, err, tc.out)
		}
	}
}

// TestJavaDateLayout: java.util.Date.toString as Java 25 prints it (TZ=UTC
// and TZ=Europe/Paris).
func TestJavaDateLayout(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		ms   int64
		loc  *time.Location
		want string
	}{
		{0, time.UTC, "Thu Jan 01 00:00:00 UTC 1970"},
		{19000 * 86400000, time.UTC, "Sat Jan 08 00:00:00 UTC 2022"},
		{45296789, time.UTC, "Thu Jan 01 12:34:56 UTC 1970"},
		{45296789, paris, "Thu Jan 01 13:34:56 CET 1970"},
		{1733320000123, paris, "Wed Dec 04 14:46:40 CET 2024"},
	} {
		if got := time.UnixMilli(tc.ms).In(tc.loc).Format(data.JavaDateLayout); got != tc.want {
			t.Errorf("%d in %s: %s, want %s", tc.ms, tc.loc, got, tc.want)
		}
	}
}

func TestCheckHeaderConverter(t *testing.T) {
	for _, c := range []string{SimpleHeaderConverterClass, StringConverterClass, JSONConverterClass, ByteArrayConverterClass, "SimpleHeaderConverter"} {
		if err := CheckHeaderConverter(c); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
	if err := CheckHeaderConverter("com.example.HeaderConv"); err == nil || !strings.Contains(err.Error(), SimpleHeaderConverterClass) {
		t.Errorf("an unknown class: %v", err)
	}
}

// BenchmarkJSONToConnectObject: a schemaless JSON object, rendered as
// Java's HashMap prints it (the general path, off the string fast path).
func BenchmarkJSONToConnectObject(b *testing.B) {
	c := jsonConverter{}
	enc := []byte(`{"host":"192.0.2.39","time":"12/Mar/2026:14:02:12 +0000","method":"GET","path":"/index.html","status":304,"bytes":0,"ratio":0.25,"tags":["a","b"]}`)
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ToConnect(enc); err != nil {
			b.Fatal(err)
		}
	}
}
