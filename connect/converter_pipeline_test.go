package connect_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// produceValues writes each value as one record of topic.
func produceValues(t *testing.T, addr, topic string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, v := range values {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConnectorConverterSettingsWithoutClass is a case from Kafka's
// connect system tests: the worker's JsonConverter has schemas.enable=false,
// the sink file sets value.converter.schemas.enable=True but no
// value.converter. Kafka applies a connector's converter settings only to a
// converter the connector names, so the worker's schemaless converter
// decodes the bare JSON strings, and the sink file holds the strings (and
// other values as Java's toString prints them).
func TestConnectorConverterSettingsWithoutClass(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.txt")
	produceValues(t, addr, "bare", `"foo"`, `"bar"`, `"baz"`, `{"some_key":0}`, `[1,"a",1.5]`, `null`)
	wp := workerProps(addr, dir,
		"key.converter=org.apache.kafka.connect.json.JsonConverter",
		"value.converter=org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable=false",
		"value.converter.schemas.enable=false")
	startWorker(t, wp, sinkProps(dir, out, "bare",
		"key.converter.schemas.enable=True",
		"value.converter.schemas.enable=True"))
	waitForFile(t, out, []byte("foo\nbar\nbaz\n{some_key=0}\n[1, a, 1.5]\nnull\n"))
}

// TestConnectorConverterClassTakesItsSettings: a connector that names its
// converter gets that converter with the connector's settings, not the
// worker's.
func TestConnectorConverterClassTakesItsSettings(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.txt")
	produceValues(t, addr, "env",
		`{"schema":{"type":"struct","fields":[{"field":"a","type":"int32"},{"field":"b","type":"string","optional":true}]},"payload":{"a":1,"b":"x"}}`,
		`{"schema":{"type":"string"},"payload":"plain"}`)
	wp := workerProps(addr, dir, "value.converter.schemas.enable=false")
	startWorker(t, wp, sinkProps(dir, out, "env",
		"value.converter=org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable=TRUE"))
	waitForFile(t, out, []byte("Struct{a=1,b=x}\nplain\n"))
}
