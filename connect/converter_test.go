package connect

import (
	"encoding/json"
	"strings"
	"testing"
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
		{withSchema, `{"schema":null,"payload":{"a": 1}}`, `{"a":1}`, false},
		{withSchema, `"bare"`, "", true},
		{withSchema, `{"payload":"x"}`, "", true},
		{withSchema, `not json`, "", true},
		{noSchema, `"bare \u00e9"`, "bare é", false},
		{noSchema, `[1, 2]`, "[1,2]", false},
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
