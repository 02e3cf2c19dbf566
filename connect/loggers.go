package connect

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kafka Connect's logger endpoints (KIP-495, KIP-976). The worker's
// loggers have Kafka's names, so that a Kafka user's namespaces work:
//
//	org.apache.kafka.connect.runtime.Worker            the worker
//	org.apache.kafka.connect.runtime.WorkerConnector   each connector
//	org.apache.kafka.connect.runtime.WorkerSourceTask  each source task's runtime
//	org.apache.kafka.connect.runtime.WorkerSinkTask    each sink task's runtime
//	org.apache.kafka.connect.file.FileStreamSourceTask the task itself (its class)
//	org.apache.kafka.clients                           the worker's Kafka clients
//
// and "root" stands for the level of the process's handler, which every
// other line of the process (the bundled broker's too) follows.
//
//	GET /admin/loggers              the loggers with a level set, and root
//	GET /admin/loggers/{name}       {"level":"INFO","last_modified":null}
//	PUT /admin/loggers/{namespace}  {"level":"DEBUG"}: 200 [affected loggers] (204 with ?scope=cluster)
//
// As in Kafka, PUT sets the level of every logger whose name starts with
// the namespace, and of the namespace itself (a logger created later under
// it inherits it, by dotted name); PUT on root sets every logger. Kafka's
// levels map onto slog's: TRACE below DEBUG, FATAL above ERROR, OFF above
// all. last_modified is the time of the last change, in milliseconds since
// 1970, or null. Without WithLogLevel, GET answers and PUT answers 405, as
// the level is fixed.

// WithLogLevel lets the REST API read and change the level of the handler
// the worker's logger uses, and of the worker's named loggers; nil leaves
// it fixed.
func WithLogLevel(v *slog.LevelVar) Option {
	return func(w *Worker) {
		if v != nil {
			w.logLevel = &loggerLevel{v: v, named: map[string]*namedLevel{}}
		}
	}
}

// loggerLevel is the worker's logger levels: the root's (v) and the named
// loggers'. mu guards everything but v and each namedLevel's eff.
type loggerLevel struct {
	v        *slog.LevelVar
	mu       sync.Mutex
	modified time.Time
	named    map[string]*namedLevel
}

// namedLevel is one named logger's level: set explicitly, or inherited
// from the nearest set ancestor, or from root (eff inheritRoot).
type namedLevel struct {
	set      bool
	level    slog.Level
	modified time.Time
	eff      atomic.Int64
}

const inheritRoot = math.MinInt64

// Logger names of the worker's parts, as Kafka's classes.
const (
	workerLoggerName     = "org.apache.kafka.connect.runtime.Worker"
	connectorLoggerName  = "org.apache.kafka.connect.runtime.WorkerConnector"
	sourceTaskLoggerName = "org.apache.kafka.connect.runtime.WorkerSourceTask"
	sinkTaskLoggerName   = "org.apache.kafka.connect.runtime.WorkerSinkTask"
	clientsLoggerName    = "org.apache.kafka.clients"
)

// namedLogger returns base as the logger called name: its lines are
// written when they reach the named logger's level rather than the
// handler's. Without WithLogLevel it is base.
func (w *Worker) namedLogger(base *slog.Logger, name string) *slog.Logger {
	if w.logLevel == nil || name == "" {
		return base
	}
	l := w.logLevel
	l.mu.Lock()
	n, ok := l.named[name]
	if !ok {
		n = &namedLevel{}
		l.named[name] = n
		l.recompute()
	}
	l.mu.Unlock()
	h := base.Handler()
	if nh, ok := h.(*namedHandler); ok {
		h = nh.h // renamed, not filtered twice
	}
	return slog.New(&namedHandler{h: h, n: n, root: l.v})
}

// recompute sets every named logger's effective level: its own, else its
// nearest named ancestor's (by dotted name), else root's. l.mu is held.
func (l *loggerLevel) recompute() {
	for name, n := range l.named {
		eff := int64(inheritRoot)
		if n.set {
			eff = int64(n.level)
		} else {
			for anc := name; ; {
				i := strings.LastIndexByte(anc, '.')
				if i < 0 {
					break
				}
				anc = anc[:i]
				if a, ok := l.named[anc]; ok && a.set {
					eff = int64(a.level)
					break
				}
			}
		}
		n.eff.Store(eff)
	}
}

// namedHandler filters by its logger's level, then writes through h.
type namedHandler struct {
	h    slog.Handler
	n    *namedLevel
	root *slog.LevelVar
}

func (h *namedHandler) Enabled(_ context.Context, lv slog.Level) bool {
	eff := h.n.eff.Load()
	if eff == inheritRoot {
		return lv >= h.root.Level()
	}
	return int64(lv) >= eff
}

func (h *namedHandler) Handle(ctx context.Context, r slog.Record) error { return h.h.Handle(ctx, r) }

func (h *namedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &namedHandler{h: h.h.WithAttrs(as), n: h.n, root: h.root}
}

func (h *namedHandler) WithGroup(g string) slog.Handler {
	return &namedHandler{h: h.h.WithGroup(g), n: h.n, root: h.root}
}

const rootLogger = "root"

// kafkaLevels are Kafka's (log4j's) level names with their slog levels, in
// order.
var kafkaLevels = []struct {
	name  string
	level slog.Level
}{
	{"TRACE", slog.LevelDebug - 4},
	{"DEBUG", slog.LevelDebug},
	{"INFO", slog.LevelInfo},
	{"WARN", slog.LevelWarn},
	{"ERROR", slog.LevelError},
	{"FATAL", slog.LevelError + 4},
	{"OFF", slog.LevelError + 1000},
}

// kafkaLevelName is the Kafka level that l shows as: the highest one at or
// below it.
func kafkaLevelName(l slog.Level) string {
	name := kafkaLevels[0].name
	for _, k := range kafkaLevels {
		if l >= k.level {
			name = k.name
		}
	}
	return name
}

type loggerLevelInfo struct {
	Level        string `json:"level"`
	LastModified *int64 `json:"last_modified"`
}

func (w *Worker) rootLevel() loggerLevelInfo {
	if w.logLevel == nil {
		l := slog.LevelInfo
		for _, k := range kafkaLevels {
			if w.log.Enabled(context.Background(), k.level) {
				l = k.level
				break
			}
		}
		return loggerLevelInfo{Level: kafkaLevelName(l)}
	}
	info := loggerLevelInfo{Level: kafkaLevelName(w.logLevel.v.Level())}
	w.logLevel.mu.Lock()
	if !w.logLevel.modified.IsZero() {
		ms := w.logLevel.modified.UnixMilli()
		info.LastModified = &ms
	}
	w.logLevel.mu.Unlock()
	return info
}

func (w *Worker) getLoggers(rw http.ResponseWriter, _ *http.Request) {
	out := map[string]loggerLevelInfo{rootLogger: w.rootLevel()}
	if l := w.logLevel; l != nil {
		l.mu.Lock()
		for name, n := range l.named {
			if n.set {
				out[name] = levelInfo(n.level, n.modified)
			}
		}
		l.mu.Unlock()
	}
	writeJSON(rw, http.StatusOK, out)
}

func levelInfo(lv slog.Level, modified time.Time) loggerLevelInfo {
	info := loggerLevelInfo{Level: kafkaLevelName(lv)}
	if !modified.IsZero() {
		ms := modified.UnixMilli()
		info.LastModified = &ms
	}
	return info
}

func (w *Worker) getLogger(rw http.ResponseWriter, r *http.Request) {
	name := r.PathValue("logger")
	if strings.EqualFold(name, rootLogger) {
		writeJSON(rw, http.StatusOK, w.rootLevel())
		return
	}
	if l := w.logLevel; l != nil {
		l.mu.Lock()
		n, ok := l.named[name]
		var info loggerLevelInfo
		if ok {
			lv := slog.Level(n.eff.Load())
			if n.eff.Load() == inheritRoot {
				lv = l.v.Level()
			}
			info = levelInfo(lv, n.modified)
		}
		l.mu.Unlock()
		if ok {
			writeJSON(rw, http.StatusOK, info)
			return
		}
	}
	writeError(rw, http.StatusNotFound, "Logger "+name+" not found.")
}

func (w *Worker) putLogger(rw http.ResponseWriter, r *http.Request) {
	name := r.PathValue("logger")
	var body map[string]string
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxConfigBody)).Decode(&body); err != nil {
		writeError(rw, http.StatusBadRequest, "the body is not a JSON object with level: "+err.Error())
		return
	}
	levelName, ok := body["level"]
	if !ok {
		writeError(rw, http.StatusBadRequest, "Desired 'level' parameter was not specified in request.")
		return
	}
	i := -1
	for j, k := range kafkaLevels {
		if strings.EqualFold(k.name, levelName) {
			i = j
		}
	}
	if i < 0 {
		writeError(rw, http.StatusNotFound, "invalid log level '"+levelName+"'.")
		return
	}
	l := w.logLevel
	if l == nil {
		writeError(rw, http.StatusMethodNotAllowed, "this worker's log level is fixed")
		return
	}
	level, now := kafkaLevels[i].level, time.Now()
	root := strings.EqualFold(name, rootLogger)
	var affected []string
	l.mu.Lock()
	if root {
		l.v.Set(level)
		l.modified = now
		affected = append(affected, rootLogger)
	} else if _, ok := l.named[name]; !ok {
		l.named[name] = &namedLevel{}
	}
	for n, nl := range l.named {
		if root || strings.HasPrefix(n, name) {
			nl.set, nl.level, nl.modified = true, level, now
			affected = append(affected, n)
		}
	}
	l.recompute()
	l.mu.Unlock()
	slices.Sort(affected)
	w.log.Info("log level changed over REST", "namespace", name, "level", kafkaLevels[i].name, "loggers", len(affected))
	if strings.EqualFold(r.URL.Query().Get("scope"), "cluster") {
		rw.WriteHeader(http.StatusNoContent) // standalone: this worker is the cluster
		return
	}
	writeJSON(rw, http.StatusOK, affected)
}
