package connect_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/config"
)

// TestConfigProvidersFile is Apache Kafka's connect system test of
// FileConfigProvider: the worker declares config.providers=file and a
// source's topic is ${file:<path>:topic.external}. The records reach the
// topic the file names, on a real Kafka implementation (kfake), and the
// REST API shows the placeholder, never the value.
func TestConfigProvidersFile(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := os.Mkdir(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	const topic = "provided-topic-7f3a"
	secretsFile := filepath.Join(secrets, "connect.properties")
	if err := os.WriteFile(secretsFile, []byte("topic.external="+topic+"\nbootstrap="+addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The worker file resolves its own placeholders too (bootstrap.servers),
	// as connect-standalone does.
	wp := workerProps("${file:"+secretsFile+":bootstrap}", dir,
		"config.providers=file",
		"config.providers.file.class="+config.FileConfigProviderClass,
		"config.providers.file.param.allowed.paths="+secrets)
	providers, err := config.NewProviders(wp)
	if err != nil {
		t.Fatal(err)
	}
	if wp, err = providers.Resolve(wp); err != nil {
		t.Fatal(err)
	}

	in := filepath.Join(dir, "in.log")
	appendLines(t, in, 0, 20)
	placeholder := "${file:" + secretsFile + ":topic.external}"
	w := startWorker(t, wp, sourceProps(dir, in, placeholder))
	recs := consumeAll(t, addr, topic, 20)
	if got := string(recs[0].Value); !strings.HasPrefix(got, "line 000000") {
		t.Errorf("first record %q", got)
	}

	base := "http://" + w.RESTAddr()
	var info struct {
		Config map[string]string `json:"config"`
	}
	getJSON(t, base+"/connectors/src", &info)
	if got := info.Config["topic"]; got != placeholder {
		t.Errorf("GET /connectors/src: topic = %q, want %q", got, placeholder)
	}
	var cfg map[string]string
	getJSON(t, base+"/connectors/src/config", &cfg)
	if got := cfg["topic"]; got != placeholder {
		t.Errorf("GET /connectors/src/config: topic = %q, want %q", got, placeholder)
	}
	for _, path := range []string{"/connectors/src", "/connectors/src/config", "/connectors/src/tasks", "/connectors?expand=info"} {
		code, b := httpDo(t, "GET", base+path, "")
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, b)
		}
		if strings.Contains(string(b), topic) {
			t.Errorf("GET %s shows the provided value:\n%s", path, b)
		}
	}
}

// TestConfigProvidersErrors: a connector whose placeholder cannot be
// resolved does not start, and the error names the file, key and
// placeholder.
func TestConfigProvidersErrors(t *testing.T) {
	dir := t.TempDir()
	secretsFile := filepath.Join(dir, "s.properties")
	if err := os.WriteFile(secretsFile, []byte("a=b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wp := workerProps("127.0.0.1:1", dir,
		"config.providers=file",
		"config.providers.file.class="+config.FileConfigProviderClass)
	w := newWorker(t, wp)
	for _, tt := range []struct{ topic, want string }{
		{"${file:" + secretsFile + ":topic.external}",
			"source.properties: topic: ${file:" + secretsFile + ":topic.external}: " + secretsFile + " has no key topic.external"},
		{"${vault:x:y}",
			"source.properties: topic: ${vault:x:y} names config provider vault, which the worker does not declare"},
	} {
		err := w.StartConnector(context.Background(), sourceProps(dir, filepath.Join(dir, "in.log"), tt.topic))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("topic=%s: got %v, want %q", tt.topic, err, tt.want)
		}
	}
}
