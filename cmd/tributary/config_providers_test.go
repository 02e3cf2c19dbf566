package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestConnectStandaloneConfigProviders: a worker file declares a file and a
// directory provider; its own bootstrap.servers and REST password and the
// connectors' topics come from them. The lines arrive, the REST API (which
// accepts the provided password) shows the placeholders, and the password
// appears nowhere in the output.
func TestConnectStandaloneConfigProviders(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := os.MkdirAll(filepath.Join(secrets, "rest"), 0o700); err != nil {
		t.Fatal(err)
	}
	const password = "hunter2-x9"
	if err := os.WriteFile(filepath.Join(secrets, "rest", "password"), []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	sp := writeProps(t, filepath.Join(secrets, "connect.properties"), "topic.external=provided-lines", "bootstrap="+addr)
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	want := []byte("one\ntwo\nthree\n")
	os.WriteFile(in, want, 0o644)
	topic := "${file:" + sp + ":topic.external}"
	wf := writeProps(t, filepath.Join(dir, "worker.properties"),
		"bootstrap.servers=${file:"+sp+":bootstrap}",
		"offset.storage.file.filename="+filepath.Join(dir, "connect.offsets"),
		"listeners=http://127.0.0.1:0",
		"config.providers=file,dir",
		"config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider",
		"config.providers.file.param.allowed.paths="+secrets,
		"config.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider",
		"config.providers.dir.param.allowed.paths="+secrets,
		"rest.basic.auth.user=admin",
		"rest.basic.auth.password=${dir:"+filepath.Join(secrets, "rest")+":password}")
	sf := writeProps(t, filepath.Join(dir, "source.properties"), "name=src", "connector.class=FileStreamSource", "file="+in, "topic="+topic)
	kf := writeProps(t, filepath.Join(dir, "sink.properties"), "name=sink", "connector.class=FileStreamSink", "file="+out, "topics="+topic)

	p := startCS(t, dir, wf, sf, kf)
	rest := loggedAddr(t, p, regexp.MustCompile(`msg="REST API listening" url=(\S+)`), "REST address")
	csWaitFile(t, p, out, want)

	req, err := http.NewRequest("GET", rest+"/connectors/src/config", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]string
	err = json.NewDecoder(resp.Body).Decode(&cfg)
	resp.Body.Close()
	if resp.StatusCode != 200 || err != nil {
		t.Fatalf("GET /connectors/src/config: %d %v", resp.StatusCode, err)
	}
	if cfg["topic"] != topic {
		t.Errorf("REST shows topic %q, want the placeholder %q", cfg["topic"], topic)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
	if strings.Contains(p.stderr.String(), password) {
		t.Errorf("the output shows the password:\n%s", p.stderr.String())
	}

	// A placeholder that cannot be resolved stops the worker before it
	// starts, naming the file, key and placeholder.
	bad := writeProps(t, filepath.Join(dir, "bad.properties"), "name=bad", "connector.class=FileStreamSource", "file="+in,
		"topic=${file:"+sp+":nokey}", "batch.size=${vault:db:size}")
	p = startCS(t, dir, wf, bad)
	if code := p.waitExit(t); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, p.stderr.String())
	}
	for _, w := range []string{
		"bad.properties: topic: ${file:" + sp + ":nokey}: " + sp + " has no key nokey",
		"bad.properties: batch.size: ${vault:db:size} names config provider vault, which the worker does not declare",
	} {
		if !strings.Contains(p.stderr.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, p.stderr.String())
		}
	}
}
