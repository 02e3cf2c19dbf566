package connect_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

func httpDo(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	resp, b := httpDoAuth(t, method, url, body, "", "")
	return resp.StatusCode, b
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	code, b := httpDo(t, "GET", url, "")
	if code != 200 {
		t.Fatalf("GET %s: %d %s", url, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, b)
	}
}

type status struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"connector"`
	Tasks []struct {
		ID       int    `json:"id"`
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	} `json:"tasks"`
	Progress struct {
		Records   int64  `json:"records"`
		ReadBytes *int64 `json:"read_bytes"`
		SizeBytes *int64 `json:"size_bytes"`
		Lag       *int64 `json:"lag"`
	} `json:"progress"`
}

func TestREST(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	want := appendLines(t, in, 0, 100)
	w := startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "rest"), sinkProps(dir, out, "rest"))
	waitForFile(t, out, want)
	base := "http://" + w.RESTAddr()

	var root map[string]string
	getJSON(t, base+"/", &root)
	if root["version"] == "" || root["kafka_cluster_id"] == "" {
		t.Errorf("GET /: %v", root)
	}

	var names []string
	getJSON(t, base+"/connectors", &names)
	if strings.Join(names, ",") != "sink,src" {
		t.Errorf("GET /connectors: %v", names)
	}

	var expanded map[string]struct {
		Status status `json:"status"`
		Info   struct {
			Name   string            `json:"name"`
			Config map[string]string `json:"config"`
			Type   string            `json:"type"`
		} `json:"info"`
	}
	getJSON(t, base+"/connectors?expand=status&expand=info", &expanded)
	if e := expanded["src"]; e.Status.Connector.State != "RUNNING" || e.Info.Type != "source" || e.Info.Config["topic"] != "rest" {
		t.Errorf("expand: %+v", e)
	}

	var info struct {
		Name  string `json:"name"`
		Tasks []struct {
			Connector string `json:"connector"`
			Task      int    `json:"task"`
		} `json:"tasks"`
		Type string `json:"type"`
	}
	getJSON(t, base+"/connectors/sink", &info)
	if info.Name != "sink" || info.Type != "sink" || len(info.Tasks) != 1 || info.Tasks[0].Connector != "sink" {
		t.Errorf("GET /connectors/sink: %+v", info)
	}

	var cfg map[string]string
	getJSON(t, base+"/connectors/src/config", &cfg)
	if cfg["file"] != in || cfg["connector.class"] != "FileStreamSource" {
		t.Errorf("config: %v", cfg)
	}

	var tasks []struct {
		ID struct {
			Connector string `json:"connector"`
			Task      int    `json:"task"`
		} `json:"id"`
		Config map[string]string `json:"config"`
	}
	getJSON(t, base+"/connectors/src/tasks", &tasks)
	if len(tasks) != 1 || tasks[0].ID.Connector != "src" || tasks[0].ID.Task != 0 || tasks[0].Config["topic"] != "rest" ||
		tasks[0].Config["task.class"] != "org.apache.kafka.connect.file.FileStreamSourceTask" {
		t.Errorf("tasks: %+v", tasks)
	}
	getJSON(t, base+"/connectors/sink/tasks", &tasks)
	if len(tasks) != 1 || tasks[0].ID.Connector != "sink" || tasks[0].Config["file"] != out ||
		tasks[0].Config["task.class"] != "org.apache.kafka.connect.file.FileStreamSinkTask" {
		t.Errorf("sink tasks: %+v", tasks)
	}

	var st status
	getJSON(t, base+"/connectors/src/status", &st)
	if st.Connector.State != "RUNNING" || st.Connector.WorkerID != w.RESTAddr() || len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" || st.Type != "source" {
		t.Errorf("status: %+v", st)
	}
	if st.Progress.Records != 100 || st.Progress.ReadBytes == nil || *st.Progress.ReadBytes != int64(len(want)) || *st.Progress.SizeBytes != int64(len(want)) {
		t.Errorf("source progress: %+v", st.Progress)
	}
	getJSON(t, base+"/connectors/sink/status", &st)
	if st.Progress.Records != 100 || st.Progress.Lag == nil || *st.Progress.Lag != 0 {
		t.Errorf("sink progress: %+v", st.Progress)
	}

	var plugins []struct{ Class, Type, Version string }
	getJSON(t, base+"/connector-plugins", &plugins)
	if len(plugins) != 2 || plugins[0].Class != "org.apache.kafka.connect.file.FileStreamSinkConnector" || plugins[0].Type != "sink" {
		t.Errorf("plugins: %+v", plugins)
	}

	// Offsets: the source's stored position, the sink's group offsets.
	waitFor(t, 10*time.Second, "source offsets", func() bool {
		var o struct {
			Offsets []struct {
				Partition map[string]any `json:"partition"`
				Offset    map[string]any `json:"offset"`
			} `json:"offsets"`
		}
		getJSON(t, base+"/connectors/src/offsets", &o)
		return len(o.Offsets) == 1 && o.Offsets[0].Partition["filename"] == in && o.Offsets[0].Offset["position"] == float64(len(want))
	})
	waitFor(t, 10*time.Second, "sink offsets", func() bool {
		var o struct {
			Offsets []struct {
				Partition map[string]any `json:"partition"`
				Offset    map[string]any `json:"offset"`
			} `json:"offsets"`
		}
		getJSON(t, base+"/connectors/sink/offsets", &o)
		var sum float64
		for _, e := range o.Offsets {
			if e.Partition["kafka_topic"] != "rest" {
				return false
			}
			sum += e.Offset["kafka_offset"].(float64)
		}
		return sum == 100
	})

	// Pause: appended lines wait; resume: they arrive.
	if code, b := httpDo(t, "PUT", base+"/connectors/src/pause", ""); code != 202 {
		t.Fatalf("pause: %d %s", code, b)
	}
	getJSON(t, base+"/connectors/src/status", &st)
	if st.Connector.State != "PAUSED" || st.Tasks[0].State != "PAUSED" {
		t.Errorf("paused status: %+v", st)
	}
	more := appendLines(t, in, 100, 10)
	// Nothing is read while paused (the task is not polled).
	time.Sleep(300 * time.Millisecond)
	if b, _ := os.ReadFile(out); len(b) != len(want) {
		t.Fatalf("lines moved while paused: %d bytes", len(b))
	}
	if code, _ := httpDo(t, "PUT", base+"/connectors/src/resume", ""); code != 202 {
		t.Fatalf("resume: %d", code)
	}
	want = append(want, more...)
	waitForFile(t, out, want)

	if code, b := httpDo(t, "POST", base+"/connectors/sink/restart", ""); code != 204 {
		t.Fatalf("restart: %d %s", code, b)
	}
	code, b := httpDo(t, "POST", base+"/connectors/sink/restart?includeTasks=true", "")
	if code != 202 || !strings.Contains(string(b), `"RUNNING"`) {
		t.Fatalf("restart with tasks: %d %s", code, b)
	}
	want = append(want, appendLines(t, in, 110, 10)...)
	waitForFile(t, out, want) // nothing repeated by the restarted task

	code, b = httpDo(t, "GET", base+"/connectors/nope/status", "")
	var e struct {
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}
	json.Unmarshal(b, &e)
	if code != 404 || e.ErrorCode != 404 || e.Message != "Connector nope not found" {
		t.Errorf("unknown connector: %d %s", code, b)
	}

	code, b = httpDo(t, "PUT", base+"/connector-plugins/FileStreamSource/config/validate", `{"name":"x","batch.size":"zero"}`)
	var v struct {
		Name       string `json:"name"`
		ErrorCount int    `json:"error_count"`
		Configs    []struct {
			Value struct {
				Name   string   `json:"name"`
				Errors []string `json:"errors"`
			} `json:"value"`
		} `json:"configs"`
	}
	if err := json.Unmarshal(b, &v); err != nil || code != 200 {
		t.Fatalf("validate: %d %s", code, b)
	}
	errs := map[string][]string{}
	for _, c := range v.Configs {
		if len(c.Value.Errors) > 0 {
			errs[c.Value.Name] = c.Value.Errors
		}
	}
	if v.Name != "org.apache.kafka.connect.file.FileStreamSourceConnector" || v.ErrorCount != 2 || len(errs["topic"]) != 1 || !strings.Contains(errs["batch.size"][0], "is not a number") {
		t.Errorf("validate: %s", b)
	}
}

func httpDoAuth(t *testing.T, method, url, body, user, pass string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestRESTBasicAuth: with users configured (one in the worker file, more in
// a credentials file), every path asks for them; 401 carries a challenge.
func TestRESTBasicAuth(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials.properties")
	os.WriteFile(creds, []byte("alice=wonder land\nbob=builder\n"), 0o600)
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	want := appendLines(t, in, 0, 10)
	w := startWorker(t, workerProps(addr, dir,
		"rest.basic.auth.user=admin", "rest.basic.auth.password=s3cret",
		"rest.basic.auth.credentials.file="+creds,
		"rest.extension.classes="+connect.BasicAuthExtensionClass),
		sourceProps(dir, in, "auth"), sinkProps(dir, out, "auth"))
	waitForFile(t, out, want)
	base := "http://" + w.RESTAddr()
	for _, path := range []string{"/", "/connectors", "/connectors/src/status", "/connectors/nope", "/connector-plugins", "/no/such/path"} {
		for _, c := range []struct{ user, pass string }{{"", ""}, {"admin", "wrong"}, {"eve", "s3cret"}, {"admin", ""}, {"alice", "s3cret"}} {
			resp, b := httpDoAuth(t, "GET", base+path, "", c.user, c.pass)
			if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic realm=") || !strings.Contains(string(b), `"error_code":401`) {
				t.Errorf("GET %s as %q/%q: %d %q %s", path, c.user, c.pass, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), b)
			}
		}
	}
	for _, c := range []struct{ user, pass string }{{"admin", "s3cret"}, {"alice", "wonder land"}, {"bob", "builder"}} {
		resp, b := httpDoAuth(t, "GET", base+"/connectors", "", c.user, c.pass)
		if resp.StatusCode != 200 || string(b) != "[\"sink\",\"src\"]\n" {
			t.Errorf("GET /connectors as %s: %d %s", c.user, resp.StatusCode, b)
		}
	}
	// Writes are refused before anything happens.
	resp, _ := httpDoAuth(t, "PUT", base+"/connectors/src/pause", "", "", "")
	if resp.StatusCode != 401 {
		t.Fatalf("unauthenticated pause: %d", resp.StatusCode)
	}
	var st status
	resp, b := httpDoAuth(t, "GET", base+"/connectors/src/status", "", "bob", "builder")
	json.Unmarshal(b, &st)
	if resp.StatusCode != 200 || st.Connector.State != "RUNNING" {
		t.Fatalf("status after refused pause: %d %s", resp.StatusCode, b)
	}
}

// TestRESTWritesDefault: unset, rest.connector.writes.enable serves
// connector writes as Kafka does on a loopback listener (the default) and
// behind basic authentication, and refuses them on a listener open beyond
// the machine without authentication.
func TestRESTWritesDefault(t *testing.T) {
	addr := startKfake(t)
	for _, c := range []struct {
		name  string
		extra []string
		user  string
		write bool
	}{
		{"loopback", nil, "", true},
		{"open", []string{"listeners=http://0.0.0.0:0"}, "", false},
		{"open with authentication", []string{"listeners=http://0.0.0.0:0", "rest.basic.auth.user=ops", "rest.basic.auth.password=s3cret"}, "ops", true},
		{"open, set on purpose", []string{"listeners=http://0.0.0.0:0", "rest.connector.writes.enable=true"}, "", true},
		{"loopback, set off", []string{"rest.connector.writes.enable=false"}, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			w := startWorker(t, workerProps(addr, dir, c.extra...))
			_, port, _ := net.SplitHostPort(w.RESTAddr())
			body := `{"name":"made","config":{"connector.class":"FileStreamSink","topics":"t","file":"` + filepath.Join(dir, "made.txt") + `"}}`
			req, err := http.NewRequest("POST", "http://127.0.0.1:"+port+"/connectors", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if c.user != "" {
				req.SetBasicAuth(c.user, "s3cret")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if c.write && resp.StatusCode != http.StatusCreated || !c.write && resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("POST /connectors: %d %s", resp.StatusCode, b)
			}
		})
	}
}

// TestRESTWritesNoFiles: with rest.connector.writes.enable=false, the API
// cannot create, reconfigure or delete a connector, so a caller cannot point
// a sink at a path of its choosing; validation parses without writing
// anything.
func TestRESTWritesNoFiles(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	want := appendLines(t, in, 0, 10)
	w := startWorker(t, workerProps(addr, dir, "rest.connector.writes.enable=false"), sourceProps(dir, in, "ro"), sinkProps(dir, out, "ro"))
	waitForFile(t, out, want)
	base := "http://" + w.RESTAddr()
	evil := filepath.Join(dir, "elsewhere", "evil.txt")
	os.Mkdir(filepath.Dir(evil), 0o755)
	sinkJSON := `{"connector.class":"FileStreamSink","topics":"ro","file":"` + evil + `"}`
	cases := []struct{ method, path, body string }{
		{"POST", "/connectors", `{"name":"evil","config":` + sinkJSON + `}`},
		{"PUT", "/connectors/evil/config", sinkJSON},
		{"PUT", "/connectors/sink/config", sinkJSON},
		{"PATCH", "/connectors/sink/config", `{"file":"` + evil + `"}`},
		{"DELETE", "/connectors/sink", ""},
	}
	for _, c := range cases {
		code, b := httpDo(t, c.method, base+c.path, c.body)
		if code != 405 || !strings.Contains(string(b), "only from the files on its command line") {
			t.Errorf("%s %s: %d %s", c.method, c.path, code, b)
		}
	}
	// Offsets move where a connector resumes, not what it writes: served,
	// and refused here because the connectors run (KIP-875).
	for _, method := range []string{"PATCH", "DELETE"} {
		code, b := httpDo(t, method, base+"/connectors/sink/offsets", `{"offsets":[{"partition":{"kafka_topic":"ro","kafka_partition":0},"offset":{"kafka_offset":0}}]}`)
		if code != 400 || !strings.Contains(string(b), "Connectors must be in the STOPPED state before their offsets can be modified") {
			t.Errorf("%s offsets of a running sink: %d %s", method, code, b)
		}
	}
	code, b := httpDo(t, "PUT", base+"/connector-plugins/FileStreamSink/config/validate", `{"name":"evil","topics":"ro","file":"`+evil+`"}`)
	if code != 200 || !strings.Contains(string(b), `"error_count":0`) {
		t.Errorf("validate: %d %s", code, b)
	}
	var cfg map[string]string
	getJSON(t, base+"/connectors/sink/config", &cfg)
	if cfg["file"] != out {
		t.Errorf("sink config changed: %v", cfg)
	}
	var names []string
	getJSON(t, base+"/connectors", &names)
	if strings.Join(names, ",") != "sink,src" {
		t.Errorf("connectors: %v", names)
	}
	want = append(want, appendLines(t, in, 10, 5)...)
	waitForFile(t, out, want)
	if _, err := os.Stat(evil); err == nil {
		t.Fatalf("%s was created", evil)
	}
	if ents, _ := os.ReadDir(filepath.Dir(evil)); len(ents) != 0 {
		t.Fatalf("files appeared in %s: %v", filepath.Dir(evil), ents)
	}
}

// TestRESTListenerLoopback: the REST API listens on 127.0.0.1 unless told
// otherwise, and localhost binds loopback only.
func TestRESTListenerLoopback(t *testing.T) {
	vals, err := connect.WorkerDef().Parse(config.FromMap("w.properties", map[string]string{"offset.storage.file.filename": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := connect.ParseWorkerConfig(vals)
	if err != nil || cfg.Listener != "127.0.0.1:8083" || cfg.RESTUsers != nil {
		t.Fatalf("default listener %q, users %v, %v", cfg.Listener, cfg.RESTUsers, err)
	}
	addr := startKfake(t)
	dir := t.TempDir()
	w := startWorker(t, workerProps(addr, dir, "listeners=http://localhost:0"))
	host, port, _ := net.SplitHostPort(w.RESTAddr())
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Fatalf("REST API bound to %s", w.RESTAddr())
	}
	// Not reachable on another address of this machine.
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.To4() == nil {
			continue
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), port), time.Second)
		if err == nil {
			c.Close()
			t.Errorf("REST API reachable on %s", ipn.IP)
		}
	}
}
