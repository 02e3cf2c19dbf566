package connect

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRESTLoggers: /admin/loggers shows and changes the worker's slog
// level with Kafka's shapes and messages.
func TestRESTLoggers(t *testing.T) {
	var logs bytes.Buffer
	level := new(slog.LevelVar)
	w := &Worker{log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))}
	WithLogLevel(level)(w)
	h := w.restHandler()
	do := func(method, path, body string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec.Code, strings.TrimSpace(rec.Body.String())
	}
	for _, c := range []struct {
		method, path, body string
		code               int
		want               string // the body, or a part of it
	}{
		{"GET", "/admin/loggers", "", 200, `{"root":{"level":"INFO","last_modified":null}}`},
		{"GET", "/admin/loggers/root", "", 200, `{"level":"INFO","last_modified":null}`},
		{"GET", "/admin/loggers/org.apache.kafka", "", 404, `"Logger org.apache.kafka not found."`},
		{"PUT", "/admin/loggers/root", `{}`, 400, `"Desired 'level' parameter was not specified in request."`},
		{"PUT", "/admin/loggers/root", `{"level":"LOUD"}`, 404, `"invalid log level 'LOUD'."`},
		{"PUT", "/admin/loggers/root", `{"level":"DEBUG"}`, 200, `["root"]`},
		{"GET", "/admin/loggers/root", "", 200, `{"level":"DEBUG","last_modified":`},
		{"PUT", "/admin/loggers/ROOT?scope=cluster", `{"level":"trace"}`, 204, ``},
		{"GET", "/admin/loggers", "", 200, `{"root":{"level":"TRACE","last_modified":`},
		{"PUT", "/admin/loggers/root", `{"level":"OFF"}`, 200, `["root"]`},
		{"GET", "/admin/loggers/root", "", 200, `{"level":"OFF","last_modified":`},
	} {
		code, body := do(c.method, c.path, c.body)
		if code != c.code || !strings.Contains(body, c.want) || c.want == "" && body != "" {
			t.Errorf("%s %s %s: %d %s, want %d %s", c.method, c.path, c.body, code, body, c.code, c.want)
		}
	}
	if level.Level() <= slog.LevelError {
		t.Errorf("OFF: slog level %v", level.Level())
	}
	level.Set(slog.LevelDebug)
	w.log.Debug("seen")
	if !strings.Contains(logs.String(), "log level changed over REST") || !strings.Contains(logs.String(), "seen") {
		t.Errorf("log:\n%s", logs.String())
	}

	// Named loggers: a namespace sets every logger under it, and the
	// loggers created under it later; the others keep following root.
	logs.Reset()
	level.Set(slog.LevelInfo)
	base := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
	worker := w.namedLogger(base, workerLoggerName)
	task := w.namedLogger(base.With("connector", "c"), "org.apache.kafka.connect.file.FileStreamSourceTask")
	for _, c := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", "/admin/loggers/" + workerLoggerName, "", 200, `{"level":"INFO","last_modified":null}`},
		{"GET", "/admin/loggers/org.apache.kafka.connect.file", "", 404, `not found`},
		{"PUT", "/admin/loggers/org.apache.kafka.connect.file", `{"level":"DEBUG"}`, 200,
			`["org.apache.kafka.connect.file","org.apache.kafka.connect.file.FileStreamSourceTask"]`},
		{"GET", "/admin/loggers/org.apache.kafka.connect.file.FileStreamSourceTask", "", 200, `{"level":"DEBUG","last_modified":`},
		{"GET", "/admin/loggers/" + workerLoggerName, "", 200, `{"level":"INFO","last_modified":null}`},
		{"GET", "/admin/loggers", "", 200, `"org.apache.kafka.connect.file":{"level":"DEBUG"`},
	} {
		code, body := do(c.method, c.path, c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s %s %s: %d %s, want %d %s", c.method, c.path, c.body, code, body, c.code, c.want)
		}
	}
	task.Debug("task detail")
	worker.Debug("worker detail")
	later := w.namedLogger(base, "org.apache.kafka.connect.file.FileStreamSinkTask")
	later.Debug("sink detail") // created after the PUT: inherits DEBUG
	if out := logs.String(); !strings.Contains(out, "task detail") || !strings.Contains(out, "connector=c") ||
		strings.Contains(out, "worker detail") || !strings.Contains(out, "sink detail") {
		t.Errorf("named levels:\n%s", out)
	}
	// Root sets every logger.
	if code, body := do("PUT", "/admin/loggers/root", `{"level":"WARN"}`); code != 200 || !strings.Contains(body, `"root"`) || !strings.Contains(body, workerLoggerName) {
		t.Errorf("PUT root: %d %s", code, body)
	}
	logs.Reset()
	task.Info("quiet now")
	worker.Warn("loud")
	if out := logs.String(); strings.Contains(out, "quiet now") || !strings.Contains(out, "loud") {
		t.Errorf("after root WARN:\n%s", out)
	}

	// Without WithLogLevel the level is shown and fixed.
	w = &Worker{log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	rec := httptest.NewRecorder()
	w.restHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/admin/loggers/root", nil))
	if got := strings.TrimSpace(rec.Body.String()); got != `{"level":"WARN","last_modified":null}` {
		t.Errorf("fixed level: %s", got)
	}
	rec = httptest.NewRecorder()
	w.restHandler().ServeHTTP(rec, httptest.NewRequest("PUT", "/admin/loggers/root", strings.NewReader(`{"level":"DEBUG"}`)))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("PUT on a fixed level: %d %s", rec.Code, rec.Body)
	}
}
