package connect

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-io/tributary/config"
)

// The REST API follows Kafka Connect's paths and JSON shapes:
//
//	GET  /                                   worker version
//	GET  /connectors[?expand=status|info]    connector names (or details)
//	GET  /connectors/{name}                  name, config, tasks, type
//	GET  /connectors/{name}/config           the connector's configuration
//	GET  /connectors/{name}/status           states, traces, progress
//	GET  /connectors/{name}/tasks            task ids and configurations
//	GET  /connectors/{name}/offsets          source offsets or sink group offsets
//	PUT  /connectors/{name}/pause            202
//	PUT  /connectors/{name}/resume           202
//	POST /connectors/{name}/restart          204, or 202 with status when includeTasks
//	POST /connectors/{name}/tasks/{id}/restart  204
//	GET  /connector-plugins                  connector classes
//	PUT  /connector-plugins/{class}/config/validate
//
// Connector configurations come only from the files given on the command
// line: the API does not create, change or delete connectors (POST
// /connectors, PUT and PATCH /connectors/{name}/config, DELETE
// /connectors/{name}, PATCH and DELETE /connectors/{name}/offsets answer
// 405), so no request can make the worker write to a path that its files
// do not name. Validation parses a configuration without starting
// anything.
//
// Pause, resume and the restarts of one connector run one at a time, in
// the order they take its lifecycle lock; reads never wait for them. Once
// the worker has begun to close they answer 409.
//
// When the worker file configures users (rest.basic.auth.*), every request
// must carry one of them with HTTP basic authentication; others get 401
// with a WWW-Authenticate challenge.
func (w *Worker) restHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", w.getRoot)
	mux.HandleFunc("GET /connectors", w.getConnectors)
	mux.HandleFunc("GET /connectors/{name}", w.withConnector(w.getConnector))
	mux.HandleFunc("GET /connectors/{name}/config", w.withConnector(w.getConfig))
	mux.HandleFunc("GET /connectors/{name}/status", w.withConnector(w.getStatus))
	mux.HandleFunc("GET /connectors/{name}/tasks", w.withConnector(w.getTasks))
	mux.HandleFunc("GET /connectors/{name}/tasks/{task}/status", w.withConnector(w.getTaskStatus))
	mux.HandleFunc("GET /connectors/{name}/offsets", w.withConnector(w.getOffsets))
	mux.HandleFunc("PUT /connectors/{name}/pause", w.withConnector(w.putPause))
	mux.HandleFunc("PUT /connectors/{name}/resume", w.withConnector(w.putResume))
	mux.HandleFunc("POST /connectors/{name}/restart", w.withConnector(w.postRestart))
	mux.HandleFunc("POST /connectors/{name}/tasks/{task}/restart", w.withConnector(w.postTaskRestart))
	mux.HandleFunc("GET /connector-plugins", w.getPlugins)
	mux.HandleFunc("PUT /connector-plugins/{class}/config/validate", w.putValidate)
	for _, pat := range []string{
		"POST /connectors", "PUT /connectors/{name}/config", "PATCH /connectors/{name}/config",
		"DELETE /connectors/{name}", "PUT /connectors/{name}/stop",
		"PATCH /connectors/{name}/offsets", "DELETE /connectors/{name}/offsets",
	} {
		mux.HandleFunc(pat, readOnly)
	}
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		writeError(rw, http.StatusNotFound, "HTTP 404 Not Found")
	})
	if len(w.cfg.RESTUsers) == 0 {
		if host, _, err := net.SplitHostPort(w.cfg.Listener); err == nil && !isLoopback(host) {
			w.log.Warn("the REST API listens beyond this machine without authentication; set rest.basic.auth.user and rest.basic.auth.password", "listener", w.cfg.Listener)
		}
		return mux
	}
	return basicAuth(w.cfg.RESTUsers, mux)
}

func readOnly(rw http.ResponseWriter, r *http.Request) {
	writeError(rw, http.StatusMethodNotAllowed, "this worker takes connector configurations and offsets only from the files on its command line; "+r.Method+" "+r.URL.Path+" is not served")
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// basicAuth lets through requests that carry one of users with HTTP basic
// authentication. Passwords are compared in constant time, and every user
// name costs the same comparison, so that timing tells nothing.
func basicAuth(users map[string]string, next http.Handler) http.Handler {
	hashes := make(map[string][32]byte, len(users))
	for u, p := range users {
		hashes[u] = sha256.Sum256([]byte(p))
	}
	var nobody [32]byte
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		want, known := hashes[user]
		if !known {
			want = nobody
		}
		got := sha256.Sum256([]byte(pass))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !known {
			rw.Header().Set("WWW-Authenticate", `Basic realm="Kafka Connect", charset="UTF-8"`)
			msg := "authentication required"
			if ok {
				msg = "wrong user name or password"
			}
			writeError(rw, http.StatusUnauthorized, msg)
			return
		}
		next.ServeHTTP(rw, r)
	})
}

type restError struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	enc := json.NewEncoder(rw)
	enc.Encode(v)
}

func writeError(rw http.ResponseWriter, status int, msg string) {
	writeJSON(rw, status, restError{ErrorCode: status, Message: msg})
}

func (w *Worker) withConnector(h func(http.ResponseWriter, *http.Request, *connectorRuntime)) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		c := w.connector(name)
		if c == nil {
			writeError(rw, http.StatusNotFound, "Connector "+name+" not found")
			return
		}
		h(rw, r, c)
	}
}

func (w *Worker) getRoot(rw http.ResponseWriter, r *http.Request) {
	cid := ""
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if md, err := w.admin.BrokerMetadata(ctx); err == nil {
		cid = md.Cluster
	}
	writeJSON(rw, http.StatusOK, map[string]string{
		"version":          w.version,
		"commit":           "",
		"kafka_cluster_id": cid,
	})
}

type connectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []taskID          `json:"tasks"`
	Type   string            `json:"type"`
}

type taskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

type stateInfo struct {
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

type taskState struct {
	ID       int           `json:"id"`
	State    string        `json:"state"`
	WorkerID string        `json:"worker_id"`
	Trace    string        `json:"trace,omitempty"`
	Progress *TaskProgress `json:"progress,omitempty"`
}

type connectorStatus struct {
	Name      string       `json:"name"`
	Connector stateInfo    `json:"connector"`
	Tasks     []taskState  `json:"tasks"`
	Type      string       `json:"type"`
	Progress  TaskProgress `json:"progress"`
}

func (c *connectorRuntime) info() connectorInfo {
	ts := c.taskList()
	ids := make([]taskID, len(ts))
	for i, t := range ts {
		ids[i] = taskID{Connector: c.spec.name, Task: t.id}
	}
	return connectorInfo{Name: c.spec.name, Config: c.spec.shownConfig(), Tasks: ids, Type: c.spec.plugin.Type.String()}
}

func (c *connectorRuntime) status() connectorStatus {
	c.mu.Lock()
	st := connectorStatus{
		Name:      c.spec.name,
		Connector: stateInfo{State: c.state, WorkerID: c.w.workerID, Trace: c.trace},
		Type:      c.spec.plugin.Type.String(),
	}
	tasks := append([]*taskRuntime(nil), c.tasks...)
	c.mu.Unlock()
	st.Tasks = []taskState{}
	for _, t := range tasks {
		ts := t.status()
		st.Tasks = append(st.Tasks, ts)
		p := ts.Progress
		st.Progress.Records += p.Records
		st.Progress.RecordsPerSec += p.RecordsPerSec
		st.Progress.Bytes += p.Bytes
		addPtr(&st.Progress.ReadBytes, p.ReadBytes)
		addPtr(&st.Progress.SizeBytes, p.SizeBytes)
		addPtr(&st.Progress.Acknowledged, p.Acknowledged)
		addPtr(&st.Progress.Lag, p.Lag)
	}
	return st
}

func addPtr(dst **int64, v *int64) {
	if v == nil {
		return
	}
	if *dst == nil {
		*dst = new(int64)
	}
	**dst += *v
}

func (t *taskRuntime) status() taskState {
	t.mu.Lock()
	state, trace := t.state, t.trace
	t.mu.Unlock()
	if state == StateRunning && t.gate.isPaused() {
		state = StatePaused
	}
	p := t.progress()
	return taskState{ID: t.id, State: state, WorkerID: t.c.w.workerID, Trace: trace, Progress: &p}
}

func (w *Worker) getConnectors(rw http.ResponseWriter, r *http.Request) {
	expand := r.URL.Query()["expand"]
	cs := w.connectorList()
	sort.Slice(cs, func(i, j int) bool { return cs[i].spec.name < cs[j].spec.name })
	if len(expand) == 0 {
		names := make([]string, 0, len(cs))
		for _, c := range cs {
			names = append(names, c.spec.name)
		}
		writeJSON(rw, http.StatusOK, names)
		return
	}
	out := map[string]map[string]any{}
	for _, c := range cs {
		m := map[string]any{}
		for _, e := range expand {
			switch e {
			case "status":
				m["status"] = c.status()
			case "info":
				m["info"] = c.info()
			}
		}
		out[c.spec.name] = m
	}
	writeJSON(rw, http.StatusOK, out)
}

func (w *Worker) getConnector(rw http.ResponseWriter, _ *http.Request, c *connectorRuntime) {
	writeJSON(rw, http.StatusOK, c.info())
}

func (w *Worker) getConfig(rw http.ResponseWriter, _ *http.Request, c *connectorRuntime) {
	writeJSON(rw, http.StatusOK, c.spec.shownConfig())
}

func (w *Worker) getStatus(rw http.ResponseWriter, _ *http.Request, c *connectorRuntime) {
	writeJSON(rw, http.StatusOK, c.status())
}

func (w *Worker) getTaskStatus(rw http.ResponseWriter, r *http.Request, c *connectorRuntime) {
	id, err := strconv.Atoi(r.PathValue("task"))
	for _, t := range c.taskList() {
		if err == nil && t.id == id {
			writeJSON(rw, http.StatusOK, t.status())
			return
		}
	}
	writeError(rw, http.StatusNotFound, fmt.Sprintf("Status for task %s-%s not found", c.spec.name, r.PathValue("task")))
}

func (w *Worker) getTasks(rw http.ResponseWriter, _ *http.Request, c *connectorRuntime) {
	type taskInfo struct {
		ID     taskID            `json:"id"`
		Config map[string]string `json:"config"`
	}
	out := []taskInfo{}
	for _, t := range c.taskList() {
		cfg := make(map[string]string, len(t.cfg)+1)
		for k, v := range t.cfg {
			cfg[k] = c.spec.shownValue(k, v)
		}
		if c.spec.plugin.TaskClass != "" {
			cfg["task.class"] = c.spec.plugin.TaskClass // as Kafka's worker adds it
		}
		out = append(out, taskInfo{ID: taskID{Connector: c.spec.name, Task: t.id}, Config: cfg})
	}
	writeJSON(rw, http.StatusOK, out)
}

func (w *Worker) getOffsets(rw http.ResponseWriter, r *http.Request, c *connectorRuntime) {
	type entry struct {
		Partition any `json:"partition"`
		Offset    any `json:"offset"`
	}
	out := struct {
		Offsets []entry `json:"offsets"`
	}{Offsets: []entry{}}
	if c.spec.plugin.Type == Source {
		for _, e := range w.offsets.Entries(c.spec.name) {
			out.Offsets = append(out.Offsets, entry{Partition: e.Partition, Offset: e.Offset})
		}
		writeJSON(rw, http.StatusOK, out)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	resp, err := w.admin.FetchOffsets(ctx, "connect-"+c.spec.name)
	if err != nil {
		writeError(rw, http.StatusInternalServerError, "fetching the offsets of group connect-"+c.spec.name+": "+err.Error())
		return
	}
	for _, o := range resp.Sorted() {
		if o.Err != nil || o.At < 0 {
			continue
		}
		out.Offsets = append(out.Offsets, entry{
			Partition: map[string]any{"kafka_topic": o.Topic, "kafka_partition": o.Partition},
			Offset:    map[string]any{"kafka_offset": o.At},
		})
	}
	writeJSON(rw, http.StatusOK, out)
}

// lifecycleContext bounds a pause, resume or restart. It does not end with
// the request: a client that hangs up does not leave a restart half done.
func (w *Worker) lifecycleContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), w.cfg.ShutdownTimeout+30*time.Second)
}

// writeLifecycleError answers a failed pause, resume or restart: 409 when
// the worker is closing, as Kafka Connect answers a request it cannot serve
// now, 500 otherwise.
func writeLifecycleError(rw http.ResponseWriter, what string, err error) {
	if errors.Is(err, ErrWorkerClosing) {
		writeError(rw, http.StatusConflict, "Cannot "+what+": the worker is shutting down")
		return
	}
	writeError(rw, http.StatusInternalServerError, err.Error())
}

func (w *Worker) putPause(rw http.ResponseWriter, _ *http.Request, c *connectorRuntime) {
	ctx, cancel := w.lifecycleContext()
	defer cancel()
	if err := c.pause(ctx); err != nil {
		writeLifecycleError(rw, "pause connector "+c.spec.name, err)
		return
	}
	rw.WriteHeader(http.StatusAccepted)
}

func (w *Worker) putResume(rw http.ResponseWriter, _ *http.Request, c *connectorRuntime) {
	ctx, cancel := w.lifecycleContext()
	defer cancel()
	if err := c.resume(ctx); err != nil {
		writeLifecycleError(rw, "resume connector "+c.spec.name, err)
		return
	}
	rw.WriteHeader(http.StatusAccepted)
}

func (w *Worker) postRestart(rw http.ResponseWriter, r *http.Request, c *connectorRuntime) {
	q := r.URL.Query()
	includeTasks := strings.EqualFold(q.Get("includeTasks"), "true")
	onlyFailed := strings.EqualFold(q.Get("onlyFailed"), "true")
	ctx, cancel := w.lifecycleContext()
	defer cancel()
	if err := c.restart(ctx, includeTasks, onlyFailed); err != nil {
		writeLifecycleError(rw, "restart connector "+c.spec.name, err)
		return
	}
	if !includeTasks && !onlyFailed {
		rw.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(rw, http.StatusAccepted, c.status())
}

func (w *Worker) postTaskRestart(rw http.ResponseWriter, r *http.Request, c *connectorRuntime) {
	id, err := strconv.Atoi(r.PathValue("task"))
	var t *taskRuntime
	if err == nil {
		t = c.task(id)
	}
	if t == nil {
		writeError(rw, http.StatusNotFound, fmt.Sprintf("Task %s-%s not found", c.spec.name, r.PathValue("task")))
		return
	}
	ctx, cancel := w.lifecycleContext()
	defer cancel()
	if err := c.restartTask(ctx, t); err != nil {
		writeLifecycleError(rw, fmt.Sprintf("restart task %s-%d", c.spec.name, t.id), err)
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (w *Worker) getPlugins(rw http.ResponseWriter, _ *http.Request) {
	type plugin struct {
		Class   string `json:"class"`
		Type    string `json:"type"`
		Version string `json:"version"`
	}
	out := []plugin{}
	for _, p := range w.reg.Plugins() {
		out = append(out, plugin{Class: p.Class, Type: p.Type.String(), Version: p.Version})
	}
	writeJSON(rw, http.StatusOK, out)
}

// putValidate checks a configuration against a class's keys, with Kafka's
// ConfigInfos shape.
func (w *Worker) putValidate(rw http.ResponseWriter, r *http.Request) {
	class := r.PathValue("class")
	p, ok := w.reg.Lookup(class)
	if !ok {
		writeError(rw, http.StatusNotFound, "Unknown connector plugin "+class)
		return
	}
	var m map[string]string
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		writeError(rw, http.StatusBadRequest, "the body is not a JSON object of strings: "+err.Error())
		return
	}
	if m == nil {
		m = map[string]string{}
	}
	if _, ok := m["connector.class"]; !ok {
		m["connector.class"] = class
	}
	props := config.FromMap("request", m)
	errsByKey := map[string][]string{}
	if _, err := w.validate(props); err != nil {
		for _, e := range flattenErrors(err) {
			if ce, ok := e.(*config.Error); ok {
				errsByKey[ce.Key] = append(errsByKey[ce.Key], strings.TrimPrefix(ce.Error(), "request: "))
			}
		}
	}
	type definition struct {
		Name          string `json:"name"`
		Type          string `json:"type"`
		Required      bool   `json:"required"`
		DefaultValue  any    `json:"default_value"`
		Importance    string `json:"importance"`
		Documentation string `json:"documentation"`
		Group         any    `json:"group"`
		OrderInGroup  int    `json:"order_in_group"`
		Width         string `json:"width"`
		DisplayName   string `json:"display_name"`
		Dependents    []any  `json:"dependents"`
	}
	type value struct {
		Name              string   `json:"name"`
		Value             any      `json:"value"`
		RecommendedValues []string `json:"recommended_values"`
		Errors            []string `json:"errors"`
		Visible           bool     `json:"visible"`
	}
	type configInfo struct {
		Definition definition `json:"definition"`
		Value      value      `json:"value"`
	}
	out := struct {
		Name       string       `json:"name"`
		ErrorCount int          `json:"error_count"`
		Groups     []string     `json:"groups"`
		Configs    []configInfo `json:"configs"`
	}{Name: p.Class, Groups: []string{"Common"}, Configs: []configInfo{}}
	for i, k := range p.Def.Keys() {
		var def any
		if k.HasDefault {
			def = k.Default
		}
		var v any
		if raw, ok := m[k.Name]; ok {
			v = raw
		} else if k.HasDefault {
			v = k.Default
		}
		errs := errsByKey[k.Name]
		if errs == nil {
			errs = []string{}
		}
		out.ErrorCount += len(errs)
		out.Configs = append(out.Configs, configInfo{
			Definition: definition{Name: k.Name, Type: strings.ToUpper(strings.Fields(k.Type.String())[0]), Required: k.Required,
				DefaultValue: def, Importance: "HIGH", Documentation: k.Doc, OrderInGroup: i + 1, Width: "NONE",
				DisplayName: k.Name, Dependents: []any{}},
			Value: value{Name: k.Name, Value: v, RecommendedValues: []string{}, Errors: errs, Visible: true},
		})
	}
	writeJSON(rw, http.StatusOK, out)
}

func flattenErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flattenErrors(e)...)
		}
		return out
	}
	return []error{err}
}
