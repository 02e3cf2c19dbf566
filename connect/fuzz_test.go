package connect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzOffsetsFile loads arbitrary bytes as an offsets file (JSON or Kafka
// Connect's Java form). It must never panic; a file it refuses gets an error
// naming the file; a file it accepts is saved and read back unchanged, and
// each stored offset is either usable or an error naming the file.
func FuzzOffsetsFile(f *testing.F) {
	f.Add([]byte(`[{"key":["c",{"filename":"f"}],"value":{"position":5}}]`))
	f.Add([]byte("[\n{\"key\":[\"local-file-source\",{\"filename\":\"test.txt\"}],\"value\":{\"position\":1300,\"identity\":\"1:2\"}},\n{\"key\":[\"b\",{\"filename\":\"x\"}],\"value\":null}\n]\n"))
	f.Add([]byte(`[{"key":["c",{"filename":"f"}],"value":{"position":"12x"}}]`))
	f.Add([]byte(`[{"key":["c",{"filename":"f"}],"value":{"position":1e30}}]`))
	f.Add([]byte(`[{"key":["c",{"filename":"f"}],"value":{"position":9,"identity":"1:2:ab","proof":"9:1f/9:2e","record":{"topic":"t","partition":0,"offset":41}}}]`))
	f.Add([]byte(`[{"key":["c",{"filename":"f"}],"value":{"position":9,"record":{"topic":"t","offset":-1}}}]`))
	f.Add([]byte(`[{"key":["c"]}]`))
	f.Add([]byte(`[]  []`))
	f.Add([]byte(" \n"))
	f.Add(javaOffsetsFile([][2][]byte{{[]byte(`["a",{"filename":"x"}]`), []byte(`{"position":1}`)}}))
	f.Add(javaOffsetsFile([][2][]byte{{[]byte(`["a",{"filename":"x"}]`), nil}}))
	dir := f.TempDir()
	path := filepath.Join(dir, "connect.offsets")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := OpenOffsetStore(path, nil)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		before := storedValues(s)
		for k := range before {
			var key []json.RawMessage
			if json.Unmarshal([]byte(k), &key) != nil || len(key) != 2 {
				t.Fatalf("stored key %s is not [connector, partition]", k)
			}
			var name string
			var part map[string]any
			if json.Unmarshal(key[0], &name) != nil {
				t.Fatalf("stored key %s has no connector name", k)
			}
			if json.Unmarshal(key[1], &part) != nil {
				continue // not a map: no source task asks for it
			}
			if _, _, err := s.SourceOffset(name, part); err != nil && !strings.Contains(err.Error(), path) {
				t.Fatalf("offset error does not name the file: %v", err)
			}
			s.Entries(name)
		}
		s.dirty = true
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		s2, err := OpenOffsetStore(path, nil)
		if err != nil {
			saved, _ := os.ReadFile(path)
			t.Fatalf("the saved file cannot be read back: %v\n%s", err, saved)
		}
		after := storedValues(s2)
		if len(after) != len(before) {
			t.Fatalf("%d entries read back, %d saved", len(after), len(before))
		}
		for k, v := range before {
			if !bytes.Equal(after[k], v) {
				t.Fatalf("key %s: read back %s, saved %s", k, after[k], v)
			}
		}
	})
}

func storedValues(s *OffsetStore) map[string][]byte {
	out := map[string][]byte{}
	for k, e := range s.entries {
		if e.value != nil {
			out[k] = e.value
		}
	}
	return out
}

// FuzzJSONConverter feeds arbitrary bytes to JsonConverter.ToConnect, with
// and without schemas.enable. It must never panic; what it accepts must be
// JSON, schemaless it must accept all JSON, strings, nulls and booleans
// come out as encoding/json reads them, lists and maps in Java's brackets;
// and whatever a source sends must come back as it was sent.
func FuzzJSONConverter(f *testing.F) {
	for _, s := range []string{
		`{"schema":{"type":"string","optional":false},"payload":"a line"}`,
		`{"schema":{"type":"string","optional":false},"payload":"tab\there \"q\" \u00e9"}`,
		`{"schema":{"type":"string","optional":false},"payload":null}`,
		`{"schema":null,"payload":{"a":[1,2.5,true]}}`,
		`{"payload":"x"}`,
		`{"schema":{"type":"struct","fields":[{"field":"a","type":"int8"},{"field":"m","type":"map","keys":{"type":"string"},"values":{"type":"double"},"optional":true}]},"payload":{"a":300,"m":{"x":1e-9}}}`,
		`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":"BM4="}`,
		`{"b":1,"a":[{},[]],"b":"dup"}`,
		`"plain"`, ` "spaced" `, `null`, `12`, `{"a" : 1}`, `[1, "x"]`, `"\ud800"`, "\"\xff\"", ``,
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, schemas bool) {
		c := jsonConverter{schemas: schemas}
		got, err := c.ToConnect(b)
		if err == nil {
			checkAccepted(t, b, got, schemas)
		} else if json.Valid(b) && !schemas {
			t.Fatalf("refused valid JSON %q: %v", b, err)
		}

		// Any line a source reads survives the round trip, invalid
		// UTF-8 becoming U+FFFD as in Kafka.
		enc := c.FromConnect(nil, b)
		if !json.Valid(enc) {
			t.Fatalf("FromConnect(%q) = %q, not JSON", b, enc)
		}
		back, err := c.ToConnect(enc)
		if err != nil {
			t.Fatalf("ToConnect(FromConnect(%q)): %v", b, err)
		}
		want := b
		if !utf8.Valid(b) {
			want = replaceInvalid(b)
		}
		if !bytes.Equal(back, want) {
			t.Fatalf("round trip of %q gave %q", b, back)
		}
	})
}

// checkAccepted checks what the JsonConverter made of JSON it accepted.
func checkAccepted(t *testing.T, b, got []byte, schemas bool) {
	t.Helper()
	payload := b
	if schemas {
		var env map[string]json.RawMessage
		if e := json.Unmarshal(b, &env); e != nil {
			t.Fatalf("accepted %q, which is not JSON: %v", b, e)
		}
		payload = env["payload"]
		if string(bytes.TrimSpace(env["schema"])) != "null" {
			return // The schema decides what the payload becomes.
		}
	}
	var v any
	if e := json.Unmarshal(payload, &v); e != nil {
		if json.Unmarshal(bytes.TrimSpace(payload), &v) == nil {
			return // See TestJSONConverterSpaces.
		}
		t.Fatalf("accepted %q, which is not JSON: %v", b, e)
	}
	if !utf8.Valid(payload) {
		// See TestJSONConverterInvalidUTF8.
		v = struct{}{}
	}
	switch v := v.(type) {
	case struct{}:
	case nil:
		if got != nil {
			t.Fatalf("%q: null converted to %q", b, got)
		}
	case string:
		if string(got) != v {
			t.Fatalf("%q: got %q, encoding/json says %q", b, got, v)
		}
	case bool:
		if string(got) != strconv.FormatBool(v) {
			t.Fatalf("%q: got %q", b, got)
		}
	case []any:
		if len(got) < 2 || got[0] != '[' || got[len(got)-1] != ']' {
			t.Fatalf("%q: got %q, want a Java list", b, got)
		}
	case map[string]any:
		if len(got) < 2 || got[0] != '{' || got[len(got)-1] != '}' {
			t.Fatalf("%q: got %q, want a Java map", b, got)
		}
	}
}

// TestJSONConverterInvalidUTF8: a JSON string holding invalid UTF-8 must
// convert the same whichever path the converter takes (Kafka's Jackson
// refuses such input; encoding/json replaces each bad byte with U+FFFD).
func TestJSONConverterInvalidUTF8(t *testing.T) {
	c := jsonConverter{}
	plain, err1 := c.ToConnect([]byte("\"\xff\""))
	escaped, err2 := c.ToConnect([]byte("\"\xff\\t\""))
	if err1 == nil && err2 == nil && string(plain)+"\t" != string(escaped) {
		t.Errorf("the path for strings without escapes gives %q, the general path %q", plain, escaped)
	}
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("one refused, one accepted: %v, %v", err1, err2)
	}
}

// TestJSONConverterSpaces: only JSON's own whitespace (space, tab, CR, LF)
// may surround a value; Kafka's Jackson refuses others, such as a vertical
// tab or U+00A0.
func TestJSONConverterSpaces(t *testing.T) {
	c := jsonConverter{}
	for _, in := range []string{"\v0", "\f\"x\"", "\u00a01", "1\u0085"} {
		if got, err := c.ToConnect([]byte(in)); err == nil {
			t.Errorf("ToConnect with schemas.enable=false accepts %q (as %q): only space, tab, CR and LF are JSON whitespace", in, got)
		}
	}
}

// replaceInvalid replaces each invalid UTF-8 byte with U+FFFD, as Java's
// decoder does (bytes.ToValidUTF8 would replace a run with one).
func replaceInvalid(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = append(out, "\ufffd"...)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}
