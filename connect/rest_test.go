package connect_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func httpDo(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
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
	if len(tasks) != 1 || tasks[0].ID.Connector != "src" || tasks[0].Config["topic"] != "rest" {
		t.Errorf("tasks: %+v", tasks)
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
