package connect_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/kafkaclient"
)

// saslClientProps are the client settings of user under prefix (producer.,
// consumer., admin. or none) for a SASL_PLAINTEXT listener with PLAIN.
func saslClientProps(prefix, user, password string) []string {
	return []string{
		prefix + "security.protocol=SASL_PLAINTEXT",
		prefix + "sasl.mechanism=PLAIN",
		prefix + `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="` + user + `" password="` + password + `";`,
	}
}

// TestWorkerAdminClientSettings: the worker's admin client is built from
// the admin.* keys, as Kafka Connect's is, not borrowed from the producer.
// Against a broker that requires SASL, a worker whose admin.* credentials
// are wrong or missing does not start, and says that the admin client
// could not connect; with them right, it starts and creates its source's
// topic.
func TestWorkerAdminClientSettings(t *testing.T) {
	addr := startBundledBrokerWith(t,
		"listeners=SASL_PLAINTEXT://127.0.0.1:0",
		"sasl.enabled.mechanisms=PLAIN",
		`listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_producer="p-secret" user_consumer="c-secret" user_admin="a-secret";`)
	clients := append(saslClientProps("producer.", "producer", "p-secret"), saslClientProps("consumer.", "consumer", "c-secret")...)

	for _, tc := range []struct {
		name  string
		admin []string
	}{
		{"wrong password", saslClientProps("admin.", "admin", "wrong")},
		{"no credentials", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			props := workerProps(addr, t.TempDir(), append(clients, tc.admin...)...)
			w := newWorker(t, props)
			// A bound, should the client keep trying after a refusal.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			err := w.Start(ctx)
			if cerr := w.Close(context.Background()); cerr != nil {
				t.Errorf("close after a failed start: %v", cerr)
			}
			if want := "admin client (" + props.Source() + ": admin.*): cannot reach the Kafka cluster at " + addr; err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("start: %v; want an error saying %q", err, want)
			}
		})
	}

	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	startWorker(t, workerProps(addr, dir, append(clients, saslClientProps("admin.", "admin", "a-secret")...)...),
		config.FromMap("source.properties", map[string]string{
			"name": "src", "connector.class": "FileStreamSource", "file": in, "topic": "made-by-admin",
			"topic.creation.default.partitions": "3", "topic.creation.default.replication.factor": "1",
		}))

	res, err := kafkaclient.Options(map[string]string{"bootstrap.servers": addr, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
		"sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="a-secret";`}, kafkaclient.Admin)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(res.Opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	waitFor(t, 30*time.Second, "the source's topic, with 3 partitions", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		td, err := adm.ListTopics(ctx, "made-by-admin")
		return err == nil && len(td["made-by-admin"].Partitions) == 3
	})

	// Kafka Connect's habit: the worker's own client takes the top-level
	// security keys; admin.* overrides them key by key.
	for _, tc := range []struct {
		name, topic string
		props       []string
	}{
		{"top-level keys", "made-by-top-level", saslClientProps("", "admin", "a-secret")},
		{"admin.* over top-level", "made-by-override", append(saslClientProps("", "admin", "wrong"),
			`admin.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="a-secret";`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in.txt")
			if err := os.WriteFile(in, []byte("one\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			startWorker(t, workerProps(addr, dir, append(clients, tc.props...)...),
				config.FromMap("source.properties", map[string]string{
					"name": "src", "connector.class": "FileStreamSource", "file": in, "topic": tc.topic}))
			waitFor(t, 30*time.Second, "the source's topic", func() bool {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				td, err := adm.ListTopics(ctx, tc.topic)
				return err == nil && len(td[tc.topic].Partitions) > 0
			})
		})
	}
}
