package connect_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connectors/filesink"
	"github.com/tributary-io/tributary/connectors/filesource"
)

// connInfo is Kafka's ConnectorInfo.
type connInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []struct {
		Connector string `json:"connector"`
		Task      int    `json:"task"`
	} `json:"tasks"`
	Type string `json:"type"`
}

type restErr struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// TestRESTCreateConnectors: with rest.connector.writes.enable, POST
// /connectors creates and starts connectors (201, ConnectorInfo), a taken
// name is 409, a bad configuration 400 naming each bad key; PUT
// /connectors/{name}/config creates (201) or restarts with the new
// configuration (200) without losing or repeating a line; DELETE stops and
// forgets (204, then 404).
func TestRESTCreateConnectors(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	want := appendLines(t, in, 0, 50)
	w := startWorker(t, workerProps(addr, dir, "rest.connector.writes.enable=true"))
	base := "http://" + w.RESTAddr()

	srcJSON := `{"connector.class":"FileStreamSource","file":"` + in + `","topic":"made","tasks.max":1}`
	resp, b := httpDoAuth(t, "POST", base+"/connectors", `{"name":"src","config":`+srcJSON+`}`, "", "")
	var info connInfo
	if err := json.Unmarshal(b, &info); err != nil || resp.StatusCode != 201 || resp.Header.Get("Location") != "/connectors/src" {
		t.Fatalf("POST /connectors: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), b)
	}
	if info.Name != "src" || info.Type != "source" || info.Config["name"] != "src" || info.Config["tasks.max"] != "1" || info.Config["file"] != in ||
		len(info.Tasks) != 1 || info.Tasks[0].Connector != "src" || info.Tasks[0].Task != 0 {
		t.Errorf("created: %s", b)
	}

	code, b := httpDo(t, "POST", base+"/connectors", `{"name":"src","config":`+srcJSON+`}`)
	var e restErr
	if json.Unmarshal(b, &e); code != 409 || e.ErrorCode != 409 || e.Message != "Connector src already exists" {
		t.Errorf("POST of a taken name: %d %s", code, b)
	}

	// Every bad key is named; nothing is created.
	code, b = httpDo(t, "POST", base+"/connectors", `{"name":"bad","config":{"connector.class":"FileStreamSource","file":"`+filepath.Join(dir, "bad.txt")+`","tasks.max":"zero","batch.size":0}}`)
	e = restErr{}
	if json.Unmarshal(b, &e); code != 400 || e.ErrorCode != 400 ||
		!strings.HasPrefix(e.Message, "Connector configuration is invalid and contains the following 3 error(s):\n") ||
		!strings.Contains(e.Message, "\ntasks.max: ") || !strings.Contains(e.Message, "\nbatch.size: ") || !strings.Contains(e.Message, "\ntopic: ") || strings.Contains(e.Message, "POST") {
		t.Errorf("POST of a bad configuration: %d %s", code, b)
	}
	for _, c := range []struct{ body, says string }{
		{`{"name":"x","config":{"name":"y","connector.class":"FileStreamSource"}}`, "doesn't match"},
		{`{"config":{"connector.class":"FileStreamSource"}}`, "name must be given"},
		{`{"name":"x"}`, "configuration must be given"},
		{`{"name":"x","config":{"file":["a"]}}`, "file: "},
		{`not json`, "not a JSON object"},
	} {
		code, b = httpDo(t, "POST", base+"/connectors", c.body)
		if e = (restErr{}); json.Unmarshal(b, &e) != nil || code != 400 || e.ErrorCode != 400 || !strings.Contains(e.Message, c.says) {
			t.Errorf("POST %s: %d %s", c.body, code, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.txt")); err == nil {
		t.Error("a refused sink created its file")
	}

	// A sink by PUT: created, and the lines flow.
	sinkJSON := `{"connector.class":"FileStreamSink","file":"` + out + `","topics":"made"}`
	code, b = httpDo(t, "PUT", base+"/connectors/sink/config", sinkJSON)
	if info = (connInfo{}); json.Unmarshal(b, &info) != nil || code != 201 || info.Name != "sink" || info.Type != "sink" || len(info.Tasks) != 1 {
		t.Fatalf("PUT config of a new connector: %d %s", code, b)
	}
	waitForFile(t, out, want)
	var names []string
	getJSON(t, base+"/connectors", &names)
	if strings.Join(names, ",") != "src,sink" && strings.Join(names, ",") != "sink,src" {
		t.Errorf("connectors: %v", names)
	}

	// Reconfigured: stopped (flushed and committed) and started again with
	// the new configuration; nothing lost, nothing repeated.
	code, b = httpDo(t, "PUT", base+"/connectors/sink/config", `{"connector.class":"FileStreamSink","file":"`+out+`","topics":"made","tasks.max":"3"}`)
	if info = (connInfo{}); json.Unmarshal(b, &info) != nil || code != 200 || info.Config["tasks.max"] != "3" || len(info.Tasks) != 1 {
		t.Fatalf("PUT config of a connector: %d %s", code, b)
	}
	var cfg map[string]string
	getJSON(t, base+"/connectors/sink/config", &cfg)
	if cfg["tasks.max"] != "3" || cfg["name"] != "sink" {
		t.Errorf("config after PUT: %v", cfg)
	}
	var st status
	getJSON(t, base+"/connectors/sink/status", &st)
	if st.Connector.State != "RUNNING" || len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
		t.Errorf("status after PUT: %+v", st)
	}
	want = append(want, appendLines(t, in, 50, 20)...)
	waitForFile(t, out, want)
	code, b = httpDo(t, "PUT", base+"/connectors/sink/config", `{"connector.class":"FileStreamSink","file":"`+out+`"}`)
	if e = (restErr{}); json.Unmarshal(b, &e) != nil || code != 400 || !strings.Contains(e.Message, "topics") {
		t.Errorf("PUT of a bad configuration: %d %s", code, b)
	}
	getJSON(t, base+"/connectors/sink/config", &cfg)
	if cfg["tasks.max"] != "3" {
		t.Errorf("a refused PUT changed the configuration: %v", cfg)
	}

	// Deleted: 204, then gone; its lines stop there.
	if code, b := httpDo(t, "DELETE", base+"/connectors/sink", ""); code != 204 {
		t.Fatalf("DELETE: %d %s", code, b)
	}
	for _, c := range []struct{ method, path string }{{"GET", "/connectors/sink"}, {"DELETE", "/connectors/sink"}, {"GET", "/connectors/sink/status"}} {
		code, b := httpDo(t, c.method, base+c.path, "")
		if e = (restErr{}); json.Unmarshal(b, &e) != nil || code != 404 || e.Message != "Connector sink not found" {
			t.Errorf("%s %s after DELETE: %d %s", c.method, c.path, code, b)
		}
	}
	getJSON(t, base+"/connectors", &names)
	if strings.Join(names, ",") != "src" {
		t.Errorf("connectors after DELETE: %v", names)
	}

	// Created again under the same name: it goes on from the group's
	// committed offsets.
	more := appendLines(t, in, 70, 10)
	if code, b := httpDo(t, "POST", base+"/connectors", `{"name":"sink","config":`+sinkJSON+`}`); code != 201 {
		t.Fatalf("POST after DELETE: %d %s", code, b)
	}
	waitForFile(t, out, append(want, more...))
}

// TestRESTStopConnector: PUT /connectors/{name}/stop (KIP-875) stops the
// connector and its tasks (204, STOPPED, no tasks); restart leaves it
// stopped; resume starts it again from its offsets; pause of a stopped
// connector starts it paused.
func TestRESTStopConnector(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	want := appendLines(t, in, 0, 30)
	w := startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "stop"), sinkProps(dir, out, "stop"))
	waitForFile(t, out, want)
	base := "http://" + w.RESTAddr()

	for _, name := range []string{"src", "sink"} {
		if code, b := httpDo(t, "PUT", base+"/connectors/"+name+"/stop", ""); code != 204 {
			t.Fatalf("stop %s: %d %s", name, code, b)
		}
		if code, b := httpDo(t, "PUT", base+"/connectors/"+name+"/stop", ""); code != 204 {
			t.Fatalf("stop %s again: %d %s", name, code, b)
		}
		var st status
		getJSON(t, base+"/connectors/"+name+"/status", &st)
		if st.Connector.State != "STOPPED" || len(st.Tasks) != 0 {
			t.Errorf("%s stopped: %+v", name, st)
		}
		var info connInfo
		getJSON(t, base+"/connectors/"+name, &info)
		if len(info.Tasks) != 0 || info.Config["name"] != name {
			t.Errorf("%s stopped: %+v", name, info)
		}
		var tasks []any
		getJSON(t, base+"/connectors/"+name+"/tasks", &tasks)
		if len(tasks) != 0 {
			t.Errorf("%s stopped has tasks: %v", name, tasks)
		}
		if code, b := httpDo(t, "POST", base+"/connectors/"+name+"/restart?includeTasks=true", ""); code != 202 || !strings.Contains(string(b), `"STOPPED"`) {
			t.Errorf("restart of stopped %s: %d %s", name, code, b)
		}
		if code, b := httpDo(t, "POST", base+"/connectors/"+name+"/tasks/0/restart", ""); code != 404 {
			t.Errorf("task restart of stopped %s: %d %s", name, code, b)
		}
	}
	// The stopped source keeps its offsets.
	var o struct {
		Offsets []struct {
			Offset map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	getJSON(t, base+"/connectors/src/offsets", &o)
	if len(o.Offsets) != 1 || o.Offsets[0].Offset["position"] != float64(len(want)) {
		t.Errorf("offsets of the stopped source: %+v", o)
	}
	want = append(want, appendLines(t, in, 30, 20)...)

	// Pause starts the sink paused; resume runs it.
	if code, b := httpDo(t, "PUT", base+"/connectors/sink/pause", ""); code != 202 {
		t.Fatalf("pause of stopped sink: %d %s", code, b)
	}
	var st status
	getJSON(t, base+"/connectors/sink/status", &st)
	if st.Connector.State != "PAUSED" || len(st.Tasks) != 1 || st.Tasks[0].State != "PAUSED" {
		t.Errorf("sink paused from STOPPED: %+v", st)
	}
	for _, name := range []string{"sink", "src"} {
		if code, b := httpDo(t, "PUT", base+"/connectors/"+name+"/resume", ""); code != 202 {
			t.Fatalf("resume %s: %d %s", name, code, b)
		}
		getJSON(t, base+"/connectors/"+name+"/status", &st)
		if st.Connector.State != "RUNNING" || len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
			t.Errorf("%s resumed: %+v", name, st)
		}
	}
	waitForFile(t, out, want) // from the offsets: nothing lost, nothing repeated

	if code, b := httpDo(t, "PUT", base+"/connectors/nope/stop", ""); code != 404 {
		t.Errorf("stop of an unknown connector: %d %s", code, b)
	}
}

// TestRESTValidate: PUT /connector-plugins/{plugin}/config/validate answers
// Kafka's ConfigInfos: every key the class declares, once, in its order,
// with Kafka's definition fields and types, the value given (or the
// default), and the errors of each key, counted in error_count.
func TestRESTValidate(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	w := startWorker(t, workerProps(addr, dir))
	base := "http://" + w.RESTAddr()

	type configInfo struct {
		Definition struct {
			Name          string  `json:"name"`
			Type          string  `json:"type"`
			Required      bool    `json:"required"`
			DefaultValue  *string `json:"default_value"`
			Importance    string  `json:"importance"`
			Documentation string  `json:"documentation"`
			Group         *string `json:"group"`
			OrderInGroup  int     `json:"order_in_group"`
			Width         string  `json:"width"`
			DisplayName   string  `json:"display_name"`
			Dependents    []any   `json:"dependents"`
		} `json:"definition"`
		Value struct {
			Name              string   `json:"name"`
			Value             *string  `json:"value"`
			RecommendedValues []string `json:"recommended_values"`
			Errors            []string `json:"errors"`
			Visible           bool     `json:"visible"`
		} `json:"value"`
	}
	var v struct {
		Name       string       `json:"name"`
		ErrorCount int          `json:"error_count"`
		Groups     []string     `json:"groups"`
		Configs    []configInfo `json:"configs"`
	}
	body := `{"connector.class":"FileStreamSink","name":"v","file":"` + filepath.Join(dir, "v.txt") + `","topics":"t",` +
		`"tasks.max":"0","key.converter":"org.apache.kafka.connect.json.JsonConverter","file.rotate.compress":"maybe"}`
	code, b := httpDo(t, "PUT", base+"/connector-plugins/FileStreamSinkConnector/config/validate", body)
	if code != 200 || json.Unmarshal(b, &v) != nil {
		t.Fatalf("validate: %d %s", code, b)
	}
	keys := filesink.Def().Keys()
	if v.Name != filesink.Class || strings.Join(v.Groups, ",") != "Common,Transforms,Predicates,Error Handling" || len(v.Configs) != len(keys) {
		t.Fatalf("validate: %s", b)
	}
	byName := map[string]configInfo{}
	errs := 0
	for i, c := range v.Configs {
		if c.Definition.Name != keys[i].Name {
			t.Errorf("config %d is %s, want %s", i, c.Definition.Name, keys[i].Name)
		}
		if c.Value.Name != c.Definition.Name || !c.Value.Visible || c.Value.Errors == nil || c.Value.RecommendedValues == nil ||
			c.Definition.Width != "NONE" || c.Definition.DisplayName != c.Definition.Name || c.Definition.Dependents == nil {
			t.Errorf("config %s: %+v", c.Definition.Name, c)
		}
		errs += len(c.Value.Errors)
		byName[c.Definition.Name] = c
	}
	if v.ErrorCount != 2 || errs != 2 {
		t.Errorf("error_count %d, errors listed %d; want 2: %s", v.ErrorCount, errs, b)
	}
	tm := byName["tasks.max"]
	if tm.Definition.Type != "INT" || tm.Definition.DefaultValue == nil || *tm.Definition.DefaultValue != "1" || tm.Value.Value == nil || *tm.Value.Value != "0" ||
		len(tm.Value.Errors) != 1 || !strings.HasPrefix(tm.Value.Errors[0], "tasks.max: ") || tm.Definition.Group == nil || *tm.Definition.Group != "Common" || tm.Definition.OrderInGroup < 1 {
		t.Errorf("tasks.max: %+v", tm)
	}
	// Kafka's importances: the connector's identity HIGH, error handling
	// MEDIUM, converters and transforms LOW.
	for name, want := range map[string]string{"name": "HIGH", "tasks.max": "HIGH", "topics": "HIGH", "file": "HIGH",
		"errors.tolerance": "MEDIUM", "errors.deadletterqueue.topic.name": "MEDIUM",
		"key.converter": "LOW", "transforms": "LOW", "predicates": "LOW", "tasks.max.enforce": "LOW", "config.action.reload": "LOW"} {
		if got := byName[name].Definition.Importance; got != want {
			t.Errorf("%s: importance %q, want %s", name, got, want)
		}
	}
	if c := byName["file.rotate.compress"]; len(c.Value.Errors) != 1 || c.Definition.Type != "BOOLEAN" || *c.Value.Value != "maybe" {
		t.Errorf("file.rotate.compress: %+v", c)
	}
	if c := byName["name"]; !c.Definition.Required || c.Definition.DefaultValue != nil || c.Definition.Type != "STRING" || *c.Value.Value != "v" || len(c.Value.Errors) != 0 {
		t.Errorf("name: %+v", c)
	}
	if c := byName["topics"]; c.Definition.Type != "LIST" || *c.Value.Value != "t" {
		t.Errorf("topics: %+v", c)
	}
	if c := byName["file"]; c.Definition.Group != nil || c.Definition.OrderInGroup != -1 || c.Definition.Documentation == "" {
		t.Errorf("file: %+v", c)
	}
	for _, k := range keys {
		c := byName[k.Name]
		if k.Type == config.Duration && c.Definition.Type != "LONG" {
			t.Errorf("%s: type %s, want LONG (ms)", k.Name, c.Definition.Type)
		}
		if _, given := map[string]bool{"connector.class": true, "name": true, "file": true, "topics": true, "tasks.max": true, "key.converter": true}[k.Name]; !given && !k.HasDefault && c.Value.Value != nil {
			t.Errorf("%s: value %q, want null", k.Name, *c.Value.Value)
		}
	}

	// Problems found after the keys' own checks count too, also on a key
	// the class does not declare.
	body = `{"name":"v","file":"f","topics":"t","topics.regex":"t.*",` +
		`"key.converter":"org.apache.kafka.connect.json.JsonConverter","key.converter.schemas.enable":"maybe"}`
	code, b = httpDo(t, "PUT", base+"/connector-plugins/FileStreamSink/config/validate", body)
	v.Configs = nil
	if code != 200 || json.Unmarshal(b, &v) != nil || v.ErrorCount != 2 || len(v.Configs) != len(keys)+1 {
		t.Fatalf("validate: %d %s", code, b)
	}
	last := v.Configs[len(keys)]
	if last.Definition.Name != "key.converter.schemas.enable" || last.Definition.Type != "STRING" || len(last.Value.Errors) != 1 || *last.Value.Value != "maybe" {
		t.Errorf("an undeclared key with a problem: %+v", last)
	}
	for _, c := range v.Configs {
		if c.Definition.Name == "topics.regex" && len(c.Value.Errors) != 1 {
			t.Errorf("topics.regex: %+v", c)
		}
	}

	// Each transformation and predicate alias is a group of its keys, as
	// Kafka's enriched definition: type, the class's keys, predicate and
	// negate; their problems count.
	body = `{"name":"v","file":"f","topics":"t","transforms":"r,x","transforms.r.type":"RegexRouter","transforms.r.regex":"(.*)",` +
		`"transforms.r.predicate":"p","transforms.x.type":"NoSuchTransform","predicates":"p","predicates.p.type":"TopicNameMatches","predicates.p.pattern":"t"}`
	code, b = httpDo(t, "PUT", base+"/connector-plugins/FileStreamSink/config/validate", body)
	v.Configs, v.Groups = nil, nil
	if code != 200 || json.Unmarshal(b, &v) != nil {
		t.Fatalf("validate: %d %s", code, b)
	}
	if got := strings.Join(v.Groups, ","); got != "Common,Transforms,Predicates,Error Handling,Transforms: r,Transforms: x,Predicates: p" {
		t.Errorf("groups %s", got)
	}
	var aliasKeys []string
	byName = map[string]configInfo{}
	for _, c := range v.Configs {
		byName[c.Definition.Name] = c
		if g := c.Definition.Group; g != nil && strings.Contains(*g, ": ") {
			aliasKeys = append(aliasKeys, *g+" "+c.Definition.Name)
		}
	}
	if got := strings.Join(aliasKeys, "|"); got != "Transforms: r transforms.r.type|Transforms: r transforms.r.regex|Transforms: r transforms.r.replacement|"+
		"Transforms: r transforms.r.predicate|Transforms: r transforms.r.negate|"+
		"Transforms: x transforms.x.type|Transforms: x transforms.x.predicate|Transforms: x transforms.x.negate|"+
		"Predicates: p predicates.p.type|Predicates: p predicates.p.pattern" {
		t.Errorf("alias keys %s", got)
	}
	if c := byName["transforms.r.replacement"]; len(c.Value.Errors) != 1 || !c.Definition.Required {
		t.Errorf("missing replacement: %+v", c)
	}
	if c := byName["transforms.x.type"]; len(c.Value.Errors) != 1 || !strings.Contains(c.Value.Errors[0], "could not be found") {
		t.Errorf("unknown class: %+v", c)
	}
	if c := byName["transforms.r.negate"]; c.Definition.DefaultValue == nil || *c.Definition.DefaultValue != "false" || c.Definition.Importance != "MEDIUM" {
		t.Errorf("negate: %+v", c)
	}
	if v.ErrorCount != 2 {
		t.Errorf("error_count %d, want 2: %s", v.ErrorCount, b)
	}

	// A valid configuration: no errors.
	code, b = httpDo(t, "PUT", base+"/connector-plugins/org.apache.kafka.connect.file.FileStreamSourceConnector/config/validate", `{"name":"s","file":"f","topic":"t","batch.size":100}`)
	if v = (struct {
		Name       string       `json:"name"`
		ErrorCount int          `json:"error_count"`
		Groups     []string     `json:"groups"`
		Configs    []configInfo `json:"configs"`
	}{}); code != 200 || json.Unmarshal(b, &v) != nil || v.ErrorCount != 0 || len(v.Configs) != len(filesource.Def().Keys()) {
		t.Errorf("valid source: %d %s", code, b)
	}
	for _, c := range []struct {
		path, body string
		code       int
		says       string
	}{
		{"/connector-plugins/FileStreamSource/config/validate", `{"connector.class":"FileStreamSink"}`, 400, "Included connector type FileStreamSink does not match request type FileStreamSource"},
		{"/connector-plugins/NoSuch/config/validate", `{}`, 404, "Unknown connector plugin NoSuch"},
		{"/connector-plugins/FileStreamSource/config/validate", `[1]`, 400, "not a JSON object"},
	} {
		code, b := httpDo(t, "PUT", base+c.path, c.body)
		var e restErr
		if json.Unmarshal(b, &e) != nil || code != c.code || e.ErrorCode != c.code || !strings.Contains(e.Message, c.says) {
			t.Errorf("PUT %s %s: %d %s", c.path, c.body, code, b)
		}
	}
}
