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
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/transforms"
)

// The REST API follows Kafka Connect's paths and JSON shapes:
//
//	GET  /                                   worker version
//	GET  /connectors[?expand=status|info]    connector names (or details)
//	GET  /connectors/{name}                  name, config, tasks, type
//	GET  /connectors/{name}/config           the connector's configuration
//	GET  /connectors/{name}/status           states, traces, progress
//	GET  /connectors/{name}/tasks            task ids and configurations (with task.class)
//	GET  /connectors/{name}/offsets          source offsets ({"position":N}; see restoffsets.go) or sink group offsets
//	PATCH  /connectors/{name}/offsets        STOPPED only (else 400): alter, {"offsets":[{"partition","offset"}]} (KIP-875)
//	DELETE /connectors/{name}/offsets        STOPPED only (else 400): reset (KIP-875)
//	PUT  /connectors/{name}/pause            202
//	PUT  /connectors/{name}/resume           202; starts a STOPPED connector again
//	PUT  /connectors/{name}/stop             204: connector and tasks stopped, STOPPED, no tasks (KIP-875)
//	POST /connectors/{name}/restart          204, or 202 with status when includeTasks
//	POST /connectors/{name}/tasks/{id}/restart  204
//	GET  /connector-plugins                  connector classes
//	PUT  /connector-plugins/{class}/config/validate
//	GET  /admin/loggers[/root]               the worker's log level, as Kafka's logger levels (loggers.go)
//	PUT  /admin/loggers/root                 {"level":"DEBUG"}: 200 ["root"], or 204 with ?scope=cluster
//
// With rest.connector.writes.enable=true, as in Kafka Connect:
//
//	POST   /connectors                       {"name","config"}: 201 with name, config, tasks, type; 409 if the name is taken
//	PUT    /connectors/{name}/config         201 created, or 200 reconfigured (stopped, started with the new config)
//	DELETE /connectors/{name}                204: stopped for good and forgotten (source offsets kept)
//
// A bad configuration answers 400 with every problem, each naming its key,
// and changes nothing. As in Kafka's standalone mode, such changes live in
// memory: the next start runs the files on the command line again.
//
// Otherwise connector configurations come only from the files given on
// the command line: those three answer 405, so no request can make the
// worker write to a path that its files do not name. PATCH
// /connectors/{name}/config always answers 405. Altering and resetting
// offsets move where a connector resumes, not what it reads or writes:
// they are served either way. Validation parses a configuration without starting
// anything.
//
// Pause, resume, stop, the restarts, reconfiguration and deletion of one
// connector run one at a time, in the order they take its lifecycle lock;
// creations, reconfigurations and deletions also one at a time
// (Worker.confMu); reads never wait for them. Once the worker has begun to
// close they answer 409.
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
	mux.HandleFunc("PUT /connectors/{name}/pause", w.withConnector(w.connectorOp("pause", (*connectorRuntime).pause, http.StatusAccepted)))
	mux.HandleFunc("PUT /connectors/{name}/resume", w.withConnector(w.connectorOp("resume", (*connectorRuntime).resume, http.StatusAccepted)))
	// stop keeps the configuration and stops connector and tasks: STOPPED
	// with no tasks until resumed (KIP-875).
	mux.HandleFunc("PUT /connectors/{name}/stop", w.withConnector(w.connectorOp("stop", (*connectorRuntime).halt, http.StatusNoContent)))
	mux.HandleFunc("POST /connectors/{name}/restart", w.withConnector(w.postRestart))
	mux.HandleFunc("POST /connectors/{name}/tasks/{task}/restart", w.withConnector(w.postTaskRestart))
	mux.HandleFunc("GET /connector-plugins", w.getPlugins)
	mux.HandleFunc("GET /admin/loggers", w.getLoggers)
	mux.HandleFunc("GET /admin/loggers/{logger}", w.getLogger)
	mux.HandleFunc("PUT /admin/loggers/{logger}", w.putLogger)
	mux.HandleFunc("PUT /connector-plugins/{class}/config/validate", w.putValidate)
	// alter and reset offsets (KIP-875), on a STOPPED connector; see
	// restoffsets.go for why they need no rest.connector.writes.enable.
	mux.HandleFunc("PATCH /connectors/{name}/offsets", w.withConnector(w.modifyOffsets))
	mux.HandleFunc("DELETE /connectors/{name}/offsets", w.withConnector(w.modifyOffsets))
	refused := []string{"PATCH /connectors/{name}/config"}
	if w.cfg.RESTWrites {
		mux.HandleFunc("POST /connectors", w.postConnectors)
		mux.HandleFunc("PUT /connectors/{name}/config", w.putConnectorConfig)
		mux.HandleFunc("DELETE /connectors/{name}", w.withConnector(w.deleteConnectorREST))
	} else {
		refused = append(refused, "POST /connectors", "PUT /connectors/{name}/config", "DELETE /connectors/{name}")
	}
	// The metrics (metrics.go), in Prometheus's text format.
	mux.Handle("GET /metrics", w.metrics.handler())
	for _, pat := range refused {
		mux.HandleFunc(pat, readOnly)
	}
	for _, r := range w.handlers {
		mux.Handle(r.pattern, r.handler)
	}
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		writeError(rw, http.StatusNotFound, "HTTP 404 Not Found")
	})
	if len(w.cfg.RESTUsers) == 0 {
		if host, _, err := net.SplitHostPort(w.cfg.Listener); err == nil && !isLoopback(host) {
			msg := "the REST API listens beyond this machine without authentication; set rest.basic.auth.user and rest.basic.auth.password"
			if w.cfg.RESTWrites {
				msg += "; with rest.connector.writes.enable anyone who reaches it can create connectors that read and write files of this machine"
			}
			w.log.Warn(msg, "listener", w.cfg.Listener)
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
			out.Offsets = append(out.Offsets, entry{Partition: e.Partition, Offset: shownSourceOffset(e.Offset)})
		}
		writeJSON(rw, http.StatusOK, out)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	resp, err := w.admin.FetchOffsets(ctx, "connect-"+c.spec.name)
	if errors.Is(err, kerr.GroupIDNotFound) { // none committed (or reset): none to show
		writeJSON(rw, http.StatusOK, out)
		return
	}
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

// writeLifecycleError answers a failed pause, resume, stop or restart: 409
// when the worker is closing or the connector was deleted or reconfigured
// meanwhile, as Kafka Connect answers a request it cannot serve now, 500
// otherwise.
func writeLifecycleError(rw http.ResponseWriter, what string, err error) {
	if errors.Is(err, ErrWorkerClosing) {
		writeError(rw, http.StatusConflict, "Cannot "+what+": the worker is shutting down")
		return
	}
	if errors.Is(err, errConnectorGone) {
		writeError(rw, http.StatusConflict, "Cannot "+what+": it was deleted or reconfigured meanwhile; try again")
		return
	}
	writeError(rw, http.StatusInternalServerError, err.Error())
}

// connectorOp serves PUT /connectors/{name}/{verb}: it runs op on the
// connector and answers status (pause and resume 202; stop 204, as Kafka
// answers KIP-875's stop).
func (w *Worker) connectorOp(verb string, op func(*connectorRuntime, context.Context) error, status int) func(http.ResponseWriter, *http.Request, *connectorRuntime) {
	return func(rw http.ResponseWriter, _ *http.Request, c *connectorRuntime) {
		ctx, cancel := w.lifecycleContext()
		defer cancel()
		if err := op(c, ctx); err != nil {
			writeLifecycleError(rw, verb+" connector "+c.spec.name, err)
			return
		}
		rw.WriteHeader(status)
	}
}

// maxConfigBody bounds the body of a request that carries a configuration.
const maxConfigBody = 1 << 20

// postConnectors creates a connector from {"name":..., "config":{...}}:
// 201 with its info, 409 when the name is taken, 400 naming each bad key.
func (w *Worker) postConnectors(rw http.ResponseWriter, r *http.Request) {
	var req struct {
		Name   string                     `json:"name"`
		Config map[string]json.RawMessage `json:"config"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxConfigBody)).Decode(&req); err != nil {
		writeError(rw, http.StatusBadRequest, "the body is not a JSON object with name and config: "+err.Error())
		return
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		writeError(rw, http.StatusBadRequest, "Connector name must be given (the name field of the body)")
		return
	}
	if req.Config == nil {
		writeError(rw, http.StatusBadRequest, "Connector configuration must be given (the config field of the body)")
		return
	}
	cfg, err := configStrings(req.Config)
	if err != nil {
		writeError(rw, http.StatusBadRequest, err.Error())
		return
	}
	w.writeConnector(rw, r, name, cfg, false)
}

// putConnectorConfig creates the connector name (201) or reconfigures it
// (200): it is stopped and started with the new configuration.
func (w *Worker) putConnectorConfig(rw http.ResponseWriter, r *http.Request) {
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxConfigBody)).Decode(&raw); err != nil || raw == nil {
		msg := "the body is not a JSON object of configuration keys"
		if err != nil {
			msg += ": " + err.Error()
		}
		writeError(rw, http.StatusBadRequest, msg)
		return
	}
	cfg, err := configStrings(raw)
	if err != nil {
		writeError(rw, http.StatusBadRequest, err.Error())
		return
	}
	w.writeConnector(rw, r, r.PathValue("name"), cfg, true)
}

// configStrings takes a configuration's values as Kafka does: strings, and
// numbers and booleans as written.
func configStrings(raw map[string]json.RawMessage) (map[string]string, error) {
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = s
			continue
		}
		var scalar any
		if err := json.Unmarshal(v, &scalar); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		switch scalar.(type) {
		case float64, bool:
			out[k] = string(v)
		default:
			return nil, fmt.Errorf("%s: %s is not a string, number or boolean", k, v)
		}
	}
	return out, nil
}

// writeConnector creates or (when replace) reconfigures the connector name
// with cfg and answers with its info, as Kafka's ConnectorInfo.
func (w *Worker) writeConnector(rw http.ResponseWriter, r *http.Request, name string, cfg map[string]string, replace bool) {
	if n, ok := cfg["name"]; ok && n != name {
		writeError(rw, http.StatusBadRequest, fmt.Sprintf("Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, name))
		return
	}
	cfg["name"] = name
	source := r.Method + " " + r.URL.Path
	ctx, cancel := w.lifecycleContext()
	defer cancel()
	c, created, err := w.putConnector(ctx, config.FromMap(source, cfg), replace)
	var invalid *invalidConfigError
	var failed *TasksFailedError
	switch {
	case errors.Is(err, errConnectorExists):
		writeError(rw, http.StatusConflict, "Connector "+name+" already exists")
		return
	case errors.As(err, &invalid):
		byKey, other := keyErrors(invalid.err, source)
		msgs := other
		for _, k := range sortedErrKeys(byKey) {
			msgs = append(msgs, byKey[k]...)
		}
		writeError(rw, http.StatusBadRequest, fmt.Sprintf("Connector configuration is invalid and contains the following %d error(s):\n%s\n"+
			"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`", len(msgs), strings.Join(msgs, "\n")))
		return
	case err != nil && !errors.As(err, &failed):
		writeLifecycleError(rw, "configure connector "+name, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		rw.Header().Set("Location", "/connectors/"+url.PathEscape(name))
	}
	writeJSON(rw, status, c.info())
}

// deleteConnectorREST stops the connector for good and forgets it: 204.
func (w *Worker) deleteConnectorREST(rw http.ResponseWriter, _ *http.Request, c *connectorRuntime) {
	ctx, cancel := w.lifecycleContext()
	defer cancel()
	switch err := w.deleteConnector(ctx, c.spec.name); {
	case errors.Is(err, errNoConnector):
		writeError(rw, http.StatusNotFound, "Connector "+c.spec.name+" not found")
	case err != nil:
		writeLifecycleError(rw, "delete connector "+c.spec.name, err)
	default:
		rw.WriteHeader(http.StatusNoContent)
	}
}

// keyErrors sorts the problems of a configuration by key; each message
// names its key, without source. Problems of no key are in other.
func keyErrors(err error, source string) (byKey map[string][]string, other []string) {
	byKey = map[string][]string{}
	for _, e := range flattenErrors(err) {
		msg := strings.TrimPrefix(e.Error(), source+": ")
		if ce, ok := e.(*config.Error); ok {
			byKey[ce.Key] = append(byKey[ce.Key], msg)
		} else {
			other = append(other, msg)
		}
	}
	return byKey, other
}

func sortedErrKeys(m map[string][]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
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
	if err := c.restartTask(ctx, t.id); errors.Is(err, errNoTask) {
		writeError(rw, http.StatusNotFound, fmt.Sprintf("Task %s-%d not found", c.spec.name, t.id))
		return
	} else if err != nil {
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
// ConfigInfos shape: every key the class declares (its config.Def), with
// its definition and the value given, and the problems found on each key
// (a key it does not declare is listed too when it has one, such as
// key.converter.schemas.enable). error_count counts them all.
func (w *Worker) putValidate(rw http.ResponseWriter, r *http.Request) {
	class := r.PathValue("class")
	p, ok := w.reg.Lookup(class)
	if !ok {
		writeError(rw, http.StatusNotFound, "Unknown connector plugin "+class)
		return
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxConfigBody)).Decode(&raw); err != nil {
		writeError(rw, http.StatusBadRequest, "the body is not a JSON object of configuration keys: "+err.Error())
		return
	}
	m, err := configStrings(raw)
	if err != nil {
		writeError(rw, http.StatusBadRequest, err.Error())
		return
	}
	if cls, ok := m["connector.class"]; !ok {
		m["connector.class"] = class
	} else if q, _ := w.reg.Lookup(cls); q != p {
		writeError(rw, http.StatusBadRequest, "Included connector type "+cls+" does not match request type "+class)
		return
	}
	const source = "request"
	errsByKey := map[string][]string{}
	if _, err := w.validate(config.FromMap(source, m)); err != nil {
		errsByKey, _ = keyErrors(err, source) // every problem of validate names its key
	}
	type definition struct {
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
	}
	type value struct {
		Name              string   `json:"name"`
		Value             *string  `json:"value"`
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
	}{Name: p.Class, Configs: []configInfo{}}
	add := func(k config.Key, group *string, order int) {
		var def, v *string
		if k.HasDefault {
			def = &k.Default
		}
		if given, ok := m[k.Name]; ok {
			v = &given
		} else {
			v = def
		}
		if k.Type == config.Password && v != nil {
			hidden := "[hidden]"
			v = &hidden
		}
		errs := errsByKey[k.Name]
		delete(errsByKey, k.Name)
		if errs == nil {
			errs = []string{}
		}
		out.ErrorCount += len(errs)
		out.Configs = append(out.Configs, configInfo{
			Definition: definition{Name: k.Name, Type: kafkaType(k.Type), Required: k.Required, DefaultValue: def,
				Importance: k.Importance.String(), Documentation: k.Doc, Group: group, OrderInGroup: order, Width: "NONE",
				DisplayName: k.Name, Dependents: []any{}},
			Value: value{Name: k.Name, Value: v, RecommendedValues: []string{}, Errors: errs, Visible: true},
		})
	}
	common := commonKeyNames(p.Type)
	orders := map[string]int{}
	inGroup := func(k config.Key, group string) {
		if orders[group] == 0 {
			out.Groups = append(out.Groups, group)
		}
		orders[group]++
		add(k, &group, orders[group])
	}
	for _, k := range p.Def.Keys() {
		if common[k.Name] {
			inGroup(k, frameworkGroup(k.Name))
		} else {
			add(k, nil, -1) // a connector's own keys have no group, as in Kafka
		}
	}
	for _, g := range transforms.Groups(config.FromMap(source, m)) {
		for _, k := range g.Keys {
			inGroup(k, g.Name)
		}
	}
	for _, k := range sortedErrKeys(errsByKey) {
		add(config.Key{Name: k, Type: config.String}, nil, -1)
	}
	writeJSON(rw, http.StatusOK, out)
}

// commonGroup is the group of the keys every connector has, as Kafka names
// it.
const commonGroup = "Common"

// frameworkGroup is the group Kafka's validate call gives a key that every
// connector has.
func frameworkGroup(name string) string {
	switch {
	case name == transforms.TransformsKey:
		return "Transforms"
	case name == transforms.PredicatesKey:
		return "Predicates"
	case strings.HasPrefix(name, "errors."):
		return "Error Handling"
	case strings.HasPrefix(name, "topic.creation."):
		return "Topic Creation"
	case name == "exactly.once.support" || strings.HasPrefix(name, "transaction.boundary"):
		return "Exactly Once Support"
	case name == "offsets.storage.topic":
		return "offsets.topic"
	}
	return commonGroup
}

// commonKeyNames are the keys that every connector of type t declares.
func commonKeyNames(t PluginType) map[string]bool {
	def := SourceDef("common")
	if t == Sink {
		def = SinkDef("common")
	}
	out := map[string]bool{}
	for _, k := range def.Keys() {
		out[k.Name] = true
	}
	return out
}

// kafkaType is the ConfigDef type that Kafka gives a key of type t.
func kafkaType(t config.Type) string {
	switch t {
	case config.Duration:
		return "LONG" // Kafka's durations are longs of milliseconds
	case config.Bool:
		return "BOOLEAN"
	}
	return strings.ToUpper(t.String())
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
