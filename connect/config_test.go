package connect_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

func TestStockFilesLoad(t *testing.T) {
	props, err := config.Load("../testdata/kafka/connect-standalone.properties")
	if err != nil {
		t.Fatal(err)
	}
	vals, err := connect.WorkerDef().Parse(props)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := connect.ParseWorkerConfig(vals)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BootstrapServers[0] != "localhost:9092" || cfg.ValueConverter.Class != connect.JSONConverterClass || !cfg.ValueConverter.SchemasEnable || cfg.FlushInterval.Milliseconds() != 10000 || cfg.Listener != "127.0.0.1:8083" {
		t.Fatalf("%+v", cfg)
	}
	w, _ := connect.NewWorker(cfg, registry(t), nil)
	for _, f := range []string{"connect-file-source", "connect-file-sink", "connect-console-source", "connect-console-sink"} {
		p, err := config.Load("../testdata/kafka/" + f + ".properties")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.ValidateConnector(p); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// The repository's own worker file: embedded default, no bootstrap.
	props, _ = config.Load("../testdata/connect-standalone.properties")
	vals, err = connect.WorkerDef().Parse(props)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := connect.ParseWorkerConfig(vals); err != nil || len(cfg.BootstrapServers) != 0 {
		t.Fatalf("%+v %v", cfg, err)
	}
}

func TestWorkerFileErrors(t *testing.T) {
	cases := []struct {
		props map[string]string
		want  []string
	}{
		{map[string]string{}, []string{"w.properties: offset.storage.file.filename: missing required key"}},
		{map[string]string{"offset.storage.file.filename": "x", "offset.flush.interval.ms": "ten"}, []string{`w.properties: offset.flush.interval.ms: "ten" is not a number`}},
		{map[string]string{"offset.storage.file.filename": "x", "value.converter": "com.example.Avro"}, []string{`w.properties: value.converter: "com.example.Avro" is not a known converter`}},
		{map[string]string{"offset.storage.file.filename": "x", "listeners": "https://:8443"}, []string{`w.properties: listeners: "https://:8443" uses https`}},
		{map[string]string{"offset.storage.file.filename": "x", "bootstrap.servers": "nohost"}, []string{`w.properties: bootstrap.servers: "nohost" has "nohost", which is not host:port`}},
		{map[string]string{"offset.storage.file.filename": "x", "producer.acks": "most"}, []string{`w.properties: producer.acks: "most" is not one of`}},
		{map[string]string{"offset.storage.file.filename": "x", "header.converter": "com.example.Headers"}, []string{`w.properties: header.converter: "com.example.Headers" is not a known header converter`}},
	}
	for _, tc := range cases {
		vals, err := connect.WorkerDef().Parse(config.FromMap("w.properties", tc.props))
		if err == nil {
			_, err = connect.ParseWorkerConfig(vals)
		}
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: got %v, want %q", tc.props, err, w)
			}
		}
	}
}

func TestConnectorFileErrors(t *testing.T) {
	w, _ := connect.NewWorker(connect.WorkerConfig{KeyConverter: connect.ConverterConfig{Class: "StringConverter"}, ValueConverter: connect.ConverterConfig{Class: "StringConverter"}}, registry(t), nil)
	dir := t.TempDir()
	src := filepath.Join(dir, "c.properties")
	cases := []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"name": "a"}, `c.properties: connector.class: "" is missing; set it to one of`},
		{map[string]string{"name": "a", "connector.class": "Nope"}, `c.properties: connector.class: "Nope" is not a known connector class`},
		{map[string]string{"name": "a", "connector.class": "FileStreamSource"}, "c.properties: topic: missing required key"},
		{map[string]string{"name": "a", "connector.class": "FileStreamSource", "topic": "t", "batch.size": "-1"}, `c.properties: batch.size: "-1" must be at least 1`},
		{map[string]string{"name": "a", "connector.class": "FileStreamSource", "topic": "t", "read.from": "middle"}, `c.properties: read.from: "middle" must be one of beginning, end`},
		{map[string]string{"name": "a", "connector.class": "FileStreamSink"}, `c.properties: topics: "" must be set (or topics.regex)`},
		{map[string]string{"name": "a", "connector.class": "FileStreamSink", "topics": "a", "topics.regex": "b.*"}, "c.properties: topics.regex: \"b.*\" is set together with topics"},
		{map[string]string{"name": "a", "connector.class": "FileStreamSink", "topics.regex": "("}, "c.properties: topics.regex: \"(\" is not a regular expression"},
		{map[string]string{"connector.class": "FileStreamSink", "topics": "a"}, "c.properties: name: missing required key"},
		{map[string]string{"name": "a", "connector.class": "FileStreamSource", "topic": "bad topic!"}, `c.properties: topic: "bad topic!" Topic name "bad topic!" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`},
		{map[string]string{"name": "a", "connector.class": "FileStreamSource", "topic": ".."}, `c.properties: topic: ".." Topic name cannot be "." or ".."`},
		{map[string]string{"name": "a", "connector.class": "FileStreamSource", "topic": strings.Repeat("x", 300)}, `Topic name is illegal, it can't be longer than 249 characters`},
		{map[string]string{"name": "a", "connector.class": "FileStreamSink", "topics": "good,bad/one"}, `c.properties: topics: "good,bad/one" Topic name "bad/one" is illegal`},
		{map[string]string{"name": "a", "connector.class": "FileStreamSink", "topics": "a", "value.converter": "Avro"}, `c.properties: value.converter: "Avro" is not a known converter`},
		{map[string]string{"name": "a", "connector.class": "FileStreamSink", "topics": "a", "header.converter": "Avro"}, `c.properties: header.converter: "Avro" is not a known header converter`},
		{map[string]string{"name": "a", "connector.class": "FileStreamSink", "topics": "a", "value.converter": "JsonConverter", "value.converter.schemas.enable": "maybe"}, `c.properties: value.converter.schemas.enable: "maybe" is not a boolean`},
	}
	for _, tc := range cases {
		err := w.ValidateConnector(config.FromMap(src, tc.props))
		if err == nil || !strings.Contains(err.Error(), strings.ReplaceAll(tc.want, "c.properties", src)) {
			t.Errorf("%v:\n got %v\nwant %q", tc.props, err, tc.want)
		}
		var ce *config.Error
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("%v: not a config.Error: %T", tc.props, err)
		}
	}
}

// TestConnectorConverterKeysWithoutClass: as in Kafka, a connector's
// value.converter.* keys apply only to a converter the connector names, so
// without one they are not even checked; the worker's converter is used.
func TestConnectorConverterKeysWithoutClass(t *testing.T) {
	w, _ := connect.NewWorker(connect.WorkerConfig{KeyConverter: connect.ConverterConfig{Class: "StringConverter"}, ValueConverter: connect.ConverterConfig{Class: "StringConverter"}}, registry(t), nil)
	for _, props := range []map[string]string{
		{"name": "a", "connector.class": "FileStreamSink", "topics": "a", "value.converter.schemas.enable": "maybe", "key.converter.schemas.enable": "True"},
		{"name": "a", "connector.class": "FileStreamSink", "topics": "a", "value.converter": "JsonConverter", "value.converter.schemas.enable": "True", "header.converter": connect.SimpleHeaderConverterClass},
		{"name": "a", "connector.class": "FileStreamSink", "topics": "a", "header.converter": "org.apache.kafka.connect.json.JsonConverter"},
	} {
		if err := w.ValidateConnector(config.FromMap(filepath.Join(t.TempDir(), "c.properties"), props)); err != nil {
			t.Errorf("%v: %v", props, err)
		}
	}
}

func TestRESTAuthKeys(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds.properties")
	os.WriteFile(creds, []byte("a=1\nb = two words\n"), 0o600)
	empty := filepath.Join(dir, "empty.properties")
	os.WriteFile(empty, []byte("# nobody\n"), 0o600)
	ok := []struct {
		props map[string]string
		users map[string]string
	}{
		{map[string]string{}, nil},
		{map[string]string{"rest.basic.auth.user": "u", "rest.basic.auth.password": "p"}, map[string]string{"u": "p"}},
		{map[string]string{"rest.basic.auth.credentials.file": creds, "rest.extension.classes": connect.BasicAuthExtensionClass}, map[string]string{"a": "1", "b": "two words"}},
		{map[string]string{"rest.basic.auth.user": "u", "rest.basic.auth.password": "", "rest.basic.auth.credentials.file": creds}, map[string]string{"u": "", "a": "1", "b": "two words"}},
	}
	for _, tc := range ok {
		tc.props["offset.storage.file.filename"] = "x"
		vals, err := connect.WorkerDef().Parse(config.FromMap("w.properties", tc.props))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := connect.ParseWorkerConfig(vals)
		if err != nil || !maps.Equal(cfg.RESTUsers, tc.users) {
			t.Errorf("%v: users %v, %v", tc.props, cfg.RESTUsers, err)
		}
	}
	bad := []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"rest.basic.auth.user": "u"}, `w.properties: rest.basic.auth.password: "" is required with rest.basic.auth.user`},
		{map[string]string{"rest.basic.auth.password": "p"}, `w.properties: rest.basic.auth.user: "" is required with rest.basic.auth.password`},
		{map[string]string{"rest.basic.auth.user": "a:b", "rest.basic.auth.password": "p"}, `rest.basic.auth.user: "a:b" contains ':'`},
		{map[string]string{"rest.basic.auth.credentials.file": filepath.Join(dir, "none")}, `rest.basic.auth.credentials.file: "` + filepath.Join(dir, "none") + `" cannot be read`},
		{map[string]string{"rest.basic.auth.credentials.file": empty}, `rest.basic.auth.credentials.file: "` + empty + `" names no user`},
		{map[string]string{"rest.extension.classes": connect.BasicAuthExtensionClass}, `rest.extension.classes: "` + connect.BasicAuthExtensionClass + `" needs rest.basic.auth.user`},
		{map[string]string{"rest.extension.classes": "com.example.Ext"}, `rest.extension.classes: "com.example.Ext" is not supported`},
	}
	for _, tc := range bad {
		tc.props["offset.storage.file.filename"] = "x"
		vals, err := connect.WorkerDef().Parse(config.FromMap("w.properties", tc.props))
		if err == nil {
			_, err = connect.ParseWorkerConfig(vals)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v:\n got %v\nwant %q", tc.props, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), `"p"`) {
			t.Errorf("password shown in %v", err)
		}
	}
}

// TestWorkerSchemasEnableReadWhenUsed: as Kafka, the worker's
// value.converter.schemas.enable is read only for a connector that uses
// the worker's converter: "none" (which Kafka's test templates write) lets
// the worker start and a connector naming its own converter run, and fails
// a connector that would use it, naming the worker file and key.
func TestWorkerSchemasEnableReadWhenUsed(t *testing.T) {
	dir := t.TempDir()
	vals, err := connect.WorkerDef().Parse(config.FromMap(filepath.Join(dir, "worker.properties"), map[string]string{
		"bootstrap.servers": "127.0.0.1:9092", "offset.storage.file.filename": filepath.Join(dir, "o"),
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "none",
		"key.converter.schemas.enable": "TRUE"}))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := connect.ParseWorkerConfig(vals)
	if err != nil {
		t.Fatalf("the worker refused a setting no connector reads yet: %v", err)
	}
	w, _ := connect.NewWorker(cfg, registry(t), nil)
	src := filepath.Join(dir, "c.properties")
	own := map[string]string{"name": "a", "connector.class": "FileStreamSink", "topics": "t", "value.converter": "StringConverter"}
	if err := w.ValidateConnector(config.FromMap(src, own)); err != nil {
		t.Errorf("a connector with its own converter: %v", err)
	}
	uses := map[string]string{"name": "b", "connector.class": "FileStreamSink", "topics": "t"}
	want := filepath.Join(dir, "worker.properties") + `: value.converter.schemas.enable: "none" is not a boolean (true or false)`
	if err := w.ValidateConnector(config.FromMap(src, uses)); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a connector using the worker's JsonConverter: %v, want %q", err, want)
	}
}
