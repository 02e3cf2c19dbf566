package connect

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Kafka Connect's logger endpoints (KIP-495, KIP-976), over the one level
// of the worker's slog handler, which this worker calls "root", as log4j
// names its root logger:
//
//	GET /admin/loggers              {"root":{"level":"INFO","last_modified":null}}
//	GET /admin/loggers/root         {"level":"INFO","last_modified":null}
//	PUT /admin/loggers/root         {"level":"DEBUG"}: 200 ["root"] (204 with ?scope=cluster)
//
// Kafka's levels map onto slog's: TRACE below DEBUG, FATAL above ERROR, OFF
// above all. last_modified is the time of the last change, in
// milliseconds since 1970, or null. Other logger names answer 404: slog has
// no per-namespace levels here. Without WithLogLevel, GET answers and PUT
// answers 405, as the level is fixed.

// WithLogLevel lets the REST API read and change the level of the handler
// the worker's logger uses; nil leaves it fixed.
func WithLogLevel(v *slog.LevelVar) Option {
	return func(w *Worker) {
		if v != nil {
			w.logLevel = &loggerLevel{v: v}
		}
	}
}

// loggerLevel is the worker's one logger level; mu guards modified.
type loggerLevel struct {
	v        *slog.LevelVar
	mu       sync.Mutex
	modified time.Time
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
	writeJSON(rw, http.StatusOK, map[string]loggerLevelInfo{rootLogger: w.rootLevel()})
}

func (w *Worker) getLogger(rw http.ResponseWriter, r *http.Request) {
	name := r.PathValue("logger")
	if !strings.EqualFold(name, rootLogger) {
		writeError(rw, http.StatusNotFound, "Logger "+name+" not found.")
		return
	}
	writeJSON(rw, http.StatusOK, w.rootLevel())
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
	if !strings.EqualFold(name, rootLogger) {
		writeError(rw, http.StatusNotFound, "Logger "+name+" not found: this worker has one logger, root")
		return
	}
	if w.logLevel == nil {
		writeError(rw, http.StatusMethodNotAllowed, "this worker's log level is fixed")
		return
	}
	w.logLevel.mu.Lock()
	w.logLevel.v.Set(kafkaLevels[i].level)
	w.logLevel.modified = time.Now()
	w.logLevel.mu.Unlock()
	w.log.Info("log level changed over REST", "level", kafkaLevels[i].name)
	if strings.EqualFold(r.URL.Query().Get("scope"), "cluster") {
		rw.WriteHeader(http.StatusNoContent) // standalone: this worker is the cluster
		return
	}
	writeJSON(rw, http.StatusOK, []string{rootLogger})
}
