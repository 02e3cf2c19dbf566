package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testDef = NewDef("test",
	Key{Name: "s", Type: String, Default: "dflt", HasDefault: true, Doc: "a string"},
	Key{Name: "i", Type: Int, Default: "5", HasDefault: true, Validate: Range(1, 10), Doc: "an int"},
	Key{Name: "l", Type: Long, Default: "0", HasDefault: true, Validate: AtLeast(0), Doc: "a long"},
	Key{Name: "b", Type: Bool, Default: "false", HasDefault: true, Doc: "a bool"},
	Key{Name: "d", Type: Double, Default: "1.5", HasDefault: true, Doc: "a double"},
	Key{Name: "list", Type: List, Default: "a,b", HasDefault: true, Doc: "a list"},
	Key{Name: "ms", Type: Duration, Default: "60000", HasDefault: true, Doc: "a duration"},
	Key{Name: "class", Type: Class, Default: "org.Example", HasDefault: true, Validate: NonEmpty(), Doc: "a class"},
	Key{Name: "pw", Type: Password, Doc: "a password"},
	Key{Name: "mode", Type: String, Default: "earliest", HasDefault: true, Validate: OneOf("earliest", "latest"), Doc: "one of"},
	Key{Name: "opt", Type: String, Doc: "optional, no default"},
	Key{Name: "req", Type: String, Required: true, Validate: NonEmpty(), Doc: "required"},
)

func parse(t *testing.T, text string) (*Values, error) {
	t.Helper()
	p, err := ParseString("t.properties", text)
	if err != nil {
		return nil, err
	}
	return testDef.Parse(p)
}

func TestDefaults(t *testing.T) {
	v, err := parse(t, "req=x\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String("s"); got != "dflt" {
		t.Errorf("s = %q", got)
	}
	if got := v.Int("i"); got != 5 {
		t.Errorf("i = %d", got)
	}
	if got := v.Long("l"); got != 0 {
		t.Errorf("l = %d", got)
	}
	if got := v.Bool("b"); got {
		t.Errorf("b = %v", got)
	}
	if got := v.Double("d"); got != 1.5 {
		t.Errorf("d = %v", got)
	}
	if got := v.List("list"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("list = %q", got)
	}
	if got := v.Duration("ms"); got != time.Minute {
		t.Errorf("ms = %v", got)
	}
	if got := v.String("class"); got != "org.Example" {
		t.Errorf("class = %q", got)
	}
	if got := v.String("opt"); got != "" || v.Has("opt") || v.IsSet("opt") {
		t.Errorf("opt = %q has=%v set=%v", got, v.Has("opt"), v.IsSet("opt"))
	}
	if !v.Has("s") || v.IsSet("s") {
		t.Errorf("s: has=%v set=%v, want default but not set", v.Has("s"), v.IsSet("s"))
	}
}

func TestTypes(t *testing.T) {
	tests := []struct {
		name, text string
		check      func(*Values) any
		want       any
	}{
		{"string trimmed", "s =  hello  ", func(v *Values) any { return v.String("s") }, "hello"},
		{"string colon", "s: hello", func(v *Values) any { return v.String("s") }, "hello"},
		{"string space sep", "s hello", func(v *Values) any { return v.String("s") }, "hello"},
		{"string escapes", `s=a\tb\u0041`, func(v *Values) any { return v.String("s") }, "a\tbA"},
		{"string continuation", "s=one \\\n    two", func(v *Values) any { return v.String("s") }, "one two"},
		{"string empty", "s=", func(v *Values) any { return v.String("s") }, ""},
		{"string dollar kept", "s=${foo}", func(v *Values) any { return v.String("s") }, "${foo}"},
		{"int", "i=7", func(v *Values) any { return v.Int("i") }, 7},
		{"int blank uses default", "i=", func(v *Values) any { return v.Int("i") }, 5},
		{"long", "l=9000000000", func(v *Values) any { return v.Long("l") }, int64(9000000000)},
		{"bool true", "b=true", func(v *Values) any { return v.Bool("b") }, true},
		{"bool TRUE", "b=TRUE", func(v *Values) any { return v.Bool("b") }, true},
		{"double", "d=0.25", func(v *Values) any { return v.Double("d") }, 0.25},
		{"double int form", "d=3", func(v *Values) any { return v.Double("d") }, 3.0},
		{"list", "list= x , y,,z ", func(v *Values) any { return v.List("list") }, []string{"x", "y", "z"}},
		{"list empty", "list=", func(v *Values) any { return v.List("list") }, []string{}},
		{"duration", "ms=10000", func(v *Values) any { return v.Duration("ms") }, 10 * time.Second},
		{"duration zero", "ms=0", func(v *Values) any { return v.Duration("ms") }, time.Duration(0)},
		{"class", "class=org.apache.kafka.connect.file.FileStreamSourceConnector", func(v *Values) any { return v.String("class") }, "org.apache.kafka.connect.file.FileStreamSourceConnector"},
		{"password", "pw=secret", func(v *Values) any { return v.String("pw") }, "secret"},
		{"one of any case", "mode=LATEST", func(v *Values) any { return v.String("mode") }, "LATEST"},
		{"comment lines", "# c\n! c2\ns=x", func(v *Values) any { return v.String("s") }, "x"},
		{"last wins", "s=a\ns=b", func(v *Values) any { return v.String("s") }, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parse(t, tt.text+"\nreq=r\n")
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.check(v); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"int not a number", "i=ten", `t.properties: i: "ten" is not a number`},
		{"int out of 32-bit range", "i=3000000000", `t.properties: i: "3000000000" is out of range for a 32-bit integer`},
		{"int below range", "i=0", `t.properties: i: "0" must be between 1 and 10`},
		{"int above range", "i=11", `t.properties: i: "11" must be between 1 and 10`},
		{"long not a number", "l=1e3", `t.properties: l: "1e3" is not a number`},
		{"long too big", "l=99999999999999999999", `t.properties: l: "99999999999999999999" is out of range for a 64-bit integer`},
		{"long below at-least", "l=-1", `t.properties: l: "-1" must be at least 0`},
		{"bool", "b=yes", `t.properties: b: "yes" is not a boolean (true or false)`},
		{"double", "d=abc", `t.properties: d: "abc" is not a number`},
		{"double nan", "d=NaN", `t.properties: d: "NaN" is not a number`},
		{"duration not a number", "ms=ten", `t.properties: ms: "ten" is not a number`},
		{"duration with unit", "ms=10s", `t.properties: ms: "10s" is not a number`},
		{"duration negative", "ms=-5", `t.properties: ms: "-5" is negative; a duration in milliseconds must be 0 or more`},
		{"duration huge", "ms=9223372036854775807", `t.properties: ms: "9223372036854775807" is too large for a number of milliseconds`},
		{"one of", "mode=middle", `t.properties: mode: "middle" must be one of earliest, latest`},
		{"class empty", "class=   ", `t.properties: class: "" must not be empty`},
		{"password hidden", "pw=${env:TRIBUTARY_TEST_UNSET_VAR}", `t.properties: pw: ${env:TRIBUTARY_TEST_UNSET_VAR}: environment variable TRIBUTARY_TEST_UNSET_VAR is not set`},
		{"env unset", "s=${env:TRIBUTARY_TEST_UNSET_VAR}", `t.properties: s: ${env:TRIBUTARY_TEST_UNSET_VAR}: environment variable TRIBUTARY_TEST_UNSET_VAR is not set`},
		{"env empty name", "s=${env:}", `t.properties: s: ${env:} names no environment variable`},
		{"malformed unicode escape", `s=\u00zz`, `t.properties: malformed properties: line 1: invalid unicode literal`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.text+"\nreq=r\n")
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

func TestMissingRequired(t *testing.T) {
	_, err := parse(t, "s=x")
	want := "t.properties: req: missing required key"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "req" || ce.Source != "t.properties" {
		t.Fatalf("error is not a *config.Error naming the key: %#v", err)
	}
}

func TestRequiredBlank(t *testing.T) {
	_, err := parse(t, "req=   ")
	want := `t.properties: req: "" must not be empty`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestAllErrorsReported(t *testing.T) {
	_, err := parse(t, "i=x\nb=maybe\n")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`i: "x" is not a number`, `b: "maybe" is not a boolean`, "req: missing required key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestPasswordNeverPrinted(t *testing.T) {
	def := NewDef("pw", Key{Name: "pw", Type: Password, Validate: func(any) error { return errors.New("is too short") }, Doc: "p"})
	p, err := ParseString("t.properties", "pw=hunter2")
	if err != nil {
		t.Fatal(err)
	}
	_, err = def.Parse(p)
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error shows the password: %v", err)
	}
	if want := "t.properties: pw: [hidden] is too short"; err.Error() != want {
		t.Fatalf("got %q, want %q", err, want)
	}
}

func TestEnvProvider(t *testing.T) {
	t.Setenv("TRIBUTARY_TEST_DIR", "/var/data")
	t.Setenv("TRIBUTARY_TEST_N", "8")
	v, err := parse(t, "s=${env:TRIBUTARY_TEST_DIR}/x\ni=${env::TRIBUTARY_TEST_N}\nreq=r")
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String("s"); got != "/var/data/x" {
		t.Errorf("s = %q", got)
	}
	if got := v.Int("i"); got != 8 {
		t.Errorf("i = %d", got)
	}
}

func TestUnknownKeysKept(t *testing.T) {
	v, err := parse(t, "req=r\nfile=/tmp/x\nproducer.acks=1\nproducer.linger.ms=5\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Unknown(); !reflect.DeepEqual(got, []string{"file", "producer.acks", "producer.linger.ms"}) {
		t.Errorf("Unknown = %q", got)
	}
	if got := v.Originals()["file"]; got != "/tmp/x" {
		t.Errorf("file = %q", got)
	}
	if got := v.WithPrefix("producer."); !reflect.DeepEqual(got, map[string]string{"acks": "1", "linger.ms": "5"}) {
		t.Errorf("WithPrefix = %v", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.properties")
	_, err := Load(path)
	if err == nil || err.Error() != path+": file does not exist" {
		t.Fatalf("got %v", err)
	}
}

func TestLoadUnreadable(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir) // a directory cannot be read as a file
	if err == nil || !strings.HasPrefix(err.Error(), dir+": cannot read: ") {
		t.Fatalf("got %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.properties")
	if err := os.WriteFile(path, []byte("\ufeffreq = yes\ni : 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := testDef.Parse(p)
	if err != nil {
		t.Fatal(err)
	}
	if v.String("req") != "yes" || v.Int("i") != 3 || v.Source() != path {
		t.Fatalf("req=%q i=%d source=%q", v.String("req"), v.Int("i"), v.Source())
	}
}

// TestLoadStockFiles checks that every property file shipped in testdata,
// Apache Kafka's stock files included, is well-formed.
func TestLoadStockFiles(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.properties")
	if err != nil {
		t.Fatal(err)
	}
	stock, err := filepath.Glob("../testdata/kafka/*.properties")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, stock...)
	if len(stock) < 9 || len(files) < 13 {
		t.Fatalf("found only %d files (%d stock)", len(files), len(stock))
	}
	for _, f := range files {
		p, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(p.Keys()) == 0 {
			t.Errorf("%s: no keys", f)
		}
	}
}

func TestValidatorsOnLists(t *testing.T) {
	def := NewDef("l", Key{Name: "l", Type: List, Validate: All(NonEmpty(), OneOf("a", "b")), Doc: "l"})
	for text, want := range map[string]string{
		"l=":    `t.properties: l: "" must not be an empty list`,
		"l=a,c": `t.properties: l: "a,c" has "c", which must be one of a, b`,
	} {
		p, err := ParseString("t.properties", text)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := def.Parse(p); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %q", text, err, want)
		}
	}
}

func TestBadDefaultPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a default that does not parse must panic")
		}
	}()
	NewDef("bad", Key{Name: "x", Type: Int, Default: "x", HasDefault: true})
}

func TestMarkdown(t *testing.T) {
	md := NewDef("m",
		Key{Name: "a", Type: Int, Default: "1", HasDefault: true, Doc: "the a | b"},
		Key{Name: "r", Type: String, Required: true, Doc: "needed"},
	).Markdown()
	want := "| key | type | default | description |\n| --- | --- | --- | --- |\n" +
		"| `a` | int | `1` | the a \\| b |\n" +
		"| `r` | string | (required) | needed |\n"
	if md != want {
		t.Fatalf("got\n%s\nwant\n%s", md, want)
	}
}

func FuzzParseString(f *testing.F) {
	for _, s := range []string{"a=b", "a: b\\\n c", "# x\n!y\nk v", `k=\u00zz`, "${env:X}", "a=${env:}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := ParseString("f.properties", text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.properties: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if _, err := testDef.Parse(p); err != nil && !strings.Contains(err.Error(), "f.properties: ") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
